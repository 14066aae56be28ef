"""The flake8 entry point ``CDJ``: checks the tree flake8 has parsed, with flake8's options."""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from collections.abc import Iterator
from typing import Any, ClassVar

from flake8_celery_django import __version__
from flake8_celery_django.api import check_tree
from flake8_celery_django.options import (
    check_flake8_config,
    flake8_invocation,
    from_flake8,
    register_flake8_options,
)
from flake8_celery_django.settings import Settings, SettingsError


class CeleryDjangoChecker:
    name = "flake8-celery-django"
    version = __version__

    settings: ClassVar[Settings] = Settings()
    # flake8 reads the file from standard input: its text may differ from the file on disk.
    reads_stdin: ClassVar[bool] = False

    def __init__(self, tree: ast.AST, filename: str = "<unknown>", lines: list[str] | None = None) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, manager: Any) -> None:
        register_flake8_options(manager)

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        try:
            files = flake8_invocation(sys.argv[1:])
            check_flake8_config(files)
            # [tool.flake8-celery-django] in pyproject.toml gives the cdj-* options flake8 leaves unset
            from flake8_celery_django.config import pyproject_table

            where, table = pyproject_table(Path.cwd(), files.isolated)
            cls.settings = from_flake8(options, table, where)
            cls.reads_stdin = "-" in (getattr(options, "filenames", None) or ())
        except SettingsError as error:
            print(f"flake8-celery-django: {error}", file=sys.stderr)
            raise SystemExit(2) from None

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        for finding in check_tree(
            self.tree, self.filename, self.settings, lines=self.lines, buffer=self.reads_stdin
        ):
            yield finding.line, finding.col, finding.message, type(self)
