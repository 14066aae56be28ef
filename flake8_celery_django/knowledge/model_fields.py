"""Model fields and relations, from the models this file defines and from the project index.

The walk records every model class of the file as a :class:`ModelFact` (the same record the
project index keeps), so that a rule asks one question, :func:`model_named` or :func:`field_of`,
whether the model lives in this file or in another module.  Field classes and their options
(``to``, ``related_name``, ``unique``, ``primary_key``, ``Meta.unique_together``,
``Meta.constraints``) are those of ``django/db/models/fields/related.py`` and
``django/db/models/constraints.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from flake8_celery_django.context import FileContext
from flake8_celery_django.knowledge import models
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.project.constraints import MetaFacts, has_constant_default, read_meta
from flake8_celery_django.project.facts import FieldFact, FieldKind, ModelFact
from flake8_celery_django.project.knowledge import absolute_name, lineage, unique_lookup_in
from flake8_celery_django.project.model_methods import returned_self_attribute
from flake8_celery_django.registry import provider, provides

_FIELD_KINDS: dict[str, FieldKind] = {
    "ForeignKey": "foreign_key",
    "ParentalKey": "foreign_key",
    "OneToOneField": "one_to_one",
    "ManyToManyField": "many_to_many",
    "ParentalManyToManyField": "many_to_many",
    "GenericRelation": "generic",
    "GenericForeignKey": "generic_foreign_key",
}
_RELATION_NAME_PARTS: tuple[tuple[str, FieldKind], ...] = (
    ("ManyToMany", "many_to_many"),
    ("OneToOne", "one_to_one"),
    ("ForeignKey", "foreign_key"),
)


MODEL_RELATIONS = provider("model-relations")


class FileModels:
    """Per file: model classes by class name, and reverse relations declared on other models."""

    models: dict[str, ModelFact]
    reverse: dict[str, list[FieldFact]]

    __slots__ = ("models", "reverse")

    def __init__(self) -> None:
        self.models = {}
        self.reverse = {}


@provides(MODEL_RELATIONS, ast.ClassDef)
def record_model_class(node: ast.ClassDef, ctx: FileContext) -> None:
    """A model class body becomes a :class:`ModelFact` (reverse relations too)."""
    if not models.is_model_class_definition(node, ctx):
        return
    table = ctx.state(FileModels)
    fields: list[FieldFact] = []
    methods: set[str] = set()
    method_returns: list[tuple[str, str]] = []
    meta = MetaFacts()
    for statement in node.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Meta":
            meta = read_meta(statement)
            continue
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            methods.add(statement.name)
            returned = returned_self_attribute(statement)
            if returned is not None:
                method_returns.append((statement.name, returned))
            continue
        assigned = _assigned_call(statement)
        if assigned is None:
            continue
        name, call = assigned
        fact = _field(name, call, node.name)
        if fact is None:
            continue
        fields.append(fact)
        if fact.is_relation and fact.target is not None:
            reverse = _reverse_field(fact, call, node.name)
            if reverse is not None:
                table.reverse.setdefault(fact.target, []).append(reverse)
    bases = tuple(
        label
        for label in (_base_label(base, ctx) for base in node.bases)
        if label is not None
    )
    table.models[node.name] = ModelFact(
        node.name,
        bases,
        meta.abstract,
        tuple(fields),
        meta.unique_together,
        opaque_constraints=meta.opaque_constraints,
        methods=frozenset(methods),
        method_returns=tuple(method_returns),
        unique_when_null=meta.unique_when_null,
        unique_when_set=meta.unique_when_set,
    )


def _base_label(base: ast.expr, ctx: FileContext) -> str | None:
    qualified = ctx.qualified_name(base)
    if qualified is not None and qualified in models.MODEL_BASES:
        return None
    return dotted_name(base)


def _assigned_call(statement: ast.stmt) -> tuple[str, ast.Call] | None:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target, value = statement.targets[0], statement.value
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        target, value = statement.target, statement.value
    else:
        return None
    if isinstance(target, ast.Name) and isinstance(value, ast.Call):
        return target.id, value
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _field_kind(field_class: str) -> FieldKind | None:
    """The relation kind of a field class, also of subclasses named after theirs (``TreeForeignKey``)."""
    kind = _FIELD_KINDS.get(field_class)
    if kind is not None:
        return kind
    for part, part_kind in _RELATION_NAME_PARTS:
        if part in field_class:
            return part_kind
    return None


def _field(name: str, call: ast.Call, model: str) -> FieldFact | None:
    field_class = (dotted_name(call.func) or "").rpartition(".")[2]
    kind = _field_kind(field_class)
    unique = _is_true(_keyword(call, "unique")) or _is_true(_keyword(call, "primary_key"))
    if kind is None:
        if not field_class.endswith("Field"):
            return None
        return FieldFact(
            name, "plain", unique=unique, field_class=field_class, constant_default=has_constant_default(call)
        )
    if kind == "generic_foreign_key":
        return FieldFact(name, kind, field_class=field_class)  # its arguments name its two columns
    target_node = call.args[0] if call.args else _keyword(call, "to")
    target = _target_label(target_node, model)
    return FieldFact(
        name, kind, target, unique or kind == "one_to_one", field_class=field_class,
        constant_default=has_constant_default(call),
    )


def _target_label(node: ast.expr | None, model: str) -> str | None:
    """``"self"``, ``"shop.Order"``, ``Order``, ``models.Order``: the related model's class name."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
        return model if text == "self" else text.rpartition(".")[2] or None
    if node is None:
        return None
    dotted = dotted_name(node)
    return dotted.rpartition(".")[2] if dotted is not None else None


def _reverse_field(forward: FieldFact, call: ast.Call, model: str) -> FieldFact | None:
    """The attribute the related model gets: ``related_name``, else Django's ``<model>_set``/``<model>``."""
    related = _keyword(call, "related_name")
    if related is not None:
        if not isinstance(related, ast.Constant) or not isinstance(related.value, str):
            return None
        name = related.value
        if name.endswith("+") or "%" in name:
            return None
    elif forward.kind == "one_to_one":
        name = model.lower()
    elif forward.kind in ("foreign_key", "many_to_many"):
        name = f"{model.lower()}_set"
    else:
        return None
    return FieldFact(name, forward.kind, model, forward.kind == "one_to_one", reverse=True)


# -- queries -------------------------------------------------------------------------------------
def model_named(name: str, ctx: FileContext) -> ModelFact | None:
    """The model a class name (``Order``), an imported name or a qualified name stands for."""
    table = ctx.state(FileModels)
    local = table.models.get(name)
    if local is not None:
        return local
    project = ctx.project
    if not project.enabled:
        return None
    imported = ctx.imports.names.get(name.partition(".")[0])
    if imported is not None:
        qualified = absolute_name(imported + name[len(name.partition(".")[0]):], ctx.module)
        found = project.model(qualified)
        if found is not None:
            return found
    return project.model(name)


def field_of(model: ModelFact, attribute: str, ctx: FileContext) -> FieldFact | None:
    """``attribute`` of ``model``: its own fields, reverse relations, then its bases' (any module)."""
    reverse = ctx.state(FileModels).reverse
    for current in lineage(model, lambda name: model_named(name, ctx)):
        candidates: list[FieldFact] = [*current.fields, *reverse.get(current.qualified_name, [])]
        for candidate in candidates:
            if candidate.name == attribute:
                return candidate
    return None


def method_of(model: ModelFact, attribute: str, ctx: FileContext) -> tuple[bool, str | None]:
    """Whether ``attribute`` is a method or property of ``model`` (or of a base the file or the project
    defines), and the attribute of ``self`` it returns through, when it does."""
    for current in lineage(model, lambda name: model_named(name, ctx)):
        if attribute in current.methods:
            return True, dict(current.method_returns).get(attribute)
    return False, None


def related_model(relation: FieldFact, ctx: FileContext) -> ModelFact | None:
    """The model a relation points to; ``settings.AUTH_USER_MODEL`` is the project's user model."""
    target = relation.target
    if target == "AUTH_USER_MODEL":
        target = ctx.project.settings.user_model
    return model_named(target, ctx) if target is not None else None


def is_to_one(relation: FieldFact) -> bool:
    """An instance when read from a row that ``select_related`` can join: a forward foreign key or a
    one-to-one (either side); a ``GenericForeignKey`` is neither."""
    return relation.kind == "one_to_one" or (relation.kind == "foreign_key" and not relation.reverse)


class _Catalog:
    """This file's models and the project's, behind the lookups :func:`unique_lookup_in` asks."""

    __slots__ = ("ctx",)

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx

    def model(self, name: str) -> ModelFact | None:
        return model_named(name, self.ctx)

    def model_field(self, model: ModelFact, attribute: str) -> FieldFact | None:
        return field_of(model, attribute, self.ctx)

    def in_project(self, name: str) -> bool:
        """Defined in this file (not imported), or in a module the project index knows."""
        ctx = self.ctx
        if "." in name and ctx.project.in_project(name):
            return True  # a qualified base of a project model
        head = name.partition(".")[0]
        imported = ctx.imports.names.get(head)
        if imported is None:
            return "." not in name
        qualified = absolute_name(imported + name[len(head):], ctx.module)
        return ctx.project.enabled and ctx.project.in_project(qualified)


def unique_lookup(
    model: ModelFact, names: Iterable[str], ctx: FileContext, also_set: Iterable[str] | None = ()
) -> bool:
    """Whether a unique constraint of ``model`` covers the lookup ``names`` (``fk`` and ``fk_id`` alike);
    ``also_set``: the other fields the created row gets (``defaults``), None when unknown."""
    return unique_lookup_in(_Catalog(ctx), model, names, also_set)
