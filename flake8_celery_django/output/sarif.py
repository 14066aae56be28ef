"""``sarif``: SARIF 2.1.0 with every rule's metadata, for GitHub code scanning and other SARIF readers."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from flake8_celery_django import __version__
from flake8_celery_django.output.common import TOOL, Shown, findings
from flake8_celery_django.registry import registered_rules
from flake8_celery_django.reports import FileReport, Reported, TextEdit, rule_url

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/flake8-celery-django/flake8-celery-django"


def artifact_uri(path: str) -> str:
    """A path relative to the current folder (the repository root in CI), else an absolute file URI."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_uri()


def rule_descriptors() -> list[dict[str, Any]]:
    return [
        {
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "help": {"text": f"{rule.summary}. See {rule_url(code)}"},
            "helpUri": rule_url(code),
            "defaultConfiguration": {"level": "error", "enabled": rule.default_enabled},
            "properties": {"tags": [f"fix: {rule.fix}"]},
        }
        for code, rule in sorted(registered_rules().items())
    ]


def _region(start_row: int, start_column: int, end_row: int, end_column: int) -> dict[str, int]:
    return {"startLine": start_row, "startColumn": start_column, "endLine": end_row, "endColumn": end_column}


def _replacement(edit: TextEdit) -> dict[str, Any]:
    return {
        "deletedRegion": _region(edit.start.row, edit.start.column, edit.end.row, edit.end.column),
        "insertedContent": {"text": edit.content},
    }


def result(path: str, finding: Reported) -> dict[str, Any]:
    uri = artifact_uri(path)
    item: dict[str, Any] = {
        "ruleId": finding.code or "SyntaxError",
        "level": "error",
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": _region(finding.start.row, finding.start.column, finding.end.row, finding.end.column),
                }
            }
        ],
    }
    if finding.fix is not None and finding.fix.edits:
        item["fixes"] = [
            {
                "description": {"text": finding.fix.message},
                "artifactChanges": [
                    {"artifactLocation": {"uri": uri}, "replacements": [_replacement(e) for e in finding.fix.edits]}
                ],
            }
        ]
    return item


def write(reports: Sequence[FileReport], out: TextIO, shown: Shown) -> None:
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL,
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rule_descriptors(),
                    }
                },
                "results": [result(report.path, finding) for report, finding in findings(reports)],
            }
        ],
    }
    json.dump(document, out, indent=2)
    out.write("\n")
