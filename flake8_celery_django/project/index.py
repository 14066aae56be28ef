"""The project index: every module's facts, built once per process and project root, cached on disk.

:func:`project_for` is what the checks call: it finds the linted file's project, builds (or reads
back) the index, and answers with the :class:`ProjectKnowledge` and the file's module name.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

from flake8_celery_django.project.cache import FOLDER, FORMAT, FactsCache, FileEntry
from flake8_celery_django.project.extract import extract
from flake8_celery_django.project.facts import CallSiteFact, ModuleFacts
from flake8_celery_django.project.knowledge import NO_PROJECT, ProjectKnowledge
from flake8_celery_django.project.listing import Listing, current, revalidated
from flake8_celery_django.project.listing import fingerprint as listing_fingerprint
from flake8_celery_django.project.merge import merge
from flake8_celery_django.project.root import SourceFile, find_root, module_name
from flake8_celery_django.settings import Settings

# What ``ast.parse`` raises on text that is not a module it can build.
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)
# Names flake8 and the ``fix`` command give a file that has no path of its own.
_NO_PATH = frozenset({"", "-", "<unknown>", "stdin", "<stdin>"})
# An index kept by a long-lived process (an editor integration calling ``api.check_source``) is
# checked against the disk again at most every RECHECK_SECONDS, and never more often than its last
# check's cost times RECHECK_COST_FACTOR: a run over many files spends about 1% on it at most.
RECHECK_SECONDS = 1.0
RECHECK_COST_FACTOR = 100


def parse_file(path: str) -> ast.Module | None:
    """The tree of one project file, or None when it cannot be read or does not parse."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(data, path)
        except _PARSE_ERRORS:
            return None


@dataclass(slots=True)
class ProjectIndex:
    """One project's facts: per module as read, and merged into the knowledge rules read."""

    root: str
    packages: frozenset[str]
    knowledge: ProjectKnowledge
    cache: FactsCache | None
    listing: Listing
    raw: list[ModuleFacts] | None = None
    explicit_root: bool = True
    # When (``time.monotonic()``) a process that keeps the index checks the disk again.
    next_check: float = 0.0
    # The last buffer judged through this index, and the knowledge built with its facts.
    buffer: tuple[ModuleFacts, ProjectKnowledge] | None = field(default=None)

    def raw_facts(self) -> list[ModuleFacts]:
        """Every module's facts as read (before the merge), from memory or the cache, else read again."""
        if self.raw is None:
            entries = self.cache.load_files(sorted(self.packages)) if self.cache is not None else {}
            self.raw = [
                _facts(source, entries.get(_relative(source.path, self.root)), self.packages)
                for source in self.listing.files
            ]
        return self.raw

    def with_buffer(self, facts: ModuleFacts, path: str, is_package: bool) -> ProjectKnowledge:
        """The knowledge with one module's facts taken from an editor's buffer instead of the disk."""
        if self.buffer is not None and self.buffer[0] == facts:
            return self.buffer[1]
        on_disk = parse_file(path) if os.path.isfile(path) else None
        if on_disk is not None and extract(on_disk, facts.module, is_package, self.packages) == facts:
            return self.knowledge  # the buffer says what the file says: nothing to merge again
        modules = [item for item in self.raw_facts() if item.module != facts.module]
        knowledge = ProjectKnowledge(merge([*modules, facts]))
        self.buffer = (facts, knowledge)
        return knowledge


_INDEXES: dict[tuple[str, str, bool], ProjectIndex] = {}


def _relative(path: str, root: str) -> str:
    """``path`` relative to ``root``, which holds it (the listing's paths all start with the root)."""
    inside = root.rstrip(os.sep) + os.sep
    return path[len(inside):] if path.startswith(inside) else os.path.relpath(path, root)


def _facts(source: SourceFile, entry: FileEntry | None, packages: frozenset[str]) -> ModuleFacts:
    """The facts of one file: its cache entry's when the file is unchanged, else read from the file."""
    if (
        entry is not None
        and entry.size == source.size
        and entry.mtime_ns == source.mtime_ns
        and entry.module == source.module
        and entry.is_package == source.is_package
    ):
        return entry.facts
    tree = parse_file(source.path)
    if tree is None:
        return ModuleFacts(source.module)
    return extract(tree, source.module, source.is_package, packages)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while facts pile up (built, or read back from the cache): they
    hold no cycles, and its passes over a growing heap only slow the build down."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def fingerprint(root: str, files: list[SourceFile]) -> str:
    """A digest of every file's path, size and modification time (and the cache format)."""
    return listing_fingerprint(os.path.abspath(root), files, FORMAT)


def build_index(root: str, cache_folder: str | None, explicit_root: bool = True) -> ProjectIndex:
    """The index of the project at ``root``: read back from the cache when nothing changed, else built.

    ``explicit_root``: the root was given rather than found (see :func:`project_files`).
    """
    with _collector_paused():
        return _index(os.path.abspath(root), cache_folder, explicit_root)


def _index(root: str, cache_folder: str | None, explicit_root: bool) -> ProjectIndex:
    cache = FactsCache(cache_folder or os.path.join(root, FOLDER), root)
    stored_listing = cache.load_listing()
    if stored_listing is None:
        cache.prepare()  # made before the walk, so that making it leaves the root's time as the walk saw it
    listing = current(root, explicit_root, FORMAT, stored_listing)
    if listing is not stored_listing and listing != stored_listing:
        cache.save_listing(listing)
    packages = listing.packages
    key = listing.key
    stored = cache.load_project(key)
    if stored is None:
        with cache.lock():
            stored = cache.load_project(key)  # another process may have built it while this one waited
            if stored is None:
                built = _build(root, listing, packages, cache, explicit_root)
                # Read back as a warm run would: models decoded when looked up, call sites when
                # asked for, so that a run does not hold every fact it built (a third as much).
                stored = cache.load_project(key) if cache.writable else None
                if stored is None:
                    return built
    index = ProjectIndex(root, packages, NO_PROJECT, cache, listing, explicit_root=explicit_root)
    index.knowledge = ProjectKnowledge(
        stored.facts,
        module_names=stored.modules,
        load_calls=_CallLoader(index, key),
        stored_models=stored.models,
        on_corrupt=cache.forget_project,
    )
    return index


class _CallLoader:
    """The call sites of one callee: from the cache's groups, or from every file's facts once the
    cache's are found missing or not valid."""

    def __init__(self, index: ProjectIndex, fingerprint: str) -> None:
        self.index = index
        self.stored = index.cache.stored_calls(fingerprint) if index.cache is not None else None
        self.everything: dict[str, list[CallSiteFact]] | None = None

    def __call__(self, callee: str) -> list[CallSiteFact]:
        if self.stored is not None:
            found = self.stored.sites(callee)
            if found is not None:
                return found
            self.stored = None
        if self.everything is None:
            self.everything = {}
            for module in self.index.raw_facts():
                for name, site in module.calls:
                    self.everything.setdefault(name, []).append(site)
        return self.everything.get(callee, [])


def _build(
    root: str, listing: Listing, packages: frozenset[str], cache: FactsCache, explicit_root: bool
) -> ProjectIndex:
    """Read every file whose cache entry is missing or stale, merge, and store the result."""
    previous = cache.load_files(sorted(packages))
    entries: dict[str, FileEntry] = {}
    raw = []
    for source in listing.files:
        relative = _relative(source.path, root)
        facts = _facts(source, previous.get(relative), packages)
        raw.append(facts)
        entries[relative] = FileEntry(
            source.size, source.mtime_ns, source.module, source.is_package, facts
        )
    merged = merge(raw)
    cache.save(listing.key, sorted(packages), entries, merged)
    return ProjectIndex(root, packages, ProjectKnowledge(merged), cache, listing, raw, explicit_root=explicit_root)


def _settle() -> None:
    """Leave what the process holds now, the first index with it, out of the cyclic collector's later
    passes (``gc.freeze``). The index is a hundred thousand small containers kept for the whole
    run; every full pass walked them again while the files were checked, which cost a run on one
    file of a large project more than reading the index did. Done once a process: objects frozen
    are never collected as cycles (they are still freed when no longer referenced), so a
    long-lived process does not keep freezing what it builds later. (CPython's collector: other
    interpreters have no ``gc.freeze`` and nothing is done.)"""
    freeze = getattr(gc, "freeze", None)
    if freeze is not None:
        freeze()


def project_index(root: str, cache_folder: str | None, explicit_root: bool) -> ProjectIndex:
    """The index of ``root``, built once per process and checked against the disk again from time to
    time (see RECHECK_SECONDS), so that a long-lived process sees files added, edited or removed."""
    key = (root, cache_folder or "", explicit_root)
    found = _INDEXES.get(key)
    started = time.monotonic()
    if found is None:
        first = not _INDEXES
        found = _INDEXES[key] = build_index(root, cache_folder, explicit_root)
        found.next_check = time.monotonic() + RECHECK_SECONDS
        if first:
            _settle()
    elif started >= found.next_check:
        if revalidated(found.listing, FORMAT) is not found.listing:
            found = _INDEXES[key] = build_index(root, cache_folder, explicit_root)
        now = time.monotonic()
        found.next_check = now + max(RECHECK_SECONDS, (now - started) * RECHECK_COST_FACTOR)
    return found


def project_for(
    filename: str, settings: Settings, source_tree: ast.Module | None = None
) -> tuple[ProjectKnowledge, str | None]:
    """The project knowledge for checking ``filename``, and its module name.

    ``source_tree`` is the tree being checked when its text may differ from the file on disk (an
    editor's buffer through standard input): the file's own facts are then taken from it.
    """
    if not settings.project_index:
        return NO_PROJECT, None
    has_path = filename not in _NO_PATH and os.path.isfile(filename)
    if not has_path and settings.project_root is None:
        return NO_PROJECT, None
    root = os.path.abspath(settings.project_root) if settings.project_root else find_root(filename)
    if not os.path.isdir(root):
        return NO_PROJECT, None
    path = filename if os.path.isabs(filename) or has_path else os.path.join(root, filename)
    module, is_package = module_name(path)
    cache_folder = os.path.abspath(settings.cache_dir) if settings.cache_dir else None
    index = project_index(root, cache_folder, explicit_root=bool(settings.project_root))
    if source_tree is not None and module:
        return index.with_buffer(extract(source_tree, module, is_package, index.packages), path, is_package), module
    return index.knowledge, module or None
