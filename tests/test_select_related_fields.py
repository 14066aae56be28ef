from __future__ import annotations

import pytest

from flake8_celery_django.api import check_source
from flake8_celery_django.project.facts import FieldFact, ModelFact, ModuleFacts
from tests.cases import Case, all_codes_settings, assert_case, invalid, valid
from tests.project_cases import findings_in_project

MODELS = """
from django.db import models

class Tag(models.Model):
    name = models.CharField(max_length=10)

class Customer(models.Model):
    name = models.CharField(max_length=10)

class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    tags = models.ManyToManyField(Tag)
    number = models.IntegerField()

class Profile(models.Model):
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="profile")
    role = RoleField(on_delete=models.PROTECT)
"""

CASES: list[Case] = [
    invalid(
        "CDJ407",
        MODELS
        + """
def view():
    Order.objects.select_related("tags", "customer", "number")
    Customer.objects.filter(name="x").select_related("orders")
    orders = Order.objects.all()
    return orders.select_related("customer__orders", "customer__profile")
""",
        (20, 33), (20, 53), (21, 53), (23, 33),
    ),
    valid(
        "CDJ407",
        MODELS
        + """
def view(lookup, queryset):
    Order.objects.select_related("customer", "customer__profile")
    Customer.objects.select_related("profile")
    Profile.objects.select_related("role")
    Order.objects.prefetch_related("tags", "customer__orders")
    Order.objects.select_related(lookup)
    Order.objects.select_related()
    Order.objects.select_related("shipping", "customer__address")
    queryset.select_related("tags")
""",
    ),
    valid(
        "CDJ407",
        """
from shop.models import Order
def view():
    return Order.objects.select_related("tags", "number")
""",
    ),
    # values() and values_list() turn select_related off (Query.set_values): nothing is checked.
    valid(
        "CDJ407",
        MODELS
        + """
def latest(number):
    stamps = Order.objects.select_related("customer__name").order_by("-number").values_list("number", flat=True)
    rows = Order.objects.filter(number=number).select_related("tags", "number")
    if number:
        rows = rows.filter(number__gt=0)
    return [row for row in rows.values("customer__name")]
""",
    ),
    # Read as values in another function, or the same name in another function: still reported.
    invalid(
        "CDJ407",
        MODELS
        + """
def rows():
    rows = Order.objects.select_related("tags")
    return rows

def names():
    return rows().values("number")

def other():
    rows = Order.objects.select_related("number")
    return list(rows)

def values_elsewhere():
    rows = Order.objects.all()
    return rows.values("number")
""",
        (20, 40), (27, 40),
    ),
    # A data migration queries the models of its migration state, which may differ from today's.
    valid(
        "CDJ407",
        MODELS
        + """
def forwards(apps, schema_editor):
    Order.objects.select_related("tags")
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_case(case: Case) -> None:
    assert_case(case)


def test_messages_say_what_the_field_is_and_what_to_do() -> None:
    source = CASES[0].source
    messages = [f.message for f in check_source(source, "x.py", all_codes_settings()) if f.code == "CDJ407"]
    assert messages == [
        'CDJ407 Order.tags is to-many: select_related("tags") raises FieldError; prefetch it',
        'CDJ407 Order.number is not a relation: select_related("number") raises FieldError; remove it',
        'CDJ407 Customer.orders is to-many: select_related("orders") raises FieldError; prefetch it',
        'CDJ407 Customer.orders is to-many: select_related("customer__orders") raises FieldError; prefetch it',
    ]


def test_model_and_reverse_relation_from_the_project_index() -> None:
    facts = ModuleFacts(
        "shop.models",
        models=(
            ModelFact(
                "shop.models.Customer",
                fields=(
                    FieldFact("orders", "foreign_key", "shop.models.Order", reverse=True),
                    FieldFact("owner", "generic_foreign_key", field_class="GenericForeignKey"),
                ),
            ),
            ModelFact("shop.models.Order", fields=(FieldFact("customer", "foreign_key", "shop.models.Customer"),)),
        ),
    )
    source = """
    from shop.models import Order
    def view():
        return Order.objects.select_related("customer", "customer__orders", "customer__city", "customer__owner")
    """
    assert findings_in_project(source, "CDJ407", "shop.views", [facts]) == [
        (4, 52, 'CDJ407 Customer.orders is to-many: select_related("customer__orders") raises FieldError; prefetch it'),
        (
            4, 90,
            'CDJ407 Customer.owner is a generic key: select_related("customer__owner") raises FieldError; prefetch it',
        ),
    ]


def test_a_generic_foreign_key_of_a_model_in_the_same_file() -> None:
    source = """
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models

class Comment(models.Model):
    target = GenericForeignKey("target_type", "target_id")
    author = models.ForeignKey("auth.User", on_delete=models.CASCADE)

def view():
    Comment.objects.select_related("author")
    Comment.objects.prefetch_related("target")
    return Comment.objects.select_related("target")
"""
    findings = check_source(source, "x.py", all_codes_settings())
    found = [(f.line, f.col, f.message) for f in findings if f.code == "CDJ407"]
    assert found == [
        (12, 42, 'CDJ407 Comment.target is a generic key: select_related("target") raises FieldError; prefetch it'),
    ]


def test_migrations_query_historical_models() -> None:
    source = MODELS + """
def forwards(apps, schema_editor):
    pass
Customer.objects.select_related("orders")
"""
    settings = all_codes_settings()

    def found(filename: str) -> list[tuple[int, int, str]]:
        return [(f.line, f.col, f.message) for f in check_source(source, filename, settings) if f.code == "CDJ407"]

    assert found("shop/views.py") == [
        (21, 32, 'CDJ407 Customer.orders is to-many: select_related("orders") raises FieldError; prefetch it'),
    ]
    assert found("shop/migrations/0077_drafts.py") == []
