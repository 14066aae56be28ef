"""Django REST framework serializers of one module, as :class:`SerializerFact` records.

A serializer is a class deriving from ``rest_framework.serializers.Serializer`` (``ModelSerializer``,
``HyperlinkedModelSerializer``...) directly, or from a class whose name ends in ``Serializer``
(a project base).  What a field reads comes from DRF's ``Field.bind`` (``fields.py``: ``source``
defaults to the field name, ``source="*"`` is the whole instance, dots walk attributes) and
``RelatedField`` (``relations.py``: ``PrimaryKeyRelatedField`` and hyperlinks by primary key read
only the key, ``SlugRelatedField`` and ``StringRelatedField`` load the related row).
"""

from __future__ import annotations

import ast

from flake8_celery_django.knowledge.imports import ImportTable, dotted_name
from flake8_celery_django.project.facts import SerializerFact, SerializerFieldFact
from flake8_celery_django.project.knowledge import absolute_name

_DRF_SERIALIZERS = frozenset(
    {
        "rest_framework.serializers.Serializer",
        "rest_framework.serializers.ModelSerializer",
        "rest_framework.serializers.HyperlinkedModelSerializer",
    }
)
# Related fields that load the related row to render it.
_ROW_LOADING_FIELDS = frozenset({"SlugRelatedField", "StringRelatedField"})
_NOT_NESTED = frozenset({"ListSerializer", "BaseSerializer"})


def serializer_facts(tree: ast.Module, module: str, *, is_package: bool = False) -> tuple[SerializerFact, ...]:
    """The serializers a module defines at its top level (``is_package``: the module is an ``__init__``)."""
    imports = ImportTable()
    local: set[str] = set()
    found: list[SerializerFact] = []
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            imports.add(statement)
        elif isinstance(statement, ast.ClassDef):
            fact = serializer_fact(statement, imports, module, local, is_package=is_package)
            if fact is not None:
                found.append(fact)
                local.add(statement.name)
    return tuple(found)


def _qualified(
    node: ast.expr, imports: ImportTable, module: str | None, local: set[str], is_package: bool = False
) -> str | None:
    """The absolute name of a class named in ``module``: imported, or defined there."""
    dotted = dotted_name(node)
    if dotted is None:
        return None
    if dotted in local:
        return f"{module}.{dotted}" if module else dotted
    resolved = imports.resolve(node)
    if resolved is None:
        return dotted
    return absolute_name(resolved, module, is_package)


def is_serializer_class(node: ast.ClassDef, imports: ImportTable, local: set[str]) -> bool:
    for base in node.bases:
        resolved = imports.resolve(base)
        if resolved in _DRF_SERIALIZERS:
            return True
        name = dotted_name(base) or ""
        if name in local or (name.endswith("Serializer") and name.rpartition(".")[2] not in _NOT_NESTED):
            return True
    return False


def serializer_fact(
    node: ast.ClassDef, imports: ImportTable, module: str | None, local: set[str], *, is_package: bool = False
) -> SerializerFact | None:
    """The facts of one class, when it is a serializer; ``local`` names the module's serializers seen so far."""
    if not is_serializer_class(node, imports, local):
        return None
    model: str | None = None
    fields: list[SerializerFieldFact] = []
    for statement in node.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Meta":
            model = _meta_model(statement, imports, module, is_package)
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name) and isinstance(statement.value, ast.Call):
                field = _field(target.id, statement.value, imports, module, local, is_package)
                if field is not None:
                    fields.append(field)
    bases = tuple(
        name
        for name in (_qualified(base, imports, module, local, is_package) for base in node.bases)
        if name is not None and name not in _DRF_SERIALIZERS
    )
    qualified = f"{module}.{node.name}" if module else node.name
    return SerializerFact(qualified, model, bases, tuple(fields))


def _meta_model(meta: ast.ClassDef, imports: ImportTable, module: str | None, is_package: bool) -> str | None:
    for statement in meta.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name) and target.id == "model":
                return _qualified(statement.value, imports, module, set(), is_package)
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def _field(
    name: str, call: ast.Call, imports: ImportTable, module: str | None, local: set[str], is_package: bool
) -> SerializerFieldFact | None:
    source_node = _keyword(call, "source")
    if source_node is None:
        source = name
    elif isinstance(source_node, ast.Constant) and isinstance(source_node.value, str):
        source = source_node.value
    else:
        return None
    if source == "*" or not source:
        return None
    path = source.replace(".", "__")
    many = _keyword(call, "many")
    is_many = isinstance(many, ast.Constant) and many.value is True
    qualified = _qualified(call.func, imports, module, local, is_package) or ""
    field_class = qualified.rpartition(".")[2]
    if field_class.endswith("Serializer") and field_class not in _NOT_NESTED:
        return SerializerFieldFact(name, path, is_many, qualified)
    if "." in source or field_class in _ROW_LOADING_FIELDS:
        return SerializerFieldFact(name, path, is_many)
    return None
