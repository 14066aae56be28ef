"""What a model's ``Meta`` says about uniqueness: ``unique_together`` and ``UniqueConstraint``.

``UniqueConstraint(fields=[...])`` and ``UniqueConstraint("a", "b", ...)`` give their field sets
(``django/db/models/constraints.py``); one with a ``condition`` covers only some rows and is left
out, unless another on the same fields covers the other rows (``x__isnull=True`` and ``False``).
One whose condition is ``Q(x__isnull=True)`` alone (soft deletion) is kept apart with ``x``: it
covers the rows a ``get_or_create`` creates when the call leaves ``x`` unset.
A constraint on expressions, ``*Base.Meta.constraints`` or a list built by code cannot be followed
statically: the model's uniqueness is then opaque, and a rule must not guess.
"""

from __future__ import annotations

import ast
from typing import NamedTuple

from flake8_celery_django.knowledge.imports import dotted_name

_UNIQUE_CONSTRAINT = "UniqueConstraint"


class MetaFacts(NamedTuple):
    abstract: bool = False
    unique_together: tuple[frozenset[str], ...] = ()
    opaque_constraints: bool = False
    unique_when_null: tuple[tuple[frozenset[str], str], ...] = ()
    # ``UniqueConstraint(fields=..., condition=Q(x__isnull=False))``: unique among the rows that have an ``x``.
    unique_when_set: tuple[tuple[frozenset[str], str], ...] = ()


def has_constant_default(field: ast.Call) -> bool:
    """``models.CharField(default="")``: the field's ``default`` is a literal other than ``None``."""
    default = _keyword(field, "default")
    return isinstance(default, ast.Constant) and default.value is not None


def read_meta(meta: ast.ClassDef) -> MetaFacts:
    """``abstract``, the unique field sets, and whether some uniqueness could not be read."""
    abstract = opaque = False
    together: list[frozenset[str]] = []
    when_null: list[tuple[frozenset[str], str]] = []
    when_set: list[tuple[frozenset[str], str]] = []
    for statement in meta.body:
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            continue
        target = statement.targets[0]
        if not isinstance(target, ast.Name):
            continue
        value = statement.value
        if target.id == "abstract":
            abstract = isinstance(value, ast.Constant) and value.value is True
        elif target.id == "unique_together":
            found = _unique_together(value)
            together.extend(found)
            opaque = opaque or not found
        elif target.id == "constraints":
            if isinstance(value, (ast.List, ast.Tuple)):
                found, unread, null_only, set_only = _unique_constraints(value.elts)
                together.extend(found)
                when_null.extend(null_only)
                when_set.extend(set_only)
                opaque = opaque or unread
            else:
                opaque = True
    return MetaFacts(abstract, tuple(together), opaque, tuple(when_null), tuple(when_set))


def _names(node: ast.expr) -> frozenset[str] | None:
    if not isinstance(node, (ast.List, ast.Tuple)):
        return None
    names = [item.value for item in node.elts if isinstance(item, ast.Constant) and isinstance(item.value, str)]
    return frozenset(names) if names and len(names) == len(node.elts) else None


def _unique_together(node: ast.expr) -> list[frozenset[str]]:
    """``("a", "b")`` is one set; ``(("a", "b"), ("c", "d"))`` is two."""
    single = _names(node)
    if single is not None:
        return [single]
    if not isinstance(node, (ast.List, ast.Tuple)):
        return []
    return [found for found in map(_names, node.elts) if found is not None]


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def _null_split(condition: ast.expr) -> tuple[str, bool] | None:
    """``Q(source__isnull=True)`` -> ``("source", True)``: half of a split that covers every row."""
    if not isinstance(condition, ast.Call) or (dotted_name(condition.func) or "").rpartition(".")[2] != "Q":
        return None
    if condition.args or len(condition.keywords) != 1:
        return None
    keyword = condition.keywords[0]
    value = keyword.value
    if keyword.arg is None or not keyword.arg.endswith("__isnull") or not isinstance(value, ast.Constant):
        return None
    return (keyword.arg, value.value) if isinstance(value.value, bool) else None


def _unique_constraints(
    constraints: list[ast.expr],
) -> tuple[list[frozenset[str]], bool, list[tuple[frozenset[str], str]], list[tuple[frozenset[str], str]]]:
    found: list[frozenset[str]] = []
    when_null: list[tuple[frozenset[str], str]] = []
    when_set: list[tuple[frozenset[str], str]] = []
    # Conditional constraints on the same fields whose conditions are ``x__isnull=True`` and
    # ``x__isnull=False``: together they cover every row.
    halves: dict[tuple[frozenset[str], str], set[bool]] = {}
    unread = False
    for constraint in constraints:
        if not isinstance(constraint, ast.Call):
            unread = True  # ``*Base.Meta.constraints``, a helper's result
            continue
        if (dotted_name(constraint.func) or "").rpartition(".")[2] != _UNIQUE_CONSTRAINT:
            continue
        names = _keyword(constraint, "fields")
        if names is None and constraint.args:
            names = ast.Tuple(elts=list(constraint.args), ctx=ast.Load())
        covered = _names(names) if names is not None else None
        condition = _keyword(constraint, "condition")
        if condition is not None:
            half = _null_split(condition)
            if covered is not None and half is not None:
                halves.setdefault((covered, half[0]), set()).add(half[1])
                (when_null if half[1] else when_set).append((covered, half[0][: -len("__isnull")]))
            continue
        if covered is None:
            unread = True
        else:
            found.append(covered)
    found.extend(covered for (covered, _), values in halves.items() if values == {True, False})
    return found, unread, when_null, when_set
