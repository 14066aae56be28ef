"""CDJ408: a DRF list view whose serializer reads relations its queryset does not fetch.

DRF's ``ListModelMixin.list`` (``rest_framework/mixins.py``) serializes every row of
``get_queryset()`` with ``get_serializer(many=True)``; ``GenericAPIView.get_queryset``
(``rest_framework/generics.py``) returns ``self.queryset.all()`` unless overridden.  A nested
serializer field (``customer = CustomerSerializer()``, ``lines = LineSerializer(many=True)``) or a
``source="customer.name"`` reads the relation once per row: one query per row unless the queryset
selects or prefetches it.  Serializers come from this file or from the project index; the relations
from the model definitions (this file's or the project's).  Views that only retrieve one object
(``RetrieveAPIView``) cost one query, not one per row, and are left alone, and so are viewsets the
project routes only with ``as_view()`` mappings that name no ``list`` action (the project index).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from flake8_celery_django.context import FileContext
from flake8_celery_django.knowledge import fetched_relations, file_serializers, model_fields, models
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.knowledge.relations import chain_calls, method_name
from flake8_celery_django.project.facts import ModelFact, SerializerFact, SerializerFieldFact
from flake8_celery_django.registry import on, on_exit, rule

SERIALIZER_RELATION_NOT_FETCHED = rule(
    "CDJ408",
    "serializer-relation-not-fetched",
    '{view} serializes {lookup}{also} per row; add {method}("{lookup}")',
    summary="DRF list view whose serializer reads a relation its queryset neither selects nor prefetches",
    uses=(model_fields.MODEL_RELATIONS, file_serializers.SERIALIZERS, fetched_relations.FETCHED_NAMES),
)

# Views whose GET serializes every row of the queryset.
_LIST_VIEWS = frozenset(
    {
        "rest_framework.generics.ListAPIView",
        "rest_framework.generics.ListCreateAPIView",
        "rest_framework.viewsets.ModelViewSet",
        "rest_framework.viewsets.ReadOnlyModelViewSet",
        "rest_framework.mixins.ListModelMixin",
    }
)
_DRF_PACKAGE = "rest_framework."
_QUERYSET_SOURCES = frozenset({"get_queryset", "queryset"})
_MAX_DEPTH = 4


@dataclass(slots=True)
class _View:
    """A list view being walked: its serializer, its queryset and what ``get_queryset`` fetches."""

    name: str
    serializer: str | None = None
    queryset: ast.expr | None = None
    get_queryset: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    # Paths that ``select_related``/``prefetch_related`` calls in ``get_queryset`` name.
    paths: set[str] = field(default_factory=set)
    # Names ``get_queryset`` binds to querysets whose fetches are not in view (a related manager...).
    opaque_names: set[str] = field(default_factory=set)
    # A lookup or a returned queryset that is not in view: what is fetched is not known.
    unknown: bool = False


class _Views:
    """Per file: the list views being walked, by class node."""

    open: dict[ast.AST, _View]

    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open = {}


def _is_list_view(node: ast.ClassDef, ctx: FileContext) -> bool:
    """A DRF list view built from DRF classes only: a project base may fetch in its own ``get_queryset``."""
    bases = [ctx.qualified_name(base) or "" for base in node.bases]
    return any(base in _LIST_VIEWS for base in bases) and all(
        base.startswith(_DRF_PACKAGE) for base in bases
    )


@on(ast.ClassDef, rules=(SERIALIZER_RELATION_NOT_FETCHED,))
def open_view(node: ast.ClassDef, ctx: FileContext) -> None:
    views = ctx.state(_Views)
    if not _is_list_view(node, ctx):
        return
    view = _View(node.name)
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name) and target.id == "serializer_class":
                view.serializer = dotted_name(statement.value)
                view.unknown |= view.serializer is None
            elif isinstance(target, ast.Name) and target.id == "queryset":
                view.queryset = statement.value
            elif isinstance(target, ast.Name) and target.id == "http_method_names":
                view.unknown |= not _allows_get(statement.value)  # a view that never lists
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if statement.name == "get_queryset":
                view.get_queryset = statement
            elif statement.name in ("get_serializer_class", "get_serializer", "list"):
                view.unknown = True  # the serializer (or the rows) differ from the class attributes
    views.open[node] = view


def _allows_get(methods: ast.expr) -> bool:
    if not isinstance(methods, (ast.List, ast.Tuple)):
        return True
    return any(isinstance(item, ast.Constant) and item.value == "get" for item in methods.elts)


def _is_empty(queryset: ast.expr) -> bool:
    """``Model.objects.none()``: a placeholder for a view that builds its rows elsewhere, or none."""
    calls, _ = chain_calls(queryset)
    return any(method_name(call) == "none" for call in calls)


def _view_of_method(ctx: FileContext) -> _View | None:
    """The list view whose ``get_queryset`` the code here belongs to."""
    scope = ctx.code_scope()
    owner = scope.enclosing_class
    if owner is None:
        return None
    view = ctx.state(_Views).open.get(owner.node)
    if view is None or view.get_queryset is not scope.node:
        return None
    return view


def _is_queryset_source(root: ast.expr) -> bool:
    """``super().get_queryset()``'s ``super()``, ``self.queryset``, a manager, or a local name."""
    if isinstance(root, ast.Call):
        return isinstance(root.func, ast.Name) and root.func.id == "super"
    if isinstance(root, ast.Attribute):
        return root.attr in models.MANAGER_ATTRIBUTES or (
            isinstance(root.value, ast.Name) and root.value.id == "self" and root.attr in _QUERYSET_SOURCES
        )
    return isinstance(root, ast.Name)


@on(ast.Call, rules=(SERIALIZER_RELATION_NOT_FETCHED,))
def record_fetch(node: ast.Call, ctx: FileContext) -> None:
    if method_name(node) not in ("select_related", "prefetch_related"):
        return
    view = _view_of_method(ctx)
    if view is None:
        return
    if not node.args or node.keywords:
        view.unknown = True
    for argument in node.args:
        found = fetched_relations.lookups_of(argument, ctx)
        if found is None:
            view.unknown = True
        else:
            view.paths.update(found)


def _in_view(expr: ast.expr, view: _View) -> bool:
    """A queryset chain whose fetches are all visible: on a manager, ``super()``, or a name bound to one."""
    calls, root = chain_calls(expr)
    allowed = models.QUERYSET_METHODS | {"get_queryset"}
    if any(method_name(call) not in allowed for call in calls) or not _is_queryset_source(root):
        return False  # a custom queryset method or helper may fetch what it needs
    return not (isinstance(root, ast.Name) and root.id in view.opaque_names)


@on(ast.Assign, rules=(SERIALIZER_RELATION_NOT_FETCHED,))
def record_binding(node: ast.Assign, ctx: FileContext) -> None:
    view = _view_of_method(ctx)
    if view is None:
        return
    for target in node.targets:
        if isinstance(target, ast.Name) and not _in_view(node.value, view):
            view.opaque_names.add(target.id)


@on(ast.Return, rules=(SERIALIZER_RELATION_NOT_FETCHED,))
def record_return(node: ast.Return, ctx: FileContext) -> None:
    view = _view_of_method(ctx)
    if view is None or node.value is None:
        return
    if not _in_view(node.value, view):
        view.unknown = True


def _needed(
    serializer: SerializerFact, model: ModelFact, ctx: FileContext, prefix: str = "", depth: int = 0
) -> list[tuple[str, bool]]:
    """Relation lookups the serializer reads per instance, with whether a many-valued part is on the way."""
    needed: list[tuple[str, bool]] = []
    for fact in _fields(serializer, ctx):
        current: ModelFact | None = model
        parts: list[str] = []
        many = False
        for part in fact.path.split("__"):
            relation = model_fields.field_of(current, part, ctx) if current is not None else None
            if relation is None or not relation.is_relation:
                break
            parts.append(part)
            # ``prefetch_related`` serves a generic foreign key; ``select_related`` cannot follow one.
            many = many or relation.is_many or relation.kind == "generic_foreign_key"
            current = model_fields.related_model(relation, ctx)
        if not parts:
            continue
        lookup = prefix + "__".join(parts)
        needed.append((lookup, many))
        whole_path = len(parts) == fact.path.count("__") + 1
        nested = file_serializers.serializer_named(fact.serializer, ctx) if fact.serializer else None
        if nested is not None and current is not None and whole_path and depth < _MAX_DEPTH:
            inner = _needed(nested, current, ctx, lookup + "__", depth + 1)
            needed.extend((path, many or inner_many) for path, inner_many in inner)
    return needed


def _fields(serializer: SerializerFact, ctx: FileContext) -> list[SerializerFieldFact]:
    """The serializer's own path-reading fields, then its bases' (a subclass field hides a base's)."""
    found: dict[str, SerializerFieldFact] = {}
    pending = [serializer]
    seen: set[str] = set()
    while pending:
        current = pending.pop(0)
        if current.qualified_name in seen:
            continue
        seen.add(current.qualified_name)
        for fact in current.fields:
            found.setdefault(fact.name, fact)
        for name in current.bases:
            base = file_serializers.serializer_named(name, ctx)
            if base is not None:
                pending.append(base)
    return list(found.values())


def _class_queryset(view: _View, ctx: FileContext) -> fetched_relations.Fetched | None:
    if view.queryset is None:
        return None
    return fetched_relations.fetched(view.queryset, ctx)


def _routed_without_list(view: _View, ctx: FileContext) -> bool:
    """The project's URL configuration routes only other actions to the view (``as_view({"get":
    "retrieve"})``): its queryset is never listed."""
    if ctx.module is None or not ctx.project.enabled:
        return False
    actions = ctx.project.view_actions(f"{ctx.module}.{view.name}")
    return actions is not None and "list" not in actions


@on_exit(ast.ClassDef, rules=(SERIALIZER_RELATION_NOT_FETCHED,))
def close_view(node: ast.ClassDef, ctx: FileContext) -> None:
    view = ctx.state(_Views).open.pop(node, None)
    if view is None or view.unknown or view.serializer is None:
        return
    if _routed_without_list(view, ctx):
        return
    serializer = file_serializers.serializer_named(view.serializer, ctx)
    if serializer is None:
        return
    if view.get_queryset is None and view.queryset is not None and _is_empty(view.queryset):
        return
    declared = _class_queryset(view, ctx)
    if declared is None and (view.queryset is not None or view.get_queryset is None):
        return  # a queryset that is not a chain on a model manager: what it fetches is not in view
    model = model_fields.model_named(serializer.model, ctx) if serializer.model else None
    if model is None and declared is not None:
        model = model_fields.model_named(declared.model, ctx)
    if model is None:
        return
    if view.get_queryset is not None:
        paths = set(view.paths) | (set(declared.paths) if declared is not None else set())
        fetched = fetched_relations.Fetched(model.name, frozenset(paths), declared is None or declared.complete)
        where: ast.AST = view.get_queryset
    else:
        assert declared is not None and view.queryset is not None
        fetched, where = declared, view.queryset
    missing = [(lookup, many) for lookup, many in _needed(serializer, model, ctx) if not fetched.covers(lookup)]
    if missing:
        lookup, many = missing[0]
        others = len(missing) - 1
        ctx.report(
            where,
            SERIALIZER_RELATION_NOT_FETCHED,
            lookup=lookup,
            also=f" and {others} more" if others else "",
            view=view.name,
            method="prefetch_related" if many else "select_related",
        )
