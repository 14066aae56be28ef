"""CDJ1xx: what the order views hand to Celery tasks."""

from django.shortcuts import get_object_or_404
from django.views.generic import DetailView

from .models import Order
from .tasks import export_orders, send_receipt, ship_by_id


def receipt(request, pk):
    order = get_object_or_404(Order, pk=pk)
    send_receipt.delay(order)  # CDJ101


def receipt_by_id(request, pk):
    order = get_object_or_404(Order, pk=pk)
    send_receipt.delay(order.pk)


class ShipOrderView(DetailView):
    model = Order

    def post(self, request, *args, **kwargs):
        ship_by_id.apply_async(args=(self.get_object(),), countdown=60)  # CDJ101

    def put(self, request, *args, **kwargs):
        ship_by_id.apply_async(args=(self.get_object().pk,), countdown=60)


def export_unpaid(request):
    unpaid = Order.objects.filter(paid=False)
    export_orders.delay(unpaid, {"csv", "xlsx"})  # CDJ103, CDJ103


def export_unpaid_by_id(request):
    unpaid = Order.objects.filter(paid=False)
    export_orders.delay(list(unpaid.values_list("pk", flat=True)), ["csv", "xlsx"])
