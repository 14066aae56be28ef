"""Which files ``check`` and ``fix`` look at: the Python files under the given paths, less the
folders no project wants linted (ruff's default excludes) and the configured ``exclude`` patterns.

A file named on the command line is looked at even when a pattern excludes it, unless
``force_exclude`` is set (pre-commit names every staged file, excluded or not).
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Iterable, Sequence

# ruff's default ``exclude``, and this tool's own cache.
DEFAULT_EXCLUDES = (
    ".bzr",
    ".cdj_cache",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
)


@functools.lru_cache(maxsize=64)
def _pattern(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regular expression for many shell patterns (``fnmatch`` one by one costs more than the walk)."""
    return re.compile("|".join(fnmatch.translate(os.path.normcase(pattern)) for pattern in patterns) or "(?!)")


def excluded(path: str, patterns: Sequence[str]) -> bool:
    """Whether ``path``'s name or its absolute path matches a pattern (flake8's rule for ``exclude``)."""
    compiled = _pattern(tuple(patterns))
    name = os.path.normcase(os.path.basename(os.path.normpath(path)))
    return compiled.match(name) is not None or compiled.match(os.path.normcase(os.path.abspath(path))) is not None


def discover(
    paths: Iterable[str],
    exclude: Sequence[str] = (),
    filename_patterns: Sequence[str] = ("*.py",),
    *,
    force_exclude: bool = False,
) -> list[str]:
    """The files to look at under ``paths``, sorted, each once."""
    patterns = (*DEFAULT_EXCLUDES, *exclude)
    found: set[str] = set()
    for path in paths:
        if force_exclude and _excluded_with_parents(path, patterns):
            continue
        if os.path.isdir(path):
            for root, folders, files in os.walk(path):
                folders[:] = sorted(folder for folder in folders if not excluded(os.path.join(root, folder), patterns))
                for name in files:
                    joined = os.path.join(root, name)
                    if _matches(name, filename_patterns) and not excluded(joined, patterns):
                        found.add(joined)
        else:
            found.add(path)
    return sorted(found)


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return _pattern(tuple(patterns)).match(os.path.normcase(name)) is not None


def _excluded_with_parents(path: str, patterns: Sequence[str]) -> bool:
    """Whether ``path`` or a folder above it (up to the current folder) is excluded."""
    current = os.path.normpath(path)
    while current and current not in (os.curdir, os.sep):
        if excluded(current, patterns):
            return True
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return False
