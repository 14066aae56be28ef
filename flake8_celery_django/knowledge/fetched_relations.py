"""Which relations a queryset loads with its rows: ``select_related`` and ``prefetch_related`` paths.

Lookups are kept whole (``order__customer``), so that a nested traversal is covered only when its
whole path is fetched.  ``Prefetch("lines", queryset=Line.objects.select_related("product"))``
fetches ``lines`` and ``lines__product``.  Method names and arguments are those of
``django/db/models/query.py`` (``QuerySet.select_related``, ``QuerySet.prefetch_related``,
``Prefetch``).
"""

from __future__ import annotations

import ast
from typing import NamedTuple

from flake8_celery_django.context import FileContext, enclosing_binding
from flake8_celery_django.knowledge import models
from flake8_celery_django.knowledge.bindings import target_names
from flake8_celery_django.knowledge.relations import chain_calls, method_name
from flake8_celery_django.registry import provider, provides

_PREFETCH = frozenset({"django.db.models.Prefetch", "django.db.models.query.Prefetch"})
# Trailing calls that keep the rows and what they fetched.
_ROW_ITERATORS = frozenset({"iterator", "aiterator"})


class Fetched(NamedTuple):
    """The model of a queryset and the relation paths it loads; ``complete`` is False when one is unknown."""

    model: str
    paths: frozenset[str] = frozenset()
    complete: bool = True

    def covers(self, lookup: str) -> bool:
        if not self.complete:
            return True
        prefix = lookup + "__"
        return any(path == lookup or path.startswith(prefix) for path in self.paths)

    def merged(self, other: Fetched) -> Fetched:
        return Fetched(self.model or other.model, self.paths | other.paths, self.complete and other.complete)


FETCHED_NAMES = provider("fetched-names")


class FetchedNames:
    """Per scope: names bound to queryset chains on a model manager (``None``: bound to something else)."""

    names: dict[str, Fetched | None]

    __slots__ = ("names",)

    def __init__(self) -> None:
        self.names = {}


def _lookup(name: str, ctx: FileContext) -> Fetched | None:
    return enclosing_binding(ctx.scope, lambda scope: scope.state(FetchedNames).names, name)


def fetched(expr: ast.expr, ctx: FileContext) -> Fetched | None:
    """What a queryset chain on ``Model.objects`` (or a name bound to one) loads; None for anything else."""
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice):
        expr = expr.value
    calls, root = chain_calls(expr)
    while calls and method_name(calls[0]) in _ROW_ITERATORS:
        calls = calls[1:]
    if any(method_name(call) not in models.QUERYSET_METHODS for call in calls):
        return None
    owner = models.manager_owner(root, ctx)
    base: Fetched | None
    if owner is not None:
        base = Fetched(owner)
    elif isinstance(root, ast.Name):
        base = _lookup(root.id, ctx)
    else:
        base = None
    if base is None:
        return None
    paths = set(base.paths)
    complete = base.complete
    for call in reversed(calls):
        method = method_name(call)
        if method not in ("select_related", "prefetch_related"):
            continue
        if not call.args or call.keywords:
            complete = False  # ``select_related()`` follows every non-null foreign key
        for argument in call.args:
            found = lookups_of(argument, ctx)
            if found is None:
                complete = False
            else:
                paths.update(found)
    return Fetched(base.model, frozenset(paths), complete)


def lookups_of(argument: ast.expr, ctx: FileContext) -> set[str] | None:
    """``"a__b"``; ``Prefetch("a", queryset=..., to_attr=...)`` with its queryset's own paths; None: unknown."""
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return {argument.value}
    if not isinstance(argument, ast.Call) or ctx.qualified_name(argument.func) not in _PREFETCH:
        return None
    if not argument.args or not isinstance(argument.args[0], ast.Constant):
        return None
    lookup = argument.args[0].value
    if not isinstance(lookup, str):
        return None
    found = {lookup}
    for keyword in argument.keywords:
        attribute = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
        if keyword.arg == "to_attr" and isinstance(attribute, str):
            parent, separator, _ = lookup.rpartition("__")
            found.add(parent + separator + attribute)
        elif keyword.arg == "queryset":
            inner = fetched(keyword.value, ctx)
            if inner is None or not inner.complete:
                return None
            found.update(f"{lookup}__{path}" for path in inner.paths)
        elif keyword.arg is None:
            return None
    return found


@provides(FETCHED_NAMES, ast.Assign, ast.AnnAssign)
def record_assignment(node: ast.Assign | ast.AnnAssign, ctx: FileContext) -> None:
    """Remember what a name bound here loads; flow-insensitive: two bindings keep both paths."""
    if node.value is None:
        return
    names = ctx.scope.state(FetchedNames).names
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    value = fetched(node.value, ctx)
    for target in targets:
        if not isinstance(target, ast.Name):
            continue
        existing = names.get(target.id)
        names[target.id] = value.merged(existing) if value is not None and existing is not None else value


@provides(FETCHED_NAMES, ast.For, ast.AsyncFor)
def forget_loop_target(node: ast.For | ast.AsyncFor, ctx: FileContext) -> None:
    """A loop target re-binds the names it holds."""
    names = ctx.scope.state(FetchedNames).names
    for name in target_names(node.target):
        if name in names or _lookup(name, ctx) is not None:
            names[name] = None
