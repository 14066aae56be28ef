"""CDJ603: a send option given to ``delay()``/``s()``/``si()`` reaches the task as an argument."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from celery import Celery
from celery.app.task import Task

from flake8_celery_django.rules.send_options import SEND_OPTIONS
from tests.cases import Case, assert_case, invalid, valid
from tests.project_files import findings_in, write_project

CASES: list[Case] = [
    invalid(
        "CDJ603",
        """
from celery import shared_task

@shared_task
def send_group_email(announcement_id):
    pass

def announce(announcement):
    send_group_email.delay(announcement.pk, eta=announcement.show_after)
    send_group_email.si(announcement.pk, queue="mail")
""",
        (9, 44), (10, 41),
    ),
    valid(
        "CDJ603",
        """
from celery import shared_task

@shared_task
def send_group_email(announcement_id):
    pass

@shared_task
def rebuild(order_id, countdown=300):
    pass

@shared_task
def notify(order_id, **options):
    pass

@shared_task(bind=True)
def bound(self, countdown):
    pass

def announce(announcement, unknown_task, send_group_email):
    bound.delay(countdown=60)
    send_group_email.delay(announcement.pk, eta=announcement.show_after)
    rebuild.delay(announcement.pk, countdown=60)
    notify.delay(announcement.pk, eta=announcement.show_after)
    rebuild.apply_async((announcement.pk,), eta=announcement.show_after)
    rebuild.s(announcement.pk).set(queue="mail")
    unknown_task.delay(announcement.pk, countdown=5)
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_case(case: Case) -> None:
    assert_case(case)


PROJECT = {
    "setup.cfg": "[metadata]\nname = shop\n",
    "shop/__init__.py": "",
    "shop/celery.py": """
        from celery import Celery

        app = Celery("shop")


        def queued(func):
            return app.task(func)
        """,
    "shop/tasks.py": """
        from celery import shared_task

        from shop.celery import app, queued


        @shared_task
        def send_group_email(announcement_id):
            pass


        @app.task(bind=True)
        def rebuild(self, order_id, countdown=300):
            pass


        @shared_task
        def notify(order_id, **options):
            pass


        @queued
        def wrapped(order_id):
            pass
        """,
    "shop/models.py": """
        from celery import shared_task

        from shop import tasks
        from shop.tasks import notify, rebuild, send_group_email, wrapped


        def announce(instance):
            send_group_email.delay(instance.pk, eta=instance.show_after)
            tasks.send_group_email.s(instance.pk, queue="mail", countdown=5)
            send_group_email.si(instance.pk, expires=60)
            send_group_email.apply_async((instance.pk,), eta=instance.show_after)
            send_group_email.delay(announcement_id=instance.pk)
            rebuild.delay(instance.pk, countdown=60)
            notify.delay(instance.pk, countdown=60)
            wrapped.delay(instance.pk, countdown=60)
            send_group_email.s(instance.pk).set(countdown=5)


        @shared_task
        def local(order_id):
            pass


        def later(order_id):
            local.delay(order_id, priority=9)
        """,
}


def test_send_options_given_to_the_task(tmp_path: Path) -> None:
    root = write_project(tmp_path, PROJECT)
    assert findings_in(root, "shop/models.py", frozenset({"CDJ603"})) == [
        (8, 40, "CDJ603 eta= goes to send_group_email() as a task argument; pass it to apply_async()"),
        (9, 42, "CDJ603 queue= goes to send_group_email() as a task argument; pass it to .set()"),
        (9, 56, "CDJ603 countdown= goes to send_group_email() as a task argument; pass it to .set()"),
        (10, 37, "CDJ603 expires= goes to send_group_email() as a task argument; pass it to .set()"),
        (25, 26, "CDJ603 priority= goes to local() as a task argument; pass it to apply_async()"),
    ]


def test_without_the_project_index_only_tasks_of_the_same_module_are_judged(tmp_path: Path) -> None:
    root = write_project(tmp_path, PROJECT)
    findings = findings_in(root, "shop/models.py", frozenset({"CDJ603"}), project_index=False)
    assert [(line, column) for line, column, _ in findings] == [(25, 26)]


def test_celery_sends_every_keyword_of_delay_to_the_task() -> None:
    """What the rule stands on, in Celery itself: the keyword reaches the task's signature check."""
    app = Celery("shop", set_as_current=False)

    @app.task
    def send_group_email(announcement_id: int) -> None:
        pass

    with pytest.raises(TypeError, match="unexpected keyword argument 'eta'"):
        send_group_email.delay(1, eta=None)
    assert send_group_email.s(1, countdown=5).kwargs == {"countdown": 5}


def test_the_options_are_those_apply_async_documents() -> None:
    documented = inspect.getdoc(Task.apply_async) or ""
    arguments = documented.partition("Arguments:")[2].partition("Returns:")[0]
    named = set(re.findall(r"^    (\w+) \(", arguments, re.MULTILINE))
    assert named - {"args", "kwargs"} == SEND_OPTIONS
