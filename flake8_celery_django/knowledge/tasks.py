"""Celery tasks as one file sees them: task definitions, calls that send or build tasks, results.

Names come from Celery's source: ``celery/__init__.py`` (``shared_task``, ``group``, ``chain``,
``chord``, ``signature``), ``celery/app/task.py`` (``Task.delay``, ``apply_async``, ``s``, ``si``,
``signature``) and ``celery/app/base.py`` (``Celery.task``, ``send_task``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import NamedTuple

from flake8_celery_django.context import FileContext, Kind, Scope, Value
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.knowledge.project_names import (
    is_project_task_decorator,
    project_task,
    project_task_base,
)
from flake8_celery_django.registry import provider, provides

TASK_DECORATORS = frozenset(
    {
        "celery.shared_task",
        "celery.app.shared_task",
        "celery.task",
        "celery.task.task",
        "celery.task.periodic_task",
        "celery.decorators.task",
        "celery.decorators.periodic_task",
    }
)
TASK_BASE_CLASSES = frozenset(
    {"celery.Task", "celery.app.task.Task", "celery.task.Task", "celery.task.base.Task",
     "celery.task.PeriodicTask", "celery.task.base.PeriodicTask"}
)
CELERY_APP_CONSTRUCTORS = frozenset({"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"})
SIGNATURE_FUNCTIONS = frozenset(
    {"celery.signature", "celery.subtask", "celery.canvas.signature", "celery.canvas.subtask",
     "celery.canvas.Signature", "celery.Signature"}
)
GROUP_CONSTRUCTORS = frozenset({"celery.group", "celery.canvas.group"})
CANVAS_CONSTRUCTORS = GROUP_CONSTRUCTORS | frozenset(
    {"celery.chain", "celery.chord", "celery.canvas.chain", "celery.canvas.chord"}
)
# Methods that send a message to the broker now.
SENDING_METHODS = frozenset({"delay", "apply_async"})
# Methods that build a signature, sent later (by a canvas or ``apply_async``).
SIGNATURE_METHODS = frozenset({"s", "si", "signature", "subtask"})
_APP_NAMES = frozenset({"app", "celery", "celery_app", "capp"})
# Constructors of result handles for a task id (``celery/result.py``).
RESULT_CONSTRUCTORS = frozenset({"celery.result.AsyncResult", "celery.AsyncResult"})
GROUP_RESULT_CONSTRUCTORS = frozenset({"celery.result.GroupResult", "celery.result.GroupResult.restore"})


class TaskArgument(NamedTuple):
    """One value handed to a task.

    ``value`` is set when the call site alone does not show it: an item of a dict bound earlier
    and passed as ``kwargs=kwargs`` or ``**kwargs`` (``text`` then names it: ``kwargs['order']``),
    or a collection of instances passed as ``args=rows`` or ``*rows``.
    """

    node: ast.expr
    value: Value | None = None
    text: str = ""


class TaskCall(NamedTuple):
    node: ast.Call
    task: str
    method: str
    arguments: tuple[TaskArgument, ...]

    @property
    def sends_now(self) -> bool:
        """True for calls that publish a message at once (``delay``, ``apply_async``, ``send_task``)."""
        return self.method in SENDING_METHODS or self.method == "send_task"


class TaskKnowledge:
    """Task functions and ``Task`` subclasses defined in this file, and its Celery app names."""

    functions: set[str]
    classes: set[str]
    apps: set[str]
    # ``id()`` of the ``x.s(...)`` calls seen as members of ``chain``/``group``/``chord``: tasks.
    canvas_members: set[int]

    __slots__ = ("functions", "classes", "apps", "canvas_members")

    def __init__(self) -> None:
        self.functions = set()
        self.classes = set()
        self.apps = set()
        self.canvas_members = set()


def _is_app(node: ast.expr, ctx: FileContext) -> bool:
    """``app`` in ``@app.task``: a Celery application object."""
    if not isinstance(node, ast.Name):
        return False
    if node.id in ctx.state(TaskKnowledge).apps:
        return True
    qualified = ctx.qualified_name(node)
    if qualified is not None:
        last = qualified.rpartition(".")[2]
        return qualified == "celery" or last in _APP_NAMES or last.endswith("_app")
    return node.id in _APP_NAMES


def celery_task_decorator(decorator: ast.expr, ctx: FileContext) -> bool:
    """``@shared_task``, ``@shared_task(...)``, ``@app.task``, ``@app.task(...)`` and legacy forms."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    qualified = ctx.qualified_name(target)
    if qualified in TASK_DECORATORS:
        return True
    return isinstance(target, ast.Attribute) and target.attr in ("task", "periodic_task") and _is_app(
        target.value, ctx
    )


def task_decorator(decorator: ast.expr, ctx: FileContext) -> bool:
    """Celery's task decorators, and the project's own functions that apply one (from the index)."""
    return celery_task_decorator(decorator, ctx) or is_project_task_decorator(decorator, ctx)


def is_task_function(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> bool:
    """A decorated task function, or the ``run`` method of a ``Task`` subclass."""
    if any(task_decorator(decorator, ctx) for decorator in node.decorator_list):
        return True
    if node.name == "run":
        owner = ctx.scope
        return (
            owner.kind == "class"
            and isinstance(owner.node, ast.ClassDef)
            and owner.node.name in ctx.state(TaskKnowledge).classes
        )
    return False


def record_function(node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope, ctx: FileContext) -> None:
    if is_task_function(node, ctx):
        scope.is_task = True
        if ctx.scope.kind == "module":
            ctx.state(TaskKnowledge).functions.add(node.name)


def is_celery_task_base(node: ast.expr, ctx: FileContext) -> bool:
    """Celery's own ``Task`` class: ``celery.Task`` or ``app.Task`` of a Celery application."""
    if ctx.qualified_name(node) in TASK_BASE_CLASSES:
        return True
    return isinstance(node, ast.Attribute) and node.attr == "Task" and _is_app(node.value, ctx)


def record_class(node: ast.ClassDef, ctx: FileContext) -> None:
    knowledge = ctx.state(TaskKnowledge)
    for base in node.bases:
        if (
            is_celery_task_base(base, ctx)
            or (isinstance(base, ast.Name) and base.id in knowledge.classes)
            or project_task_base(base, ctx) is not None
        ):
            knowledge.classes.add(node.name)
            return


def record_app(name: str, value: ast.expr, ctx: FileContext) -> None:
    """``app = Celery(...)`` makes ``app`` a Celery application."""
    if isinstance(value, ast.Call) and ctx.qualified_name(value.func) in CELERY_APP_CONSTRUCTORS:
        ctx.state(TaskKnowledge).apps.add(name)


def is_task_reference(node: ast.expr, ctx: FileContext) -> bool:
    """Whether ``node`` names a task: defined in this file, or imported from a ``tasks`` module."""
    if isinstance(node, ast.Name) and node.id in ctx.state(TaskKnowledge).functions:
        return True
    if project_task(node, ctx) is not None:
        return True
    qualified = ctx.qualified_name(node) or dotted_name(node)
    if qualified is None:
        return False
    parts = qualified.lstrip(".").split(".")
    return len(parts) >= 2 and any(part == "tasks" or part.endswith("_tasks") for part in parts[:-1])


def _display(node: ast.expr) -> str:
    name = dotted_name(node)
    if name is not None:
        return name
    if isinstance(node, ast.Call):
        inner = dotted_name(node.func)
        if inner is not None:
            return inner + "(...)"
    return "task"


def _positional(arguments: list[ast.expr], ctx: FileContext) -> list[TaskArgument]:
    found: list[TaskArgument] = []
    for node in arguments:
        if isinstance(node, ast.Starred):
            found.extend(_spread(node.value, ctx))
            continue
        found.append(TaskArgument(node))
    return found


def _keywords(keywords: list[ast.keyword], ctx: FileContext) -> list[TaskArgument]:
    found: list[TaskArgument] = []
    for keyword in keywords:
        if keyword.arg is not None:
            found.append(TaskArgument(keyword.value))
        else:
            found.extend(_bound_dict_items(keyword.value, ctx))
    return found


def _spread(node: ast.expr, ctx: FileContext) -> list[TaskArgument]:
    """``*args`` (or ``args=args``) where ``args`` was bound to a collection of model instances."""
    if not isinstance(node, ast.Name):
        return []
    bound = ctx.scope.lookup(node.id)
    if bound is None or bound.kind is not Kind.MODEL_INSTANCES:
        return []
    return [TaskArgument(node, bound, node.id)]


def _bound_dict_items(node: ast.expr, ctx: FileContext) -> list[TaskArgument]:
    """``**kwargs`` (or ``kwargs=kwargs``) where ``kwargs`` was bound to a dict holding instances."""
    if not isinstance(node, ast.Name):
        return []
    bound = ctx.scope.lookup(node.id)
    if bound is None or bound.kind is not Kind.MAPPING:
        return []
    return [TaskArgument(node, value, f"{node.id}[{key!r}]") for key, value in bound.items]


def _packed(args: ast.expr | None, kwargs: ast.expr | None, ctx: FileContext) -> tuple[TaskArgument, ...]:
    """The values inside ``args=(...)`` and ``kwargs={...}`` of ``apply_async``-like calls."""
    found: list[TaskArgument] = []
    if isinstance(args, (ast.Tuple, ast.List)):
        found.extend(_positional(args.elts, ctx))
    elif args is not None:
        found.extend(_spread(args, ctx))
    if isinstance(kwargs, ast.Dict):
        for key, value in zip(kwargs.keys, kwargs.values):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                found.append(TaskArgument(value))
            elif key is None:
                found.extend(_bound_dict_items(value, ctx))
    elif isinstance(kwargs, ast.Call) and dotted_name(kwargs.func) == "dict":
        found.extend(_keywords(kwargs.keywords, ctx))
    elif kwargs is not None:
        found.extend(_bound_dict_items(kwargs, ctx))
    return tuple(found)


def _packed_from(call: ast.Call, first_index: int, ctx: FileContext) -> tuple[TaskArgument, ...]:
    """``args``/``kwargs`` given by keyword or at positions ``first_index`` and ``first_index + 1``."""
    args: ast.expr | None = call.args[first_index] if len(call.args) > first_index else None
    kwargs: ast.expr | None = call.args[first_index + 1] if len(call.args) > first_index + 1 else None
    for keyword in call.keywords:
        if keyword.arg == "args":
            args = keyword.value
        elif keyword.arg == "kwargs":
            kwargs = keyword.value
    return _packed(args, kwargs, ctx)


def is_pool_call(node: ast.Call, ctx: FileContext) -> bool:
    """``pool.apply_async(func, args)`` of ``multiprocessing``: a function first, not Celery's args."""
    if not node.args:
        return False
    first = node.args[0]
    if isinstance(first, ast.Lambda):
        return True
    if isinstance(first, ast.Name):
        bound = ctx.scope.lookup(first.id)
        if bound is not None and bound.kind is Kind.FUNCTION:
            return True
    if isinstance(first, (ast.Tuple, ast.List, ast.Constant)):
        return False  # Celery's ``args``: a sequence or None
    receiver = dotted_name(node.func.value) if isinstance(node.func, ast.Attribute) else None
    return receiver is not None and receiver.rpartition(".")[2].lower().endswith("pool")


def task_call(node: ast.Call, ctx: FileContext) -> TaskCall | None:
    """The task call ``node`` makes, with the values it hands to the task, if it is one.

    Rules that call this use :data:`CANVAS_MEMBERS` (``x.s()`` inside a canvas is a task).
    """
    func = node.func
    if isinstance(func, ast.Attribute):
        method = func.attr
        receiver = func.value
        if method == "delay":
            arguments = (*_positional(node.args, ctx), *_keywords(node.keywords, ctx))
            return TaskCall(node, _display(receiver), method, tuple(arguments))
        if method == "apply_async":
            if is_pool_call(node, ctx):
                return None
            return TaskCall(node, _display(receiver), method, _packed_from(node, 0, ctx))
        if method in ("s", "si") and (
            is_task_reference(receiver, ctx) or id(node) in ctx.state(TaskKnowledge).canvas_members
        ):
            arguments = (*_positional(node.args, ctx), *_keywords(node.keywords, ctx))
            return TaskCall(node, _display(receiver), method, tuple(arguments))
        if method in ("signature", "subtask") and is_task_reference(receiver, ctx):
            return TaskCall(node, _display(receiver), method, _packed_from(node, 0, ctx))
        if method == "send_task" and node.args:
            name = node.args[0]
            label = name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else "task"
            return TaskCall(node, label, method, _packed_from(node, 1, ctx))
    if not node.args or not _may_name(func, ctx, _SIGNATURE_NAMES):
        return None
    if ctx.qualified_name(func) in SIGNATURE_FUNCTIONS:
        name = node.args[0]
        label = name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else _display(name)
        return TaskCall(node, label, "signature", _packed_from(node, 1, ctx))
    return None


_CALLBACK_KEYWORDS = frozenset({"link", "link_error"})
CANVAS_MEMBERS = provider("canvas-members")


@provides(CANVAS_MEMBERS, ast.Call)
def record_canvas_members(node: ast.Call, ctx: FileContext) -> None:
    """``chain(a.s(x), b.s())``, ``group([a.s(i) for ...])``, ``link=a.s()``: task signatures.

    The walk enters a call before its arguments, so the members are known when they are reached.
    """
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "apply_async":
        if not is_pool_call(node, ctx):
            _record_members(node, ctx, _CALLBACK_KEYWORDS)
    elif _may_name(func, ctx, _CANVAS_NAMES) and ctx.qualified_name(func) in CANVAS_CONSTRUCTORS:
        _record_members(node, ctx)


_CANVAS_NAMES = frozenset(name.rpartition(".")[2] for name in CANVAS_CONSTRUCTORS)
_SIGNATURE_NAMES = frozenset(name.rpartition(".")[2] for name in SIGNATURE_FUNCTIONS)


def _may_name(func: ast.expr, ctx: FileContext, last_names: frozenset[str]) -> bool:
    """Cheap test before resolving: ``celery.group`` ends in one of ``last_names``, ``g`` is an imported name."""
    if isinstance(func, ast.Attribute):
        return func.attr in last_names
    return isinstance(func, ast.Name) and func.id in ctx.imports.names


def _record_members(node: ast.Call, ctx: FileContext, keywords: frozenset[str] | None = None) -> None:
    members = ctx.state(TaskKnowledge).canvas_members
    pending: list[ast.expr] = [] if keywords is not None else list(node.args)
    pending.extend(k.value for k in node.keywords if keywords is None or k.arg in keywords)
    while pending:
        item = pending.pop()
        if isinstance(item, (ast.List, ast.Tuple)):
            pending.extend(item.elts)
        elif isinstance(item, (ast.ListComp, ast.GeneratorExp)):
            pending.append(item.elt)
        elif isinstance(item, ast.BinOp) and isinstance(item.op, ast.BitOr):
            pending.extend((item.left, item.right))
        elif isinstance(item, ast.Call) and isinstance(item.func, ast.Attribute) and item.func.attr in ("s", "si"):
            members.add(id(item))


def infer_call(node: ast.Call, ctx: FileContext) -> Value | None:
    """Results of sending tasks, and signatures."""
    func = node.func
    if isinstance(func, ast.Attribute):
        if func.attr in SENDING_METHODS or func.attr == "send_task":
            if func.attr == "apply_async" and is_pool_call(node, ctx):
                return None
            if _is_group(func.value, ctx):
                return Value(Kind.GROUP_RESULT, "group")
            return Value(Kind.ASYNC_RESULT, _display(func.value))
        if func.attr in SIGNATURE_METHODS and is_task_reference(func.value, ctx):
            return Value(Kind.SIGNATURE, _display(func.value))
        if func.attr == "AsyncResult":
            # ``app.AsyncResult(task_id)``, ``some_task.AsyncResult(task_id)``.
            return Value(Kind.ASYNC_RESULT, "AsyncResult")
    qualified = ctx.qualified_name(func)
    if qualified in CANVAS_CONSTRUCTORS or qualified in SIGNATURE_FUNCTIONS:
        return Value(Kind.SIGNATURE, qualified.rpartition(".")[2])
    if qualified in RESULT_CONSTRUCTORS:
        return Value(Kind.ASYNC_RESULT, "AsyncResult")
    if qualified in GROUP_RESULT_CONSTRUCTORS:
        return Value(Kind.GROUP_RESULT, "GroupResult")
    if isinstance(func, ast.Call) and ctx.qualified_name(func.func) in CANVAS_CONSTRUCTORS:
        # group(...)() and chord(...)(callback) send the canvas and return its result.
        if _is_group(func, ctx):
            return Value(Kind.GROUP_RESULT, "group")
        return Value(Kind.ASYNC_RESULT, "canvas")
    if isinstance(func, ast.Name):
        bound = ctx.scope.lookup(func.id)
        if bound is not None and bound.kind is Kind.SIGNATURE:
            return Value(Kind.GROUP_RESULT if bound.label == "group" else Kind.ASYNC_RESULT, bound.label)
    return None


def _is_group(node: ast.expr, ctx: FileContext) -> bool:
    if isinstance(node, ast.Call):
        return ctx.qualified_name(node.func) in GROUP_CONSTRUCTORS
    if isinstance(node, ast.Name):
        bound = ctx.scope.lookup(node.id)
        return bound is not None and bound.kind is Kind.SIGNATURE and bound.label == "group"
    return False


class Serializer(NamedTuple):
    """How task arguments travel: JSON (Celery's default since 4.0), pickle, or a serializer of the project's."""

    name: str

    @property
    def is_json(self) -> bool:
        return self.name == "json"

    @property
    def is_pickle(self) -> bool:
        # ``pickle`` and the project's own variants of it (paperless-ngx's ``signed-pickle``).
        return "pickle" in self.name


def task_serializer(ctx: FileContext) -> Serializer:
    """The project's ``task_serializer`` (``CELERY_TASK_SERIALIZER``), JSON when the settings do not say."""
    name = ctx.project.settings.task_serializer if ctx.project.enabled else None
    return Serializer((name or "json").lower())


# -- what the project index says of a task -------------------------------------------------------
def defers_to_on_commit(node: ast.expr, ctx: FileContext) -> bool:
    """The task ``node`` names is sent from ``transaction.on_commit`` by its base class or the app's ``task_cls``."""
    project = ctx.project
    if not project.enabled:
        return False
    task = project_task(node, ctx)
    if task is not None:
        return project.task_defers_to_on_commit(task)
    task_cls = project.settings.task_cls
    base = project.task_base(task_cls) if task_cls else None
    return base is not None and base.defers_to_on_commit


def values_inside(argument: ast.expr) -> Iterator[ast.expr]:
    """The argument and the items of list, tuple and dict displays inside it (a bounded local look)."""
    pending = [argument]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.List, ast.Tuple)):
            pending.extend(reversed(node.elts))
        elif isinstance(node, ast.Dict):
            pending.extend(reversed(node.values))
        elif isinstance(node, ast.Starred):
            continue
        else:
            yield node
