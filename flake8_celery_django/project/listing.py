"""The project's files as the last walk found them, and a cheap way to tell that they still are.

Adding, removing or renaming an entry changes its folder's modification time; editing a file does
not.  So a :class:`Listing` keeps the time of every folder whose entries decided which files are
read (see :func:`walk_project`): while none of those times has changed, the same files are read,
and each file's own ``stat`` (for edits) is all that is left to do, without listing folders,
sorting entries or looking for ``__init__.py`` files.  A folder changed shortly before the walk is
not trusted (file systems keep times at a coarse granularity: a kernel tick, or a second or two), so
a change right after the walk cannot leave it with the same time.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any, NamedTuple

from flake8_celery_django.project.root import SourceFile, walk_project

# A folder changed less than this before the walk that listed it is listed again next time.
RECENT_NS = 2_000_000_000
# The time recorded for such a folder: no folder has it, so it never matches.
UNTRUSTED = -1


class Listing(NamedTuple):
    """The files the index reads under ``root``, and the folders (with their times) that decided them."""

    root: str
    explicit: bool
    folders: tuple[tuple[str, int], ...]
    files: tuple[SourceFile, ...]
    # The fingerprint of ``files`` (see :func:`fingerprint`), computed once.
    key: str

    @property
    def packages(self) -> frozenset[str]:
        """The top-level packages of the project's modules."""
        return frozenset(source.module.partition(".")[0] for source in self.files if source.module)


def fingerprint(root: str, files: list[SourceFile] | tuple[SourceFile, ...], version: str) -> str:
    """A digest of every file's path, size and modification time, for one cache ``version``."""
    keys = "\0".join([version, root, *(f"{s.path}\0{s.size}\0{s.mtime_ns}" for s in files)])
    return hashlib.sha256(keys.encode("utf-8", "surrogateescape")).hexdigest()


def walk(root: str, explicit: bool, version: str) -> Listing:
    """Walk the project's folders (see :func:`walk_project`) and record what decided the files."""
    root = os.path.abspath(root)
    started = time.time_ns()
    stamps: list[tuple[str, int]] = []
    files = tuple(walk_project(root, explicit, stamps))
    folders = tuple((path, stamp if stamp < started - RECENT_NS else UNTRUSTED) for path, stamp in stamps)
    return Listing(root, explicit, folders, files, fingerprint(root, files, version))


def revalidated(listing: Listing, version: str) -> Listing | None:
    """``listing`` itself when nothing changed, a copy with the new sizes and times when only files
    were edited, or None when a folder changed (or a file is gone) and the project must be walked."""
    stat = os.stat
    try:
        for path, stamp in listing.folders:
            if stat(path).st_mtime_ns != stamp:
                return None
        changed: dict[int, SourceFile] = {}
        for position, source in enumerate(listing.files):
            status = stat(source.path)
            if status.st_mtime_ns != source.mtime_ns or status.st_size != source.size:
                changed[position] = source._replace(size=status.st_size, mtime_ns=status.st_mtime_ns)
    except OSError:
        return None
    if not changed:
        return listing
    files = tuple(changed.get(position, source) for position, source in enumerate(listing.files))
    return listing._replace(files=files, key=fingerprint(listing.root, files, version))


def current(root: str, explicit: bool, version: str, stored: Listing | None) -> Listing:
    """The listing of ``root`` now: ``stored`` checked again when there is one, else a new walk."""
    root = os.path.abspath(root)
    if stored is not None and stored.root == root and stored.explicit == explicit:
        found = revalidated(stored, version)
        if found is not None:
            return found
    return walk(root, explicit, version)


# -- JSON -----------------------------------------------------------------------------------------
def to_json(listing: Listing) -> dict[str, object]:
    """Files grouped under their folder, names only: ``[[folder, [name, module, is_package, size, mtime]...]]``."""
    by_folder: dict[str, list[list[object]]] = {}
    for source in listing.files:
        folder, name = os.path.split(source.path)
        by_folder.setdefault(folder, []).append([name, source.module, source.is_package, source.size, source.mtime_ns])
    return {
        "root": listing.root,
        "explicit": listing.explicit,
        "key": listing.key,
        "folders": [[path, stamp] for path, stamp in listing.folders],
        "files": [[folder, entries] for folder, entries in by_folder.items()],
    }


def _text(value: object) -> str:
    if type(value) is not str:
        raise ValueError("not a text")
    return value


def _count(value: object) -> int:
    if type(value) is not int or not UNTRUSTED <= value < 1 << 63:
        raise ValueError("not a size or a time")
    return value


def _list(value: object) -> list[Any]:
    if type(value) is not list:
        raise ValueError("not a list")
    return value


def _folder(value: object, root: str, inside: str) -> str:
    path = _text(value)
    if path != root and not (path.startswith(inside) and os.path.normpath(path) == path):
        raise ValueError("a folder outside the root")
    return path


def from_json(value: object) -> Listing:
    """What :func:`to_json` wrote; :class:`ValueError` for anything else (a file name with a
    separator, a folder outside the root)."""
    if type(value) is not dict:
        raise ValueError("not a listing")
    root = _text(value.get("root"))
    explicit = value.get("explicit")
    if type(explicit) is not bool:
        raise ValueError("not a flag")
    if not os.path.isabs(root) or os.path.normpath(root) != root:
        raise ValueError("not a root")
    inside = root.rstrip(os.sep) + os.sep
    folders = []
    for item in _list(value.get("folders")):
        path, stamp = _list(item)
        folders.append((_folder(path, root, inside), _count(stamp)))
    files = []
    separator, other_separator = os.sep, os.altsep or os.sep
    for item in _list(value.get("files")):
        folder, entries = _list(item)
        prefix = _folder(folder, root, inside).rstrip(os.sep) + os.sep
        for name, module, is_package, size, mtime_ns in _list(entries):
            # checked in line, without a call per value: a large project lists thousands of files
            if (
                type(name) is not str
                or type(module) is not str
                or type(is_package) is not bool
                or type(size) is not int
                or type(mtime_ns) is not int
                or not name.endswith(".py")
                or separator in name
                or other_separator in name
            ):
                raise ValueError("not a file of the listing")
            files.append(SourceFile(prefix + name, module, is_package, size, mtime_ns))
    return Listing(root, explicit, tuple(folders), tuple(files), _text(value.get("key")))
