"""Names as the project index knows them: absolute dotted names from the project root."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.project.knowledge import absolute_name

if TYPE_CHECKING:
    from flake8_celery_django.context import FileContext


def project_name(node: ast.expr, ctx: FileContext) -> str | None:
    """The absolute dotted name ``node`` stands for: imported (relative imports resolved), or of this module."""
    if not ctx.project.enabled:
        return None
    qualified = ctx.qualified_name(node)
    if qualified is not None:
        return absolute_name(qualified, ctx.module, ctx.filename.endswith("__init__.py"))
    name = dotted_name(node)
    if name is None or ctx.module is None:
        return None
    return f"{ctx.module}.{name}"
