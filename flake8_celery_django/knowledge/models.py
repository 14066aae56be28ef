"""Django models as one file sees them: model classes, instances and querysets.

The method lists come from Django's ``django/db/models/query.py`` (``QuerySet``) and
``django/db/models/manager.py`` (managers proxy every queryset method).
"""

from __future__ import annotations

import ast
from typing import NamedTuple

from flake8_celery_django.context import FileContext, Kind, Scope, Value
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.knowledge.project_names import project_model
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
_LIST_BUILDERS = frozenset({"list", "tuple"})
_OPTIONAL_WRAPPERS = frozenset({"Optional", "typing.Optional", "Union", "typing.Union"})
# Annotations of a collection of instances: ``list[Order]``, ``Sequence[Order]``, ``QuerySet[Order]``.
_COLLECTION_WRAPPERS = frozenset(
    {
        "list", "tuple", "set", "frozenset", "List", "Tuple", "Set", "FrozenSet", "Sequence", "Iterable",
        "Collection", "MutableSequence", "AbstractSet", "Iterator", "QuerySet",
    }
)
# Relation kinds that give one instance when read from an instance (``order.customer``).
_TO_ONE = frozenset({"foreign_key", "one_to_one"})


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
    found = project_model(node, ctx)
    return found.name if found is not None else None


def model_fact(value: Value, ctx: FileContext) -> ModelFact | None:
    """The index's facts about the model of an instance (or queryset) value, when it knows them."""
    project = ctx.project
    if not project.enabled:
        return None
    if value.model:
        return project.model(value.model)
    return project.model(value.label) if value.label else None


def instance(label: str, ctx: FileContext, class_node: ast.expr | None = None) -> Value:
    """An instance of the model ``label``, with its qualified name when the index knows the model."""
    found = project_model(class_node, ctx) if class_node is not None else None
    if found is None and ctx.project.enabled and label:
        found = ctx.project.model(label)
    return Value(Kind.MODEL_INSTANCE, label, model=found.qualified_name if found is not None else "")


def related_instance(owner: Value, attribute: str, ctx: FileContext) -> Value | None:
    """``order.customer``: the instance a to-one relation of a known model leads to."""
    model = model_fact(owner, ctx)
    if model is None:
        return None
    found = ctx.project.model_field(model, attribute)
    if found is None or found.kind not in _TO_ONE or found.is_many or found.target is None:
        return None
    target = ctx.project.model(found.target)
    if target is None:
        return Value(Kind.MODEL_INSTANCE, found.target.rpartition(".")[2], model=found.target)
    return Value(Kind.MODEL_INSTANCE, target.name, model=target.qualified_name)


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
                if method in INSTANCE_METHODS:
                    return instance(label, ctx)
                return Value(Kind.QUERYSET, label)
        elif method == "get_object" and _is_self(func.value) and _in_view_class(ctx):
            return Value(Kind.MODEL_INSTANCE, "object")
    qualified = ctx.qualified_name(func)
    if qualified in GET_OBJECT_OR_404 and node.args:
        label = model_class_label(node.args[0], ctx) or queryset_label(node.args[0], ctx)
        return instance(label, ctx, node.args[0]) if label else Value(Kind.MODEL_INSTANCE, "object")
    if qualified in GET_USER_MODEL:
        return Value(Kind.MODEL_CLASS, "User")
    if qualified in GET_MODEL and node.args:
        name = node.args[-1]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            return Value(Kind.MODEL_CLASS, name.value.rpartition(".")[2])
    label = model_class_label(func, ctx)
    if label is not None:
        return instance(label, ctx, func)
    if isinstance(func, ast.Name) and func.id in _LIST_BUILDERS and len(node.args) == 1 and not node.keywords:
        # ``list(qs)`` evaluates the queryset into instances.
        label = queryset_label(node.args[0], ctx)
        if label is not None:
            return Value(Kind.MODEL_INSTANCES, label, model=instance(label, ctx).model)
    return None


def infer_attribute(node: ast.Attribute, ctx: FileContext) -> Value | None:
    """``request.user`` is a user instance; ``self.object`` is the view's object."""
    owner = node.value
    if node.attr == "user" and _is_request(owner, ctx):
        user_model = ctx.project.settings.user_model if ctx.project.enabled else None
        return instance(user_model.rpartition(".")[2] if user_model else "User", ctx)
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
    return instance(label, ctx)


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
    return [instance(label, ctx), None]


def element_of(iterable: ast.expr, ctx: FileContext) -> Value | None:
    """A loop over a queryset (or its ``.iterator()``, or a slice of it), or over a list of instances,
    yields instances."""
    if isinstance(iterable, ast.Subscript) and isinstance(iterable.slice, ast.Slice):
        iterable = iterable.value  # ``Order.objects.all()[:50]`` is a queryset too
    if (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Attribute)
        and iterable.func.attr in ("iterator", "aiterator")
    ):
        iterable = iterable.func.value
    if isinstance(iterable, ast.Name):
        bound = ctx.scope.lookup(iterable.id)
        if bound is not None and bound.kind is Kind.MODEL_INSTANCES:
            return Value(Kind.MODEL_INSTANCE, bound.label, model=bound.model)
    label = queryset_label(iterable, ctx)
    if label is None:
        return None
    return instance(label, ctx)


class AnnotatedModel(NamedTuple):
    """The model a parameter annotation names, and whether it names a collection of its instances."""

    label: str
    model: str
    many: bool

    @property
    def text(self) -> str:
        return f"{self.label} instances" if self.many else f"model {self.label}"

    def value(self) -> Value:
        return Value(Kind.MODEL_INSTANCES if self.many else Kind.MODEL_INSTANCE, self.label, model=self.model)


# What ``ast.parse`` raises on a string annotation it cannot build a tree for.
_ANNOTATION_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)


def parsed_annotation(text: str) -> ast.expr | None:
    """The expression of an annotation written as a string (``"Order | None"``), None when it is not one."""
    try:
        return ast.parse(text, mode="eval").body
    except _ANNOTATION_PARSE_ERRORS:
        return None


def union_members(annotation: ast.expr | None, ctx: FileContext) -> list[ast.expr]:
    """The members of ``A | B``, ``Optional[A]`` and ``Union[A, B]`` (also written as a string), in
    the order the annotation gives them; any other annotation is its own one member."""
    pending = [annotation] if annotation is not None else []
    found: list[ast.expr] = []
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            parsed = parsed_annotation(node.value)
            if parsed is not None:
                pending.append(parsed)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            pending.extend((node.right, node.left))
        elif isinstance(node, ast.Subscript) and _is_union_wrapper(node.value, ctx):
            inner = node.slice
            pending.extend(reversed(inner.elts if isinstance(inner, ast.Tuple) else [inner]))
        else:
            found.append(node)
    return found


def _is_union_wrapper(node: ast.expr, ctx: FileContext) -> bool:
    wrapper = dotted_name(node) or ""
    return wrapper in _OPTIONAL_WRAPPERS or (ctx.qualified_name(node) or wrapper) in _OPTIONAL_WRAPPERS


# Annotations of a key: a union with one of these takes the key as well as the instance.
_KEY_TYPES = frozenset({"int", "str", "UUID", "uuid.UUID"})


def admits_key(annotation: ast.expr | None, ctx: FileContext) -> bool:
    """``int | Component``, ``Union[int, Project]``: the parameter takes a row's key as well as the row."""
    members = union_members(annotation, ctx)
    return len(members) > 1 and any(dotted_name(member) in _KEY_TYPES for member in members)


def annotated_model(annotation: ast.expr | None, ctx: FileContext) -> AnnotatedModel | None:
    """The model of ``Order``, ``Optional[Order]``, ``"Order"``, ``Order | None``, ``list[Order]``."""
    # Taken from the end: the last member of a union is judged first.
    pending = [(member, False) for member in union_members(annotation, ctx)]
    while pending:
        node, many = pending.pop()
        if isinstance(node, ast.Subscript):
            qualified = ctx.qualified_name(node.value) or dotted_name(node.value) or ""
            if qualified.rpartition(".")[2] in _COLLECTION_WRAPPERS:
                inner = node.slice
                elements = inner.elts if isinstance(inner, ast.Tuple) else [inner]
                pending.extend((member, True) for element in elements for member in union_members(element, ctx))
        elif isinstance(node, (ast.Name, ast.Attribute)):
            label = model_class_label(node, ctx)
            if label is not None:
                return AnnotatedModel(label, instance(label, ctx, node).model, many)
    return None


def bind_parameters(node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope, ctx: FileContext) -> None:
    """Parameters that hold model instances or the HTTP request."""
    arguments = node.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    receiver = any(name in RECEIVER or name == "receiver" for name in scope.decorators) or (
        bool(every) and every[0].arg == "sender"
    )
    has_instance = any(argument.arg == "instance" for argument in every)
    project_receiver = _project_receiver_sender(node, ctx) if has_instance else None
    if project_receiver is not None:
        receiver = True
    sent_rows = _rows_sent_to(node, ctx) if receiver else {}
    for argument in every:
        annotated = annotated_model(argument.annotation, ctx)
        if annotated is not None:
            scope.bindings[argument.arg] = annotated.value()
        elif argument.arg in sent_rows and not _checks_for_plain_data(node, argument.arg):
            scope.bindings[argument.arg] = sent_rows[argument.arg]
        elif argument.arg == "instance" and receiver and not _checks_for_plain_data(node, argument.arg):
            scope.bindings[argument.arg] = _sender_instance(node, project_receiver, ctx)
        elif argument.arg == "request" and _may_be_http_request(argument.annotation):
            scope.bindings[argument.arg] = Value(Kind.HTTP_REQUEST, "request")
        elif scope.parent is not None and scope.parent.lookup(argument.arg) is not None:
            # A parameter shadows what an enclosing scope bound to the same name.
            scope.bindings[argument.arg] = Value(Kind.UNKNOWN)
    for extra in (arguments.vararg, arguments.kwarg):
        if extra is not None and scope.parent is not None and scope.parent.lookup(extra.arg) is not None:
            scope.bindings[extra.arg] = Value(Kind.UNKNOWN)


# Django's model signals that hand the receiver an ``instance`` (``django/db/models/signals.py``).
_INSTANCE_SIGNALS = frozenset({"pre_save", "post_save", "pre_delete", "post_delete", "m2m_changed", "post_init"})
# Types a receiver tests its ``instance`` against when it also receives plain data (a list of ids).
_PLAIN_TYPES = frozenset({"list", "tuple", "set", "dict", "str", "int", "QuerySet"})


def _checks_for_plain_data(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    """``type(instance) is list`` or ``isinstance(instance, (list, tuple))`` in the function's body.

    openwisp-controller connects one handler to ``post_save`` and to a signal of its own that sends
    a list of ids as ``instance``, and tells them apart this way.
    """
    for child in ast.walk(node):
        tested: ast.expr | None = None
        types: list[ast.expr] = []
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id == "isinstance":
            if len(child.args) == 2:
                tested = child.args[0]
                second = child.args[1]
                types = list(second.elts) if isinstance(second, ast.Tuple) else [second]
        elif isinstance(child, ast.Compare) and len(child.comparators) == 1:
            left = child.left
            if isinstance(left, ast.Call) and isinstance(left.func, ast.Name) and left.func.id == "type" and left.args:
                tested = left.args[0]
                types = [child.comparators[0]]
        if isinstance(tested, ast.Name) and tested.id == name:
            if any((dotted_name(t) or "").rpartition(".")[2] in _PLAIN_TYPES for t in types):
                return True
    return False


def _project_receiver_sender(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> str | None:
    """The sender the index knows this module-level function is connected for ("" for any sender)."""
    if not ctx.project.enabled or ctx.module is None or ctx.scope.kind != "module":
        return None
    name = f"{ctx.module}.{node.name}"
    senders = {
        receiver.sender or ""
        for receiver in ctx.project.receivers
        if receiver.qualified_name == name and receiver.signal in _INSTANCE_SIGNALS
    }
    if not senders:
        return None
    return senders.pop() if len(senders) == 1 else ""


def _rows_sent_to(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> dict[str, Value]:
    """A receiver of project signals: the parameters its senders fill with rows of one model."""
    if not ctx.project.enabled or ctx.module is None or ctx.scope.kind != "module":
        return {}
    rows: dict[str, Value] = {}
    for keyword, name in ctx.project.receiver_rows(f"{ctx.module}.{node.name}").items():
        found = ctx.project.model(name)
        if found is not None and keyword != "sender":
            rows[keyword] = Value(Kind.MODEL_INSTANCE, found.name, model=found.qualified_name)
    return rows


def _sender_instance(
    node: ast.FunctionDef | ast.AsyncFunctionDef, project_sender: str | None, ctx: FileContext
) -> Value:
    """A receiver's ``instance``: of the model given as ``sender=`` when there is exactly one."""
    senders: list[ast.expr] = []
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call):
            target = ctx.qualified_name(decorator.func) or dotted_name(decorator.func)
            if target in RECEIVER or target == "receiver":
                senders.extend(k.value for k in decorator.keywords if k.arg == "sender")
    if len(senders) == 1:
        label = model_class_label(senders[0], ctx)
        if label is not None:
            return instance(label, ctx, senders[0])
    elif not senders and project_sender:
        found = ctx.project.model(project_sender)
        if found is not None:
            return Value(Kind.MODEL_INSTANCE, found.name, model=found.qualified_name)
    return Value(Kind.MODEL_INSTANCE, "instance")


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
