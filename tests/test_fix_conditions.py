"""Fixes apply only where they are correct: each refused shape keeps its finding, with the reason.

Every case runs the whole ``fix --unsafe-fixes`` (detection, conditions, rewrite): a refused
finding leaves the source byte for byte and is reported as not fixable at its exact position.
"""

from __future__ import annotations

import textwrap

import pytest

from flake8_celery_django.fixes import fix_source
from flake8_celery_django.project.facts import FieldFact, ModelFact, ModuleFacts, ReceiverFact
from flake8_celery_django.project.knowledge import NO_PROJECT, ProjectKnowledge
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings
from tests.fixing import check_transformed

Refused = tuple[str, int, int, str]


def refused(source: str, project: ProjectKnowledge = NO_PROJECT, **options: object) -> list[Refused]:
    """The findings ``fix --unsafe-fixes`` leaves, as (code, line, column, reason); the source must not change."""
    source = textwrap.dedent(source)
    settings = Settings(enabled=frozenset(RULES), **options)  # type: ignore[arg-type]
    result = fix_source(source, "views.py", settings, unsafe=True, project=project, module="shop.views")
    assert result.source == source
    return [(r.finding.code, r.finding.line, r.finding.col, r.reason) for r in result.unfixed]


# -- CDJ301 -------------------------------------------------------------------------------------
CDJ301_REFUSED = [
    pytest.param(
        """
        def sell(product):
            product.stock -= 1
            if product.stock < 0:
                raise ValueError
            product.save()
        """,
        [("CDJ301", 3, 4, "product.stock is read before the save, where it would hold an F() expression")],
        id="read-between-change-and-save",
    ),
    pytest.param(
        """
        def total(order, prices):
            for p in prices:
                order.total += p
            order.save()
        """,
        [("CDJ301", 4, 8, "order.total may change more than once before its save (a loop or a branch between them)")],
        id="several-changes-in-a-loop",
    ),
    pytest.param(
        """
        def block(account, name):
            account.blocked = account.blocked + [name]
            account.save()
        """,
        [("CDJ301", 3, 4, "`[name]` may not be a number, and F() only does arithmetic")],
        id="list-operand",
    ),
    pytest.param(
        """
        def tag(account, name):
            extra = [name]
            account.tags += extra
            account.save()
        """,
        [("CDJ301", 4, 4, "`extra` may not be a number, and F() only does arithmetic")],
        id="name-holding-a-list",
    ),
    pytest.param(
        """
        def tag(account, extra: list[str]):
            account.tags += extra
            account.save()
        """,
        [("CDJ301", 3, 4, "`extra` may not be a number, and F() only does arithmetic")],
        id="parameter-annotated-list",
    ),
    pytest.param(
        """
        def attach(node, a, extra):
            if a:
                node.count = 0
            node.count += extra
            node.save()
        """,
        [("CDJ301", 5, 4, "node.count is assigned earlier in the function, and F() would discard that value")],
        id="assigned-earlier",
    ),
    pytest.param(
        """
        from django.db import models

        class Counter(models.Model):
            hits = models.IntegerField(default=0)

            def save(self, *args, **kwargs):
                self.hits += 1
                super().save(*args, **kwargs)
        """,
        [("CDJ301", 8, 8, "inside the model's own save() the row may not exist yet, and F() cannot be inserted")],
        id="model-own-save",
    ),
    pytest.param(
        """
        def bump(obj):
            new = obj._state.adding
            obj.version += 1
            obj.save()
            return new
        """,
        [("CDJ301", 4, 4, "obj._state.adding says the row may not exist yet, and F() cannot be inserted")],
        id="state-adding",
    ),
    pytest.param(
        """
        def bump(obj, other):
            obj.version += 1
            if other:
                obj.save()
        """,
        [("CDJ301", 3, 4, "obj.version may change more than once before its save (a loop or a branch between them)")],
        id="save-in-a-branch",
    ),
    pytest.param(
        """
        def halve(product):
            product.stock //= 2
            product.save()
        """,
        [("CDJ301", 3, 4, "F() expressions have no FloorDiv operator")],
        id="operator-f-lacks",
    ),
    pytest.param(
        """
        from django.db import models

        class Counter(models.Model):
            def bump(self):
                self.hits += 1
                super().save()
        """,
        [("CDJ301", 6, 8, "the save is super().save(), not self.save()")],
        id="saved-through-super",
    ),
]


@pytest.mark.parametrize(("source", "expected"), CDJ301_REFUSED)
def test_cdj301_refused(source: str, expected: list[Refused]) -> None:
    assert refused(source) == expected


def test_cdj301_read_after_the_save_adds_a_refresh() -> None:
    check_transformed(
        """
        def sell(product):
            product.stock -= 1
            product.save()  # saved
            if product.stock < 0:
                raise ValueError
        """,
        """
        from django.db.models import F
        def sell(product):
            product.stock = F("stock") - 1
            product.save()  # saved
            product.refresh_from_db(fields=["stock"])
            if product.stock < 0:
                raise ValueError
        """,
        unsafe=True,
    )


def test_cdj301_two_fields_share_one_refresh() -> None:
    check_transformed(
        """
        async def sell(product, quantity):
            product.stock -= quantity
            product.sold += quantity
            await product.asave(update_fields=["stock", "sold"])
            return product
        """,
        """
        from django.db.models import F
        async def sell(product, quantity):
            product.stock = F("stock") - quantity
            product.sold = F("sold") + quantity
            await product.asave(update_fields=["stock", "sold"])
            await product.arefresh_from_db(fields=["stock", "sold"])
            return product
        """,
        unsafe=True,
    )


def test_cdj301_a_row_of_each_turn_needs_no_refresh() -> None:
    check_transformed(
        """
        def restock(products):
            for product in products:
                product.stock += 10
                product.save(update_fields=["stock"])
        """,
        """
        from django.db.models import F
        def restock(products):
            for product in products:
                product.stock = F("stock") + 10
                product.save(update_fields=["stock"])
        """,
        unsafe=True,
    )


def test_cdj301_one_row_saved_in_each_turn_is_refreshed() -> None:
    check_transformed(
        """
        def add(order, prices):
            for p in prices:
                order.total += p
                order.save()
        """,
        """
        from django.db.models import F
        def add(order, prices):
            for p in prices:
                order.total = F("total") + p
                order.save()
                order.refresh_from_db(fields=["total"])
        """,
        unsafe=True,
    )


SHOP = ProjectKnowledge(
    [
        ModuleFacts(
            "shop.models",
            models=(
                ModelFact(
                    "shop.models.Product",
                    fields=(FieldFact("stock", "plain", field_class="IntegerField"),
                            FieldFact("tags", "plain", field_class="JSONField")),
                    overrides_save=True,
                    save_reads=frozenset({"stock"}),
                ),
                ModelFact("shop.models.Line", fields=(FieldFact("quantity", "plain", field_class="IntegerField"),)),
                ModelFact("shop.models.Entry"),
                ModelFact("shop.models.Audited", abstract=True, overrides_save=True),
                ModelFact("shop.models.Refund", bases=("shop.models.Audited",)),
                ModelFact("shop.models.Visit", fields=(FieldFact("count", "plain", field_class="IntegerField"),)),
            ),
            receivers=(ReceiverFact("shop.signals.on_entry", "post_save", "shop.models.Entry"),),
        )
    ]
)


def test_cdj301_refused_when_the_models_save_reads_the_field() -> None:
    source = """
        from shop.models import Product

        def sell(pk):
            product = Product.objects.get(pk=pk)
            product.stock -= 1
            product.save()
        """
    assert refused(source, SHOP) == [
        ("CDJ301", 6, 4, "Product.save() reads stock, which holds an F() expression until refreshed"),
    ]


def test_cdj301_refused_on_a_field_that_holds_no_number() -> None:
    source = """
        from shop.models import Product

        def tag(pk, more):
            product = Product.objects.get(pk=pk)
            product.tags += more
            product.save()
        """
    assert refused(source, SHOP) == [("CDJ301", 6, 4, "Product.tags is a JSONField, and F() only does arithmetic")]


def test_cdj301_fixed_when_the_project_knows_nothing_against_it() -> None:
    source = textwrap.dedent(
        """
        from shop.models import Visit

        def visit(pk):
            visit = Visit.objects.get(pk=pk)
            visit.count += 1
            visit.save()
        """
    )
    settings = Settings(enabled=frozenset(RULES))
    result = fix_source(source, "views.py", settings, unsafe=True, project=SHOP, module="shop.views")
    assert 'visit.count = F("count") + 1' in result.source
    assert result.unfixed == []


# -- CDJ501-CDJ503 ------------------------------------------------------------------------------
ON_COMMIT_REFUSED = [
    pytest.param(
        """
        from django.db import transaction
        from shop.tasks import refund

        def pay(order):
            order.save()
            try:
                charge(order)
            except Exception:
                refund.delay(order.pk)
                raise
        """,
        [("CDJ503", 10, 8, "sent from an except or finally block, which may run after a rollback")],
        id="except",
    ),
    pytest.param(
        """
        from django.db import transaction
        from shop.tasks import notify

        def pay(order):
            with transaction.atomic():
                try:
                    order.save()
                finally:
                    notify.delay(order.pk)
        """,
        [("CDJ501", 10, 12, "sent from an except or finally block, which may run after a rollback")],
        id="finally",
    ),
    pytest.param(
        """
        from django.db import transaction
        from shop.tasks import notify

        async def pay(order):
            with transaction.atomic():
                notify.delay(order.pk)
        """,
        [("CDJ501", 7, 8, "sent from async def, where transaction.on_commit raises SynchronousOnlyOperation")],
        id="async-def",
    ),
    pytest.param(
        """
        from django.db import transaction
        from shop.tasks import notify

        def pay(order, databases):
            with transaction.atomic(using=databases[0]):
                notify.delay(order.pk)
        """,
        [("CDJ501", 7, 8, "the database of atomic(using=databases[0]) cannot be carried to on_commit")],
        id="using-an-expression",
    ),
    pytest.param(
        """
        from django.db import transaction
        from shop.tasks import notify

        def pay(order):
            with transaction.atomic():
                result = notify.delay(order.pk)
            return result.id
        """,
        [("CDJ501", 7, 17, "the send's result is used, and transaction.on_commit returns nothing")],
        id="result-used",
    ),
]


@pytest.mark.parametrize(("source", "expected"), ON_COMMIT_REFUSED)
def test_on_commit_refused(source: str, expected: list[Refused]) -> None:
    assert refused(source) == expected


def test_on_commit_carries_using_of_the_enclosing_atomic() -> None:
    check_transformed(
        """
        from django.db import transaction
        from shop.tasks import notify

        def pay(order):
            with transaction.atomic(using="billing"):
                order.save(using="billing")
                notify.delay(order.pk)  # tell them
        """,
        """
        from functools import partial

        from django.db import transaction
        from shop.tasks import notify

        def pay(order):
            with transaction.atomic(using="billing"):
                order.save(using="billing")
                transaction.on_commit(partial(notify.delay, order.pk), using="billing")  # tell them
        """,
        unsafe=True,
    )


def test_on_commit_carries_using_of_a_decorator_even_with_delay_on_commit_preferred() -> None:
    check_transformed(
        """
        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic("billing")
        def pay(order):
            notify.delay(order.pk)
        """,
        """
        from functools import partial

        from django.db import transaction
        from shop.tasks import notify

        @transaction.atomic("billing")
        def pay(order):
            transaction.on_commit(partial(notify.delay, order.pk), using="billing")
        """,
        unsafe=True,
        prefer_delay_on_commit=True,
    )


def test_on_commit_innermost_atomic_decides() -> None:
    check_transformed(
        """
        from django.db import transaction
        from shop.tasks import notify

        def pay(order):
            with transaction.atomic(using="billing"):
                with transaction.atomic():
                    notify.delay(order.pk)
        """,
        """
        from functools import partial

        from django.db import transaction
        from shop.tasks import notify

        def pay(order):
            with transaction.atomic(using="billing"):
                with transaction.atomic():
                    transaction.on_commit(partial(notify.delay, order.pk))
        """,
        unsafe=True,
    )


# -- CDJ401 -------------------------------------------------------------------------------------
CDJ401_REFUSED = [
    pytest.param(
        """
        from shop.models import Line

        def load(rows):
            for r in rows:
                Line.objects.create(**r)
            return r
        """,
        [("CDJ401", 6, 8, "`r` is read after the loop, and a comprehension would not leave it bound")],
        id="name-read-after-the-loop",
    ),
    pytest.param(
        """
        from shop.models import Line

        def load(rows):
            if rows:
                for r in rows:
                    Line.objects.create(**r)
            print(r)
        """,
        [("CDJ401", 7, 12, "`r` is read after the loop, and a comprehension would not leave it bound")],
        id="name-read-after-the-enclosing-block",
    ),
    pytest.param(
        """
        from shop.models import Line

        class Seed:
            size = 3
            for row in Line.objects.all():
                Line.objects.create(sku=row.sku, quantity=size)
        """,
        [("CDJ401", 7, 8, "in a class body a comprehension cannot see the class's names")],
        id="class-body",
    ),
    pytest.param(
        """
        from shop.models import Line

        def load(rows):
            made = []
            for r in rows:
                made.append(Line.objects.create(**r))
            return made
        """,
        [("CDJ401", 7, 20, "the created object is used, and bulk_create returns no objects one by one")],
        id="created-object-used",
    ),
    pytest.param(
        """
        from shop.models import Line

        def load(rows):
            for r in rows:
                Line.objects.create(*r)
        """,
        [("CDJ401", 6, 8, "create() takes keyword arguments only, which Model(...) is given")],
        id="positional-arguments",
    ),
    pytest.param(
        """
        from shop.models import Line

        def load(rows):
            for r in rows:
                r.check()
                Line.objects.create(**r)
        """,
        [("CDJ401", 7, 8, "the loop does more than the create (only a loop of one create is rewritten)")],
        id="loop-does-more",
    ),
]


@pytest.mark.parametrize(("source", "expected"), CDJ401_REFUSED)
def test_cdj401_refused(source: str, expected: list[Refused]) -> None:
    assert refused(source) == expected


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("Product", "Product.save() is overridden, and bulk_create does not call it"),
        ("Entry", "Entry has pre_save/post_save receivers, which bulk_create does not send"),
        ("Refund", "Refund.save() is overridden, and bulk_create does not call it"),
    ],
)
def test_cdj401_refused_by_the_project(model: str, reason: str) -> None:
    source = f"""
        from shop.models import {model}

        def load(rows):
            for r in rows:
                {model}.objects.create(**r)
        """
    assert refused(source, SHOP) == [("CDJ401", 6, 8, reason)]


def test_cdj401_fixed_for_a_plain_model_of_the_project() -> None:
    source = textwrap.dedent(
        """
        from shop.models import Line

        def load(rows):
            for r in rows:
                Line.objects.create(**r)
        """
    )
    settings = Settings(enabled=frozenset(RULES))
    result = fix_source(source, "views.py", settings, unsafe=True, project=SHOP, module="shop.views")
    assert "Line.objects.bulk_create([Line(**r) for r in rows])" in result.source
    assert result.unfixed == []


def test_on_commit_keeps_every_comment_exactly_once() -> None:
    check_transformed(
        """
        from django.db import transaction
        from shop.tasks import notify

        def pay(order):
            with transaction.atomic():
                # send it
                notify.delay(  # the task
                    order.pk,  # its key
                )  # trailing
        """,
        """
        from functools import partial

        from django.db import transaction
        from shop.tasks import notify

        def pay(order):
            with transaction.atomic():
                # send it
                transaction.on_commit(partial(  # the task
                    notify.delay,
                    order.pk,  # its key
                ))  # trailing
        """,
        unsafe=True,
    )


def test_an_internal_error_in_the_conditions_refuses_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    from flake8_celery_django import fix_conditions

    def broken(*facts: object) -> None:
        raise LookupError("boom")

    monkeypatch.setattr(fix_conditions, "update_with_f", broken)
    source = """
        def sell(product):
            product.stock -= 1
            product.save()
        """
    assert refused(source) == [("CDJ301", 3, 4, "internal error in the fix conditions: LookupError: boom")]


def test_cdj301_a_row_the_caller_holds_is_refreshed() -> None:
    check_transformed(
        """
        from django.db import models

        class Task(models.Model):
            def retry(self):
                self.attempts += 1
                self.save(update_fields={"attempts", "state"})
        """,
        """
        from django.db import models

        class Task(models.Model):
            def retry(self):
                self.attempts = models.F("attempts") + 1
                self.save(update_fields={"attempts", "state"})
                self.refresh_from_db(fields=["attempts"])
        """,
        unsafe=True,
    )


def test_cdj301_condition_refuses_a_row_that_may_be_new_under_if_not_pk() -> None:
    # detection itself leaves a row being created alone; the fix condition refuses it as well
    import ast as ast_module

    from flake8_celery_django.fix_conditions import CodeView, update_with_f
    from flake8_celery_django.fix_plans import NotFixable as Refusal

    source = "def bump(obj):\n    if not obj.pk:\n        obj.version += 1\n        obj.save()\n"
    function = ast_module.parse(source).body[0]
    statement = next(node for node in ast_module.walk(function) if isinstance(node, ast_module.AugAssign))
    save = next(node for node in ast_module.walk(function) if isinstance(node, ast_module.Call))
    decided = update_with_f(statement, save, CodeView(function))
    assert decided == Refusal("the row may not exist yet under `if not obj.pk`, and F() cannot be inserted")


def test_cdj502_no_fix_for_a_send_that_hands_over_the_deleted_row_or_its_key() -> None:
    # After the commit the row is gone: a task that looks it up by the key it was given finds
    # nothing, where before the fix it found the row still there. A value read from the row
    # (a stored file's name) is handed over as it was, and the fix is kept.
    from flake8_celery_django.api import check_source
    from flake8_celery_django.fix_plans import NotFixable as Refusal
    from flake8_celery_django.fix_plans import OnCommitPlan

    source = textwrap.dedent(
        """
        from django.db.models.signals import post_delete, pre_delete
        from django.dispatch import receiver
        from shop.models import Media, Status
        from shop.tasks import delete_file, remove_status

        @receiver(post_delete, sender=Media)
        def media_deleted(sender, instance, **kwargs):
            delete_file.delay(instance.image.name)

        @receiver(pre_delete, sender=Status)
        def status_deleted(sender, instance, **kwargs):
            remove_status.delay(instance.id)
            remove_status.apply_async(args=(str(instance.pk),))
            remove_status.apply_async(kwargs={"status": instance})
        """
    )
    findings = check_source(source, "x.py", Settings(enabled=frozenset({"CDJ502"})), strict=True)
    refused = Refusal("the task gets the key of the row being deleted, which is gone after the commit")
    assert [(finding.line, finding.code, finding.fix) for finding in findings] == [
        (9, "CDJ502", OnCommitPlan("delete_file.delay", "delay")),
        (13, "CDJ502", refused),
        (14, "CDJ502", refused),
        (15, "CDJ502", refused),
    ]
