"""CDJ4xx: ORM writes and queries repeated once per loop iteration.

Method names come from Django's ``django/db/models/query.py`` (``QuerySet.create``, ``bulk_create``,
``bulk_update``, ``update``, ``delete``, ``in_bulk``, ``get``/``first``/``last``/``count``/
``exists`` and their ``a``-prefixed async twins), ``django/db/models/base.py`` (``Model.save``,
``Model.delete``) and ``django/shortcuts.py`` (``get_object_or_404``, ``get_list_or_404``).
A region repeats only where the walker says so: a ``for``'s iterable and a comprehension's first
iterable run once, and a function defined in a loop is not in it.
"""

from __future__ import annotations

import ast
from typing import NamedTuple

from flake8_celery_django import fix_conditions
from flake8_celery_django.context import FileContext, Kind, Loop
from flake8_celery_django.knowledge import loop_bounds, models, relations
from flake8_celery_django.knowledge.file_kinds import runs_once_or_in_tests
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.knowledge.operator_code import runs_only_from_operator_code
from flake8_celery_django.registry import on, on_exit, rule

# Loop extents read the file's model classes (a filter on a unique field selects one row).
_QUERYSETS = (relations.QUERYSET_NAMES, relations.MODEL_RELATIONS, loop_bounds.LOOP_EXTENTS)
CREATE_IN_LOOP = rule(
    "CDJ401",
    "orm-create-in-loop",
    "{what} inserts one row per loop iteration; use bulk_create()",
    summary="`Model.objects.create()` or `Model(...).save()` once per loop iteration",
    fix="unsafe",
    # Off: 1 of 33 findings was worth acting on in a strict read (docs/real-world.md, "Read strictly").
    default_enabled=False,
    uses=_QUERYSETS,
)
SAVE_IN_LOOP = rule(
    "CDJ402",
    "orm-save-in-loop",
    "{what} updates once per loop iteration; use bulk_update()",
    summary="Existing rows saved or updated one by one inside a loop",
    # Off: about half of its findings on the open corpus were worth acting on (docs/real-world.md).
    default_enabled=False,
    uses=_QUERYSETS,
)
DELETE_IN_LOOP = rule(
    "CDJ403",
    "orm-delete-in-loop",
    "{what} runs one DELETE per loop iteration; delete once with pk__in",
    summary="Rows deleted one by one inside a loop",
    # Off: about half of its findings on the open corpus were worth acting on (docs/real-world.md).
    default_enabled=False,
    uses=_QUERYSETS,
)
QUERY_IN_LOOP = rule(
    "CDJ404",
    "orm-query-in-loop",
    "{what} runs one query per loop iteration{more}; fetch before the loop",
    summary="A query on a model's manager (`.get()`, `.first()`, `.count()`, `.exists()`, ...) once per iteration",
    # Off: 8 of 49 findings were worth acting on in a strict read (docs/real-world.md, "Read strictly").
    default_enabled=False,
    uses=_QUERYSETS,
)
RELATED_QUERY_IN_LOOP = rule(
    "CDJ405",
    "related-manager-query-in-loop",
    '{what} queries once per {model} row (N+1); add prefetch_related("{relation}")',
    summary="Related manager queried per item of a loop over a queryset without `prefetch_related`",
    # Off: 2 of 14 findings were worth acting on in a strict read (docs/real-world.md, "Read strictly").
    default_enabled=False,
    uses=_QUERYSETS,
)

GET_OR_CREATE_IN_LOOP = rule(
    "CDJ409",
    "get-or-create-in-loop",
    "{what} queries per loop iteration; batch with bulk_create()",
    summary="`get_or_create()` / `update_or_create()` once per item of a loop over unbounded data",
    # Off: 4 of 28 findings were worth acting on in a strict read (docs/real-world.md, "Read strictly").
    default_enabled=False,
    uses=_QUERYSETS,
)

# Bookkeeping detectors (bindings, loop items) feed every rule of the family, whichever are enabled.
_ALL = (
    CREATE_IN_LOOP, SAVE_IN_LOOP, DELETE_IN_LOOP, QUERY_IN_LOOP, RELATED_QUERY_IN_LOOP, GET_OR_CREATE_IN_LOOP,
)
_CREATE_METHODS = frozenset({"create", "acreate"})
_SAVE_METHODS = frozenset({"save", "asave"})
_GET_OR_CREATE_METHODS = models.INSTANCE_TUPLE_METHODS
_UPDATE_METHODS = frozenset({"update", "aupdate"})
_DELETE_METHODS = frozenset({"delete", "adelete"})
_QUERY_METHODS = frozenset(
    {
        "get", "first", "last", "latest", "earliest", "count", "exists", "aggregate", "in_bulk",
        "contains", "aget", "afirst", "alast", "alatest", "aearliest", "acount", "aexists",
        "aaggregate", "ain_bulk", "acontains",
    }
)
_F = frozenset({"django.db.models.F", "django.db.models.expressions.F"})
_SHORTCUTS = frozenset(
    {
        "django.shortcuts.get_object_or_404", "django.shortcuts.get_list_or_404",
        "rest_framework.generics.get_object_or_404",
    }
)
_EVALUATING_BUILTINS = frozenset({"list", "tuple", "set", "len", "bool", "sorted"})
# Trailing calls that keep a queryset lazy but change what it yields.
_ROW_SHAPES = frozenset({"values", "values_list", "iterator", "aiterator"})


class _LoopItem(NamedTuple):
    """The name a loop binds to each element, and what the iterable is when it is a queryset."""

    name: str
    facts: relations.QuerysetFacts | None
    model_instance: bool


class _LoopState:
    """Per scope: loop items, names bound to new model instances, and items whose fields change."""

    items: dict[ast.AST, _LoopItem]
    constructed: dict[ast.AST, dict[str, str]]
    assigned: dict[ast.AST, set[str]]
    changed: dict[ast.AST, set[str]]
    copies: dict[ast.AST, set[str]]
    # Names bound to one row looked up by a query (``obj = Model.objects.filter(...).first()``).
    looked_up: set[str]

    __slots__ = ("items", "constructed", "assigned", "changed", "copies", "looked_up")

    def __init__(self) -> None:
        self.items = {}
        self.constructed = {}
        self.assigned = {}
        self.changed = {}
        self.copies = {}
        self.looked_up = set()


class _FileLoops:
    """Per file: statements of each loop that leave it, and query calls not to report (already reported
    by a write rule, or memoised)."""

    exiting: dict[ast.AST, frozenset[int]]
    consumed: set[int]
    # Nodes in the branch that inserts a row only when a lookup found none (an upsert).
    upserting: set[int]
    # Nodes guarded by a condition true on one pass of the loop only (``if first:``, ``if i == 0:``).
    once: set[int]
    # Classes of this file by the row-writing methods they define (``save``, ``delete``).
    overriding: dict[str, set[str]]
    # Whether a loop's body may change its row before saving it, per loop and row name.
    changes: dict[tuple[int, str], bool]
    # CDJ404's queries per loop that repeats them, reported when the walk leaves the loop.
    # (the queries that vary per iteration, those that ask the same every time).
    queries: dict[ast.AST, tuple[list[tuple[ast.AST, str]], list[tuple[ast.AST, str]]]]

    __slots__ = ("exiting", "consumed", "upserting", "once", "overriding", "changes", "queries")

    def __init__(self) -> None:
        self.exiting = {}
        self.consumed = set()
        self.upserting = set()
        self.once = set()
        self.overriding = {}
        self.changes = {}
        self.queries = {}


# -- where code repeats --------------------------------------------------------------------------
def _statement_lists(statement: ast.stmt) -> list[tuple[list[ast.stmt], bool]]:
    """Nested statement lists, with whether they belong to a nested loop (its ``break`` is its own)."""
    if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
        return [(statement.body, True), (statement.orelse, False)]
    if isinstance(statement, (ast.If,)):
        return [(statement.body, False), (statement.orelse, False)]
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return [(statement.body, False)]
    if isinstance(statement, ast.Try) or type(statement).__name__ == "TryStar":
        handlers = getattr(statement, "handlers", [])
        lists = [getattr(statement, "body", []), getattr(statement, "orelse", []), getattr(statement, "finalbody", [])]
        return [(items, False) for items in lists] + [(handler.body, False) for handler in handlers]
    if isinstance(statement, ast.Match):
        return [(case.body, False) for case in statement.cases]
    return []


def _exiting_nodes(loop_node: ast.AST) -> frozenset[int]:
    """Ids of nodes in blocks of the loop body that end by leaving the loop (``return``, ``raise``, ``break``)."""
    body = getattr(loop_node, "body", None)
    if not isinstance(body, list):
        return frozenset()
    found: set[int] = set()
    pending: list[tuple[list[ast.stmt], bool]] = [(body, False)]
    while pending:
        statements, in_nested_loop = pending.pop()
        if not statements:
            continue
        last = statements[-1]
        if isinstance(last, (ast.Return, ast.Raise)) or (isinstance(last, ast.Break) and not in_nested_loop):
            for statement in statements:
                found.update(id(node) for node in ast.walk(statement))
            continue
        for statement in statements:
            for inner, nested in _statement_lists(statement):
                pending.append((inner, in_nested_loop or nested))
    return frozenset(found)


# Loops over data of unknown extent stay silent: on the open corpus about 60% of their findings
# were worth acting on (docs/real-world.md), against the 90% a rule must reach.
_REPORTED_EXTENTS = frozenset({loop_bounds.Extent.UNBOUNDED})


def _loop_repeats(loop: Loop, node: ast.AST, ctx: FileContext) -> bool:
    cache = ctx.state(_FileLoops).exiting
    exiting = cache.get(loop.node)
    if exiting is None:
        exiting = cache[loop.node] = _exiting_nodes(loop.node)
    return id(node) not in exiting


def _repeats(node: ast.AST, ctx: FileContext, *, while_loops: bool = True, hoistable: bool = False) -> bool:
    """True when ``node`` runs once per item of data with no visible bound: some enclosing loop
    over rows, client data or a caller's data repeats it."""
    return _repeating_loop(node, ctx, while_loops=while_loops, hoistable=hoistable) is not None


def _repeating_loop(
    node: ast.AST, ctx: FileContext, *, while_loops: bool = True, hoistable: bool = False
) -> Loop | None:
    """The innermost enclosing loop that runs ``node`` once per item of data with no visible bound.

    Queries in ``while`` loops are left alone (``while_loops=False``): those loops poll or retry.
    A ``hoistable`` query (nothing in it changes between iterations) also counts in a loop over a
    fixed set (a formset's objects, a constant): it runs again for the same answer.
    """
    loops = ctx.scope.loops
    if not loops or runs_only_from_operator_code(ctx) or id(node) in ctx.state(_FileLoops).once:
        return None
    for loop in reversed(loops):
        if not while_loops and isinstance(loop.node, ast.While):
            continue
        if not _loop_repeats(loop, node, ctx):
            continue
        extent = loop_bounds.loop_extent(loop, ctx)
        if extent in _REPORTED_EXTENTS:
            return loop
        if hoistable and extent is not loop_bounds.Extent.FEW and _is_invariant(node, loop, ctx):
            return loop
    return None


def _is_invariant(node: ast.AST, loop: Loop, ctx: FileContext) -> bool:
    varying = loop_bounds.names_bound_in(loop, ctx)
    return all(
        inner.id not in varying for inner in ast.walk(node) if isinstance(inner, ast.Name)
    )


def _varies_per_iteration(model: str | frozenset[str], ctx: FileContext) -> bool:
    """``for model in models: model.objects...``: a different table each time, nothing to batch.

    Only the innermost loop counts: a loop nested inside the one that picks the model repeats the
    query on the same table.
    """
    loops = ctx.scope.loops
    if not loops:
        return False
    innermost = loops[-1]
    names = {model} if isinstance(model, str) else model
    bound = innermost.targets | _state(ctx).assigned.get(innermost.node, set())
    return not bound.isdisjoint(names)


_BATCH_LOOKUPS = ("pk__in", "id__in", "pk__range", "id__range", "pk__lt", "pk__lte", "id__lt", "id__lte")


def _filters_with_in_lookup(expr: ast.expr) -> bool:
    """``filter(pk__in=ids)``, ``filter(source_id__in=ids)``, ``filter(id__range=(a, b))``: already one
    statement for a batch of rows."""
    calls, _ = relations.chain_calls(expr)
    return any(
        keyword.arg is not None and keyword.arg.endswith(_BATCH_LOOKUPS)
        for call in calls
        if relations.method_name(call) == "filter"
        for keyword in call.keywords
    )


def _reads_batch_per_iteration(expr: ast.expr, ctx: FileContext) -> bool:
    """``Product.objects.filter(id__in=chunk)`` where ``chunk`` changes per iteration: the loop walks
    batches, and each query reads one batch (the remedy already applied). The same filter on a value
    that does not change is a repeated query and stays reported."""
    loops = ctx.scope.loops
    if not loops:
        return False
    varying = loop_bounds.names_bound_in(loops[-1], ctx)
    calls, _ = relations.chain_calls(expr)
    return any(
        keyword.arg is not None
        and keyword.arg.endswith(_BATCH_LOOKUPS)
        and not isinstance(keyword.value, (ast.List, ast.Tuple, ast.Set))  # ``pk__in=[pk]``: a batch of one
        and any(isinstance(inner, ast.Name) and inner.id in varying for inner in ast.walk(keyword.value))
        for call in calls
        if relations.method_name(call) == "filter"
        for keyword in call.keywords
    )


# -- descriptions for messages -------------------------------------------------------------------
def _describe(expr: ast.expr) -> str:
    """``Order.objects.filter().update()`` for a call chain (arguments elided)."""
    calls, root = relations.chain_calls(expr)
    text = dotted_name(root)
    if text is None:
        text = "(...)" if not isinstance(root, ast.Call) else (dotted_name(root.func) or "call") + "()"
    for call in reversed(calls):
        text += f".{relations.method_name(call)}()"
    return text


# -- bookkeeping ---------------------------------------------------------------------------------
def _state(ctx: FileContext) -> _LoopState:
    return ctx.scope.state(_LoopState)


def _loop_item(target: ast.expr, iterable: ast.expr, ctx: FileContext) -> _LoopItem | None:
    if not isinstance(target, ast.Name):
        return None
    facts = relations.queryset_facts(iterable, ctx)
    bound = ctx.scope.lookup(target.id)
    model_instance = bound is not None and bound.kind is Kind.MODEL_INSTANCE
    return _LoopItem(target.id, facts, model_instance)


def _item_of(name: str, ctx: FileContext) -> tuple[Loop, _LoopItem] | None:
    """The innermost active loop whose element is bound to ``name``."""
    items = _state(ctx).items
    for loop in reversed(ctx.scope.loops):
        item = items.get(loop.node)
        if item is not None and item.name == name:
            return loop, item
        if name in loop.targets:
            return None
    return None


def _record_binding(target: ast.expr, value: ast.expr, ctx: FileContext) -> None:
    loops = ctx.scope.loops
    state = _state(ctx)
    if isinstance(target, ast.Name):
        if _is_row_lookup(value, ctx):
            state.looked_up.add(target.id)
        else:
            state.looked_up.discard(target.id)
        if loops:
            # (which model is built only matters inside a loop: asked there alone)
            model = models.model_class_label(value.func, ctx) if isinstance(value, ast.Call) else None
            if model is not None and isinstance(value, ast.Call) and _names_primary_key(value):
                model = None  # ``Model(pk=pk, ...)`` then ``save()`` updates that row when it exists
            loop = loops[-1].node
            assigned = state.assigned.setdefault(loop, set())
            constructed = state.constructed.setdefault(loop, {})
            if model is not None and (target.id not in assigned or target.id in constructed):
                constructed[target.id] = model
            else:
                # Fetched in one branch and built in another: an upsert, not a plain insert.
                constructed.pop(target.id, None)
            assigned.add(target.id)
    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and loops:
        loop = loops[-1].node
        state.changed.setdefault(loop, set()).add(target.value.id)
        if target.attr in ("pk", "id") and isinstance(value, ast.Constant) and value.value is None:
            state.copies.setdefault(loop, set()).add(target.value.id)


@on(ast.Assign, ast.AnnAssign, rules=_ALL)
def record_assignment(node: ast.Assign | ast.AnnAssign, ctx: FileContext) -> None:
    if node.value is None:
        return
    for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
        _record_binding(target, node.value, ctx)


@on(ast.AugAssign, rules=_ALL)
def record_augmented_assignment(node: ast.AugAssign, ctx: FileContext) -> None:
    _record_binding(node.target, node.value, ctx)


# -- CDJ404 on evaluated querysets ---------------------------------------------------------------
def _manager_queryset_label(expr: ast.expr, ctx: FileContext) -> str | None:
    """The model of a lazy queryset chain on a model's manager (``values``/``iterator`` allowed last)."""
    node = expr
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _ROW_SHAPES
    ):
        node = node.func.value
    if not isinstance(node, ast.Call):
        return None
    return relations.manager_queryset_label(node, ctx)


def _check_evaluated_queryset(expr: ast.expr, ctx: FileContext, *, repeating_in: ast.AST | None = None) -> None:
    """A queryset iterated or converted where that happens once per iteration of a loop
    (``repeating_in``: a comprehension whose outer iterables repeat it)."""
    model = _manager_queryset_label(expr, ctx)
    if model is None or _varies_per_iteration(model, ctx) or _reads_batch_per_iteration(expr, ctx):
        return
    if repeating_in is None:
        loop = _repeating_loop(expr, ctx, while_loops=False)
        repeating_in = loop.node if loop is not None else None
    if repeating_in is not None and not runs_once_or_in_tests(ctx):
        _query_in(repeating_in, expr, _describe(expr), ctx)


@on(ast.For, ast.AsyncFor, rules=_ALL)
def check_for(node: ast.For | ast.AsyncFor, ctx: FileContext) -> None:
    item = _loop_item(node.target, node.iter, ctx)
    if item is not None:
        _state(ctx).items[node] = item
    _check_evaluated_queryset(node.iter, ctx)


@on(
    ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp, rules=_ALL,
)
def check_comprehension(
    node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, ctx: FileContext
) -> None:
    first = node.generators[0]
    item = _loop_item(first.target, first.iter, ctx)
    if item is not None:
        _state(ctx).items[node] = item
    _check_evaluated_queryset(first.iter, ctx)
    outer = loop_bounds.Extent.FEW
    for previous, generator in zip(node.generators, node.generators[1:]):
        # ``for g in groups for p in Product.objects.filter(group=g)``: once per item of the outer ones.
        outer = loop_bounds.longest([outer, loop_bounds.iterable_extent(previous.iter, ctx)])
        _check_evaluated_queryset(generator.iter, ctx, repeating_in=node if outer in _REPORTED_EXTENTS else None)


def _memo_target(test: ast.expr) -> str | None:
    """``not x`` / ``x is None``: the name a memoising ``if`` fills once.

    ``if key not in cache`` is not counted: it still queries once per distinct key.
    """
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return dotted_name(test.operand)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and len(test.comparators) == 1:
        op, right = test.ops[0], test.comparators[0]
        if isinstance(op, ast.Is) and isinstance(right, ast.Constant) and right.value is None:
            return dotted_name(test.left)
    return None


@on(ast.If, rules=(QUERY_IN_LOOP,))
def record_memoised_queries(node: ast.If, ctx: FileContext) -> None:
    """``if x is None: x = Model.objects.get(...)`` fills a cache: the query runs once, not per iteration."""
    if not ctx.scope.loops:
        return
    cache = _memo_target(node.test)
    if cache is None:
        return
    memoised = ctx.state(_FileLoops).consumed
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if dotted_name(target) == cache:
                value = statement.value
                memoised.add(id(value.value if isinstance(value, ast.Await) else value))


@on(ast.Subscript, rules=(QUERY_IN_LOOP,))
def check_indexed_queryset(node: ast.Subscript, ctx: FileContext) -> None:
    if isinstance(node.value, ast.Call) and ctx.scope.loops and not isinstance(node.slice, ast.Slice):
        if isinstance(node.ctx, ast.Load):
            _check_evaluated_queryset(node.value, ctx)


# -- shapes that write once, or only what is missing -------------------------------------------
_ROW_LOOKUPS = frozenset(
    {"get", "first", "last", "latest", "earliest", "aget", "afirst", "alast", "alatest", "aearliest"}
)
_MISSING_ROW = frozenset({"DoesNotExist", "ObjectDoesNotExist"})


def _names_primary_key(constructor: ast.Call) -> bool:
    """``Model(id=pk, ...)``: saving it updates the row with that key if there is one (an upsert)."""
    return any(keyword.arg in ("pk", "id") for keyword in constructor.keywords)


def _is_row_lookup(value: ast.expr, ctx: FileContext) -> bool:
    """``Model.objects.filter(...).first()``, ``await qs.aget(...)``: one row or ``None``/an exception;
    ``qs.exists()``: whether there is one."""
    while isinstance(value, ast.Await):
        value = value.value
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and (value.func.attr in _ROW_LOOKUPS or value.func.attr in ("exists", "aexists"))
        and relations.queryset_facts(value.func.value, ctx) is not None
    )


def _missing_row_test(test: ast.expr, ctx: FileContext) -> bool | None:
    """True for ``obj is None`` / ``not obj`` / ``not qs.exists()``, False for ``obj`` / ``qs.exists()``
    (the row was looked up in this loop); None for any other test."""
    negated = False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        negated, test = True, test.operand
    elif isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.comparators[0], ast.Constant):
        if test.comparators[0].value is not None or not isinstance(test.ops[0], (ast.Is, ast.IsNot)):
            return None
        negated, test = isinstance(test.ops[0], ast.Is), test.left
    if isinstance(test, ast.Name) and test.id in _state(ctx).looked_up:
        return negated
    if (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr in ("exists", "aexists")
        and relations.queryset_facts(test.func.value, ctx) is not None
    ):
        return negated
    return None


def _node_ids(statements: list[ast.stmt]) -> set[int]:
    return {id(node) for statement in statements for node in ast.walk(statement)}


def _runs_on_first_pass_only(node: ast.If, ctx: FileContext) -> bool:
    """``if i == 0:`` over an ``enumerate`` target, or ``if first:`` whose body clears ``first``."""
    test = node.test
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        left, right = test.left, test.comparators[0]
        if isinstance(left, ast.Constant):
            left, right = right, left
        innermost = ctx.scope.loops[-1]
        return (
            isinstance(left, ast.Name)
            and left.id in innermost.targets
            and isinstance(right, ast.Constant)
            and right.value == 0
            and isinstance(innermost.iterable, ast.Call)
            and isinstance(innermost.iterable.func, ast.Name)
            and innermost.iterable.func.id == "enumerate"
        )
    flag = test.operand if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) else test
    if not isinstance(flag, ast.Name):
        return False
    return any(
        isinstance(statement, ast.Assign)
        and any(isinstance(target, ast.Name) and target.id == flag.id for target in statement.targets)
        and isinstance(statement.value, ast.Constant)
        for statement in node.body
    )


@on(ast.If, rules=(CREATE_IN_LOOP, SAVE_IN_LOOP, DELETE_IN_LOOP, QUERY_IN_LOOP, GET_OR_CREATE_IN_LOOP))
def record_guarded_branches(node: ast.If, ctx: FileContext) -> None:
    if not ctx.scope.loops:
        return
    state = ctx.state(_FileLoops)
    if _runs_on_first_pass_only(node, ctx):
        state.once.update(_node_ids(node.body))
    missing = _missing_row_test(node.test, ctx)
    if missing is not None:
        state.upserting.update(_node_ids(node.body if missing else node.orelse))


@on(ast.Try, rules=(CREATE_IN_LOOP,))
def record_upsert_handlers(node: ast.Try, ctx: FileContext) -> None:
    """``try: obj = Model.objects.get(...)`` / ``except Model.DoesNotExist: Model.objects.create(...)``."""
    if not ctx.scope.loops:
        return
    for handler in node.handlers:
        caught = handler.type
        names = caught.elts if isinstance(caught, ast.Tuple) else [caught] if caught is not None else []
        if any((dotted_name(name) or "").rpartition(".")[2] in _MISSING_ROW for name in names):
            ctx.state(_FileLoops).upserting.update(_node_ids(handler.body))


@on(ast.ClassDef, rules=(SAVE_IN_LOOP, DELETE_IN_LOOP))
def record_overriding_class(node: ast.ClassDef, ctx: FileContext) -> None:
    overriding = ctx.state(_FileLoops).overriding
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name in ("save", "delete"):
            overriding.setdefault(item.name, set()).add(node.name)


def _related_model(iterable: ast.expr, ctx: FileContext) -> str | None:
    """``Retry`` for ``webhook.retries.all()`` when the project index knows ``WebHook.retries``."""
    _, root = relations.chain_calls(iterable)
    if not isinstance(root, ast.Attribute) or not isinstance(root.value, ast.Name):
        return None
    owner = ctx.scope.lookup(root.value.id)
    if owner is None or owner.kind is not Kind.MODEL_INSTANCE:
        return None
    fact = ctx.project.model(owner.label)
    relation = ctx.project.model_field(fact, root.attr) if fact is not None else None
    if relation is None or relation.target is None:
        return None
    return relation.target.rpartition(".")[2]


def _overrides(model: str, method: str, ctx: FileContext) -> bool:
    """The model's own ``save()``/``delete()`` does more than write the row (files, counters, caches)."""
    if model in ctx.state(_FileLoops).overriding.get(method, ()):
        return True
    pending = [ctx.project.model(model)] if model else []
    seen: set[str] = set()
    while pending:  # the model and the project models it is built on (an abstract base's save() counts)
        fact = pending.pop()
        if fact is None or fact.qualified_name in seen:
            continue
        seen.add(fact.qualified_name)
        if fact.overrides_save if method == "save" else fact.overrides_delete:
            return True
        pending.extend(ctx.project.model(base) for base in fact.bases)
    return False


# -- calls ---------------------------------------------------------------------------------------
def _is_model_item(name: str, ctx: FileContext) -> tuple[Loop, _LoopItem] | None:
    """The loop item ``name`` when it is known to be a row (a queryset element or a changed instance)."""
    found = _item_of(name, ctx)
    if found is None:
        return None
    loop, item = found
    if item.facts is not None or item.model_instance:
        return found
    if name in _state(ctx).changed.get(loop.node, set()):
        return found
    return None


def _constructed_model(name: str, ctx: FileContext) -> tuple[ast.AST, str] | None:
    """The loop and model when ``name`` was bound to ``Model(...)`` in an active loop."""
    state = _state(ctx)
    for loop in ctx.scope.loops:
        model = state.constructed.get(loop.node, {}).get(name)
        if model is not None:
            return loop.node, model
    return None


def _is_copy(name: str, call: ast.Call, ctx: FileContext) -> bool:
    """``obj.pk = None`` or ``save(force_insert=True)``: the save inserts a copy."""
    if any(keyword.arg == "force_insert" for keyword in call.keywords):
        return True
    copies = _state(ctx).copies
    return any(name in copies.get(loop.node, ()) for loop in ctx.scope.loops)


_WRITE_METHODS = _CREATE_METHODS | _SAVE_METHODS | _UPDATE_METHODS | _DELETE_METHODS | _GET_OR_CREATE_METHODS


@on(ast.Call, rules=(QUERY_IN_LOOP,))
def record_written_query(node: ast.Call, ctx: FileContext) -> None:
    """``Model.objects.get(...).delete()``: the query is part of a write, which CDJ401-403 judge."""
    func = node.func
    if ctx.scope.loops and isinstance(func, ast.Attribute) and func.attr in _WRITE_METHODS:
        if isinstance(func.value, ast.Call):
            ctx.state(_FileLoops).consumed.add(id(func.value))


def _check_write(node: ast.Call, func: ast.Attribute, ctx: FileContext) -> bool:
    method = func.attr
    receiver = func.value
    if method in _CREATE_METHODS:
        model = relations.manager_queryset_label(receiver, ctx)
        if model is None or _varies_per_iteration(model, ctx) or not _repeats(node, ctx):
            return False
        if id(node) in ctx.state(_FileLoops).upserting:
            return True  # an insert only where the lookup found nothing: an upsert
        ctx.report(node, CREATE_IN_LOOP, fix=fix_conditions.plan_bulk_create(node, ctx), what=_describe(node))
        return True
    if method in _SAVE_METHODS:
        return _check_save(node, receiver, method, ctx)
    if method in _UPDATE_METHODS:
        facts = relations.queryset_facts(receiver, ctx)
        if facts is None or _varies_per_iteration(facts.roots, ctx) or _filters_with_in_lookup(receiver):
            return False
        if not _repeats(node, ctx) or _adjusts_in_place(node, ctx):
            return False
        ctx.report(node, SAVE_IN_LOOP, what=_describe(node))
        return True
    if method in _DELETE_METHODS:
        return _check_delete(node, receiver, ctx)
    if method in _GET_OR_CREATE_METHODS:
        model = relations.manager_queryset_label(receiver, ctx)
        if model is None or _varies_per_iteration(model, ctx) or not _repeats(node, ctx):
            return False
        ctx.report(node, GET_OR_CREATE_IN_LOOP, what=_describe(node))
        return True
    return False


def _adjusts_in_place(call: ast.Call, ctx: FileContext) -> bool:
    """``update(redeemed=F("redeemed") - 1)``: a counter moved in the database, row by row on purpose
    (one ``bulk_update()`` would write values read earlier, and lose concurrent changes)."""
    return any(
        isinstance(inner, ast.Call) and ctx.qualified_name(inner.func) in _F
        for keyword in call.keywords
        for inner in ast.walk(keyword.value)
    )


def _check_save(node: ast.Call, receiver: ast.expr, method: str, ctx: FileContext) -> bool:
    upserting = id(node) in ctx.state(_FileLoops).upserting
    if isinstance(receiver, ast.Call):
        model = models.model_class_label(receiver.func, ctx)
        if model is None or _names_primary_key(receiver) or not _repeats(node, ctx):
            return False
        if upserting:
            return True
        ctx.report(node, CREATE_IN_LOOP, fix=fix_conditions.ONLY_CREATE, what=f"{model}(...).{method}()")
        return True
    if not isinstance(receiver, ast.Name):
        return False
    constructed = _constructed_model(receiver.id, ctx)
    if constructed is not None:
        loop, model = constructed
        # Only the first save inserts; later saves of the same new row are updates.
        del _state(ctx).constructed[loop][receiver.id]
        if not _repeats(node, ctx):
            return False
        if upserting:
            return True
        what = f"{receiver.id}.{method}() of a new {model}"
        ctx.report(node, CREATE_IN_LOOP, fix=fix_conditions.ONLY_CREATE, what=what)
        return True
    found = _is_model_item(receiver.id, ctx)
    if found is None or _is_copy(receiver.id, node, ctx) or not _changes_row(receiver.id, found[0], ctx):
        return False
    model = _item_model(*found, ctx)
    # bulk_update() and update() skip save(): a model whose save() does more is saved one by one on
    # purpose, so only rows of a model known by name, without its own save(), are reported.
    if not model[:1].isupper() or _overrides(model, "save", ctx):
        return False
    if not _repeats(node, ctx):
        return False
    ctx.report(node, SAVE_IN_LOOP, what=f"{receiver.id}.{method}()")
    return True


def _changes_row(name: str, loop: Loop, ctx: FileContext) -> bool:
    """The loop's body may change the row ``name`` before saving it: it assigns one of its attributes
    (or part of one), calls one of its methods other than ``save()``, hands it or one of its attributes
    to a call, or rebinds it.

    A save of a row left as it was read writes nothing new: it runs for what ``save()`` does besides
    (signals, ``auto_now`` fields, an overridden ``save()``), which ``bulk_update()`` would skip.
    """
    cache = ctx.state(_FileLoops).changes
    key = (id(loop.node), name)
    found = cache.get(key)
    if found is None:
        found = cache[key] = _body_changes(name, getattr(loop.node, "body", []))
    return found


def _root_name(node: ast.expr) -> str | None:
    """``row`` for ``row``, ``*row``, ``row.name`` or ``row.data.items``: a value a call may change in
    place; None for a key (``row.pk``, ``row.id``, ``row.order_id``), which no call can change."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        if node.attr in ("pk", "id") or node.attr.endswith("_id"):
            return None
    while isinstance(node, (ast.Attribute, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _names(node: ast.AST, name: str) -> bool:
    return any(isinstance(inner, ast.Name) and inner.id == name for inner in ast.walk(node))


def _body_changes(name: str, body: list[ast.stmt]) -> bool:
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete, ast.For, ast.AsyncFor)):
                targets = (
                    node.targets if isinstance(node, (ast.Assign, ast.Delete))
                    else [node.target]
                )
                if any(_names(target, name) for target in targets):
                    return True
            elif isinstance(node, ast.NamedExpr) and node.target.id == name:
                return True
            elif isinstance(node, ast.Call):
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and func.value.id == name
                    and func.attr not in _SAVE_METHODS
                ):
                    return True
                arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
                if any(_root_name(argument) == name for argument in arguments):
                    return True
    return False


def _item_model(loop: Loop, item: _LoopItem, ctx: FileContext) -> str:
    """The model of a loop's rows, by name, when the file or the project index tells."""
    model = item.facts.label if item.facts is not None else ""
    if not model and loop.iterable is not None:
        model = _related_model(loop.iterable, ctx) or ""
    return model


# ``Model.delete(using=None, keep_parents=False)``; any other argument means an overridden delete.
_DELETE_PARAMETERS = frozenset({"using", "keep_parents"})


def _check_delete(node: ast.Call, receiver: ast.expr, ctx: FileContext) -> bool:
    if node.args or any(keyword.arg not in _DELETE_PARAMETERS for keyword in node.keywords):
        return False
    model: str
    if isinstance(receiver, ast.Name):
        found = _is_model_item(receiver.id, ctx)
        if found is None:
            return False
        model = _item_model(*found, ctx)
        # A row of an unknown model (``self.pages.all()``) may be deleted through its own delete();
        # only a model known by name, without an override in the file or the project, is reported.
        if not model[:1].isupper() or _overrides(model, "delete", ctx):
            return False
    else:
        facts = relations.queryset_facts(receiver, ctx)
        if facts is not None:
            if _filters_with_in_lookup(receiver) or _varies_per_iteration(facts.roots, ctx):
                return False
            if any(isinstance(loop.node, ast.While) for loop in ctx.scope.loops):
                return False  # ``while`` a batch is left: deleting in chunks is the remedy, not the problem
            model = facts.label
        else:
            instance = models.infer_call(receiver, ctx) if isinstance(receiver, ast.Call) else None
            if instance is None or instance.kind is not Kind.MODEL_INSTANCE:
                return False
            model = instance.label
            if _overrides(model, "delete", ctx):
                return False
    if (model and _varies_per_iteration(model, ctx)) or not _repeats(node, ctx):
        return False
    ctx.report(node, DELETE_IN_LOOP, what=_describe(node))
    return True


def _check_query(node: ast.Call, ctx: FileContext) -> None:
    if id(node) in ctx.state(_FileLoops).consumed:
        return
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in _QUERY_METHODS:
        model = relations.manager_queryset_label(func.value, ctx)
        # A row locked per iteration (select_for_update) is a work queue drained one row at a time.
        if (
            model is not None
            and not _varies_per_iteration(model, ctx)
            and not relations.is_locked_chain(node, ctx)
            and not _reads_batch_per_iteration(func.value, ctx)
        ):
            loop = _repeating_loop(node, ctx, while_loops=False, hoistable=True)
            if loop is not None:
                _query_in(loop.node, node, _describe(node), ctx, invariant=_is_invariant(node, loop, ctx))
        return
    if isinstance(func, ast.Name) and func.id in _EVALUATING_BUILTINS and len(node.args) == 1:
        if ctx.scope.lookup(func.id) is None and func.id not in ctx.imports.names:
            _check_evaluated_queryset(node.args[0], ctx)
        return
    if isinstance(func, (ast.Name, ast.Attribute)) and ctx.qualified_name(func) in _SHORTCUTS:
        loop = _repeating_loop(node, ctx, while_loops=False)
        if loop is not None:
            _query_in(loop.node, node, f"{dotted_name(func)}()", ctx)


def _query_in(loop: ast.AST, node: ast.AST, what: str, ctx: FileContext, *, invariant: bool = False) -> None:
    """A query that ``loop`` repeats: reported once per loop, when the walk leaves it; a query that
    asks the same every time (moved out of the loop as it is) apart from those that vary."""
    ctx.state(_FileLoops).queries.setdefault(loop, ([], []))[invariant].append((node, what))


def _position(query: tuple[ast.AST, str]) -> tuple[int, int]:
    return getattr(query[0], "lineno", 0), getattr(query[0], "col_offset", 0)


@on_exit(
    ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp, rules=(QUERY_IN_LOOP,)
)
def report_queries(node: ast.AST, ctx: FileContext) -> None:
    """One finding per loop at its first query, counting the others (one decision for the reviewer);
    the queries that ask the same every time, a different remedy, get one of their own."""
    found = ctx.state(_FileLoops).queries.pop(node, None)
    for queries in found or ():
        if not queries:
            continue
        first, what = min(queries, key=_position)
        more = f" ({len(queries)} in this loop)" if len(queries) > 1 else ""
        ctx.report(first, QUERY_IN_LOOP, what=what, more=more)


def _check_related_query(node: ast.Call, func: ast.Attribute, ctx: FileContext) -> None:
    method = func.attr
    if method not in relations.RELATED_QUERY_METHODS:
        if method not in relations.RELATED_QUERY_METHODS_WITHOUT_ARGUMENTS or node.args or node.keywords:
            return
    manager = func.value
    if not isinstance(manager, ast.Attribute) or not isinstance(manager.value, ast.Name):
        return
    relation = manager.attr
    if relation in models.MANAGER_ATTRIBUTES:
        return
    found = _item_of(manager.value.id, ctx)
    if found is None:
        return
    _, item = found
    facts = item.facts
    if facts is None or not facts.from_manager or facts.prefetches.covers(relation):
        return
    kind = relations.attribute_kind(facts.label, relation, ctx)
    if kind is not None and kind != relations.MANY:
        return
    if _repeats(node, ctx):
        ctx.report(
            node,
            RELATED_QUERY_IN_LOOP,
            what=_describe(node),
            relation=relation,
            model=facts.label,
        )


@on(ast.Call, rules=_ALL)
def check_call(node: ast.Call, ctx: FileContext) -> None:
    if not ctx.scope.loops:
        return
    func = node.func
    if isinstance(func, ast.Attribute):
        if _check_write(node, func, ctx):
            return
        _check_related_query(node, func, ctx)
    _check_query(node, ctx)
