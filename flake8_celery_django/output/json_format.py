"""``json``: ruff's JSON output (a list of diagnostics with ``code``, ``message``, ``filename``,
``location``, ``end_location``, ``fix``, ``url``, ``noqa_row``), so tools that read ruff's read this."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any, TextIO

from flake8_celery_django.output.common import Shown, findings
from flake8_celery_django.reports import FileReport, Position, Reported, rule_url


def _position(position: Position) -> dict[str, int]:
    return {"column": position.column, "row": position.row}


def diagnostic(path: str, finding: Reported) -> dict[str, Any]:
    fix = None
    if finding.fix is not None:
        fix = {
            "applicability": finding.fix.applicability,
            "edits": [
                {"content": edit.content, "end_location": _position(edit.end), "location": _position(edit.start)}
                for edit in finding.fix.edits
            ],
            "message": finding.fix.message,
        }
    return {
        "cell": None,
        "code": finding.code,
        "end_location": _position(finding.end),
        "filename": os.path.abspath(path),
        "fix": fix,
        "location": _position(finding.start),
        "message": finding.message,
        "noqa_row": finding.noqa_row,
        "url": rule_url(finding.code) if finding.code else None,
    }


def write(reports: Sequence[FileReport], out: TextIO, shown: Shown) -> None:
    json.dump([diagnostic(report.path, finding) for report, finding in findings(reports)], out, indent=2)
    out.write("\n")
