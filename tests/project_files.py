"""A small multi-module Django and Celery project, written into a folder for the project index tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from flake8_celery_django.api import check_source
from flake8_celery_django.settings import Settings

SHOP = {
    "pyproject.toml": "",
    "src/shop/__init__.py": "",
    "src/shop/base.py": """
        from django.conf import settings
        from django.db import models


        class TimeStamped(models.Model):
            created = models.DateTimeField(auto_now_add=True)
            owner = models.ForeignKey(
                settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="%(class)s_owned"
            )

            class Meta:
                abstract = True
        """,
    "src/shop/models.py": """
        from django.contrib.auth.models import AbstractUser
        from django.db import models

        from shop.base import TimeStamped


        class Customer(AbstractUser):
            pass


        class OrderQuerySet(models.QuerySet):
            pass


        class Order(TimeStamped):
            number = models.CharField(max_length=20, unique=True)
            parent = models.ForeignKey("self", null=True, on_delete=models.SET_NULL, related_name="children")
            tags = models.ManyToManyField("shop.Tag")
            total = models.IntegerField(default=0)
            objects = models.Manager()
            all_objects = OrderQuerySet.as_manager()

            def save(self, *args, **kwargs):
                self.total = self.total + self.shipping
                super().save(*args, **kwargs)


        class Line(models.Model):
            order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
            sku = models.CharField(max_length=10)
            note = models.ForeignKey("Tag", null=True, on_delete=models.SET_NULL, related_name="+")

            class Meta:
                unique_together = ("order", "sku")
                constraints = [
                    models.UniqueConstraint(fields=["sku"], condition=models.Q(sku__gt=""), name="sku"),
                ]

            def delete(self, *args, **kwargs):
                super().delete(*args, **kwargs)


        class Tag(models.Model):
            slug = models.SlugField(primary_key=True)

            class Meta:
                constraints = [models.UniqueConstraint(fields=["slug"], name="slug")]


        class Profile(models.Model):
            customer = models.OneToOneField(Customer, on_delete=models.CASCADE)


        class NotAModel:
            name = models.CharField(max_length=3)
        """,
    "src/config/__init__.py": "",
    "src/config/settings.py": """
        AUTH_USER_MODEL = "shop.Customer"
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "ATOMIC_REQUESTS": True}}
        CELERY_TASK_SERIALIZER = "json"
        """,
    "src/shop/celery.py": """
        from celery import Celery

        app = Celery("shop", task_cls="shop.taskbase:OnCommitTask")
        """,
    "src/shop/taskbase.py": """
        from celery import Task
        from django.db import transaction


        class OnCommitTask(Task):
            def apply_async(self, *args, **kwargs):
                transaction.on_commit(lambda: super(OnCommitTask, self).apply_async(*args, **kwargs))


        class LookupTask(OnCommitTask):
            autoretry_for = (ConnectionError,)

            def before_start(self, task_id, args, kwargs):
                from shop.models import Order

                kwargs["order"] = Order.objects.get(pk=kwargs.pop("order_id"))


        class PlainTask(Task):
            retry_backoff = True
        """,
    "src/shop/decorators.py": """
        import functools

        from celery import shared_task


        def task(*dargs, **options):
            def decorator(func):
                @functools.wraps(func)
                def wrapper(*args, **kwargs):
                    return func(*args, **kwargs)

                return shared_task(**options)(wrapper)

            if dargs and callable(dargs[0]):
                return decorator(dargs[0])
            return decorator


        def periodic(func):
            return task(func)


        def logged(func):
            return func


        queued_task = shared_task(queue="slow")
        our_task = shared_task
        """,
    "src/shop/tasks.py": """
        from typing import Optional, Sequence

        from celery import shared_task

        from shop.celery import app
        from shop.decorators import logged, our_task, periodic, task
        from shop.models import Line, Order
        from shop.taskbase import LookupTask


        @task
        def send_receipt(order: Order, lines: list[Line], note: str = ""):
            pass


        @task(bind=True)
        def refund(self, orders: Sequence[Order], reason: Optional[Order] = None):
            pass


        @periodic
        def nightly(day: "Order | None"):
            pass


        @shared_task(base=LookupTask)
        def ship(order_id):
            pass


        @app.task
        def ping(line: Line | None):
            pass


        @logged
        def not_a_task(order: Order):
            pass


        @our_task(bind=True)
        def renamed(self, order_id):
            pass
        """,
    "src/shop/http.py": """
        import functools

        import requests
        from requests.adapters import HTTPAdapter


        class TimeoutAdapter(HTTPAdapter):
            def send(self, request, **kwargs):
                kwargs["timeout"] = kwargs.get("timeout") or 10
                return super().send(request, **kwargs)


        class TimeoutSession(requests.Session):
            def request(self, method, url, **kwargs):
                kwargs.setdefault("timeout", 10)
                return super().request(method, url, **kwargs)


        class PlainSession(requests.Session):
            pass


        def plain_session():
            return requests.Session()


        def mounted_session():
            session = requests.Session()
            session.mount("https://", TimeoutAdapter())
            return session


        def partial_session():
            session = requests.Session()
            session.request = functools.partial(session.request, timeout=5)
            return session


        def subclass_session():
            return TimeoutSession()


        class Client:
            def __init__(self):
                self.session = plain_session()
                self.safe = mounted_session()
        """,
    "src/shop/signals.py": """
        from django.db.models.signals import post_delete, post_save, pre_save
        from django.dispatch import receiver

        from shop.models import Order


        @receiver([post_save, post_delete], sender=Order)
        def order_changed(sender, instance, **kwargs):
            pass


        def line_saved(sender, instance, **kwargs):
            pass


        pre_save.connect(line_saved, sender="shop.Line")
        """,
    "src/shop/services.py": """
        from functools import partial

        from django.db import transaction

        from shop import notify
        from shop.models import Order


        def place(order_id):
            transaction.on_commit(lambda: notify.send(order_id))
            transaction.on_commit(partial(notify.send, [order_id]))
            notify.send(order_id, tags={"a"})


        def charge(order_id):
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=order_id)
                notify.send(order)
            notify.send(order)
        """,
    "src/shop/notify.py": """
        def send(*args, **kwargs):
            pass
        """,
    "node_modules/pkg/setup.py": "import os\n",
    "src/shop/static/js/build.py": "x = 1\n",
    "venv/pyvenv.cfg": "home = /usr\n",
    "venv/lib/site.py": "x = 1\n",
}


def write_project(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return folder


def findings_in(root: Path, module_path: str, codes: frozenset[str], **options: object) -> list[tuple[int, int, str]]:
    """``(line, column, message)`` of ``codes`` in one file of a project written by :func:`write_project`,
    with the project index cached under the project."""
    path = root / module_path
    settings = Settings(enabled=codes, cache_dir=str(root / ".cache"), **options)  # type: ignore[arg-type]
    return [(f.line, f.col, f.message) for f in check_source(path.read_text(), str(path), settings, strict=True)]
