"""CDJ407: ``select_related()`` given a lookup that is not a single-valued relation.

Django's ``SQLCompiler.get_related_selections`` (``django/db/models/sql/compiler.py``) follows only
forward foreign keys, one-to-one fields and reverse one-to-one relations.  A concrete field raises
``FieldError("Non-relational field given in select_related: ...")``; a many-to-many field, a reverse
foreign key or a generic relation is not among the choices and raises ``FieldError("Invalid field
name(s) given in select_related: ...")``.  Both happen when the queryset is evaluated, not where
it is built.  Each part of a nested lookup (``order__customer``) is checked on the model the
previous part leads to.  Migrations are left alone: the models they query are the historical
ones of their migration state (a field that was a one-to-one then may be a foreign key now).

``values()`` and ``values_list()`` turn ``select_related`` off (``Query.set_values`` sets
``select_related = False``), so no lookup of such a queryset is ever checked: a chain that ends in
one, or a name whose queryset the same function reads through one, is left alone.  That is known
only when the function is over, so findings wait for the end of the file.
"""

from __future__ import annotations

import ast
from typing import NamedTuple

from flake8_celery_django.context import FileContext
from flake8_celery_django.knowledge import model_fields, models
from flake8_celery_django.knowledge.file_kinds import runs_in_a_migration
from flake8_celery_django.knowledge.relations import chain_calls, method_name
from flake8_celery_django.project.facts import FieldFact
from flake8_celery_django.registry import on, on_exit, rule

SELECT_RELATED_NOT_SINGLE_VALUED = rule(
    "CDJ407",
    "select-related-not-single-valued",
    '{model}.{field} is {what}: select_related("{lookup}") raises FieldError; {remedy}',
    summary="`select_related()` naming a many-to-many, a reverse foreign key or a field that is not a relation",
    uses=(model_fields.MODEL_RELATIONS,),
)


def _describe(field: FieldFact) -> tuple[str, str]:
    """What the field is and what to do instead."""
    if field.kind == "generic_foreign_key":
        return "a generic key", "prefetch it"
    if field.is_relation:
        return "to-many", "prefetch it"  # many-to-many, reverse foreign key, generic relation
    return "not a relation", "remove it"


def _first_invalid(lookup: str, model_name: str, ctx: FileContext) -> tuple[str, FieldFact] | None:
    """The model and field where a lookup stops being a chain of to-one relations (None: valid or unknown)."""
    model = model_fields.model_named(model_name, ctx)
    for part in lookup.split("__"):
        if model is None:
            return None
        found = model_fields.field_of(model, part, ctx)
        if found is None:
            return None
        if not model_fields.is_to_one(found):
            return (model.name, found) if _known_not_single_valued(found) else None
        model = model_fields.related_model(found, ctx)
    return None


# Django's concrete field classes (``django/db/models/fields/__init__.py``, ``files.py``, ``json.py``,
# ``django/contrib/postgres/fields/``): a project's own ``*Field`` class may well be a foreign key.
_DJANGO_CONCRETE_FIELDS = frozenset(
    {
        "AutoField", "BigAutoField", "BigIntegerField", "BinaryField", "BooleanField", "CharField",
        "CommaSeparatedIntegerField", "DateField", "DateTimeField", "DecimalField", "DurationField",
        "EmailField", "FileField", "FilePathField", "FloatField", "GenericIPAddressField",
        "IPAddressField", "ImageField", "IntegerField", "JSONField", "NullBooleanField",
        "PositiveBigIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "SlugField",
        "SmallAutoField", "SmallIntegerField", "TextField", "TimeField", "URLField", "UUIDField",
        "ArrayField", "CICharField", "CIEmailField", "CITextField", "HStoreField", "IntegerRangeField",
        "BigIntegerRangeField", "DecimalRangeField", "DateTimeRangeField", "DateRangeField",
    }
)


def _known_not_single_valued(found: FieldFact) -> bool:
    """Many-valued relations, and concrete fields of a class Django itself defines."""
    if found.is_relation:
        return not model_fields.is_to_one(found)
    return found.field_class in _DJANGO_CONCRETE_FIELDS


# Reading a queryset as dicts or tuples: Django drops its select_related (``Query.set_values``).
_AS_VALUES = frozenset({"values", "values_list"})


class _Invalid(NamedTuple):
    """An invalid lookup, reported at the end of the file unless its queryset is read as values."""

    argument: ast.Constant
    model: str
    field: FieldFact
    # The function (or class, or module) the call is in, and the name its queryset is bound to.
    scope: ast.AST
    name: str | None


class _Lookups:
    """The file's invalid lookups, and what it reads as values, as the walk goes."""

    found: list[_Invalid]
    # ``select_related()`` calls of chains that end in ``values()``/``values_list()``.
    in_values_chain: set[int]
    # ``select_related()`` calls of chains bound to a name, with the name.
    bound: dict[int, str]
    # (scope, name): the scope reads the queryset bound to the name through ``values()``.
    read_as_values: set[tuple[int, str]]

    __slots__ = ("found", "in_values_chain", "bound", "read_as_values")

    def __init__(self) -> None:
        self.found = []
        self.in_values_chain = set()
        self.bound = {}
        self.read_as_values = set()


@on(ast.Assign, rules=(SELECT_RELATED_NOT_SINGLE_VALUED,))
def remember_bound_queryset(node: ast.Assign, ctx: FileContext) -> None:
    """``qs = X.objects.select_related(...)``: the chain's ``select_related()`` calls belong to ``qs``."""
    if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
        return
    calls, _ = chain_calls(node.value)
    for call in calls:
        if method_name(call) == "select_related":
            ctx.state(_Lookups).bound[id(call)] = node.targets[0].id


@on(ast.Call, rules=(SELECT_RELATED_NOT_SINGLE_VALUED,))
def check_select_related(node: ast.Call, ctx: FileContext) -> None:
    func = node.func
    if not isinstance(func, ast.Attribute):
        return
    if func.attr in _AS_VALUES:
        _remember_values(node, ctx)
        return
    if func.attr != "select_related" or not node.args:
        return
    label = models.queryset_label(func.value, ctx)
    if label is None or runs_in_a_migration(ctx):
        return  # a migration's models are those of its migration state, not today's
    lookups = ctx.state(_Lookups)
    if id(node) in lookups.in_values_chain:
        return
    for argument in node.args:
        if not isinstance(argument, ast.Constant) or not isinstance(argument.value, str):
            continue
        invalid = _first_invalid(argument.value, label, ctx)
        if invalid is None:
            continue
        model, found = invalid
        lookups.found.append(_Invalid(argument, model, found, ctx.code_scope().node, lookups.bound.get(id(node))))


def _remember_values(node: ast.Call, ctx: FileContext) -> None:
    """A ``values()`` chain: its own ``select_related()`` calls, or the name it starts at, are read as values."""
    lookups = ctx.state(_Lookups)
    calls, root = chain_calls(node)
    lookups.in_values_chain.update(id(call) for call in calls if method_name(call) == "select_related")
    if isinstance(root, ast.Name):
        lookups.read_as_values.add((id(ctx.code_scope().node), root.id))


@on_exit(ast.Module, rules=(SELECT_RELATED_NOT_SINGLE_VALUED,))
def report_invalid_lookups(node: ast.Module, ctx: FileContext) -> None:
    lookups = ctx.state(_Lookups)
    for invalid in lookups.found:
        if invalid.name is not None and (id(invalid.scope), invalid.name) in lookups.read_as_values:
            continue
        what, remedy = _describe(invalid.field)
        ctx.report(
            invalid.argument,
            SELECT_RELATED_NOT_SINGLE_VALUED,
            lookup=invalid.argument.value,
            model=invalid.model,
            field=invalid.field.name,
            what=what,
            remedy=remedy,
        )
