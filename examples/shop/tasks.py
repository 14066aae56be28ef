"""The shop's Celery tasks: they receive primary keys and fetch the rows themselves."""

from celery import shared_task
from django.core.mail import send_mail

from .models import Order


@shared_task
def send_receipt(order_id):
    order = Order.objects.select_related("customer__user").get(pk=order_id)
    send_mail("Your receipt", f"Total: {order.total}", None, [order.customer.user.email])


@shared_task
def notify_cancellation(email, total):
    send_mail("Your order is cancelled", f"Refunded: {total}", None, [email])


@shared_task
def export_orders(order_ids, formats):
    return {"orders": len(order_ids), "formats": formats}


# CDJ102: the annotation asks callers for an instance; the twin below takes the key.
@shared_task
def ship(order: Order):  # CDJ102
    return f"shipping {order.pk}"


@shared_task
def ship_by_id(order_id: int):
    order = Order.objects.get(pk=order_id)
    return f"shipping {order.pk}"
