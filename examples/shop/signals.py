"""CDJ502, CDJ506: model-signal receivers run inside a transaction: Django's own for a delete or a
many-to-many change, and the saving code's for a save made inside one."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Order
from .tasks import notify_cancellation, send_receipt, ship_by_id


# The task gets what it needs from the row, not its key: once the delete commits, the row is gone.
@receiver(post_delete, sender=Order)
def order_deleted(sender, instance, **kwargs):
    notify_cancellation.delay(instance.customer.user.email, str(instance.total))  # CDJ502


@receiver(post_delete, sender=Order)
def order_deleted_on_commit(sender, instance, **kwargs):
    transaction.on_commit(partial(notify_cancellation.delay, instance.customer.user.email, str(instance.total)))


@receiver(post_save, sender=Order)
def order_created(sender, instance, created, **kwargs):
    if created:
        send_receipt.delay(instance.pk)  # CDJ506


@receiver(post_save, sender=Order)
def order_created_on_commit(sender, instance, created, **kwargs):
    if created:
        transaction.on_commit(partial(send_receipt.delay, instance.pk))


def order_paid(sender, instance, **kwargs):
    if instance.paid:
        ship_by_id.delay(instance.pk)  # CDJ506


def order_paid_on_commit(sender, instance, **kwargs):
    if instance.paid:
        ship_by_id.delay_on_commit(instance.pk)


post_save.connect(order_paid, sender=Order)
post_save.connect(order_paid_on_commit, sender=Order)
