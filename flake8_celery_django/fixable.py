"""Which findings of a file ``fix`` would act on: the flake8 detection, without libcst.

``fix`` scans every file with this first; only a file with a fixable finding goes on to the
libcst engine (``flake8_celery_django.fixes``), so a clean tree costs about what the check costs.
Whether a rule has a fix, and of which class, is the rule's own ``fix`` field; whether this
finding's fix is correct where it stands is ``fix_conditions``' to say.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from flake8_celery_django import noqa
from flake8_celery_django import rules as _rules  # noqa: F401  (declares every rule)
from flake8_celery_django.api import PARSE_ERRORS, check_tree
from flake8_celery_django.context import Finding
from flake8_celery_django.fix_conditions import FileView, FixFacts, Refusal, conditions
from flake8_celery_django.project.index import project_for
from flake8_celery_django.project.knowledge import ProjectKnowledge
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings

__all__ = [
    "Refusal", "Scan", "Where", "detection_settings", "fixable_codes", "physical_lines", "scan", "sort_out",
    "fixable_findings", "remaining",
]


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
    tree: ast.Module,
    source: str,
    filename: str,
    settings: Settings,
    keep: frozenset[str] | None = None,
    buffer: bool = False,
) -> list[Finding]:
    """Findings of ``tree`` for the codes ``settings`` enables that have a fix (of the ``keep`` codes
    when given) and that no ``# noqa`` silences.

    ``buffer``: the text came from standard input, so the project index takes this file's facts from it.
    """
    lines = physical_lines(source) if "CDJ" in source and noqa.mentions_noqa(source) else None
    wanted = keep if keep is not None else fixable_codes(unsafe=True)
    findings = [
        finding
        for finding in check_tree(tree, filename, settings, lines=lines, buffer=buffer)
        if finding.code in wanted
    ]
    if not findings:
        return []
    lines = lines or physical_lines(source)
    if noqa.file_is_skipped(lines):
        return []
    mapping = noqa.noqa_lines(source, lines)
    return [f for f in findings if not noqa.silenced(f.code, mapping.get(f.line))]


@dataclass(frozen=True, slots=True)
class Scan:
    """A file as ``fix`` first sees it: its tree and fixable findings, or why it was skipped.

    ``facts`` holds what each fixable finding's fixer needs; ``refused`` the findings of codes
    with a fix whose fix would not be correct where they stand.
    """

    tree: ast.Module | None
    findings: tuple[Finding, ...]
    skipped: str | None = None
    facts: Mapping[Finding, FixFacts] = field(default_factory=dict)
    refused: tuple[Refusal, ...] = ()

    def only(self, codes: frozenset[str]) -> Scan:
        """This scan narrowed to ``codes``."""
        return Scan(
            self.tree,
            tuple(finding for finding in self.findings if finding.code in codes),
            self.skipped,
            self.facts,
            tuple(refusal for refusal in self.refused if refusal.finding.code in codes),
        )


@dataclass(frozen=True, slots=True)
class Where:
    """The file being fixed: its name, whether its text is an editor's buffer, and its project.

    ``project`` is the project index's knowledge; None asks the index (``project_for``), as the
    checks themselves do.
    """

    filename: str
    buffer: bool = False
    project: ProjectKnowledge | None = None
    module: str | None = None

    def knowledge(self, tree: ast.Module, settings: Settings) -> tuple[ProjectKnowledge, str | None]:
        if self.project is not None:
            return self.project, self.module
        return project_for(self.filename, settings, tree if self.buffer else None)


def sort_out(tree: ast.Module, source: str, findings: list[Finding], where: Where, settings: Settings) -> Scan:
    """``findings`` split into those whose fix is correct here (with their facts) and the refused."""
    if not findings:
        return Scan(tree, ())
    project, module = where.knowledge(tree, settings)
    view = FileView(tree, source, project, module)
    kept: list[Finding] = []
    facts: dict[Finding, FixFacts] = {}
    refused: list[Refusal] = []
    for finding in findings:
        try:
            decided = conditions(finding, view)
        except Exception as error:  # noqa: BLE001  (an internal error refuses the fix, never stops the run)
            decided = Refusal(finding, f"internal error in the fix conditions: {type(error).__name__}: {error}")
        if isinstance(decided, Refusal):
            refused.append(decided)
        else:
            kept.append(finding)
            facts[finding] = decided
    return Scan(tree, tuple(kept), None, facts, tuple(refused))


def scan(source: str, where: Where | str, settings: Settings) -> Scan:
    """Parse ``source`` and find what ``settings`` (already narrowed to fixable codes) would fix."""
    where = Where(where) if isinstance(where, str) else where
    if not settings.enabled:
        return Scan(None, ())
    try:
        tree = ast.parse(source, where.filename)
    except PARSE_ERRORS as error:
        return Scan(None, (), f"it does not parse: {error}")
    findings = fixable_findings(tree, source, where.filename, settings, buffer=where.buffer)
    return sort_out(tree, source, findings, where, settings)


def remaining(source: str, filename: str, settings: Settings, codes: frozenset[str]) -> list[Finding]:
    """Findings of ``codes`` still in ``source`` (for the summary of fixes left to ask for)."""
    wanted = codes & settings.enabled
    if not wanted:
        return []
    return list(scan(source, filename, replace(settings, enabled=wanted)).findings)
