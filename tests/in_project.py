"""Run the checks on one module of a project whose index facts the test writes by hand."""

from __future__ import annotations

import ast
import textwrap

from flake8_celery_django.api import dispatch_tables
from flake8_celery_django.context import FileContext
from flake8_celery_django.project.knowledge import ProjectKnowledge
from flake8_celery_django.walker import walk
from tests.cases import all_codes_settings

Finding = tuple[int, int, str, str]


def check_in_project(source: str, project: ProjectKnowledge, module: str, prefix: str = "CDJ") -> list[Finding]:
    """(line, column, code, message) of every finding of ``prefix`` for ``source`` as ``module``."""
    tree = ast.parse(textwrap.dedent(source))
    settings = all_codes_settings()
    ctx = FileContext(tree, module.replace(".", "/") + ".py", settings, project=project, module=module)
    walk(tree, ctx, dispatch_tables(settings.enabled))
    return [(f.line, f.col, f.code, f.message) for f in sorted(ctx.findings) if f.code.startswith(prefix)]
