"""CDJ1xx: values handed to a Celery task that do not survive the trip through the broker.

A task's arguments are serialized into the message (JSON by default since Celery 4) and decoded by
the worker, maybe minutes later.  What kombu's JSON encoder accepts comes from
``kombu/utils/json.py``: the JSON types plus ``datetime``, ``date``, ``time``, ``Decimal``, ``UUID``,
``bytes``, Django's lazy strings and any object with a ``__json__`` method; everything else raises
``EncodeError`` when the task is sent (``task_always_eager`` included).
"""

from __future__ import annotations

import ast

from flake8_celery_django.context import FileContext, Kind, Value
from flake8_celery_django.knowledge import bindings, models, tasks
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.knowledge.project_names import project_task_base
from flake8_celery_django.project.facts import TaskBaseFact
from flake8_celery_django.registry import Rule, on, rule

MODEL_INSTANCE_ARGUMENT = rule(
    "CDJ101",
    "model-instance-task-argument",
    "{task}.{method}() gets {model} {what} {argument}, {why}; pass {remedy}",
    summary="Django model instance passed to a Celery task call",
    uses=(tasks.CANVAS_MEMBERS,),
)
MODEL_ANNOTATED_PARAMETER = rule(
    "CDJ102",
    "model-annotated-task-parameter",
    "task {task}() takes {model} as {parameter}; take {remedy}",
    summary="Celery task parameter annotated with a Django model class",
    uses=(tasks.CANVAS_MEMBERS,),
)
UNSERIALIZABLE_ARGUMENT = rule(
    "CDJ103",
    "unserializable-task-argument",
    "{task}.{method}() gets {what} {argument}, not {serializer}-serializable; pass {remedy}",
    summary="Value the task serializer (JSON by default) cannot encode (queryset, set, request, file, "
    "function) passed to a Celery task call",
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


# Longest message, code included.  Past it the quoted argument is shortened (``...``) to 20
# characters, the task loses its module (``tasks.ship`` -> ``ship``), then both are cut further.
_MAX_MESSAGE = 100
_SHORTENING = (("argument", 20), ("task", 0), ("argument", 8), ("task", 8))


def _report(ctx: FileContext, node: ast.AST, rule: Rule, **fields: str) -> None:
    """Report with the quoted texts shortened so that the message fits in 100 characters."""
    for key, shortest in _SHORTENING:
        excess = len(rule.format(**fields)) - _MAX_MESSAGE
        if excess <= 0:
            break
        text = fields.get(key)
        if text is None:
            continue
        if shortest == 0:
            fields[key] = text.rpartition(".")[2]
        elif len(text) > shortest:
            fields[key] = text[: max(len(text) - excess - 3, shortest - 3)] + "..."
    ctx.report(node, rule, fix=None, **fields)


# Labels of instances whose model the file does not name (``self.object``, a receiver's ``instance``).
_UNNAMED_MODELS = frozenset({"object", "instance", ""})


def _model_name(label: str) -> str:
    """``Order`` when the model is known, ``model`` otherwise (``gets model instance self.object``)."""
    return "model" if label in _UNNAMED_MODELS else label


def _why(serializer: tasks.Serializer) -> str:
    """Why an instance must not travel, said for the project's serializer."""
    if serializer.is_json:
        return "not JSON-serializable"
    if serializer.is_pickle:
        return "stale when pickled"
    return f"stale via {serializer.name}"


@on(ast.Call, rules=(MODEL_INSTANCE_ARGUMENT, UNSERIALIZABLE_ARGUMENT))
def check_task_arguments(node: ast.Call, ctx: FileContext) -> None:
    call = tasks.task_call(node, ctx)
    if call is None:
        return
    serializer = tasks.task_serializer(ctx)
    for argument in call.arguments:
        if argument.value is not None:
            _check_value(argument.node, argument.value, argument.text, call, serializer, ctx)
            continue
        for value_node in tasks.values_inside(argument.node):
            if isinstance(value_node, ast.GeneratorExp):
                if serializer.is_json or serializer.is_pickle:
                    _report(
                        ctx, value_node, UNSERIALIZABLE_ARGUMENT, task=call.task, method=call.method,
                        what="generator", argument=_text(value_node), remedy="a list",
                        serializer=_serializer_name(serializer),
                    )
                continue
            value = bindings.infer(value_node, ctx)
            if value is not None:
                _check_value(value_node, value, _text(value_node), call, serializer, ctx)


def _serializer_name(serializer: tasks.Serializer) -> str:
    return "JSON" if serializer.is_json else serializer.name


def _check_value(
    node: ast.expr, value: Value, text: str, call: tasks.TaskCall, serializer: tasks.Serializer,
    ctx: FileContext,
) -> None:
    if value.kind is Kind.MODEL_INSTANCE or value.kind is Kind.MODEL_INSTANCES:
        many = value.kind is Kind.MODEL_INSTANCES
        _report(
            ctx, node, MODEL_INSTANCE_ARGUMENT, task=call.task, method=call.method,
            what="instances" if many else "instance", argument=text,
            model=_model_name(value.label), why=_why(serializer), remedy="their pks" if many else "its pk",
        )
        return
    if value.kind is Kind.QUERYSET and not serializer.is_json:
        # Pickled, a queryset is evaluated when the task is sent: its rows arrive stale.
        _report(
            ctx, node, MODEL_INSTANCE_ARGUMENT, task=call.task, method=call.method, what="queryset",
            argument=text, model=_model_name(value.label), why=_why(serializer), remedy="their pks",
        )
        return
    if value.kind not in _REMEDIES or not (serializer.is_json or serializer.is_pickle):
        return
    lambda_function = value.kind is Kind.FUNCTION and value.label == "lambda"
    # Pickle sends sets, and functions of a module by reference (not lambdas nor nested functions).
    by_reference = value.kind is Kind.FUNCTION and value.label not in ("lambda", bindings.NESTED_FUNCTION)
    if serializer.is_pickle and (value.kind is Kind.SET or by_reference):
        return
    what, remedy = _REMEDIES[value.kind]
    if lambda_function:
        what = "lambda"
    _report(
        ctx, node, UNSERIALIZABLE_ARGUMENT, task=call.task, method=call.method, what=what, argument=text,
        remedy=remedy, serializer=_serializer_name(serializer),
    )


def _resolves_keys(base: TaskBaseFact, ctx: FileContext) -> bool:
    """Whether a project task base, or one of its project bases, turns keys into instances."""
    pending, seen = [base], set()
    while pending:
        current = pending.pop()
        if current.resolves_keys:
            return True
        seen.add(current.qualified_name)
        pending.extend(
            found
            for found in map(ctx.project.task_base, current.bases)
            if found is not None and found.qualified_name not in seen
        )
    return False


def _base_may_resolve_keys(base: ast.expr, ctx: FileContext) -> bool:
    """Celery's ``Task`` never does; a project base does when the index says so; any other base may."""
    if tasks.is_celery_task_base(base, ctx):
        return False
    found = project_task_base(base, ctx)
    return found is None or _resolves_keys(found, ctx)


def _decorator_base_may_resolve_keys(decorators: list[ast.expr], ctx: FileContext) -> bool:
    """Whether the task decorator names a ``base=`` that may turn primary keys into instances."""
    for decorator in decorators:
        if isinstance(decorator, ast.Call) and tasks.task_decorator(decorator, ctx):
            for keyword in decorator.keywords:
                if keyword.arg is None:
                    return True
                if keyword.arg == "base" and _base_may_resolve_keys(keyword.value, ctx):
                    return True
    return False


def _indexed_base_resolves_keys(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> bool:
    """The index's base for this task (set by a project decorator) or the app's ``task_cls`` resolves keys."""
    project = ctx.project
    if not project.enabled or ctx.module is None or ctx.scope.kind != "module":
        return False
    fact = project.task(f"{ctx.module}.{node.name}")
    if fact is None or fact.qualified_name != f"{ctx.module}.{node.name}":
        return False
    base_name = fact.base or project.settings.task_cls
    base = project.task_base(base_name) if base_name else None
    return base is not None and _resolves_keys(base, ctx)


def _run_of_plain_task_class(ctx: FileContext) -> bool:
    """The class of this ``run`` method has no ``__call__`` and no base that may turn keys into instances."""
    owner = ctx.scope.node
    if not isinstance(owner, ast.ClassDef):
        return False
    if any(_base_may_resolve_keys(base, ctx) for base in owner.bases):
        return False
    return not any(
        isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "__call__"
        for item in owner.body
    )


def _key_names(parameter: str) -> set[str]:
    """The names of a parameter that carries the key of ``parameter``'s row: ``component_id``,
    ``component_pk``, ``pk``, ``id``."""
    return {"pk", "id", f"{parameter}_id", f"{parameter}_pk"}


def _parameters_with_defaults(arguments: ast.arguments) -> frozenset[str]:
    positional = [*arguments.posonlyargs, *arguments.args]
    with_defaults = positional[len(positional) - len(arguments.defaults):] if arguments.defaults else []
    keyword = [a for a, default in zip(arguments.kwonlyargs, arguments.kw_defaults) if default is not None]
    return frozenset(argument.arg for argument in (*with_defaults, *keyword))


@on(ast.FunctionDef, ast.AsyncFunctionDef, rules=(MODEL_ANNOTATED_PARAMETER,))
def check_task_parameters(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> None:
    # ctx.scope is still the enclosing scope here: the function's own scope opens after its decorators.
    if not tasks.is_task_function(node, ctx):
        return
    if node.decorator_list:
        # A custom base class (pretix's EventTask) may turn the primary key into the instance.
        if _decorator_base_may_resolve_keys(node.decorator_list, ctx) or _indexed_base_resolves_keys(node, ctx):
            return
    elif not _run_of_plain_task_class(ctx):
        return
    arguments = node.args
    every = (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)
    optional = _parameters_with_defaults(arguments)
    names = {argument.arg for argument in every}
    for argument in every:
        beside_its_key = argument.arg in optional and bool(_key_names(argument.arg) & names)
        if beside_its_key or models.admits_key(argument.annotation, ctx):
            continue  # the task takes the key: an instance is an in-process shortcut, not what sends carry
        annotated = models.annotated_model(argument.annotation, ctx)
        if annotated is not None:
            _report(
                ctx, argument, MODEL_ANNOTATED_PARAMETER, task=node.name, parameter=argument.arg,
                model=annotated.text, remedy="a list of ids" if annotated.many else f"{argument.arg}_id",
            )
