"""The ``flake8-celery-django`` command: ``fix``, ``rules`` and ``explain``.

Exit codes of ``fix``: 0 when nothing is left to fix, 1 when files were changed (or, with
``--check``/``--diff``, would be), 2 on a usage error or a file that could not be read, fixed or
written.  With ``-`` (standard input) 0 says no fixable finding remains in the output, 1 that one does.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import tokenize
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn, TextIO

from flake8_celery_django import __version__, check_command, fixable, writing
from flake8_celery_django import rules as _rules  # noqa: F401  (declares every rule)
from flake8_celery_django.registry import RULES, Rule
from flake8_celery_django.options import OPTIONS, add_arguments
from flake8_celery_django.settings import SettingsError

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
    # Findings of the codes being fixed that stay (their fix would not be correct there).
    unfixed: int = 0


def _report_unfixed(name: str, refusals: Sequence[fixable.Refusal], run: FixRun, err: TextIO) -> None:
    for refusal in refusals:
        finding = refusal.finding
        err.write(f"{name}:{finding.line}:{finding.col + 1}: {finding.code} not fixable: {refusal.reason}\n")
    run.unfixed += len(refusals)


@dataclass(frozen=True)
class Fixed:
    """One file's fixed bytes and how many findings the fix repaired."""

    data: bytes
    fixes: int


def _fix_one(
    name: str, data: bytes, args: argparse.Namespace, config: object, run: FixRun, err: TextIO
) -> Fixed | None:
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
    found = fixable.scan(source.text, fixable.Where(name, buffer), fixable.detection_settings(settings, unsafe=True))
    if found.skipped is not None:
        err.write(f"{name}: skipped, {found.skipped}\n")
        return None
    allowed = fixable.fixable_codes(args.unsafe_fixes)
    first = found.only(allowed)
    # the hint counts only what --unsafe-fixes would fix, not findings whose fix is refused
    run.unsafe_left += len(found.findings) - len(first.findings)
    if not first.findings:
        _report_unfixed(name, first.refused, run, err)
        return None
    from flake8_celery_django.fixes import FixError, fix_source

    try:
        result = fix_source(
            source.text, name, settings, unsafe=args.unsafe_fixes, first=first, line_length=config.line_length,
            buffer=buffer,
        )
        new_data = result.source.encode(source.encoding) if result.changed else None
        _report_unfixed(name, result.unfixed, run, err)
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
    if args.diff:
        sys.stdout.write(unified_diff(source.text, result.source, name))
    elif args.check:
        sys.stdout.write(f"would fix {name}: {_describe(result.fixed)}\n")
    return Fixed(new_data, sum(result.fixed.values()))


def _files(args: argparse.Namespace, config: object) -> list[str]:
    from flake8_celery_django.config import FixConfig
    from flake8_celery_django.files import discover

    assert isinstance(config, FixConfig)
    return discover(args.paths, config.exclude, config.filename_patterns, force_exclude=args.force_exclude)


def command_line(args: argparse.Namespace) -> dict[str, object]:
    """What the command line says of the configuration (``None``: not given), by option name."""
    given: dict[str, object] = {key: getattr(args, key.replace("-", "_")) for key in SELECTION_KEYS}
    given["unsafe-fixes"] = True if args.unsafe_fixes else None
    given.update({option.name: getattr(args, option.dest) for option in OPTIONS})
    return given


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
        config = configuration.load(config=args.config, isolated=args.isolated, command_line=command_line(args))
    except SettingsError as error:
        raise UsageError(str(error)) from None
    args.unsafe_fixes = config.unsafe_fixes
    run = FixRun()
    if args.paths == ["-"]:
        data = sys.stdin.buffer.read()
        name = args.stdin_display_name
        fixed = _fix_one(name, data, args, config, run, err)
        if fixed is not None:
            run.changed_files, run.fixes = 1, fixed.fixes
        if not (args.diff or args.check):
            sys.stdout.buffer.write(fixed.data if fixed is not None else data)
            sys.stdout.flush()
            # as ruff does: the fixed text is the output, and 1 says that findings remain in it
            _summary(args, run, err)
            return EXIT_ERROR if run.errors else EXIT_CHANGED if run.unfixed or run.unsafe_left else EXIT_CLEAN
    else:
        for path in _files(args, config):
            _fix_file(path, args, config, run, err)
    _summary(args, run, err)
    if run.errors:
        return EXIT_ERROR
    return EXIT_CHANGED if run.changed_files else EXIT_CLEAN


def _fix_file(path: str, args: argparse.Namespace, config: object, run: FixRun, err: TextIO) -> None:
    """Fix one file on disk (or show its diff); every failure is reported and counted."""
    try:
        snapshot = writing.read(path)
    except OSError as error:
        err.write(f"{path}: cannot read it: {error.strerror}\n")
        run.errors += 1
        return
    fixed = _fix_one(path, snapshot.data, args, config, run, err)
    if fixed is None:
        return
    if not (args.diff or args.check):
        try:
            writing.write(snapshot, fixed.data)
        except writing.WriteRefused as error:
            err.write(f"{path}: not fixed, left as it was: {error}\n")
            run.errors += 1
            return
        sys.stdout.write(f"fixed {path}\n")
    run.changed_files += 1
    run.fixes += fixed.fixes


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
SELECTION_KEYS = ("select", "ignore", "extend-select", "extend-ignore", "exclude", "extend-exclude")


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """Selection and exclusion flags shared by ``check`` and ``fix``, then every ``cdj-*`` option."""
    parser.add_argument("--select", metavar="CODES", help="only these codes or prefixes (comma-separated)")
    parser.add_argument("--ignore", metavar="CODES", help="not these codes or prefixes (comma-separated)")
    parser.add_argument("--extend-select", metavar="CODES", help="these codes too, over the configured selection")
    parser.add_argument("--extend-ignore", metavar="CODES", help="not these codes either")
    parser.add_argument("--exclude", metavar="PATTERNS", help="files and folders to leave out (comma-separated)")
    parser.add_argument("--extend-exclude", metavar="PATTERNS", help="more files and folders to leave out")
    add_arguments(parser)


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``--help`` still shows the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="flake8-celery-django",
        description="Check, fix, list and explain the flake8-celery-django rules.",
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
    add_selection_arguments(fix)
    fix.add_argument(
        "--force-exclude", action="store_true", help="apply the excludes to files named on the command line too"
    )
    fix.add_argument("--config", metavar="PATH", help="flake8 configuration file to read instead of the usual ones")
    fix.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    fix.add_argument(
        "--stdin-display-name", default="stdin", metavar="NAME", help="the name of standard input in messages"
    )

    check = check_command.add_parser(commands)
    add_selection_arguments(check)

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
        if args.command == "check":
            return check_command.command_check(args, command_line(args), sys.stdout, sys.stderr)
        return command_fix(args, sys.stderr)
    except (UsageError, check_command.CheckUsageError) as error:
        sys.stderr.write(f"flake8-celery-django: error: {error}\n")
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
