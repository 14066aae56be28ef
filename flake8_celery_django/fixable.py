"""Which findings of a file ``fix`` would act on: the flake8 detection, without libcst.

``fix`` scans every file with this first; only a file with a fixable finding goes on to the
libcst engine (``flake8_celery_django.fixes``), so a clean tree costs about what the check costs.
Whether a rule has a fix, and of which class, is the rule's own ``fix`` field.
"""

from __future__ import annotations

import ast
import io
from dataclasses import dataclass, replace

from flake8_celery_django import noqa
from flake8_celery_django import rules as _rules  # noqa: F401  (declares every rule)
from flake8_celery_django.api import PARSE_ERRORS, check_tree
from flake8_celery_django.context import Finding
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings


def fixable_codes(unsafe: bool) -> frozenset[str]:
    """Codes whose fix runs: the safe ones, and the unsafe ones too when asked for."""
    allowed = ("safe", "unsafe") if unsafe else ("safe",)
    return frozenset(code for code, rule in RULES.items() if rule.fix in allowed)


def detection_settings(settings: Settings, unsafe: bool) -> Settings:
    """The settings for detection within ``fix``: only the enabled codes that have a fix."""
    return replace(settings, enabled=settings.enabled & fixable_codes(unsafe))


def physical_lines(source: str) -> list[str]:
    """Lines as Python's tokenizer counts them (``\\n``, ``\\r\\n`` or ``\\r``), ends kept."""
    return io.StringIO(source, newline="").readlines()


def fixable_findings(
    tree: ast.Module, source: str, filename: str, settings: Settings, buffer: bool = False
) -> list[Finding]:
    """Findings of ``tree`` for the codes ``settings`` enables that no ``# noqa`` silences.

    ``buffer``: the text came from standard input, so the project index takes this file's facts from it.
    """
    findings = check_tree(tree, filename, settings, buffer=buffer)
    if not findings:
        return []
    lines = physical_lines(source)
    if noqa.file_is_skipped(lines):
        return []
    mapping = noqa.noqa_lines(source, lines)
    return [f for f in findings if not noqa.silenced(f.code, mapping.get(f.line))]


@dataclass(frozen=True, slots=True)
class Scan:
    """A file as ``fix`` first sees it: its tree and fixable findings, or why it was skipped."""

    tree: ast.Module | None
    findings: tuple[Finding, ...]
    skipped: str | None = None


def scan(source: str, filename: str, settings: Settings, buffer: bool = False) -> Scan:
    """Parse ``source`` and find what ``settings`` (already narrowed to fixable codes) would fix."""
    if not settings.enabled:
        return Scan(None, ())
    try:
        tree = ast.parse(source, filename)
    except PARSE_ERRORS as error:
        return Scan(None, (), f"it does not parse: {error}")
    return Scan(tree, tuple(fixable_findings(tree, source, filename, settings, buffer)))


def remaining(source: str, filename: str, settings: Settings, codes: frozenset[str]) -> list[Finding]:
    """Findings of ``codes`` still in ``source`` (for the summary of fixes left to ask for)."""
    wanted = codes & settings.enabled
    if not wanted:
        return []
    return list(scan(source, filename, replace(settings, enabled=wanted)).findings)
