"""``check --add-noqa``: silence every current finding with a ``# noqa: CODE`` on its line.

For adopting the linter on an existing codebase, as ruff's ``--add-noqa``: the comment goes on the
line flake8 reads it from (``noqa_row``: for a multi-line string, its last line).  Codes already in
a ``# noqa: ...`` comment are kept and the new ones added to it; a bare ``# noqa`` already silences
everything.  Running it twice adds nothing.  CDJ900 (an unused ``# noqa``) is never silenced this
way: the remedy is to remove the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flake8.defaults import NOQA_INLINE_REGEXP

from flake8_celery_django.fixable import physical_lines
from flake8_celery_django.noqa import CODE_SEPARATOR
from flake8_celery_django.reports import FileReport
from flake8_celery_django.rules.noqa_comments import UNUSED_NOQA


def codes_by_row(report: FileReport) -> dict[int, set[str]]:
    rows: dict[int, set[str]] = {}
    for finding in report.findings:
        if finding.code is not None and finding.code != UNUSED_NOQA.code:
            rows.setdefault(finding.noqa_row, set()).add(finding.code)
    return rows


def _with_codes(line: str, codes: Iterable[str]) -> str:
    """``line`` (without its line ending) with ``codes`` in its ``# noqa``, or a new one appended."""
    match = NOQA_INLINE_REGEXP.search(line)
    if match is None:
        return f"{line.rstrip()}  # noqa: {', '.join(sorted(codes))}"
    listed: str | None = match.group("codes")
    if listed is None:
        return line  # a bare noqa silences every code
    present = [code for code in CODE_SEPARATOR.split(listed.strip()) if code]
    missing = sorted(set(codes) - set(present))
    if not missing:
        return line
    start: int = match.start("codes")
    trailing = listed[len(listed.rstrip()):]
    return line[:start] + ", ".join([*present, *missing]) + trailing + line[start + len(listed):]


def add_noqa(source: str, rows: Mapping[int, Iterable[str]]) -> tuple[str, int]:
    """``source`` with the ``codes`` of each row silenced there, and how many lines changed."""
    lines = physical_lines(source)
    changed = 0
    for row, codes in rows.items():
        if not 0 < row <= len(lines):
            continue
        text = lines[row - 1]
        body = text.rstrip("\r\n")
        updated = _with_codes(body, codes)
        if updated != body:
            lines[row - 1] = updated + text[len(body):]
            changed += 1
    return "".join(lines), changed


def add_noqa_to_file(path: str, rows: Mapping[int, Iterable[str]]) -> int:
    """Rewrite ``path`` (same encoding, line endings, mode and owner; links followed); the lines changed."""
    import tokenize

    from flake8_celery_django import writing

    snapshot = writing.read(path)
    data = snapshot.data
    encoding, _ = tokenize.detect_encoding(iter(data.splitlines(keepends=True)).__next__)
    text, changed = add_noqa(data.decode(encoding), rows)
    if changed:
        try:
            writing.write(snapshot, text.encode(encoding))
        except writing.WriteRefused as error:
            raise OSError(str(error)) from None
    return changed
