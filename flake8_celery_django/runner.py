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


_WORKER_SETTINGS: list[Settings] = []
_WORKER_EDITS = False


def _start_worker(settings: list[Settings], edits: bool) -> None:
    global _WORKER_EDITS
    _WORKER_SETTINGS[:] = settings
    _WORKER_EDITS = edits


def _check(work: Work) -> FileReport:
    return check_file(work.path, _WORKER_SETTINGS[work.settings], edits=_WORKER_EDITS, data=work.data)


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
    edits: bool = False,
    progress: TextIO | None = None,
) -> list[FileReport]:
    """A report for every path, in the order of ``paths``."""
    distinct: dict[Settings, int] = {}
    reports: dict[str, FileReport] = {}
    stamps: dict[str, Stamp] = {}
    todo: list[Work] = []
    for path in paths:
        data: bytes | None = None
        if cache is not None:
            try:
                with open(path, "rb") as stream:
                    stat = os.fstat(stream.fileno())
                    cached = cache.get(path, stat)
                    if cached is None:
                        data = stream.read()
                        cached = cache.get(path, stat, data)
                        stamps[path] = Stamp(stat.st_size, stat.st_mtime_ns, digest(data))
            except OSError:
                cached = None  # check_file reports it
            if cached is not None:
                reports[path] = cached
                continue
        settings = settings_for(path)
        index = distinct.setdefault(settings, len(distinct))
        todo.append(Work(path, index, data))
    settings_list = list(distinct)
    bar = Progress(len(todo), progress or sys.stderr, progress is not None)
    for report in _run(todo, settings_list, edits, jobs):
        reports[report.path] = report
        if cache is not None and report.path in stamps and not report.failed:
            cache.put(report, stamps[report.path])
        bar.step()
    bar.close()
    return [reports[path] for path in paths]


def _run(todo: list[Work], settings: list[Settings], edits: bool, jobs: int | None) -> Iterator[FileReport]:
    workers = min(jobs or os.cpu_count() or 1, len(todo))
    if workers <= 1 or len(todo) < PARALLEL_FROM:
        _start_worker(settings, edits)
        yield from map(_check, todo)
        return
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with context.Pool(workers, initializer=_start_worker, initargs=(settings, edits)) as pool:
        yield from pool.imap_unordered(_check, todo, chunksize=max(1, min(16, len(todo) // (workers * 8))))
