"""Check many files: from the results cache where they are unchanged, the rest in parallel processes."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from flake8_celery_django.checking import check_file
from flake8_celery_django.reports import FileReport
from flake8_celery_django.results_cache import ResultsCache, Stamp, digest
from flake8_celery_django.settings import Settings

# Below this many files to check, starting worker processes costs more than it saves.
PARALLEL_FROM = 32


@dataclass(frozen=True, slots=True)
class Work:
    path: str
    settings: int  # index into the run's list of distinct settings
    data: bytes | None


@dataclass(frozen=True, slots=True)
class Detail:
    """What the reports must hold beyond the findings: fix edits, exact ``noqa_row`` values."""

    edits: bool = False
    rows: bool = False


_WORKER_SETTINGS: list[Settings] = []
_WORKER_DETAIL = [Detail()]


def _start_worker(settings: list[Settings], detail: Detail) -> None:
    _WORKER_SETTINGS[:] = settings
    _WORKER_DETAIL[0] = detail


def _check(work: Work) -> FileReport:
    detail = _WORKER_DETAIL[0]
    return check_file(
        work.path, _WORKER_SETTINGS[work.settings], edits=detail.edits, rows=detail.rows, data=work.data
    )


class Progress:
    """``checked 120/1500 files`` on a terminal's standard error, redrawn in place; nothing otherwise."""

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled and total >= PARALLEL_FROM and stream.isatty()
        self.done = 0

    def step(self) -> None:
        self.done += 1
        if self.enabled and (self.done % 25 == 0 or self.done == self.total):
            self.stream.write(f"\rchecked {self.done}/{self.total} files")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()


def check_files(
    paths: Sequence[str],
    settings_for: Callable[[str], Settings],
    *,
    jobs: int | None = None,
    cache: ResultsCache | None = None,
    detail: Detail = Detail(),
    progress: TextIO | None = None,
) -> list[FileReport]:
    """A report for every path, in the order of ``paths``."""
    distinct: dict[Settings, int] = {}
    reports: dict[str, FileReport] = {}
    stamps: dict[str, Stamp] = {}
    todo: list[Work] = []
    projects = ProjectKeys()
    project_of: dict[str, str] = {}
    for path in paths:
        data: bytes | None = None
        settings = settings_for(path)
        if cache is not None:
            project = project_of[path] = projects.key(path, settings)
            try:
                with open(path, "rb") as stream:
                    stat = os.fstat(stream.fileno())
                    cached = cache.get(path, stat, project)
                    if cached is None:
                        data = stream.read()
                        cached = cache.get(path, stat, project, data)
                        stamps[path] = Stamp(stat.st_size, stat.st_mtime_ns, digest(data))
            except OSError:
                cached = None  # check_file reports it
            if cached is not None:
                reports[path] = cached
                continue
        index = distinct.setdefault(settings, len(distinct))
        todo.append(Work(path, index, data))
    settings_list = list(distinct)
    bar = Progress(len(todo), progress or sys.stderr, progress is not None)
    for report in _run(todo, settings_list, detail, jobs):
        reports[report.path] = report
        if cache is not None and report.path in stamps and not report.failed:
            cache.put(report, stamps[report.path], project_of[report.path])
        bar.step()
    bar.close()
    return [reports[path] for path in paths]


class ProjectKeys:
    """The project index's fingerprint of each file's project (its root's files), computed once per root."""

    def __init__(self) -> None:
        self._roots: dict[str, str] = {}
        self._by_root: dict[str, str] = {}
        self._by_path: dict[str, str] = {}

    def key(self, path: str, settings: Settings) -> str:
        found = self._by_path.get(path)
        if found is not None:
            return found
        if not settings.project_index:
            found = ""
        else:
            from flake8_celery_django.project.index import fingerprint
            from flake8_celery_django.project.root import find_root, project_files

            folder = os.path.dirname(os.path.abspath(path))
            root = settings.project_root or self._roots.get(folder)
            if root is None:
                root = self._roots[folder] = find_root(path)
            root = os.path.abspath(root)
            found = self._by_root.get(root)
            if found is None:
                found = self._by_root[root] = fingerprint(root, list(project_files(root)))
        self._by_path[path] = found
        return found


def _run(todo: list[Work], settings: list[Settings], detail: Detail, jobs: int | None) -> Iterator[FileReport]:
    workers = min(jobs or os.cpu_count() or 1, len(todo))
    if workers <= 1 or len(todo) < PARALLEL_FROM:
        _start_worker(settings, detail)
        yield from map(_check, todo)
        return
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with context.Pool(workers, initializer=_start_worker, initargs=(settings, detail)) as pool:
        yield from pool.imap_unordered(_check, todo, chunksize=max(1, min(16, len(todo) // (workers * 8))))
