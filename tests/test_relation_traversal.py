from __future__ import annotations

import pytest

from flake8_celery_django.api import check_source

from flake8_celery_django.project.facts import FieldFact, ModelFact, ModuleFacts
from tests.cases import Case, all_codes_settings, assert_case, invalid, valid
from tests.project_cases import findings_in_project

MODELS = """
from django.db import models
from django.db.models import Prefetch

class Customer(models.Model):
    name = models.CharField(max_length=10)

class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    number = models.IntegerField()

class Line(models.Model):
    order = models.ForeignKey("shop.Order", on_delete=models.CASCADE, related_name="lines")
    label = models.CharField(max_length=10)

class Profile(models.Model):
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE)
"""

CASES: list[Case] = [
    invalid(
        "CDJ406",
        MODELS
        + """
def report():
    for order in Order.objects.filter(number=1):
        print(order.customer.name, order.customer.pk)
    for line in Line.objects.select_related("order"):
        print(line.order.number, line.order.customer.name)
    names = [o.customer.name for o in Order.objects.all()]
    for customer in Customer.objects.all():
        print(customer.profile.customer_id)
    queryset = Line.objects.all()
    queryset = queryset.filter(label="x")
    for line in queryset.iterator():
        line.order.customer.name = "new"
""",
        (21, 14), (23, 33), (24, 13), (26, 14), (30, 8),
    ),
    valid(
        "CDJ406",
        MODELS
        + """
def report(orders):
    for order in Order.objects.filter(number=1):
        print(order.customer_id, order.number)
    for order in Order.objects.select_related("customer"):
        print(order.customer.name)
    for line in Line.objects.select_related("order__customer"):
        print(line.order.customer.name)
    queryset = Line.objects.all()
    queryset = queryset.select_related("order__customer")
    for line in queryset:
        print(line.order.customer.name)
    for line in Line.objects.prefetch_related(Prefetch("order", queryset=Order.objects.select_related("customer"))):
        print(line.order.customer.name)
    for order in Order.objects.prefetch_related("customer"):
        print(order.customer.name)
    for order in Order.objects.select_related():
        print(order.customer.name)
    for order in orders:
        print(order.customer.name)
    for order in Order.objects.values("customer"):
        print(order.customer)
    order = Order.objects.get(pk=1)
    print(order.customer.name)
    for customer in Customer.objects.all():
        print(customer.orders, customer.name)
    for order in Order.objects.all():
        order = order.customer
        print(order.name)
    for order in Order.objects.all():
        def later():
            return order.customer.name
""",
    ),
    valid(
        "CDJ406",
        """
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
class Comment(models.Model):
    target = GenericForeignKey("target_type", "target_id")
def comments():
    return [comment.target.name for comment in Comment.objects.all()]
""",
    ),
    valid(
        "CDJ406",
        """
from shop.models import Order
def report():
    for order in Order.objects.all():
        print(order.customer.name, order.shipping.city)
""",
    ),
    # Read once per distinct key: the branch runs when the row's key differs from the one remembered.
    valid(
        "CDJ406",
        MODELS
        + """
def reminders():
    customer_id = None
    name = None
    for order in Order.objects.filter(number=1).order_by("customer_id"):
        if customer_id != order.customer_id:
            name = order.customer.name
            customer_id = order.customer_id
        print(order.number, name)
    numbers = {}
    for line in Line.objects.all():
        if line.order_id not in numbers:
            numbers[line.order_id] = line.order.number
    seen = set()
    for line in Line.objects.all():
        if line.order_id not in seen:
            seen.add(line.order_id)
            print(line.order.customer.name)
""",
    ),
    invalid(
        "CDJ406",
        MODELS
        + """
def reminders(wanted):
    customer_id = None
    for order in Order.objects.all():
        if customer_id != order.customer_id:
            print(order.customer.name)
    for order in Order.objects.all():
        if order.customer_id == wanted:
            print(order.customer.name)
    numbers = {}
    for line in Line.objects.all():
        if line.order_id not in numbers:
            numbers[line.order_id] = line.order.customer.name
        print(line.order.number)
    for line in Line.objects.all():
        if customer_id != line.order_id:
            print(line.order.customer.name)
            customer_id = line.order.customer_id
        print(line.label)
""",
        (23, 18), (26, 18), (31, 14), (34, 18),
    ),
    # Copies: each row is saved again as a new row (``pk = None``), its relations usually remapped.
    valid(
        "CDJ406",
        MODELS
        + """
def copy_lines(source, target, mapping):
    for line in Line.objects.filter(order=source):
        line.pk = None
        line.order = mapping[line.order.pk]
        line.save(force_insert=True)
    for profile in Profile.objects.all():
        if profile.customer.name:
            profile.id = None
            profile.save()
""",
    ),
    invalid(
        "CDJ406",
        MODELS
        + """
def copy_lines(source, template):
    for line in Line.objects.filter(order=source):
        template.pk = None
        template.label = line.order.number
        template.save()
    for line in Line.objects.filter(order=source):
        line.pk = 1
        print(line.order.number)
""",
        (22, 25), (26, 14),
    ),
    # Read when an iteration fails (an ``except`` handler), or in a data migration (``RunPython``).
    valid(
        "CDJ406",
        MODELS
        + """
def report(log):
    for order in Order.objects.all():
        try:
            print(order.number)
        except ValueError:
            log.exception("no number", customer=order.customer.name)
def forwards(apps, *args):
    for order in Order.objects.all():
        print(order.customer.name)
""",
    ),
    invalid(
        "CDJ406",
        MODELS
        + """
def report(log):
    for order in Order.objects.all():
        try:
            print(order.customer.name)
        except ValueError:
            log.exception("no number")
    for line in Line.objects.all():
        try:
            print(line.label)
        except ValueError:
            pass
        else:
            print(line.order.number)
def forwards(app, *args):
    for order in Order.objects.all():
        print(order.customer.name)
""",
        (22, 18), (31, 18), (34, 14),
    ),
    # A slice of at most 10 rows is a handful, as for the other loop rules; 50 rows is not.
    valid(
        "CDJ406",
        MODELS
        + """
def latest():
    return [order.customer.name for order in Order.objects.order_by("-number")[:5]]
""",
    ),
    invalid(
        "CDJ406",
        MODELS
        + """
def latest():
    return [order.customer.name for order in Order.objects.order_by("-number")[:50]]
""",
        (20, 12),
    ),
    # The loop's item bound again in the body (here to a row fetched with its relation) is not the row.
    valid(
        "CDJ406",
        MODELS
        + """
def remind():
    for order in Order.objects.filter(number=1):
        order = Order.objects.select_related("customer").select_for_update().get(pk=order.pk)
        print(order.customer.name)
""",
    ),
    invalid(
        "CDJ406",
        MODELS
        + """
def remind():
    for order in Order.objects.filter(number=1):
        print(order.customer.name)
        order = Order.objects.select_related("customer").get(pk=order.pk)
        print(order.customer.name)
    for order in Order.objects.filter(number=1):
        other = Order.objects.select_related("customer").get(pk=order.pk)
        print(other.customer.name, order.customer.name)
""",
        (21, 14), (26, 35),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_case(case: Case) -> None:
    assert_case(case)


SHOP_MODELS = ModuleFacts(
    "shop.models",
    models=(
        ModelFact("shop.models.Customer", fields=(FieldFact("name", "plain"),)),
        ModelFact(
            "shop.models.Order",
            fields=(
                FieldFact("customer", "foreign_key", "shop.models.Customer"),
                FieldFact("tags", "many_to_many", "shop.models.Tag"),
            ),
        ),
    ),
)


def test_model_of_another_module_from_the_project_index() -> None:
    source = """
    from shop.models import Order
    def report():
        for order in Order.objects.filter(number=1):
            print(order.customer.name, order.tags.all(), order.shipping.city)
        for order in Order.objects.select_related("customer"):
            print(order.customer.name)
    """
    assert findings_in_project(source, "CDJ406", "shop.reports", [SHOP_MODELS]) == [
        (5, 14, 'CDJ406 order.customer is a query per row; add select_related("customer") to the queryset'),
    ]


def test_relative_import_resolves_to_the_project_model() -> None:
    source = """
    from .models import Order
    def report():
        return [order.customer.name for order in Order.objects.all()]
    """
    assert findings_in_project(source, "CDJ406", "shop.reports", [SHOP_MODELS]) == [
        (4, 12, 'CDJ406 order.customer is a query per row; add select_related("customer") to the queryset'),
    ]


def test_unknown_model_in_the_project_stays_silent() -> None:
    source = """
    from billing.models import Invoice
    def report():
        for invoice in Invoice.objects.all():
            print(invoice.customer.name)
    """
    assert findings_in_project(source, "CDJ406", "billing.reports", [SHOP_MODELS]) == []


def test_reading_only_the_key_suggests_the_column() -> None:
    source = MODELS + """
def keys():
    return [item.order.pk for item in Line.objects.all()], [o.customer.name for o in Order.objects.all()]
"""
    findings = check_source(source, "x.py", all_codes_settings())
    found = [(f.line, f.col, f.message) for f in findings if f.code == "CDJ406"]
    assert found == [
        (20, 12, "CDJ406 item.order is a query per row; read item.order_id instead"),
        (20, 60, 'CDJ406 o.customer is a query per row; add select_related("customer") to the queryset'),
    ]


def test_one_finding_per_loop_names_every_relation_to_select() -> None:
    source = MODELS + """
def rows():
    for line in Line.objects.all():
        print(line.label, line.order.number, line.order.customer.name)
        print(line.order.pk)
    for profile in Profile.objects.all():
        print(profile.customer.pk, profile.customer.name)
    for order in Order.objects.all():
        print(order.customer.pk)
    for line in Line.objects.all():
        print(line.order.customer.pk)
"""
    findings = check_source(source, "x.py", all_codes_settings())
    assert [(f.line, f.col, f.message) for f in findings if f.code == "CDJ406"] == [
        (
            21, 26,
            'CDJ406 line.order is a query per row; add select_related("order__customer") to the queryset',
        ),
        (24, 14, 'CDJ406 profile.customer is a query per row; add select_related("customer") to the queryset'),
        (26, 14, "CDJ406 order.customer is a query per row; read order.customer_id instead"),
        (28, 14, 'CDJ406 line.order is a query per row; add select_related("order") to the queryset'),
    ]


def test_management_commands_are_left_alone() -> None:
    source = MODELS + """
def handle():
    for order in Order.objects.all():
        print(order.customer.name)
"""
    assert [f for f in check_source(source, "shop/management/commands/x.py", all_codes_settings())] == []


def test_testing_a_relation_for_none_suggests_the_column() -> None:
    source = MODELS + """
def flags():
    for order in Order.objects.all():
        if order.customer and order.number:
            pass
    for line in Line.objects.all():
        if line.order.customer is None:
            pass
    names = [o.number for o in Order.objects.all() if not o.customer]
    for customer in Customer.objects.all():
        if customer.profile:
            pass
    for order in Order.objects.all():
        fallback = order.customer or None
    for line in Line.objects.all():
        if line.order:
            print(line.order.number)
"""
    findings = check_source(source, "x.py", all_codes_settings())
    assert [(f.line, f.col, f.message) for f in findings if f.code == "CDJ406"] == [
        (21, 11, "CDJ406 order.customer is a query per row; read order.customer_id instead"),
        (24, 11, 'CDJ406 line.order is a query per row; add select_related("order") to the queryset'),
        (26, 58, "CDJ406 o.customer is a query per row; read o.customer_id instead"),
        (28, 11, 'CDJ406 customer.profile is a query per row; add select_related("profile") to the queryset'),
        (31, 19, 'CDJ406 order.customer is a query per row; add select_related("customer") to the queryset'),
        (33, 11, 'CDJ406 line.order is a query per row; add select_related("order") to the queryset'),
    ]
