"""CDJ301 (F() update) and CDJ401 (bulk_create) fixes, both unsafe.

Each case names where its rule reports (CDJ301 on the modifying statement, CDJ401 on the create
call); see ``check_fix_at``.
"""

from __future__ import annotations

import ast

import pytest

from tests.fixing import check_fix_at, check_transformed, fix, fix_at


def test_cdj301_augmented_assignment_becomes_an_f_expression() -> None:
    check_fix_at(
        "CDJ301",
        ast.AugAssign,
        """
        from shop.models import Product

        def sell(pk, quantity):
            product = Product.objects.get(pk=pk)
            product.stock -= quantity
            product.sold += 1  # counted
            product.price *= 1 + rate
            product.save()
        """,
        [(6, 4), (7, 4), (8, 4)],
        """
        from django.db.models import F
        from shop.models import Product

        def sell(pk, quantity):
            product = Product.objects.get(pk=pk)
            product.stock = F("stock") - quantity
            product.sold = F("sold") + 1  # counted
            product.price = F("price") * (1 + rate)
            product.save()
        """,
    )


def test_cdj301_assignment_from_the_same_field() -> None:
    check_fix_at(
        "CDJ301",
        ast.Assign,
        """
        from django.db import models

        def sell(products, quantity, bonus):
            for product in products:
                product.stock = product.stock - quantity - bonus
                product.views = 1 + product.views
                product.save()
        """,
        [(6, 8), (7, 8)],
        """
        from django.db import models

        def sell(products, quantity, bonus):
            for product in products:
                product.stock = models.F("stock") - quantity - bonus
                product.views = 1 + models.F("views")
                product.save()
        """,
    )


@pytest.mark.parametrize(
    ("source", "position", "node_type"),
    [
        ("def f(p):\n    p.stock //= 2\n", (2, 4), ast.AugAssign),  # F() has no //
        ("def f(p):\n    p.stock = other.stock + 1\n", (2, 4), ast.Assign),
        ("def f(p):\n    p.stock = (p.stock + 1) * 2\n", (2, 4), ast.Assign),
        ("def f(p):\n    stock += 1\n", (2, 4), ast.AugAssign),
    ],
)
def test_cdj301_no_op(source: str, position: tuple[int, int], node_type: type[ast.AST]) -> None:
    assert fix_at("CDJ301", source, node_type, position) == source


def test_cdj301_is_unsafe_and_needs_the_flag() -> None:
    source = "def f(p):\n    p.stock -= 1\n    p.save()\n"
    assert fix(source, unsafe=False) == source


def test_cdj401_loop_of_creates_becomes_one_bulk_create() -> None:
    check_fix_at(
        "CDJ401",
        ast.Call,
        """
        from shop.models import Line

        def import_lines(order, rows, a, b, c):
            # one insert per row
            for sku, quantity in rows:
                Line.objects.create(order=order, sku=sku, quantity=quantity)  # slow
            for row in a if c else b:
                Line.objects.create(**row)
        """,
        [(7, 8), (9, 8)],
        """
        from shop.models import Line

        def import_lines(order, rows, a, b, c):
            # one insert per row
            Line.objects.bulk_create(
                [
                    Line(order=order, sku=sku, quantity=quantity)
                    for sku, quantity in rows
                ]
            )  # slow
            Line.objects.bulk_create([Line(**row) for row in (a if c else b)])
        """,
    )


@pytest.mark.parametrize(
    ("source", "position"),
    [
        # the loop does more than create
        ("for r in rows:\n    Line.objects.create(**r)\n    log(r)\n", (2, 4)),
        # the result is used
        ("for r in rows:\n    line = Line.objects.create(**r)\n", (2, 11)),
        # positional arguments: not a plain create(**fields)
        ("for r in rows:\n    Line.objects.create(r)\n", (2, 4)),
        # a related manager sets the foreign key itself
        ("for r in rows:\n    order.lines.create(**r)\n", (2, 4)),
        # else clause, and a comment that would be lost
        ("for r in rows:\n    Line.objects.create(**r)\nelse:\n    pass\n", (2, 4)),
        ("for r in rows:\n    # keep me\n    Line.objects.create(**r)\n", (3, 4)),
        ("async def f():\n    async for r in rows:\n        Line.objects.create(**r)\n", (3, 8)),
    ],
)
def test_cdj401_no_op(source: str, position: tuple[int, int]) -> None:
    assert fix_at("CDJ401", source, ast.Call, position) == source


def test_cdj401_keeps_aligned_arguments_aligned() -> None:
    source = "def f(rows):\n    for r in rows:\n        Line.objects.create(a=r,\n                            b=2)\n"
    assert fix_at("CDJ401", source, ast.Call, (3, 8)).splitlines() == [
        "def f(rows):",
        "    Line.objects.bulk_create([Line(a=r,",
        "                                   b=2) for r in rows])",
    ]


def test_cdj401_a_comprehension_too_long_for_its_own_line_is_split_at_for() -> None:
    check_transformed(
        """
        from shop.models import BadgeItem

        def copy(other, item_map, layout_map):
            for bi in BadgeItem.objects.filter(item__event=other):
                BadgeItem.objects.create(item=item_map.get(bi.item_id), layout=layout_map.get(bi.layout_id))
        """,
        """
        from shop.models import BadgeItem

        def copy(other, item_map, layout_map):
            BadgeItem.objects.bulk_create(
                [
                    BadgeItem(item=item_map.get(bi.item_id), layout=layout_map.get(bi.layout_id))
                    for bi in BadgeItem.objects.filter(item__event=other)
                ]
            )
        """,
        unsafe=True,
    )
