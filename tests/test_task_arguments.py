from __future__ import annotations

import textwrap

import pytest

from flake8_celery_django.api import check_source
from tests.cases import Case, all_codes_settings, assert_case, invalid, valid

CASES: list[Case] = [
    # -- CDJ101: a model instance handed to a task call ------------------------------------------
    invalid(
        "CDJ101",
        """
        from shop.models import Order
        from shop.tasks import send_receipt
        def checkout(pk):
            order = Order.objects.get(pk=pk)
            send_receipt.delay(order)
            send_receipt.delay(order_id=order.pk, order=order)
        """,
        (6, 23), (7, 48),
    ),
    invalid(
        "CDJ101",
        """
        from shop.models import Order
        from shop import tasks
        def checkout(pk):
            order = Order.objects.select_related("customer").filter(pk=pk).first()
            tasks.send_receipt.apply_async((order,), countdown=10)
            tasks.send_receipt.apply_async(args=[1, order])
            tasks.send_receipt.apply_async(kwargs={"order": order})
            tasks.send_receipt.apply_async(kwargs=dict(order=order))
            tasks.send_receipt.apply_async((), {"order": order})
        """,
        (6, 36), (7, 44), (8, 52), (9, 53), (10, 49),
    ),
    invalid(
        "CDJ101",
        """
        from celery import chain, group, chord, signature
        from shop.models import Order
        from shop.services import charge, notify
        from shop.tasks import audit
        def checkout(pk, app):
            order = Order.objects.get(pk=pk)
            chain(charge.s(order), notify.si(order)).delay()
            group([charge.s(o) for o in Order.objects.filter(paid=False)])()
            chord([charge.s(1)], audit.s(order))()
            audit.signature(args=(order,))
            signature("shop.tasks.audit", args=(order,))
            app.send_task("shop.tasks.audit", args=[order], kwargs={"again": order})
            audit.apply_async((1,), link=[notify.s(order)], link_error=charge.si(order))
        """,
        (8, 19), (8, 37), (9, 20), (10, 33), (11, 26), (12, 40), (13, 44), (13, 69), (14, 43), (14, 73),
    ),
    invalid(
        "CDJ101",
        """
        from django.contrib.auth import get_user_model
        from django.shortcuts import get_object_or_404
        from shop.models import Customer, Order
        from shop.tasks import welcome, archive
        User = get_user_model()
        def signup(request, pk):
            user = User(username="x")
            welcome.delay(user)
            customer, created = Customer.objects.get_or_create(user=request.user)
            welcome.delay(customer, request.user)
            order = get_object_or_404(Order, pk=pk)
            archive.delay(order)
            archive.delay(Order.objects.filter(paid=True)[0])
            for old in Order.objects.filter(paid=True).iterator(chunk_size=100):
                archive.delay(old)
            created_order = Order.objects.create(total=0)
            archive.delay([created_order.pk, created_order])
        """,
        (9, 18), (11, 18), (11, 28), (13, 18), (14, 18), (16, 22), (18, 37),
    ),
    invalid(
        "CDJ101",
        """
        from django.apps import apps
        from swapper import load_model
        from shop.tasks import archive
        from shop import models
        Device = load_model("config", "Device")
        def f():
            Order = apps.get_model("shop", "Order")
            archive.delay(Order(total=1), Device(name="x"), models.Customer())
        """,
        (9, 18), (9, 34), (9, 52),
    ),
    invalid(
        "CDJ101",
        """
        from django.db import models
        from django.db.models.signals import post_save
        from django.dispatch import receiver
        from django.views.generic import DetailView
        from .tasks import reindex
        class Page(models.Model):
            title = models.CharField(max_length=10)
        @receiver(post_save, sender=Page)
        def page_saved(sender, instance, created, **kwargs):
            reindex.delay(instance)
        def connected_by_hand(sender, instance, **kwargs):
            reindex.delay(instance)
        class PageView(DetailView):
            def post(self, request, *args, **kwargs):
                reindex.delay(self.get_object())
                reindex.delay(self.object, self.request.user)
        def rebuild():
            reindex.delay(Page(title="new"))
        async def rebuild_async():
            page = await Page.objects.aget(pk=1)
            reindex.delay(page)
        """,
        (11, 18), (13, 18), (16, 22), (17, 22), (17, 35), (19, 18), (22, 18),
    ),
    invalid(
        "CDJ101",
        """
        from typing import Optional
        from shop.models import Order
        from shop.tasks import audit
        def forward(order: Order, other: Optional["Order"] = None):
            audit.delay(order, other)
        def related(order: Order):
            audit.delay(order.lines.first(), order.lines.filter(quantity=0).get())
            paid = Order.paid_orders.get(pk=1)
            audit.delay(paid)
        """,
        (6, 16), (6, 23), (8, 16), (8, 37), (10, 16),
    ),
    valid(
        "CDJ101",
        """
        from shop.models import Order
        from shop.tasks import send_receipt
        def checkout(pk, customer, payload):
            order = Order.objects.get(pk=pk)
            send_receipt.delay(order.pk)
            send_receipt.delay(order.id, str(order), order.customer_id)
            send_receipt.apply_async(args=(order.pk,), kwargs={"total": str(order.total)})
            send_receipt.delay(customer, payload)
            send_receipt.delay({"id": order.pk, "total": order.total})
            ids = Order.objects.filter(paid=True).values_list("pk", flat=True)
            send_receipt.delay(list(ids))
            send_receipt.delay([o.pk for o in Order.objects.filter(paid=True)])
            for row in Order.objects.values("pk").iterator():
                send_receipt.delay(row)
            order = order.pk
            send_receipt.delay(order)
        """,
    ),
    valid(
        "CDJ101",
        """
        from shop.models import Order, OrderManager, MAX_TOTAL, PaymentChoices
        from django.contrib.auth.models import AnonymousUser
        from shop.tasks import audit
        def g(data, order):
            audit.delay(PaymentChoices("paid"), OrderManager(), MAX_TOTAL)
            audit.delay(AnonymousUser())
            audit.delay(order.metadata.get("x"))
            audit.delay(data.get("order"))
        """,
    ),
    valid(
        "CDJ101",
        """
        from shop.models import Order
        order = Order.objects.get(pk=1)
        def handler(instance, **kwargs):
            if type(instance) is list:
                change_templates.delay(instance_id=instance)
        def shadowed(order):
            audit.delay(order)
        class PageView:
            def post(self, request):
                audit.delay(self.get_object(), self.object)
        """,
    ),
    valid(
        "CDJ101",
        """
        from shop.models import Order
        def f(pk, logger, pool):
            order = Order.objects.get(pk=pk)
            logger.s(order)
            run_later.s(order)
            pool.apply_async(process, (order,))
        def process(order):
            return order
        """,
    ),
    # -- CDJ102: a task parameter annotated with a model class -----------------------------------
    invalid(
        "CDJ102",
        """
        from typing import Optional
        from celery import Celery, shared_task, Task
        from django.db import models
        from shop.models import Order, Customer
        app = Celery("shop")
        @shared_task
        def ship(order: Order, note: str):
            pass
        @app.task(bind=True, base=Task)
        def charge(self, order_id: int, customer: Optional[Customer] = None):
            pass
        @app.task()
        async def anything(obj: models.Model, *, other: "Order | None"):
            pass
        class Archive(app.Task):
            def run(self, order: Order):
                pass
        """,
        (8, 9), (11, 32), (14, 19), (14, 41), (17, 18),
    ),
    invalid(
        "CDJ102",
        """
        from celery.task import periodic_task, task
        from celery import current_app
        from shop import models
        @periodic_task(run_every=60)
        def tick(order: models.Order):
            pass
        @task
        def legacy(order: "models.Order"):
            pass
        @current_app.task
        def current(customer: models.Customer):
            pass
        """,
        (6, 9), (9, 11), (12, 12),
    ),
    valid(
        "CDJ102",
        """
        from celery import shared_task
        from pretix.base.services.tasks import EventTask
        from pretix.celery_app import app
        from shop.models import Order, Event
        @shared_task
        def ship(order_id: int, order: "int", note: str):
            pass
        @app.task(base=EventTask, bind=True)
        def export(self, event: Event, fileid: str):
            pass
        @shared_task(**options)
        def charge(order: Order):
            pass
        def helper(order: Order):
            pass
        class Service:
            def run(self, order: Order):
                pass
        """,
    ),
    valid(
        "CDJ102",
        """
        from celery import Task
        from shop.models import Event
        class EventTask(Task):
            def __call__(self, *args, **kwargs):
                return super().__call__(*args, **kwargs)
        class Export(EventTask):
            def run(self, event: Event):
                pass
        """,
    ),
    # -- CDJ103: a value the JSON serializer cannot encode ---------------------------------------
    invalid(
        "CDJ103",
        """
        from shop.models import Order
        from shop.tasks import export
        def view(request):
            unpaid = Order.objects.filter(paid=False)
            export.delay(unpaid, Order.objects.all())
            export.delay({1, 2}, set(), frozenset([1]), {x for x in range(3)})
            export.delay(request)
            with open("/tmp/report.csv") as report:
                export.delay(report)
            export.delay(lambda: 1, callback)  # defined below: not known yet
            export.delay(x for x in range(3))
            export.apply_async(kwargs={"rows": [unpaid]})
        def callback():
            pass
        def later():
            export.delay(callback)
        """,
        (6, 17), (6, 25), (7, 17), (7, 25), (7, 32), (7, 48), (8, 17), (10, 21), (11, 17), (12, 16),
        (13, 40), (17, 17),
    ),
    valid(
        "CDJ103",
        """
        import datetime
        import decimal
        import uuid
        from shop.models import Order
        from shop.tasks import export
        def view(request, callback):
            export.delay(datetime.datetime.now(), datetime.date.today(), decimal.Decimal("1.0"))
            export.delay(uuid.uuid4(), b"raw", [1, 2], (1, 2), {"a": 1})
            export.delay(sorted({1, 2}), list(Order.objects.values_list("pk", flat=True)))
            export.delay(Order.objects.values_list("pk", flat=True))
            export.delay(request.user.pk, request.path, callback)
            export.delay(sig=export.s(1))
        def set(items):
            return items
        def later():
            export.delay(set([1]))
        """,
    ),
    valid(
        "CDJ103",
        """
        from shop.tasks import export
        def item():
            pass
        def callback():
            pass
        def report(groups, request: dict):
            [export.delay(item) for group in groups for item in group]
            handlers = map(lambda callback: export.delay(callback), groups)
            export.delay(request, request.user)
        def later():
            from shop.hooks import callback
            export.delay(callback)
        """,
    ),
    valid(
        "CDJ103",
        """
        import multiprocessing
        def index(batch):
            pass
        def run(batches):
            with multiprocessing.Pool() as pool:
                pool.apply_async(index, args=({1, 2},))
            workers.apply_async(index, ({1},))
            workers.apply_async(lambda: 1, ({1},))
            thread_pool.apply_async(imported_function, ({1},))
        """,
    ),
    invalid(
        "CDJ103",
        """
        from shop.tasks import refresh_pool
        def run(pool):
            refresh_pool.apply_async(({1},))
            pool.apply_async(args=({2},))
        """,
        (4, 30), (5, 27),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_task_argument_cases(case: Case) -> None:
    assert_case(case)


def test_message_names_task_argument_and_remedy() -> None:
    source = "from shop.models import Order\norder = Order.objects.get(pk=1)\nnotify.delay(x, order)\n"
    [finding] = check_source(source, "example.py", all_codes_settings(), strict=True)
    assert (finding.line, finding.col) == (3, 16)
    assert finding.message == "CDJ101 notify.delay() gets model instance order (Order); pass its pk"


def test_long_queryset_chains_and_deep_nesting_do_not_crash() -> None:
    chain = "Order.objects" + ".filter(a=1)" * 300 + ".first()"
    source = f"from shop.models import Order\nnotify.delay({chain})\n"
    findings = check_source(source, "example.py", all_codes_settings(), strict=True)
    assert [(f.line, f.code) for f in findings] == [(2, "CDJ101")]
    nested = "[" * 150 + "{1}" + "]" * 150
    findings = check_source(f"notify.delay({nested})\n", "example.py", all_codes_settings(), strict=True)
    assert [(f.line, f.col, f.code) for f in findings] == [(1, 163, "CDJ103")]


def test_the_model_is_named_only_when_known() -> None:
    source = textwrap.dedent(
        """
        from django.views.generic import DetailView
        from shop.models import Order
        from shop.tasks import ship
        class ShipView(DetailView):
            def post(self, request, pk):
                ship.delay(self.get_object())
                ship.delay(Order.objects.get(pk=pk))
        """
    )
    messages = [f.message for f in check_source(source, "x.py", all_codes_settings(), strict=True)]
    assert [m for m in messages if m.startswith("CDJ101")] == [
        "CDJ101 ship.delay() gets model instance self.get_object(); pass its pk",
        "CDJ101 ship.delay() gets model instance Order.objects.get(pk=pk) (Order); pass its pk",
    ]
