"""Run the checks on a tree or a source string: the one entry point that flake8 and ``fix`` share."""

from __future__ import annotations

import ast
import io
import sys
from collections.abc import Sequence
import warnings
from dataclasses import replace

from flake8_celery_django import rules as _rules  # noqa: F401  (registers every rule)
from flake8_celery_django.context import FileContext, Finding
from flake8_celery_django.project.index import project_for
from flake8_celery_django.project.knowledge import NO_PROJECT, ProjectKnowledge
from flake8_celery_django.registry import DispatchTables, build_dispatch
from flake8_celery_django.registry import registered_rules
from flake8_celery_django.rules.noqa_comments import UNUSED_NOQA, may_hold_cdj_noqa, unused_noqa
from flake8_celery_django.settings import Settings
from flake8_celery_django.walker import walk

_TABLES: dict[frozenset[str], DispatchTables] = {}


def dispatch_tables(enabled: frozenset[str]) -> DispatchTables:
    """Callback tables for a selection of codes, built once per selection (never per file)."""
    tables = _TABLES.get(enabled)
    if tables is None:
        tables = _TABLES[enabled] = build_dispatch(enabled)
    return tables


def every_rule() -> frozenset[str]:
    return frozenset(registered_rules())


def _walk_safely(tree: ast.Module, ctx: FileContext, enabled: frozenset[str], strict: bool) -> bool:
    """Walk with the detectors of ``enabled``; False (the error reported) when a detector failed."""
    try:
        walk(tree, ctx, dispatch_tables(enabled))
    except Exception as error:  # noqa: BLE001  (never abort the user's flake8 run)
        if strict:
            raise
        print(
            f"flake8-celery-django: internal error on {ctx.filename}: {type(error).__name__}: {error}; "
            "the file was skipped, please report it",
            file=sys.stderr,
        )
        return False
    return True


def check_tree(
    tree: ast.AST,
    filename: str = "<unknown>",
    settings: Settings | None = None,
    *,
    strict: bool = False,
    lines: Sequence[str] | None = None,
    buffer: bool = False,
    project: ProjectKnowledge | None = None,
    module: str | None = None,
) -> list[Finding]:
    """Findings for an already-parsed module, sorted by position.

    ``lines``, the file's physical lines, let CDJ900 judge its ``# noqa`` comments once the other
    rules' findings are known; without them CDJ900 reports nothing.

    With ``strict`` an internal error is raised; otherwise it is reported on standard error and
    the file is skipped, so that one odd file never stops a whole flake8 run.  ``buffer`` says the
    tree may differ from the file on disk (an editor's unsaved text): the project index then takes
    this file's facts from the tree.  ``project`` (with the file's ``module`` in it) is the project's
    knowledge when the caller already has it; otherwise the index is asked.
    """
    settings = settings or Settings()
    if not isinstance(tree, ast.Module) or not settings.enabled:
        return []
    try:
        if project is None:
            project, module = project_for(filename, settings, tree if buffer else None)
    except Exception as error:  # noqa: BLE001  (the index must never stop a run; the rules go on without it)
        if strict:
            raise
        print(f"flake8-celery-django: the project index failed on {filename}: {type(error).__name__}: {error}",
              file=sys.stderr)
        project, module = NO_PROJECT, None
    ctx = FileContext(tree, filename, settings, project, module, strict)
    if not _walk_safely(tree, ctx, settings.enabled, strict):
        return []
    findings = [finding for finding in ctx.findings if finding.code in settings.enabled]
    # CDJ900 judges a noqa code by whether its rule reports on that line, whichever rules are
    # selected: on the rare file that names CDJ codes in a noqa, every rule runs once more for it.
    source = "".join(lines) if lines is not None and UNUSED_NOQA.code in settings.enabled else ""
    if lines is not None and may_hold_cdj_noqa(source):
        judged = list(ctx.findings)
        every = every_rule()
        if settings.enabled != every:
            everything = FileContext(tree, filename, replace(settings, enabled=every), project, module, strict)
            if _walk_safely(tree, everything, every, strict):
                judged += everything.findings
        findings += unused_noqa(judged, lines, source)
    findings.sort()
    return findings


def check_source(
    source: str,
    filename: str = "<unknown>",
    settings: Settings | None = None,
    *,
    strict: bool = False,
    buffer: bool = False,
) -> list[Finding]:
    """Findings for Python source text (a file that does not parse has none)."""
    tree = parse_quietly(source, filename)
    if tree is None:
        return []
    return check_tree(
        tree, filename, settings, strict=strict, buffer=buffer, lines=io.StringIO(source, newline="").readlines()
    )


# What ``ast.parse`` raises on text that is not a module it can build (too deep nesting included).
PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)


def parse_quietly(source: str | bytes, filename: str = "<unknown>") -> ast.Module | None:
    """The tree of ``source``, or None when it does not parse; its warnings (bad escapes) are flake8's to report."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(source, filename)
        except PARSE_ERRORS:
            return None
