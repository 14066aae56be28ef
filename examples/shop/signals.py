"""CDJ502: model-signal receivers run inside the transaction of the code that saved the row."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Order
from .tasks import send_receipt, ship_by_id


@receiver(post_save, sender=Order)
def order_created(sender, instance, created, **kwargs):
    if created:
        send_receipt.delay(instance.pk)  # CDJ502


@receiver(post_save, sender=Order)
def order_created_on_commit(sender, instance, created, **kwargs):
    if created:
        transaction.on_commit(partial(send_receipt.delay, instance.pk))


def order_paid(sender, instance, **kwargs):
    if instance.paid:
        ship_by_id.delay(instance.pk)  # CDJ502


def order_paid_on_commit(sender, instance, **kwargs):
    if instance.paid:
        ship_by_id.delay_on_commit(instance.pk)


post_save.connect(order_paid, sender=Order)
post_save.connect(order_paid_on_commit, sender=Order)
