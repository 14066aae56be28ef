"""``flake8-celery-django check`` against ``flake8 --select CDJ`` on the same tree, and a warm cache.

Targets (README, Performance): ``check`` without its cache costs at most 0.20x the CPU of
``flake8 --select CDJ``; a second ``check`` of an unchanged tree at most 0.35x the first.  CPU is
the user and system time of the command and every process it starts; each command runs ``--rounds``
times, interleaved, and the medians are compared.  "The first" run is the one that fills an empty
cache folder.

    python benchmarks/check_bench.py [--tree PATH] [--rounds N] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TREE = ROOT / ".corpus" / "open"
SCRIPT = str(Path(sys.executable).with_name("flake8-celery-django"))


@dataclass(frozen=True)
class Cost:
    cpu: float
    wall: float


def measure(command: list[str], cwd: Path) -> Cost:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Cost(cpu, wall)


def median(costs: list[Cost]) -> Cost:
    return Cost(statistics.median(c.cpu for c in costs), statistics.median(c.wall for c in costs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=DEFAULT_TREE, help="the folder to check (default: .corpus/open)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (default 1)")
    parser.add_argument("--jobs", type=int, default=None, help="-j for both tools (default: every core)")
    options = parser.parse_args()
    tree = options.tree.resolve()
    if not tree.is_dir():
        raise SystemExit(f"{tree}: no such folder (see benchmarks/scorecard.py for fetching the corpus)")
    jobs = ["-j", str(options.jobs)] if options.jobs else []
    flake8 = [sys.executable, "-m", "flake8", "--select", "CDJ", "--exit-zero", *jobs, "."]
    check = [SCRIPT, "check", "--exit-zero", "-q", *jobs, "."]
    uncached: list[Cost] = []
    cold: list[Cost] = []
    warm: list[Cost] = []
    plain: list[Cost] = []
    for _ in range(options.rounds):
        # Every run starts from an empty cache folder (the project index's and check's), outside the tree.
        with tempfile.TemporaryDirectory(prefix="cdj-bench-") as folder:
            plain.append(measure([*flake8, "--cdj-cache-dir", f"{folder}/flake8"], tree))
            uncached.append(measure([*check, "--no-cache", "--cdj-cache-dir", f"{folder}/uncached"], tree))
            cold.append(measure([*check, "--cdj-cache-dir", f"{folder}/cached"], tree))
            warm.append(measure([*check, "--cdj-cache-dir", f"{folder}/cached"], tree))
    files = sum(1 for _, _, names in os.walk(tree) for name in names if name.endswith(".py"))
    a, b, c, d = median(plain), median(uncached), median(cold), median(warm)
    print(f"{tree}: {files} Python files, {options.rounds} round(s), jobs {options.jobs or 'all'}")
    print(f"flake8 --select CDJ     {a.cpu:8.2f} s CPU {a.wall:8.2f} s wall")
    print(f"check, no cache         {b.cpu:8.2f} s CPU {b.wall:8.2f} s wall   {b.cpu / a.cpu:.3f}x flake8 (<= 0.20x)")
    print(f"check, filling a cache  {c.cpu:8.2f} s CPU {c.wall:8.2f} s wall")
    print(f"check, unchanged tree   {d.cpu:8.2f} s CPU {d.wall:8.2f} s wall  {d.cpu / c.cpu:.3f}x the first (<=0.35x)")
    met = b.cpu / a.cpu <= 0.20 and d.cpu / c.cpu <= 0.35
    print("targets met" if met else "targets NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
