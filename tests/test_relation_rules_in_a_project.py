"""CDJ303 and CDJ406-408 on a small project: models, serializers and views in different modules."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from flake8_celery_django.api import check_source
from flake8_celery_django.project.facts import ModuleFacts
from flake8_celery_django.project.index import build_index
from flake8_celery_django.project.serialize import facts_from_json, facts_to_json
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings
from tests.project_files import write_project
from tests.test_get_or_create_lookup import SOFT_DELETED

CODES = ("CDJ303", "CDJ406", "CDJ407", "CDJ408")

PROJECT = {
    "setup.cfg": "",
    "catalogue/__init__.py": "",
    "catalogue/base.py": """
        from django.db import models


        class Named(models.Model):
            slug = models.SlugField(unique=True)

            class Meta:
                abstract = True
        """,
    "catalogue/models.py": """
        from django.db import models

        from .base import Named


        class Brand(Named):
            name = models.CharField(max_length=100)


        class Item(Named):
            brand = models.ForeignKey(Brand, related_name="items", on_delete=models.CASCADE)
            tags = models.ManyToManyField("catalogue.Tag")
            sku = models.CharField(max_length=20)


        class Tag(models.Model):
            label = models.CharField(max_length=20)
        """,
    "catalogue/serializers.py": """
        from rest_framework import serializers

        from catalogue.models import Brand, Item


        class BrandSerializer(serializers.ModelSerializer):
            class Meta:
                model = Brand
                fields = ["name"]


        class ItemSerializer(serializers.ModelSerializer):
            brand = BrandSerializer()
            tag_labels = serializers.SlugRelatedField(source="tags", slug_field="label", many=True, read_only=True)

            class Meta:
                model = Item
                fields = ["sku", "brand", "tag_labels"]
        """,
    "catalogue/views.py": """
        from rest_framework import viewsets

        from catalogue.models import Item
        from catalogue.serializers import ItemSerializer


        class ItemViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Item.objects.select_related("brand")
            serializer_class = ItemSerializer


        class FetchedItemViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Item.objects.select_related("brand").prefetch_related("tags")
            serializer_class = ItemSerializer
        """,
    "catalogue/reports.py": """
        from catalogue.models import Brand, Item, Tag


        def price_list():
            return [(item.sku, item.brand.name, item.brand_id) for item in Item.objects.filter(sku__startswith="A")]


        def joined_price_list():
            return [(item.sku, item.brand.name) for item in Item.objects.select_related("brand")]


        def tagged():
            return Item.objects.select_related("brand", "tags")


        def tag_named(label):
            return Tag.objects.get_or_create(label=label)[0], Brand.objects.get_or_create(slug=label)[0]
        """,
}

EXPECTED = {
    "catalogue/views.py": [
        (8, 15, 'CDJ408 ItemViewSet serializes tags per row; add prefetch_related("tags")'),
    ],
    "catalogue/reports.py": [
        (5, 23, 'CDJ406 item.brand is a query per row; add select_related("brand") to the queryset'),
        (13, 48, 'CDJ407 Item.tags is to-many: select_related("tags") raises FieldError; prefetch it'),
        (17, 11, "CDJ303 get_or_create(label) races: add a unique constraint on these fields to Tag"),
    ],
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("catalogue"), PROJECT)


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_findings_across_modules(project: Path, module: str) -> None:
    path = project / module
    settings = Settings(enabled=frozenset(RULES), cache_dir=str(project / ".cache"))
    findings = check_source(path.read_text(), str(path), settings, strict=True)
    assert [(f.line, f.col, f.message) for f in findings if f.code in CODES] == EXPECTED[module]


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_without_the_index_the_other_modules_are_unknown(project: Path, module: str) -> None:
    path = project / module
    settings = Settings(enabled=frozenset(RULES), project_index=False)
    findings = check_source(path.read_text(), str(path), settings, strict=True)
    assert [f for f in findings if f.code in CODES] == []


FLEET = {
    "setup.cfg": "",
    "fleet/__init__.py": "",
    "fleet/base.py": """
        from django.db import models


        class Component(models.Model):
            class Meta:
                abstract = True

            @property
            def peers(self):
                return type(self).objects.filter(name=self.name)
        """,
    "fleet/models.py": """
        from django.db import models

        from .base import Component


        class Device(Component):
            name = models.CharField(max_length=100)

            @property
            def vc_interfaces(self):
                return Interface.objects.filter(device__name=self.name)

            @property
            def active_ports(self):
                return self.ports.filter(enabled=True)

            @property
            def all_ports(self):
                return self.ports


        class Interface(models.Model):
            device = models.ForeignKey(Device, related_name="ports", on_delete=models.CASCADE)
        """,
    "fleet/filters.py": """
        from fleet.models import Device


        def interface_ids():
            ids = []
            for device in Device.objects.all():
                ids.extend(device.vc_interfaces.values_list("id", flat=True))
                ids.extend(device.peers.values_list("id", flat=True))
                ids.extend(device.ports.values_list("id", flat=True))
                ids.extend(device.active_ports.values_list("id", flat=True))
                ids.extend(device.all_ports.values_list("id", flat=True))
            return ids
        """,
}


def test_a_method_or_property_of_a_project_model_is_not_a_related_manager(tmp_path: Path) -> None:
    root = write_project(tmp_path, FLEET)
    path = root / "fleet/filters.py"
    settings = Settings(enabled=frozenset(RULES), cache_dir=str(root / ".cache"))
    findings = check_source(path.read_text(), str(path), settings, strict=True)
    assert [(f.line, f.col, f.message) for f in findings if f.code == "CDJ405"] == [
        (9, 19, 'CDJ405 device.ports.values_list() queries once per Device row (N+1); add prefetch_related("ports")'),
        (
            11,
            19,
            "CDJ405 device.all_ports.values_list() queries once per Device row (N+1);"
            ' add prefetch_related("all_ports")',
        ),
    ]


def test_the_index_keeps_soft_deletion_constraints_and_model_methods(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {"setup.cfg": "", "shop/__init__.py": "", "shop/models.py": textwrap.dedent(SOFT_DELETED) + FEES},
    )
    knowledge = build_index(str(root), None).knowledge
    vote, order = knowledge.model("shop.models.Vote"), knowledge.model("shop.models.Order")
    assert vote is not None and order is not None
    assert vote.unique_when_null == ((frozenset({"project", "actor"}), "deleted_at"),)
    assert (order.methods, order.method_returns) == (frozenset({"fees", "total"}), (("fees", "all_fees"),))
    for model in (vote, order):
        facts = ModuleFacts("shop.models", models=(model,))
        assert facts_from_json(json.loads(json.dumps(facts_to_json(facts)))) == facts


FEES = """
class Order(models.Model):
    @property
    def fees(self):
        return self.all_fees(manager="objects")

    def total(self):
        return sum(fee.value for fee in self.fees.all())
"""
