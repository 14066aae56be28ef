"""CDJ501-CDJ505 fixes: tasks sent on commit, with the arguments of the moment.

Each case names where its rule reports (the finding shape); ``check_fix_at`` applies the fixer
there, and once the rule is part of the build it also checks that detection reports exactly there
and that the whole ``fix`` gives the same text and is idempotent.
"""

from __future__ import annotations

import ast
import textwrap

import pytest

from tests.fixing import check_fix_at, check_transformed, fix, fix_at

SEND_CODES = ["CDJ501", "CDJ502", "CDJ503", "CDJ506"]

ATOMIC_BEFORE = """
from django.db import transaction
from shop.tasks import send_receipt, sync_order

def checkout(order):
    with transaction.atomic():
        order.save()
        send_receipt.delay(order.pk, "email")
        sync_order.apply_async(args=(order.pk,), countdown=5)
        send_receipt.delay()
"""


def test_cdj501_wraps_in_on_commit_with_partial() -> None:
    check_fix_at(
        "CDJ501",
        ast.Call,
        ATOMIC_BEFORE,
        [(8, 8), (9, 8), (10, 8)],
        """
        from functools import partial

        from django.db import transaction
        from shop.tasks import send_receipt, sync_order

        def checkout(order):
            with transaction.atomic():
                order.save()
                transaction.on_commit(partial(send_receipt.delay, order.pk, "email"))
                transaction.on_commit(
                    partial(sync_order.apply_async, args=(order.pk,), countdown=5)
                )
                transaction.on_commit(send_receipt.delay)
        """,
    )


def test_cdj501_prefers_delay_on_commit_when_asked() -> None:
    check_fix_at(
        "CDJ501",
        ast.Call,
        ATOMIC_BEFORE,
        [(8, 8), (9, 8), (10, 8)],
        """
        from django.db import transaction
        from shop.tasks import send_receipt, sync_order

        def checkout(order):
            with transaction.atomic():
                order.save()
                send_receipt.delay_on_commit(order.pk, "email")
                sync_order.apply_async_on_commit(args=(order.pk,), countdown=5)
                send_receipt.delay_on_commit()
        """,
        prefer_delay_on_commit=True,
    )


@pytest.mark.parametrize("code", SEND_CODES)
def test_send_fixes_add_the_imports_once_and_keep_the_layout(code: str) -> None:
    before = """
        \"\"\"Signals.\"\"\"
        import logging

        from shop import tasks

        def on_save(sender, instance, **kwargs):
            tasks.index.delay(
                instance.pk,
                reason="saved",  # why
            )
            tasks.notify.delay(instance.pk)
        """
    after = """
        \"\"\"Signals.\"\"\"
        import logging
        from functools import partial

        from django.db import transaction
        from shop import tasks

        def on_save(sender, instance, **kwargs):
            transaction.on_commit(partial(
                tasks.index.delay,
                instance.pk,
                reason="saved",  # why
            ))
            transaction.on_commit(partial(tasks.notify.delay, instance.pk))
        """
    fixed = fix_at(code, textwrap.dedent(before), ast.Call, (8, 4), (12, 4))
    assert fixed == textwrap.dedent(after)


def test_send_fix_uses_existing_names_and_avoids_taken_ones() -> None:
    check_fix_at(
        "CDJ503",
        ast.Call,
        """
        import functools
        from django.db.transaction import on_commit
        from shop.models import Order
        from shop.tasks import ship

        def create(data, partial):
            order = Order.objects.create(**data)
            ship.delay(order.pk)
        """,
        [(9, 4)],
        """
        import functools
        from django.db.transaction import on_commit
        from shop.models import Order
        from shop.tasks import ship

        def create(data, partial):
            order = Order.objects.create(**data)
            on_commit(functools.partial(ship.delay, order.pk))
        """,
    )


@pytest.mark.parametrize(
    "source",
    [
        # the result is used: on_commit returns None, so nothing is fixed
        "from shop.tasks import ship\ndef f(o):\n    result = ship.delay(o.pk)\n    return result\n",
        "from shop.tasks import ship\ndef f(o):\n    return ship.delay(o.pk).id\n",
        "from shop.tasks import ship\ndef f(o):\n    log(ship.delay(o.pk))\n",
    ],
)
def test_send_fix_leaves_used_results_alone(source: str) -> None:
    tree = ast.parse(source)
    call = next(
        node for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "delay"
    )
    assert fix_at("CDJ501", source, ast.Call, (call.lineno, call.col_offset)) == source


def test_cdj504_defers_the_call() -> None:
    check_fix_at(
        "CDJ504",
        ast.Call,
        """
        from django.db import transaction
        from shop.tasks import ship

        def f(order):
            transaction.on_commit(ship.delay(order.pk, priority=1))
            transaction.on_commit(ship.delay(), using="default")
        """,
        [(6, 26), (7, 26)],
        """
        from functools import partial

        from django.db import transaction
        from shop.tasks import ship

        def f(order):
            transaction.on_commit(partial(ship.delay, order.pk, priority=1))
            transaction.on_commit(ship.delay, using="default")
        """,
    )


def test_cdj504_reported_on_the_on_commit_call_is_fixed_too() -> None:
    source = "from django.db import transaction\ntransaction.on_commit(notify(user))\n"
    fixed = fix_at("CDJ504", source, ast.Call, (2, 0))
    assert fixed == "from functools import partial\n\nfrom django.db import transaction\n" \
        "transaction.on_commit(partial(notify, user))\n"


def test_cdj504_sends_signatures_instead_of_running_them_here() -> None:
    check_fix_at(
        "CDJ504",
        ast.Call,
        """
        from django.db import transaction
        from shop.tasks import ship

        def f(order):
            transaction.on_commit(ship.s(order.pk))
            transaction.on_commit(ship.si())
        """,
        [(6, 26), (7, 26)],
        """
        from functools import partial

        from django.db import transaction
        from shop.tasks import ship

        def f(order):
            transaction.on_commit(partial(ship.delay, order.pk))
            transaction.on_commit(ship.delay)
        """,
    )


def test_cdj504_a_signature_variable_is_sent() -> None:
    check_fix_at(
        "CDJ504",
        ast.Name,
        """
        from django.db import transaction
        from shop.tasks import ship

        def f(order):
            sig = ship.s(order.pk)
            transaction.on_commit(sig)
        """,
        [(7, 26)],
        """
        from django.db import transaction
        from shop.tasks import ship

        def f(order):
            sig = ship.s(order.pk)
            transaction.on_commit(sig.delay)
        """,
    )


def test_cdj504_leaves_packed_signatures_alone() -> None:
    source = "from django.db import transaction\ntransaction.on_commit(ship.signature((1,), {}))\n"
    assert fix_at("CDJ504", source, ast.Call, (2, 22)) == source
    name = "def f(sig):\n    run(sig)\n"
    assert fix_at("CDJ504", name, ast.Name, (2, 8)) == name


def test_cdj505_uses_partial_for_plain_arguments() -> None:
    check_fix_at(
        "CDJ505",
        ast.Lambda,
        """
        from functools import partial
        from django.db import transaction
        from shop.tasks import ship

        def f(orders):
            for order in orders:
                order_id = order.pk
                transaction.on_commit(lambda: ship.delay(order_id, "fast"))
        """,
        [(9, 30)],
        """
        from functools import partial
        from django.db import transaction
        from shop.tasks import ship

        def f(orders):
            for order in orders:
                order_id = order.pk
                transaction.on_commit(partial(ship.delay, order_id, "fast"))
        """,
    )


def test_cdj505_binds_loop_variables_as_defaults_otherwise() -> None:
    check_fix_at(
        "CDJ505",
        ast.Lambda,
        """
        from django.db import transaction
        from shop.tasks import ship

        def f(orders, channel):
            for index, order in enumerate(orders):
                transaction.on_commit(lambda: ship.delay(order.pk, index + 1, channel))
            [transaction.on_commit(lambda: ship.delay(o.pk)) for o in orders]
        """,
        [(7, 30), (8, 27)],
        """
        from django.db import transaction
        from shop.tasks import ship

        def f(orders, channel):
            for index, order in enumerate(orders):
                transaction.on_commit(lambda order=order, index=index: ship.delay(order.pk, index + 1, channel))
            [transaction.on_commit(lambda o=o: ship.delay(o.pk)) for o in orders]
        """,
    )


def test_cdj505_leaves_lambdas_without_loop_variables_alone() -> None:
    source = "def f(order):\n    transaction.on_commit(lambda: ship.delay(order.pk))\n"
    assert fix_at("CDJ505", source, ast.Lambda, (2, 26)) == source
    in_loop_iterable = "for x in [lambda: y for y in z]:\n    pass\n"
    assert fix_at("CDJ505", in_loop_iterable, ast.Lambda, (1, 10)) == in_loop_iterable.replace(
        "lambda: y", "lambda y=y: y"
    )


def test_arguments_aligned_under_the_parenthesis_stay_aligned() -> None:
    before = textwrap.dedent(
        """
        from django.db import transaction
        from shop.tasks import ship

        def f(order):
            with transaction.atomic():
                ship.apply_async(kwargs={"order": order.pk,
                                         "fast": True},
                                 countdown=5)
            transaction.on_commit(ship.delay(order.pk,
                                             True))
        """
    )
    after = textwrap.dedent(
        """
        from functools import partial

        from django.db import transaction
        from shop.tasks import ship

        def f(order):
            with transaction.atomic():
                transaction.on_commit(partial(ship.apply_async, kwargs={"order": order.pk,
                                                                        "fast": True},
                                                                countdown=5))
            transaction.on_commit(partial(ship.delay, order.pk,
                                                      True))
        """
    )
    once = fix_at("CDJ501", before, ast.Call, (7, 8), line_length=88)
    assert fix_at("CDJ504", once, ast.Call, (12, 26), line_length=88) == after
    delay_on_commit = fix_at("CDJ501", before, ast.Call, (7, 8), prefer_delay_on_commit=True)
    assert delay_on_commit.splitlines()[6:9] == [
        '        ship.apply_async_on_commit(kwargs={"order": order.pk,',
        '                                           "fast": True},',
        "                                   countdown=5)",
    ]


def test_a_send_too_long_for_one_line_is_wrapped_within_max_line_length() -> None:
    before = """
        from django.db import transaction
        from shop.tasks import notify_the_customer_service

        def pay(order, reason):
            with transaction.atomic(using="billing"):
                notify_the_customer_service.delay(order.pk, order.email, reason)
            with transaction.atomic():
                notify_the_customer_service.delay(order.pk, reason)
        """
    after = """
        from functools import partial

        from django.db import transaction
        from shop.tasks import notify_the_customer_service

        def pay(order, reason):
            with transaction.atomic(using="billing"):
                transaction.on_commit(
                    partial(
                        notify_the_customer_service.delay,
                        order.pk,
                        order.email,
                        reason,
                    ),
                    using="billing",
                )
            with transaction.atomic():
                transaction.on_commit(
                    partial(notify_the_customer_service.delay, order.pk, reason)
                )
        """
    check_transformed(before, after, unsafe=True)
    fixed = textwrap.dedent(after)
    assert max(len(line) for line in fixed.splitlines()) <= 79


def test_a_send_across_lines_that_the_fix_takes_past_max_line_length_is_laid_out_again() -> None:
    # aligned lines move with their argument, a hanging indent keeps its depth below its new line,
    # and every comment stays once, where it was
    before = """
        from django.db import transaction
        from shop import tickets

        def regenerate(self, order):
            with transaction.atomic():
                tickets.invalidate.apply_async(kwargs={'event': self.event.pk,  # the event
                                                       # and the order
                                                       'order': order.pk}, countdown=5)  # soon
            with transaction.atomic(using="billing"):
                tickets.invalidate_all.apply_async(kwargs={  # by keyword
                    'event': self.event.pk,
                    'order': order.pk,
                }, countdown=5)
        """
    after = """
        from functools import partial

        from django.db import transaction
        from shop import tickets

        def regenerate(self, order):
            with transaction.atomic():
                transaction.on_commit(
                    partial(
                        tickets.invalidate.apply_async,
                        kwargs={'event': self.event.pk,  # the event
                                # and the order
                                'order': order.pk},
                        countdown=5,
                    )
                )  # soon
            with transaction.atomic(using="billing"):
                transaction.on_commit(
                    partial(
                        tickets.invalidate_all.apply_async,
                        kwargs={  # by keyword
                            'event': self.event.pk,
                            'order': order.pk,
                        },
                        countdown=5,
                    ),
                    using="billing",
                )
        """
    check_transformed(before, after, unsafe=True, line_length=79)
    assert max(len(line) for line in textwrap.dedent(after).splitlines()) <= 79
    # where the lines moved right still fit, the call keeps its layout
    wide = fix(textwrap.dedent(before), unsafe=True, line_length=120).splitlines()
    first, comment, last = wide[8:11]
    aligned = first.index("'event'")
    assert first == (
        "        transaction.on_commit(partial(tickets.invalidate.apply_async, kwargs={'event': self.event.pk,"
        "  # the event"
    )
    assert comment == " " * aligned + "# and the order"
    assert last == " " * aligned + "'order': order.pk}, countdown=5))  # soon"


def test_delay_on_commit_across_lines_past_max_line_length_is_laid_out_again() -> None:
    before = """
        from django.db import transaction
        from shop.tasks import ship

        def f(order):
            with transaction.atomic():
                ship.apply_async(kwargs={"order": order.pk, "warehouse": order.warehouse_id},
                                 countdown=5)
        """
    after = """
        from django.db import transaction
        from shop.tasks import ship

        def f(order):
            with transaction.atomic():
                ship.apply_async_on_commit(
                    kwargs={"order": order.pk, "warehouse": order.warehouse_id},
                    countdown=5,
                )
        """
    check_transformed(before, after, unsafe=True, prefer_delay_on_commit=True)


def test_a_send_already_past_max_line_length_gets_no_longer() -> None:
    before = """
        from django.db import transaction
        from shop.tasks import ship

        def f(order):
            with transaction.atomic():
                ship.apply_async(kwargs={"order": order.pk, "warehouse": order.warehouse_id}, countdown=5)
        """
    after = """
        from functools import partial

        from django.db import transaction
        from shop.tasks import ship

        def f(order):
            with transaction.atomic():
                transaction.on_commit(
                    partial(
                        ship.apply_async,
                        kwargs={"order": order.pk, "warehouse": order.warehouse_id},
                        countdown=5,
                    )
                )
        """
    check_transformed(before, after, unsafe=True)


def test_a_callback_across_lines_that_the_fix_takes_past_max_line_length_is_laid_out_again() -> None:
    before = """
        from django.db import transaction
        from shop.tasks import ship

        def f(orders, channel):
            with transaction.atomic():
                transaction.on_commit(ship.delay(channel.pk, channel.name, "a long enough text",
                                                 "to pass"))
            for order in orders:
                transaction.on_commit(lambda: ship.delay(order.pk, channel.name, "a long text",
                                                         "to pass"))
        """
    narrow = """
        from functools import partial

        from django.db import transaction
        from shop.tasks import ship

        def f(orders, channel):
            with transaction.atomic():
                transaction.on_commit(partial(
                    ship.delay,
                    channel.pk,
                    channel.name,
                    "a long enough text",
                    "to pass",
                ))
            for order in orders:
                transaction.on_commit(lambda order=order: ship.delay(
                    order.pk,
                    channel.name,
                    "a long text",
                    "to pass",
                ))
        """
    wide = """
        from functools import partial

        from django.db import transaction
        from shop.tasks import ship

        def f(orders, channel):
            with transaction.atomic():
                transaction.on_commit(partial(ship.delay, channel.pk, channel.name, "a long enough text",
                                                          "to pass"))
            for order in orders:
                transaction.on_commit(lambda order=order: ship.delay(order.pk, channel.name, "a long text",
                                                                     "to pass"))
        """
    once = fix_at("CDJ504", textwrap.dedent(before), ast.Call, (7, 30))
    assert fix_at("CDJ505", once, ast.Lambda, (17, 30)) == textwrap.dedent(narrow)
    once = fix_at("CDJ504", textwrap.dedent(before), ast.Call, (7, 30), line_length=100)
    assert fix_at("CDJ505", once, ast.Lambda, (12, 30), line_length=100) == textwrap.dedent(wide)


def test_a_hanging_indent_inside_the_arguments_does_not_move() -> None:
    check_transformed(
        """
        from django.db import transaction
        from shop.tasks import export

        def run(s):
            with transaction.atomic():
                export.apply_async(kwargs={
                    'event': s.event_id,
                    'schedule': s.pk,
                })
        """,
        """
        from functools import partial

        from django.db import transaction
        from shop.tasks import export

        def run(s):
            with transaction.atomic():
                transaction.on_commit(partial(export.apply_async, kwargs={
                    'event': s.event_id,
                    'schedule': s.pk,
                }))
        """,
        unsafe=True,
    )
