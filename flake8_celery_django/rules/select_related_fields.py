"""CDJ407: ``select_related()`` given a lookup that is not a single-valued relation.

Django's ``SQLCompiler.get_related_selections`` (``django/db/models/sql/compiler.py``) follows only
forward foreign keys, one-to-one fields and reverse one-to-one relations.  A concrete field raises
``FieldError("Non-relational field given in select_related: ...")``; a many-to-many field, a reverse
foreign key or a generic relation is not among the choices and raises ``FieldError("Invalid field
name(s) given in select_related: ...")``.  Both happen when the queryset is evaluated, not where
it is built.  Each part of a nested lookup (``order__customer``) is checked on the model the
previous part leads to.  Migrations are left alone: the models they query are the historical
ones of their migration state (a field that was a one-to-one then may be a foreign key now).
"""

from __future__ import annotations

import ast

from flake8_celery_django.context import FileContext
from flake8_celery_django.knowledge import model_fields, models
from flake8_celery_django.knowledge.file_kinds import runs_in_a_migration
from flake8_celery_django.project.facts import FieldFact
from flake8_celery_django.registry import on, rule

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


@on(ast.Call, rules=(SELECT_RELATED_NOT_SINGLE_VALUED,))
def check_select_related(node: ast.Call, ctx: FileContext) -> None:
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr != "select_related" or not node.args:
        return
    label = models.queryset_label(func.value, ctx)
    if label is None or runs_in_a_migration(ctx):
        return  # a migration's models are those of its migration state, not today's
    for argument in node.args:
        if not isinstance(argument, ast.Constant) or not isinstance(argument.value, str):
            continue
        invalid = _first_invalid(argument.value, label, ctx)
        if invalid is None:
            continue
        model, found = invalid
        what, remedy = _describe(found)
        ctx.report(
            argument,
            SELECT_RELATED_NOT_SINGLE_VALUED,
            lookup=argument.value,
            model=model,
            field=found.name,
            what=what,
            remedy=remedy,
        )
