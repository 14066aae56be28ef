"""Transactions as the project defines them: wrappers around ``atomic`` and callers, read from the index."""

from __future__ import annotations

from pathlib import Path

from flake8_celery_django.api import check_source
from flake8_celery_django.fixes import fix_source
from flake8_celery_django.project.facts import CallSiteFact
from flake8_celery_django.project.index import build_index
from tests.cases import all_codes_settings
from tests.project_files import write_project

SHOP = {
    "pyproject.toml": "",
    "shop/__init__.py": "",
    "shop/celery.py": """
        from celery import Celery

        app = Celery("shop")
        """,
    "shop/models.py": """
        from django.db import models


        class Order(models.Model):
            total = models.IntegerField(default=0)
            paid = models.IntegerField(default=0)
        """,
    "shop/tasks.py": """
        from shop.celery import app


        @app.task
        def ship(order_id):
            pass
        """,
    "shop/tracing.py": """
        from contextlib import contextmanager

        from django.db import transaction


        @contextmanager
        def traced_atomic():
            with transaction.atomic():
                with open("/dev/null") as span:
                    yield


        @contextmanager
        def commit_on_errors():
            error = None
            with traced_atomic():
                try:
                    yield
                except Exception as e:
                    error = e
            if error:
                raise error


        def atomic_for(alias):
            return transaction.atomic(using=alias)


        @contextmanager
        def maybe_atomic(use):
            if use:
                with transaction.atomic():
                    yield
            else:
                yield


        @contextmanager
        def traced():
            with open("/dev/null"):
                yield
        """,
}


def project(tmp_path: Path, **modules: str) -> Path:
    """SHOP and ``modules`` (``shop__jobs`` is ``shop/jobs.py``; ``shop__management`` a package)."""
    files = dict(SHOP)
    for name, text in modules.items():
        path = name.replace("__", "/")
        if text == "package":
            files[f"{path}/__init__.py"] = ""
        else:
            files[f"{path}.py"] = text
    return write_project(tmp_path, files)


def findings(root: Path, module: str, prefix: str = "CDJ") -> list[tuple[int, int, str]]:
    path = root / (module.replace(".", "/") + ".py")
    source = path.read_text()
    settings = all_codes_settings()
    found = check_source(source, str(path), settings)
    return [(f.line, f.col, f.message) for f in found if f.code.startswith(prefix)]


# -- the index ------------------------------------------------------------------------------------
def test_the_index_learns_wrappers_around_atomic(tmp_path: Path) -> None:
    knowledge = build_index(str(project(tmp_path)), None).knowledge
    assert [
        name
        for name in ("traced_atomic", "commit_on_errors", "atomic_for", "maybe_atomic", "traced")
        if knowledge.is_atomic_wrapper(f"shop.tracing.{name}")
    ] == ["traced_atomic", "commit_on_errors", "atomic_for"]


def test_call_sites_say_where_the_caller_runs(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        shop__helpers="""
            def charge(order):
                pass
            """,
        shop__views="""
            from django.db import transaction
            from django.views import View

            from shop.helpers import charge
            from shop.tracing import traced_atomic


            def pay(request):
                charge(None)


            class PayView(View):
                def post(self, request):
                    with traced_atomic():
                        charge(None)


            @transaction.atomic
            def settle():
                charge(None)
            """,
    )
    knowledge = build_index(str(root), None).knowledge
    assert knowledge.call_sites("shop.helpers.charge") == (
        CallSiteFact("shop.views.pay", view=True),
        CallSiteFact("shop.views.PayView.post", view=True, guards=frozenset({"shop.tracing.traced_atomic"})),
        CallSiteFact("shop.views.settle", atomic=True),
    )
    assert [knowledge.in_atomic_at(site) for site in knowledge.call_sites("shop.helpers.charge")] == [
        False, True, True
    ]


# -- CDJ501/CDJ503 in project wrappers ----------------------------------------------------------------
SENDS = """
from shop.models import Order
from shop.tasks import ship
from shop.tracing import commit_on_errors, traced, traced_atomic


def place(order_id):
    with traced_atomic():
        ship.delay(order_id)


@commit_on_errors()
def confirm(order_id):
    Order.objects.filter(pk=order_id).update(total=1)
    ship.delay(order_id)


def trace(order_id):
    Order.objects.filter(pk=order_id).update(total=1)
    with traced():
        ship.delay(order_id)
"""


def test_sends_inside_project_wrappers_are_sends_inside_atomic(tmp_path: Path) -> None:
    root = project(tmp_path, shop__services=SENDS)
    assert findings(root, "shop.services", "CDJ50") == [
        (8, 8, "CDJ501 ship.delay() inside an atomic block; defer it with on_commit()"),
        (14, 4, "CDJ501 ship.delay() inside an @atomic function; defer it with on_commit()"),
        # ``traced()`` opens no transaction: the update has committed, nothing is atomic, but it
        # is a plain function whose callers are unknown
        (20, 8, "CDJ503 ship.delay() after Order.update() on line 18; defer it with on_commit()"),
    ]


# -- CDJ302: helpers only called inside atomic --------------------------------------------------------
LOCKS = {
    "shop__locking": """
        from shop.models import Order


        def lock(order_id):
            return Order.objects.select_for_update().get(pk=order_id)


        def lock_anywhere(order_id):
            return Order.objects.select_for_update().get(pk=order_id)


        def lock_deep(order_id):
            return Order.objects.select_for_update().get(pk=order_id)


        def middle(order_id):
            return lock_deep(order_id)
        """,
    "shop__services": """
        from django.db import transaction

        from shop.locking import lock, lock_anywhere, middle
        from shop.tracing import commit_on_errors, traced_atomic


        def pay(order_id):
            with traced_atomic():
                lock(order_id)
                lock_anywhere(order_id)


        @commit_on_errors()
        def refund(order_id):
            lock(order_id)
            middle(order_id)


        def audit(order_id):
            lock_anywhere(order_id)
        """,
}


def test_a_lock_in_a_helper_every_caller_runs_inside_atomic(tmp_path: Path) -> None:
    root = project(tmp_path, **LOCKS)
    assert findings(root, "shop.locking", "CDJ302") == [
        (9, 11, "CDJ302 select_for_update() is evaluated outside transaction.atomic; wrap it in an atomic block"),
    ]
    assert findings(root, "shop.services", "CDJ302") == []


# -- CDJ503: helpers that run in autocommit ----------------------------------------------------------
HELPERS = {
    "shop__jobs": """
        from shop.models import Order
        from shop.tasks import ship


        def close_old():
            Order.objects.filter(total=0).update(paid=0)
            ship.delay(0)


        def close_new():
            Order.objects.filter(total=1).update(paid=1)
            ship.delay(1)


        def close_locked():
            Order.objects.filter(total=2).update(paid=2)
            ship.delay(2)


        def close_deep():
            Order.objects.filter(total=3).update(paid=3)
            ship.delay(3)


        def deep():
            close_deep()
        """,
    "shop__periodic": """
        from django.db import transaction

        from shop.celery import app
        from shop.jobs import close_locked, close_new, close_old, deep


        @app.task
        def nightly():
            close_old()
            close_new()
            deep()
            with transaction.atomic():
                close_locked()


        def by_hand():
            close_new()
        """,
    "shop__views": """
        from rest_framework.views import APIView

        from shop.jobs import deep


        class CloseView(APIView):
            def post(self, request):
                deep()
        """,
    "shop__management": "package",
    "shop__management__commands": "package",
    "shop__management__commands__close": """
        from django.core.management.base import BaseCommand

        from shop.models import Order
        from shop.tasks import ship


        class Command(BaseCommand):
            def handle(self, *args, **options):
                Order.objects.filter(total=4).update(paid=4)
                ship.delay(4)


        class Report(BaseCommand):
            def handle(self, *args, **options):
                Order.objects.filter(total=5).update(paid=5)
                ship.delay(5)
        """,
}


def test_a_send_after_a_write_in_code_that_runs_in_autocommit(tmp_path: Path) -> None:
    root = project(tmp_path, **HELPERS)
    assert findings(root, "shop.jobs", "CDJ503") == [
        # also called by by_hand(), whose callers are unknown
        (12, 4, "CDJ503 ship.delay() after Order.update() on line 11; defer it with on_commit()"),
        # called inside the task's atomic block
        (17, 4, "CDJ503 ship.delay() after Order.update() on line 16; defer it with on_commit()"),
    ]
    assert findings(root, "shop.management.commands.close", "CDJ503") == [
        (16, 8, "CDJ503 ship.delay() after Order.update() on line 15; defer it with on_commit()"),
    ]


def test_views_called_under_atomic_requests_do_not_run_in_autocommit(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        **HELPERS,
        shop__settings='DATABASES = {"default": {"ATOMIC_REQUESTS": True}}\n',
    )
    assert [line for line, _, _ in findings(root, "shop.jobs", "CDJ503")] == [12, 17, 22]


# -- CDJ505: a loop whose every iteration commits ------------------------------------------------------
LOOPS = {
    "shop__hooks": """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import ship
        from shop.tracing import traced_atomic


        def call_hooks(ids):
            for order_id in ids:
                with transaction.atomic():
                    Order.objects.filter(pk=order_id).update(paid=1)
                    transaction.on_commit(lambda: ship.delay(order_id))


        def call_hooks_nested(ids):
            for order_id in ids:
                with transaction.atomic():
                    transaction.on_commit(lambda: ship.delay(order_id))


        @traced_atomic()
        def allocate(ids):
            for order_id in ids:
                with transaction.atomic():
                    transaction.on_commit(lambda: ship.delay(order_id))


        def batch(groups):
            for group in groups:
                with transaction.atomic():
                    for order_id in group:
                        transaction.on_commit(lambda: ship.delay(order_id))
        """,
    "shop__receivers": """
        from django.db import transaction

        from shop.celery import app
        from shop.hooks import batch, call_hooks, call_hooks_nested


        def saved(ids):
            transaction.on_commit(lambda: call_hooks(ids))


        @app.task
        def resend(groups):
            batch(groups)


        def nested(ids):
            with transaction.atomic():
                call_hooks_nested(ids)
        """,
}


def test_on_commit_in_a_loop_whose_iterations_commit(tmp_path: Path) -> None:
    root = project(tmp_path, **LOOPS)
    message = "CDJ505 the on_commit() lambda reads loop variable 'order_id' late; bind order_id=order_id"
    assert findings(root, "shop.hooks", "CDJ505") == [
        (18, 34, message),  # its only caller opens the outer transaction: the inner block is a savepoint
        (25, 34, message),  # the function is decorated with a wrapper around atomic
        (32, 38, message),  # the loop that rebinds order_id is inside the atomic block
    ]


def test_without_the_index_every_late_read_is_reported(tmp_path: Path) -> None:
    root = project(tmp_path, **LOOPS)
    path = root / "shop/hooks.py"
    settings = all_codes_settings(project_index=False)
    found = [f.line for f in check_source(path.read_text(), str(path), settings) if f.code == "CDJ505"]
    assert found == [12, 18, 25, 32]


def test_callers_in_test_code_say_nothing_about_the_application(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        **LOCKS,
        shop__tests="package",
        shop__tests__test_locking="""
            from shop.locking import lock, lock_deep


            def test_lock():
                lock(1)
                lock_deep(1)
            """,
    )
    # lock() keeps its application callers, all inside atomic; lock_deep() has none left but middle()
    assert [line for line, _, _ in findings(root, "shop.locking", "CDJ302")] == [9]


def test_a_connection_on_commit_defers_the_callable(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        shop__hooks="""
            def call_hooks(ids):
                pass
            """,
        shop__receivers="""
            from django.db import connections

            from shop.hooks import call_hooks


            def saved(ids):
                connections["orders"].on_commit(lambda: call_hooks(ids))
            """,
    )
    knowledge = build_index(str(root), None).knowledge
    assert knowledge.call_sites("shop.hooks.call_hooks") == (CallSiteFact("shop.receivers.saved", on_commit=True),)


def test_private_methods_called_through_self_or_cls(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        shop__admin="""
            from django.db import transaction

            from shop.models import Order
            from shop.tasks import ship


            class OrderAdmin:
                def delete_queryset(self, request, queryset):
                    transaction.on_commit(lambda: self._transfer(queryset))
                    transaction.on_commit(lambda: self.transfer(queryset))

                @staticmethod
                def _transfer(queryset):
                    Order.objects.filter(total=0).delete()
                    ship.delay(0)

                @staticmethod
                def transfer(queryset):
                    Order.objects.filter(total=1).delete()
                    ship.delay(1)



            class Ledger:
                @classmethod
                def settle(cls):
                    cls._post()

                @classmethod
                def _post(cls):
                    pass
            """,
    )
    knowledge = build_index(str(root), None).knowledge
    assert knowledge.call_sites("shop.admin.OrderAdmin._transfer") == (
        CallSiteFact("shop.admin.OrderAdmin.delete_queryset", on_commit=True),
    )
    assert knowledge.call_sites("shop.admin.Ledger._post") == (CallSiteFact("shop.admin.Ledger.settle"),)
    # transfer() is public: other code may call it, its calls through self say nothing of all its callers
    assert knowledge.call_sites("shop.admin.OrderAdmin.transfer") == ()
    assert findings(root, "shop.admin", "CDJ503") == [
        (20, 8, "CDJ503 ship.delay() after Order.delete() on line 19; defer it with on_commit()"),
    ]


def test_no_on_commit_fix_inside_a_project_wrapper(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        shop__services="""
            from django.db import transaction

            from shop.tasks import ship
            from shop.tracing import traced_atomic


            def pay(order_id):
                with traced_atomic():
                    ship.delay(order_id)


            @traced_atomic()
            def refund(order_id):
                ship.delay(order_id)


            def settle(order_id):
                with traced_atomic():
                    with transaction.atomic(using="orders"):
                        ship.delay(order_id)
            """,
    )
    path = root / "shop/services.py"
    source = path.read_text()
    index = build_index(str(root), None)
    result = fix_source(
        source, str(path), all_codes_settings(), unsafe=True, project=index.knowledge, module="shop.services"
    )
    reason = "the transaction is opened by traced_atomic(), whose database on_commit cannot name"
    # positions in the fixed source, two lines lower for the added ``from functools import partial``
    assert [(r.finding.code, r.finding.line, r.finding.col, r.reason) for r in result.unfixed] == [
        ("CDJ501", 11, 8, reason),
        ("CDJ501", 16, 4, reason),
    ]
    # the innermost transaction is a plain atomic(using=...): its database goes to on_commit
    assert result.source.splitlines()[-5:] == [
        '        with transaction.atomic(using="orders"):',
        "            transaction.on_commit(",
        "                partial(ship.delay, order_id),",
        '                using="orders",',
        "            )",
    ]
