"""Facts travel with the finding: the detector binds each fix's plan, and the fixer only carries it out.

Each finding of a rule with a fix carries what its rewrite needs (``Finding.fix``), computed when
the finding is reported from what detection resolved, or ``NotFixable`` with the reason.  The
fixers find the node again by its exact range and apply the plan; they never resolve a name or an
argument position again (the last tests break every resolver before the fixers run).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from flake8_celery_django import fix_conditions
from flake8_celery_django.api import check_source
from flake8_celery_django.checking import check_source_text
from flake8_celery_django.context import FileContext, Finding
from flake8_celery_django.fix_plans import (
    BulkCreatePlan,
    NotFixable,
    OnCommitPlan,
    RemoveNoqaCodes,
    TimeoutPlan,
    UpdatePlan,
)
from flake8_celery_django.fixes import fix_source
from flake8_celery_django.fixes.engine import apply_findings
from flake8_celery_django.fixes.registry import FIXERS
from flake8_celery_django.knowledge.imports import ImportTable
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings
from tests.cases import all_codes_settings
from tests.fixing import check_transformed

EVERY_RULE = Settings(enabled=frozenset(RULES))
Bound = tuple[str, int, int, str, object]


def bound(source: str, **options: object) -> list[Bound]:
    """(code, line, column, message, plan) of every finding of a rule with a fix."""
    settings = Settings(enabled=frozenset(RULES), **options)  # type: ignore[arg-type]
    return [
        (finding.code, finding.line, finding.col, finding.message, finding.fix)
        for finding in check_source(textwrap.dedent(source), "views.py", settings, strict=True)
        if RULES[finding.code].fix != "none"
    ]


# -- CDJ201 / CDJ202: the call detection resolved, and where the timeout goes -------------------
def test_a_missing_timeout_carries_the_resolved_call() -> None:
    source = """
        import requests as r

        def ping(url):
            return r.get(url)
        """
    assert bound(source) == [
        (
            "CDJ201", 5, 11, "CDJ201 r.get() has no timeout and can hang forever; pass timeout=<seconds>",
            TimeoutPlan("requests.get"),
        ),
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            """
            from urllib.request import urlopen

            def ping(url):
                return urlopen(url, None, None)
            """,
            (
                "CDJ202", 5, 11, "CDJ202 urlopen() has timeout=None and can hang forever; pass timeout=<seconds>",
                TimeoutPlan("urllib.request.urlopen", 2),
            ),
            id="urlopen-third-argument",
        ),
        pytest.param(
            """
            import requests

            def ping(url):
                session = requests.Session()
                return session.request("GET", url, None, None, None, None, None, None, None)
            """,
            (
                "CDJ202", 6, 11,
                "CDJ202 session.request() has timeout=None and can hang forever; pass timeout=<seconds>",
                TimeoutPlan("requests.Session.request", 8),
            ),
            id="session-request-ninth-argument",
        ),
        pytest.param(
            """
            import httpx

            def ping(url):
                return httpx.get(url, timeout=None)
            """,
            (
                "CDJ202", 5, 11, "CDJ202 httpx.get() has timeout=None and can hang forever; pass timeout=<seconds>",
                TimeoutPlan("httpx.get"),
            ),
            id="keyword",
        ),
    ],
)
def test_timeout_none_carries_where_the_none_is(source: str, expected: Bound) -> None:
    assert bound(source) == [expected]


# -- CDJ301: the field, its operands, the save to refresh after, update_fields ------------------
def test_a_row_the_caller_holds_carries_the_save_to_refresh_after() -> None:
    source = """
        def retry(task):
            task.attempts += 1
            task.save(update_fields=["attempts"])
        """
    assert bound(source) == [
        (
            "CDJ301", 3, 4, "CDJ301 task.attempts is read, changed and saved; use F() or select_for_update()",
            UpdatePlan("task", "attempts", ("1",), (4, 4, 4, 41), asynchronous=False, update_fields=("attempts",)),
        ),
    ]


def test_a_row_read_no_more_carries_no_refresh() -> None:
    source = """
        from shop.models import Counter

        def hit(pk, step):
            counter = Counter.objects.get(pk=pk)
            counter.hits = counter.hits + step * 2
            counter.save()
        """
    assert bound(source) == [
        (
            "CDJ301", 6, 4, "CDJ301 counter.hits is read, changed and saved; use F() or select_for_update()",
            UpdatePlan("counter", "hits", ("step", "2")),
        ),
    ]


def test_an_awaited_save_carries_an_asynchronous_refresh() -> None:
    source = """
        async def retry(task):
            task.attempts += 1
            await task.asave()
        """
    assert bound(source)[0][4] == UpdatePlan("task", "attempts", ("1",), (4, 10, 4, 22), asynchronous=True)


def test_the_refresh_follows_the_save_detection_found_writing_the_field() -> None:
    # the first save leaves the field out; a refresh after it would reload the old value and the
    # second save would write it back, losing the increment
    source = """
        def close(account):
            account.balance += 10
            account.save(update_fields=["closed"])
            account.save()
            return account
        """
    assert [plan for *_, plan in bound(source)] == [UpdatePlan("account", "balance", ("10",), (5, 4, 5, 18))]
    check_transformed(
        source,
        """
        from django.db.models import F
        def close(account):
            account.balance = F("balance") + 10
            account.save(update_fields=["closed"])
            account.save()
            account.refresh_from_db(fields=["balance"])
            return account
        """,
        unsafe=True,
    )


def test_cdj301_refusal_travels_with_the_finding() -> None:
    source = """
        def sell(product):
            product.stock -= 1
            if product.stock < 0:
                raise ValueError
            product.save()
        """
    assert bound(source) == [
        (
            "CDJ301", 3, 4, "CDJ301 product.stock is read, changed and saved; use F() or select_for_update()",
            NotFixable("product.stock is read before the save, where it would hold an F() expression"),
        ),
    ]


# -- CDJ501-CDJ503: the send, its method, the database alias; the sends that may not move -------
def test_a_send_inside_atomic_using_carries_the_alias_and_where_it_is_written() -> None:
    source = """
        from django.db import transaction
        from shop.tasks import notify

        def pay(order):
            with transaction.atomic(using="billing"):
                order.save()
                notify.apply_async((order.pk,))
        """
    assert bound(source) == [
        (
            "CDJ501", 8, 8, "CDJ501 notify.apply_async() inside an atomic block; defer it with on_commit()",
            OnCommitPlan("notify.apply_async", "apply_async", "'billing'", (6, 34, 6, 43)),
        ),
    ]


def test_a_send_after_a_write_carries_the_default_database() -> None:
    source = """
        from shop.models import Order
        from shop.tasks import ship

        def create(data):
            order = Order.objects.create(**data)
            ship.delay(order.pk)
        """
    assert bound(source) == [
        (
            "CDJ503", 7, 4, "CDJ503 ship.delay() after Order.objects.create() on line 6; defer it with on_commit()",
            OnCommitPlan("ship.delay", "delay"),
        ),
    ]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        pytest.param(
            """
            from shop.models import Order
            from shop.tasks import undo

            def create(data):
                try:
                    Order.objects.create(**data)
                except ValueError:
                    undo.delay(data)
                    raise
            """,
            "sent from an except or finally block, which may run after a rollback",
            id="except",
        ),
        pytest.param(
            """
            from shop.models import Order
            from shop.tasks import ship

            def create(data):
                order = Order.objects.create(**data)
                return ship.delay(order.pk)
            """,
            "the send's result is used, and transaction.on_commit returns nothing",
            id="result-used",
        ),
    ],
)
def test_a_send_that_may_not_move_carries_why(source: str, reason: str) -> None:
    assert [plan for *_, plan in bound(source)] == [NotFixable(reason)]


# -- CDJ401: what the loop builds -----------------------------------------------------------------
def test_a_loop_of_creates_carries_the_model_and_the_loop() -> None:
    source = """
        from shop.models import Item

        def load(names):
            for name in names:
                Item.objects.create(name=name)
        """
    assert bound(source) == [
        (
            "CDJ401", 6, 8, "CDJ401 Item.objects.create() inserts one row per loop iteration; use bulk_create()",
            BulkCreatePlan("shop.models.Item", (5, 4, 6, 38)),
        ),
    ]


def test_a_new_instance_saved_in_a_loop_carries_no_rewrite() -> None:
    source = """
        from shop.models import Item

        def load(names):
            for name in names:
                Item(name=name).save()
        """
    assert bound(source) == [
        (
            "CDJ401", 6, 8, "CDJ401 Item(...).save() inserts one row per loop iteration; use bulk_create()",
            NotFixable("only Model.objects.create(...) in a loop is rewritten"),
        ),
    ]


# -- CDJ900: the codes to remove --------------------------------------------------------------------
def test_an_unused_noqa_carries_the_codes_to_remove() -> None:
    source = "x = 1  # noqa: CDJ201, E501, CDJ301\n"
    assert bound(source) == [
        (
            "CDJ900", 1, 7, "CDJ900 # noqa names CDJ201, CDJ301 but nothing on this line reports them; remove them",
            RemoveNoqaCodes(("CDJ201", "CDJ301")),
        ),
    ]


# -- the fixer carries the plan out and resolves nothing ------------------------------------------
def _apply(source: str, *findings: Finding) -> str:
    return apply_findings(source, list(findings), EVERY_RULE, ast.parse(source))[0]


def test_the_timeout_goes_where_the_plan_says() -> None:
    # ``fetch`` resolves to nothing: only the plan says which argument holds the timeout
    source = "fetch(url, None, None)\n"
    at_third = Finding(1, 0, "CDJ202", "", 1, 22, TimeoutPlan("urllib.request.urlopen", 2))
    at_second = Finding(1, 0, "CDJ202", "", 1, 22, TimeoutPlan("urllib.request.urlopen", 1))
    assert _apply(source, at_third) == "fetch(url, None, 30)\n"
    assert _apply(source, at_second) == "fetch(url, 30, None)\n"


def test_a_finding_without_its_plan_is_not_fixed() -> None:
    source = "import requests\nrequests.get(url)\n"
    assert _apply(source, Finding(2, 0, "CDJ201", "", 2, 17)) == source
    assert _apply(source, Finding(2, 0, "CDJ201", "", 2, 17, NotFixable("left to a person"))) == source
    assert _apply(source, Finding(2, 0, "CDJ201", "", 2, 17, TimeoutPlan("requests.get"))) == (
        "import requests\nrequests.get(url, timeout=30)\n"
    )


def test_the_reason_fix_gives_is_the_one_the_finding_carries() -> None:
    source = textwrap.dedent(
        """
        def sell(product):
            product.stock -= 1
            if product.stock < 0:
                raise ValueError
            product.save()
        """
    )
    (finding,) = check_source(source, "views.py", EVERY_RULE)
    result = fix_source(source, "views.py", EVERY_RULE, unsafe=True)
    assert [(refusal.finding, refusal.reason) for refusal in result.unfixed] == [
        (finding, "product.stock is read before the save, where it would hold an F() expression")
    ]
    assert isinstance(finding.fix, NotFixable) and finding.fix.reason == result.unfixed[0].reason


EVERY_FIX = """
from urllib.request import urlopen

import requests
from django.db import transaction
from shop.models import Item
from shop.tasks import notify


def ping(url):
    return requests.get(url), urlopen(url, None, None)


def retry(task):
    task.attempts += 1
    task.save()


def pay(order, names):
    with transaction.atomic(using="billing"):
        order.save()
        notify.delay(order.pk)
    for name in names:
        Item.objects.create(name=name)
"""

EVERY_FIX_APPLIED = """
from functools import partial
from urllib.request import urlopen

import requests
from django.db import transaction
from django.db.models import F
from shop.models import Item
from shop.tasks import notify


def ping(url):
    return requests.get(url, timeout=30), urlopen(url, None, 30)


def retry(task):
    task.attempts = F("attempts") + 1
    task.save()
    task.refresh_from_db(fields=["attempts"])


def pay(order, names):
    with transaction.atomic(using="billing"):
        order.save()
        transaction.on_commit(partial(notify.delay, order.pk), using="billing")
    Item.objects.bulk_create([Item(name=name) for name in names])
"""


def test_the_fixers_resolve_nothing_again(monkeypatch: pytest.MonkeyPatch) -> None:
    findings = check_source(EVERY_FIX, "views.py", EVERY_RULE, strict=True)
    assert [finding.code for finding in findings] == ["CDJ201", "CDJ202", "CDJ301", "CDJ501", "CDJ401"]

    def resolving(*args: object, **kwargs: object) -> None:
        raise AssertionError("the fix resolved a name or a condition again")

    # every name resolver and every fix condition: a fixer that calls one fails the test
    monkeypatch.setattr(ImportTable, "resolve", resolving)
    monkeypatch.setattr(FileContext, "qualified_name", resolving)
    for condition in ("update_with_f", "send_on_commit", "bulk_create", "view_of", "CodeView"):
        monkeypatch.setattr(fix_conditions, condition, resolving)
    assert _apply(EVERY_FIX, *findings) == EVERY_FIX_APPLIED


def test_machine_read_edits_carry_the_plan() -> None:
    # the edits of ``check --output-format json``/``sarif`` come from the same plan as ``fix``:
    # using= and the refresh included, and none for a finding whose fix is refused
    source = textwrap.dedent(
        """
        from django.db import transaction
        from shop.tasks import notify

        def pay(order):
            with transaction.atomic(using="billing"):
                order.save()
                notify.delay(order.pk)

        def retry(task):
            task.attempts += 1
            task.save()

        def sell(product):
            product.stock -= 1
            if product.stock < 0:
                raise ValueError
            product.save()
        """
    )
    reported = check_source_text("views.py", source, EVERY_RULE, edits=True).findings
    edits = [
        (item.code, item.start.row, None if item.fix is None else [edit.content for edit in item.fix.edits])
        for item in reported
    ]
    assert edits == [
        (
            "CDJ501", 8,
            [
                "\nfrom functools import partial\n",
                '        transaction.on_commit(partial(notify.delay, order.pk), using="billing")\n',
            ],
        ),
        (
            "CDJ301", 11,
            [
                "from django.db.models import F\n",
                '    task.attempts = F("attempts") + 1\n',
                '    task.refresh_from_db(fields=["attempts"])\n',
            ],
        ),
        ("CDJ301", 15, None),
    ]


def test_a_file_without_findings_binds_no_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    # near-misses of every rule with a plan: nothing is reported, so no condition runs
    def building(*args: object, **kwargs: object) -> None:
        raise AssertionError("a plan was computed for a file without findings")

    monkeypatch.setattr(fix_conditions, "CodeView", building)
    source = """
        import requests
        from django.db import transaction
        from django.db.models import F
        from shop.models import Item
        from shop.tasks import notify

        def ping(url, task, names):
            requests.get(url, timeout=5)
            task.attempts = F("attempts") + 1
            task.save()
            Item.objects.bulk_create([Item(name=name) for name in names])
            transaction.on_commit(lambda: notify.delay(task.pk))
        """
    assert bound(source) == []


def test_an_internal_error_in_a_condition_is_raised_when_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*facts: object) -> None:
        raise LookupError("boom")

    monkeypatch.setattr(fix_conditions, "update_with_f", broken)
    source = "def sell(product):\n    product.stock -= 1\n    product.save()\n"
    with pytest.raises(LookupError, match="boom"):
        check_source(source, "views.py", EVERY_RULE, strict=True)
    (finding,) = check_source(source, "views.py", EVERY_RULE)
    assert (finding.code, finding.line, finding.col, finding.fix) == (
        "CDJ301", 2, 4, NotFixable("internal error in the fix conditions: LookupError: boom")
    )


# -- every detector with a planned fix binds it --------------------------------------------------
EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").rglob("*.py"))
PLANNED = {code: registered.plan for code, registered in FIXERS.items() if registered.plan is not None}


def test_the_fixes_that_take_a_plan_are_declared_with_it() -> None:
    assert {code: kind.__name__ for code, kind in PLANNED.items()} == {
        "CDJ201": "TimeoutPlan", "CDJ202": "TimeoutPlan", "CDJ301": "UpdatePlan", "CDJ401": "BulkCreatePlan",
        "CDJ501": "OnCommitPlan", "CDJ502": "OnCommitPlan", "CDJ503": "OnCommitPlan", "CDJ506": "OnCommitPlan",
        "CDJ900": "RemoveNoqaCodes",
    }
    assert {code for code, rule in RULES.items() if rule.fix != "none"} - set(PLANNED) == {"CDJ504", "CDJ505"}


def test_every_finding_in_the_examples_carries_the_plan_its_fix_takes() -> None:
    carried: dict[str, set[str]] = {}
    for path in EXAMPLES:
        for finding in check_source(path.read_text(encoding="utf-8"), str(path), all_codes_settings(), strict=True):
            kind = PLANNED.get(finding.code)
            if kind is not None:
                assert isinstance(finding.fix, (kind, NotFixable)), (path.name, finding)
                carried.setdefault(finding.code, set()).add(type(finding.fix).__name__)
    # and each planned fix is shown with its plan at least once
    assert {code: sorted(kinds) for code, kinds in carried.items()} == {
        "CDJ201": ["TimeoutPlan"], "CDJ202": ["TimeoutPlan"], "CDJ301": ["UpdatePlan"],
        "CDJ401": ["BulkCreatePlan"], "CDJ501": ["OnCommitPlan"], "CDJ502": ["OnCommitPlan"],
        "CDJ503": ["OnCommitPlan"], "CDJ506": ["OnCommitPlan"], "CDJ900": ["RemoveNoqaCodes"],
    }


def test_a_finding_without_the_plan_its_fixer_takes_is_left_alone() -> None:
    source = "fetch(url, None, None)\n"
    other_kind = Finding(1, 0, "CDJ202", "", 1, 22, RemoveNoqaCodes(("CDJ202",)))
    assert _apply(source, other_kind) == source
