"""``concise`` (the default): one line per finding, ``path:row:col: CODE [*] message``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from flake8_celery_django.output.common import Shown, findings, headline
from flake8_celery_django.reports import FileReport


def write(reports: Sequence[FileReport], out: TextIO, shown: Shown) -> None:
    for report, finding in findings(reports):
        out.write(headline(report.path, finding, shown) + "\n")
