from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flake8_celery_django.api import check_source
from flake8_celery_django.project.facts import (
    FieldFact,
    FieldKind,
    ModelFact,
    ModuleFacts,
    ReceiverFact,
    SettingsFact,
    TaskBaseFact,
    TaskFact,
)
from flake8_celery_django.project.knowledge import NO_PROJECT, ProjectKnowledge
from flake8_celery_django.settings import Settings
from tests import in_project
from tests.cases import Case, all_codes_settings, assert_case, invalid, valid
from tests.project_files import write_project

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
    valid(
        "CDJ102",
        """
        from typing import Optional, Union
        from celery import shared_task
        from shop.models import Order, Customer
        @shared_task
        def finalize(order_id: int, unit_ids: list[int], *, order: Order | None = None):
            pass
        @shared_task
        def sync(pk: int, order: Optional[Order] = None):
            pass
        @shared_task
        def cleanup(order: int | Order):
            pass
        @shared_task
        def enforce(customer: "Union[int, Customer]", order: str | Order | None = None):
            pass
        """,
    ),
    invalid(
        "CDJ102",
        """
        from celery import shared_task
        from shop.models import Order, Customer
        @shared_task
        def ship(order_id: int, order: Order):
            pass
        @shared_task
        def bill(customer_id: int, order: Order | None = None):
            pass
        @shared_task
        def notify(order: Order | bytes):
            pass
        """,
        (5, 24), (8, 27), (11, 11),
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
    assert finding.message == "CDJ101 notify.delay() gets Order instance order, not JSON-serializable; pass its pk"


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
        "CDJ101 ship.delay() gets model instance self.get_object(), not JSON-serializable; pass its pk",
        "CDJ101 ship.delay() gets Order instance Order.objects.get(pk=pk), not JSON-serializable; "
        "pass its pk",
    ]


# -- with the project index: facts of other modules, written by hand as the index builds them ------
def check_in_project(
    source: str, project: ProjectKnowledge, module: str = "shop.views"
) -> list[tuple[int, int, str, str]]:
    return in_project.check_in_project(source, project, module, "CDJ1")


def _field(name: str, kind: FieldKind = "plain", target: str | None = None, reverse: bool = False) -> FieldFact:
    return FieldFact(name, kind, target, reverse=reverse)


SHOP = [
    ModuleFacts(
        "shop.models",
        models=(
            ModelFact(
                "shop.models.Order",
                fields=(
                    _field("customer", "foreign_key", "shop.models.Customer"),
                    _field("invoice", "one_to_one", "shop.models.Invoice", reverse=True),
                    _field("lines", "foreign_key", "shop.models.Line", reverse=True),
                    _field("tags", "many_to_many", "shop.models.Tag"),
                    _field("total"),
                ),
            ),
            ModelFact(
                "shop.models.Customer",
                fields=(_field("organization", "foreign_key", "accounts.models.Organization"),),
            ),
            ModelFact("shop.models.Line", fields=(_field("order", "foreign_key", "shop.models.Order"),)),
            ModelFact("shop.models.Invoice", fields=(_field("order", "one_to_one", "shop.models.Order"),)),
            ModelFact("shop.models.Tag"),
        ),
    ),
    ModuleFacts("accounts.models", models=(ModelFact("accounts.models.Organization"),)),
    ModuleFacts("shop.documents", models=(ModelFact("shop.documents.Receipt"),)),
    ModuleFacts("core.tasks", task_decorators=("core.tasks.project_task",)),
    ModuleFacts(
        "shop.jobs",
        tasks=(TaskFact("shop.jobs.ship", ("order",)), TaskFact("shop.jobs.audit", ("order",))),
    ),
]


def shop(*extra: ModuleFacts, serializer: str | None = None) -> ProjectKnowledge:
    settings = ModuleFacts("shop.settings", settings=SettingsFact(task_serializer=serializer))
    return ProjectKnowledge([*SHOP, *extra, settings])


RECEIVERS = """
from django.db.models.signals import post_save
from django.dispatch import receiver
from shop.models import Order
from shop.jobs import ship

@receiver(post_save, sender=Order)
def order_saved(sender, instance, created, **kwargs):
    ship.delay(instance.customer.organization, instance.invoice)
    ship.s(instance.customer)
    ship.delay(instance.customer_id, instance.lines, instance.tags, instance.total, instance.missing)

def connected_in_apps_py(sender, instance, **kwargs):
    ship.delay(instance.customer)

def any_sender(sender, instance, **kwargs):
    ship.delay(instance.customer)
"""


def test_instances_reached_through_to_one_relations_of_a_receiver_instance() -> None:
    index = shop(ModuleFacts("shop.apps", receivers=(
        ReceiverFact("shop.handlers.connected_in_apps_py", "post_save", "shop.models.Order"),
    )))
    json = ", not JSON-serializable; pass its pk"
    assert check_in_project(RECEIVERS, index, "shop.handlers") == [
        # Past 100 characters the argument is shortened.
        (9, 15, "CDJ101", "CDJ101 ship.delay() gets Organization instance instance.custo..." + json),
        (9, 47, "CDJ101", "CDJ101 ship.delay() gets Invoice instance instance.invoice" + json),
        (10, 11, "CDJ101", "CDJ101 ship.s() gets Customer instance instance.customer" + json),
        (14, 15, "CDJ101", "CDJ101 ship.delay() gets Customer instance instance.customer" + json),
    ]
    assert all(len(message) <= 100 for *_, message in check_in_project(RECEIVERS, index, "shop.handlers"))


def test_relations_are_not_followed_without_the_index() -> None:
    # One file does not tell which attributes are relations: only the receiver's instance is known.
    assert check_in_project(RECEIVERS, NO_PROJECT, "shop.handlers") == []


COLLECTIONS = """
from shop.models import Order, Line
from shop.jobs import audit

def batch(pk):
    order = Order.objects.get(pk=pk)
    related = [order, order.customer]
    rows = list(Order.objects.filter(total=0))
    owners = [line.order.customer for line in Line.objects.all()]
    audit.delay(related, rows, owners)
    audit.apply_async(args=related)
    audit.delay(*rows)
    audit.delay(rows[0])
    for row in rows:
        audit.delay(row)
    kwargs = {"order": order, "total": 1}
    kwargs["customer"] = order.customer
    audit.apply_async(kwargs=kwargs)
    audit.delay(**kwargs)
"""


def test_collections_and_dicts_of_instances_bound_earlier() -> None:
    json = ", not JSON-serializable; pass "
    assert check_in_project(COLLECTIONS, shop()) == [
        (10, 16, "CDJ101", "CDJ101 audit.delay() gets Order instances related" + json + "their pks"),
        (10, 25, "CDJ101", "CDJ101 audit.delay() gets Order instances rows" + json + "their pks"),
        (10, 31, "CDJ101", "CDJ101 audit.delay() gets Customer instances owners" + json + "their pks"),
        (11, 27, "CDJ101", "CDJ101 audit.apply_async() gets Order instances related" + json + "their pks"),
        (12, 17, "CDJ101", "CDJ101 audit.delay() gets Order instances rows" + json + "their pks"),
        (13, 16, "CDJ101", "CDJ101 audit.delay() gets Order instance rows[0]" + json + "its pk"),
        (15, 20, "CDJ101", "CDJ101 audit.delay() gets Order instance row" + json + "its pk"),
        (18, 29, "CDJ101", "CDJ101 audit.apply_async() gets Customer instance kwargs['cus..." + json + "its pk"),
        (18, 29, "CDJ101", "CDJ101 audit.apply_async() gets Order instance kwargs['order']" + json + "its pk"),
        (19, 18, "CDJ101", "CDJ101 audit.delay() gets Customer instance kwargs['customer']" + json + "its pk"),
        (19, 18, "CDJ101", "CDJ101 audit.delay() gets Order instance kwargs['order']" + json + "its pk"),
    ]


def test_keys_dicts_and_strings_named_like_instances_stay_silent() -> None:
    source = """
    import json
    from shop.models import Order
    from shop.jobs import audit

    def batch(task, order_pk):
        orders = Order.objects.filter(total=0).values_list("pk", flat=True)
        audit.delay(orders, list(orders), [order.pk for order in Order.objects.all()])
        for order in orders:
            audit.delay(order)
        order = {"order": order_pk}
        audit.apply_async(kwargs=order)
        audit.delay(**order)
        document = json.dumps({"pk": order_pk})
        audit.delay(document)
        rows = [row.pk for row in Order.objects.all()]
        audit.delay(*rows)
        kwargs = {"order": Order.objects.get(pk=order_pk)}
        kwargs = {"order": order_pk}
        audit.apply_async(kwargs=kwargs)
    """
    assert check_in_project(source, shop()) == []


def test_project_tasks_are_known_by_name_outside_tasks_modules() -> None:
    source = """
    from celery import chain
    from shop.jobs import ship
    from shop.models import Order

    def run(pk, task):
        order = Order.objects.get(pk=pk)
        chain(ship.s(1), ship.si(2))
        ship.s(order)
        task.s(order)
    """
    assert check_in_project(source, shop()) == [
        (9, 11, "CDJ101", "CDJ101 ship.s() gets Order instance order, not JSON-serializable; pass its pk"),
    ]
    assert check_in_project(source, NO_PROJECT) == []


SERIALIZED = """
from shop.models import Order
from shop.jobs import audit

def helper():
    pass

def send(pk):
    order = Order.objects.get(pk=pk)
    unpaid = Order.objects.filter(total=0)
    audit.delay(order, unpaid, {1, 2}, helper, lambda: 1)
    def nested():
        pass
    audit.delay(nested)
"""


def test_messages_follow_the_project_task_serializer() -> None:
    assert check_in_project(SERIALIZED, shop(serializer="pickle")) == [
        (11, 16, "CDJ101", "CDJ101 audit.delay() gets Order instance order, stale when pickled; pass its pk"),
        (11, 23, "CDJ101", "CDJ101 audit.delay() gets Order queryset unpaid, stale when pickled; pass their pks"),
        (11, 47, "CDJ103", "CDJ103 audit.delay() gets lambda lambda: 1, not pickle-serializable; pass its dotted name"),
        (14, 16, "CDJ103", "CDJ103 audit.delay() gets function nested, not pickle-serializable; pass its dotted name"),
    ]
    json_findings = check_in_project(SERIALIZED, shop(serializer="json"))
    assert json_findings == check_in_project(SERIALIZED, shop())
    assert [(line, col, code) for line, col, code, _ in json_findings] == [
        (11, 16, "CDJ101"), (11, 23, "CDJ103"), (11, 31, "CDJ103"), (11, 39, "CDJ103"), (11, 47, "CDJ103"),
        (14, 16, "CDJ103"),
    ]
    assert [message for *_, message in json_findings[:2]] == [
        "CDJ101 audit.delay() gets Order instance order, not JSON-serializable; pass its pk",
        "CDJ103 audit.delay() gets queryset unpaid, not JSON-serializable; pass a list of pks",
    ]


def test_a_serializer_of_the_project_is_judged_only_for_instances() -> None:
    # nautobot's ``nautobot_json`` encodes sets and model instances (by id, with a deprecation warning).
    assert check_in_project(SERIALIZED, shop(serializer="nautobot_json")) == [
        (11, 16, "CDJ101", "CDJ101 audit.delay() gets Order instance order, stale via nautobot_json; pass its pk"),
        (11, 23, "CDJ101", "CDJ101 audit.delay() gets Order queryset unpaid, stale via nautobot_json; pass their pks"),
    ]


def _cdj102(source: str, project: ProjectKnowledge, module: str = "shop.tasks") -> list[tuple[int, int, str]]:
    return [(line, col, message) for line, col, code, message in check_in_project(source, project, module)
            if code == "CDJ102"]


PROJECT_DECORATED = """
from collections.abc import Sequence
from typing import Optional
from core.tasks import project_task
from shop.models import Order
from shop.documents import Receipt

@project_task
def ship(orders: list[Order], receipt: Receipt, note: str):
    pass

@project_task(queue="slow")
def audit(order: "Order | None", batch: Sequence[Order], maybe: Optional[Order] = None, *, pks: list[int]):
    pass

def plain(order: Order):
    pass
"""


def test_tasks_declared_through_a_project_decorator_and_collection_annotations() -> None:
    assert _cdj102(PROJECT_DECORATED, shop()) == [
        (9, 9, "CDJ102 task ship() takes Order instances as orders; take a list of ids"),
        (9, 30, "CDJ102 task ship() takes model Receipt as receipt; take receipt_id"),
        (13, 10, "CDJ102 task audit() takes model Order as order; take order_id"),
        (13, 33, "CDJ102 task audit() takes Order instances as batch; take a list of ids"),
        (13, 57, "CDJ102 task audit() takes model Order as maybe; take maybe_id"),
    ]
    # Without the index, ``project_task`` is an unknown decorator and ``Receipt`` an unknown class.
    assert _cdj102(PROJECT_DECORATED, NO_PROJECT) == []


KEY_RESOLVING = """
from celery import shared_task
from core.bases import EventTask, LoggedTask, Unknown
from shop.models import Order

@shared_task(base=EventTask)
def by_key(order: Order):
    pass

@shared_task(base=LoggedTask)
def logged(order: Order):
    pass

@shared_task(base=Unknown)
def unknown(order: Order):
    pass

class Export(EventTask):
    def run(self, order: Order):
        pass

class Logged(LoggedTask):
    def run(self, order: Order):
        pass
"""


def test_bases_that_turn_keys_into_instances_silence_cdj102() -> None:
    bases = ModuleFacts("core.bases", task_bases=(
        TaskBaseFact("core.bases.KeyTask", resolves_keys=True),
        TaskBaseFact("core.bases.EventTask", bases=("core.bases.KeyTask",)),
        TaskBaseFact("core.bases.LoggedTask"),
    ))
    assert [(line, col) for line, col, _ in _cdj102(KEY_RESOLVING, shop(bases))] == [(11, 11), (23, 18)]
    # Bases the index does not know may resolve keys: silent, as without the index.
    assert _cdj102(KEY_RESOLVING, NO_PROJECT) == []


def test_a_project_decorator_that_sets_a_key_resolving_base_silences_cdj102() -> None:
    source = """
    from core.tasks import project_task
    from shop.models import Order

    @project_task
    def export(order: Order):
        pass

    @project_task
    def other(order: Order):
        pass
    """
    index = shop(
        ModuleFacts("core.bases", task_bases=(TaskBaseFact("core.bases.EventTask", resolves_keys=True),)),
        ModuleFacts("shop.tasks", tasks=(TaskFact("shop.tasks.export", ("order",), base="core.bases.EventTask"),)),
    )
    assert [(line, col) for line, col, _ in _cdj102(source, index)] == [(10, 10)]


def test_a_receiver_that_also_receives_plain_data_is_not_judged() -> None:
    # openwisp-controller connects this handler to post_save and to a signal of its own that sends
    # a list of device ids as ``instance``; the handler tells them apart with ``type(...) is list``.
    source = """
    from . import tasks

    def templates_changed(instance, **kwargs):
        if type(instance) is list:
            tasks.change_templates.delay(instance_id=instance)
        else:
            tasks.change_templates.delay(instance_id=instance.pk)

    def checked_with_isinstance(instance, **kwargs):
        if isinstance(instance, (list, tuple)):
            tasks.change_templates.delay(instance)

    def on_custom_signal(instance, **kwargs):
        tasks.change_templates.delay(instance)

    def on_post_save(instance, **kwargs):
        tasks.change_templates.delay(instance)
    """
    index = shop(ModuleFacts("shop.apps", receivers=(
        ReceiverFact("shop.handlers.templates_changed", "post_save", "self.config_model"),
        ReceiverFact("shop.handlers.checked_with_isinstance", "post_save", "shop.models.Order"),
        ReceiverFact("shop.handlers.on_custom_signal", "templates_changed", "shop.models.Order"),
        ReceiverFact("shop.handlers.on_post_save", "post_save", "shop.models.Order"),
    )))
    assert check_in_project(source, index, "shop.handlers") == [
        (18, 33, "CDJ101", "CDJ101 change_templates.delay() gets Order instance instance, not "
         "JSON-serializable; pass its pk"),
    ]


# -- a small project on disk, read by the project index ----------------------------------------------
PROJECT_FILES = {
    "pyproject.toml": "",
    "config/__init__.py": "",
    "config/settings.py": 'CELERY_TASK_SERIALIZER = "pickle"\n',
    "shop/__init__.py": "",
    "shop/models.py": """
        from django.db import models


        class Organization(models.Model):
            name = models.CharField(max_length=20)


        class Project(models.Model):
            organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="projects")


        class Document(models.Model):
            project = models.ForeignKey("shop.Project", on_delete=models.CASCADE)
            title = models.CharField(max_length=20)
        """,
    "shop/decorators.py": """
        from celery import shared_task


        def job(func):
            return shared_task(func)
        """,
    "shop/taskbase.py": """
        from celery import Task


        class DocumentTask(Task):
            def __call__(self, *args, **kwargs):
                from shop.models import Document

                kwargs["document"] = Document.objects.get(pk=kwargs.pop("document_id"))
                return super().__call__(*args, **kwargs)
        """,
    "shop/jobs.py": """
        from celery import shared_task

        from shop.decorators import job
        from shop.models import Document, Organization
        from shop.taskbase import DocumentTask


        @job
        def reindex(documents: list[Document], owner: Organization | None = None):
            pass


        @shared_task(base=DocumentTask)
        def render(document: Document):
            pass
        """,
    "shop/signals.py": """
        from django.db.models.signals import post_save
        from django.dispatch import receiver

        from shop.jobs import reindex, render
        from shop.models import Document


        @receiver(post_save, sender=Document)
        def document_saved(sender, instance, created, **kwargs):
            reindex.delay([instance], instance.project.organization)
            kwargs = {"document": instance}
            render.apply_async(kwargs=kwargs)
            render.apply_async(kwargs={"document_id": instance.pk})


        def connected_in_ready(sender, instance, **kwargs):
            siblings = [instance.project]
            reindex.s(siblings)
        """,
    "shop/apps.py": """
        from django.apps import AppConfig
        from django.db.models.signals import post_delete


        class ShopConfig(AppConfig):
            name = "shop"

            def ready(self):
                from shop import models, signals

                post_delete.connect(signals.connected_in_ready, sender=models.Document)
        """,
}


def test_a_project_on_disk_through_the_index(tmp_path: Path) -> None:
    root = write_project(tmp_path, PROJECT_FILES)

    def findings(name: str) -> list[tuple[int, int, str, str]]:
        path = root / name
        found = check_source(path.read_text(), str(path), all_codes_settings(), strict=True)
        return [(f.line, f.col, f.code, f.message) for f in found if f.code.startswith("CDJ1")]

    pickled = ", stale when pickled; pass "
    assert findings("shop/signals.py") == [
        (10, 19, "CDJ101", "CDJ101 reindex.delay() gets Document instance instance" + pickled + "its pk"),
        (10, 30, "CDJ101", "CDJ101 reindex.delay() gets Organization instance instance.proje..." + pickled + "its pk"),
        (12, 30, "CDJ101", "CDJ101 render.apply_async() gets Document instance kwargs['docum..." + pickled + "its pk"),
        (18, 14, "CDJ101", "CDJ101 reindex.s() gets Project instances siblings" + pickled + "their pks"),
    ]
    # render() has a base that fetches the document from its key: its annotation is not reported.
    assert findings("shop/jobs.py") == [
        (9, 12, "CDJ102", "CDJ102 task reindex() takes Document instances as documents; take a list of ids"),
        (9, 39, "CDJ102", "CDJ102 task reindex() takes model Organization as owner; take owner_id"),
    ]
    # Each rule alone reports what it reports among all.
    for code in ("CDJ101", "CDJ102"):
        for name in ("shop/signals.py", "shop/jobs.py"):
            path = root / name
            alone_settings = Settings(enabled=frozenset({code}))
            assert [(f.line, f.col, f.code, f.message) for f in check_source(
                path.read_text(), str(path), alone_settings, strict=True
            )] == [finding for finding in findings(name) if finding[2] == code]
    # Without the index each file is judged alone: the receiver's instance is still one (also in the
    # kwargs dict), but its relations, the task behind reindex.s() and the list are not known.
    alone = all_codes_settings(project_index=False)
    path = root / "shop/signals.py"
    assert [(f.line, f.col, f.code) for f in check_source(path.read_text(), str(path), alone, strict=True)
            if f.code.startswith("CDJ1")] == [(10, 19, "CDJ101"), (12, 30, "CDJ101")]


# A project's own signals: what the senders hand over is what the receivers get.
SIGNAL_FILES = {
    **{name: text for name, text in PROJECT_FILES.items() if name not in ("shop/signals.py", "shop/apps.py")},
    "shop/signals.py": """
        from django.dispatch import Signal

        document_updated = Signal()
        document_archived = Signal()
        document_moved = Signal()
        """,
    "shop/consumer.py": """
        from shop.models import Document, Project
        from shop.signals import document_archived, document_moved, document_updated


        def consume(pk, project_pk, title):
            document = Document.objects.select_related("project").get(pk=pk)
            document_updated.send(sender=None, document=document, title=title)
            project = Project.objects.get(pk=project_pk)
            document_archived.send(sender=None, document=document.pk, owner=project)
            document_moved.send(sender=None, target=document)
            document_moved.send(sender=None, target=project)


        def archive(document: Document):
            document_archived.send(sender=None, document=document)
        """,
    "shop/handlers.py": """
        from shop.jobs import render
        from shop.tasks import index_document, notify_owner


        def document_changed(sender, document, title, **kwargs):
            index_document.apply_async(kwargs={"document": document, "title": title})
            render.delay(document)


        def document_archived(sender, document, owner, **kwargs):
            index_document.delay(document)
            notify_owner.delay(owner)


        def document_moved(sender, target, **kwargs):
            index_document.delay(target)
        """,
    "shop/tasks.py": """
        from celery import shared_task


        @shared_task
        def index_document(document, title=None):
            pass


        @shared_task
        def notify_owner(owner):
            pass
        """,
    "shop/apps.py": """
        from django.apps import AppConfig


        class ShopConfig(AppConfig):
            name = "shop"

            def ready(self):
                from shop import handlers, signals

                signals.document_updated.connect(handlers.document_changed)
                signals.document_archived.connect(handlers.document_archived)
                signals.document_moved.connect(handlers.document_moved)
        """,
}


def test_rows_sent_through_a_project_signal_are_instances_in_its_receivers(tmp_path: Path) -> None:
    # document_updated always hands over a Document row; document_archived hands over a row in one
    # place and a key in another (not known, so not counted), and a Project as owner; document_moved
    # hands over rows of two models as target, so its receiver's target is not taken for either.
    root = write_project(tmp_path, SIGNAL_FILES)
    path = root / "shop/handlers.py"
    found = check_source(path.read_text(), str(path), all_codes_settings(), strict=True)
    pickled = ", stale when pickled; pass its pk"
    assert [(f.line, f.col, f.message) for f in found if f.code.startswith("CDJ1")] == [
        (6, 51, "CDJ101 index_document.apply_async() gets Document instance document" + pickled),
        (7, 17, "CDJ101 render.delay() gets Document instance document" + pickled),
        (11, 25, "CDJ101 index_document.delay() gets Document instance document" + pickled),
        (12, 23, "CDJ101 notify_owner.delay() gets Project instance owner" + pickled),
    ]
    # Without the index the parameters are names like any other.
    alone = all_codes_settings(project_index=False)
    assert [f for f in check_source(path.read_text(), str(path), alone, strict=True) if f.code == "CDJ101"] == []


def test_long_messages_are_shortened_to_100_characters() -> None:
    source = """
    from django.db.models.signals import post_save
    from django.dispatch import receiver
    from shop.models import Order
    from documents.tasks import process_custom_field_select_update as update

    @receiver(post_save, sender=Order)
    def saved(sender, instance, **kwargs):
        documents.tasks.process_custom_field_select_update.apply_async(kwargs={"custom_field": instance})
        update.delay(instance.customer.organization)
    """
    assert [message for *_, message in check_in_project(source, shop(serializer="pickle"))] == [
        "CDJ101 process_custom....apply_async() gets Order instance instance, stale when pickled; pass its pk",
        "CDJ101 update.delay() gets Organization instance instance.custom..., stale when pickled; pass its pk",
    ]
