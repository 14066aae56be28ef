"""Where a project starts, which of its files the index reads, and their dotted module names.

The root is the nearest ancestor of a file that holds a project marker (a ``setup.py`` or ``manage.py``
inside a package is one of its modules, not a marker); without one, the folder above
the file's outermost package.  Module names follow the ``__init__.py`` chain, so a ``src/`` folder
(or any folder that is not a package) is not part of them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from typing import NamedTuple

MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", "tox.ini", ".flake8", "manage.py", ".git")
# Folders never read: VCS folders, tool caches, build output, JavaScript dependencies.
SKIPPED_FOLDERS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "_darcs", ".tox", ".nox", ".mypy_cache", ".ruff_cache",
        ".pytest_cache", ".cdj_cache", "__pycache__", "node_modules", "site-packages", "build", "dist",
    }
)


class SourceFile(NamedTuple):
    """A Python file of the project, the module it defines, and what its cache entry is keyed by.

    (A named tuple: the listing of a large project makes thousands, on every run.)"""

    path: str
    module: str
    is_package: bool
    size: int
    mtime_ns: int


def find_root(filename: str) -> str:
    """The project root of ``filename`` (an absolute folder)."""
    return _root_of_folder(os.path.dirname(os.path.abspath(filename)))


@functools.lru_cache(maxsize=4096)
def _root_of_folder(folder: str) -> str:
    """Per folder, once per process: a flake8 run asks for every file it checks."""
    current = folder
    while True:
        if has_marker(current):
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
    package = _package_of_folder(folder)
    if stem == "__init__":
        return package, True
    return f"{package}.{stem}" if package else stem, False


@functools.lru_cache(maxsize=4096)
def _package_of_folder(folder: str) -> str:
    """The dotted package a folder is (``""`` when it is not a package), once per folder and process."""
    parts: list[str] = []
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, name = os.path.split(folder)
        if not name:
            break
        parts.append(name)
    return ".".join(reversed(parts))


# Folders that are not packages the walk goes through from a root with a marker or given by the
# user (``src/``, ``apps/``, ``<project>/src/``); from a root found without one, none.
MARKED_ROOT_FOLDER_DEPTH = 3


# Markers that are Python files: inside a package they are its modules (``app/views/setup.py``).
_MODULE_MARKERS = frozenset({"setup.py", "manage.py"})


def has_marker(folder: str) -> bool:
    package: bool | None = None
    for marker in MARKERS:
        if not os.path.exists(os.path.join(folder, marker)):
            continue
        if marker in _MODULE_MARKERS:
            if package is None:
                package = os.path.isfile(os.path.join(folder, "__init__.py"))
            if package:
                continue
        return True
    return False


def project_files(root: str, explicit: bool = True) -> Iterator[SourceFile]:
    """Every Python file under ``root`` the index reads, in a stable order, with its module name.

    ``explicit``: the root was given (an option), so it is walked as a root with a marker is.
    """
    yield from walk_project(root, explicit, [])


def walk_project(root: str, explicit: bool, folders: list[tuple[str, int]]) -> Iterator[SourceFile]:
    """:func:`project_files`, appending to ``folders`` the path and modification time of every folder
    whose entries decided which files are read: each folder listed, and each one looked into for an
    ``__init__.py`` and not walked.  Each time is taken before the folder is read."""
    root = os.path.abspath(root)
    try:
        stamp = os.stat(root).st_mtime_ns
    except OSError:
        return
    folders.append((root, stamp))
    # A root that is itself a package: its name starts every module name.
    is_package = os.path.isfile(os.path.join(root, "__init__.py"))
    depth = MARKED_ROOT_FOLDER_DEPTH if explicit or has_marker(root) else 0
    yield from _walk(root, (), os.path.basename(root) if is_package else None, depth, folders)


def _walk(
    folder: str, parent_prefix: tuple[str, ...], name: str | None, depth: int, folders: list[tuple[str, int]]
) -> Iterator[SourceFile]:
    try:
        with os.scandir(folder) as entries:
            listing = list(entries)
    except OSError:
        return
    names = [entry.name for entry in listing]
    if name is not None and "pyvenv.cfg" in names:
        return  # a virtualenv
    is_package = name is not None and "__init__.py" in names and name.isidentifier()
    listing.sort(key=lambda entry: entry.name)
    prefix = (*parent_prefix, name) if is_package and name is not None else ()
    candidates: list[os.DirEntry[str]] = []
    for entry in listing:
        entry_name = entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                # Inside a package only subpackages hold modules (``static/``, ``locale/`` and
                # ``templates/`` folders are not read).
                if entry_name not in SKIPPED_FOLDERS and not entry_name.startswith("."):
                    if not is_package or entry_name.isidentifier():
                        candidates.append(entry)
            elif entry_name.endswith(".py") and entry.is_file():
                stem = entry_name[:-3]
                if stem == "__init__" and not prefix or stem != "__init__" and not stem.isidentifier():
                    continue
                status = entry.stat()
                module = ".".join(prefix) if stem == "__init__" else ".".join((*prefix, stem))
                yield SourceFile(entry.path, module, stem == "__init__", status.st_size, status.st_mtime_ns)
        except OSError:
            continue
    for entry in candidates:
        try:
            stamp = os.stat(entry.path).st_mtime_ns
        except OSError:
            continue
        folders.append((entry.path, stamp))
        if not os.path.isfile(os.path.join(entry.path, "__init__.py")):
            if is_package or depth <= 0:
                continue
            yield from _walk(entry.path, prefix, entry.name, depth - 1, folders)
        else:
            yield from _walk(entry.path, prefix, entry.name, depth, folders)
