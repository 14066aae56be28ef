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
from dataclasses import dataclass, field

from flake8_celery_django.context import FileContext, Kind, Loop
from flake8_celery_django.knowledge import fetched_relations, model_fields
from flake8_celery_django.knowledge.file_kinds import runs_once_or_in_tests
from flake8_celery_django.registry import on, rule

TRAVERSAL_IN_LOOP = rule(
    "CDJ406",
    "foreign-key-traversal-in-loop",
    "{expression} runs a query per row; {remedy}",
    summary="Foreign key or one-to-one followed per row of a loop over a queryset without `select_related`",
    uses=(model_fields.MODEL_RELATIONS, fetched_relations.FETCHED_NAMES),
)


@dataclass(slots=True)
class _Traversals:
    """Per scope: attribute nodes already read as part of a longer chain, relations reported per loop."""

    inner: set[int] = field(default_factory=set)
    reported: dict[ast.AST, set[str]] = field(default_factory=dict)


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
    if loop is None or loop.iterable is None or runs_once_or_in_tests(ctx):
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
    lookup = "__".join(path)
    reported = state.reported.setdefault(loop.node, set())
    if fetched.covers(lookup) or path[0] in reported:
        return
    reported.add(path[0])
    expression = ".".join((root.id, *path))
    if key_only:
        remedy = f"read {expression}_id instead"
    else:
        remedy = f'add select_related("{lookup}") to the looped queryset'
    ctx.report(node, TRAVERSAL_IN_LOOP, expression=expression, remedy=remedy)
