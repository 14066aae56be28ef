"""CDJ603: a send option (``countdown=``, ``eta=``, ``queue=``...) given to ``delay()``, ``s()`` or ``si()``.

Facts from Celery's source, ``celery/app/task.py``: ``Task.delay(*args, **kwargs)`` is
``self.apply_async(args, kwargs)``, and ``Task.s``/``Task.si`` are ``self.signature(args, kwargs)``:
every keyword argument goes to the task, none to Celery.  ``apply_async`` checks the arguments
against the task's signature before it sends (``check_arguments = self.__header__``, unless the task
sets ``typing=False``), so a keyword the task does not take raises ``TypeError`` and nothing is
sent; with ``typing=False`` the worker raises it instead.  The send options are those
``apply_async`` documents.

Only tasks whose signature is known are judged: a function task declared with Celery's own
decorator, at the top of this module or (through the project index) of another, that takes neither
the keyword nor ``**kwargs``.  A project decorator may wrap the function in another signature, so
its tasks are left alone.
"""

from __future__ import annotations

import ast
from typing import NamedTuple

from flake8_celery_django.context import FileContext, Scope
from flake8_celery_django.knowledge.project_names import project_task
from flake8_celery_django.knowledge.tasks import celery_task_decorator
from flake8_celery_django.registry import on, rule

SEND_OPTION_AS_TASK_ARGUMENT = rule(
    "CDJ603",
    "send-option-as-task-argument",
    "{option}= goes to {task}() as a task argument; pass it to {remedy}",
    summary="Send option (`countdown=`, `eta=`, `queue=`...) given to `delay()`, `s()` or `si()`",
)

# The options ``Task.apply_async`` documents (celery/app/task.py), its named parameters included.
SEND_OPTIONS = frozenset(
    {
        "countdown", "eta", "expires", "shadow", "connection", "retry", "retry_policy", "time_limit",
        "soft_time_limit", "queue", "exchange", "routing_key", "priority", "serializer", "compression",
        "link", "link_error", "producer", "add_to_parent", "ignore_result", "publisher", "headers",
        "task_id",
    }
)
_METHODS = {"delay": "apply_async()", "s": ".set()", "si": ".set()"}


class _Signature(NamedTuple):
    """The keyword arguments a task takes: ``None`` for any (``**kwargs``)."""

    keywords: frozenset[str] | None


class _OwnTasks:
    """The task functions at the top of this module, by name, read once from the module's body."""

    read: bool
    signatures: dict[str, _Signature]

    __slots__ = ("read", "signatures")

    def __init__(self) -> None:
        self.read = False
        self.signatures = {}


def _own_tasks(ctx: FileContext) -> dict[str, _Signature]:
    tasks = ctx.state(_OwnTasks)
    if not tasks.read:
        tasks.read = True
        module = ctx.module_scope.node
        assert isinstance(module, ast.Module)
        for statement in module.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                decorators = [d for d in statement.decorator_list if celery_task_decorator(d, ctx)]
                if decorators:
                    tasks.signatures[statement.name] = _signature(statement, decorators[0])
    return tasks.signatures


def _local(name: str, ctx: FileContext) -> bool:
    """``name`` is a parameter or a binding of a function the code here is in."""
    scope: Scope | None = ctx.scope
    while scope is not None and scope.kind != "module":
        if name in scope.parameters or name in scope.bindings:
            return True
        scope = scope.parent
    return False


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef, decorator: ast.expr) -> _Signature:
    arguments = node.args
    if arguments.kwarg is not None:
        return _Signature(None)
    names = [argument.arg for argument in [*arguments.args, *arguments.kwonlyargs]]
    bind = isinstance(decorator, ast.Call) and any(
        keyword.arg == "bind" and isinstance(keyword.value, ast.Constant) and keyword.value.value is True
        for keyword in decorator.keywords
    )
    if bind and not arguments.posonlyargs and names:
        names = names[1:]
    return _Signature(frozenset(names))


def _task_signature(receiver: ast.expr, ctx: FileContext) -> _Signature | None:
    """What the task ``receiver`` names takes, when that is known."""
    task = project_task(receiver, ctx)
    if task is not None:
        if task.decorator is not None or task.any_keyword:
            return None
        return _Signature(frozenset(task.parameters))
    if isinstance(receiver, ast.Name) and not _local(receiver.id, ctx):
        own = _own_tasks(ctx).get(receiver.id)
        return own if own is not None and own.keywords is not None else None
    return None


@on(ast.Call, rules=(SEND_OPTION_AS_TASK_ARGUMENT,))
def check_send_options(node: ast.Call, ctx: FileContext) -> None:
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr not in _METHODS or not node.keywords:
        return
    options = [keyword for keyword in node.keywords if keyword.arg in SEND_OPTIONS]
    if not options:
        return
    signature = _task_signature(func.value, ctx)
    if signature is None or signature.keywords is None:
        return
    remedy = _METHODS[func.attr]
    for keyword in options:
        option = keyword.arg
        if option is None or option in signature.keywords:
            continue
        task = _last_name(func.value)
        excess = len(SEND_OPTION_AS_TASK_ARGUMENT.format(option=option, task=task, remedy=remedy)) - _MAX_MESSAGE
        if excess > 0:
            task = task[: len(task) - excess - 3] + "..."
        ctx.report(keyword, SEND_OPTION_AS_TASK_ARGUMENT, option=option, task=task, remedy=remedy)


# Longest message, code included: a task name past it is shortened (``...``); the rest is at most 79.
_MAX_MESSAGE = 100


def _last_name(receiver: ast.expr) -> str:
    """``send_receipt`` for ``send_receipt`` and ``tasks.send_receipt``."""
    if isinstance(receiver, ast.Attribute):
        return receiver.attr
    return receiver.id if isinstance(receiver, ast.Name) else "task"
