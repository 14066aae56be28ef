from __future__ import annotations

from pathlib import Path

import pytest

from flake8_celery_django.api import check_source
from flake8_celery_django.project.facts import ModuleFacts, SettingsFact, TaskBaseFact
from flake8_celery_django.project.knowledge import NO_PROJECT, ProjectKnowledge
from tests.cases import Case, all_codes_settings, assert_case, invalid, valid
from tests.in_project import check_in_project
from tests.project_files import write_project

CASES: list[Case] = [
    # -- CDJ601: autoretry_for without retry_backoff ---------------------------------------------
    invalid(
        "CDJ601",
        """
        import requests
        from celery import Celery, Task, shared_task
        app = Celery("shop")
        @shared_task(autoretry_for=(requests.RequestException,), max_retries=5)
        def sync_stock():
            pass
        @app.task(bind=True, default_retry_delay=30, autoretry_for=(IOError,))
        def push(self):
            pass
        @app.task(base=Task, autoretry_for=(IOError,))
        def pull():
            pass
        """,
        (5, 13), (8, 45), (11, 21),
    ),
    invalid(
        "CDJ601",
        """
        from celery import Task, shared_task
        from myproject.celery import app
        class Fetch(Task):
            autoretry_for = (IOError,)
            max_retries = 3
            def run(self, url):
                pass
        class Base(app.Task):
            max_retries = 3
        class Child(Base):
            autoretry_for: tuple = (IOError,)
            async def run(self):
                pass
        @shared_task(base=Base, autoretry_for=(IOError,))
        def pull():
            pass
        class RetryingBase(Task):
            autoretry_for = (IOError,)
        @shared_task(bind=True, base=RetryingBase)
        def push(self):
            pass
        """,
        (5, 4), (12, 4), (15, 24), (20, 24),
    ),
    valid(
        "CDJ601",
        """
        from celery import Task, shared_task
        from shop.celery import app
        from shop.base import RetryingTask
        @shared_task(autoretry_for=(IOError,), retry_backoff=True)
        def a():
            pass
        @shared_task(autoretry_for=(IOError,), retry_backoff=5, retry_backoff_max=600)
        def b():
            pass
        @shared_task(autoretry_for=(IOError,), **RETRY_OPTIONS)
        def c():
            pass
        @shared_task(base=RetryingTask, autoretry_for=(IOError,))
        def d():
            pass
        @shared_task(bind=True, max_retries=3)
        def e(self):
            pass
        @other.decorator(autoretry_for=(IOError,))
        def f():
            pass
        @shared_task(autoretry_for=())
        def g():
            pass
        class NoRetry(Task):
            autoretry_for = None
            def run(self):
                pass
        """,
    ),
    valid(
        "CDJ601",
        """
        from celery import Task, shared_task
        from shop.base import OpenwispTask
        class Backoff(Task):
            retry_backoff = True
        class Fetch(Backoff):
            autoretry_for = (IOError,)
            def run(self):
                pass
        class Remote(OpenwispTask):
            autoretry_for = (IOError,)
            def run(self):
                pass
        class NotATask:
            autoretry_for = (IOError,)
            def run(self):
                pass
        @shared_task(base=Backoff, autoretry_for=(IOError,))
        def pull():
            pass
        class WhoisRetryTask(Task):
            autoretry_for = (IOError,)
            def on_failure(self, exc, task_id, args, kwargs, einfo):
                pass
        @shared_task(bind=True, base=WhoisRetryTask, **API_TASK_RETRY_OPTIONS)
        def fetch_whois(self, device_pk):
            pass
        @shared_task(base=WhoisRetryTask, retry_backoff=True)
        def fetch_more(device_pk):
            pass
        """,
    ),
    # -- CDJ602: a task waiting on another task's result -----------------------------------------
    invalid(
        "CDJ602",
        """
        from celery import group, shared_task
        from celery.result import AsyncResult
        from shop.tasks import charge, notify
        @shared_task
        def checkout(order_id):
            result = charge.delay(order_id)
            result.get(timeout=10)
            notify.apply_async((order_id,)).get()
            job = group(notify.s(i) for i in range(3)).apply_async()
            job.join()
            job.get()
            AsyncResult("abc").wait()
            results = group(notify.s(1))()
            return results.join_native()
        """,
        (8, 4), (9, 4), (11, 4), (12, 4), (13, 4), (15, 11),
    ),
    invalid(
        "CDJ602",
        """
        from celery import Task
        from myproject.celery import app
        class Report(Task):
            def run(self, pk):
                res = app.send_task("shop.tasks.total", args=[pk])
                return res.get()
        @app.task(bind=True)
        async def summary(self, pk):
            res = self.AsyncResult(pk)
            return res.get(disable_sync_subtasks=True)
        """,
        (7, 15), (11, 11),
    ),
    valid(
        "CDJ602",
        """
        from celery import shared_task
        from celery.result import allow_join_result
        from shop.tasks import charge
        @shared_task
        def checkout(order_id, options):
            result = charge.delay(order_id)
            result.get(disable_sync_subtasks=False)
            with allow_join_result():
                result.get()
            result.get(**options)
            options.get("key")
            ",".join(["a", "b"])
            result.join()
            result = {"a": 1}
            result.get("a")
        def view(order_id):
            charge.delay(order_id).get()
        """,
    ),
    valid(
        "CDJ602",
        """
        import multiprocessing
        from celery import shared_task
        def work(x):
            return x
        @shared_task
        def fan_out(items, pool):
            res = pool.apply_async(work, (1,))
            res.get()
            with multiprocessing.Pool() as workers:
                workers.apply_async(work, (2,)).get()
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_task_configuration_cases(case: Case) -> None:
    assert_case(case)


def test_messages_name_the_task_and_the_remedy() -> None:
    source = (
        "from celery import shared_task\n"
        "@shared_task(autoretry_for=(IOError,))\n"
        "def pull():\n"
        "    r = pull.delay()\n"
        "    return r.get()\n"
    )
    findings = check_source(source, "example.py", all_codes_settings(), strict=True)
    assert [(f.code, f.line) for f in findings] == [("CDJ601", 2), ("CDJ602", 5)]
    assert [f.message for f in findings] == [
        "CDJ601 task pull() sets autoretry_for without retry_backoff; add retry_backoff=True",
        "CDJ602 task pull() waits on r.get(), which can deadlock; chain the follow-up work",
    ]


# -- task bases and the app's task class from other modules (the project index) --------------------
BASES = ModuleFacts(
    "core.bases",
    task_bases=(
        TaskBaseFact("core.bases.ProfiledTask"),
        TaskBaseFact("core.bases.BackoffTask", retry_backoff=True),
        TaskBaseFact("core.bases.PoliteTask", bases=("core.bases.BackoffTask",)),
        TaskBaseFact("core.bases.RetryingTask", autoretry_for=True),
    ),
)

FROM_OTHER_MODULES = """
from celery import shared_task
from core.bases import ProfiledTask, PoliteTask, RetryingTask, Unknown
from core.tasks import project_task

@shared_task(base=ProfiledTask, bind=True, max_retries=5, autoretry_for=(IOError,))
def send_webhook(self, pk):
    pass

@shared_task(base=PoliteTask, autoretry_for=(IOError,))
def polite(pk):
    pass

@shared_task(base=RetryingTask)
def inherited(pk):
    pass

@shared_task(base=Unknown, autoretry_for=(IOError,))
def unknown(pk):
    pass

@project_task(autoretry_for=(IOError,))
def through_project_decorator(pk):
    pass

class Fetch(ProfiledTask):
    autoretry_for = (IOError,)
    def run(self, url):
        pass

class Gentle(PoliteTask):
    autoretry_for = (IOError,)
    def run(self, url):
        pass
"""


def _cdj601(source: str, project: ProjectKnowledge) -> list[tuple[int, int, str]]:
    return [(line, col, message) for line, col, _, message in check_in_project(source, project, "shop.tasks", "CDJ601")]


def test_task_bases_from_other_modules() -> None:
    index = ProjectKnowledge([BASES, ModuleFacts("core.tasks", task_decorators=("core.tasks.project_task",))])
    assert _cdj601(FROM_OTHER_MODULES, index) == [
        (6, 58, "CDJ601 task send_webhook() sets autoretry_for without retry_backoff; add retry_backoff=True"),
        (14, 13, "CDJ601 task inherited() sets autoretry_for without retry_backoff; add retry_backoff=True"),
        (27, 4, "CDJ601 task class Fetch sets autoretry_for without retry_backoff; add retry_backoff=True"),
    ]
    # Without the index the bases are unknown and may set retry_backoff: silent.
    assert _cdj601(FROM_OTHER_MODULES, NO_PROJECT) == []


APP_TASK_CLASS = """
from celery import shared_task

@shared_task(autoretry_for=(IOError,))
def fetch(url):
    pass
"""


@pytest.mark.parametrize(
    ("task_cls", "expected"),
    [
        (None, [(4, 13)]),
        ("core.bases.ProfiledTask", [(4, 13)]),
        ("core.bases:PoliteTask", []),
        ("elsewhere.Unknown", []),
    ],
)
def test_the_app_task_class_counts_for_decorated_tasks(task_cls: str | None, expected: list[tuple[int, int]]) -> None:
    index = ProjectKnowledge([BASES, ModuleFacts("core.celery", settings=SettingsFact(task_cls=task_cls))])
    assert [(line, col) for line, col, _ in _cdj601(APP_TASK_CLASS, index)] == expected


# -- a small project on disk, read by the project index ----------------------------------------------
PROJECT_FILES = {
    "pyproject.toml": "",
    "shop/__init__.py": "",
    "shop/celery.py": """
        from celery import Celery

        app = Celery("shop")
        """,
    "shop/bases.py": """
        from celery import Task


        class ProfiledTask(Task):
            def __call__(self, *args, **kwargs):
                return super().__call__(*args, **kwargs)


        class PoliteTask(Task):
            retry_backoff = True


        class RetryingTask(Task):
            autoretry_for = (IOError,)
        """,
    "shop/webhooks.py": """
        from shop.bases import PoliteTask, ProfiledTask, RetryingTask
        from shop.celery import app


        @app.task(base=ProfiledTask, bind=True, max_retries=5, autoretry_for=(IOError,))
        def send_webhook(self, pk):
            pass


        @app.task(base=PoliteTask, autoretry_for=(IOError,))
        def polite(pk):
            pass


        @app.task(base=RetryingTask)
        def inherited(pk):
            pass


        class Fetch(ProfiledTask):
            autoretry_for = (IOError,)

            def run(self, url):
                pass
        """,
}


def test_task_bases_of_a_project_on_disk(tmp_path: Path) -> None:
    root = write_project(tmp_path, PROJECT_FILES)
    path = root / "shop" / "webhooks.py"
    found = check_source(path.read_text(), str(path), all_codes_settings(), strict=True)
    remedy = " sets autoretry_for without retry_backoff; add retry_backoff=True"
    assert [(f.line, f.col, f.code, f.message) for f in found] == [
        (5, 55, "CDJ601", "CDJ601 task send_webhook()" + remedy),
        (15, 10, "CDJ601", "CDJ601 task inherited()" + remedy),
        (21, 4, "CDJ601", "CDJ601 task class Fetch" + remedy),
    ]
    alone = all_codes_settings(project_index=False)
    assert check_source(path.read_text(), str(path), alone, strict=True) == []


# pretix's shape: task bases derive from ``app.Task`` of the Celery app of another module, and one of
# them fetches the event from its key with a queryset chain (``Event.objects.select_related(...).get``).
APP_TASK_BASES = {
    "pyproject.toml": "",
    "tix/__init__.py": "",
    "tix/celery_app.py": """
        from celery import Celery

        app = Celery("tix")
        """,
    "tix/models.py": """
        from django.db import models


        class Event(models.Model):
            slug = models.SlugField()
        """,
    "tix/tasks.py": """
        from tix.celery_app import app
        from tix.models import Event


        class ProfiledTask(app.Task):
            def __call__(self, *args, **kwargs):
                return super().__call__(*args, **kwargs)


        class EventTask(app.Task):
            def __call__(self, *args, **kwargs):
                event = Event.objects.select_related("organizer").get(pk=kwargs.pop("event"))
                return super().__call__(*args, event=event, **kwargs)


        class ProfiledEventTask(ProfiledTask, EventTask):
            pass
        """,
    "tix/services.py": """
        from django.db import DatabaseError

        from tix.celery_app import app
        from tix.models import Event
        from tix.tasks import ProfiledEventTask, ProfiledTask


        @app.task(base=ProfiledEventTask, bind=True)
        def export(self, event: Event, fileid: str):
            pass


        @app.task(base=ProfiledTask, bind=True)
        def profiled(self, event: Event):
            pass


        @app.task(base=ProfiledTask, bind=True, max_retries=5, autoretry_for=(DatabaseError,))
        def send_webhook(self, logentry_id: int):
            pass
        """,
}


def test_task_bases_built_on_the_task_class_of_a_celery_app(tmp_path: Path) -> None:
    root = write_project(tmp_path, APP_TASK_BASES)
    path = root / "tix" / "services.py"
    found = check_source(path.read_text(), str(path), all_codes_settings(), strict=True)
    # export()'s base resolves the key: silent; profiled()'s base does not.
    assert [(f.line, f.col, f.code, f.message) for f in found] == [
        (14, 19, "CDJ102", "CDJ102 task profiled() takes model Event as event; take event_id"),
        (18, 55, "CDJ601", "CDJ601 task send_webhook() sets autoretry_for without retry_backoff; "
         "add retry_backoff=True"),
    ]
