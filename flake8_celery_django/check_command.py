"""``flake8-celery-django check``: the flake8 plugin's detection without flake8, with the outputs CI reads.

Exit codes, as ruff's: 0 when nothing is found, 1 when something is (a file that cannot be read or
parsed counts), 2 on a usage error, a missing path or a bad configuration.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from flake8_celery_django.output import FORMATS, WITH_EDITS, Shown
from flake8_celery_django.output.common import findings
from flake8_celery_django.reports import FileReport
from flake8_celery_django.settings import Settings

EXIT_CLEAN = 0
EXIT_FOUND = 1
EXIT_ERROR = 2


class CheckUsageError(Exception):
    """A bad command line, path or configuration: one line, exit code 2."""


def add_parser(commands: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    check: argparse.ArgumentParser = commands.add_parser(
        "check",
        help="report the findings (the same as the flake8 plugin, without flake8)",
        description="Check Python files with every enabled rule. Exit 0: nothing found; 1: findings or a "
        "file that does not parse; 2: usage error, missing path or bad configuration.",
    )
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or folders (default: .)")
    check.add_argument(
        "--output-format",
        choices=sorted(FORMATS),
        default="concise",
        help="concise (default): path:row:col: CODE message; full: with the source line; json: ruff's "
        "JSON; sarif: SARIF 2.1.0; github: GitHub Actions annotations",
    )
    check.add_argument("--statistics", action="store_true", help="print the number of findings per code instead")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when something is found")
    check.add_argument("-q", "--quiet", action="store_true", help="print the findings only, no summary")
    check.add_argument("--unsafe-fixes", action="store_true", help="mark findings with an unsafe fix as fixable too")
    check.add_argument(
        "-j", "--jobs", type=int, default=None, metavar="N", help="processes to check with (default: every core)"
    )
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the results cache")
    check.add_argument(
        "--force-exclude", action="store_true", help="apply the excludes to files named on the command line too"
    )
    check.add_argument(
        "--add-noqa",
        action="store_true",
        help="write `# noqa: CODE` on the line of every current finding, and report nothing (exit 0)",
    )
    check.add_argument("--config", metavar="PATH", help="flake8 configuration file to read instead of the usual ones")
    check.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    return check


def statistics(reports: Sequence[FileReport], shown: Shown, out: TextIO) -> None:
    """``count  CODE  [*] name`` per code, most frequent first (ruff's ``--statistics``)."""
    from flake8_celery_django.registry import registered_rules

    rules = registered_rules()
    counts = Counter(finding.code or "SyntaxError" for _, finding in findings(reports))
    fixable = {finding.code for _, finding in findings(reports) if shown.applicable(finding)}
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    width = max((len(str(count)) for _, count in rows), default=1)
    for code, count in rows:
        mark = "[*]" if code in fixable else "[ ]"
        name = rules[code].name if code in rules else "syntax-error"
        out.write(f"{str(count).rjust(width)}\t{code}\t{mark} {name}\n")


def summary(reports: Sequence[FileReport], shown: Shown, out: TextIO) -> None:
    total = sum(len(report.findings) for report in reports)
    if not total:
        out.write("All checks passed!\n")
        return
    out.write(f"Found {total} finding{'s' if total != 1 else ''}.\n")
    fixable = sum(1 for _, finding in findings(reports) if shown.applicable(finding))
    hidden = sum(
        1 for _, finding in findings(reports) if finding.fix is not None and not shown.applicable(finding)
    )
    if fixable:
        out.write(f"[*] {fixable} fixable with `flake8-celery-django fix`.\n")
    if hidden:
        out.write(f"{hidden} more fixable with `flake8-celery-django fix --unsafe-fixes`.\n")


def results_root(paths: Sequence[str], settings: Settings) -> str:
    """Where the results cache goes: the project root (as the project index finds it) of the first path."""
    if settings.project_root:
        return settings.project_root
    from flake8_celery_django.project.root import find_root

    first = paths[0] if paths else "."
    return find_root(os.path.join(first, "x.py") if os.path.isdir(first) else first)


def write_noqa(reports: Sequence[FileReport], err: TextIO) -> int:
    """``--add-noqa``: silence every finding in its file; files that do not parse are left alone."""
    from flake8_celery_django.add_noqa import add_noqa_to_file, codes_by_row

    added = 0
    for report in reports:
        rows = codes_by_row(report) if not report.failed else {}
        if not rows:
            continue
        try:
            added += add_noqa_to_file(report.path, rows)
        except (OSError, SyntaxError, UnicodeError) as error:
            err.write(f"{report.path}: cannot add # noqa, left as it was: {error}\n")
            return EXIT_ERROR
    err.write(f"Added {added} noqa directive{'s' if added != 1 else ''}.\n")
    return EXIT_CLEAN


def command_check(args: argparse.Namespace, given: dict[str, object], out: TextIO, err: TextIO) -> int:
    from flake8_celery_django import config as configuration
    from flake8_celery_django.files import discover
    from flake8_celery_django.results_cache import DEFAULT_FOLDER, ResultsCache
    from flake8_celery_django.runner import Detail, check_files
    from flake8_celery_django.settings import SettingsError

    if args.jobs is not None and args.jobs < 1:
        raise CheckUsageError(f"--jobs takes a number of processes of 1 or more, not {args.jobs}")
    for path in args.paths:
        if not os.path.exists(path):
            raise CheckUsageError(f"{path}: no such file or directory")
    try:
        config = configuration.load(config=args.config, isolated=args.isolated, command_line=given)
    except SettingsError as error:
        raise CheckUsageError(str(error)) from None
    paths = discover(args.paths, config.exclude, config.filename_patterns, force_exclude=args.force_exclude)
    detail = Detail(edits=args.output_format in WITH_EDITS and not args.add_noqa, rows=args.add_noqa)
    cache = None
    if not args.no_cache:
        root = results_root(args.paths, config.settings)
        folder = Path(config.settings.cache_dir or os.path.join(root, DEFAULT_FOLDER))
        cache = ResultsCache.open(folder, config.fingerprint() + f"\nedits={detail.edits}\nrows={detail.rows}")
    reports = check_files(
        paths, config.settings_for, jobs=args.jobs, cache=cache, detail=detail, progress=None if args.quiet else err
    )
    if cache is not None:
        cache.save()
    if args.add_noqa:
        return write_noqa(reports, err)
    shown = Shown(unsafe_fixes=config.unsafe_fixes)
    if args.statistics:
        statistics(reports, shown, out)
    else:
        FORMATS[args.output_format](reports, out, shown)
        if args.output_format in ("concise", "full") and not args.quiet:
            summary(reports, shown, out)
    out.flush()
    found = any(report.findings for report in reports)
    return EXIT_CLEAN if args.exit_zero or not found else EXIT_FOUND
