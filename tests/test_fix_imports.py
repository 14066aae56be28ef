"""Imports a fix adds are where isort (and ruff's I001) would put them: running isort after changes nothing."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from flake8_celery_django.fixes import fix_source
from flake8_celery_django.fixes.imports import NeededImport, add_imports
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings

isort = pytest.importorskip("isort")

TRANSACTION = NeededImport("django.db", "transaction", "transaction")
PARTIAL = NeededImport("functools", "partial", "partial")
F = NeededImport("django.db.models", "F", "F")
FIRST_PARTY = frozenset({"shop"})


def sorted_by_isort(source: str, line_length: int = 79, profile: str = "") -> str:
    config = isort.Config(known_first_party=FIRST_PARTY, line_length=line_length, profile=profile)
    return str(isort.code(source, config=config))


PLACEMENTS = [
    pytest.param(
        """
        import logging

        from shop.models import Order


        def f():
            pass
        """,
        [TRANSACTION, PARTIAL],
        """
        import logging
        from functools import partial

        from django.db import transaction

        from shop.models import Order


        def f():
            pass
        """,
        id="new-third-party-section-between-two",
    ),
    pytest.param(
        """
        from shop.models import Order


        def f():
            pass
        """,
        [PARTIAL],
        """
        from functools import partial

        from shop.models import Order


        def f():
            pass
        """,
        id="new-standard-library-section-first",
    ),
    pytest.param(
        """
        import os

        import requests
        from celery import shared_task
        from django.conf import settings
        from rest_framework import views

        from shop import tasks
        """,
        [TRANSACTION, F],
        """
        import os

        import requests
        from celery import shared_task
        from django.conf import settings
        from django.db import transaction
        from django.db.models import F
        from rest_framework import views

        from shop import tasks
        """,
        id="sorted-into-an-existing-section",
    ),
    pytest.param(
        """
        from django.db import models
        from django.db.models import Q, Sum
        """,
        [TRANSACTION, F],
        """
        from django.db import models, transaction
        from django.db.models import F, Q, Sum
        """,
        id="merged-into-existing-from-imports",
    ),
    pytest.param(
        """
        from __future__ import annotations

        import json
        """,
        [TRANSACTION],
        """
        from __future__ import annotations

        import json

        from django.db import transaction
        """,
        id="after-future-and-standard-library",
    ),
]


@pytest.mark.parametrize(("before", "needed", "after"), PLACEMENTS)
def test_added_imports_are_placed_as_isort_places_them(before: str, needed: list[NeededImport], after: str) -> None:
    before, after = textwrap.dedent(before).lstrip(), textwrap.dedent(after).lstrip()
    assert sorted_by_isort(before) == before
    added = add_imports(cst.parse_module(before), needed, 79, FIRST_PARTY).code
    assert added == after
    assert sorted_by_isort(added) == added


def test_a_merge_too_long_for_one_line_is_wrapped_as_black_and_ruff_wrap() -> None:
    before = "from django.db.models import Count, ExpressionWrapper, OuterRef, Subquery, Value\n"
    after = (
        "from django.db.models import (\n"
        "    Count,\n"
        "    ExpressionWrapper,\n"
        "    F,\n"
        "    OuterRef,\n"
        "    Subquery,\n"
        "    Value,\n"
        ")\n"
    )
    assert len(before.rstrip()) <= 88
    added = add_imports(cst.parse_module(before), [F], 80, FIRST_PARTY).code
    assert added == after
    assert sorted_by_isort(added, 80, "black") == added


def test_a_name_joins_an_import_already_wrapped_one_per_line() -> None:
    before = "from django.db.models import (\n    Count,\n    OuterRef,\n    Subquery,\n    Value,\n)\n"
    after = "from django.db.models import (\n    Count,\n    F,\n    OuterRef,\n    Subquery,\n    Value,\n)\n"
    added = add_imports(cst.parse_module(before), [F], 40, FIRST_PARTY).code
    assert added == after
    assert sorted_by_isort(added, 40, "black") == added


def test_isort_changes_nothing_after_a_whole_fix() -> None:
    before = textwrap.dedent(
        """\
        import logging

        from django.db import models, transaction

        from shop.tasks import notify

        log = logging.getLogger(__name__)


        def pay(order, quantity):
            order.paid += quantity
            order.save()
            with transaction.atomic():
                order.refresh_from_db()
                notify.delay(order.pk)
        """
    )
    assert sorted_by_isort(before) == before
    settings = Settings(enabled=frozenset(RULES))
    fixed = fix_source(before, "shop/views.py", settings, unsafe=True).source
    assert fixed.splitlines()[:6] == [
        "import logging",
        "from functools import partial",
        "",
        "from django.db import models, transaction",
        "",
        "from shop.tasks import notify",
    ]
    assert '    order.paid = models.F("paid") + quantity' in fixed.splitlines()
    assert sorted_by_isort(fixed) == fixed
