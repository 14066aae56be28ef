"""What a model's methods and properties stand for, read from their bodies.

A property such as ``def fees(self): return self.all_fees(manager="objects")`` hands back a related
manager: Django's ``prefetch_related_objects`` prefetches through it (``get_prefetcher`` in
``django/db/models/query.py`` reads the attribute from the instance and uses the manager it gets).
One that returns a queryset (``return Interface.objects.filter(...)``, ``return self.lines.all()``,
``qs = self.x; qs |= ...; return qs``) hands back something no prefetch can serve.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def _returns(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.Return]:
    """The ``return`` statements of ``function`` itself, not of functions or classes nested in it.
    Only statements are visited (a ``return`` is one), never the expressions inside them."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Return):
            yield node
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for block in _BLOCKS:
                pending.extend(getattr(node, block, ()))


def _self_attribute(expr: ast.expr) -> str | None:
    """``all_fees`` for ``self.all_fees`` or ``self.all_fees(manager="objects")``: a related manager when
    that attribute is one (calling a related manager gives another).  ``self.lines.all()`` is a queryset."""
    if isinstance(expr, ast.Call) and not expr.args:
        expr = expr.func
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
        return expr.attr
    return None


def returned_self_attribute(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The attribute of ``self`` every ``return`` of ``function`` goes through, when there is one."""
    found: set[str] = set()
    for statement in _returns(function):
        attribute = _self_attribute(statement.value) if statement.value is not None else None
        if attribute is None:
            return None
        found.add(attribute)
    return found.pop() if len(found) == 1 else None
