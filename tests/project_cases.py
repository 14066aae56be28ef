"""Check a snippet as a module of a project whose other modules are described by hand-made facts."""

from __future__ import annotations

import ast
import textwrap

from flake8_celery_django.api import dispatch_tables
from flake8_celery_django.context import FileContext
from flake8_celery_django.project.facts import ModuleFacts
from flake8_celery_django.project.knowledge import ProjectKnowledge
from flake8_celery_django.walker import walk
from tests.cases import all_codes_settings

Located = tuple[int, int, str]


def findings_in_project(source: str, code: str, module: str, facts: list[ModuleFacts]) -> list[Located]:
    """``(line, column, message)`` of ``code`` in ``source`` linted as ``module`` of the project."""
    tree = ast.parse(textwrap.dedent(source))
    settings = all_codes_settings()
    ctx = FileContext(tree, f"{module.replace('.', '/')}.py", settings, ProjectKnowledge(facts), module)
    walk(tree, ctx, dispatch_tables(settings.enabled))
    return sorted((f.line, f.col, f.message) for f in ctx.findings if f.code == code)


def project_findings(source: str, module: str, project: ProjectKnowledge) -> list[Located]:
    """``(line, column, code)`` of every finding in ``source``, linted as ``module`` of ``project``."""
    settings = all_codes_settings()
    tree = ast.parse(textwrap.dedent(source))
    ctx = FileContext(tree, module.replace(".", "/") + ".py", settings, project, module)
    walk(tree, ctx, dispatch_tables(settings.enabled))
    return sorted((f.line, f.col, f.code) for f in ctx.findings if f.code in settings.enabled)
