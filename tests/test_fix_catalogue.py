"""Every rule that says it has a fix has one, its page says which class, and the example project gets fixed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from flake8_celery_django.api import check_source
from flake8_celery_django.fixable import fixable_codes
from flake8_celery_django.fixes import FIXERS, fix_source
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.py"))


@pytest.mark.parametrize("code", sorted(RULES))
def test_declared_fix_matches_the_fixers(code: str) -> None:
    declared = RULES[code].fix
    assert (code in FIXERS) == (declared != "none"), f"{code} declares fix={declared!r}"
    if code in FIXERS:
        assert FIXERS[code].safety == declared, code  # read from the rule: declared once


@pytest.mark.parametrize("code", sorted(code for code, rule in RULES.items() if rule.fix != "none"))
def test_fix_safety_section_names_the_class(code: str) -> None:
    text = (ROOT / "docs" / "rules" / f"{code}.md").read_text(encoding="utf-8")
    section = text.split("## Fix safety\n", 1)[1].split("\n## ", 1)[0].strip()
    expected = {"safe": "Safe", "unsafe": "Unsafe"}[RULES[code].fix]
    assert section.split()[0].strip(".,:;") == expected, f"{code}.md: Fix safety starts with {section[:20]!r}"


def test_unsafe_fixes_need_the_flag() -> None:
    assert fixable_codes(False) == {code for code, fixer in FIXERS.items() if fixer.safety == "safe"}
    assert fixable_codes(True) == set(FIXERS)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_fixing_the_examples_leaves_no_safe_finding(path: Path) -> None:
    settings = Settings(enabled=frozenset(RULES))
    fixed = fix_source(path.read_text(encoding="utf-8"), str(path), settings).source
    ast.parse(fixed)
    left = {f.code for f in check_source(fixed, str(path), settings, strict=True)}
    assert not left & fixable_codes(False)
    assert fix_source(fixed, str(path), settings).source == fixed
