"""``github``: GitHub Actions workflow commands, one ``::error`` annotation per finding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from flake8_celery_django.output.common import TOOL, Shown, display_path, findings, headline
from flake8_celery_django.reports import FileReport


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def write(reports: Sequence[FileReport], out: TextIO, shown: Shown) -> None:
    for report, finding in findings(reports):
        title = f"{TOOL} ({finding.code})" if finding.code else f"{TOOL} (SyntaxError)"
        properties = ",".join(
            [
                f"title={escape_property(title)}",
                f"file={escape_property(display_path(report.path))}",
                f"line={finding.start.row}",
                f"col={finding.start.column}",
                f"endLine={finding.end.row}",
                f"endColumn={finding.end.column}",
            ]
        )
        out.write(f"::error {properties}::{escape_data(headline(report.path, finding, shown))}\n")
