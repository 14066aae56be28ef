"""CDJ406: a foreign key or one-to-one followed once per row of a loop over a queryset.

Reading ``order.customer`` loads the customer with one query unless the queryset selected it
(``select_related``) or prefetched it (``prefetch_related``): Django's
``ForwardManyToOneDescriptor.__get__`` and ``ReverseOneToOneDescriptor.__get__`` in
``django/db/models/fields/related_descriptors.py``.  ``order.customer_id`` is a column of the row
and costs nothing.  Only attributes that a model definition (this file's or the project's) declares
as a to-one relation are followed: an attribute name alone is never taken for one.
"""

from __future__ import annotations

import ast
from typing import NamedTuple

from flake8_celery_django.context import FileContext, Kind, Loop
from flake8_celery_django.knowledge import fetched_relations, loop_bounds, model_fields
from flake8_celery_django.knowledge.operator_code import runs_only_from_operator_code
from flake8_celery_django.registry import on, on_exit, rule

TRAVERSAL_IN_LOOP = rule(
    "CDJ406",
    "foreign-key-traversal-in-loop",
    "{expression} is a query per row; {remedy}",
    summary="Foreign key or one-to-one followed per row of a loop over a queryset without `select_related`",
    default_enabled=False,
    uses=(model_fields.MODEL_RELATIONS, fetched_relations.FETCHED_NAMES, loop_bounds.LOOP_EXTENTS),
)


class _Traversal(NamedTuple):
    """One relation followed from a loop's row: where, how it is written, and the lookup that fetches it."""

    node: ast.Attribute
    expression: str
    lookup: str
    key_only: bool


class _Traversals:
    """Per scope: attribute nodes already read as part of a longer chain, relations followed per loop,
    nodes read only when a row's key differs from a remembered one, and loop items bound again."""

    inner: set[int]
    pending: dict[ast.AST, dict[str, _Traversal]]
    # id of a node in such a branch -> (row name, relation) whose ``<relation>_id`` the test compares
    per_key_change: dict[int, tuple[str, str]]
    # ids of nodes in an ``except`` handler inside a loop: they run when an iteration fails
    on_failure: set[int]
    # ids of expressions used only for their truth value (``if o.customer:``, ``o.customer is None``)
    truth_tested: set[int]
    # loop node -> loop targets assigned again in its body so far (no longer the row)
    rebound: dict[ast.AST, set[str]]

    __slots__ = ("inner", "pending", "per_key_change", "on_failure", "truth_tested", "rebound")

    def __init__(self) -> None:
        self.inner = set()
        self.pending = {}
        self.per_key_change = {}
        self.on_failure = set()
        self.truth_tested = set()
        self.rebound = {}


def _item_loop(name: str, ctx: FileContext) -> Loop | None:
    """The innermost loop whose element (its first target, a plain name) is ``name``."""
    for loop in reversed(ctx.scope.loops):
        if name not in loop.targets:
            continue
        node = loop.node
        if isinstance(node, (ast.For, ast.AsyncFor)):
            target = node.target
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            target = node.generators[0].target
        else:
            return None
        return loop if isinstance(target, ast.Name) and target.id == name else None
    return None


def _attribute_chain(node: ast.Attribute) -> tuple[ast.Name | None, list[ast.Attribute]]:
    """``a.b.c`` -> ``a`` and the attribute nodes ``a.b``, ``a.b.c`` (innermost first)."""
    chain: list[ast.Attribute] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        chain.append(current)
        current = current.value
    chain.reverse()
    return (current if isinstance(current, ast.Name) else None), chain


def _key_column(expr: ast.expr) -> tuple[str, str] | None:
    """``("o", "event")`` for ``o.event_id``."""
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.attr.endswith("_id"):
        return expr.value.id, expr.attr[: -len("_id")]
    return None


def _same(one: ast.expr, other: ast.expr) -> bool:
    return ast.dump(one) == ast.dump(other)


def _remembers(statements: list[ast.stmt], name: str, key: ast.expr, *, as_container: bool) -> bool:
    """``name = <key>`` (for a container: ``name[<key>] = ...`` or ``name.add(<key>)``) in ``statements``."""
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if as_container:
                        if (
                            isinstance(target, ast.Subscript)
                            and isinstance(target.value, ast.Name)
                            and target.value.id == name
                            and _same(target.slice, key)
                        ):
                            return True
                    elif isinstance(target, ast.Name) and target.id == name and _same(node.value, key):
                        return True
            elif as_container and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                receiver = node.func.value
                if (
                    node.func.attr == "add"
                    and isinstance(receiver, ast.Name)
                    and receiver.id == name
                    and len(node.args) == 1
                    and _same(node.args[0], key)
                ):
                    return True
    return False


def _changed_key(test: ast.expr, body: list[ast.stmt]) -> tuple[str, str] | None:
    """``if event_id != o.event_id: ...; event_id = o.event_id`` (or ``if o.event_id not in seen: seen[...]``):
    the branch runs once per distinct key, not once per row."""
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if isinstance(op, ast.NotEq):
        for key, other in ((left, right), (right, left)):
            column = _key_column(key)
            remembered = isinstance(other, ast.Name) and _remembers(body, other.id, key, as_container=False)
            if column is not None and remembered:
                return column
    elif isinstance(op, ast.NotIn):
        column = _key_column(left)
        if column is not None and isinstance(right, ast.Name) and _remembers(body, right.id, left, as_container=True):
            return column
    return None


@on(ast.If, rules=(TRAVERSAL_IN_LOOP,))
def record_guarded_branch(node: ast.If, ctx: FileContext) -> None:
    """Branches that run once per distinct key of a loop's rows."""
    if not ctx.scope.loops:
        return
    column = _changed_key(node.test, node.body)
    if column is not None:
        state = ctx.scope.state(_Traversals)
        for statement in node.body:
            for inner in ast.walk(statement):
                state.per_key_change[id(inner)] = column


@on(
    ast.If, ast.While, ast.IfExp, ast.Assert, ast.UnaryOp, ast.BoolOp, ast.Compare,
    ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp,
    rules=(TRAVERSAL_IN_LOOP,),
)
def record_truth_tests(node: ast.AST, ctx: FileContext) -> None:
    """Expressions whose value only decides a branch: a related row loaded there is only tested for
    ``None``, which its key column (``o.customer_id``) tells without a query."""
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        # entered before its loop starts: its conditions are tested once per item
        tested = ctx.scope.state(_Traversals).truth_tested
        tested.update(id(condition) for generator in node.generators for condition in generator.ifs)
        return
    if not ctx.scope.loops:
        return
    tested = ctx.scope.state(_Traversals).truth_tested
    if isinstance(node, (ast.If, ast.While, ast.IfExp, ast.Assert)):
        tested.add(id(node.test))
    elif isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            tested.add(id(node.operand))
    elif isinstance(node, ast.BoolOp):
        if id(node) in tested:
            tested.update(id(value) for value in node.values)
    elif isinstance(node, ast.Compare):
        comparator = node.comparators[0]
        if (
            len(node.ops) == 1
            and isinstance(node.ops[0], (ast.Is, ast.IsNot))
            and isinstance(comparator, ast.Constant)
            and comparator.value is None
        ):
            tested.add(id(node.left))


@on(ast.ExceptHandler, rules=(TRAVERSAL_IN_LOOP,))
def record_failure_path(node: ast.ExceptHandler, ctx: FileContext) -> None:
    """``except Exception: log.exception(..., project=version.project.slug)``: once per failed
    iteration, not once per row."""
    if ctx.scope.loops:
        failure = ctx.scope.state(_Traversals).on_failure
        failure.update(id(inner) for statement in node.body for inner in ast.walk(statement))


@on_exit(ast.Assign, ast.AnnAssign, ast.AugAssign, rules=(TRAVERSAL_IN_LOOP,))
def record_rebound_item(node: ast.Assign | ast.AnnAssign | ast.AugAssign, ctx: FileContext) -> None:
    """``o = Order.objects.select_related("event").get(pk=o.pk)`` in the loop: ``o`` is no longer the row."""
    if not ctx.scope.loops:
        return
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        for name in ast.walk(target):
            if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store):
                loop = _item_loop(name.id, ctx)
                if loop is not None:
                    ctx.scope.state(_Traversals).rebound.setdefault(loop.node, set()).add(name.id)


@on(ast.Attribute, rules=(TRAVERSAL_IN_LOOP,))
def check_traversal(node: ast.Attribute, ctx: FileContext) -> None:
    if not ctx.scope.loops:
        return
    state = ctx.scope.state(_Traversals)
    if id(node) in state.inner:
        return
    root, chain = _attribute_chain(node)
    state.inner.update(id(attribute) for attribute in chain[:-1])
    if root is None:
        return
    loop = _item_loop(root.id, ctx)
    if loop is None or loop.iterable is None or runs_only_from_operator_code(ctx):
        return
    if root.id in state.rebound.get(loop.node, ()) or id(node) in state.on_failure:
        return
    if loop_bounds.loop_extent(loop, ctx) is loop_bounds.Extent.FEW:
        return  # ``Order.objects.all()[:5]``: a handful of rows, as for the other loop rules
    bound = ctx.scope.lookup(root.id)
    if bound is None or bound.kind is not Kind.MODEL_INSTANCE:
        return
    fetched = fetched_relations.fetched(loop.iterable, ctx)
    if fetched is None or fetched.model != bound.label:
        return
    model = model_fields.model_named(fetched.model, ctx)
    if model is None:
        return
    read = chain if isinstance(node.ctx, ast.Load) else chain[:-1]
    path: list[str] = []
    current = model
    key_only = False
    for position, attribute in enumerate(read):
        relation = model_fields.field_of(current, attribute.attr, ctx)
        if relation is None or not model_fields.is_to_one(relation):
            break
        path.append(attribute.attr)
        following = read[position + 1].attr if position + 1 < len(read) else None
        # ``item.customer.pk`` (or ``if item.customer:``) loads the customer for a key the row already
        # holds (``customer_id``).
        tested = following is None and read[position] is node and id(node) in state.truth_tested
        key_only = (following in ("pk", "id") or tested) and not relation.reverse
        target = model_fields.related_model(relation, ctx)
        if target is None:
            break
        current = target
    if not path or state.per_key_change.get(id(node)) == (root.id, path[0]):
        return
    if key_only and len(path) > 1:
        # ``line.order.customer.pk``: with the order selected, ``line.order.customer_id`` is free.
        path.pop()
        key_only = False
    lookup = "__".join(path)
    if fetched.covers(lookup):
        return
    followed = state.pending.setdefault(loop.node, {})
    earlier = followed.get(path[0])
    if earlier is None:
        followed[path[0]] = _Traversal(node, ".".join((root.id, *path)), lookup, key_only)
    else:
        # The first place the relation is read, the longest path read through it.
        longest = lookup if len(lookup) > len(earlier.lookup) and lookup.startswith(earlier.lookup) else earlier.lookup
        followed[path[0]] = earlier._replace(lookup=longest, key_only=earlier.key_only and key_only)


def _copies_rows(loop: ast.AST, row: str) -> bool:
    """``row.pk = None`` (or ``row.id = None``) in the loop's body: each row is saved again as a new row."""
    if not isinstance(loop, (ast.For, ast.AsyncFor)):
        return False
    for statement in loop.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value is None:
                for target in node.targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and target.attr in ("pk", "id")
                        and isinstance(target.value, ast.Name)
                        and target.value.id == row
                    ):
                        return True
    return False


@on_exit(
    ast.For, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp, rules=(TRAVERSAL_IN_LOOP,)
)
def report_loop(node: ast.AST, ctx: FileContext) -> None:
    """One finding per loop, at the first relation it follows, naming every lookup to select."""
    state = ctx.scope.state(_Traversals)
    followed = state.pending.pop(node, None)
    state.rebound.pop(node, None)
    if not followed:
        return
    row = next(iter(followed.values())).expression.partition(".")[0]
    if _copies_rows(node, row):
        return
    selected = [traversal for traversal in followed.values() if not traversal.key_only]
    if selected:
        first = min(selected, key=lambda traversal: (traversal.node.lineno, traversal.node.col_offset))
        lookups = ", ".join(f'"{traversal.lookup}"' for traversal in selected)
        remedy = f"add select_related({lookups}) to the queryset"
    else:
        first = min(followed.values(), key=lambda traversal: (traversal.node.lineno, traversal.node.col_offset))
        remedy = f"read {first.expression}_id instead"
    ctx.report(first.node, TRAVERSAL_IN_LOOP, expression=first.expression, remedy=remedy)
