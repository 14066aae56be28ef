"""Models of the real-stack tests."""

from django.db import models


class Order(models.Model):
    sku = models.CharField(max_length=40)

    class Meta:
        app_label = "real_stack"


class Product(models.Model):
    name = models.CharField(max_length=40)
    stock = models.IntegerField(default=0)

    class Meta:
        app_label = "real_stack"


class Line(models.Model):
    sku = models.CharField(max_length=40)
    quantity = models.IntegerField()

    class Meta:
        app_label = "real_stack"
