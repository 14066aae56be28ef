"""CDJ303: ``get_or_create()`` / ``update_or_create()`` whose lookup no unique constraint covers.

``QuerySet.get_or_create`` (``django/db/models/query.py``) runs ``get()`` and, on
``DoesNotExist``, ``create()``; only an ``IntegrityError`` from a unique constraint makes the loser
of a race fetch the winner's row.  Without one, two concurrent calls insert two rows and every later
call raises ``MultipleObjectsReturned``, as Django's documentation of ``get_or_create`` warns.  The
lookup is the call's keywords other than ``defaults`` / ``create_defaults``, with the keywords of
``filter()`` calls the queryset was built with.  A model that neither this file nor the project
index defines is never reported, nor is code that runs once or alone (tests, migrations,
management commands and functions only they call), a call whose ``MultipleObjectsReturned`` is
handled, or a lookup on ``self`` in the model's own ``save()``.
"""

from __future__ import annotations

import ast

from flake8_celery_django.context import FileContext
from flake8_celery_django.knowledge import model_fields, models
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.knowledge.operator_code import runs_only_from_operator_code
from flake8_celery_django.knowledge.relations import chain_calls, method_name
from flake8_celery_django.registry import on, on_exit, rule

GET_OR_CREATE_WITHOUT_UNIQUE_LOOKUP = rule(
    "CDJ303",
    "get-or-create-without-unique-lookup",
    "{method}({fields}) races: add a unique constraint on these fields to {model}",
    summary="`get_or_create()`/`update_or_create()` whose lookup no unique constraint covers",
    default_enabled=False,
    uses=(model_fields.MODEL_RELATIONS,),
)

_DUPLICATES_ERROR = "MultipleObjectsReturned"


class _DuplicatesHandled:
    """Per scope: how many enclosing ``try`` blocks handle ``MultipleObjectsReturned``."""

    depth: int

    __slots__ = ("depth",)

    def __init__(self) -> None:
        self.depth = 0


def _handles_duplicates(node: ast.Try) -> bool:
    for handler in node.handlers:
        caught = handler.type
        names = caught.elts if isinstance(caught, ast.Tuple) else [caught] if caught is not None else []
        if any((dotted_name(name) or "").rpartition(".")[2] == _DUPLICATES_ERROR for name in names):
            return True
    return False


_UPSERT_METHODS = frozenset({"get_or_create", "update_or_create", "aget_or_create", "aupdate_or_create"})
_NOT_LOOKUP = frozenset({"defaults", "create_defaults"})


def _lookup_names(node: ast.Call) -> list[str] | None:
    """The lookup keywords of the call and of the ``filter()`` calls before it; None when one is unknown."""
    if node.args:
        return None
    names: list[str] = []
    calls, _ = chain_calls(node)
    for call in calls:
        if call is not node and method_name(call) != "filter":
            continue
        if call is not node and call.args:
            return None  # ``filter(Q(...))``: a lookup that is not a keyword
        for keyword in call.keywords:
            if keyword.arg is None:
                return None
            if keyword.arg not in _NOT_LOOKUP or call is not node:
                names.append(keyword.arg)
    return names


def _defaults_fields(node: ast.Call) -> list[str] | None:
    """The fields ``defaults={...}`` / ``create_defaults={...}`` give the created row; None when unknown."""
    fields: list[str] = []
    for keyword in node.keywords:
        if keyword.arg not in _NOT_LOOKUP:
            continue
        value = keyword.value
        if isinstance(value, ast.Dict):
            for key in value.keys:
                if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
                    return None  # ``**other`` or a computed key
                fields.append(key.value)
        elif isinstance(value, ast.Call) and dotted_name(value.func) == "dict" and not value.args:
            for item in value.keywords:
                if item.arg is None:
                    return None
                fields.append(item.arg)
        else:
            return None
    return fields


@on(ast.Try, rules=(GET_OR_CREATE_WITHOUT_UNIQUE_LOOKUP,))
def enter_try(node: ast.Try, ctx: FileContext) -> None:
    if _handles_duplicates(node):
        ctx.scope.state(_DuplicatesHandled).depth += 1


@on_exit(ast.Try, rules=(GET_OR_CREATE_WITHOUT_UNIQUE_LOOKUP,))
def leave_try(node: ast.Try, ctx: FileContext) -> None:
    if _handles_duplicates(node):
        ctx.scope.state(_DuplicatesHandled).depth -= 1


def _keyed_on_self_in_save(node: ast.Call, ctx: FileContext) -> bool:
    """``Child.objects.get_or_create(parent=self)`` in the model's own ``save()``: one row, one saver."""
    scope = ctx.code_scope()
    if not isinstance(scope.node, (ast.FunctionDef, ast.AsyncFunctionDef)) or scope.node.name != "save":
        return False
    return any(isinstance(keyword.value, ast.Name) and keyword.value.id == "self" for keyword in node.keywords)


def _looks_up_the_current_time(node: ast.Call) -> bool:
    """``get_or_create(..., created_at=now())``: a fresh timestamp never finds a row; it always inserts."""
    return any(
        isinstance(keyword.value, ast.Call) and (dotted_name(keyword.value.func) or "").endswith("now")
        for keyword in node.keywords
        if keyword.arg not in _NOT_LOOKUP
    )


def _unlikely_to_race(node: ast.Call, ctx: FileContext) -> bool:
    """Code that runs once or alone, that already copes with the duplicates, or that never finds a row."""
    return (
        _looks_up_the_current_time(node)
        or runs_only_from_operator_code(ctx)
        or ctx.scope.state(_DuplicatesHandled).depth > 0
        or _keyed_on_self_in_save(node, ctx)
    )


@on(ast.Call, rules=(GET_OR_CREATE_WITHOUT_UNIQUE_LOOKUP,))
def check_get_or_create(node: ast.Call, ctx: FileContext) -> None:
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr not in _UPSERT_METHODS:
        return
    label = models.queryset_label(func.value, ctx)
    if label is None:
        return
    model = model_fields.model_named(label, ctx)
    if model is None or model.abstract:
        return
    names = _lookup_names(node)
    if not names or _unlikely_to_race(node, ctx):
        return
    if model_fields.unique_lookup(model, names, ctx, _defaults_fields(node)):
        return
    ctx.report(
        node, GET_OR_CREATE_WITHOUT_UNIQUE_LOOKUP, method=func.attr, fields=", ".join(names), model=model.name
    )
