"""CDJ2xx, CDJ4xx and CDJ5xx judged with the project index, on small projects written to a folder."""

from __future__ import annotations

from pathlib import Path

from flake8_celery_django.api import check_source
from flake8_celery_django.settings import Settings
from tests.cases import all_codes_settings
from tests.project_files import write_project

TASKS = {
    "pyproject.toml": "",
    "shop/__init__.py": "",
    "shop/celery.py": """
        from celery import Celery

        app = Celery("shop")
        """,
    "shop/bases.py": """
        from celery import Task
        from django.db import transaction


        class TransactionAware(Task):
            def apply_async(self, *args, **kwargs):
                transaction.on_commit(lambda: super(TransactionAware, self).apply_async(*args, **kwargs))
        """,
    "shop/tasks.py": """
        from shop.bases import TransactionAware
        from shop.celery import app


        @app.task(base=TransactionAware)
        def notify(order_id):
            pass


        @app.task
        def ship(order_id):
            pass
        """,
    "shop/models.py": """
        from django.db import models


        class Order(models.Model):
            total = models.IntegerField(default=0)
        """,
}
SENDER = """\
from django.db import transaction

from shop.models import Order
from shop.tasks import notify, ship


def place(order):
    with transaction.atomic():
        order.save()
        notify.delay(order.pk)
        ship.delay(order.pk)
"""


def findings(root: Path, relative: str, source: str, settings: Settings | None = None) -> list[tuple[int, int, str]]:
    path = root / relative
    path.write_text(source)
    return [(f.line, f.col, f.message) for f in check_source(source, str(path), settings or all_codes_settings())]


def test_a_task_whose_project_base_defers_to_on_commit_is_not_reported(tmp_path: Path) -> None:
    root = write_project(tmp_path, TASKS)
    assert findings(root, "shop/orders.py", SENDER) == [
        (11, 8, "CDJ501 ship.delay() inside an atomic block; defer it with on_commit()"),
    ]


def test_without_the_index_both_sends_are_reported(tmp_path: Path) -> None:
    root = write_project(tmp_path, TASKS)
    settings = Settings(enabled=all_codes_settings().enabled, project_index=False)
    assert [line for line, _, _ in findings(root, "shop/orders.py", SENDER, settings)] == [10, 11]


def test_every_task_defers_when_the_app_task_cls_does(tmp_path: Path) -> None:
    files = dict(TASKS)
    files["shop/celery.py"] = """
        from celery import Celery

        app = Celery("shop", task_cls="shop.bases:TransactionAware")
        """
    root = write_project(tmp_path, files)
    assert findings(root, "shop/orders.py", SENDER) == []


VIEW = """\
from shop.tasks import ship


def checkout(request):
    ship.delay(request.POST["order"])
"""


def test_views_run_inside_a_transaction_when_the_settings_say_so(tmp_path: Path) -> None:
    files = dict(TASKS)
    files["shop/settings.py"] = """
        DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "ATOMIC_REQUESTS": True}}
        """
    root = write_project(tmp_path, files)
    assert findings(root, "shop/views.py", VIEW) == [
        (5, 4, "CDJ501 ship.delay() inside a view function under ATOMIC_REQUESTS; defer it with on_commit()"),
    ]
    # The option, given, wins over the settings module.
    off = Settings(enabled=all_codes_settings().enabled, atomic_requests=False)
    assert findings(root, "shop/views.py", VIEW, off) == []


def test_views_are_left_alone_when_no_settings_module_says(tmp_path: Path) -> None:
    root = write_project(tmp_path, TASKS)
    assert findings(root, "shop/views.py", VIEW) == []


SESSIONS = {
    "pyproject.toml": "",
    "shop/__init__.py": "",
    "shop/http.py": """
        import requests


        class TimeoutSession(requests.Session):
            def request(self, method, url, **kwargs):
                kwargs.setdefault("timeout", 10)
                return super().request(method, url, **kwargs)


        def plain_session():
            session = requests.Session()
            session.headers["User-Agent"] = "shop"
            return session


        def safe_session():
            return TimeoutSession()
        """,
}
CLIENT = """\
from shop.http import plain_session, safe_session


class Client:
    def __init__(self):
        self.session = plain_session()

    def fetch(self, url):
        return self.session.get(url)


def fetch_safely(url):
    with safe_session() as session:
        return session.get(url)
"""


def test_sessions_from_project_factories(tmp_path: Path) -> None:
    root = write_project(tmp_path, SESSIONS)
    assert findings(root, "shop/client.py", CLIENT) == [
        (9, 15, "CDJ201 self.session.get() has no timeout and can hang forever; pass timeout=<seconds>"),
    ]


SEND_SESSIONS = {
    "pyproject.toml": "",
    "shop/__init__.py": "",
    "shop/http.py": """
        from requests import Session


        class TimeoutSession(Session):
            def __init__(self, default_timeout=None):
                super().__init__()
                self.timeout = default_timeout

            def send(self, request, *, timeout=..., **kwargs):
                if not timeout and self.timeout:
                    timeout = self.timeout
                return super().send(request, timeout=timeout, **kwargs)


        class DebugSession(TimeoutSession):
            def send(self, request, *args, **kwargs):
                return super().send(request, *args, **kwargs)


        class LoggingSession(Session):
            def send(self, request, **kwargs):
                print(request.url)
                return super().send(request, **kwargs)


        def get_http_session() -> Session:
            session = TimeoutSession()
            if DEBUG:
                session = DebugSession()
            session.timeout = 30
            return session


        def logging_session():
            return LoggingSession()
        """,
}
SEND_CLIENT = """\
from shop.http import get_http_session, logging_session


def check(url):
    get_http_session().get(url)
    logging_session().get(url)
"""


def test_a_session_whose_send_fills_in_a_timeout(tmp_path: Path) -> None:
    """``Session.request()`` hands ``send()`` the timeout it was given (requests/sessions.py), so a
    ``send()`` override that fills one in bounds every request, also through a subclass."""
    root = write_project(tmp_path, SEND_SESSIONS)
    assert findings(root, "shop/client.py", SEND_CLIENT) == [
        (6, 4, "CDJ201 logging_session().get() has no timeout and can hang forever; pass timeout=<seconds>"),
    ]


MODELS = {
    "pyproject.toml": "",
    "shop/__init__.py": "",
    "shop/models.py": """
        from django.db import models


        class Order(models.Model):
            total = models.IntegerField(default=0)
            objects = models.Manager()
            all_objects = models.Manager()

            def summary(self):
                return "order"
        """,
}
LOOP = """\
from shop import models


def totals(ids):
    for pk in ids:
        models.Order.all_objects.get(pk=pk)
        models.Order.summary(pk)
"""


def test_custom_managers_of_project_models(tmp_path: Path) -> None:
    root = write_project(tmp_path, MODELS)
    found = [(line, col, message[:6]) for line, col, message in findings(root, "shop/reports.py", LOOP)]
    assert found == [(6, 8, "CDJ404")]


LATER = """\
from django.db import models


def count(names):
    for name in names:
        Tag.objects.filter(name=name).exists()


class Tag(models.Model):
    name = models.CharField(max_length=10)
"""


def test_a_model_defined_later_in_the_same_file(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"pyproject.toml": "", "shop/__init__.py": ""})
    found = [(line, col, message[:6]) for line, col, message in findings(root, "shop/models.py", LATER)]
    assert found == [(6, 8, "CDJ404")]


RECEIVERS = {
    "pyproject.toml": "",
    "shop/__init__.py": "",
    "shop/tasks.py": TASKS["shop/tasks.py"],
    "shop/bases.py": TASKS["shop/bases.py"],
    "shop/celery.py": TASKS["shop/celery.py"],
    "shop/apps.py": """
        from django.apps import AppConfig
        from django.db.models.signals import post_save


        class ShopConfig(AppConfig):
            name = "shop"

            def ready(self):
                from shop import handlers

                post_save.connect(handlers.order_saved, sender="shop.Order")
        """,
}
HANDLERS = """\
from shop.tasks import ship


def order_saved(sender, instance, created, **kwargs):
    ship.delay(instance.pk)
"""


def test_a_receiver_connected_in_another_module(tmp_path: Path) -> None:
    root = write_project(tmp_path, RECEIVERS)
    assert findings(root, "shop/handlers.py", HANDLERS) == [
        (5, 4, "CDJ506 ship.delay() inside a post_save receiver; defer it with on_commit()"),
    ]


def test_a_deferring_base_built_on_the_apps_task_class_in_another_module(tmp_path: Path) -> None:
    files = dict(TASKS)
    files["shop/bases.py"] = """
        from django.db import transaction

        from shop.celery import app


        class Profiled(app.Task):
            pass


        class TransactionAware(Profiled):
            def apply_async(self, *args, **kwargs):
                transaction.on_commit(lambda: super(TransactionAware, self).apply_async(*args, **kwargs))
        """
    root = write_project(tmp_path, files)
    assert [line for line, _, _ in findings(root, "shop/orders.py", SENDER)] == [11]
