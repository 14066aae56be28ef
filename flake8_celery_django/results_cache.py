"""The results of ``check`` kept between runs, keyed by file content, settings, version and project.

A file's findings also depend on the rest of its project (the project index), so an entry holds
the index's fingerprint of the project's files, and any change to them invalidates it.

One JSON file per version and settings fingerprint under the cache folder (``.cdj_cache/`` by
default, beside the project index): data only, never pickle.  An entry is used when the file's size
and modification time are unchanged, or else when its content hashes the same.  Anything that does
not read back as what was written (a truncated file, another tool's JSON) is an empty cache.  The
folder is marked as a cache (``CACHEDIR.TAG``) and ignored by git (a ``.gitignore`` of ``*``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flake8_celery_django import __version__
from flake8_celery_django.reports import FileReport, from_json, to_json

DEFAULT_FOLDER = ".cdj_cache"
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by flake8-celery-django.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Stamp:
    """What identifies one version of a file: size and modification time, and the content's hash."""

    size: int
    mtime_ns: int
    sha256: str


@dataclass(slots=True)
class ResultsCache:
    """Reports by path for one version and one settings fingerprint."""

    file: Path
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def open(cls, folder: Path, fingerprint: str) -> ResultsCache:
        name = digest(f"{__version__}\n{fingerprint}".encode())[:20]
        cache = cls(folder / "results" / f"{name}.json")
        try:
            data = json.loads(cache.file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return cache
        if isinstance(data, dict) and data.get("version") == __version__ and isinstance(data.get("files"), dict):
            cache.entries = data["files"]
        return cache

    def get(
        self, path: str, stat: os.stat_result, project: str, read: bytes | None = None
    ) -> FileReport | None:
        """The stored report of ``path`` if the file is unchanged (by stat, else by ``read``'s hash) and
        so is the ``project`` it was checked with (the project index's fingerprint)."""
        entry = self.entries.get(path)
        if not isinstance(entry, dict) or entry.get("project") != project:
            return None
        same_stat = entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns
        if not same_stat and (read is None or entry.get("sha256") != digest(read)):
            return None
        try:
            report = from_json(entry["report"])
        except (KeyError, TypeError, ValueError):
            return None
        return report if report.path == path else None

    def put(self, report: FileReport, stamp: Stamp, project: str) -> None:
        self.entries[report.path] = {
            "project": project,
            "size": stamp.size,
            "mtime_ns": stamp.mtime_ns,
            "sha256": stamp.sha256,
            "report": to_json(report),
        }
        self.changed = True

    def save(self) -> None:
        """Write the cache atomically; a folder that cannot be written only costs the next run time."""
        if not self.changed:
            return
        folder = self.file.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            root = folder.parent
            if not (root / "CACHEDIR.TAG").exists():
                (root / "CACHEDIR.TAG").write_text(CACHEDIR_TAG, encoding="utf-8")
            if not (root / ".gitignore").exists():
                (root / ".gitignore").write_text("# Automatically created by flake8-celery-django.\n*\n")
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".results.", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump({"version": __version__, "files": self.entries}, stream, separators=(",", ":"))
            os.replace(temporary, self.file)
        except OSError:
            return
