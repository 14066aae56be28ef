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
from flake8_celery_django.knowledge.transactions import atomic_requests
from flake8_celery_django.project.facts import CallSiteFact
from flake8_celery_django.project.knowledge import ProjectKnowledge

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
    return call_sites_of(qualified, ctx.project) if qualified is not None else ()


def call_sites_of(function: str, project: ProjectKnowledge) -> tuple[CallSiteFact, ...]:
    """Every call of the project function named ``function`` (qualified), as the index records them."""
    return project.call_sites(function) if project.enabled else ()


def application_call_sites(scope: Scope, ctx: FileContext) -> tuple[CallSiteFact, ...]:
    """The calls of the function ``scope`` belongs to from application code (test code left out)."""
    if not ctx.project.enabled or scope.kind != "function":
        return ()
    qualified = function_qualified_name(scope, ctx)
    return _application_sites(qualified, ctx) if qualified is not None else ()


_TEST_PARTS = frozenset({"test", "tests", "testing", "conftest"})


def is_test_code(name: str) -> bool:
    """``shop.tests.test_orders.test_pay``, ``shop.test_sync``, ``shop.tests.TestSync.setUp``: a caller in
    test code (a test module, package, class or function).

    Tests run inside the transaction of ``TestCase`` or pytest-django's ``db`` fixture, and call
    helpers the way no production path does: they say nothing about how the application calls them.
    """
    # A class named ``Test...`` outside a test module is as likely a model (``TestRun``) as a test
    # class; test classes live in test modules, which the module's own parts show.
    return any(
        part in _TEST_PARTS or part.startswith("test_") or part.endswith(("_test", "_tests"))
        for part in name.split(".")
    )


def _application_sites(function: str, ctx: FileContext) -> tuple[CallSiteFact, ...]:
    return tuple(site for site in ctx.project.call_sites(function) if not is_test_code(site.caller))


def runs_after_commit(ctx: FileContext) -> bool:
    """The function running here is only ever handed to ``on_commit`` by its callers in the project."""
    sites = application_call_sites(ctx.code_scope(), ctx)
    return bool(sites) and all(site.on_commit for site in sites)


def runs_under_row_lock(ctx: FileContext) -> bool:
    """Every caller of the function running here holds a row lock (``select_for_update`` in ``atomic``)."""
    sites = application_call_sites(ctx.code_scope(), ctx)
    return bool(sites) and all(site.locked for site in sites)


# How far up the call graph a question goes: a helper of a helper of a task is still found.
_MAX_CALLER_DEPTH = 4


def runs_inside_atomic(ctx: FileContext) -> bool:
    """Every caller of the function running here calls it inside a transaction (``atomic``, a project
    wrapper of it, or a function whose own callers all do)."""
    qualified = _code_function(ctx)
    return qualified is not None and _inside_atomic(qualified, ctx, _MAX_CALLER_DEPTH, set())


def runs_in_autocommit(ctx: FileContext) -> bool:
    """Every caller of the function running here calls it outside any transaction, from code that runs
    in autocommit: a Celery task body, a management command's ``handle``, a view without
    ``ATOMIC_REQUESTS``, an ``on_commit`` callback, or a function whose own callers all are such."""
    qualified = _code_function(ctx)
    return qualified is not None and _in_autocommit(qualified, ctx, _MAX_CALLER_DEPTH, set())


def in_management_command(name: str) -> bool:
    """``shop.management.commands.load.Command.handle``, or any other code of a command's module."""
    return _MANAGEMENT_COMMANDS in f".{name}."


def is_management_command(name: str) -> bool:
    """``app.management.commands.x.Command.handle``: Django runs it in autocommit (``BaseCommand.execute``)."""
    return _MANAGEMENT_COMMANDS in name and name.endswith(".Command.handle")


def _code_function(ctx: FileContext) -> str | None:
    scope = ctx.code_scope()
    if not ctx.project.enabled or scope.kind != "function":
        return None
    return function_qualified_name(scope, ctx)


def _inside_atomic(function: str, ctx: FileContext, depth: int, seen: set[str]) -> bool:
    sites = _application_sites(function, ctx)
    if not sites or depth == 0 or function in seen:
        return False
    seen.add(function)
    return all(
        not site.on_commit
        and (ctx.project.in_atomic_at(site) or _inside_atomic(site.caller, ctx, depth - 1, seen))
        for site in sites
    )


def _in_autocommit(function: str, ctx: FileContext, depth: int, seen: set[str]) -> bool:
    sites = _application_sites(function, ctx)
    if not sites or depth == 0 or function in seen:
        return False
    seen.add(function)
    return all(site.on_commit or _caller_in_autocommit(site, ctx, depth, seen) for site in sites)


def _caller_in_autocommit(site: CallSiteFact, ctx: FileContext, depth: int, seen: set[str]) -> bool:
    if ctx.project.in_atomic_at(site):
        return False
    caller = site.caller
    if ctx.project.defines_task(caller) or is_management_command(caller):
        return True
    if site.view and not atomic_requests(ctx):
        return True
    return _in_autocommit(caller, ctx, depth - 1, seen)


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
