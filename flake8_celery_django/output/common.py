"""What every output format shares: which fixes count as applicable, and the order of findings."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from flake8_celery_django.reports import FileReport, Reported

TOOL = "flake8-celery-django"


@dataclass(frozen=True, slots=True)
class Shown:
    """How a run shows its findings."""

    unsafe_fixes: bool = False

    def applicable(self, finding: Reported) -> bool:
        """Whether ``fix`` (with the run's ``--unsafe-fixes``) would apply this finding's fix: ruff's ``[*]``."""
        if finding.fix is None:
            return False
        return finding.fix.applicability == "safe" or self.unsafe_fixes


def findings(reports: Sequence[FileReport]) -> Iterator[tuple[FileReport, Reported]]:
    for report in reports:
        for finding in report.findings:
            yield report, finding


def display_path(path: str) -> str:
    return os.path.normpath(path)


def headline(path: str, finding: Reported, shown: Shown) -> str:
    """``path:row:col: CODE [*] message``: flake8's line, with ruff's mark on an applicable fix."""
    mark = "[*] " if shown.applicable(finding) else ""
    code = f"{finding.code} " if finding.code else ""
    return f"{display_path(path)}:{finding.start.row}:{finding.start.column}: {code}{mark}{finding.message}"
