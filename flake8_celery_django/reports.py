"""What ``check`` reports about one file, as plain records that every output format reads.

Positions are 1-based rows and columns counted in characters (as ruff counts them), end positions
exclusive.  The records turn into JSON and back without loss, for the results cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DOCS_URL = "https://github.com/flake8-celery-django/flake8-celery-django/blob/main/docs/rules/{code}.md"


def rule_url(code: str) -> str:
    return DOCS_URL.format(code=code)


@dataclass(frozen=True, slots=True)
class Position:
    row: int
    column: int


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace the text from ``start`` to ``end`` with ``content``."""

    content: str
    start: Position
    end: Position


@dataclass(frozen=True, slots=True)
class SuggestedFix:
    applicability: str  # "safe" or "unsafe", as the rule's fix field says
    message: str
    edits: tuple[TextEdit, ...] = ()


@dataclass(frozen=True, slots=True)
class Reported:
    """One finding as ``check`` shows it (``code`` is None for a file that does not parse)."""

    code: str | None
    message: str
    start: Position
    end: Position
    noqa_row: int
    fix: SuggestedFix | None = None


@dataclass(frozen=True, slots=True)
class FileReport:
    path: str
    findings: tuple[Reported, ...] = ()
    # The file could not be read or parsed: that failure is its one finding (code None), and the run fails.
    failed: bool = False


def _position(data: Mapping[str, Any]) -> Position:
    return Position(int(data["row"]), int(data["column"]))


def _position_json(position: Position) -> dict[str, int]:
    return {"column": position.column, "row": position.row}


def to_json(report: FileReport) -> dict[str, Any]:
    return {
        "path": report.path,
        "failed": report.failed,
        "findings": [
            {
                "code": item.code,
                "message": item.message,
                "location": _position_json(item.start),
                "end_location": _position_json(item.end),
                "noqa_row": item.noqa_row,
                "fix": None
                if item.fix is None
                else {
                    "applicability": item.fix.applicability,
                    "message": item.fix.message,
                    "edits": [
                        {
                            "content": edit.content,
                            "location": _position_json(edit.start),
                            "end_location": _position_json(edit.end),
                        }
                        for edit in item.fix.edits
                    ],
                },
            }
            for item in report.findings
        ],
    }


def from_json(data: Mapping[str, Any]) -> FileReport:
    """The report stored by :func:`to_json`; raises KeyError, TypeError or ValueError on anything else."""
    findings = []
    for item in data["findings"]:
        fix = item["fix"]
        suggested = None
        if fix is not None:
            edits = tuple(
                TextEdit(str(edit["content"]), _position(edit["location"]), _position(edit["end_location"]))
                for edit in fix["edits"]
            )
            suggested = SuggestedFix(str(fix["applicability"]), str(fix["message"]), edits)
        code = item["code"]
        if code is not None and not isinstance(code, str):
            raise TypeError("code")
        findings.append(
            Reported(
                code,
                str(item["message"]),
                _position(item["location"]),
                _position(item["end_location"]),
                int(item["noqa_row"]),
                suggested,
            )
        )
    if not isinstance(data["path"], str) or not isinstance(data["failed"], bool):
        raise TypeError("path")
    return FileReport(data["path"], tuple(findings), data["failed"])
