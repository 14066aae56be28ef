"""Inline rule cases: a source snippet and the exact findings (line, column, code) it must give.

Every family's test module lists its cases in ``CASES``; ``test_rule_catalogue`` checks that every
registered code has at least one case that reports it and one near-miss that must stay silent.
Lines are those of the dedented snippet (its first line is line 1); columns are 0-based, as flake8
receives them from plugins (flake8 prints them 1-based).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from flake8_celery_django.api import check_source
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings

Position = tuple[int, int]


@dataclass(frozen=True)
class Case:
    code: str
    source: str
    expected: tuple[Position, ...] = ()
    options: dict[str, object] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not self.expected

    def id(self) -> str:
        first = next((line.strip() for line in self.source.splitlines() if line.strip()), "")
        kind = "invalid" if self.expected else "valid"
        return f"{self.code}-{kind}-{first[:40]}"


def invalid(code: str, source: str, *expected: Position, **options: object) -> Case:
    """A snippet that must report ``code`` exactly at ``expected`` (and nowhere else)."""
    assert expected, "an invalid case names where it reports"
    return Case(code, textwrap.dedent(source), tuple(expected), options)


def valid(code: str, source: str, **options: object) -> Case:
    """A near-miss: a snippet on which ``code`` must stay silent."""
    return Case(code, textwrap.dedent(source), (), options)


def all_codes_settings(**options: object) -> Settings:
    return Settings(enabled=frozenset(RULES), **options)  # type: ignore[arg-type]


def positions(source: str, code: str, **options: object) -> list[Position]:
    findings = check_source(source, "example.py", all_codes_settings(**options), strict=True)
    return [(f.line, f.col) for f in findings if f.code == code]


def assert_case(case: Case) -> None:
    assert positions(case.source, case.code, **case.options) == list(case.expected), case.source
