from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flake8_celery_django.api import check_source
from flake8_celery_django.project.facts import CallSiteFact, ModuleFacts
from flake8_celery_django.project.knowledge import ProjectKnowledge
from flake8_celery_django.settings import Settings
from tests.cases import Case, all_codes_settings, assert_case, invalid, valid
from tests.project_cases import project_findings

CASES: list[Case] = [
    # -- CDJ501: sent inside transaction.atomic ------------------------------------------------------
    invalid(
        "CDJ501",
        """
        from django.db import transaction
        from shop.tasks import send_receipt
        def checkout(order):
            with transaction.atomic():
                order.save()
                send_receipt.delay(order.pk)
                send_receipt.apply_async(args=(order.pk,), countdown=5)
        """,
        (7, 8), (8, 8),
    ),
    invalid(
        "CDJ501",
        """
        from django.db import transaction
        from django.db.transaction import atomic
        from django.db import transaction as tx
        from shop import tasks
        from shop.celery import app

        @transaction.atomic
        def a(pk):
            tasks.ship.delay(pk)

        @transaction.atomic(using="orders")
        def b(pk):
            app.send_task("shop.tasks.ship", args=(pk,))

        @atomic
        def c(pk):
            tasks.ship.s(pk).apply_async()

        def d(pk):
            with tx.atomic(using="orders", savepoint=False), open("x") as f:
                tasks.ship.delay(pk)
        """,
        (10, 4), (14, 4), (18, 4), (22, 8),
    ),
    invalid(
        "CDJ501",
        """
        from celery import chain, group
        from django.db import transaction
        from shop.tasks import ship, notify
        def f(orders):
            with transaction.atomic():
                group(ship.s(o.pk) for o in orders)()
                workflow = chain(ship.s(1), notify.si(1))
                workflow()
                workflow.apply_async()
        """,
        (7, 8), (9, 8), (10, 8),
    ),
    invalid(
        "CDJ501",
        """
        from django.db import transaction
        from django.utils.decorators import method_decorator
        from django.views import View
        from shop.tasks import ship
        class ShipView(View):
            @method_decorator(transaction.atomic)
            def post(self, request, pk):
                ship.delay(pk)
        """,
        (9, 8),
    ),
    valid(
        "CDJ501",
        """
        from functools import partial
        from django.db import transaction
        from shop.tasks import ship

        def f(order):
            with transaction.atomic():
                order.save()
                transaction.on_commit(lambda: ship.delay(order.pk))
                transaction.on_commit(partial(ship.delay, order.pk))
                transaction.on_commit(partial(ship.apply_async, args=(order.pk,)))
                ship.delay_on_commit(order.pk)
                ship.apply_async_on_commit(args=(order.pk,))
                def later():
                    ship.delay(order.pk)
                transaction.on_commit(later)
                signature = ship.s(order.pk)
            ship.delay(order.pk)

        @transaction.atomic
        def g(order):
            transaction.on_commit(lambda: ship.delay(order.pk))
        """,
    ),
    valid(
        "CDJ501",
        """
        from contextlib import atomic
        from shop.tasks import ship
        def f(order, lock):
            with lock, atomic():
                ship.delay(order.pk)
        def test_checkout(order):
            from django.db import transaction
            with transaction.atomic():
                ship.delay(order.pk)
        """,
    ),
    valid(
        "CDJ501",
        """
        from django.db import transaction
        from shop.tasks import ship
        @transaction.atomic
        def f(pk):
            ship.s(pk)
            ship.si(pk).set(countdown=1)
        """,
    ),
    valid(
        "CDJ501",
        """
        from django.db import transaction
        from shop.tasks import ship
        def f(pk):
            with transaction.atomic():
                ship.s(pk)()
        """,
    ),
    invalid(
        "CDJ501",
        """
        from django.contrib import admin
        from shop.tasks import ship

        class OrderAdmin(admin.ModelAdmin):
            def save_model(self, request, obj, form, change):
                super().save_model(request, obj, form, change)
                ship.delay(obj.pk)

            def delete_model(self, request, obj):
                ship.apply_async(args=(obj.pk,))
        """,
        (8, 8), (11, 8),
    ),
    valid(
        "CDJ501",
        """
        from django.contrib import admin
        from django.db import transaction
        from shop.tasks import ship

        class OrderAdmin(admin.ModelAdmin):
            actions = ["ship_selected"]

            def save_model(self, request, obj, form, change):
                super().save_model(request, obj, form, change)
                transaction.on_commit(lambda: ship.delay(obj.pk))

            @admin.action(description="Ship")
            def ship_selected(self, request, queryset):
                for pk in queryset.values_list("pk", flat=True):
                    ship.delay(pk)

        class Exporter:
            def save_model(self, request, obj, form, change):
                ship.delay(obj.pk)
        """,
    ),
    # -- CDJ501 under --cdj-atomic-requests ----------------------------------------------------------
    invalid(
        "CDJ501",
        """
        from django.views.generic import FormView
        from rest_framework import viewsets
        from shop.tasks import ship

        def ship_order(request, pk):
            ship.delay(pk)
            return None

        class ShipView(FormView):
            def form_valid(self, form):
                ship.delay(form.cleaned_data["pk"])

        class BaseShipView(ShipView):
            def post(self, request):
                ship.apply_async(args=(1,))

        class OrderViewSet(viewsets.ModelViewSet):
            def perform_create(self, serializer):
                ship.delay(serializer.instance.pk)
        """,
        (7, 4), (12, 8), (16, 8), (20, 8),
        atomic_requests=True,
    ),
    valid(
        "CDJ501",
        """
        from django.db import transaction
        from django.views import View
        from shop.tasks import ship

        def ship_order(request, pk):
            ship.delay(pk)

        class ShipView(View):
            def post(self, request, pk):
                ship.delay(pk)
        """,
    ),
    valid(
        "CDJ501",
        """
        from django.db import transaction
        from django.views import View
        from shop.tasks import ship

        @transaction.non_atomic_requests
        def a(request, pk):
            ship.delay(pk)

        @transaction.non_atomic_requests(using="orders")
        def b(request, pk):
            ship.delay(pk)

        async def c(request, pk):
            ship.delay(pk)

        def d(order, request):
            ship.delay(order.pk)

        class Middleware:
            def __call__(self, request):
                ship.delay(1)

        class ShipView(View):
            @classmethod
            def as_view(cls, **initkwargs):
                ship.delay(1)
            def post(self, request, pk):
                transaction.on_commit(lambda: ship.delay(pk))
                def nested(request):
                    ship.delay(pk)

        def outer():
            def inner(request):
                ship.delay(1)
        """,
        atomic_requests=True,
    ),
    # -- --cdj-on-commit-tasks: tasks whose class defers to on_commit (defined in another file) ------
    valid(
        "CDJ501",
        """
        from django.db import transaction
        from pretix.base.services.mail import mail_send_task
        from pretix.base.services import invoices

        @transaction.atomic
        def resend(pk):
            mail_send_task.apply_async(kwargs={"pk": pk})
            invoices.transmit_invoice.apply_async(args=(pk,))
        """,
        on_commit_tasks=frozenset({"mail_send_task", "pretix.base.services.invoices.transmit_invoice"}),
    ),
    invalid(
        "CDJ501",
        """
        from django.db import transaction
        from pretix.base.services.mail import mail_send_task
        from pretix.base.services import invoices

        @transaction.atomic
        def resend(pk):
            mail_send_task.apply_async(kwargs={"pk": pk})
            invoices.transmit_invoice.apply_async(args=(pk,))
        """,
        (9, 4),
        on_commit_tasks=frozenset({"mail_send_task", "transmit"}),
    ),
    # -- CDJ502: sent from a receiver Django runs in a transaction (delete, m2m_changed) ------------
    invalid(
        "CDJ502",
        """
        from django.db.models.signals import post_save, pre_delete, m2m_changed
        from django.db.models import signals
        from django.dispatch import receiver
        from shop.models import Order
        from shop.tasks import ship, forget

        @receiver(post_save, sender=Order)
        def order_saved(sender, instance, created, **kwargs):
            if created:
                ship.delay(instance.pk)

        @receiver([pre_delete, m2m_changed], sender=Order)
        def order_deleted(sender, instance, **kwargs):
            forget.apply_async(args=(instance.pk,))

        @receiver(signal=signals.post_delete)
        def any_deleted(sender, instance, **kwargs):
            forget.delay(instance.pk)
        """,
        (15, 4), (19, 4),
    ),
    invalid(
        "CDJ502",
        """
        from django.apps import AppConfig
        from django.db.models.signals import post_delete, pre_delete, m2m_changed
        from shop.tasks import forget

        def order_deleted(sender, instance, **kwargs):
            forget.delay(instance.pk)

        post_delete.connect(order_deleted, sender="shop.Order")

        class ShopConfig(AppConfig):
            def ready(self):
                pre_delete.connect(receiver=ShopConfig.before_delete)
                m2m_changed.connect(self.tags_changed, dispatch_uid="x")

            @staticmethod
            def before_delete(sender, instance, **kwargs):
                forget.delay(instance.pk)

            @classmethod
            def tags_changed(cls, sender, instance, **kwargs):
                forget.delay(instance.pk)
        """,
        (7, 4), (18, 8), (22, 8),
    ),
    # -- CDJ506: sent from a save receiver (in a transaction when the save is) ---------------------
    invalid(
        "CDJ506",
        """
        from django.db.models.signals import post_save, pre_save, pre_delete
        from django.db.models import signals
        from django.dispatch import receiver
        from shop.models import Order
        from shop.tasks import ship, forget

        @receiver(post_save, sender=Order)
        def order_saved(sender, instance, created, **kwargs):
            if created:
                ship.delay(instance.pk)

        @receiver([pre_save, pre_delete], sender=Order)
        def order_changing(sender, instance, **kwargs):
            forget.apply_async(args=(instance.pk,))

        @receiver(signal=signals.post_save)
        def any_saved(sender, instance, **kwargs):
            forget.delay(instance.pk)
        """,
        (11, 8), (15, 4), (19, 4),
    ),
    invalid(
        "CDJ506",
        """
        from django.db.models.signals import post_save
        from shop.tasks import ship

        def order_saved(sender, instance, **kwargs):
            ship.delay(instance.pk)

        post_save.connect(order_saved, sender="shop.Order")
        """,
        (6, 4),
    ),
    valid(
        "CDJ502",
        """
        from django.core.signals import request_finished
        from django.db import transaction
        from django.db.models.signals import post_save, post_migrate
        from django.dispatch import receiver, Signal
        from shop.tasks import ship

        order_paid = Signal()

        @receiver(order_paid)
        def paid(sender, order, **kwargs):
            ship.delay(order.pk)

        @receiver(request_finished)
        def finished(sender, **kwargs):
            ship.delay(1)

        @receiver(post_migrate)
        def migrated(sender, **kwargs):
            ship.delay(1)

        @receiver(post_save)
        def saved(sender, instance, **kwargs):
            transaction.on_commit(lambda: ship.delay(instance.pk))
            ship.delay_on_commit(instance.pk)

        def not_connected(sender, instance, **kwargs):
            ship.delay(instance.pk)

        order_paid.connect(not_connected)
        """,
    ),
    # A save receiver that defers, or that sends from a delete receiver's place: not CDJ506.
    valid(
        "CDJ506",
        """
        from functools import partial
        from django.db import transaction
        from django.db.models.signals import post_delete, post_save, pre_save
        from django.dispatch import receiver
        from shop.tasks import forget, ship

        @receiver(post_save)
        def saved(sender, instance, created, **kwargs):
            if created:
                transaction.on_commit(partial(ship.delay, instance.pk))

        @receiver(pre_save)
        def saving(sender, instance, **kwargs):
            ship.apply_async_on_commit(args=(instance.pk,))

        @receiver(post_delete)
        def deleted(sender, instance, **kwargs):
            forget.delay(instance.pk)
        """,
    ),
    # -- CDJ503: sent after an ORM write -------------------------------------------------------------
    valid(
        "CDJ503",
        """
        from django_celery_beat.schedulers import DatabaseScheduler
        from shop.models import JobResult

        class Scheduler(DatabaseScheduler):
            def apply_async(self, entry, producer=None, **kwargs):
                result = JobResult.objects.create(name=entry.name)
                return self.send_task(entry.task, task_id=str(result.pk))
        """,
    ),
    invalid(
        "CDJ503",
        """
        from shop.models import JobResult

        class Scheduler:
            def apply_async(self, entry, producer=None, **kwargs):
                result = JobResult.objects.create(name=entry.name)
                return self.app.send_task(entry.task, task_id=str(result.pk))
        """,
        (7, 15),
    ),
    invalid(
        "CDJ503",
        """
        from shop.models import Order
        from shop.tasks import ship

        def branches(order, paid, refund):
            if paid:
                order.save()
            else:
                ship.delay(order.pk)
            if refund:
                pass
            else:
                order.delete()
            ship.delay(order.pk)

        def before_the_if(order, paid):
            order.save()
            if paid:
                pass
            else:
                ship.delay(order.pk)
        """,
        (14, 4), (21, 8),
    ),
    valid(
        "CDJ503",
        """
        from shop.models import Order
        from shop.tasks import ship

        def either(order, paid):
            if paid:
                order.paid = True
                order.save()
            elif order.total:
                Order.objects.filter(pk=order.pk).update(total=0)
            else:
                ship.delay(order.pk)
        """,
    ),
    invalid(
        "CDJ503",
        """
        from shop.models import Order, OrderLine
        from shop.tasks import ship

        def a(order):
            order.paid = True
            order.save(update_fields=["paid"])
            ship.delay(order.pk)

        def b(customer):
            order = Order.objects.create(customer=customer)
            ship.delay(order.pk)

        def c(pks):
            Order.objects.filter(pk__in=pks).update(paid=True)
            ship.apply_async(args=(pks,))

        def d(order):
            order.lines.all().delete()
            OrderLine.objects.bulk_create([])
            ship.delay(order.pk)

        def e(customer):
            order, created = Order.objects.get_or_create(customer=customer)
            ship.delay(order.pk)

        class Order2(Order):
            def save(self, *args, **kwargs):
                super().save(*args, **kwargs)
                ship.delay(self.pk)

        def f(form):
            order = form.save()
            ship.delay(order.pk)
        """,
        (8, 4), (12, 4), (16, 4), (21, 4), (25, 4), (30, 8), (34, 4),
    ),
    valid(
        "CDJ503",
        """
        from django.core.cache import cache
        from django.db import transaction
        from shop.models import Order
        from shop.tasks import ship
        import requests

        def no_write(order):
            ship.delay(order.pk)

        def committed(order):
            with transaction.atomic():
                order.save()
            ship.delay(order.pk)

        def deferred(order):
            order.save()
            transaction.on_commit(lambda: ship.delay(order.pk))
            ship.delay_on_commit(order.pk)

        def not_orm(image, data, storage, url, order):
            image.save("thumb.png", format="PNG")
            storage.save("name.txt", data)
            data.update(paid=True)
            cache.delete("order")
            requests.delete(url, timeout=5)
            ship.delay(order.pk)

        def before(order):
            ship.delay(order.pk)
            order.save()

        def nested(order):
            def write():
                order.save()
            ship.delay(order.pk)

        def test_ship(order):
            order.save()
            ship.delay(order.pk)

        class TestShipping:
            def helper(self, order):
                order.save()
                ship.delay(order.pk)
        """,
    ),
    valid(
        "CDJ503",
        """
        from celery import shared_task
        from shop.models import Order

        @shared_task
        def close(pk):
            Order.objects.filter(pk=pk).update(paid=True)
            notify.delay(pk)

        @shared_task
        def notify(pk):
            pass
        """,
    ),
    valid(
        "CDJ503",
        """
        from pretix.celery_app import app
        from pretix.base.services.tasks import TransactionAwareTask
        from shop.models import Order

        def f(order):
            order.save()
            transmit.apply_async(args=(order.pk,))

        @app.task(base=TransactionAwareTask)
        def transmit(pk):
            pass
        """,
    ),
    valid(
        "CDJ503",
        """
        from django.views.generic import CreateView
        from shop.models import Order
        from shop.tasks import ship

        def place(request):
            order = Order.objects.create(customer=request.user.customer)
            ship.delay(order.pk)

        class PlaceView(CreateView):
            def form_valid(self, form):
                order = form.save()
                ship.delay(order.pk)
        """,
    ),
    invalid(
        "CDJ503",
        """
        from shop.models import Order
        from shop.tasks import ship

        def place(customer, request):
            order = Order.objects.create(customer=customer)
            ship.delay(order.pk)

        class Checkout:
            def place(self, request):
                order = Order.objects.create()
                ship.delay(order.pk)
        """,
        (7, 4), (12, 8),
    ),
    # -- CDJ504: on_commit handed a call's result ------------------------------------------------------
    invalid(
        "CDJ504",
        """
        from celery import group, signature
        from django.db import transaction
        from django.db.transaction import on_commit
        from shop.tasks import ship

        def f(order):
            transaction.on_commit(ship.delay(order.pk))
            on_commit(ship.apply_async(args=(order.pk,)), using="orders")
            transaction.on_commit(ship.s(order.pk))
            transaction.on_commit(func=ship.si(order.pk))
            on_commit(signature("shop.tasks.ship", args=(order.pk,)))
            sig = ship.s(order.pk)
            on_commit(sig)
            on_commit(group(ship.s(1), ship.s(2))())
        """,
        (8, 26), (9, 14), (10, 26), (11, 31), (12, 14), (14, 14), (15, 14),
    ),
    valid(
        "CDJ504",
        """
        from functools import partial
        from celery import chain, group
        from django.db import connection, transaction
        from shop.tasks import ship

        def f(order, make_callback):
            transaction.on_commit(partial(ship.delay, order.pk))
            transaction.on_commit(ship.s(order.pk).delay)
            transaction.on_commit(make_callback(order.pk))
            transaction.on_commit(group(ship.s(1), ship.s(2)))
            transaction.on_commit(chain(ship.s(1), ship.s(2)))
            workflow = group(ship.s(1), ship.s(2))
            transaction.on_commit(workflow)
            transaction.on_commit(lambda: ship.delay(order.pk))
            connection.on_commit(order.refresh_from_db)
        """,
    ),
    invalid(
        "CDJ504",
        """
        from django.db import connection, transaction
        from shop.tasks import ship

        def f(order):
            with transaction.atomic():
                connection.on_commit(ship.delay(order.pk))
        """,
        (7, 29),
    ),
    # -- CDJ505: late-binding callback in a loop -----------------------------------------------------
    invalid(
        "CDJ505",
        """
        from django.db import transaction
        from shop.models import Order
        from shop.tasks import ship

        def f(orders):
            for order in orders:
                transaction.on_commit(lambda: ship.delay(order.pk))
            for index, order in enumerate(orders):
                pk = order.pk
                transaction.on_commit(lambda: ship.delay(pk, index))
            for order in orders:
                def send():
                    ship.delay(order.pk)
                transaction.on_commit(send)
            [transaction.on_commit(lambda: ship.delay(o.pk)) for o in orders]
            while orders:
                current = orders.pop()
                transaction.on_commit(lambda: ship.delay(current.pk))
        """,
        (8, 30), (11, 30), (15, 30), (16, 27), (19, 30),
    ),
    valid(
        "CDJ505",
        """
        from functools import partial
        from django.db import transaction
        from shop.tasks import ship

        def f(orders, customer):
            for order in orders:
                transaction.on_commit(lambda order=order: ship.delay(order.pk))
                transaction.on_commit(partial(ship.delay, order.pk))
                transaction.on_commit(lambda: ship.delay(customer.pk))
                transaction.on_commit(lambda pk=order.pk: ship.delay(pk))
                def send(order=order):
                    ship.delay(order.pk)
                transaction.on_commit(send)
            for order in orders:
                pass
            transaction.on_commit(lambda: ship.delay(order.pk))
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_on_commit_cases(case: Case) -> None:
    assert_case(case)


def test_one_finding_per_call_whichever_rules_are_enabled() -> None:
    """CDJ501 wins over CDJ502/CDJ506, those over CDJ503 by definition: disabling one never moves its finding."""
    source = (
        "from django.db import transaction\n"
        "from django.db.models.signals import post_save\n"
        "from django.dispatch import receiver\n"
        "from shop.tasks import ship\n"
        "@receiver(post_save)\n"
        "def saved(sender, instance, **kwargs):\n"
        "    instance.related.save()\n"
        "    with transaction.atomic():\n"
        "        ship.delay(instance.pk)\n"
        "    ship.delay(instance.pk)\n"
    )
    every = all_codes_settings()
    found = [(f.line, f.code) for f in check_source(source, "x.py", every, strict=True)]
    assert found == [(9, "CDJ501"), (10, "CDJ506")]
    without_501 = Settings(enabled=frozenset({"CDJ502", "CDJ503", "CDJ506"}))
    found = [(f.line, f.code) for f in check_source(source, "x.py", without_501, strict=True)]
    assert found == [(10, "CDJ506")]
    only_502 = Settings(enabled=frozenset({"CDJ502", "CDJ503"}))
    found = [(f.line, f.code) for f in check_source(source, "x.py", only_502, strict=True)]
    assert found == []
    only_503 = Settings(enabled=frozenset({"CDJ503"}))
    found = [(f.line, f.code) for f in check_source(source, "x.py", only_503, strict=True)]
    assert found == []


def test_messages_name_the_call_and_the_remedy() -> None:
    source = (
        "from django.db import transaction\n"
        "from shop.tasks import ship\n"
        "def f(order):\n"
        "    with transaction.atomic():\n"
        "        ship.apply_async(args=(order.pk,))\n"
        "        transaction.on_commit(ship.delay(order.pk))\n"
        "    for o in order.lines.all():\n"
        "        transaction.on_commit(lambda: ship.delay(o.pk))\n"
    )
    messages = [f.message for f in check_source(source, "x.py", all_codes_settings(), strict=True)]
    assert messages == [
        "CDJ501 ship.apply_async() inside an atomic block; defer it with on_commit()",
        "CDJ504 on_commit() gets ship.delay() (sends at once); pass partial(ship.delay, ...)",
        "CDJ505 the on_commit() lambda reads loop variable 'o' late; bind o=o",
    ]


def test_deep_nesting_does_not_crash() -> None:
    depth = 90
    lines = ["from django.db import transaction", "from shop.tasks import ship", "def f(o):"]
    for level in range(depth):
        lines.append("    " * (level + 1) + "with transaction.atomic():")
    lines.append("    " * (depth + 1) + "transaction.on_commit(" + "(" * 50 + "ship.delay(o)" + ")" * 50 + ")")
    source = "\n".join(lines) + "\n"
    found = [(f.line, f.code) for f in check_source(source, "x.py", all_codes_settings(), strict=True)]
    assert found == [(depth + 4, "CDJ504")]


def test_flake8_reads_the_options(tmp_path: Path) -> None:
    module = tmp_path / "views.py"
    module.write_text(
        "from shop.tasks import ship, notify\n"
        "def place(request, pk):\n"
        "    ship.delay(pk)\n"
        "    notify.delay(pk)\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "flake8", "--select", "CDJ5", "--extend-select", "CDJ501", str(module)]
    quiet = subprocess.run(command, capture_output=True, text=True, check=False)
    assert quiet.stdout == "" and quiet.returncode == 0, quiet.stderr
    options = ["--cdj-atomic-requests", "--cdj-on-commit-tasks", "notify, other"]
    loud = subprocess.run(command + options, capture_output=True, text=True, check=False)
    assert [line.split(" ")[0:2] for line in loud.stdout.splitlines()] == [[f"{module}:3:5:", "CDJ501"]]


def test_views_stay_views_when_only_cdj503_is_enabled() -> None:
    source = (
        "from django.views import View\n"
        "from shop.models import Order\n"
        "from shop.tasks import ship\n"
        "class Base(View):\n"
        "    pass\n"
        "class Place(Base):\n"
        "    def post(self, request):\n"
        "        order = Order.objects.create()\n"
        "        ship.delay(order.pk)\n"
        "class Checkout:\n"
        "    def post(self, request):\n"
        "        order = Order.objects.create()\n"
        "        ship.delay(order.pk)\n"
    )
    only_503 = Settings(enabled=frozenset({"CDJ503"}))
    found = [(f.line, f.col, f.code) for f in check_source(source, "x.py", only_503, strict=True)]
    assert found == [(13, 8, "CDJ503")]


AFTER_COMMIT = """
from shop.tasks import ship
def finish(order):
    order.save()
    ship.delay(order.pk)
"""


@pytest.mark.parametrize(
    ("sites", "expected"),
    [
        # Every caller hands finish to on_commit: it runs after the commit, outside any transaction.
        ((CallSiteFact("shop.views.pay", on_commit=True), CallSiteFact("shop.tasks.retry", on_commit=True)), []),
        ((CallSiteFact("shop.views.pay", on_commit=True), CallSiteFact("shop.views.edit")), [(5, 4, "CDJ503")]),
        ((), [(5, 4, "CDJ503")]),
    ],
)
def test_send_in_a_function_only_ever_run_after_the_commit_is_silent(
    sites: tuple[CallSiteFact, ...], expected: list[tuple[int, int, str]]
) -> None:
    project = ProjectKnowledge([ModuleFacts("shop.views", calls=tuple(("shop.orders.finish", site) for site in sites))])
    assert project_findings(AFTER_COMMIT, "shop.orders", project) == expected


def test_an_atomic_block_is_a_transaction_even_after_the_commit() -> None:
    source = """
from django.db import transaction
from shop.tasks import ship
def finish(order):
    with transaction.atomic():
        ship.delay(order.pk)
"""
    deferred = CallSiteFact("shop.views.pay", on_commit=True)
    project = ProjectKnowledge([ModuleFacts("shop.views", calls=(("shop.orders.finish", deferred),))])
    assert project_findings(source, "shop.orders", project) == [(6, 8, "CDJ501")]
