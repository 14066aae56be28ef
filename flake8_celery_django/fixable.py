"""Which findings of a file ``fix`` would act on: the flake8 detection, without libcst.

``fix`` scans every file with this first; only a file with a fixable finding goes on to the
libcst engine (``flake8_celery_django.fixes``), so a clean tree costs about what the check costs.
Whether a rule has a fix, and of which class, is the rule's own ``fix`` field; whether this
finding's fix is correct where it stands was decided by its detector (``fix_conditions``) and
travels with the finding (``Finding.fix``: the plan, or ``NotFixable`` with the reason).
"""

from __future__ import annotations

import ast
import io
from dataclasses import dataclass, replace

from flake8_celery_django import noqa
from flake8_celery_django import rules as _rules  # noqa: F401  (declares every rule)
from flake8_celery_django.api import PARSE_ERRORS, check_tree
from flake8_celery_django.context import Finding
from flake8_celery_django.fix_plans import NotFixable
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
    project: ProjectKnowledge | None = None,
    module: str | None = None,
) -> list[Finding]:
    """Findings of ``tree`` for the codes ``settings`` enables that have a fix (of the ``keep`` codes
    when given) and that no ``# noqa`` silences.

    ``buffer``: the text came from standard input, so the project index takes this file's facts from it.
    ``project``/``module``: the project's knowledge and the file's module in it, when the caller has
    them (otherwise the index is asked, as the check asks it).
    """
    lines = physical_lines(source) if "CDJ" in source and noqa.mentions_noqa(source) else None
    wanted = keep if keep is not None else fixable_codes(unsafe=True)
    findings = [
        finding
        for finding in check_tree(
            tree, filename, settings, lines=lines, buffer=buffer, project=project, module=module
        )
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
class Refusal:
    """A finding left without a fix, and why (printed by ``fix``)."""

    finding: Finding
    reason: str


@dataclass(frozen=True, slots=True)
class Scan:
    """A file as ``fix`` first sees it: its tree and fixable findings, or why it was skipped.

    ``findings`` carry their fix plans (``Finding.fix``); ``refused`` are the findings of codes with
    a fix whose detector found the fix not correct where they stand.
    """

    tree: ast.Module | None
    findings: tuple[Finding, ...]
    skipped: str | None = None
    refused: tuple[Refusal, ...] = ()

    def only(self, codes: frozenset[str]) -> Scan:
        """This scan narrowed to ``codes``."""
        return Scan(
            self.tree,
            tuple(finding for finding in self.findings if finding.code in codes),
            self.skipped,
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


def sort_out(tree: ast.Module, findings: list[Finding]) -> Scan:
    """``findings`` split into those whose detector bound a fix plan and those it refused."""
    kept = tuple(finding for finding in findings if not isinstance(finding.fix, NotFixable))
    refused = tuple(
        Refusal(finding, finding.fix.reason) for finding in findings if isinstance(finding.fix, NotFixable)
    )
    return Scan(tree, kept, None, refused)


def scan(source: str, where: Where | str, settings: Settings) -> Scan:
    """Parse ``source`` and find what ``settings`` (already narrowed to fixable codes) would fix."""
    where = Where(where) if isinstance(where, str) else where
    if not settings.enabled:
        return Scan(None, ())
    try:
        tree = ast.parse(source, where.filename)
    except PARSE_ERRORS as error:
        return Scan(None, (), f"it does not parse: {error}")
    findings = fixable_findings(
        tree, source, where.filename, settings, buffer=where.buffer, project=where.project, module=where.module
    )
    return sort_out(tree, findings)


def remaining(source: str, filename: str, settings: Settings, codes: frozenset[str]) -> list[Finding]:
    """Findings of ``codes`` still in ``source`` (for the summary of fixes left to ask for)."""
    wanted = codes & settings.enabled
    if not wanted:
        return []
    return list(scan(source, filename, replace(settings, enabled=wanted)).findings)
