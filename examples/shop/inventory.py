"""CDJ3xx and CDJ4xx: stock and loyalty bookkeeping, with lost updates and ORM work in loops."""

from django.db import transaction
from django.db.models import F

from .models import Customer, Order, OrderLine, Product


# -- CDJ301: read-modify-write ------------------------------------------------------------------
def add_loyalty_points(customer_id, points):
    customer = Customer.objects.get(pk=customer_id)
    customer.loyalty_points += points  # CDJ301
    customer.save(update_fields=["loyalty_points"])


def add_loyalty_points_atomically(customer_id, points):
    Customer.objects.filter(pk=customer_id).update(loyalty_points=F("loyalty_points") + points)


def take_from_stock(product_id, quantity):
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product_id)
        product.stock -= quantity
        product.save(update_fields=["stock"])


# -- CDJ302: a row lock outside a transaction ----------------------------------------------------
def peek_locked_product(product_id):
    return Product.objects.select_for_update().get(pk=product_id)  # CDJ302


def peek_locked_product_in_transaction(product_id):
    with transaction.atomic():
        return Product.objects.select_for_update().get(pk=product_id)


# -- CDJ401: one INSERT per row ------------------------------------------------------------------
def add_lines(order, rows):
    for row in rows:
        OrderLine.objects.create(order=order, product_id=row["product"], quantity=row["quantity"])  # CDJ401


def add_lines_in_bulk(order, rows):
    OrderLine.objects.bulk_create(
        [OrderLine(order=order, product_id=row["product"], quantity=row["quantity"]) for row in rows]
    )


# -- CDJ402: one UPDATE per row ------------------------------------------------------------------
def mark_paid(order_ids):
    for order in Order.objects.filter(pk__in=order_ids):
        order.paid = True
        order.save(update_fields=["paid"])  # CDJ402


def mark_paid_at_once(order_ids):
    Order.objects.filter(pk__in=order_ids).update(paid=True)


# -- CDJ403: one DELETE per row ------------------------------------------------------------------
def drop_unpaid(order_ids):
    for order_id in order_ids:
        Order.objects.filter(pk=order_id, paid=False).delete()  # CDJ403


def drop_unpaid_at_once(order_ids):
    Order.objects.filter(pk__in=order_ids, paid=False).delete()


# -- CDJ404: one query per iteration -------------------------------------------------------------
def price_list(product_ids):
    return [Product.objects.get(pk=product_id).price for product_id in product_ids]  # CDJ404


def price_list_in_one_query(product_ids):
    products = Product.objects.in_bulk(product_ids)
    return [products[product_id].price for product_id in product_ids]


# -- CDJ405: N+1 through a related manager -------------------------------------------------------
def line_counts():
    return {order.pk: order.lines.count() for order in Order.objects.filter(paid=True)}  # CDJ405


def line_counts_prefetched():
    orders = Order.objects.filter(paid=True).prefetch_related("lines")
    return {order.pk: len(order.lines.all()) for order in orders}


# -- CDJ409: get_or_create per item of data with no visible bound --------------------------------
def stock_products(product_ids):
    return [Product.objects.get_or_create(pk=pk, defaults={"stock": 0})[0] for pk in product_ids]  # CDJ409


def stock_products_in_two_queries(product_ids):
    existing = Product.objects.in_bulk(product_ids)
    Product.objects.bulk_create([Product(pk=pk, stock=0) for pk in set(product_ids) - existing.keys()])
    return list(Product.objects.filter(pk__in=product_ids))


def stock_default_products():
    # A literal tuple: three rows, visible in the source.
    return [Product.objects.get_or_create(pk=pk, defaults={"stock": 0})[0] for pk in (1, 2, 3)]
