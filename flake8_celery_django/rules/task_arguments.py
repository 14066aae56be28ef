"""CDJ1xx: values handed to a Celery task that do not survive the trip through the broker.

A task's arguments are serialized into the message (JSON by default since Celery 4) and decoded by
the worker, maybe minutes later.  What kombu's JSON encoder accepts comes from
``kombu/utils/json.py``: the JSON types plus ``datetime``, ``date``, ``time``, ``Decimal``, ``UUID``,
``bytes``, Django's lazy strings and any object with a ``__json__`` method; everything else raises
``EncodeError`` when the task is sent (``task_always_eager`` included).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from flake8_celery_django.context import FileContext, Kind
from flake8_celery_django.knowledge import bindings, models, tasks
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.registry import on, rule

MODEL_INSTANCE_ARGUMENT = rule(
    "CDJ101",
    "model-instance-task-argument",
    "{task}.{method}() gets model instance {argument}{model}; pass its pk",
    summary="Django model instance passed to a Celery task call",
    uses=(tasks.CANVAS_MEMBERS,),
)
MODEL_ANNOTATED_PARAMETER = rule(
    "CDJ102",
    "model-annotated-task-parameter",
    "task {task}() takes model {model} as {parameter}; take {parameter}_id instead",
    summary="Celery task parameter annotated with a Django model class",
    uses=(tasks.CANVAS_MEMBERS,),
)
UNSERIALIZABLE_ARGUMENT = rule(
    "CDJ103",
    "unserializable-task-argument",
    "{task}.{method}() gets {what} {argument}, not JSON-serializable; pass {remedy}",
    summary="Value the JSON serializer cannot encode (queryset, set, request, file, function) "
    "passed to a Celery task call",
    uses=(tasks.CANVAS_MEMBERS,),
)

_REMEDIES = {
    Kind.QUERYSET: ("queryset", "a list of pks"),
    Kind.SET: ("set", "a list"),
    Kind.HTTP_REQUEST: ("HTTP request", "the values it needs"),
    Kind.OPEN_FILE: ("open file", "its path"),
    Kind.FUNCTION: ("function", "its dotted name"),
}
# Longest argument text quoted in a message.
_MAX_TEXT = 30


def _text(node: ast.expr) -> str:
    """The argument as written, shortened; ``ast.unparse`` recurses, so deep nesting gets a stand-in."""
    name = dotted_name(node)
    if name is None:
        try:
            name = ast.unparse(node)
        except RecursionError:
            name = "value"
    return name if len(name) <= _MAX_TEXT else name[: _MAX_TEXT - 3] + "..."


# Labels of instances whose model the file does not name (``self.object``, a receiver's ``instance``).
_UNNAMED_MODELS = frozenset({"object", "instance", ""})


def _model_note(label: str) -> str:
    """`` (Order)`` after the argument when the model is known, nothing otherwise."""
    return "" if label in _UNNAMED_MODELS else f" ({label})"


def _values_inside(argument: ast.expr) -> Iterator[ast.expr]:
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


@on(ast.Call, rules=(MODEL_INSTANCE_ARGUMENT, UNSERIALIZABLE_ARGUMENT))
def check_task_arguments(node: ast.Call, ctx: FileContext) -> None:
    call = tasks.task_call(node, ctx)
    if call is None:
        return
    for argument in call.arguments:
        for value_node in _values_inside(argument.node):
            if isinstance(value_node, ast.GeneratorExp):
                ctx.report(
                    value_node, UNSERIALIZABLE_ARGUMENT, task=call.task, method=call.method,
                    what="generator", argument=_text(value_node),
                    remedy="a list",
                )
                continue
            value = bindings.infer(value_node, ctx)
            if value is None:
                continue
            if value.kind is Kind.MODEL_INSTANCE:
                ctx.report(
                    value_node, MODEL_INSTANCE_ARGUMENT, task=call.task, method=call.method,
                    argument=_text(value_node), model=_model_note(value.label),
                )
            elif value.kind in _REMEDIES:
                what, remedy = _REMEDIES[value.kind]
                if value.kind is Kind.FUNCTION and value.label == "lambda":
                    what = "lambda"
                ctx.report(
                    value_node, UNSERIALIZABLE_ARGUMENT, task=call.task, method=call.method,
                    what=what, argument=_text(value_node), remedy=remedy,
                )


def _custom_base(decorators: list[ast.expr], ctx: FileContext) -> bool:
    """Whether the task decorator names a ``base=`` other than Celery's own ``Task``."""
    for decorator in decorators:
        if isinstance(decorator, ast.Call) and tasks.task_decorator(decorator, ctx):
            for keyword in decorator.keywords:
                if keyword.arg is None:
                    return True
                if keyword.arg == "base" and not tasks.is_celery_task_base(keyword.value, ctx):
                    return True
    return False


def _run_of_plain_task_class(ctx: FileContext) -> bool:
    """The class of this ``run`` method derives from Celery's ``Task`` directly and has no ``__call__``."""
    owner = ctx.scope.node
    if not isinstance(owner, ast.ClassDef):
        return False
    if not all(tasks.is_celery_task_base(base, ctx) for base in owner.bases):
        return False
    return not any(
        isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "__call__"
        for item in owner.body
    )


@on(ast.FunctionDef, ast.AsyncFunctionDef, rules=(MODEL_ANNOTATED_PARAMETER,))
def check_task_parameters(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> None:
    # ctx.scope is still the enclosing scope here: the function's own scope opens after its decorators.
    if not tasks.is_task_function(node, ctx):
        return
    if node.decorator_list:
        # A custom base class (pretix's EventTask) may turn the primary key into the instance.
        if _custom_base(node.decorator_list, ctx):
            return
    elif not _run_of_plain_task_class(ctx):
        return
    arguments = node.args
    for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
        model = models.annotation_label(argument.annotation, ctx)
        if model is not None:
            ctx.report(
                argument, MODEL_ANNOTATED_PARAMETER, task=node.name, parameter=argument.arg, model=model
            )
