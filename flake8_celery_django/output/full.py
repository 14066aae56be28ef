"""``full``: each finding's line, then the source line with a caret under the reported code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from flake8_celery_django.checking import decode
from flake8_celery_django.fixable import physical_lines
from flake8_celery_django.output.common import Shown, headline
from flake8_celery_django.reports import FileReport, Reported


def _source_lines(path: str) -> list[str]:
    try:
        with open(path, "rb") as stream:
            return physical_lines(decode(stream.read()))
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
        return []


def excerpt(lines: list[str], finding: Reported) -> str:
    """The reported line with carets under the reported span (to the line's end when it goes on)."""
    row = finding.start.row
    if not 0 < row <= len(lines):
        return ""
    text = lines[row - 1].rstrip("\r\n").expandtabs(1)
    start = finding.start.column - 1
    end = finding.end.column - 1 if finding.end.row == row else len(text)
    width = max(1, min(end, len(text)) - start)
    gutter = str(row)
    return f"{gutter} | {text}\n{' ' * len(gutter)} | {' ' * start}{'^' * width}\n"


def write(reports: Sequence[FileReport], out: TextIO, shown: Shown) -> None:
    for report in reports:
        if not report.findings:
            continue
        lines = _source_lines(report.path)
        for finding in report.findings:
            out.write(headline(report.path, finding, shown) + "\n")
            out.write(excerpt(lines, finding))
            if shown.applicable(finding) and finding.fix is not None:
                out.write(f"  help: {finding.fix.message}\n")
            out.write("\n")
