from __future__ import annotations

import pytest

from flake8_celery_django.api import check_source
from tests.cases import Case, all_codes_settings, assert_case, invalid, valid

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
