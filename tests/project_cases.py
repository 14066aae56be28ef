"""Findings for one file of a project whose index is built by hand from module facts."""

from __future__ import annotations

import ast
import textwrap

from flake8_celery_django.api import dispatch_tables
from flake8_celery_django.context import FileContext
from flake8_celery_django.project.knowledge import ProjectKnowledge
from flake8_celery_django.walker import walk
from tests.cases import all_codes_settings

Located = tuple[int, int, str]


def project_findings(source: str, module: str, project: ProjectKnowledge) -> list[Located]:
    """``(line, col, code)`` of every finding in ``source``, linted as ``module`` of ``project``."""
    settings = all_codes_settings()
    tree = ast.parse(textwrap.dedent(source))
    ctx = FileContext(tree, module.replace(".", "/") + ".py", settings, project, module)
    walk(tree, ctx, dispatch_tables(settings.enabled))
    return sorted((f.line, f.col, f.code) for f in ctx.findings if f.code in settings.enabled)
