"""Models of the real-stack app."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import post_save
from django.dispatch import receiver


class Order(models.Model):
    sku = models.CharField(max_length=40)
    total = models.IntegerField(default=0)

    class Meta:
        app_label = "real_stack"


class Product(models.Model):
    name = models.CharField(max_length=40)
    stock = models.IntegerField(default=0)
    sold = models.IntegerField(default=0)

    class Meta:
        app_label = "real_stack"


class Line(models.Model):
    sku = models.CharField(max_length=40)
    quantity = models.IntegerField()

    class Meta:
        app_label = "real_stack"


class Account(models.Model):
    blocked = models.JSONField(default=list)

    class Meta:
        app_label = "real_stack"


class Counter(models.Model):
    """Counts its own saves, and upper-cases its label: ``bulk_create`` would skip both."""

    label = models.CharField(max_length=40, default="")
    hits = models.IntegerField(default=0)

    class Meta:
        app_label = "real_stack"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.label = self.label.upper()
        self.hits += 1
        super().save(*args, **kwargs)


class Ledger(models.Model):
    """Its save() compares the balance: an F() expression there raises TypeError."""

    balance = models.IntegerField(default=0)
    version = models.IntegerField(default=0)

    class Meta:
        app_label = "real_stack"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.balance < 0:
            raise ValueError("overdrawn")
        if not self.pk:
            self.version += 1
        super().save(*args, **kwargs)


class Entry(models.Model):
    text = models.CharField(max_length=40)

    class Meta:
        app_label = "real_stack"


class Invoice(models.Model):
    """Kept in the second database, ``billing``."""

    sku = models.CharField(max_length=40)

    class Meta:
        app_label = "real_stack"


class Attachment(models.Model):
    """A stored file; its receivers live in the services module (``fix`` rewrites them)."""

    path = models.CharField(max_length=80)

    class Meta:
        app_label = "real_stack"


# Entries whose post_save receiver ran: ``bulk_create`` sends no post_save.
SAVED_ENTRIES: list[str] = []


@receiver(post_save, sender=Entry)
def remember_entry(sender: type[Entry], instance: Entry, **kwargs: Any) -> None:
    SAVED_ENTRIES.append(instance.text)
