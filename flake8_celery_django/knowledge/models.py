"""Django models as one file sees them: model classes, instances and querysets.

The method lists come from Django's ``django/db/models/query.py`` (``QuerySet``) and
``django/db/models/manager.py`` (managers proxy every queryset method).
"""

from __future__ import annotations

import ast

from flake8_celery_django.context import FileContext, Kind, Scope, Value
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.knowledge.project_names import project_name
from flake8_celery_django.project.facts import ModelFact

MANAGER_ATTRIBUTES = frozenset({"objects", "_default_manager", "_base_manager"})

# QuerySet methods that return one model instance (sync and the async variants of Django >= 4.1).
INSTANCE_METHODS = frozenset(
    {
        "get", "first", "last", "latest", "earliest", "create",
        "aget", "afirst", "alast", "alatest", "aearliest", "acreate",
    }
)
# Of those, the ones that mark ``instance.<attr>`` as a related manager (``.get`` could be a dict's).
RELATED_INSTANCE_METHODS = frozenset(
    {"first", "last", "latest", "earliest", "afirst", "alast", "alatest", "aearliest"}
)
# QuerySet methods that return an ``(instance, created)`` tuple.
INSTANCE_TUPLE_METHODS = frozenset(
    {"get_or_create", "update_or_create", "aget_or_create", "aupdate_or_create"}
)
# QuerySet methods that return another QuerySet of model instances.  ``values``/``values_list``
# also return querysets, but of plain rows: they are deliberately not listed.
QUERYSET_METHODS = frozenset(
    {
        "all", "filter", "exclude", "order_by", "select_related", "prefetch_related",
        "annotate", "alias", "distinct", "only", "defer", "using", "select_for_update",
        "reverse", "none", "union", "intersection", "difference", "extra", "complex_filter",
    }
)
MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
GET_USER_MODEL = frozenset(
    {"django.contrib.auth.get_user_model", "django.contrib.auth.models.get_user_model"}
)
GET_OBJECT_OR_404 = frozenset(
    {"django.shortcuts.get_object_or_404", "rest_framework.generics.get_object_or_404"}
)
# Functions that return a model class from its app label and name.
GET_MODEL = frozenset({"django.apps.apps.get_model", "swapper.load_model"})
RECEIVER = frozenset({"django.dispatch.receiver", "django.dispatch.dispatcher.receiver"})
# Capitalised names that ``models`` modules export and that are not model classes.
NOT_MODEL_SUFFIXES = (
    "Manager", "QuerySet", "Queryset", "Choices", "Mixin", "Error", "Exception", "Field", "Enum",
)
NOT_MODEL_NAMES = frozenset({"django.contrib.auth.models.AnonymousUser"})
_OPTIONAL_WRAPPERS = frozenset({"Optional", "typing.Optional", "Union", "typing.Union"})


def is_model_class_name(qualified: str) -> bool:
    """``shop.models.Order``, ``.models.Order``: a capitalised name defined in a ``models`` module."""
    if qualified.startswith("django.db.models"):
        return qualified in MODEL_BASES
    module, _, name = qualified.rpartition(".")
    # ``MAX_LENGTH``, ``OrderManager``, ``Status(TextChoices)``: constants and helpers, not models.
    if not name[:1].isupper() or name.isupper() or name.endswith(NOT_MODEL_SUFFIXES):
        return False
    if qualified in NOT_MODEL_NAMES:
        return False
    return module.rpartition(".")[2] == "models"


def model_class_label(node: ast.expr, ctx: FileContext) -> str | None:
    """The class name when ``node`` names a Django model class (of this file, the project or by its module)."""
    if isinstance(node, ast.Name):
        bound = ctx.scope.lookup(node.id)
        if bound is not None:
            return bound.label if bound.kind is Kind.MODEL_CLASS else None
    qualified = ctx.qualified_name(node)
    if qualified is not None and is_model_class_name(qualified):
        return qualified.rpartition(".")[2]
    fact = project_model(node, ctx)
    return fact.name if fact is not None else None


def project_model(node: ast.expr, ctx: FileContext) -> ModelFact | None:
    """The project's model class that ``node`` names, when the project index knows it."""
    if not ctx.project.enabled or not isinstance(node, (ast.Name, ast.Attribute)):
        return None
    name = project_name(node, ctx)
    return ctx.project.model(name) if name is not None else None


def manager_owner(node: ast.expr, ctx: FileContext) -> str | None:
    """``Order`` for ``Order.objects`` and for a custom manager such as ``Order.published``.

    ``objects``, ``_default_manager`` and ``_base_manager`` on any class; another attribute when it
    is a manager the project index knows on that model, or, without the index, a lower-case
    attribute of a known model class.  Every rule asks this one question.
    """
    if not isinstance(node, ast.Attribute):
        return None
    if node.attr in MANAGER_ATTRIBUTES:
        owner = dotted_name(node.value)
        return owner.rpartition(".")[2] if owner is not None else None
    if not node.attr[:1].islower():
        return None
    label = model_class_label(node.value, ctx)
    if label is None:
        return None
    fact = project_model(node.value, ctx)
    if fact is not None and node.attr not in ctx.project.managers_of(fact):
        return None
    return label


def is_model_class_definition(node: ast.ClassDef, ctx: FileContext) -> bool:
    return any(model_class_label(base, ctx) is not None for base in node.bases)


def _related_manager(node: ast.expr, ctx: FileContext) -> str | None:
    """``lines`` for ``order.lines`` when ``order`` is a model instance (only before a queryset method)."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr[:1].islower():
        bound = ctx.scope.lookup(node.value.id)
        if bound is not None and bound.kind is Kind.MODEL_INSTANCE:
            return node.attr
    return None


def queryset_label(node: ast.expr, ctx: FileContext) -> str | None:
    """The model name when ``node`` is a manager or a queryset of model instances."""
    # A loop, not recursion, over ``Model.objects.filter(...).exclude(...)...`` chains of any length.
    after_queryset_method = False
    while True:
        owner = manager_owner(node, ctx)
        if owner is not None:
            return owner
        if isinstance(node, ast.Name):
            bound = ctx.scope.lookup(node.id)
            if bound is not None and bound.kind is Kind.QUERYSET:
                return bound.label
            return None
        if after_queryset_method:
            related = _related_manager(node, ctx)
            if related is not None:
                return related
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in QUERYSET_METHODS:
                node = node.func.value
                after_queryset_method = True
                continue
        return None


def infer_call(node: ast.Call, ctx: FileContext) -> Value | None:
    func = node.func
    if isinstance(func, ast.Attribute):
        method = func.attr
        if method in INSTANCE_METHODS or method in QUERYSET_METHODS:
            label = queryset_label(func.value, ctx)
            if label is None and method in RELATED_INSTANCE_METHODS:
                label = _related_manager(func.value, ctx)
            if label is not None:
                kind = Kind.MODEL_INSTANCE if method in INSTANCE_METHODS else Kind.QUERYSET
                return Value(kind, label)
        elif method == "get_object" and _is_self(func.value) and _in_view_class(ctx):
            return Value(Kind.MODEL_INSTANCE, "object")
    qualified = ctx.qualified_name(func)
    if qualified in GET_OBJECT_OR_404 and node.args:
        label = model_class_label(node.args[0], ctx) or queryset_label(node.args[0], ctx)
        return Value(Kind.MODEL_INSTANCE, label or "object")
    if qualified in GET_USER_MODEL:
        return Value(Kind.MODEL_CLASS, "User")
    if qualified in GET_MODEL and node.args:
        name = node.args[-1]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            return Value(Kind.MODEL_CLASS, name.value.rpartition(".")[2])
    label = model_class_label(func, ctx)
    if label is not None:
        return Value(Kind.MODEL_INSTANCE, label)
    return None


def infer_attribute(node: ast.Attribute, ctx: FileContext) -> Value | None:
    """``request.user`` is a user instance; ``self.object`` is the view's object."""
    owner = node.value
    if node.attr == "user" and _is_request(owner, ctx):
        return Value(Kind.MODEL_INSTANCE, "User")
    if node.attr == "object" and _is_self(owner) and _in_view_class(ctx):
        return Value(Kind.MODEL_INSTANCE, "object")
    if node.attr == "request" and _is_self(owner) and _in_view_class(ctx):
        return Value(Kind.HTTP_REQUEST, "request")
    return None


def infer_subscript(node: ast.Subscript, ctx: FileContext) -> Value | None:
    """``qs[0]`` is a model instance, ``qs[:10]`` a queryset."""
    label = queryset_label(node.value, ctx)
    if label is None:
        return None
    if isinstance(node.slice, ast.Slice):
        return Value(Kind.QUERYSET, label)
    return Value(Kind.MODEL_INSTANCE, label)


def infer_unpacked(node: ast.expr, count: int, ctx: FileContext) -> list[Value | None] | None:
    """``obj, created = Model.objects.get_or_create(...)`` binds ``obj`` to an instance."""
    call = node.value if isinstance(node, ast.Await) else node
    if count != 2 or not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
        return None
    if call.func.attr not in INSTANCE_TUPLE_METHODS:
        return None
    label = queryset_label(call.func.value, ctx)
    if label is None:
        return None
    return [Value(Kind.MODEL_INSTANCE, label), None]


def element_of(iterable: ast.expr, ctx: FileContext) -> Value | None:
    """A loop over a queryset (or its ``.iterator()``) yields model instances."""
    if (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Attribute)
        and iterable.func.attr in ("iterator", "aiterator")
    ):
        iterable = iterable.func.value
    label = queryset_label(iterable, ctx)
    if label is None:
        return None
    return Value(Kind.MODEL_INSTANCE, label)


def annotation_label(annotation: ast.expr | None, ctx: FileContext) -> str | None:
    """The model named by a parameter annotation: ``Order``, ``Optional[Order]``, ``"Order"``, ``Order | None``."""
    pending = [annotation] if annotation is not None else []
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                parsed = ast.parse(node.value, mode="eval").body
            except (SyntaxError, ValueError):
                continue
            pending.append(parsed)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            pending.extend((node.left, node.right))
        elif isinstance(node, ast.Subscript):
            wrapper = dotted_name(node.value)
            qualified = ctx.qualified_name(node.value) or wrapper
            if wrapper in _OPTIONAL_WRAPPERS or qualified in _OPTIONAL_WRAPPERS:
                inner = node.slice
                pending.extend(inner.elts if isinstance(inner, ast.Tuple) else [inner])
        elif isinstance(node, (ast.Name, ast.Attribute)):
            label = model_class_label(node, ctx)
            if label is not None:
                return label
    return None


def bind_parameters(node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope, ctx: FileContext) -> None:
    """Parameters that hold model instances or the HTTP request."""
    arguments = node.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    receiver = any(name in RECEIVER or name == "receiver" for name in scope.decorators) or (
        bool(every) and every[0].arg == "sender"
    )
    for argument in every:
        label = annotation_label(argument.annotation, ctx)
        if label is not None:
            scope.bindings[argument.arg] = Value(Kind.MODEL_INSTANCE, label)
        elif argument.arg == "instance" and receiver:
            scope.bindings[argument.arg] = Value(Kind.MODEL_INSTANCE, "instance")
        elif argument.arg == "request" and _may_be_http_request(argument.annotation):
            scope.bindings[argument.arg] = Value(Kind.HTTP_REQUEST, "request")
        elif scope.parent is not None and scope.parent.lookup(argument.arg) is not None:
            # A parameter shadows what an enclosing scope bound to the same name.
            scope.bindings[argument.arg] = Value(Kind.UNKNOWN)
    for extra in (arguments.vararg, arguments.kwarg):
        if extra is not None and scope.parent is not None and scope.parent.lookup(extra.arg) is not None:
            scope.bindings[extra.arg] = Value(Kind.UNKNOWN)


def _may_be_http_request(annotation: ast.expr | None) -> bool:
    """No annotation, or one that names a request class (``HttpRequest``, DRF's ``Request``)."""
    if annotation is None:
        return True
    name = dotted_name(annotation) or ""
    return name.rpartition(".")[2].endswith("Request")


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def _is_request(node: ast.expr, ctx: FileContext) -> bool:
    if isinstance(node, ast.Name):
        bound = ctx.scope.lookup(node.id)
        return bound is not None and bound.kind is Kind.HTTP_REQUEST
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "request"
        and _is_self(node.value)
        and _in_view_class(ctx)
    )


def _in_view_class(ctx: FileContext) -> bool:
    owner = ctx.method_owner()
    if owner is None or not isinstance(owner.node, ast.ClassDef):
        return False
    for base in owner.node.bases:
        name = dotted_name(base) or ""
        last = name.rpartition(".")[2]
        if last.endswith(("View", "ViewSet", "Mixin")):
            return True
    return False
