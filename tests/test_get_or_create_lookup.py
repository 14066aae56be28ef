from __future__ import annotations

import pytest

from flake8_celery_django.project.facts import FieldFact, ModelFact, ModuleFacts
from tests.cases import Case, assert_case, invalid, valid
from tests.project_cases import findings_in_project

MODELS = """
from django.db import models

class Org(models.Model):
    slug = models.SlugField(unique=True)

class Member(models.Model):
    org = models.ForeignKey(Org, on_delete=models.CASCADE)
    email = models.EmailField()
    code = models.CharField(max_length=5, primary_key=True)
    class Meta:
        unique_together = ("org", "email")

class Tag(models.Model):
    org = models.ForeignKey(Org, on_delete=models.CASCADE)
    name = models.CharField(max_length=10)
    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="tag", condition=models.Q(active=True)),
        ]
"""

CASES: list[Case] = [
    invalid(
        "CDJ303",
        MODELS
        + """
def sync(org, rows):
    Member.objects.get_or_create(email="a", defaults={"org": org})
    Tag.objects.update_or_create(org=org, name="x")
    Org.objects.filter(slug__startswith="a").get_or_create(name="b")
""",
        (23, 4), (24, 4), (25, 4),
    ),
    valid(
        "CDJ303",
        MODELS
        + """
def sync(org, rows, lookup):
    Org.objects.get_or_create(slug="a", defaults={"name": "x"})
    Member.objects.get_or_create(org=org, email="a")
    Member.objects.get_or_create(org_id=org.pk, email="a")
    Member.objects.filter(org=org).get_or_create(email="a")
    Member.objects.update_or_create(code="x", defaults={"email": "a"})
    Tag.objects.get_or_create(pk=3)
    Tag.objects.get_or_create(**lookup)
    Tag.objects.get_or_create(defaults={"name": "x"})
""",
    ),
    valid(
        "CDJ303",
        """
from shop.models import Tag
def sync():
    Tag.objects.get_or_create(name="x")
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_case(case: Case) -> None:
    assert_case(case)


PROJECT = [
    ModuleFacts(
        "shop.models",
        models=(
            ModelFact("shop.models.Base", abstract=True, fields=(FieldFact("slug", "plain", unique=True),)),
            ModelFact("shop.models.Tag", bases=("shop.models.Base",), fields=(FieldFact("name", "plain"),)),
        ),
    )
]


def test_model_and_its_base_from_the_project_index() -> None:
    source = """
    from shop.models import Tag
    def sync():
        Tag.objects.get_or_create(slug="x")
        Tag.objects.get_or_create(name="x")
    """
    assert findings_in_project(source, "CDJ303", "shop.sync", PROJECT) == [
        (5, 4, "CDJ303 get_or_create(name) can insert duplicates: add a unique constraint on them to Tag"),
    ]


def test_tests_and_migrations_are_not_concurrent() -> None:
    source = """
    from shop.models import Tag
    def test_sync():
        Tag.objects.get_or_create(name="x")
    """
    assert findings_in_project(source, "CDJ303", "shop.tests.test_sync", PROJECT) == []
