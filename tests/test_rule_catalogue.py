"""Every registered rule is documented, listed, tested both ways and shown in the example project."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import tests
from flake8_celery_django.registry import RULES
from flake8_celery_django.api import check_source
from tests.cases import Case, all_codes_settings

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety", "Options", "References")
CODES = sorted(RULES)


def all_cases() -> list[Case]:
    found: list[Case] = []
    for module in pkgutil.iter_modules(tests.__path__):
        if module.name.startswith("test_"):
            found.extend(getattr(importlib.import_module(f"tests.{module.name}"), "CASES", []))
    return found


def test_codes_are_well_formed() -> None:
    assert CODES, "no rules registered"
    for code in CODES:
        # families 1-6 find bugs; 9 is about the linter's own comments (CDJ900 unused-noqa)
        assert re.fullmatch(r"CDJ[1-6]\d\d|CDJ9\d\d", code), code


@pytest.mark.parametrize("code", CODES)
def test_rule_has_doc_page_with_every_section(code: str) -> None:
    page = ROOT / "docs" / "rules" / f"{code}.md"
    assert page.is_file(), f"missing {page.relative_to(ROOT)}"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# {code}: {RULES[code].name}\n"), "the title is '# CODE: name'"
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    # "Known problems" is there where a rule has some, just before "References".
    expected = [*SECTIONS[:-1], "Known problems", SECTIONS[-1]] if "Known problems" in headings else list(SECTIONS)
    assert headings == expected, f"{code}.md sections are {headings}"
    for section in expected:
        body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
        assert body.strip(), f"{code}.md: section {section!r} is empty"


@pytest.mark.parametrize("code", CODES)
def test_rule_has_readme_row(code: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rule = RULES[code]
    row = re.search(rf"^\| \[{code}\]\(docs/rules/{code}\.md\) \| `{rule.name}` \|(.+)\|$", readme, re.MULTILINE)
    assert row, f"README.md has no row for {code}"
    cells = [cell.strip() for cell in row.group(1).split("|")]
    default = "yes" if rule.default_enabled else "no"
    assert cells[1:] == [default, rule.fix], f"README row of {code}: {cells}"


@pytest.mark.parametrize("code", CODES)
def test_rule_has_failing_and_passing_cases(code: str) -> None:
    cases = [case for case in all_cases() if case.code == code]
    assert any(not case.is_valid for case in cases), f"{code} has no case that reports it"
    assert any(case.is_valid for case in cases), f"{code} has no near-miss case"


def test_every_case_names_a_registered_code() -> None:
    unknown = {case.code for case in all_cases()} - set(RULES)
    assert not unknown


def test_messages_name_the_code_and_the_remedy() -> None:
    for code, rule in RULES.items():
        assert rule.summary and rule.message, code
        assert rule.fix in ("safe", "unsafe", "none"), code


def test_every_message_of_every_case_fits_in_100_characters() -> None:
    """Messages are one short sentence: checked on what every failing case reports, code included."""
    lengths: dict[str, int] = {}
    for case in all_cases():
        if case.is_valid:
            continue
        for finding in check_source(case.source, "example.py", all_codes_settings(**case.options), strict=True):
            assert len(finding.message) <= 100, finding.message
            lengths[finding.code] = max(lengths.get(finding.code, 0), len(finding.message))
    assert sorted(lengths) == CODES
