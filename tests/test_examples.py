"""The example project reports exactly the lines marked ``# CDJxxx`` and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flake8_celery_django.api import check_source
from flake8_celery_django.registry import RULES
from tests.cases import all_codes_settings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FILES = sorted(EXAMPLES.rglob("*.py"))
MARK = re.compile(r"#\s*(CDJ\d{3}(?:\s*,\s*CDJ\d{3})*)\s*$")


def marked(path: Path) -> set[tuple[int, str]]:
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = MARK.search(line)
        if match:
            found.update((number, code.strip()) for code in match.group(1).split(","))
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_reports_exactly_the_marked_lines(path: Path) -> None:
    findings = check_source(path.read_text(encoding="utf-8"), str(path), all_codes_settings(), strict=True)
    assert {(f.line, f.code) for f in findings} == marked(path)


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_fires_in_the_examples(code: str) -> None:
    assert any(code in {c for _, c in marked(path)} for path in FILES), f"no example shows {code}"
