"""Fixed code still works, on real Django and Celery: the code before each fix misbehaves, after it does not.

Django is configured in-process (SQLite in memory) and Celery runs tasks eagerly, recording what
the database held when each task ran.  ``captureOnCommitCallbacks`` stands in for the commit of
the request's transaction.  The rewritten source comes from the real fixers; while a rule is not
part of this build, its fixer is applied at the position the rule reports (``fix_at``).
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("django")
pytest.importorskip("celery")

import django  # noqa: E402
from django.conf import settings  # noqa: E402

if not settings.configured:
    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=["tests.real_stack"],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
    )
    django.setup()

from django.db import connection  # noqa: E402
from django.test import TestCase  # noqa: E402

from flake8_celery_django.fixes import fix_source  # noqa: E402
from flake8_celery_django.registry import RULES  # noqa: E402
from flake8_celery_django.settings import Settings  # noqa: E402
from tests.fixing import fix_at  # noqa: E402
from tests.real_stack import tasks  # noqa: E402
from tests.real_stack.models import Line, Order, Product  # noqa: E402


def fixed_source(code: str, source: str, node_type: type[ast.AST], *positions: tuple[int, int]) -> str:
    """``source`` after ``fix --unsafe-fixes`` (or, without the rule in this build, after its fixer)."""
    if code in RULES:
        result = fix_source(source, "views.py", Settings(enabled=frozenset({code})), unsafe=True).source
    else:
        result = fix_at(code, source, node_type, *positions)
    assert result != source, f"{code} fix changed nothing"
    return result


def load(source: str, name: str) -> ModuleType:
    module = ModuleType(name)
    exec(compile(source, f"{name}.py", "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module", autouse=True)
def tables() -> Iterator[None]:
    with connection.schema_editor() as editor:
        for model in (Order, Product, Line):
            editor.create_model(model)
    yield
    with connection.schema_editor() as editor:
        for model in (Order, Product, Line):
            editor.delete_model(model)


CHECKOUT = textwrap.dedent(
    """
    from django.db import transaction
    from tests.real_stack.models import Order
    from tests.real_stack.tasks import send_receipt

    def checkout(sku, fail=False):
        with transaction.atomic():
            order = Order.objects.create(sku=sku)
            send_receipt.delay(order.pk)
            if fail:
                raise RuntimeError("payment declined")
        return order
    """
)

LATE_BINDING = textwrap.dedent(
    """
    from django.db import transaction
    from tests.real_stack.models import Order
    from tests.real_stack.tasks import send_receipt

    def checkout_all(skus):
        with transaction.atomic():
            for sku in skus:
                order = Order.objects.create(sku=sku)
                transaction.on_commit(lambda: send_receipt.delay(order.pk))
    """
)

RESTOCK = textwrap.dedent(
    """
    from tests.real_stack.models import Product

    def restock(pk, amount):
        product = Product.objects.get(pk=pk)
        yield  # another worker runs here
        product.stock += amount
        product.save()
    """
)

IMPORT_LINES = textwrap.dedent(
    """
    from tests.real_stack.models import Line

    def import_lines(rows):
        for sku, quantity in rows:
            Line.objects.create(sku=sku, quantity=quantity)
    """
)


class OnCommitFix(TestCase):
    def setUp(self) -> None:
        tasks.RUNS.clear()
        self.before = load(CHECKOUT, "checkout_before")
        self.after = load(fixed_source("CDJ501", CHECKOUT, ast.Call, (9, 8)), "checkout_after")

    def test_the_fix_is_the_on_commit_wrapper(self) -> None:
        assert "transaction.on_commit(partial(send_receipt.delay, order.pk))" in fixed_source(
            "CDJ501", CHECKOUT, ast.Call, (9, 8)
        )

    def test_before_the_fix_the_task_runs_before_the_commit(self) -> None:
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            order = self.before.checkout("A-1")
            assert tasks.RUNS == [(order.pk, True)]  # already sent, the transaction still open
        assert callbacks == []

    def test_before_the_fix_a_rollback_still_sends_the_task(self) -> None:
        with self.captureOnCommitCallbacks(execute=True), pytest.raises(RuntimeError):
            self.before.checkout("A-2", fail=True)
        assert len(tasks.RUNS) == 1
        order_id, _ = tasks.RUNS[0]
        assert not Order.objects.filter(pk=order_id).exists()  # a receipt for an order that never was

    def test_after_the_fix_the_task_runs_only_after_the_commit(self) -> None:
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            order = self.after.checkout("B-1")
            assert tasks.RUNS == []  # nothing sent while the transaction is open
        assert len(callbacks) == 1
        assert tasks.RUNS == [(order.pk, True)]

    def test_after_the_fix_a_rollback_sends_nothing(self) -> None:
        with self.captureOnCommitCallbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
            self.after.checkout("B-2", fail=True)
        assert callbacks == []
        assert tasks.RUNS == []


class LateBindingFix(TestCase):
    def setUp(self) -> None:
        tasks.RUNS.clear()

    def run_checkout(self, module: ModuleType) -> list[int]:
        with self.captureOnCommitCallbacks(execute=True):
            module.checkout_all(["x", "y", "z"])
        created = list(Order.objects.filter(sku__in=["x", "y", "z"]).order_by("pk").values_list("pk", flat=True))
        assert len(created) == 3
        return created

    def test_before_the_fix_every_callback_sends_the_last_order(self) -> None:
        created = self.run_checkout(load(LATE_BINDING, "late_before"))
        assert [order_id for order_id, _ in tasks.RUNS] == [created[-1]] * 3

    def test_after_the_fix_each_callback_sends_its_own_order(self) -> None:
        fixed = fixed_source("CDJ505", LATE_BINDING, ast.Lambda, (10, 34))
        assert "lambda order=order: send_receipt.delay(order.pk)" in fixed
        created = self.run_checkout(load(fixed, "late_after"))
        assert [order_id for order_id, _ in tasks.RUNS] == created


class FExpressionFix(TestCase):
    def interleave(self, module: ModuleType) -> int:
        product = Product.objects.create(name="widget", stock=10)
        first: Iterator[Any] = module.restock(product.pk, 5)
        second: Iterator[Any] = module.restock(product.pk, 7)
        next(first)
        next(second)  # both workers have read stock == 10
        for worker in (first, second):
            for _ in worker:
                pass
        product.refresh_from_db()
        return int(product.stock)

    def test_before_the_fix_one_update_is_lost(self) -> None:
        assert self.interleave(load(RESTOCK, "restock_before")) == 17

    def test_after_the_fix_no_update_is_lost(self) -> None:
        fixed = fixed_source("CDJ301", RESTOCK, ast.AugAssign, (7, 4))
        assert 'product.stock = F("stock") + amount' in fixed
        assert self.interleave(load(fixed, "restock_after")) == 22


class BulkCreateFix(TestCase):
    def test_the_rows_are_the_same_in_one_query(self) -> None:
        rows = [("a", 1), ("b", 2), ("c", 3)]
        before = load(IMPORT_LINES, "lines_before")
        with self.assertNumQueries(3):
            before.import_lines(rows)
        inserted_before = list(Line.objects.order_by("pk").values_list("sku", "quantity"))
        Line.objects.all().delete()
        fixed = fixed_source("CDJ401", IMPORT_LINES, ast.Call, (6, 8))
        assert "bulk_create(\n        [Line(sku=sku, quantity=quantity) for sku, quantity in rows]\n    )" in fixed
        with self.assertNumQueries(1):
            load(fixed, "lines_after").import_lines(rows)
        assert list(Line.objects.order_by("pk").values_list("sku", "quantity")) == inserted_before == rows
