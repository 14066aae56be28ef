from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from flake8_celery_django.api import check_source
from flake8_celery_django.project.facts import (
    FieldFact,
    ModelFact,
    ModuleFacts,
    SerializerFact,
    SerializerFieldFact,
)
from flake8_celery_django.project.serializers import serializer_facts
from tests.cases import Case, all_codes_settings, assert_case, invalid, valid
from tests.project_cases import findings_in_project
from tests.project_files import findings_in, write_project

MODELS_AND_SERIALIZERS = """
from django.db import models
from django.db.models import Prefetch
from rest_framework import generics, mixins, serializers, viewsets

class Customer(models.Model):
    name = models.CharField(max_length=10)

class Product(models.Model):
    name = models.CharField(max_length=10)

class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")

class Line(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.CASCADE)

class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["name"]

class LineSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name")
    class Meta:
        model = Line
        fields = ["product_name"]

class OrderSerializer(serializers.ModelSerializer):
    customer = CustomerSerializer()
    lines = LineSerializer(many=True)
    class Meta:
        model = Order
        fields = ["customer", "lines"]
"""

CASES: list[Case] = [
    invalid(
        "CDJ408",
        MODELS_AND_SERIALIZERS
        + """
class OrderList(generics.ListAPIView):
    queryset = Order.objects.all()
    serializer_class = OrderSerializer

class OrderViewSet(viewsets.ModelViewSet):
    serializer_class = OrderSerializer
    def get_queryset(self):
        return Order.objects.select_related("customer").prefetch_related("lines")

class LineList(mixins.ListModelMixin, generics.GenericAPIView):
    queryset = Line.objects.filter(product__name="x")
    serializer_class = LineSerializer
""",
        (38, 15), (43, 4), (47, 15),
    ),
    valid(
        "CDJ408",
        MODELS_AND_SERIALIZERS
        + """
class Orders(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrderSerializer
    queryset = Order.objects.select_related("customer").prefetch_related(
        Prefetch("lines", queryset=Line.objects.select_related("product"))
    )

class OneOrder(generics.RetrieveAPIView):
    queryset = Order.objects.all()
    serializer_class = OrderSerializer

class CustomOrders(generics.ListAPIView):
    serializer_class = OrderSerializer
    def get_queryset(self):
        return Order.objects.for_customer(self.request.user)

class ByAction(viewsets.ModelViewSet):
    queryset = Order.objects.all()
    serializer_class = OrderSerializer
    def get_serializer_class(self):
        return CustomerSerializer

class Lines(generics.ListAPIView):
    serializer_class = LineSerializer
    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.select_related("product")
    queryset = Line.objects.all()

class Customers(generics.ListAPIView):
    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer

class CloneOrder(viewsets.ModelViewSet):
    queryset = Order.objects.none()
    serializer_class = OrderSerializer

class PostOrders(viewsets.ModelViewSet):
    queryset = Order.objects.all()
    serializer_class = OrderSerializer
    http_method_names = ["post"]

class OrdersOfProjectBase(PermissionMixin, viewsets.ModelViewSet):
    serializer_class = OrderSerializer
    def get_queryset(self):
        return super().get_queryset().filter(customer__name="x")

class OrdersOfCustomer(viewsets.ModelViewSet):
    serializer_class = OrderSerializer
    def get_queryset(self):
        user = self.request.user
        queryset = self.request.customer.orders
        return queryset.select_related("customer").filter(placed_by=user)
""",
    ),
    valid(
        "CDJ408",
        """
from rest_framework import generics
from shop.models import Order
from shop.serializers import OrderSerializer

class OrderList(generics.ListAPIView):
    queryset = Order.objects.all()
    serializer_class = OrderSerializer
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_case(case: Case) -> None:
    assert_case(case)


def test_message_names_serializer_lookup_view_and_remedy() -> None:
    messages = [f.message for f in check_source(CASES[0].source, "x.py", all_codes_settings()) if f.code == "CDJ408"]
    assert messages == [
        'CDJ408 OrderList serializes customer and 2 more per row; add select_related("customer")',
        'CDJ408 OrderViewSet serializes lines__product per row; add prefetch_related("lines__product")',
        'CDJ408 LineList serializes product per row; add select_related("product")',
    ]


def test_serializer_facts_of_a_module() -> None:
    tree = ast.parse(
        textwrap.dedent(
            """
            from rest_framework import serializers
            from .models import Order
            from accounts.serializers import CustomerSerializer as Customers

            class LineSerializer(serializers.ModelSerializer):
                product = serializers.SlugRelatedField(slug_field="name", read_only=True)
                product_id = serializers.PrimaryKeyRelatedField(read_only=True)
                everything = serializers.CharField(source="*")

            class OrderSerializer(serializers.ModelSerializer):
                customer = Customers()
                lines = LineSerializer(many=True, read_only=True)
                city = serializers.CharField(source="customer.address.city")
                class Meta:
                    model = Order

            class DetailSerializer(OrderSerializer):
                pass

            class NotASerializer:
                customer = Customers()
            """
        )
    )
    assert serializer_facts(tree, "shop.api.serializers") == (
        SerializerFact(
            "shop.api.serializers.LineSerializer",
            fields=(SerializerFieldFact("product", "product"),),
        ),
        SerializerFact(
            "shop.api.serializers.OrderSerializer",
            model="shop.api.models.Order",
            fields=(
                SerializerFieldFact("customer", "customer", serializer="accounts.serializers.CustomerSerializer"),
                SerializerFieldFact("lines", "lines", many=True, serializer="shop.api.serializers.LineSerializer"),
                SerializerFieldFact("city", "customer__address__city"),
            ),
        ),
        SerializerFact("shop.api.serializers.DetailSerializer", bases=("shop.api.serializers.OrderSerializer",)),
    )


PROJECT = [
    ModuleFacts(
        "shop.models",
        models=(
            ModelFact("shop.models.Customer", fields=(FieldFact("name", "plain"),)),
            ModelFact("shop.models.Order", fields=(FieldFact("customer", "foreign_key", "shop.models.Customer"),)),
        ),
    ),
    ModuleFacts(
        "shop.serializers",
        serializers=(
            SerializerFact("shop.serializers.CustomerSerializer", model="shop.models.Customer"),
            SerializerFact(
                "shop.serializers.OrderSerializer",
                model="shop.models.Order",
                fields=(SerializerFieldFact("customer", "customer", serializer="shop.serializers.CustomerSerializer"),),
            ),
            SerializerFact("shop.serializers.DetailSerializer", bases=("shop.serializers.OrderSerializer",)),
        ),
    ),
]


def test_serializer_and_model_from_other_modules() -> None:
    source = """
    from rest_framework import viewsets
    from .models import Order
    from .serializers import DetailSerializer, OrderSerializer

    class Orders(viewsets.ModelViewSet):
        queryset = Order.objects.filter(customer__name="x")
        serializer_class = DetailSerializer

    class Selected(viewsets.ModelViewSet):
        queryset = Order.objects.select_related("customer")
        serializer_class = OrderSerializer
    """
    assert findings_in_project(source, "CDJ408", "shop.views", PROJECT) == [
        (7, 15, 'CDJ408 Orders serializes customer per row; add select_related("customer")'),
    ]


ROUTED = {
    "setup.cfg": "[metadata]\nname = shop\n",
    "shop/__init__.py": "",
    "shop/models.py": """
        from django.db import models


        class Customer(models.Model):
            name = models.CharField(max_length=10)


        class Order(models.Model):
            customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
        """,
    "shop/serializers.py": """
        from rest_framework import serializers

        from shop.models import Customer, Order


        class CustomerSerializer(serializers.ModelSerializer):
            class Meta:
                model = Customer
                fields = ["name"]


        class OrderSerializer(serializers.ModelSerializer):
            customer = CustomerSerializer()

            class Meta:
                model = Order
                fields = ["customer"]
        """,
    "shop/views.py": """
        from rest_framework import viewsets

        from shop.models import Order
        from shop.serializers import OrderSerializer


        class OrderDetail(viewsets.ReadOnlyModelViewSet):
            queryset = Order.objects.all()
            serializer_class = OrderSerializer


        class OrderList(viewsets.ReadOnlyModelViewSet):
            queryset = Order.objects.all()
            serializer_class = OrderSerializer


        class OrderRouted(viewsets.ReadOnlyModelViewSet):
            queryset = Order.objects.all()
            serializer_class = OrderSerializer


        class OrderUnrouted(viewsets.ReadOnlyModelViewSet):
            queryset = Order.objects.all()
            serializer_class = OrderSerializer
        """,
    "shop/urls.py": """
        from django.urls import path
        from rest_framework import routers

        from shop import views
        from shop.views import OrderDetail

        router = routers.DefaultRouter()
        router.register("routed", views.OrderRouted, basename="routed")

        urlpatterns = [
            path("orders/<int:pk>/", OrderDetail.as_view({"get": "retrieve"})),
            path("orders/", views.OrderList.as_view({"get": "list", "post": "create"})),
        ]
        """,
}


def test_a_viewset_routed_only_to_retrieve_lists_nothing(tmp_path: Path) -> None:
    root = write_project(tmp_path, ROUTED)
    assert findings_in(root, "shop/views.py", frozenset({"CDJ408"})) == [
        (13, 15, 'CDJ408 OrderList serializes customer per row; add select_related("customer")'),
        (18, 15, 'CDJ408 OrderRouted serializes customer per row; add select_related("customer")'),
        (23, 15, 'CDJ408 OrderUnrouted serializes customer per row; add select_related("customer")'),
    ]
