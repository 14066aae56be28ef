"""Celery tasks of the real-stack app, run eagerly: each run records what the database held then."""

from __future__ import annotations

from celery import Celery

from tests.real_stack.models import Attachment, Invoice, Order

app = Celery("real_stack", broker="memory://", backend="cache+memory://")
app.conf.task_always_eager = True
app.conf.task_store_eager_result = False

# (order id, whether the order existed in the database when the task ran)
RUNS: list[tuple[int, bool]] = []
# (invoice id, whether the invoice existed in the billing database when the task ran)
INVOICES: list[tuple[int, bool]] = []
# Refunds sent (order ids).
REFUNDS: list[int] = []
# Customers notified (order ids).
NOTIFIED: list[int] = []
# Stored files removed (paths).
REMOVED: list[str] = []
# Attachments purged: (attachment id, whether its row was still there when the task ran).
PURGED: list[tuple[int, bool]] = []


@app.task
def send_receipt(order_id: int) -> None:
    RUNS.append((order_id, Order.objects.filter(pk=order_id).exists()))


@app.task
def send_invoice(invoice_id: int) -> None:
    INVOICES.append((invoice_id, Invoice.objects.using("billing").filter(pk=invoice_id).exists()))


@app.task
def refund(order_id: int) -> None:
    REFUNDS.append(order_id)


@app.task
def notify_customer(order_id: int) -> None:
    NOTIFIED.append(order_id)


@app.task
def remove_file(path: str) -> None:
    REMOVED.append(path)


@app.task
def purge(attachment_id: int) -> None:
    PURGED.append((attachment_id, Attachment.objects.filter(pk=attachment_id).exists()))
