"""The index's cache: facts (never trees) as JSON under ``<root>/.cdj_cache/``.

Per project root: ``listing-<key>.json`` holds the files the last walk found and the times of the
folders that decided them (:mod:`.listing`), ``files-<key>.json`` each file's facts keyed by path,
size and modification time, ``project-<key>.json`` the merged facts with a fingerprint of every
key and ``calls-<key>.jsonl`` the call sites, in groups read one at a time (:mod:`.stored_calls`),
so that an unchanged project is read back after only ``stat`` calls.  Files are written to a temporary
file in the same folder and moved into place; builders take a lock so that flake8's parallel workers
build once.  Any problem (a read-only tree, a corrupt or crafted file) leaves the index in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from flake8_celery_django import __version__
from flake8_celery_django.project.facts import ModuleFacts
from flake8_celery_django.project.listing import Listing
from flake8_celery_django.project.listing import from_json as listing_from_json
from flake8_celery_django.project.listing import to_json as listing_to_json
from flake8_celery_django.project.serialize import facts_from_json, facts_to_json
from flake8_celery_django.project.stored_calls import StoredCalls, calls_text


def extraction_digest(folder: str) -> str:
    """A digest of the index's own code (the modules in ``folder``, this package): any change to what
    extraction gives or how facts are written makes a new format, so a cache written by other code is
    never read."""
    digest = hashlib.blake2b(digest_size=8)
    try:
        names = sorted(name for name in os.listdir(folder) if name.endswith(".py"))
        for name in names:
            with open(os.path.join(folder, name), "rb") as stream:
                digest.update(name.encode() + b"\0" + stream.read())
    except OSError:
        return "unreadable"
    return digest.hexdigest()


# The number changes whenever extraction gives different facts for the same source; the digest
# changes with every change to the code of the index.
FORMAT = f"flake8-celery-django {__version__} index 5 {extraction_digest(os.path.dirname(os.path.abspath(__file__)))}"
FOLDER = ".cdj_cache"
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by flake8-celery-django.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
# A cache file larger than this is not one the index wrote for any real project.
MAX_BYTES = 512 * 1024 * 1024

try:
    import fcntl
except ImportError:  # pragma: no cover  (Windows: the last writer wins, with valid content)
    fcntl = None  # type: ignore[assignment]


class StoredProject(NamedTuple):
    """The merged facts as the cache keeps them."""

    modules: list[str]
    facts: list[ModuleFacts]
    # (qualified name, stored value) of every model, decoded on first use (``serialize.model_from_json``).
    models: list[tuple[str, object]]


class FileEntry(NamedTuple):
    """One file's facts and what they were read from."""

    size: int
    mtime_ns: int
    module: str
    is_package: bool
    facts: ModuleFacts


def _count(value: object) -> int:
    if type(value) is not int or not 0 <= value < 1 << 63:
        raise ValueError("not a size or a time")
    return value


class FactsCache:
    """The cache files of one project root in one folder."""

    def __init__(self, folder: str, root: str) -> None:
        self.folder = folder
        key = hashlib.sha256(os.path.abspath(root).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        self.files_path = os.path.join(folder, f"files-{key}.json")
        self.project_path = os.path.join(folder, f"project-{key}.json")
        self.calls_path = os.path.join(folder, f"calls-{key}.jsonl")
        self.listing_path = os.path.join(folder, f"listing-{key}.json")
        self.writable = True

    # -- reading --------------------------------------------------------------------------------
    def _read(self, path: str) -> dict[str, Any] | None:
        try:
            if os.path.getsize(path) > MAX_BYTES:
                return None
            with open(path, "rb") as stream:
                data = json.loads(stream.read())
        except (OSError, ValueError, RecursionError, MemoryError):
            return None
        if type(data) is not dict or data.get("format") != FORMAT:
            return None
        return data

    def load_project(self, fingerprint: str) -> StoredProject | None:
        """Every module name and the merged facts (without call sites), when built from exactly these
        files; the models only named, to be decoded when first looked up."""
        data = self._read(self.project_path)
        if data is None or data.get("fingerprint") != fingerprint:
            return None
        try:
            names = data["modules"]
            if type(names) is not list or not all(type(name) is str for name in names):
                return None
            models: list[tuple[str, object]] = []
            facts = [facts_from_json(item, models) for item in _as_list(data["facts"])]
            return StoredProject(names, facts, models)
        except (ValueError, TypeError, KeyError, RecursionError):
            return None

    def forget_project(self) -> None:
        """Drop the merged facts (one of them did not decode): the next run builds them again."""
        with contextlib.suppress(OSError):
            os.remove(self.project_path)

    def stored_calls(self, fingerprint: str) -> StoredCalls:
        """The call sites of the merged facts, read a group at a time, when built from exactly these files."""
        return StoredCalls(self.calls_path, FORMAT, fingerprint)

    def load_listing(self) -> Listing | None:
        """The project's files and folders as the last walk found them."""
        data = self._read(self.listing_path)
        if data is None:
            return None
        try:
            return listing_from_json(data.get("listing"))
        except (ValueError, TypeError, RecursionError):
            return None

    def load_files(self, packages: list[str]) -> dict[str, FileEntry]:
        """Each file's facts by path, when they were read with the same set of project packages."""
        data = self._read(self.files_path)
        if data is None or data.get("packages") != packages:
            return {}
        files = data.get("files")
        if type(files) is not dict:
            return {}
        entries: dict[str, FileEntry] = {}
        for path, value in files.items():
            try:
                if type(value) is not list or len(value) != 5:
                    continue
                size, mtime_ns, module, is_package, facts = value
                if type(module) is not str or type(is_package) is not bool:
                    continue
                entries[path] = FileEntry(_count(size), _count(mtime_ns), module, is_package, facts_from_json(facts))
            except (ValueError, TypeError, RecursionError):
                continue
        return entries

    # -- writing --------------------------------------------------------------------------------
    def prepare(self) -> bool:
        """Create the folder with its ``.gitignore`` and ``CACHEDIR.TAG``; False when it cannot be written."""
        if not self.writable:
            return False
        try:
            os.makedirs(self.folder, exist_ok=True)
            for name, text in ((".gitignore", "*\n"), ("CACHEDIR.TAG", CACHEDIR_TAG)):
                path = os.path.join(self.folder, name)
                if not os.path.exists(path):
                    self._write(path, text)
        except OSError:
            self.writable = False
        return self.writable

    def _write(self, path: str, text: str | Iterable[str]) -> None:
        """Write ``text`` (or its pieces, one at a time) to a new file and move it to ``path``."""
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.writelines([text] if isinstance(text, str) else text)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def save(
        self, fingerprint: str, packages: list[str], entries: dict[str, FileEntry], merged: list[ModuleFacts]
    ) -> None:
        if not self.prepare():
            return
        without_calls = [module._replace(calls=()) for module in merged]
        project = {
            "format": FORMAT,
            "fingerprint": fingerprint,
            "modules": [module.module for module in merged],
            "facts": [facts_to_json(module) for module in without_calls if module != ModuleFacts(module.module)],
        }
        try:
            self._write(self.files_path, _files_text(packages, entries))
            calls = (call for module in merged for call in module.calls)
            self._write(self.calls_path, calls_text(calls, FORMAT, fingerprint))
            self._write(self.project_path, _dump(project))
        except (OSError, ValueError):
            self.writable = False

    def save_listing(self, listing: Listing) -> None:
        if not self.prepare():
            return
        try:
            self._write(self.listing_path, _dump({"format": FORMAT, "listing": listing_to_json(listing)}))
        except (OSError, ValueError):
            self.writable = False

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Held while the index is built, so that parallel workers wait for one build instead of each building."""
        if fcntl is None or not self.prepare():
            yield
            return
        try:
            stream = open(os.path.join(self.folder, "lock"), "a")
        except OSError:
            yield
            return
        with stream:
            try:
                fcntl.flock(stream.fileno(), fcntl.LOCK_EX)
            except OSError:
                pass
            yield


def _as_list(value: object) -> list[object]:
    if type(value) is not list:
        raise ValueError("not a list")
    return value


def _files_text(packages: list[str], entries: dict[str, FileEntry]) -> Iterator[str]:
    """The files document in pieces, a file's entry at a time: a large project's facts as JSON
    values and text at once would cost several times the facts themselves."""
    yield f'{{"format":{_dump(FORMAT)},"packages":{_dump(packages)},"files":{{'
    separator = ""
    for path, entry in entries.items():
        value = [entry.size, entry.mtime_ns, entry.module, entry.is_package, facts_to_json(entry.facts)]
        yield f"{separator}{_dump(path)}:{_dump(value)}"
        separator = ","
    yield "}}"


def _dump(data: object) -> str:
    return json.dumps(data, separators=(",", ":"))
