"""Any program: ``fix`` either rewrites it into code that parses and that a second run leaves alone,
or raises ``FixError`` and changes nothing; it never crashes."""

from __future__ import annotations

import ast

import hypothesmith
from hypothesis import HealthCheck, given, settings

from flake8_celery_django.fixes import FixError, fix_source
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings

ALL = Settings(enabled=frozenset(RULES))
# Code every fixer acts on, appended so that each generated program has something to fix.
FIXABLE = """
import requests
requests.get(url)
requests.post(url, timeout=None)
"""


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_fix_never_crashes_and_is_idempotent(program: str) -> None:
    source = program + "\n" + FIXABLE
    try:
        result = fix_source(source, "generated.py", ALL, unsafe=True)
    except FixError:
        return
    if result.skipped is not None:
        return
    ast.parse(result.source)
    assert fix_source(result.source, "generated.py", ALL, unsafe=True).source == result.source
