"""The real-stack app's services: the code that ``fix --unsafe-fixes`` rewrites in the tests.

Each function is ordinary application code.  Some hold a bug a rule finds (the fix must remove
it), the others a shape whose fix would break working code (the fix must leave it, or rewrite it
without changing what it does).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.request import urlopen

from django.db import transaction
from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver

from tests.real_stack.models import Account, Attachment, Counter, Entry, Invoice, Ledger, Line, Order, Product
from tests.real_stack.tasks import notify_customer, purge, refund, remove_file, send_invoice, send_receipt


# -- bugs the fixes remove ----------------------------------------------------------------------
def checkout(sku: str, fail: bool = False) -> Order:
    """CDJ501: the receipt is sent before the commit, and even after a rollback."""
    with transaction.atomic():
        order = Order.objects.create(sku=sku)
        send_receipt.delay(order.pk)
        if fail:
            raise RuntimeError("payment declined")
    return order


@receiver(post_delete, sender=Attachment)
def attachment_deleted(sender: type[Attachment], instance: Attachment, **kwargs: Any) -> None:
    """CDJ502: the file is removed even when the delete rolls back (Django deletes in a transaction)."""
    remove_file.delay(instance.path)


def restock(pk: int, amount: int) -> Iterator[None]:
    """CDJ301: two workers that both read the stock lose one of the increments."""
    product = Product.objects.get(pk=pk)
    yield  # another worker runs here
    product.stock += amount
    product.save()


def fetch_status(url: str) -> int:
    """CDJ201: a server that never answers holds the worker forever."""
    with urlopen(url) as response:
        return int(response.status)


def import_lines(rows: list[tuple[str, int]]) -> None:
    """CDJ401: one INSERT per row."""
    for sku, quantity in rows:
        Line.objects.create(sku=sku, quantity=quantity)


def checkout_all(skus: list[str]) -> None:
    """CDJ505: every callback reads ``order`` at commit time, when it is the last one."""
    with transaction.atomic():
        for sku in skus:
            order = Order.objects.create(sku=sku)
            transaction.on_commit(lambda: send_receipt.delay(order.pk))


def bill(sku: str) -> Invoice:
    """CDJ501 in another database: the invoice task must wait for the billing commit."""
    with transaction.atomic(using="billing"):
        invoice = Invoice.objects.using("billing").create(sku=sku)
        send_invoice.delay(invoice.pk)
    return invoice


# -- fixes that keep behaviour ------------------------------------------------------------------
def sell(pk: int) -> int:
    """CDJ301 read after the save: the fix refreshes the field, so the caller gets a number."""
    product = Product.objects.get(pk=pk)
    product.stock -= 1
    product.save()
    return product.stock


def restock_all(pks: list[int]) -> None:
    """CDJ301 on a row of each turn, saved with update_fields."""
    for product in Product.objects.filter(pk__in=pks):
        product.stock += 1
        product.save(update_fields=["stock"])


# -- shapes left without a fix ------------------------------------------------------------------
def sell_checked(pk: int) -> None:
    """CDJ301: the field is compared before the save."""
    product = Product.objects.get(pk=pk)
    product.stock -= 1
    if product.stock < 0:
        raise ValueError("sold out")
    product.save()


def add_up(pk: int, prices: list[int]) -> None:
    """CDJ301: several changes before one save."""
    order = Order.objects.get(pk=pk)
    for price in prices:
        order.total += price
    order.save()


def block(pk: int, name: str) -> None:
    """CDJ301: a list, not a number."""
    account = Account.objects.get(pk=pk)
    account.blocked = account.blocked + [name]
    account.save()


def reset_and_add(pk: int, extra: int, reset: bool = True) -> None:
    """CDJ301: the field may have been assigned just before; F() would drop that value."""
    product = Product.objects.get(pk=pk)
    if reset:
        product.sold = 0
    product.sold += extra
    product.save()


def touch(ledger: Ledger) -> None:
    """CDJ301: the row may be new."""
    if ledger._state.adding:
        ledger.balance = 0
    ledger.version += 1
    ledger.save()


def charge(pk: int, amount: int) -> None:
    """CDJ301: Ledger.save() compares the balance (the project index says so)."""
    ledger = Ledger.objects.get(pk=pk)
    ledger.balance -= amount
    ledger.save()


def pay(pk: int, fail: bool) -> None:
    """CDJ503: the refund of a failed payment must go out even though the transaction rolls back."""
    order = Order.objects.get(pk=pk)
    order.save()
    try:
        if fail:
            raise RuntimeError("card declined")
    except RuntimeError:
        refund.delay(order.pk)
        raise


def archive(pk: int) -> None:
    """CDJ501 in a finally block: the receipt goes out whether or not the archive commits."""
    with transaction.atomic():
        order = Order.objects.get(pk=pk)
        try:
            order.delete()
        finally:
            send_receipt.delay(pk)


@receiver(pre_delete, sender=Attachment)
def attachment_deleting(sender: type[Attachment], instance: Attachment, **kwargs: Any) -> None:
    """CDJ502 with the row's key: after the commit the task would find nothing to purge."""
    purge.delay(instance.pk)


async def notify(pk: int) -> None:
    """CDJ503 in async def: transaction.on_commit would raise SynchronousOnlyOperation."""
    order = await Order.objects.aget(pk=pk)
    await order.asave()
    notify_customer.delay(order.pk)


def import_and_report(rows: list[tuple[str, int]]) -> str:
    """CDJ401: the loop variable is read after the loop."""
    for sku, quantity in rows:
        Line.objects.create(sku=sku, quantity=quantity)
    return sku


def seed() -> type[Any]:
    """CDJ401 in a class body: a comprehension there cannot see ``size``."""

    class Seeder:
        size = 2
        for product in Product.objects.all():
            Line.objects.create(sku=product.name, quantity=size)

    return Seeder


def import_kept(rows: list[tuple[str, int]]) -> list[Line]:
    """CDJ401: the created objects are used."""
    made = []
    for sku, quantity in rows:
        made.append(Line.objects.create(sku=sku, quantity=quantity))
    return made


def count_all(labels: list[str]) -> None:
    """CDJ401: Counter overrides save() (the project index says so)."""
    for label in labels:
        Counter.objects.create(label=label)


def log_entries(texts: list[str]) -> None:
    """CDJ401: Entry has a post_save receiver (the project index says so)."""
    for text in texts:
        Entry.objects.create(text=text)
