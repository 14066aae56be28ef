"""CDJ6xx: how a Celery task is configured and how it waits.

Facts from Celery's source: ``celery/app/autoretry.py`` (``autoretry_for`` retries with a
``countdown`` only when ``retry_backoff`` is set, otherwise after ``default_retry_delay``, 3 minutes,
for every failure alike) and ``celery/result.py`` (``AsyncResult.get``/``wait``,
``ResultSet.get``/``join``/``join_native`` call ``assert_will_not_block`` unless
``disable_sync_subtasks=False``; ``allow_join_result()`` lifts the check).
"""

from __future__ import annotations

import ast
from typing import NamedTuple

from flake8_celery_django.context import FileContext, Kind, Scope
from flake8_celery_django.knowledge import bindings, tasks
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.knowledge.project_names import project_task_base
from flake8_celery_django.project.facts import TaskBaseFact
from flake8_celery_django.registry import on, rule

AUTORETRY_WITHOUT_BACKOFF = rule(
    "CDJ601",
    "autoretry-without-backoff",
    "{task} sets autoretry_for without retry_backoff; add retry_backoff=True",
    summary="Celery task with autoretry_for but no retry_backoff",
    # Off: 0 of 4 findings were worth acting on in a strict read (docs/real-world.md, "Read strictly").
    default_enabled=False,
)
WAITS_ON_RESULT = rule(
    "CDJ602",
    "task-waits-on-result",
    "task {task}() waits on {result}.{method}(), which can deadlock; chain the follow-up work",
    summary="Task that blocks on another task's result (.get(), .join(), .wait())",
)

_WAITING_METHODS = frozenset({"get", "wait", "join", "join_native"})
_GROUP_ONLY_METHODS = frozenset({"join", "join_native"})
_ALLOW_JOIN = "allow_join_result"
_BACKOFF = "retry_backoff"
_AUTORETRY = "autoretry_for"


class RetrySettings(NamedTuple):
    """What a ``Task`` subclass of this file (with its bases in this file) sets about retries."""

    autoretry: bool
    backoff: bool


class TaskClasses:
    """The ``Task`` subclasses of this file whose retry settings are fully known."""

    known: dict[str, RetrySettings]

    __slots__ = ("known",)

    def __init__(self) -> None:
        self.known = {}


_CELERY_TASK = RetrySettings(autoretry=False, backoff=False)


def _retries_on_something(value: ast.expr | None) -> bool:
    """``autoretry_for=()`` or ``None`` turns autoretry off (``celery/app/autoretry.py`` tests truthiness)."""
    if isinstance(value, (ast.Tuple, ast.List)):
        return bool(value.elts)
    return not (isinstance(value, ast.Constant) and not value.value)


def _assigned_names(body: list[ast.stmt]) -> dict[str, ast.stmt]:
    names: dict[str, ast.stmt] = {}
    for statement in body:
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets = [statement.target]
        for target in targets:
            if isinstance(target, ast.Name):
                names.setdefault(target.id, statement)
    autoretry = names.get(_AUTORETRY)
    if isinstance(autoretry, (ast.Assign, ast.AnnAssign)) and not _retries_on_something(autoretry.value):
        del names[_AUTORETRY]
    return names


def _project_base_settings(base: TaskBaseFact, ctx: FileContext) -> RetrySettings:
    """What a project task base sets about retries, with what its project bases set."""
    autoretry = backoff = False
    pending, seen = [base], set()
    while pending:
        current = pending.pop()
        seen.add(current.qualified_name)
        autoretry = autoretry or current.autoretry_for
        backoff = backoff or current.retry_backoff
        pending.extend(
            found
            for found in map(ctx.project.task_base, current.bases)
            if found is not None and found.qualified_name not in seen
        )
    return RetrySettings(autoretry=autoretry, backoff=backoff)


def _base_settings(base: ast.expr, ctx: FileContext) -> RetrySettings | None:
    """Celery's ``Task`` sets nothing; a class of this file or of the project index is known; others are not."""
    if tasks.is_celery_task_base(base, ctx):
        return _CELERY_TASK
    if isinstance(base, ast.Name):
        known = ctx.state(TaskClasses).known.get(base.id)
        if known is not None:
            return known
    found = project_task_base(base, ctx)
    return _project_base_settings(found, ctx) if found is not None else None


def _app_task_settings(ctx: FileContext) -> RetrySettings | None:
    """What the Celery app's ``task_cls`` sets (Celery's ``Task`` when the settings name none)."""
    project = ctx.project
    name = project.settings.task_cls if project.enabled else None
    if not name:
        return _CELERY_TASK
    found = project.task_base(name.replace(":", "."))
    return _project_base_settings(found, ctx) if found is not None else None


@on(ast.ClassDef, rules=(AUTORETRY_WITHOUT_BACKOFF,))
def check_task_class(node: ast.ClassDef, ctx: FileContext) -> None:
    if node.name not in ctx.state(tasks.TaskKnowledge).classes:
        return
    inherited = [_base_settings(base, ctx) for base in node.bases]
    if any(settings is None for settings in inherited):
        # A base class from another module may set retry_backoff: unknown, so not remembered.
        return
    assigned = _assigned_names(node.body)
    settings = RetrySettings(
        autoretry=_AUTORETRY in assigned or any(s.autoretry for s in inherited if s is not None),
        backoff=_BACKOFF in assigned or any(s.backoff for s in inherited if s is not None),
    )
    ctx.state(TaskClasses).known[node.name] = settings
    autoretry = assigned.get(_AUTORETRY)
    defines_run = any(
        isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "run" for item in node.body
    )
    # Only a complete class-based task: a base class's users may pass retry_backoff when they decorate.
    if autoretry is not None and defines_run and not settings.backoff:
        ctx.report(autoretry, AUTORETRY_WITHOUT_BACKOFF, task=f"task class {node.name}")


def _decorator_misses_backoff(decorator: ast.Call, ctx: FileContext) -> ast.AST | None:
    """Where a task decorator turns autoretry on without backoff (its keyword), if it does."""
    autoretry: ast.keyword | None = None
    base: ast.keyword | None = None
    app_settings = _app_task_settings(ctx)
    settings = app_settings or _CELERY_TASK
    for keyword in decorator.keywords:
        if keyword.arg is None or keyword.arg == _BACKOFF:
            return None  # ``**options`` may hold retry_backoff
        if keyword.arg == _AUTORETRY:
            autoretry = keyword if _retries_on_something(keyword.value) else None
        elif keyword.arg == "base":
            found = _base_settings(keyword.value, ctx)
            if found is None:
                return None  # a base class this file does not show may set it
            base, settings = keyword, found
    if base is None and app_settings is None:
        return None  # the app's task class is one this project index does not show
    if settings.backoff:
        return None
    if autoretry is not None:
        return autoretry
    return base if settings.autoretry else None


@on(ast.FunctionDef, ast.AsyncFunctionDef, rules=(AUTORETRY_WITHOUT_BACKOFF,))
def check_task_decorator(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> None:
    for decorator in node.decorator_list:
        # A project's own task decorator may add retry_backoff itself: only Celery's are judged.
        if isinstance(decorator, ast.Call) and tasks.celery_task_decorator(decorator, ctx):
            where = _decorator_misses_backoff(decorator, ctx)
            if where is not None:
                ctx.report(where, AUTORETRY_WITHOUT_BACKOFF, task=f"task {node.name}()")


def _task_scope(ctx: FileContext) -> Scope | None:
    scope = ctx.code_scope()
    if not scope.is_task:
        return None
    return scope


def _allows_sync_subtasks(node: ast.Call) -> bool:
    for keyword in node.keywords:
        if keyword.arg is None:
            return True
        if keyword.arg == "disable_sync_subtasks":
            return not (isinstance(keyword.value, ast.Constant) and keyword.value.value is True)
    return False


def _task_name(scope: Scope) -> str:
    node = scope.node
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        owner = scope.parent
        if node.name == "run" and owner is not None and isinstance(owner.node, ast.ClassDef):
            return f"{owner.node.name}.run"
        return node.name
    return "task"


@on(ast.Call, rules=(WAITS_ON_RESULT,))
def check_waiting_in_task(node: ast.Call, ctx: FileContext) -> None:
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr not in _WAITING_METHODS:
        return
    scope = _task_scope(ctx)
    if scope is None or _allows_sync_subtasks(node):
        return
    result = bindings.infer(func.value, ctx)
    if result is None or result.kind not in (Kind.ASYNC_RESULT, Kind.GROUP_RESULT):
        return
    if func.attr in _GROUP_ONLY_METHODS and result.kind is not Kind.GROUP_RESULT:
        return
    if any(name.rpartition(".")[2] == _ALLOW_JOIN for name in scope.context_managers):
        return
    receiver = dotted_name(func.value) or "the result"
    ctx.report(node, WAITS_ON_RESULT, task=_task_name(scope), result=receiver, method=func.attr)
