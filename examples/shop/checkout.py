"""CDJ501, CDJ503, CDJ504, CDJ505: tasks sent while the order's transaction may still be open."""

from functools import partial

from django.db import transaction

from .models import Order
from .tasks import send_receipt, ship_by_id


def pay(order_id):
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        order.paid = True
        order.save(update_fields=["paid"])
        send_receipt.delay(order.pk)  # CDJ501


def pay_then_send(order_id):
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        order.paid = True
        order.save(update_fields=["paid"])
        transaction.on_commit(partial(send_receipt.delay, order.pk))


@transaction.atomic
def schedule_shipping(order_id):
    ship_by_id.apply_async(args=(order_id,), countdown=60)  # CDJ501


@transaction.atomic
def schedule_shipping_on_commit(order_id):
    ship_by_id.apply_async_on_commit(args=(order_id,), countdown=60)


def place(customer):
    order = Order.objects.create(customer=customer)
    send_receipt.delay(order.pk)  # CDJ503


def place_on_commit(customer):
    order = Order.objects.create(customer=customer)
    send_receipt.delay_on_commit(order.pk)


def place_then_send(customer):
    with transaction.atomic():
        order = Order.objects.create(customer=customer)
    # The atomic block has closed: the order is committed before the task is sent.
    send_receipt.delay(order.pk)


def cancel(order_id):
    with transaction.atomic():
        Order.objects.filter(pk=order_id).update(paid=False)
        transaction.on_commit(send_receipt.delay(order_id))  # CDJ504


def cancel_on_commit(order_id):
    with transaction.atomic():
        Order.objects.filter(pk=order_id).update(paid=False)
        transaction.on_commit(partial(send_receipt.delay, order_id))


def ship_paid_orders(customer):
    with transaction.atomic():
        for order in customer.orders.filter(paid=True):
            transaction.on_commit(lambda: ship_by_id.delay(order.pk))  # CDJ505


def ship_paid_orders_bound(customer):
    with transaction.atomic():
        for order in customer.orders.filter(paid=True):
            transaction.on_commit(lambda order_id=order.pk: ship_by_id.delay(order_id))
