"""The output formats of ``check``: one module each, all reading the same reports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TextIO

from flake8_celery_django.output import concise, full, github, json_format, sarif
from flake8_celery_django.output.common import Shown
from flake8_celery_django.reports import FileReport

Writer = Callable[[Sequence[FileReport], TextIO, Shown], None]

FORMATS: dict[str, Writer] = {
    "concise": concise.write,
    "full": full.write,
    "json": json_format.write,
    "sarif": sarif.write,
    "github": github.write,
}
# Formats whose readers apply fixes themselves, so each fix carries its edits.
WITH_EDITS = frozenset({"json", "sarif"})

__all__ = ["FORMATS", "WITH_EDITS", "Shown", "Writer"]
