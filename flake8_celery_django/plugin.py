"""The flake8 entry point ``CDJ``: checks the tree flake8 has parsed, with flake8's options."""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from typing import Any, ClassVar

from flake8_celery_django import __version__
from flake8_celery_django.api import check_tree
from flake8_celery_django.settings import Settings, SettingsError, from_flake8, register_flake8_options


class CeleryDjangoChecker:
    name = "flake8-celery-django"
    version = __version__

    settings: ClassVar[Settings] = Settings()
    # flake8 reads the file from standard input: its text may differ from the file on disk.
    reads_stdin: ClassVar[bool] = False

    def __init__(self, tree: ast.AST, filename: str = "<unknown>") -> None:
        self.tree = tree
        self.filename = filename

    @classmethod
    def add_options(cls, manager: Any) -> None:
        register_flake8_options(manager)

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        try:
            cls.settings = from_flake8(options)
            cls.reads_stdin = "-" in (getattr(options, "filenames", None) or ())
        except SettingsError as error:
            print(f"flake8-celery-django: {error}", file=sys.stderr)
            raise SystemExit(2) from None

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        for finding in check_tree(self.tree, self.filename, self.settings, buffer=self.reads_stdin):
            yield finding.line, finding.col, finding.message, type(self)
