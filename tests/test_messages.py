"""The exact message of every rule, one snippet per situation its message tells apart."""

from __future__ import annotations

import textwrap

import pytest

from flake8_celery_django.api import check_source
from tests.cases import all_codes_settings

# (snippet, options, code, line, column, message); lines and columns as in ``tests/cases.py``.
MESSAGES: list[tuple[str, dict[str, object], str, int, int, str]] = [
    (
        """
        from shop.models import Order
        from shop.tasks import notify
        order = Order.objects.get(pk=1)
        notify.delay(order)
        """,
        {}, "CDJ101", 5, 13, "notify.delay() gets Order instance order, not JSON-serializable; pass its pk",
    ),
    (
        """
        from celery import shared_task
        from shop.models import Customer
        @shared_task
        def charge(customer: Customer):
            pass
        """,
        {}, "CDJ102", 5, 11, "task charge() takes model Customer as customer; take customer_id",
    ),
    (
        """
        from shop.models import Order
        from shop.tasks import export
        export.delay(Order.objects.all())
        """,
        {}, "CDJ103", 4, 13,
        "export.delay() gets queryset Order.objects.all(), not JSON-serializable; pass a list of pks",
    ),
    (
        """
        from shop.tasks import export
        export.delay({1, 2})
        """,
        {}, "CDJ103", 3, 13, "export.delay() gets set {1, 2}, not JSON-serializable; pass a list",
    ),
    (
        """
        from shop.tasks import export
        export.delay(x for x in range(3))
        """,
        {}, "CDJ103", 3, 12, "export.delay() gets generator (x for x in range(3)), not JSON-serializable; pass a list",
    ),
    (
        """
        import requests
        requests.get(url)
        """,
        {}, "CDJ201", 3, 0, "requests.get() has no timeout and can hang forever; pass timeout=<seconds>",
    ),
    (
        """
        import requests
        requests.get(url, timeout=None)
        """,
        {}, "CDJ202", 3, 0, "requests.get() has timeout=None and can hang forever; pass timeout=<seconds>",
    ),
    (
        """
        def like(post):
            post.likes += 1
            post.save()
        """,
        {}, "CDJ301", 3, 4, "post.likes is read, changed and saved; use F() or select_for_update()",
    ),
    (
        """
        from shop.models import Order
        def lock(pk):
            return Order.objects.select_for_update().get(pk=pk)
        """,
        {}, "CDJ302", 4, 11,
        "select_for_update() is evaluated outside transaction.atomic; wrap it in an atomic block",
    ),
    (
        """
        from shop.models import OrderLine
        def add(order, items):
            for item in items:
                OrderLine.objects.create(order=order, item=item)
        """,
        {}, "CDJ401", 5, 8, "OrderLine.objects.create() inserts one row per loop iteration; use bulk_create()",
    ),
    (
        """
        from shop.models import Order
        def pay(orders):
            for order in Order.objects.filter(paid=False):
                order.paid = True
                order.save()
        """,
        {}, "CDJ402", 6, 8, "order.save() updates once per loop iteration; use bulk_update()",
    ),
    (
        """
        from shop.models import Order
        def purge(customers):
            for customer in customers:
                Order.objects.filter(customer=customer).delete()
        """,
        {}, "CDJ403", 5, 8,
        "Order.objects.filter().delete() runs one DELETE per loop iteration; delete once with pk__in",
    ),
    (
        """
        from shop.models import Order
        def load(pks):
            for pk in pks:
                Order.objects.get(pk=pk)
        """,
        {}, "CDJ404", 5, 8, "Order.objects.get() runs one query per loop iteration; fetch before the loop",
    ),
    (
        """
        from shop.models import Order
        def load(pks):
            for pk in pks:
                Order.objects.get(pk=pk)
                Order.objects.filter(parent_id=pk).exists()
                Order.objects.filter(customer_id=pk).count()
        """,
        {}, "CDJ404", 5, 8,
        "Order.objects.get() runs one query per loop iteration (3 in this loop); fetch before the loop",
    ),
    (
        """
        from shop.models import Order
        def count():
            for order in Order.objects.all():
                order.lines.count()
        """,
        {}, "CDJ405", 5, 8, 'order.lines.count() queries once per Order row (N+1); add prefetch_related("lines")',
    ),
    (
        """
        from django.db import models
        class Tag(models.Model):
            name = models.CharField(max_length=20)
        def tag(name):
            return Tag.objects.get_or_create(name=name)
        """,
        {}, "CDJ303", 6, 11, "get_or_create(name) races: add a unique constraint on these fields to Tag",
    ),
    (
        """
        from django.db import models
        class Order(models.Model):
            customer = models.ForeignKey("Customer", on_delete=models.CASCADE)
        def names():
            return [order.customer.name for order in Order.objects.all()]
        """,
        {}, "CDJ406", 6, 12, 'order.customer is a query per row; add select_related("customer") to the queryset',
    ),
    (
        """
        from django.db import models
        class Order(models.Model):
            customer = models.ForeignKey("Customer", on_delete=models.CASCADE)
        def keys():
            return [order.customer.pk for order in Order.objects.all()]
        """,
        {}, "CDJ406", 6, 12, "order.customer is a query per row; read order.customer_id instead",
    ),
    (
        """
        from django.db import models
        class Order(models.Model):
            tags = models.ManyToManyField("Tag")
        Order.objects.select_related("tags")
        """,
        {}, "CDJ407", 5, 29, 'Order.tags is to-many: select_related("tags") raises FieldError; prefetch it',
    ),
    (
        """
        from django.db import models
        class Order(models.Model):
            number = models.IntegerField()
        Order.objects.select_related("number")
        """,
        {}, "CDJ407", 5, 29, 'Order.number is not a relation: select_related("number") raises FieldError; remove it',
    ),
    (
        """
        from django.db import models
        from rest_framework import serializers, viewsets
        class Customer(models.Model):
            name = models.CharField(max_length=20)
        class Order(models.Model):
            customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
        class CustomerSerializer(serializers.ModelSerializer):
            class Meta:
                model = Customer
                fields = ["name"]
        class OrderSerializer(serializers.ModelSerializer):
            customer = CustomerSerializer()
            class Meta:
                model = Order
                fields = ["customer"]
        class Orders(viewsets.ReadOnlyModelViewSet):
            queryset = Order.objects.all()
            serializer_class = OrderSerializer
        """,
        {}, "CDJ408", 18, 15, 'Orders serializes customer per row; add select_related("customer")',
    ),
    (
        """
        from django.db import transaction
        from shop.tasks import ship
        def f(pk):
            with transaction.atomic():
                ship.delay(pk)
        """,
        {}, "CDJ501", 6, 8, "ship.delay() inside an atomic block; defer it with on_commit()",
    ),
    (
        """
        from django.db import transaction
        from shop.tasks import ship
        @transaction.atomic
        def f(pk):
            ship.delay(pk)
        """,
        {}, "CDJ501", 6, 4, "ship.delay() inside an @atomic function; defer it with on_commit()",
    ),
    (
        """
        from django.contrib import admin
        from shop.tasks import ship
        class OrderAdmin(admin.ModelAdmin):
            def delete_model(self, request, obj):
                ship.apply_async(args=(obj.pk,))
        """,
        {}, "CDJ501", 6, 8, "ship.apply_async() inside an atomic ModelAdmin method; defer it with on_commit()",
    ),
    (
        """
        from shop.tasks import ship
        def ship_order(request, pk):
            ship.delay(pk)
        """,
        {"atomic_requests": True}, "CDJ501", 4, 4,
        "ship.delay() inside a view function under ATOMIC_REQUESTS; defer it with on_commit()",
    ),
    (
        """
        from django.db.models.signals import post_save
        from django.dispatch import receiver
        from shop.models import Order
        from shop.tasks import ship
        @receiver(post_save, sender=Order)
        def shipped(sender, instance, **kwargs):
            ship.delay(instance.pk)
        """,
        {}, "CDJ506", 8, 4, "ship.delay() inside a post_save receiver; defer it with on_commit()",
    ),
    (
        """
        from django.db.models.signals import post_delete
        from django.dispatch import receiver
        from shop.models import Order
        from shop.tasks import forget
        @receiver(post_delete, sender=Order)
        def forgotten(sender, instance, **kwargs):
            forget.delay(instance.pk)
        """,
        {}, "CDJ502", 8, 4, "forget.delay() inside a post_delete receiver; defer it with on_commit()",
    ),
    (
        """
        from shop.models import Order
        from shop.tasks import ship
        def f(pk):
            Order.objects.filter(pk=pk).update(paid=True)
            ship.delay(pk)
        """,
        {}, "CDJ503", 6, 4,
        "ship.delay() after Order.update() on line 5; defer it with on_commit()",
    ),
    (
        """
        from django.db import transaction
        from shop.tasks import ship
        transaction.on_commit(ship.delay(1))
        """,
        {}, "CDJ504", 4, 22, "on_commit() gets ship.delay() (sends at once); pass partial(ship.delay, ...)",
    ),
    (
        """
        from django.db import transaction
        from shop.tasks import ship
        transaction.on_commit(ship.s(1))
        """,
        {}, "CDJ504", 4, 22,
        "on_commit() gets signature ship.s(...) (runs in-process); pass partial(ship.delay, ...)",
    ),
    (
        """
        from django.db import transaction
        from shop.tasks import ship
        sig = ship.si(1)
        transaction.on_commit(sig)
        """,
        {}, "CDJ504", 5, 22, "on_commit() gets signature sig (runs in-process); pass sig.delay",
    ),
    (
        """
        from celery import signature
        from django.db import transaction
        transaction.on_commit(signature("shop.tasks.ship", args=(1,)))
        """,
        {}, "CDJ504", 4, 22,
        "on_commit() gets signature 'shop.tasks.ship' (runs in-process); pass its .delay",
    ),
    (
        """
        from django.db import transaction
        from shop.tasks import ship
        def f(orders):
            for order in orders:
                transaction.on_commit(lambda: ship.delay(order.pk))
        """,
        {}, "CDJ505", 6, 30, "the on_commit() lambda reads loop variable 'order' late; bind order=order",
    ),
    (
        """
        from celery import shared_task
        @shared_task(autoretry_for=(IOError,))
        def pull():
            pass
        """,
        {}, "CDJ601", 3, 13,
        "task pull() sets autoretry_for without retry_backoff; add retry_backoff=True",
    ),
    (
        """
        from celery import shared_task
        @shared_task
        def pull():
            return pull.delay().get()
        """,
        {}, "CDJ602", 5, 11, "task pull() waits on the result.get(), which can deadlock; chain the follow-up work",
    ),
    (
        """
        x = 1  # noqa: CDJ201
        """,
        {}, "CDJ900", 2, 7, "# noqa names CDJ201 but nothing on this line reports it; remove it",
    ),
    (
        """
        x = 1  # noqa: E501,CDJ2,CDJ401
        """,
        {}, "CDJ900", 2, 7, "# noqa names CDJ2, CDJ401 but nothing on this line reports them; remove them",
    ),
]


@pytest.mark.parametrize(
    ("source", "options", "code", "line", "col", "message"),
    MESSAGES,
    ids=[f"{entry[2]}-{index}" for index, entry in enumerate(MESSAGES)],
)
def test_exact_message(
    source: str, options: dict[str, object], code: str, line: int, col: int, message: str
) -> None:
    findings = check_source(textwrap.dedent(source), "example.py", all_codes_settings(**options), strict=True)
    assert [(f.line, f.col, f.message) for f in findings if f.code == code] == [(line, col, f"{code} {message}")]
