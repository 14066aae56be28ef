"""Cost of the project index on real code: cold build, warm read-back and cache size.

    python benchmarks/index.py [--root DIR] [--rounds 3]

``--root`` is the project the index reads (default: the open corpus, ``.corpus/open``, every
project in it read as one). Each round, in turn (medians reported):

1. ``ast.parse`` of every file the index reads (read from disk and parsed, one at a time);
2. a cold build: ``build_index`` with an empty cache folder (parse, extract, merge, write);
3. a warm build: ``build_index`` again with nothing changed (``stat``, read the cache back);
4. the first ``call_sites`` question after a warm build (its group of call sites is read on first use);
5. 3 and 4 again in a new process, which is what a run pays (the imports are not counted).

CPU time (this process) is given beside wall time: wall time is noisy on a shared machine. The
cache's size on disk is that of the folder after a cold build; memory is what ``tracemalloc``
counts for a warm build's knowledge after one call-site question, and for what a cold build's
index holds once built (read back from the cache it wrote, as a warm run would).
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flake8_celery_django.project import index  # noqa: E402
from flake8_celery_django.project.root import project_files  # noqa: E402


def timed(action: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    action()
    return time.process_time() - cpu, time.perf_counter() - wall


def parse_all(paths: list[str]) -> None:
    for path in paths:
        with open(path, "rb") as stream:
            data = stream.read()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ast.parse(data, path)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                pass


# Run in a new process: the warm build and one call-site question, timed without the imports.
NEW_PROCESS = """
import sys, time
from flake8_celery_django.project import index
cpu, wall = time.process_time(), time.perf_counter()
index.build_index(sys.argv[1], sys.argv[2]).knowledge.call_sites("")
print(time.process_time() - cpu, time.perf_counter() - wall)
"""


def in_new_process(root: str, cache: str) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of a warm build and one call-site question in a new process."""
    done = subprocess.run(
        [sys.executable, "-c", NEW_PROCESS, root, cache], cwd=ROOT, check=True, capture_output=True, text=True
    )
    cpu, wall = done.stdout.split()
    return float(cpu), float(wall)


def folder_size(folder: str) -> int:
    return sum(entry.stat().st_size for entry in os.scandir(folder) if entry.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", default=str(ROOT / ".corpus" / "open"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    files = list(project_files(root))
    paths = [source.path for source in files]
    lines = 0
    for path in paths:
        with open(path, "rb") as stream:
            lines += stream.read().count(b"\n")
    print(f"{root}: {len(paths):,} files, {lines:,} lines read by the index")
    results: dict[str, list[tuple[float, float]]] = {"parse": [], "cold": [], "warm": [], "calls": [], "new": []}
    size = 0
    scratch = tempfile.mkdtemp(prefix="cdj-index-bench-")
    try:
        for round_number in range(args.rounds):
            cache = os.path.join(scratch, f"cache-{round_number}")
            results["parse"].append(timed(lambda: parse_all(paths)))
            results["cold"].append(timed(lambda: index.build_index(root, cache)))
            size = folder_size(cache)
            built: list[index.ProjectIndex] = []
            results["warm"].append(timed(lambda: built.append(index.build_index(root, cache))))
            assert built[0].raw is None, "the warm build read files again"
            results["calls"].append(timed(lambda: built[0].knowledge.call_sites("")))
            results["new"].append(in_new_process(root, cache))
            print(f"round {round_number + 1}: " + ", ".join(
                f"{name} {cpu:.3f} s CPU ({wall:.3f} s wall)" for name, [*_, (cpu, wall)] in results.items()
            ), flush=True)
            shutil.rmtree(cache)
        tracemalloc.start()
        cache = os.path.join(scratch, "memory")
        before = tracemalloc.get_traced_memory()[0]
        cold_index = index.build_index(root, cache)
        held_cold = tracemalloc.get_traced_memory()[0] - before
        del cold_index
        before = tracemalloc.get_traced_memory()[0]
        knowledge = index.build_index(root, cache).knowledge
        knowledge.call_sites("")
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    def median(name: str, which: int) -> float:
        return statistics.median(pair[which] for pair in results[name])

    parse, cold = median("parse", 0), median("cold", 0)
    print(f"ast.parse of the files: {parse:.2f} s CPU ({median('parse', 1):.2f} s wall)")
    print(f"cold build: {cold:.2f} s CPU ({median('cold', 1):.2f} s wall) = {cold / parse:.2f}x ast.parse; "
          f"beyond parsing: {(cold - parse) / parse:.2f}x")
    print(f"warm build: {median('warm', 0) * 1000:.0f} ms CPU ({median('warm', 1) * 1000:.0f} ms wall); "
          f"call sites on first use: {median('calls', 0) * 1000:.1f} ms CPU")
    print(f"warm build and one call-site question in a new process: {median('new', 0) * 1000:.0f} ms CPU "
          f"({median('new', 1) * 1000:.0f} ms wall)")
    print(f"cache on disk: {size / 1e6:.1f} MB; in memory: {held / 1e6:.1f} MB after a warm build and one "
          f"call-site question, {held_cold / 1e6:.1f} MB held after a cold build")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
