from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_celery_django.api import check_source
from flake8_celery_django.settings import Settings
from flake8_celery_django.project.facts import CallSiteFact, ModuleFacts, ReceiverFact
from flake8_celery_django.project.knowledge import ProjectKnowledge
from tests.cases import Case, assert_case, invalid, valid
from tests.project_cases import project_findings

CASES: list[Case] = [
    # A list (a JSON or array field) changed from its own value loses concurrent changes like a
    # number does, although the strings it is built from call str methods (taiga's tags_colors).
    invalid(
        "CDJ301",
        """
        from shop.models import Project
        def create_tags(project: Project, new_tags_colors):
            project.tags_colors += [[k.lower(), v] for k, v in new_tags_colors.items()]
            project.save(update_fields=["tags_colors"])
        """,
        (4, 4),
    ),
    valid(
        "CDJ301",
        """
        from shop.models import Project
        def rename(project: Project, suffix):
            project.name = project.name + suffix.strip()
            project.notes = "(" + project.notes + ")"
            project.save()
        """,
    ),
    # A clamp of a value just recomputed from other data bounds the new value: no stored value is lost.
    valid(
        "CDJ301",
        """
        from shop.models import Transaction
        def recalculate(pk, events):
            item = Transaction.objects.get(pk=pk)
            item.authorized = sum(event.amount for event in events)
            item.authorized = max(item.authorized, 0)
            item.pending = len(events)
            item.pending = min(10, item.pending)
            item.save()
        """,
    ),
    invalid(
        "CDJ301",
        """
        from shop.models import Transaction
        def recalculate(pk, events, floor):
            item = Transaction.objects.get(pk=pk)
            item.authorized = item.authorized + sum(event.amount for event in events)
            item.authorized = max(item.authorized, 0)
            item.pending = sum(event.amount for event in events)
            item.pending = max(item.pending, item.pending * floor)
            item.save()
        """,
        (5, 4), (6, 4),
    ),
    # A field given a value of its own above, on every path, is changed from that value, not from
    # the stored one (openwisp-network-topology's `node.addresses = [id]; node.addresses += local`).
    valid(
        "CDJ301",
        """
        from shop.models import Node
        def update(pk, data):
            node = Node.objects.get(pk=pk)
            node.addresses = [data["id"]]
            if data.get("local"):
                node.addresses += data["local"]
            node.weight = 0
            for extra in data["weights"]:
                node.weight += extra
            node.save()
        """,
    ),
    # ... but not from a branch that another path skips, nor after the row is fetched again.
    invalid(
        "CDJ301",
        """
        from shop.models import Node
        def update(pk, data):
            node = Node.objects.get(pk=pk)
            if data.get("reset"):
                node.weight = 0
            node.weight += 1
            node.counter = 0
            node = Node.objects.get(pk=pk)
            node.counter += 1
            node.save()
        """,
        (7, 4), (10, 4),
    ),
    invalid(
        "CDJ301",
        """
        from shop.models import Transaction
        def recalculate(pk, events):
            item = Transaction.objects.get(pk=pk)
            item.authorized = item.authorized or 0
            item.authorized = max(item.authorized, 0)
            item.save()
        """,
        (6, 4),
    ),
    invalid(
        "CDJ301",
        """
        from shop.models import Transaction
        def recalculate(pk, events):
            item = Transaction.objects.get(pk=pk)
            item.authorized = sum(event.amount for event in events)
            item = Transaction.objects.get(pk=pk)
            item.authorized = max(item.authorized, 0)
            item.save()
        """,
        (7, 4),
    ),
    invalid(
        "CDJ301",
        """
        from shop.models import Customer
        def pay(pk, amount):
            account = Customer.objects.get(pk=pk)
            account.balance -= amount
            account.save()
        """,
        (5, 4),
    ),
    invalid(
        "CDJ301",
        """
        def restock(product, n, limit):
            product.stock = product.stock + n
            product.reserved = max(product.reserved, limit)
            product.sold = (product.sold or 0) + 1
            product.save(update_fields=["stock", "reserved", "sold"])
        """,
        (3, 4), (4, 4), (5, 4),
    ),
    invalid(
        "CDJ301",
        """
        def like(request):
            request.user.likes += 1
            request.user.save()
        """,
        (3, 4),
    ),
    invalid(
        "CDJ301",
        """
        from django.db import models
        class Task(models.Model):
            attempts = models.IntegerField()
            def retry(self):
                self.attempts += 1
                self.save(update_fields={"attempts"})
        """,
        (6, 8),
    ),
    invalid(
        "CDJ301",
        """
        class Counter(TimeStampedModel):
            def bump(self, *args, **kwargs):
                self.hits += 1
                super().save(*args, **kwargs)
        """,
        (4, 8),
    ),
    invalid(
        "CDJ301",
        """
        from shop.models import Order
        async def settle(pk, amount):
            order = await Order.objects.aget(pk=pk)
            order.total += amount
            order.total += 1
            await order.asave()
            await order.asave()
        """,
        (5, 4), (6, 4),
    ),
    invalid(
        "CDJ301",
        """
        def handle(schedule, soft):
            def on_error(message):
                if not soft:
                    schedule.error_counter += 1
                    schedule.save(update_fields=["error_counter"])
            return on_error
        """,
        (5, 12),
    ),
    valid(
        "CDJ301",
        """
        from django.db import transaction
        from django.db.models import F
        from shop.models import Customer
        def pay(pk, amount):
            Customer.objects.filter(pk=pk).update(balance=F("balance") - amount)
            account = Customer.objects.get(pk=pk)
            account.balance = F("balance") - amount
            account.save()
        def pay_locked(pk, amount):
            with transaction.atomic():
                account = Customer.objects.select_for_update().get(pk=pk)
                account.balance -= amount
                account.save()
        def pay_all(amount):
            with transaction.atomic():
                for account in Customer.objects.select_for_update().filter(active=True):
                    account.balance -= amount
                    account.save()
        """,
    ),
    valid(
        "CDJ301",
        """
        from shop.models import Customer
        class Stats:
            def add(self, n):
                self.total += n
                self.save()
        def preview(stats, account):
            stats["n"] += 1
            account.balance -= 10
            return account.balance
        def count(account, rows):
            total = 0
            for row in rows:
                total += row.amount
            account.total = total
            account.save()
        def fill_defaults(self):
            self.queue = self.queue or None
            self.price = self.price
            self.save()
        """,
    ),
    valid(
        "CDJ301",
        """
        from shop.models import Invoice, Line
        def build(invoice: Invoice, lines, text):
            invoice.additional_text += "<br />"
            invoice.additional_text += "<br />".join(text)
            invoice.log += f"{text}\\n"
            invoice.save()
            draft = Invoice(number=1)
            draft.total += 5
            draft.save()
            created = Invoice.objects.create(number=2)
            created.total += 5
            created.save()
            for line in lines:
                line.pk = None
                line.value *= -1
                line.save()
        """,
    ),
    valid(
        "CDJ301",
        """
        def bump(order, amount):
            order.total += amount
            order.save(update_fields=["paid"])
        def save_first(order, amount):
            order.save()
            order.total += amount
        """,
    ),
    valid(
        "CDJ301",
        """
        def forwards(apps, schema_editor):
            Note = apps.get_model("extras", "Note")
            for note in Note.objects.all():
                note.created += 1
                note.save()
        """,
    ),
    invalid(
        "CDJ302",
        """
        from shop.models import Product
        def reserve(pk):
            product = Product.objects.select_for_update().get(pk=pk)
            locked = Product.objects.select_for_update().filter(stock__gt=0)
            for item in locked:
                pass
            return [p for p in Product.objects.select_for_update()]
        """,
        (4, 14), (6, 16), (8, 23),
    ),
    invalid(
        "CDJ302",
        """
        from django.db import transaction
        from shop.models import Product
        def reserve(pk):
            with transaction.atomic():
                def later():
                    return list(Product.objects.select_for_update())
            return Product.objects.select_for_update().first()
        """,
        (8, 11),
    ),
    valid(
        "CDJ302",
        """
        from django.db import transaction
        from django.utils.decorators import method_decorator
        from shop.models import Product
        def reserve(pk):
            with transaction.atomic():
                return Product.objects.select_for_update().get(pk=pk)
        @transaction.atomic
        def reserve_decorated(pk):
            return Product.objects.select_for_update().get(pk=pk)
        def locked_queryset():
            return Product.objects.select_for_update()
        class View:
            @method_decorator(transaction.atomic)
            def post(self, request):
                return Product.objects.select_for_update().get(pk=1)
        def update_only():
            Product.objects.select_for_update().filter(stock=0).update(stock=1)
        """,
    ),
    valid(
        "CDJ302",
        """
        from django.db import transaction, connection
        from shop.database import conditional_atomic
        from shop.models import Product
        def _lock(pk):
            return Product.objects.select_for_update().get(pk=pk)
        def reserve(pk):
            with transaction.atomic():
                return _lock(pk)
        def guarded(pk):
            if not connection.in_atomic_block:
                raise RuntimeError("call me inside atomic")
            return Product.objects.select_for_update().get(pk=pk)
        def wrapped(pk, simulate):
            with conditional_atomic(not simulate):
                return Product.objects.select_for_update().get(pk=pk)
        """,
    ),
    valid(
        "CDJ302",
        """
        from shop.models import Product
        def view(request, pk):
            return Product.objects.select_for_update().get(pk=pk)
        """,
        atomic_requests=True,
    ),
    # Django sends pre_delete and post_delete inside the deleting transaction (Collector.delete).
    valid(
        "CDJ302",
        """
        from django.db.models.signals import post_delete, pre_delete
        from django.dispatch import receiver
        from shop.models import Order, Product
        @receiver(post_delete, sender=Order)
        def restock(sender, instance, **kwargs):
            product = Product.objects.select_for_update().get(pk=instance.product_id)
        @receiver([pre_delete, post_delete], sender=Order)
        def audit(sender, instance, **kwargs):
            return list(Product.objects.select_for_update().filter(pk=instance.product_id))
        """,
    ),
    invalid(
        "CDJ302",
        """
        from django.db.models.signals import post_delete, post_save
        from django.dispatch import receiver
        from shop.models import Order, Product
        @receiver(post_save, sender=Order)
        def restock(sender, instance, **kwargs):
            product = Product.objects.select_for_update().get(pk=instance.product_id)
        @receiver([post_save, post_delete], sender=Order)
        def audit(sender, instance, **kwargs):
            return list(Product.objects.select_for_update().filter(pk=instance.product_id))
        """,
        (7, 14), (10, 11),
    ),
    # The row is being inserted: nobody else can be writing it.
    valid(
        "CDJ301",
        """
        from django.db import models
        class Invoice(models.Model):
            def save(self, *args, **kwargs):
                if not self.pk:
                    self.number = self.number + 1
                if self._state.adding:
                    self.attempts += 1
                if self.pk is None:
                    self.version += 1
                if self.pk:
                    pass
                else:
                    self.revision += 1
                super().save(*args, **kwargs)
        """,
    ),
    invalid(
        "CDJ301",
        """
        from django.db import models
        class Invoice(models.Model):
            def save(self, *args, **kwargs):
                if not self.pk:
                    self.event.invoice_count += 1
                    self.event.save()
                if self.pk:
                    self.revision += 1
                super().save(*args, **kwargs)
        """,
        (6, 12), (9, 12),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_race_cases(case: Case) -> None:
    assert_case(case)


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_race_cases_with_only_that_rule(case: Case) -> None:
    """A rule selected alone reports what it reports with every rule on."""
    settings = Settings(enabled=frozenset({case.code}), **case.options)  # type: ignore[arg-type]
    findings = check_source(case.source, "example.py", settings, strict=True)
    assert [(f.line, f.col) for f in findings] == list(case.expected)


LOCK_SOURCE = """\
from shop.models import Product


def peek(pk):
    return Product.objects.select_for_update().get(pk=pk)
"""


@pytest.mark.parametrize(
    ("args", "reported"),
    [
        ((), False),
        (("--extend-select", "CDJ302"), True),
        (("--select", "CDJ302"), True),
        (("--select", "CDJ3"), False),
        (("--select", "CDJ"), False),
        (("--extend-select", "CDJ"), False),
        (("--ignore", "E501"), False),
    ],
)
def test_lock_rule_is_off_by_default_in_flake8(tmp_path: Path, args: tuple[str, ...], reported: bool) -> None:
    (tmp_path / "locks.py").write_text(LOCK_SOURCE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAKE8")}
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *args, "locks.py"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120,
    )
    expected = "locks.py:5:12: CDJ302 select_for_update() is evaluated outside transaction.atomic"
    assert (expected in result.stdout) is reported, result.stdout + result.stderr


LOCKED_CALLERS = """
from shop.models import Product
def take(product: Product, quantity):
    product.stock -= quantity
    product.save()
"""


@pytest.mark.parametrize(
    ("sites", "expected"),
    [
        ((CallSiteFact("shop.views.buy", locked=True), CallSiteFact("shop.tasks.refill", locked=True)), []),
        ((CallSiteFact("shop.views.buy", locked=True), CallSiteFact("shop.tasks.refill")), [(4, 4, "CDJ301")]),
        ((), [(4, 4, "CDJ301")]),
    ],
)
def test_read_modify_write_whose_every_caller_holds_the_row_lock_is_silent(
    sites: tuple[CallSiteFact, ...], expected: list[tuple[int, int, str]]
) -> None:
    project = ProjectKnowledge([ModuleFacts("shop.views", calls=tuple(("shop.stock.take", site) for site in sites))])
    assert project_findings(LOCKED_CALLERS, "shop.stock", project) == expected


DELETE_RECEIVER = """
from shop.models import Product
def restock(sender, instance, **kwargs):
    return Product.objects.select_for_update().get(pk=instance.product_id)
"""


@pytest.mark.parametrize(
    ("signal", "expected"),
    [("post_delete", []), ("pre_delete", []), ("post_save", [(4, 11, "CDJ302")])],
)
def test_lock_in_a_delete_receiver_connected_elsewhere_is_inside_the_deleting_transaction(
    signal: str, expected: list[tuple[int, int, str]]
) -> None:
    receiver = ReceiverFact("shop.receivers.restock", signal, "shop.models.Order")
    project = ProjectKnowledge([ModuleFacts("shop.apps", receivers=(receiver,))])
    assert project_findings(DELETE_RECEIVER, "shop.receivers", project) == expected
