"""Where a project starts, which of its files the index reads, and their dotted module names.

The root is the nearest ancestor of a file that holds a project marker; without one, the folder above
the file's outermost package.  Module names follow the ``__init__.py`` chain, so a ``src/`` folder
(or any folder that is not a package) is not part of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", "tox.ini", ".flake8", "manage.py", ".git")
# Folders never read: VCS folders, tool caches, build output, JavaScript dependencies.
SKIPPED_FOLDERS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "_darcs", ".tox", ".nox", ".mypy_cache", ".ruff_cache",
        ".pytest_cache", ".cdj_cache", "__pycache__", "node_modules", "site-packages", "build", "dist",
    }
)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A Python file of the project, the module it defines, and what its cache entry is keyed by."""

    path: str
    module: str
    is_package: bool
    size: int
    mtime_ns: int


def find_root(filename: str) -> str:
    """The project root of ``filename`` (an absolute folder)."""
    folder = os.path.dirname(os.path.abspath(filename))
    current = folder
    while True:
        if any(os.path.exists(os.path.join(current, marker)) for marker in MARKERS):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    # No marker: the folder above the outermost package.
    current = folder
    while os.path.isfile(os.path.join(current, "__init__.py")):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return current


def module_name(path: str) -> tuple[str, bool]:
    """The dotted module name of ``path`` from its ``__init__.py`` chain, and whether it is a package."""
    folder, base = os.path.split(os.path.abspath(path))
    stem = base[:-3] if base.endswith(".py") else base
    parts: list[str] = []
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, name = os.path.split(folder)
        if not name:
            break
        parts.append(name)
    parts.reverse()
    if stem == "__init__":
        return ".".join(parts), True
    return ".".join([*parts, stem]), False


def project_files(root: str) -> Iterator[SourceFile]:
    """Every Python file under ``root`` the index reads, in a stable order, with its module name."""
    root = os.path.abspath(root)
    # A root that is itself a package: its name starts every module name.
    is_package = os.path.isfile(os.path.join(root, "__init__.py"))
    yield from _walk(root, (), os.path.basename(root) if is_package else None)


def _walk(folder: str, parent_prefix: tuple[str, ...], name: str | None) -> Iterator[SourceFile]:
    try:
        with os.scandir(folder) as entries:
            listing = sorted(entries, key=lambda entry: entry.name)
    except OSError:
        return
    names = {entry.name for entry in listing}
    if name is not None and "pyvenv.cfg" in names:
        return  # a virtualenv
    is_package = name is not None and "__init__.py" in names and name.isidentifier()
    prefix = (*parent_prefix, name) if is_package and name is not None else ()
    folders: list[os.DirEntry[str]] = []
    for entry in listing:
        entry_name = entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                # Inside a package only subpackages hold modules (``static/``, ``locale/`` and
                # ``templates/`` folders are not read).
                if entry_name not in SKIPPED_FOLDERS and not entry_name.startswith("."):
                    if not is_package or entry_name.isidentifier():
                        folders.append(entry)
            elif entry_name.endswith(".py") and entry.is_file():
                stem = entry_name[:-3]
                if stem == "__init__" and not prefix or stem != "__init__" and not stem.isidentifier():
                    continue
                status = entry.stat()
                module = ".".join(prefix) if stem == "__init__" else ".".join((*prefix, stem))
                yield SourceFile(entry.path, module, stem == "__init__", status.st_size, status.st_mtime_ns)
        except OSError:
            continue
    for entry in folders:
        if is_package and not os.path.isfile(os.path.join(entry.path, "__init__.py")):
            continue
        yield from _walk(entry.path, prefix, entry.name)
