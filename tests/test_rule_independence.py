"""What a rule reports never depends on which other rules are on, nor on what was imported first."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flake8_celery_django.api import check_source
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings
from tests.cases import all_codes_settings
from tests.test_rule_catalogue import all_cases

CASES_WITH_SOURCES = [case for case in all_cases() if not case.is_valid]


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_alone_reports_what_it_reports_among_all(code: str) -> None:
    for case in CASES_WITH_SOURCES:
        options = case.options
        every = check_source(case.source, "example.py", all_codes_settings(**options), strict=True)
        alone_settings = Settings(enabled=frozenset({code}), **options)  # type: ignore[arg-type]
        alone = check_source(case.source, "example.py", alone_settings, strict=True)
        assert [f for f in every if f.code == code] == alone, case.source


def test_settings_built_before_the_rules_are_imported_enable_every_default_rule() -> None:
    program = (
        "from flake8_celery_django.settings import Settings\n"
        "settings = Settings()\n"
        "from flake8_celery_django.api import check_source\n"
        "found = check_source('import requests\\nrequests.get(url)\\n', 'x.py', settings)\n"
        "print(sorted(settings.enabled)[0], [f.code for f in found])\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert result.stdout == "CDJ101 ['CDJ201']\n"
