"""``check`` on one file: read, parse, run the same detection as flake8, apply ``# noqa``, report.

The detection is :func:`flake8_celery_django.api.check_tree`, the function the flake8 plugin calls,
so ``check`` and flake8 find the same things.  Positions become 1-based character columns (the
tree counts UTF-8 bytes).  Fix edits, which need libcst, are computed only when asked for (the
JSON and SARIF outputs) and only for findings whose rule has a fix.
"""

from __future__ import annotations

import ast
import difflib
import tokenize
import warnings
from dataclasses import replace

from flake8_celery_django import noqa
from flake8_celery_django.api import check_tree
from flake8_celery_django.context import Finding
from flake8_celery_django.fix_plans import NotFixable
from flake8_celery_django.fixable import physical_lines
from flake8_celery_django.registry import registered_rules
from flake8_celery_django.reports import FileReport, Position, Reported, SuggestedFix, TextEdit
from flake8_celery_django.settings import Settings


def decode(data: bytes) -> str:
    """Python source as the interpreter decodes it (coding cookie, BOM); line endings kept."""
    encoding, _ = tokenize.detect_encoding(iter(data.splitlines(keepends=True)).__next__)
    return data.decode(encoding)


def failure(path: str, message: str, row: int = 1, column: int = 1) -> FileReport:
    where = Position(max(row, 1), max(column, 1))
    return FileReport(path, (Reported(None, message, where, where, where.row),), failed=True)


def parse(source: str, path: str) -> ast.Module | FileReport:
    """The tree, or the report of why the file does not parse."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(source, path)
        except SyntaxError as error:
            return failure(path, f"SyntaxError: {error.msg}", error.lineno or 1, error.offset or 1)
        except ValueError as error:  # null bytes
            return failure(path, f"SyntaxError: {error}")
        except (RecursionError, MemoryError):
            return failure(path, "SyntaxError: the file nests too deeply to be parsed")


def fix_title(code: str) -> str:
    rule = registered_rules()[code]
    return f"Apply the {rule.fix} fix of {code} ({rule.name}) with `flake8-celery-django fix`"


def _column(lines: list[str], row: int, byte_column: int) -> int:
    if not 0 < row <= len(lines):
        return byte_column + 1
    return len(lines[row - 1].encode("utf-8")[:byte_column].decode("utf-8", errors="ignore")) + 1


def line_edits(before: str, after: str) -> tuple[TextEdit, ...]:
    """Whole-line edits that turn ``before`` into ``after``."""
    old, new = physical_lines(before), physical_lines(after)
    edits = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append(TextEdit("".join(new[j1:j2]), Position(i1 + 1, 1), Position(i2 + 1, 1)))
    return tuple(edits)


def suggested_edits(source: str, tree: ast.Module, finding: Finding, settings: Settings) -> tuple[TextEdit, ...]:
    """The edits of this one finding's fix, or none when its fixer leaves this occurrence to a person."""
    from flake8_celery_django.fixes.engine import apply_findings

    try:
        rewritten, fixed = apply_findings(source, [finding], settings, tree)
    except Exception:  # noqa: BLE001  (no edits rather than no report)
        return ()
    return line_edits(source, rewritten) if fixed else ()


def check_source_text(
    path: str, source: str, settings: Settings, *, edits: bool = False, rows: bool = False
) -> FileReport:
    """The report of one file's text; ``edits`` computes fix edits, ``rows`` exact ``noqa_row`` values
    (the last line of a multi-line string), both for machine-read output."""
    parsed = parse(source, path)
    if isinstance(parsed, FileReport):
        return parsed
    has_noqa = noqa.mentions_noqa(source)
    lines = physical_lines(source) if has_noqa and "CDJ" in source else None
    findings = check_tree(parsed, path, settings, lines=lines)
    if not findings:
        return FileReport(path)
    lines = lines or physical_lines(source)
    if has_noqa and noqa.file_is_skipped(lines):
        return FileReport(path)
    spans = noqa.line_spans(source, lines) if has_noqa or rows or edits else {}
    texts = noqa.noqa_lines(source, lines, spans) if has_noqa else {}
    rules = registered_rules()
    reported = []
    for finding in findings:
        if has_noqa and noqa.silenced(finding.code, texts.get(finding.line)):
            continue
        safety = rules[finding.code].fix
        fix = None
        # A finding whose fix detection refused (``NotFixable``) is shown without ``[*]``, as ruff does.
        if safety != "none" and not isinstance(finding.fix, NotFixable):
            fix = SuggestedFix(safety, fix_title(finding.code))
            if edits:
                found = suggested_edits(source, parsed, finding, settings)
                fix = replace(fix, edits=found) if found else None
        end_row = finding.end_line or finding.line
        reported.append(
            Reported(
                finding.code,
                finding.message.removeprefix(finding.code + " "),
                Position(finding.line, _column(lines, finding.line, finding.col)),
                Position(end_row, _column(lines, end_row, finding.end_col if finding.end_line else finding.col)),
                spans.get(finding.line, (finding.line, finding.line))[1],
                fix,
            )
        )
    return FileReport(path, tuple(reported))


def check_file(
    path: str, settings: Settings, *, edits: bool = False, rows: bool = False, data: bytes | None = None
) -> FileReport:
    """Read (unless ``data`` is given) and check one file; a file that cannot be read or parsed fails."""
    if data is None:
        try:
            with open(path, "rb") as stream:
                data = stream.read()
        except OSError as error:
            return failure(path, f"cannot read it: {error.strerror}")
    try:
        source = decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as error:
        return failure(path, f"cannot decode it: {error}")
    return check_source_text(path, source, settings, edits=edits, rows=rows)
