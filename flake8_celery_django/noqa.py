"""``# noqa`` as flake8 reads it: a finding silenced there is not fixed either.

flake8 looks for the comment on the reported line, widened to every line of a token that spans
several (a multi-line string) or of a backslash continuation; ``# flake8: noqa`` skips the file.
"""

from __future__ import annotations

import io
import re
import tokenize

from flake8.defaults import NOQA_FILE, NOQA_INLINE_REGEXP

_CODE_SEPARATOR = re.compile(r"[,\s]+")


def file_is_skipped(lines: list[str]) -> bool:
    return any(NOQA_FILE.match(line) for line in lines)


def line_spans(source: str, lines: list[str]) -> dict[int, tuple[int, int]]:
    """Line number -> the first and last line of the tokens it belongs to (a multi-line string, a
    backslash continuation): where flake8 looks for ``# noqa``, and the last line is where one goes."""
    spans: dict[int, tuple[int, int]] = {}
    first = len(lines) + 2
    last = -1
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first = min(first, token.start[0])
            last = max(last, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                for number in range(first, last + 1):
                    spans[number] = (first, last)
                first = len(lines) + 2
                last = -1
    except (tokenize.TokenError, SyntaxError):
        return {}
    return spans


def noqa_lines(source: str, lines: list[str]) -> dict[int, str]:
    """Line number -> the text flake8 searches for ``# noqa`` when a finding is on that line."""
    texts: dict[tuple[int, int], str] = {}
    mapping: dict[int, str] = {}
    for number, span in line_spans(source, lines).items():
        text = texts.get(span)
        if text is None:
            text = texts[span] = "".join(lines[span[0] - 1:span[1]])
        mapping[number] = text
    return mapping


def silenced(code: str, text: str | None) -> bool:
    """Whether ``text`` carries a ``# noqa`` that covers ``code`` (bare, or naming it or a prefix)."""
    if not text:
        return False
    match = NOQA_INLINE_REGEXP.search(text)
    if match is None:
        return False
    codes = match.group("codes")
    if codes is None:
        return True
    listed = tuple(item for item in _CODE_SEPARATOR.split(codes.strip()) if item)
    return code in listed or code.startswith(listed)
