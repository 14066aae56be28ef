"""Helpers for fix tests: a rewrite gives exactly the expected text, parses, and a second run is a no-op."""

from __future__ import annotations

import ast
import difflib
import textwrap

from flake8_celery_django.fixes import fix_source
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings


def fix(source: str, *, unsafe: bool = False, **options: object) -> str:
    options.setdefault("enabled", frozenset(RULES))
    settings = Settings(**options)  # type: ignore[arg-type]
    return fix_source(source, "example.py", settings, unsafe=unsafe).source


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
