"""``# noqa`` as flake8 reads it: a finding silenced there is not fixed either.

flake8 looks for the comment on the reported line, widened to every line of a token that spans
several (a multi-line string) or of a backslash continuation; ``# flake8: noqa`` skips the file.
"""

from __future__ import annotations

import io
import re
import tokenize

from flake8.defaults import NOQA_FILE, NOQA_INLINE_REGEXP

CODE_SEPARATOR = re.compile(r"[,\s]+")


_NOQA_WORD = re.compile("noqa", re.IGNORECASE)


def mentions_noqa(source: str) -> bool:
    """Whether ``source`` may hold a ``# noqa`` (a quick test before tokenizing anything)."""
    return _NOQA_WORD.search(source) is not None


def file_is_skipped(lines: list[str]) -> bool:
    return any(NOQA_FILE.match(line) for line in lines)


Span = tuple[int, int]


def spans_and_comments(source: str, line_count: int) -> tuple[dict[int, Span], list[tokenize.TokenInfo]]:
    """One tokenization: line number -> the first and last line of the tokens it belongs to (a
    multi-line string, a backslash continuation), which is where flake8 looks for ``# noqa`` and
    whose last line is where one goes; and the file's comment tokens."""
    spans: dict[int, Span] = {}
    comments: list[tokenize.TokenInfo] = []
    first = line_count + 2
    last = -1
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            kind = token.type
            if kind == tokenize.ENDMARKER or kind == tokenize.DEDENT:
                continue
            if kind == tokenize.COMMENT:
                comments.append(token)
            first = min(first, token.start[0])
            last = max(last, token.end[0])
            if kind == tokenize.NL or kind == tokenize.NEWLINE:
                span = (first, last)
                for number in range(first, last + 1):
                    spans[number] = span
                first = line_count + 2
                last = -1
    except (tokenize.TokenError, SyntaxError):
        return {}, []
    return spans, comments


def line_spans(source: str, lines: list[str]) -> dict[int, Span]:
    return spans_and_comments(source, len(lines))[0]


def noqa_lines(source: str, lines: list[str], spans: dict[int, Span] | None = None) -> dict[int, str]:
    """Line number -> the text flake8 searches for ``# noqa`` when a finding is on that line."""
    texts: dict[Span, str] = {}
    mapping: dict[int, str] = {}
    for number, span in (line_spans(source, lines) if spans is None else spans).items():
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
    listed = tuple(item for item in CODE_SEPARATOR.split(codes.strip()) if item)
    return code in listed or code.startswith(listed)
