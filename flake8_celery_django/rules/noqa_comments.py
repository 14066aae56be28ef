"""CDJ900: a ``# noqa`` comment naming CDJ codes that silence nothing on its line.

This family reads the findings of the others, after the walk, as flake8 and ruff read noqa
comments after every check has run (ruff's RUF100): :func:`unused_noqa` is called by
``api.check_tree`` once the file's findings are known.  To judge a code, every rule runs on a file
that names CDJ codes in a ``# noqa`` (selected or not; a second walk when not all are), and a code
is used when the selected rules or all of them report it on the line, so what CDJ900 reports never
depends on which other rules are on, and other rules' findings never depend on CDJ900.  A bare ``# noqa``, which may silence other tools' codes, and codes of no
rule of this linter are never judged.
"""

from __future__ import annotations

from collections.abc import Sequence

from flake8.defaults import NOQA_INLINE_REGEXP

from flake8_celery_django.context import Finding
from flake8_celery_django.fix_plans import RemoveNoqaCodes
from flake8_celery_django.noqa import CODE_SEPARATOR, mentions_noqa, spans_and_comments
from flake8_celery_django.registry import registered_rules, rule

UNUSED_NOQA = rule(
    "CDJ900",
    "unused-noqa",
    "# noqa names {codes} but nothing on this line reports {them}; remove {them}",
    summary="`# noqa` comment naming a CDJ code that reports nothing on its line",
    fix="safe",
)


def may_hold_cdj_noqa(source: str) -> bool:
    """Whether ``source`` may hold a ``# noqa`` naming a CDJ code (before any tokenizing)."""
    return "CDJ" in source and mentions_noqa(source)


def _known(code: str) -> bool:
    """Whether ``code`` (a code or a prefix) stands for at least one rule this linter runs."""
    return any(known.startswith(code) and known != UNUSED_NOQA.code for known in registered_rules())


def unused_noqa(findings: Sequence[Finding], lines: Sequence[str], source: str) -> list[Finding]:
    """A CDJ900 finding on every ``# noqa: ...`` comment that names CDJ codes silencing nothing.

    ``findings`` are those of every rule on this file (``source``, its ``lines`` joined).
    """
    if not may_hold_cdj_noqa(source):
        return []
    spans, comments = spans_and_comments(source, len(lines))
    reported: list[Finding] = []
    for comment in comments:
        match = NOQA_INLINE_REGEXP.search(comment.string)
        if match is None or match.group("codes") is None:
            continue
        row = comment.start[0]
        first, last = spans.get(row, (row, row))
        found = [finding.code for finding in findings if first <= finding.line <= last]
        listed = [code for code in CODE_SEPARATOR.split(match.group("codes").strip()) if code]
        unused = tuple(
            code
            for code in listed
            if code.startswith("CDJ")
            and code != UNUSED_NOQA.code
            and _known(code)
            and not any(found_code.startswith(code) for found_code in found)
        )
        if not unused:
            continue
        line = lines[row - 1]
        start = len(line[: comment.start[1]].encode("utf-8"))
        end = len(line[: comment.end[1]].encode("utf-8"))
        message = UNUSED_NOQA.format(codes=", ".join(unused), them="it" if len(unused) == 1 else "them")
        reported.append(Finding(row, start, UNUSED_NOQA.code, message, row, end, RemoveNoqaCodes(unused)))
    return reported
