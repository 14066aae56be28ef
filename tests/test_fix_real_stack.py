"""Fixed code still works, on real Django and Celery: ``fix --unsafe-fixes`` over a small app.

The app (``tests/real_stack``: models, eager Celery tasks, services) runs on two SQLite databases
in memory (``default`` and ``billing``).  Its services module is fixed with the real command's
engine, with the project index the builder makes of the app; the code before and after the fix is
loaded side by side.  Behaviour tests pass on both; bug probes fail before the fix and pass after;
every shape whose fix would break working code is left exactly as it was, with its reason.
``captureOnCommitCallbacks`` stands in for the commit of the request's transaction.
"""

from __future__ import annotations

import contextlib
import http.server
import re
import socket
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

pytest.importorskip("django")
pytest.importorskip("celery")

import django  # noqa: E402
from django.conf import settings  # noqa: E402

if not settings.configured:
    settings.configure(
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
            "billing": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        },
        INSTALLED_APPS=["tests.real_stack"],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
    )
    django.setup()

from asgiref.sync import async_to_sync  # noqa: E402
from django.db import connections, transaction  # noqa: E402
from django.db.models.signals import post_delete, pre_delete  # noqa: E402
from django.test import TestCase  # noqa: E402

from flake8_celery_django.fixes import fix_source  # noqa: E402
from flake8_celery_django.project.index import build_index  # noqa: E402
from flake8_celery_django.registry import RULES  # noqa: E402
from flake8_celery_django.settings import Settings  # noqa: E402
from tests.real_stack import models, services, tasks  # noqa: E402
from tests.real_stack.models import (  # noqa: E402
    Account,
    Attachment,
    Counter,
    Entry,
    Invoice,
    Ledger,
    Line,
    Order,
    Product,
)

MODELS = "tests.real_stack.models"
# The project index of the app, as the index builder reads it (its cache in a temporary folder).
CACHE = tempfile.TemporaryDirectory()
PROJECT = build_index(str(Path(models.__file__).parent), CACHE.name).knowledge
# The timeout the fix adds (``--cdj-default-timeout``), short enough for the hanging-server probe.
TIMEOUT = 1.0


def fixed(path: str, module: str) -> tuple[str, str, list[tuple[int, str, str]]]:
    source = Path(path).read_text()
    enabled = frozenset(RULES)
    result = fix_source(
        source, f"shop/{Path(path).name}", Settings(enabled=enabled, default_timeout=TIMEOUT), unsafe=True,
        project=PROJECT, module=module,
    )
    refused = [(r.finding.line, r.finding.code, r.reason) for r in result.unfixed]
    return source, result.source, refused


SOURCE, FIXED, REFUSED = fixed(services.__file__, "tests.real_stack.services")


def load(source: str, name: str) -> ModuleType:
    module = ModuleType(name)
    exec(compile(source, f"{name}.py", "exec"), module.__dict__)
    return module


BEFORE = load(SOURCE, "services_before")
AFTER = load(FIXED, "services_after")
ALL_MODELS = (Order, Product, Line, Account, Counter, Ledger, Entry, Invoice, Attachment)
# The services module's delete receivers, connected by ``@receiver`` in each copy of the module
# (the one imported, the code before and the code after the fix): each test connects one copy's.
ATTACHMENT_RECEIVERS = (("attachment_deleted", post_delete), ("attachment_deleting", pre_delete))
for copy in (services, BEFORE, AFTER):
    for receiver_name, signal in ATTACHMENT_RECEIVERS:
        signal.disconnect(getattr(copy, receiver_name), sender=Attachment)


@contextlib.contextmanager
def receivers_of(module: ModuleType) -> Iterator[None]:
    """The delete receivers of ``module`` (and of no other copy) connected while the block runs."""
    for receiver_name, signal in ATTACHMENT_RECEIVERS:
        signal.connect(getattr(module, receiver_name), sender=Attachment)
    try:
        yield
    finally:
        for receiver_name, signal in ATTACHMENT_RECEIVERS:
            signal.disconnect(getattr(module, receiver_name), sender=Attachment)


@pytest.fixture(scope="module", autouse=True)
def tables() -> Iterator[None]:
    for alias in ("default", "billing"):
        with connections[alias].schema_editor() as editor:
            for model in ALL_MODELS:
                editor.create_model(model)
    yield
    for alias in ("default", "billing"):
        with connections[alias].schema_editor() as editor:
            for model in ALL_MODELS:
                editor.delete_model(model)


def function_source(source: str, name: str) -> str:
    """The text of one top-level function of ``source``."""
    found = re.search(rf"^(async )?def {name}\(.*?(?=^\S|\Z)", source, re.S | re.M)
    assert found is not None, name
    return found.group(0)


# -- what the fix did ---------------------------------------------------------------------------
def line_of(source: str, function: str, statement: str) -> int:
    """The number of the line of ``function`` whose text is ``statement``."""
    lines = [line.strip() for line in source.splitlines()]
    start = next(number for number, line in enumerate(lines) if re.match(rf"(async )?def {function}\(", line))
    return lines.index(statement, start) + 1


def test_every_shape_that_the_fix_would_break_is_left_with_its_reason() -> None:
    # positions are in the fixed text, as the file is written
    expected = [
        ("checkout_all", "order = Order.objects.create(sku=sku)", "CDJ401",
         "the created object is used, and bulk_create returns no objects one by one"),
        ("sell_checked", "product.stock -= 1", "CDJ301",
         "product.stock is read before the save, where it would hold an F() expression"),
        ("add_up", "order.total += price", "CDJ301",
         "order.total may change more than once before its save (a loop or a branch between them)"),
        ("block", "account.blocked = account.blocked + [name]", "CDJ301",
         "`[name]` may not be a number, and F() only does arithmetic"),
        ("reset_and_add", "product.sold += extra", "CDJ301",
         "product.sold is assigned earlier in the function, and F() would discard that value"),
        ("touch", "ledger.version += 1", "CDJ301",
         "ledger._state.adding says the row may not exist yet, and F() cannot be inserted"),
        ("charge", "ledger.balance -= amount", "CDJ301",
         "Ledger.save() reads balance, which holds an F() expression until refreshed"),
        ("pay", "refund.delay(order.pk)", "CDJ503",
         "sent from an except or finally block, which may run after a rollback"),
        ("archive", "send_receipt.delay(pk)", "CDJ501",
         "sent from an except or finally block, which may run after a rollback"),
        ("attachment_deleting", "purge.delay(instance.pk)", "CDJ502",
         "the task gets the key of the row being deleted, which is gone after the commit"),
        ("notify", "notify_customer.delay(order.pk)", "CDJ503",
         "sent from async def, where transaction.on_commit raises SynchronousOnlyOperation"),
        ("import_and_report", "Line.objects.create(sku=sku, quantity=quantity)", "CDJ401",
         "`sku` is read after the loop, and a comprehension would not leave it bound"),
        ("seed", "Line.objects.create(sku=product.name, quantity=size)", "CDJ401",
         "in a class body a comprehension cannot see the class's names"),
        ("import_kept", "made.append(Line.objects.create(sku=sku, quantity=quantity))", "CDJ401",
         "the created object is used, and bulk_create returns no objects one by one"),
        ("count_all", "Counter.objects.create(label=label)", "CDJ401",
         "Counter.save() is overridden, and bulk_create does not call it"),
        ("log_entries", "Entry.objects.create(text=text)", "CDJ401",
         "Entry has pre_save/post_save receivers, which bulk_create does not send"),
    ]
    lines = [(line_of(FIXED, function, statement), code, reason) for function, statement, code, reason in expected]
    assert REFUSED == lines


@pytest.mark.parametrize(
    "name",
    [
        "sell_checked", "add_up", "block", "reset_and_add", "touch", "charge", "pay", "archive", "notify",
        "import_and_report", "seed", "import_kept", "count_all", "log_entries", "attachment_deleting",
    ],
)
def test_a_refused_shape_is_left_byte_for_byte(name: str) -> None:
    assert function_source(FIXED, name) == function_source(SOURCE, name)


@pytest.mark.parametrize(
    ("name", "rewritten"),
    [
        ("checkout", "transaction.on_commit(partial(send_receipt.delay, order.pk))"),
        ("restock", 'product.stock = F("stock") + amount'),
        ("fetch_status", "with urlopen(url, timeout=1) as response:"),
        (
            "import_lines",
            "Line.objects.bulk_create(\n        [Line(sku=sku, quantity=quantity) for sku, quantity in rows]\n    )",
        ),
        ("checkout_all", "transaction.on_commit(lambda order=order: send_receipt.delay(order.pk))"),
        (
            "bill",
            "transaction.on_commit(\n"
            "            partial(send_invoice.delay, invoice.pk),\n"
            '            using="billing",\n'
            "        )",
        ),
        ("sell", 'product.stock = F("stock") - 1\n    product.save()\n    product.refresh_from_db(fields=["stock"])'),
        ("restock_all", 'product.stock = F("stock") + 1'),
        ("attachment_deleted", "transaction.on_commit(partial(remove_file.delay, instance.path))"),
    ],
)
def test_a_bug_is_rewritten(name: str, rewritten: str) -> None:
    assert rewritten in function_source(FIXED, name)
    assert rewritten not in function_source(SOURCE, name)


def test_the_models_own_saves_are_left_alone() -> None:
    source, after, refused = fixed(models.__file__, MODELS)
    assert after == source
    assert refused == [
        (55, "CDJ301", "inside the model's own save() the row may not exist yet, and F() cannot be inserted"),
    ]


# -- behaviour: the same before and after the fix -----------------------------------------------
class Behaviour:
    """Ordinary tests of the app, run on the code before and after the fix."""

    databases: ClassVar[set[str]] = {"default", "billing"}
    module: ClassVar[ModuleType]

    def setUp(self) -> None:
        tasks.RUNS.clear()
        tasks.INVOICES.clear()
        tasks.REFUNDS.clear()
        tasks.NOTIFIED.clear()
        tasks.REMOVED.clear()
        tasks.PURGED.clear()
        models.SAVED_ENTRIES.clear()

    def test_deleting_an_attachment_removes_its_file_and_purges_it(self) -> None:
        attachment = Attachment.objects.create(path="a.pdf")
        pk = attachment.pk
        with receivers_of(self.module), self.captureOnCommitCallbacks(execute=True):  # type: ignore[attr-defined]
            attachment.delete()
        assert tasks.REMOVED == ["a.pdf"]
        assert tasks.PURGED == [(pk, True)]  # sent while the row is still there, before and after the fix

    def test_checkout_creates_the_order_and_sends_its_receipt(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):  # type: ignore[attr-defined]
            order = self.module.checkout("A-1")
        assert Order.objects.get(pk=order.pk).sku == "A-1"
        assert tasks.RUNS == [(order.pk, True)]

    def test_restock_alone_adds_the_amount(self) -> None:
        product = Product.objects.create(name="widget", stock=10)
        for _ in self.module.restock(product.pk, 5):
            pass
        product.refresh_from_db()
        assert product.stock == 15

    def test_import_lines_inserts_every_row(self) -> None:
        self.module.import_lines([("a", 1), ("b", 2)])
        assert list(Line.objects.order_by("pk").values_list("sku", "quantity")) == [("a", 1), ("b", 2)]

    def test_bill_sends_the_invoice(self) -> None:
        with self.captureOnCommitCallbacks(using="billing", execute=True):  # type: ignore[attr-defined]
            invoice = self.module.bill("B-1")
        assert tasks.INVOICES == [(invoice.pk, True)]

    def test_sell_returns_the_stock_left_as_a_number(self) -> None:
        product = Product.objects.create(name="widget", stock=3)
        left = self.module.sell(product.pk)
        assert (left, type(left)) == (2, int)

    def test_restock_all(self) -> None:
        pks = [Product.objects.create(name=name, stock=1).pk for name in "ab"]
        self.module.restock_all(pks)
        assert list(Product.objects.filter(pk__in=pks).values_list("stock", flat=True)) == [2, 2]

    def test_sell_checked_refuses_to_oversell(self) -> None:
        product = Product.objects.create(name="widget", stock=0)
        with pytest.raises(ValueError, match="sold out"):
            self.module.sell_checked(product.pk)
        product.refresh_from_db()
        assert product.stock == 0

    def test_add_up_adds_every_price(self) -> None:
        order = Order.objects.create(sku="C-1", total=1)
        self.module.add_up(order.pk, [2, 3, 4])
        order.refresh_from_db()
        assert order.total == 10

    def test_block_appends_to_the_list(self) -> None:
        account = Account.objects.create(blocked=["x"])
        self.module.block(account.pk, "y")
        account.refresh_from_db()
        assert account.blocked == ["x", "y"]

    def test_reset_and_add(self) -> None:
        product = Product.objects.create(name="widget", sold=9)
        self.module.reset_and_add(product.pk, 2)
        product.refresh_from_db()
        assert product.sold == 2
        self.module.reset_and_add(product.pk, 3, reset=False)
        product.refresh_from_db()
        assert product.sold == 5

    def test_touch_a_new_ledger(self) -> None:
        ledger = Ledger(balance=5)
        self.module.touch(ledger)
        ledger.refresh_from_db()
        assert (ledger.balance, ledger.version) == (0, 2)

    def test_charge_and_overdraw(self) -> None:
        ledger = Ledger.objects.create(balance=5)
        self.module.charge(ledger.pk, 3)
        ledger.refresh_from_db()
        assert ledger.balance == 2
        with pytest.raises(ValueError, match="overdrawn"):
            self.module.charge(ledger.pk, 3)

    def test_a_failed_payment_is_refunded_although_its_transaction_rolls_back(self) -> None:
        order = Order.objects.create(sku="D-1")
        with self.captureOnCommitCallbacks(execute=True), pytest.raises(RuntimeError):  # type: ignore[attr-defined]
            with transaction.atomic():
                self.module.pay(order.pk, fail=True)
        assert tasks.REFUNDS == [order.pk]

    def test_archive_sends_the_receipt_even_when_the_archive_rolls_back(self) -> None:
        order = Order.objects.create(sku="E-0")
        with self.captureOnCommitCallbacks(execute=True):  # type: ignore[attr-defined]
            with pytest.raises(RuntimeError), transaction.atomic():
                self.module.archive(order.pk)
                raise RuntimeError("archive failed")
        assert [order_id for order_id, _ in tasks.RUNS] == [order.pk]
        assert Order.objects.filter(pk=order.pk).exists()

    def test_notify_from_async_code(self) -> None:
        order = Order.objects.create(sku="E-1")
        async_to_sync(self.module.notify)(order.pk)
        assert tasks.NOTIFIED == [order.pk]

    def test_import_and_report_names_the_last_sku(self) -> None:
        assert self.module.import_and_report([("a", 1), ("b", 2)]) == "b"

    def test_seed(self) -> None:
        Product.objects.create(name="a")
        Product.objects.create(name="b")
        assert self.module.seed().size == 2
        assert list(Line.objects.order_by("pk").values_list("sku", "quantity")) == [("a", 2), ("b", 2)]

    def test_import_kept_returns_saved_rows(self) -> None:
        made = self.module.import_kept([("a", 1)])
        assert [line.pk is not None for line in made] == [True]

    def test_count_all_runs_counter_save(self) -> None:
        self.module.count_all(["a", "b"])
        assert list(Counter.objects.order_by("pk").values_list("label", "hits")) == [("A", 1), ("B", 1)]

    def test_log_entries_sends_post_save(self) -> None:
        self.module.log_entries(["a", "b"])
        assert models.SAVED_ENTRIES == ["a", "b"]


class BehaviourBeforeTheFix(Behaviour, TestCase):
    module = BEFORE


class BehaviourAfterTheFix(Behaviour, TestCase):
    module = AFTER


# -- bug probes: each fails before the fix and passes after -------------------------------------
class Probes(TestCase):
    databases = {"default", "billing"}

    def setUp(self) -> None:
        tasks.RUNS.clear()
        tasks.INVOICES.clear()
        tasks.REMOVED.clear()

    def file_kept_when_the_delete_rolls_back(self, module: ModuleType) -> bool:
        attachment = Attachment.objects.create(path="b.pdf")
        with receivers_of(module), self.captureOnCommitCallbacks(execute=True), pytest.raises(RuntimeError):
            with transaction.atomic():
                attachment.delete()
                raise RuntimeError("the delete rolls back")
        return Attachment.objects.filter(path="b.pdf").exists() and tasks.REMOVED == []

    def nothing_sent_before_the_commit(self, module: ModuleType) -> bool:
        with self.captureOnCommitCallbacks(execute=True):
            module.checkout("F-1")
            sent_early = bool(tasks.RUNS)
        return not sent_early

    def nothing_sent_after_a_rollback(self, module: ModuleType) -> bool:
        with self.captureOnCommitCallbacks(execute=True), pytest.raises(RuntimeError):
            module.checkout("F-2", fail=True)
        return tasks.RUNS == []

    def no_increment_lost(self, module: ModuleType) -> bool:
        product = Product.objects.create(name="widget", stock=10)
        first: Iterator[Any] = module.restock(product.pk, 5)
        second: Iterator[Any] = module.restock(product.pk, 7)
        next(first)
        next(second)  # both workers have read stock == 10
        for worker in (first, second):
            for _ in worker:
                pass
        product.refresh_from_db()
        return bool(product.stock == 22)

    def one_insert_for_all_rows(self, module: ModuleType) -> bool:
        with CountQueries() as counted:
            module.import_lines([("a", 1), ("b", 2), ("c", 3)])
        return counted.inserts == 1

    def each_callback_sends_its_own_order(self, module: ModuleType) -> bool:
        with self.captureOnCommitCallbacks(execute=True):
            module.checkout_all(["x", "y", "z"])
        created = list(Order.objects.filter(sku__in="xyz").order_by("pk").values_list("pk", flat=True))
        return [order_id for order_id, _ in tasks.RUNS] == created

    def invoice_sent_after_the_billing_commit(self, module: ModuleType) -> bool:
        with self.captureOnCommitCallbacks(using="billing", execute=True):
            module.bill("G-1")
            sent_early = bool(tasks.INVOICES)
        return not sent_early and len(tasks.INVOICES) == 1

    def test_task_sent_before_commit(self) -> None:
        assert self.nothing_sent_before_the_commit(BEFORE) is False
        tasks.RUNS.clear()
        assert self.nothing_sent_before_the_commit(AFTER) is True

    def test_task_sent_after_rollback(self) -> None:
        assert self.nothing_sent_after_a_rollback(BEFORE) is False
        tasks.RUNS.clear()
        assert self.nothing_sent_after_a_rollback(AFTER) is True

    def test_lost_concurrent_increment(self) -> None:
        assert (self.no_increment_lost(BEFORE), self.no_increment_lost(AFTER)) == (False, True)

    def test_one_insert_per_row(self) -> None:
        assert (self.one_insert_for_all_rows(BEFORE), self.one_insert_for_all_rows(AFTER)) == (False, True)

    def test_late_bound_lambda(self) -> None:
        assert self.each_callback_sends_its_own_order(BEFORE) is False
        tasks.RUNS.clear()
        Order.objects.all().delete()
        assert self.each_callback_sends_its_own_order(AFTER) is True

    def test_file_removed_for_a_delete_that_rolls_back(self) -> None:
        assert self.file_kept_when_the_delete_rolls_back(BEFORE) is False
        tasks.REMOVED.clear()
        assert self.file_kept_when_the_delete_rolls_back(AFTER) is True

    def test_send_inside_atomic_using_a_second_database(self) -> None:
        assert self.invoice_sent_after_the_billing_commit(BEFORE) is False
        tasks.INVOICES.clear()
        assert self.invoice_sent_after_the_billing_commit(AFTER) is True


class CountQueries:
    """Counts the INSERT statements run on the default database while the block runs."""

    def __init__(self) -> None:
        self.inserts = 0

    def __enter__(self) -> CountQueries:
        connections["default"].execute_wrappers.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        connections["default"].execute_wrappers.remove(self)

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith("INSERT"):
            self.inserts += 1
        return execute(sql, params, many, context)


# -- a request to a server that never answers in time (127.0.0.1 only) --------------------------
class SlowHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        time.sleep(3 * TIMEOUT)
        try:
            self.send_response(200)
            self.end_headers()
        except OSError:
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def slow_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def worker_freed(module: ModuleType, url: str) -> bool:
    """Whether ``fetch_status`` gives the worker back within twice the timeout."""
    outcome: list[BaseException | int] = []

    def call() -> None:
        try:
            outcome.append(module.fetch_status(url))
        except (OSError, socket.timeout) as error:
            outcome.append(error)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(2 * TIMEOUT)
    return not worker.is_alive()


def test_request_with_no_timeout(slow_server: str) -> None:
    assert (worker_freed(BEFORE, slow_server), worker_freed(AFTER, slow_server)) == (False, True)


def test_the_services_module_is_what_the_cases_describe() -> None:
    assert textwrap.dedent(function_source(SOURCE, "checkout")).startswith("def checkout(sku: str, fail")
