"""How the code of a function runs, from what its callers and its registration say.

The project index records every call of a project function (``ctx.project.call_sites``): whether
it is handed to ``transaction.on_commit`` instead of being called, and whether the caller holds a
row lock there. A function whose every caller in the project defers it runs after the commit; one
whose every caller holds a lock runs under it. Django sends ``pre_delete`` and ``post_delete``
from ``Collector.delete()`` inside ``transaction.atomic()`` (``django/db/models/deletion.py``), so
their receivers run in a transaction.
"""

from __future__ import annotations

import ast

from flake8_celery_django.context import FileContext, Scope
from flake8_celery_django.knowledge import models
from flake8_celery_django.project.facts import CallSiteFact

# Django finds management commands in ``<app>.management.commands.<name>`` (django/core/management/__init__.py).
_MANAGEMENT_COMMANDS = ".management.commands."
# Signals Django sends inside the deleting transaction (django/db/models/deletion.py).
DELETE_SIGNALS = frozenset({"django.db.models.signals.pre_delete", "django.db.models.signals.post_delete"})


def function_qualified_name(scope: Scope, ctx: FileContext) -> str | None:
    """``shop.services.Importer.run`` for a method, from the module name and the enclosing definitions."""
    if ctx.module is None:
        return None
    names: list[str] = []
    current: Scope | None = scope
    while current is not None and current.kind != "module":
        node = current.node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return None
        names.append(node.name)
        current = current.parent
    return ".".join([ctx.module, *reversed(names)])


def call_sites(scope: Scope, ctx: FileContext) -> tuple[CallSiteFact, ...]:
    """Every call of the function ``scope`` belongs to, as the project index records them."""
    if not ctx.project.enabled or scope.kind != "function":
        return ()
    qualified = function_qualified_name(scope, ctx)
    return ctx.project.call_sites(qualified) if qualified is not None else ()


def runs_after_commit(ctx: FileContext) -> bool:
    """The function running here is only ever handed to ``on_commit`` by its callers in the project."""
    sites = call_sites(ctx.code_scope(), ctx)
    return bool(sites) and all(site.on_commit for site in sites)


def runs_under_row_lock(ctx: FileContext) -> bool:
    """Every caller of the function running here holds a row lock (``select_for_update`` in ``atomic``)."""
    sites = call_sites(ctx.code_scope(), ctx)
    return bool(sites) and all(site.locked for site in sites)


def runs_only_from_management_commands(ctx: FileContext) -> bool:
    """Every caller of the function running here, in the project, is code of a management command
    (a module under ``management/commands/``) or a function that itself runs only from those (a
    sample-data generator's helpers), tests aside: an operator runs it by hand, one run at a time."""
    if not ctx.project.enabled or ctx.code_scope().kind != "function":
        return False
    qualified = function_qualified_name(ctx.code_scope(), ctx)
    return qualified is not None and _only_from_commands(qualified, ctx, {}, 0)


_CALLER_DEPTH = 8  # how far up the call graph a chain of helpers is followed


def _only_from_commands(function: str, ctx: FileContext, known: dict[str, bool], depth: int) -> bool:
    """Memoised per question; a function met again while it is being decided (recursion) or a chain
    longer than ``_CALLER_DEPTH`` counts as not known."""
    if function in known:
        return known[function]
    known[function] = False
    if depth >= _CALLER_DEPTH:
        return False
    # Tests call the helpers too; they say nothing about where the code runs in production.
    sites = [site for site in ctx.project.call_sites(function) if not _is_test_code(site.caller)]
    result = bool(sites) and all(
        _MANAGEMENT_COMMANDS in f".{site.caller}." or _only_from_commands(site.caller, ctx, known, depth + 1)
        for site in sites
    )
    known[function] = result
    return result


def _is_test_code(qualified: str) -> bool:
    """``shop.tests.test_sync.test_vouchers``, ``shop.test_sync``, ``shop.tests.TestSync.setUp``."""
    return any(
        part in ("tests", "test") or part.startswith(("test_", "Test")) or part.endswith("_tests")
        for part in qualified.split(".")
    )


def receives_delete_signal(ctx: FileContext) -> bool:
    """The function running here is a ``pre_delete``/``post_delete`` receiver (this file or the index)."""
    scope = ctx.code_scope()
    node = scope.node
    if scope.kind != "function" or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and ctx.qualified_name(decorator.func) in models.RECEIVER:
            signal: ast.expr | None = decorator.args[0] if decorator.args else None
            for keyword in decorator.keywords:
                if keyword.arg == "signal":
                    signal = keyword.value
            if signal is not None and _names_delete_signal(signal, ctx):
                return True
    if not ctx.project.enabled:
        return False
    qualified = function_qualified_name(scope, ctx)
    if qualified is None:
        return False
    return any(signal in ("pre_delete", "post_delete") for signal in ctx.project.signals_received_by(qualified))


def _names_delete_signal(signal: ast.expr, ctx: FileContext) -> bool:
    """``pre_delete`` or a list whose every signal is a delete signal."""
    candidates = signal.elts if isinstance(signal, (ast.List, ast.Tuple)) else [signal]
    return bool(candidates) and all(ctx.qualified_name(candidate) in DELETE_SIGNALS for candidate in candidates)
