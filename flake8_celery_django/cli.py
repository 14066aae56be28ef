"""The ``flake8-celery-django`` command: ``fix``, ``rules`` and ``explain``.

Exit codes of ``fix``: 0 when nothing is left to fix, 1 when files were changed (or, with
``--check``/``--diff``, would be), 2 on a usage error or a file that could not be read or fixed.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import tempfile
import tokenize
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from flake8_celery_django import __version__, fixable
from flake8_celery_django import rules as _rules  # noqa: F401  (declares every rule)
from flake8_celery_django.registry import RULES, Rule
from flake8_celery_django.settings import SettingsError, split_codes

EXIT_CLEAN = 0
EXIT_CHANGED = 1
EXIT_ERROR = 2
FIX_LABELS = {"safe": "safe", "unsafe": "unsafe", "none": "no"}


class UsageError(Exception):
    """A bad command line or configuration: one line, exit code 2."""


# -- rules and explain -------------------------------------------------------------------------
def _rule_named(text: str) -> Rule:
    wanted = text.strip()
    for code, rule in RULES.items():
        if wanted.upper() == code or wanted.lower() == rule.name:
            return rule
    raise UsageError(f"unknown rule {text!r}; `flake8-celery-django rules` lists them")


def command_rules(out: TextIO) -> int:
    rows = [("Code", "Name", "Default", "Fix", "Summary")]
    for code in sorted(RULES):
        rule = RULES[code]
        rows.append((code, rule.name, "on" if rule.default_enabled else "off", FIX_LABELS[rule.fix], rule.summary))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        out.write("  ".join([*cells, row[4]]).rstrip() + "\n")
    return EXIT_CLEAN


def command_explain(code: str, out: TextIO) -> int:
    from flake8_celery_django.documentation import page

    rule = _rule_named(code)
    text = page(rule.code)
    if text is None:
        raise UsageError(f"{rule.code} has no documentation page in this installation")
    out.write(text if text.endswith("\n") else text + "\n")
    return EXIT_CLEAN


# -- fix ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceFile:
    text: str
    encoding: str


def read_source(data: bytes) -> SourceFile:
    """Decode Python source as the interpreter would (coding cookie, BOM), line endings kept."""
    encoding, _ = tokenize.detect_encoding(iter(data.splitlines(keepends=True)).__next__)
    return SourceFile(data.decode(encoding), encoding)


def write_atomically(path: str, data: bytes) -> None:
    """Write a temporary file beside ``path`` and move it over ``path`` (same permissions)."""
    directory = os.path.dirname(os.path.abspath(path))
    mode = os.stat(path).st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def unified_diff(before: str, after: str, name: str) -> str:
    name = os.path.normpath(name)
    old, new = (name, name) if os.path.isabs(name) else (f"a/{name}", f"b/{name}")
    lines = []
    for line in difflib.unified_diff(fixable.physical_lines(before), fixable.physical_lines(after), old, new):
        lines.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def _describe(fixed: Counter[str]) -> str:
    return ", ".join(f"{code}" if count == 1 else f"{code} x{count}" for code, count in sorted(fixed.items()))


@dataclass
class FixRun:
    """Counts over one ``fix`` run, for the exit code and the closing summary."""

    changed_files: int = 0
    fixes: int = 0
    errors: int = 0
    unsafe_left: int = 0


def _fix_one(
    name: str, data: bytes, args: argparse.Namespace, config: object, run: FixRun, err: TextIO
) -> bytes | None:
    """The fixed bytes of one file (``None`` when unchanged or on error, which is reported).

    The file is scanned (parsed with ``ast``, checked) first; libcst is loaded only for a file with
    a finding to fix.
    """
    from flake8_celery_django.config import FixConfig

    assert isinstance(config, FixConfig)
    try:
        source = read_source(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as error:
        err.write(f"{name}: cannot read it: {error}\n")
        run.errors += 1
        return None
    settings = config.settings_for(name)
    buffer = args.paths == ["-"]
    found = fixable.scan(source.text, name, fixable.detection_settings(settings, unsafe=True), buffer)
    if found.skipped is not None:
        err.write(f"{name}: skipped, {found.skipped}\n")
        return None
    allowed = fixable.fixable_codes(args.unsafe_fixes)
    to_fix = tuple(finding for finding in found.findings if finding.code in allowed)
    run.unsafe_left += len(found.findings) - len(to_fix)
    if not to_fix:
        return None
    from flake8_celery_django.fixes import FixError, fix_source

    try:
        first = fixable.Scan(found.tree, to_fix)
        result = fix_source(
            source.text, name, settings, unsafe=args.unsafe_fixes, first=first, line_length=config.line_length
        )
        new_data = result.source.encode(source.encoding) if result.changed else None
    except FixError as error:
        err.write(f"{name}: not fixed, left as it was: {error}\n")
        run.errors += 1
        return None
    except UnicodeEncodeError as error:
        err.write(f"{name}: not fixed, left as it was: the fix cannot be written in {source.encoding}: {error}\n")
        run.errors += 1
        return None
    if new_data is None:
        return None
    run.changed_files += 1
    run.fixes += sum(result.fixed.values())
    if args.diff:
        sys.stdout.write(unified_diff(source.text, result.source, name))
    elif args.check:
        sys.stdout.write(f"would fix {name}: {_describe(result.fixed)}\n")
    return new_data


def _files(args: argparse.Namespace, config: object) -> list[str]:
    from flake8.discover_files import expand_paths

    from flake8_celery_django.config import FixConfig

    assert isinstance(config, FixConfig)
    return sorted(
        set(
            expand_paths(
                paths=args.paths,
                stdin_display_name=args.stdin_display_name,
                filename_patterns=config.filename_patterns,
                exclude=config.exclude,
            )
        )
    )


def command_fix(args: argparse.Namespace, err: TextIO) -> int:
    from flake8_celery_django import config as configuration

    if "-" in args.paths and len(args.paths) > 1:
        raise UsageError("`-` (standard input) cannot be combined with other paths")
    if args.diff and args.check:
        raise UsageError("--diff and --check cannot be used together")
    for path in args.paths:
        if path != "-" and not os.path.exists(path):
            raise UsageError(f"{path}: no such file or directory")
    try:
        config = configuration.load(
            config=args.config,
            isolated=args.isolated,
            select=split_codes(args.select) if args.select is not None else None,
            ignore=split_codes(args.ignore) if args.ignore is not None else None,
            unsafe_fixes=True if args.unsafe_fixes else None,
            default_timeout=args.cdj_default_timeout,
            prefer_delay_on_commit=args.cdj_prefer_delay_on_commit,
            project_root=args.cdj_project_root,
            cache_dir=args.cdj_cache_dir,
            no_project_index=args.cdj_no_project_index,
        )
    except SettingsError as error:
        raise UsageError(str(error)) from None
    args.unsafe_fixes = config.unsafe_fixes
    run = FixRun()
    if args.paths == ["-"]:
        data = sys.stdin.buffer.read()
        name = args.stdin_display_name
        fixed = _fix_one(name, data, args, config, run, err)
        if not (args.diff or args.check):
            sys.stdout.buffer.write(fixed if fixed is not None else data)
            sys.stdout.flush()
    else:
        for path in _files(args, config):
            try:
                with open(path, "rb") as stream:
                    data = stream.read()
            except OSError as error:
                err.write(f"{path}: cannot read it: {error.strerror}\n")
                run.errors += 1
                continue
            fixed = _fix_one(path, data, args, config, run, err)
            if fixed is None or args.diff or args.check:
                continue
            try:
                write_atomically(path, fixed)
            except OSError as error:
                err.write(f"{path}: cannot write it, left as it was: {error.strerror}\n")
                run.errors += 1
                run.changed_files -= 1
                continue
            sys.stdout.write(f"fixed {path}\n")
    _summary(args, run, err)
    if run.errors:
        return EXIT_ERROR
    return EXIT_CHANGED if run.changed_files else EXIT_CLEAN


def _summary(args: argparse.Namespace, run: FixRun, err: TextIO) -> None:
    verb = "would fix" if args.diff or args.check else "fixed"
    if run.fixes:
        files = "file" if run.changed_files == 1 else "files"
        err.write(f"{verb} {run.fixes} finding{'s' if run.fixes != 1 else ''} in {run.changed_files} {files}\n")
    if run.unsafe_left:
        plural, were = ("s", "they were") if run.unsafe_left != 1 else ("", "it was")
        err.write(
            f"{run.unsafe_left} finding{plural} of rules with an unsafe fix left as {were}; "
            "--unsafe-fixes applies those fixes (read each rule's Fix safety first)\n"
        )


# -- the command line ---------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flake8-celery-django",
        description="Fix, list and explain the flake8-celery-django rules (the checks run inside flake8).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    fix = commands.add_parser(
        "fix",
        help="rewrite files in place, applying every safe fix",
        description="Rewrite Python files in place with every safe fix (or read standard input and "
        "write standard output with `-`). Exit 0: nothing to fix; 1: files changed or would change; "
        "2: usage error or a file that could not be fixed.",
    )
    fix.add_argument("paths", nargs="+", metavar="PATH", help="files or directories, or - for standard input")
    fix.add_argument("--unsafe-fixes", action="store_true", help="also apply the unsafe fixes")
    output = fix.add_mutually_exclusive_group()
    output.add_argument("--diff", action="store_true", help="print a unified diff and write nothing")
    output.add_argument("--check", action="store_true", help="write nothing; exit 1 when something would change")
    fix.add_argument("--select", metavar="CODES", help="fix only these codes or prefixes (comma-separated)")
    fix.add_argument("--ignore", metavar="CODES", help="do not fix these codes or prefixes (comma-separated)")
    fix.add_argument("--cdj-default-timeout", metavar="SECONDS", help="the timeout added to HTTP calls (default 30)")
    fix.add_argument(
        "--cdj-prefer-delay-on-commit",
        action="store_true",
        help="rewrite task.delay(...) to task.delay_on_commit(...) instead of wrapping it in on_commit",
    )
    fix.add_argument("--cdj-project-root", metavar="PATH", help="the project root the project index reads")
    fix.add_argument("--cdj-cache-dir", metavar="PATH", help="where the project index keeps its cache")
    fix.add_argument(
        "--cdj-no-project-index", action="store_true", help="judge every file on its own, without the project index"
    )
    fix.add_argument("--config", metavar="PATH", help="flake8 configuration file to read instead of the usual ones")
    fix.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    fix.add_argument(
        "--stdin-display-name", default="stdin", metavar="NAME", help="the name of standard input in messages"
    )

    commands.add_parser("rules", help="list the rules: code, name, default, fix")

    explain = commands.add_parser("explain", help="print a rule's documentation")
    explain.add_argument("code", metavar="CODE", help="a rule code (CDJ201) or name (http-call-without-timeout)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "rules":
            return command_rules(sys.stdout)
        if args.command == "explain":
            return command_explain(args.code, sys.stdout)
        return command_fix(args, sys.stderr)
    except UsageError as error:
        sys.stderr.write(f"flake8-celery-django: error: {error}\n")
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
