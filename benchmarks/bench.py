"""Speed and memory benchmark of the plugin on real code.

    python benchmarks/bench.py [--corpus DIR] [--django DIR] [--pairs 5] [--flake8-lines 500000]

(``tox -e bench`` runs it with flake8-bugbear installed beside the plugin.)

The code: the open corpus of ``../shared/corpus`` (``--corpus``, default ``.corpus/``, fetched with
its ``fetch.sh`` when missing) plus Django's own source (``--django``, default
``.corpus/django-DJANGO_VERSION``, fetched with ``pip download --no-deps django==DJANGO_VERSION``
when missing): about 7,600 files and 1.15 million lines.

What it measures, each from interleaved runs (A B A B ..., ``--pairs`` rounds, medians):

1. In process, on every file: ``ast.parse`` of the file, then the plugin's check of that tree
   (``api.check_tree`` with the default selection), timed separately and summed per round. The
   ratio walk/parse and the walk's lines per second. The same for a generated module of 5,000 and
   of 50,000 lines (``tests/programs.py``): the time per line must not grow with the file.
2. End to end, the real flake8 with its default selection over ``--flake8-lines`` lines (all of
   Django plus corpus files in a fixed pseudo-random order; ``0`` = every file), once with one
   process (``-j 1``) and once with flake8's default parallelism. Three configurations, run in
   turn: flake8 without this plugin and without flake8-bugbear, with this plugin, with
   flake8-bugbear. They differ only in which installed plugins flake8's finder is shown
   (``flake8_hiding_plugins.py``): same interpreter, same packages, same files, same options
   (``--isolated --exit-zero``), bytecode caches written as in a normal install. Reported: wall
   time, CPU time (user + system, this process and its workers; steadier than wall time on a
   shared machine) and, for ``-j 1``, peak memory (``VmHWM``, reported by the flake8 process).
3. Start-up: the same three configurations on one small file, ``--startup-pairs`` rounds.
4. ``flake8-celery-django fix`` over a copy of those files that has no fixable finding, against
   the check alone: the bare check (a process that reads, parses and checks each file, the least
   ``fix`` has to do; the target is judged on it) and flake8 ``-j 1`` shown only this plugin. Only
   when the installed package has the ``fix`` command; otherwise the line says it is not available.
"""

from __future__ import annotations

import argparse
import ast
import gc
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.scorecard import ensure_corpus, read_source  # noqa: E402
from flake8_celery_django.api import check_tree, parse_quietly  # noqa: E402
from flake8_celery_django.registry import RULES  # noqa: E402
from flake8_celery_django.settings import Settings  # noqa: E402
from tests import programs  # noqa: E402

DJANGO_VERSION = "5.2.19"
HIDING = str(Path(__file__).resolve().parent / "flake8_hiding_plugins.py")
PLUGIN = "flake8-celery-django"
BUGBEAR = "flake8-bugbear"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_django(directory: Path) -> Path:
    if directory.is_dir() and any(directory.rglob("*.py")):
        return directory
    log(f"fetching Django {DJANGO_VERSION} into {directory} ...")
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                f"django=={DJANGO_VERSION}", "-d", download,
            ],
            check=True,
        )
        (wheel,) = Path(download).glob("*.whl")
        directory.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(directory)
    return directory


@dataclass
class SourceFile:
    path: Path
    text: str
    lines: int


def load(paths: Sequence[Path]) -> list[SourceFile]:
    files = []
    for path in paths:
        text = read_source(path)
        files.append(SourceFile(path, text, text.count("\n")))
    return files


# -- 1. in process ---------------------------------------------------------------------------------
@dataclass
class InProcess:
    parse: list[float] = field(default_factory=list)
    walk: list[float] = field(default_factory=list)
    lines: int = 0
    files: int = 0

    @property
    def ratio(self) -> float:
        return statistics.median(w / p for w, p in zip(self.walk, self.parse))

    @property
    def walk_per_line_us(self) -> float:
        return statistics.median(self.walk) / self.lines * 1e6

    @property
    def parse_per_line_us(self) -> float:
        return statistics.median(self.parse) / self.lines * 1e6


def in_process(files: Sequence[SourceFile], rounds: int, settings: Settings) -> InProcess:
    """Per file: parse (A), then check the tree (B); the sums of one round are one pair."""
    result = InProcess()
    clock = time.perf_counter
    for _ in range(rounds):
        gc.collect()  # every round starts from the same heap
        parse_total = walk_total = 0.0
        lines = count = 0
        for source in files:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                started = clock()
                try:
                    tree = ast.parse(source.text, str(source.path))
                except (SyntaxError, ValueError):
                    continue
            parsed = clock()
            check_tree(tree, str(source.path), settings, strict=True)
            walked = clock()
            parse_total += parsed - started
            walk_total += walked - parsed
            lines += source.lines
            count += 1
            del tree
        result.parse.append(parse_total)
        result.walk.append(walk_total)
        result.lines, result.files = lines, count
    return result


# -- 2., 3., 4. subprocesses -----------------------------------------------------------------------
@dataclass
class Run:
    wall: float
    cpu: float
    max_rss_mb: float
    returncode: int


def child_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "HIDE_PLUGINS", "ONLY_PLUGINS")}
    env.update(extra)
    return env


def run_timed(command: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> Run:
    """Wall and CPU time of one run; its peak memory when it reports it (``PEAK_MEMORY_FILE``)."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak:
        env = {**env, "PEAK_MEMORY_FILE": peak.name}
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert process.stderr is not None
        errors = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        process.stderr.close()
        reported = peak.read().strip()
    if errors.strip():
        log(f"  stderr of {' '.join(command[:4])} ...: {errors.decode(errors='replace')[:500]}")
    peak_mb = int(reported) / 1024 if reported.isdigit() else float("nan")
    return Run(wall, usage.ru_utime + usage.ru_stime, peak_mb, process.returncode)


@dataclass
class Config:
    name: str
    env: dict[str, str]


def configurations(with_bugbear: bool) -> list[Config]:
    configs = [
        Config("flake8", child_environment(HIDE_PLUGINS=f"{PLUGIN},{BUGBEAR}")),
        Config(f"flake8 + {PLUGIN}", child_environment(HIDE_PLUGINS=BUGBEAR)),
    ]
    if with_bugbear:
        configs.append(Config(f"flake8 + {BUGBEAR}", child_environment(HIDE_PLUGINS=PLUGIN)))
    return configs


def interleave(
    configs: Sequence[Config], rounds: int, command: Callable[[Config], Sequence[str]], cwd: Path | None = None
) -> dict[str, list[Run]]:
    runs: dict[str, list[Run]] = {config.name: [] for config in configs}
    for _ in range(rounds):
        for config in configs:
            run = run_timed(command(config), config.env, cwd)
            if run.returncode != 0:
                raise SystemExit(f"bench: {config.name} exited with {run.returncode}")
            runs[config.name].append(run)
    return runs


def median(runs: Sequence[Run], attribute: str) -> float:
    return statistics.median(getattr(run, attribute) for run in runs)


def paired_ratio(runs: Sequence[Run], baseline: Sequence[Run], attribute: str) -> float:
    """The median of the per-round ratios (each round's runs ran next to each other)."""
    return statistics.median(getattr(a, attribute) / getattr(b, attribute) for a, b in zip(runs, baseline))


def installed(distribution: str) -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version(distribution)
    except PackageNotFoundError:
        return False
    return True


def has_fix_command() -> bool:
    with tempfile.TemporaryDirectory() as elsewhere:  # not this checkout: the installed package
        probe = subprocess.run(
            [sys.executable, "-m", "flake8_celery_django", "fix", "--help"],
            capture_output=True,
            env=child_environment(),
            cwd=elsewhere,
        )
    return probe.returncode == 0


def clean_copy(files: Sequence[SourceFile], destination: Path) -> int:
    """Copy the files that have no finding a fix could change; the number of lines copied."""
    settings = Settings(enabled=frozenset(RULES))
    fixable = {code for code, rule in RULES.items() if rule.fix != "none"}
    lines = 0
    for source in files:
        # the whole path is kept: rules tell tests and migrations apart by their directories
        target = destination / source.path.resolve().relative_to(source.path.resolve().anchor)
        tree = parse_quietly(source.text, str(target))
        if tree is None:
            continue
        if any(f.code in fixable for f in check_tree(tree, str(target), settings, strict=True)):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.path, target)
        lines += source.lines
    return lines


def check_only(directory: Path) -> int:
    """The bare check, as ``fix`` must do it at least: read, parse and check every file."""
    settings = Settings()
    for path in sorted(directory.rglob("*.py")):
        tree = parse_quietly(read_source(path), str(path))
        if tree is not None:
            check_tree(tree, str(path), settings)
    return 0


def tree_digest(directory: Path) -> str:
    """A digest of the files ``fix`` may write: the project index's cache folders are not the tree's."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file() and ".cdj_cache" not in path.relative_to(directory).parts:
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


# -- the report ------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / ".corpus")
    parser.add_argument("--django", type=Path, default=ROOT / ".corpus" / f"django-{DJANGO_VERSION}")
    parser.add_argument("--pairs", type=int, default=5, help="rounds of interleaved runs (default 5)")
    parser.add_argument("--startup-pairs", type=int, default=20, help="rounds on one small file (default 20)")
    parser.add_argument("--flake8-lines", type=int, default=500_000, help="lines given to flake8 (0: all)")
    parser.add_argument("--skip-flake8", action="store_true", help="only the in-process measures")
    parser.add_argument("--fix-only", action="store_true", help="only the fix measure")
    parser.add_argument("--check-only", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.check_only is not None:
        return check_only(options.check_only)
    if options.pairs < 1:
        parser.error("--pairs must be at least 1")

    corpus_files = sorted(ensure_corpus(options.corpus).rglob("*.py"))
    django_files = sorted(ensure_django(options.django).rglob("*.py"))
    log(f"reading {len(corpus_files) + len(django_files):,} files ...")
    corpus = load(corpus_files)
    django = load(django_files)
    everything = django + corpus
    if options.fix_only:
        print("\n".join(fix_measure(options, choose_files(django, corpus, options.flake8_lines))))
        return 0
    settings = Settings()
    out: list[str] = []
    out.append(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {len(RULES)} rules registered "
        f"({len(settings.enabled)} on by default), {options.pairs} interleaved rounds, medians."
    )

    # 1. in process
    gc.collect()
    log("in process: ast.parse vs the plugin's check, every file ...")
    whole = in_process(everything, options.pairs, settings)
    log("in process: generated modules ...")
    generated = {}
    for size in (5_000, 50_000):
        text = programs.large_module(size)
        generated[size] = in_process(
            [SourceFile(Path(f"generated_{size}.py"), text, text.count("\n"))], max(options.pairs, 5), settings
        )
    out += [
        "",
        "In process (the plugin's check of a parsed tree vs ast.parse of the same file):",
        "",
        "| Code | Files | Lines | ast.parse | Plugin | Plugin / parse | Plugin lines/s | Plugin µs/line |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = [(f"corpus + Django {DJANGO_VERSION}", whole)]
    rows += [(f"generated module, {size:,} lines", result) for size, result in generated.items()]
    for name, result in rows:
        walk = statistics.median(result.walk)
        out.append(
            f"| {name} | {result.files:,} | {result.lines:,} | {statistics.median(result.parse):.2f} s "
            f"| {walk:.2f} s | {result.ratio:.2f}x | {result.lines / walk:,.0f} | {result.walk_per_line_us:.2f} |"
        )
    small, large = generated[5_000], generated[50_000]
    out.append("")
    out.append(
        f"Growth with file size: {large.walk_per_line_us / small.walk_per_line_us:.2f}x the time per line at "
        f"50,000 lines as at 5,000 (1.00 = linear); the 50,000-line module costs "
        f"{large.walk_per_line_us:.2f} µs/line, the corpus {whole.walk_per_line_us:.2f} µs/line."
    )

    if not options.skip_flake8:
        out += flake8_measures(options, choose_files(django, corpus, options.flake8_lines))
    print("\n".join(out))
    return 0


def flake8_measures(options: argparse.Namespace, chosen: Sequence[SourceFile]) -> list[str]:
    out: list[str] = []
    with_bugbear = installed(BUGBEAR)
    configs = configurations(with_bugbear)
    memory_line = ""
    lines = sum(source.lines for source in chosen)
    paths = [str(source.path) for source in chosen]
    log(f"flake8 over {len(chosen):,} files, {lines:,} lines ...")
    # one untimed run per configuration writes the bytecode caches, as an installed package has them
    for config in configs:
        run_timed([sys.executable, HIDING, "--isolated", "--exit-zero", "-j", "1", paths[0]], config.env)

    out += [
        "",
        f"flake8 {flake8_version()}, default selection, {len(chosen):,} files, {lines:,} lines "
        f"(ratios: median of the per-round ratios to plain flake8):",
        "",
        "| Run | Configuration | Wall | CPU | Wall vs flake8 | CPU vs flake8 | Peak memory |",
        "|---|---|---|---|---|---|---|",
    ]
    for jobs in ("1", "default"):
        log(f"  -j {jobs}: {len(configs)} configurations x {options.pairs} rounds ...")
        job_arguments = ["-j", "1"] if jobs == "1" else []
        runs = interleave(
            configs,
            options.pairs,
            lambda config: [sys.executable, HIDING, "--isolated", "--exit-zero", *job_arguments, *paths],
        )
        baseline = runs[configs[0].name]
        for config in configs:
            mine = runs[config.name]
            memory = f"{median(mine, 'max_rss_mb'):.1f} MB" if jobs == "1" else "-"
            out.append(
                f"| `-j {jobs}` | {config.name} | {median(mine, 'wall'):.1f} s | {median(mine, 'cpu'):.1f} s "
                f"| {paired_ratio(mine, baseline, 'wall'):.3f}x | {paired_ratio(mine, baseline, 'cpu'):.3f}x "
                f"| {memory} |"
            )
        if jobs == "1":
            added = median(runs[configs[1].name], "max_rss_mb") - median(baseline, "max_rss_mb")
            memory_line = f"Peak memory added by the plugin (`-j 1`, whole run): {added:+.1f} MB."

    log(f"  start-up: one small file x {options.startup_pairs} rounds ...")
    with tempfile.TemporaryDirectory() as directory:
        small = Path(directory) / "small.py"
        small.write_text(programs.large_module(40))
        runs = interleave(
            configs,
            options.startup_pairs,
            lambda config: [sys.executable, HIDING, "--isolated", "--exit-zero", str(small)],
        )
    baseline = runs[configs[0].name]
    startup = ", ".join(f"{config.name} {median(runs[config.name], 'wall') * 1000:.0f} ms" for config in configs)
    added_ms = statistics.median((a.wall - b.wall) * 1000 for a, b in zip(runs[configs[1].name], baseline))
    added_cpu_ms = statistics.median((a.cpu - b.cpu) * 1000 for a, b in zip(runs[configs[1].name], baseline))
    out += [
        "",
        memory_line,
        f"Start-up, one {small_lines()}-line file: {startup}; added by the plugin: {added_ms:+.1f} ms wall, "
        f"{added_cpu_ms:+.1f} ms CPU (medians of {options.startup_pairs} paired differences).",
    ]
    out += fix_measure(options, chosen)
    if not with_bugbear:
        out.append(f"{BUGBEAR} is not installed: its column is missing (`pip install {BUGBEAR}`).")
    return out


def small_lines() -> int:
    return programs.large_module(40).count("\n")


def fix_measure(options: argparse.Namespace, chosen: Sequence[SourceFile]) -> list[str]:
    if not has_fix_command():
        return ["`fix` on a clean tree: not available (this installation has no `flake8-celery-django fix`)."]
    with tempfile.TemporaryDirectory() as directory:
        tree = Path(directory)
        lines = clean_copy(chosen, tree)
        before = tree_digest(tree)
        log(f"  fix on a clean tree of {lines:,} lines vs the check alone x {options.pairs} rounds ...")
        fix = Config("fix", child_environment())
        check = Config("check", child_environment())
        flake8 = Config("flake8", child_environment(ONLY_PLUGINS=PLUGIN))
        commands = {
            "fix": [sys.executable, "-m", "flake8_celery_django", "fix", "--isolated", "."],
            "check": [sys.executable, str(Path(__file__).resolve()), "--check-only", "."],
            "flake8": [sys.executable, HIDING, "--isolated", "--exit-zero", "-j", "1", "."],
        }
        runs = interleave([fix, check, flake8], options.pairs, lambda config: commands[config.name], cwd=tree)
        unchanged = tree_digest(tree) == before
    return [
        f"`fix` on a clean tree ({lines:,} lines), {median(runs['fix'], 'wall'):.1f} s, against the bare check "
        f"(read, parse, check each file; {median(runs['check'], 'wall'):.1f} s): "
        f"{paired_ratio(runs['fix'], runs['check'], 'wall'):.2f}x wall, "
        f"{paired_ratio(runs['fix'], runs['check'], 'cpu'):.2f}x CPU; against flake8 `-j 1` shown only this "
        f"plugin ({median(runs['flake8'], 'wall'):.1f} s): {paired_ratio(runs['fix'], runs['flake8'], 'wall'):.2f}x "
        "wall; files " + ("untouched." if unchanged else "CHANGED (a fix wrote to a file with no fixable finding).")
    ]


def choose_files(django: Sequence[SourceFile], corpus: Sequence[SourceFile], wanted_lines: int) -> list[SourceFile]:
    """All of Django, then corpus files in a fixed pseudo-random order, up to ``wanted_lines``."""
    if wanted_lines <= 0:
        return [*django, *corpus]
    rest = list(corpus)
    random.Random(0).shuffle(rest)
    chosen = list(django)
    total = sum(source.lines for source in chosen)
    for source in rest:
        if total >= wanted_lines:
            break
        chosen.append(source)
        total += source.lines
    return chosen


def flake8_version() -> str:
    from importlib.metadata import version

    return version("flake8")


if __name__ == "__main__":
    raise SystemExit(main())
