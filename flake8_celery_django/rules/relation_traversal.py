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
from dataclasses import dataclass, field, replace

from flake8_celery_django.context import FileContext, Kind, Loop
from flake8_celery_django.knowledge import fetched_relations, model_fields
from flake8_celery_django.knowledge.file_kinds import is_management_command, runs_once_or_in_tests
from flake8_celery_django.registry import on, on_exit, rule

TRAVERSAL_IN_LOOP = rule(
    "CDJ406",
    "foreign-key-traversal-in-loop",
    "{expression} is a query per row; {remedy}",
    summary="Foreign key or one-to-one followed per row of a loop over a queryset without `select_related`",
    default_enabled=False,
    uses=(model_fields.MODEL_RELATIONS, fetched_relations.FETCHED_NAMES),
)


@dataclass(frozen=True, slots=True)
class _Traversal:
    """One relation followed from a loop's row: where, how it is written, and the lookup that fetches it."""

    node: ast.Attribute
    expression: str
    lookup: str
    key_only: bool


@dataclass(slots=True)
class _Traversals:
    """Per scope: attribute nodes already read as part of a longer chain, relations followed per loop."""

    inner: set[int] = field(default_factory=set)
    pending: dict[ast.AST, dict[str, _Traversal]] = field(default_factory=dict)


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
    if loop is None or loop.iterable is None or runs_once_or_in_tests(ctx) or is_management_command(ctx.filename):
        return
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
        # ``item.customer.pk`` loads the customer for a key the row already holds (``customer_id``).
        key_only = following in ("pk", "id") and not relation.reverse
        target = model_fields.related_model(relation, ctx)
        if target is None:
            break
        current = target
    if not path:
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
        followed[path[0]] = replace(earlier, lookup=longest, key_only=earlier.key_only and key_only)


@on_exit(
    ast.For, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp, rules=(TRAVERSAL_IN_LOOP,)
)
def report_loop(node: ast.AST, ctx: FileContext) -> None:
    """One finding per loop, at the first relation it follows, naming every lookup to select."""
    followed = ctx.scope.state(_Traversals).pending.pop(node, None)
    if not followed:
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
