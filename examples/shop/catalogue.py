"""The catalogue: models, serializers and API views in one module.

The relation rules read the model definitions (and the serializers) of the file itself, and those of
the whole project when the project index is on.
"""

from django.db import models
from rest_framework import serializers, viewsets


class Brand(models.Model):
    name = models.CharField(max_length=100, unique=True)


class Tag(models.Model):
    name = models.CharField(max_length=50)


class Item(models.Model):
    brand = models.ForeignKey(Brand, related_name="items", on_delete=models.CASCADE)
    tags = models.ManyToManyField(Tag)
    sku = models.CharField(max_length=20)


# -- CDJ303: get_or_create on a lookup without a unique constraint -------------------------------
def tag_named(name):
    tag, _ = Tag.objects.get_or_create(name=name)  # CDJ303
    return tag


def brand_named(name):
    brand, _ = Brand.objects.get_or_create(name=name)  # correct: Brand.name is unique
    return brand


# -- CDJ406: a foreign key followed per row ------------------------------------------------------
def price_list():
    return [(item.sku, item.brand.name) for item in Item.objects.all()]  # CDJ406


def price_list_joined():
    return [(item.sku, item.brand.name) for item in Item.objects.select_related("brand")]  # correct


# -- CDJ407: select_related on a many-to-many ----------------------------------------------------
def tagged_items():
    return Item.objects.select_related("brand", "tags")  # CDJ407


def tagged_items_prefetched():
    return Item.objects.select_related("brand").prefetch_related("tags")  # correct


# -- CDJ408: a serializer reads a relation the view's queryset does not fetch --------------------
class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["name"]


class ItemSerializer(serializers.ModelSerializer):
    brand = BrandSerializer()

    class Meta:
        model = Item
        fields = ["sku", "brand"]


class ItemViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Item.objects.all()  # CDJ408
    serializer_class = ItemSerializer


class JoinedItemViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Item.objects.select_related("brand")  # correct
    serializer_class = ItemSerializer
