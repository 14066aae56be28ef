"""The project's own definitions that a file names: tasks, task bases and models from the index.

The index spells names as absolute dotted paths from the project root (``shop.models.Order``).  A
name the file imports is resolved through the import (relative imports from the file's module); a
name it does not import may be a definition of this module, and then only an exact match counts
(``task`` in ``task = pick(); task.delay()`` is not the project's only task called ``task``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Protocol, TypeVar

from flake8_celery_django.context import FileContext
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.project.facts import ModelFact, SessionFact, TaskBaseFact, TaskFact
from flake8_celery_django.project.knowledge import absolute_name


def _imported_name(node: ast.expr, ctx: FileContext) -> str | None:
    qualified = ctx.qualified_name(node)
    if qualified is None:
        return None
    return absolute_name(qualified, ctx.module, ctx.filename.endswith("__init__.py"))


def _module_name(node: ast.expr, ctx: FileContext) -> str | None:
    """``mod.task`` for ``task`` when the file does not import it (a definition of this module)."""
    if ctx.module is None:
        return None
    dotted = dotted_name(node)
    if dotted is None:
        return None
    root = dotted.partition(".")[0]
    if root in ctx.imports.names or any(root in scope.parameters for scope in ctx.function_scopes()):
        return None
    return f"{ctx.module}.{dotted}"


class _Named(Protocol):
    @property
    def qualified_name(self) -> str: ...


NamedT = TypeVar("NamedT", bound=_Named)


def _find(
    node: ast.expr, ctx: FileContext, find: Callable[[str], NamedT | None], may_be: Callable[[str], bool]
) -> NamedT | None:
    """What ``find`` says of the name ``node`` stands for: imported, else (exactly) of this module.

    ``may_be`` says whether a fact's name can end with a given component: most names a file uses
    name no project fact, and are let go before they are resolved."""
    if not ctx.project.enabled:
        return None
    qualified = ctx.qualified_name(node)
    if qualified is not None:
        # (making the name absolute keeps its last component)
        if not may_be(qualified.rpartition(".")[2]):
            return None
        return find(absolute_name(qualified, ctx.module, ctx.filename.endswith("__init__.py")))
    if isinstance(node, ast.Attribute):
        last = node.attr
    elif isinstance(node, ast.Name):
        last = node.id
    else:
        return None
    if not may_be(last):
        return None
    local = _module_name(node, ctx)
    found = find(local) if local is not None else None
    return found if found is not None and found.qualified_name == local else None


def project_task(node: ast.expr, ctx: FileContext) -> TaskFact | None:
    """The project task ``node`` names (``send_receipt``, ``tasks.send_receipt``), if the index has it."""
    return _find(node, ctx, ctx.project.task, ctx.project.may_be_task)


def project_task_base(node: ast.expr, ctx: FileContext) -> TaskBaseFact | None:
    """The project's ``Task`` subclass ``node`` names, if the index has it."""
    return _find(node, ctx, ctx.project.task_base, ctx.project.may_be_task_base)


def is_project_task_decorator(node: ast.expr, ctx: FileContext) -> bool:
    """``@project_task`` or ``@project_task(...)``: a project function that applies a Celery task decorator."""
    project = ctx.project
    if not project.enabled or not project.task_decorators:
        return False
    target = node.func if isinstance(node, ast.Call) else node
    name = _imported_name(target, ctx) or _module_name(target, ctx)
    return name is not None and project.is_task_decorator(name)


def project_model(node: ast.expr, ctx: FileContext) -> ModelFact | None:
    """The project model class ``node`` names (``Order``, ``models.Order``), if the index has it."""
    return _find(node, ctx, ctx.project.model, ctx.project.may_be_model)


def project_session(node: ast.expr, ctx: FileContext) -> SessionFact | None:
    """The project's session factory or ``Session`` subclass ``node`` names, if the index has it."""
    return _find(node, ctx, ctx.project.session, ctx.project.may_be_session)
