"""Helpers for fix tests: a rewrite gives exactly the expected text, parses, and a second run is a no-op."""

from __future__ import annotations

import ast
import difflib
import textwrap

from flake8_celery_django.api import check_source
from flake8_celery_django.context import Finding
from flake8_celery_django.fix_conditions import CodeView, bulk_create, send_on_commit
from flake8_celery_django.fix_plans import FixPlan, NotFixable
from flake8_celery_django.fixes import fix_source
from flake8_celery_django.fixes.engine import apply_findings
from flake8_celery_django.fixes.registry import ALL_FIXERS, DEFAULT_LINE_LENGTH
from flake8_celery_django.knowledge.imports import ImportTable
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings


def fix(source: str, *, unsafe: bool = False, line_length: int = DEFAULT_LINE_LENGTH, **options: object) -> str:
    options.setdefault("enabled", frozenset(RULES))
    settings = Settings(**options)  # type: ignore[arg-type]
    return fix_source(source, "example.py", settings, unsafe=unsafe, line_length=line_length).source


def check_transformed(before: str, after: str, *, unsafe: bool = False, **options: object) -> None:
    """``before`` becomes exactly ``after``, which parses and which a second run leaves alone."""
    before, after = textwrap.dedent(before), textwrap.dedent(after)
    assert before != after, "a transformation case changes something"
    fixed = fix(before, unsafe=unsafe, **options)
    difference = difflib.unified_diff(after.splitlines(True), fixed.splitlines(True), "expected", "fixed")
    assert fixed == after, "".join(difference)
    ast.parse(fixed)
    assert fix(fixed, unsafe=unsafe, **options) == fixed, "a second run changes nothing"


def check_noop(source: str, *, unsafe: bool = True, **options: object) -> None:
    """Already-correct (or deliberately unfixed) code is left byte for byte."""
    source = textwrap.dedent(source)
    assert fix(source, unsafe=unsafe, **options) == source


def _detected_plans(source: str, code: str, **options: object) -> dict[tuple[int, int], FixPlan | NotFixable | None]:
    """The plans detection binds to the findings of ``code`` (or of a code with the same fixer), by position."""
    fixer = ALL_FIXERS[code].function
    sharing = {other for other, registered in ALL_FIXERS.items() if registered.function is fixer}
    settings = Settings(enabled=frozenset(RULES), **options)  # type: ignore[arg-type]
    return {
        (finding.line, finding.col): finding.fix
        for finding in check_source(source, "example.py", settings, strict=True)
        if finding.code in sharing
    }


def _undetected_plan(code: str, node: ast.AST, tree: ast.Module) -> FixPlan | NotFixable | None:
    """The plan a send or create fix gets from its conditions at ``node``, where detection reports nothing."""
    imports = ImportTable()
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            imports.add(statement)
    view = CodeView(tree, imports)
    if code in ("CDJ501", "CDJ502", "CDJ503", "CDJ506") and isinstance(node, ast.Call):
        return send_on_commit(node, ast.unparse(node.func), view)
    if code == "CDJ401" and isinstance(node, ast.Call):
        return bulk_create(node, view)
    return None


def fix_at(
    code: str,
    source: str,
    node_type: type[ast.AST],
    *positions: tuple[int, int],
    line_length: int = DEFAULT_LINE_LENGTH,
    **options: object,
) -> str:
    """Apply ``code``'s fixer to the nodes of ``node_type`` starting at ``positions``, as if detected there.

    Lets a fixer be tested on the finding shape its rule reports, without running the rule itself.
    Each finding carries the plan detection binds at that position (``Finding.fix``: of ``code``, or
    of a code that shares its fixer, as CDJ501-CDJ503 do); where nothing is detected there, a send or
    a create gets the plan its fix conditions give, and any other finding none.
    """
    tree = ast.parse(source)
    plans = _detected_plans(source, code, **options)
    findings = []
    for line, col in positions:
        nodes = [
            node
            for node in ast.walk(tree)
            if isinstance(node, node_type)
            and (getattr(node, "lineno", 0), getattr(node, "col_offset", 0)) == (line, col)
        ]
        assert nodes, f"no {node_type.__name__} at {line}:{col}"
        node = nodes[0]  # ast.walk is breadth-first: the outermost node
        plan = plans[(line, col)] if (line, col) in plans else _undetected_plan(code, node, tree)
        findings.append(Finding(line, col, code, "", node.end_lineno or 0, node.end_col_offset or 0, plan))
    settings = Settings(enabled=frozenset(RULES) | {code}, **options)  # type: ignore[arg-type]
    fixed, _ = apply_findings(source, findings, settings, tree, ALL_FIXERS, line_length=line_length)
    return fixed


def check_fix_at(
    code: str, node_type: type[ast.AST], before: str, positions: list[tuple[int, int]], after: str, **options: object
) -> None:
    """``before`` becomes ``after`` when ``code`` is reported at ``positions``.

    Once the rule exists, detection must report exactly there, and the whole ``fix`` must give
    the same result and be idempotent.
    """
    before, after = textwrap.dedent(before), textwrap.dedent(after)
    fixed = fix_at(code, before, node_type, *positions, **options)
    difference = difflib.unified_diff(after.splitlines(True), fixed.splitlines(True), "expected", "fixed")
    assert fixed == after, "".join(difference)
    ast.parse(fixed)
    if code in RULES:
        settings = Settings(enabled=frozenset(RULES), **options)  # type: ignore[arg-type]
        findings = check_source(before, "example.py", settings, strict=True)
        reported = [(f.line, f.col) for f in findings if f.code == code]
        assert reported == positions
        check_transformed(before, after, unsafe=True, **options)
