"""Django REST framework serializers that the checked file defines, and serializers by name.

The :data:`SERIALIZERS` provider records each top-level serializer class as the project index would
(:func:`flake8_celery_django.project.serializers.serializer_fact`), so that a view and its
serializer in one file are known without the index; serializers of other modules come from it.
"""

from __future__ import annotations

import ast

from flake8_celery_django.context import FileContext
from flake8_celery_django.project.facts import SerializerFact
from flake8_celery_django.project.knowledge import absolute_name
from flake8_celery_django.project.serializers import serializer_fact
from flake8_celery_django.registry import provider, provides

SERIALIZERS = provider("serializers")


class FileSerializers:
    """Per file: serializer facts by class name."""

    by_name: dict[str, SerializerFact]

    __slots__ = ("by_name",)

    def __init__(self) -> None:
        self.by_name = {}


@provides(SERIALIZERS, ast.ClassDef)
def record_serializer_class(node: ast.ClassDef, ctx: FileContext) -> None:
    """A top-level serializer class becomes a :class:`SerializerFact`."""
    if ctx.scope is not ctx.module_scope:
        return
    table = ctx.state(FileSerializers).by_name
    fact = serializer_fact(node, ctx.imports, ctx.module, set(table))
    if fact is not None:
        table[node.name] = fact


def serializer_named(name: str, ctx: FileContext) -> SerializerFact | None:
    """The serializer a name of this file (``OrderSerializer``, ``api.OrderSerializer``) or a qualified name is."""
    table = ctx.state(FileSerializers).by_name
    last = name.rpartition(".")[2]
    local = table.get(name)
    if local is not None:
        return local
    if ctx.module is not None and name == f"{ctx.module}.{last}" and last in table:
        return table[last]
    if not ctx.project.enabled:
        return None
    root = name.partition(".")[0]
    imported = ctx.imports.names.get(root)
    if imported is not None:
        found = ctx.project.serializer(absolute_name(imported + name[len(root):], ctx.module))
        if found is not None:
            return found
    return ctx.project.serializer(name)
