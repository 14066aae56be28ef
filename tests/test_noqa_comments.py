"""CDJ900 unused-noqa: detection cases, messages, the fix, and the same result under flake8."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flake8_celery_django.api import check_source
from flake8_celery_django.fixes.noqa_comments import without_codes
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings
from tests.cases import Case, assert_case, invalid, valid
from tests.fixing import check_noop, check_transformed

CASES: list[Case] = [
    invalid(
        "CDJ900",
        """
        import requests
        requests.get(url, timeout=3)  # noqa: CDJ201
        """,
        (3, 30),
    ),
    invalid(
        "CDJ900",
        """
        x = 1  # noqa: E501, CDJ2
        y = '''
        text
        '''  # noqa: CDJ101,CDJ201
        """,
        (2, 7),
        (5, 5),
    ),
    valid(
        "CDJ900",
        """
        import requests
        requests.get(url)  # noqa: CDJ201
        requests.get(url)  # noqa: CDJ2
        requests.get(url)  # noqa
        x = 1  # noqa: E501
        y = 2  # noqa: CDJ900
        """,
    ),
    valid(
        "CDJ900",
        """
        import requests
        requests.get('''
        ''')  # noqa: CDJ201
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_unused_noqa_cases(case: Case) -> None:
    assert_case(case)


def messages(source: str, enabled: frozenset[str]) -> list[tuple[int, int, str]]:
    return [(f.line, f.col, f.message) for f in check_source(source, "x.py", Settings(enabled=enabled), strict=True)]


def test_message_names_the_unused_codes() -> None:
    source = "x = 1  # noqa: CDJ101, CDJ201\ny = 2  # noqa: CDJ201\n"
    assert messages(source, frozenset(RULES)) == [
        (1, 7, "CDJ900 # noqa names CDJ101, CDJ201 but nothing on this line reports them; remove them"),
        (2, 7, "CDJ900 # noqa names CDJ201 but nothing on this line reports it; remove it"),
    ]


def test_a_code_is_judged_by_its_rule_whether_or_not_that_rule_is_selected() -> None:
    lock = (
        "from shop.models import P\n\n\ndef f():\n"
        "    return P.objects.select_for_update().get(pk=1)  # noqa: CDJ302, CDJ201\n"
    )
    expected = [(5, 52, "CDJ900 # noqa names CDJ201 but nothing on this line reports it; remove it")]
    assert messages(lock, frozenset({"CDJ900"})) == expected
    assert [item for item in messages(lock, frozenset(RULES)) if "CDJ900" in item[2]] == expected
    assert messages("x = 1  # noqa: CDJ7, CDJ999\n", frozenset(RULES)) == []  # no rule of ours


def test_column_counts_bytes_like_every_other_finding() -> None:
    assert messages("é = 1  # noqa: CDJ201\n", frozenset(RULES)) == [
        (1, 8, "CDJ900 # noqa names CDJ201 but nothing on this line reports it; remove it")
    ]


@pytest.mark.parametrize(
    ("comment", "unused", "expected"),
    [
        ("# noqa: CDJ201", ("CDJ201",), ""),
        ("# noqa: E501, CDJ201", ("CDJ201",), "# noqa: E501"),
        ("# noqa:CDJ101,CDJ201,E501", ("CDJ101", "CDJ201"), "# noqa:E501"),
        ("# keep this  # noqa: CDJ201", ("CDJ201",), "# keep this"),
        ("# noqa: CDJ201  # keep that", ("CDJ201",), "# keep that"),
        ("# a plain comment", ("CDJ201",), None),
    ],
)
def test_without_codes(comment: str, unused: tuple[str, ...], expected: str | None) -> None:
    assert without_codes(comment, unused) == expected


def test_fix_removes_unused_codes_and_empty_comments() -> None:
    check_transformed(
        """
        import requests
        requests.get(u, timeout=3)  # noqa: CDJ201
        x = 1  # noqa: E501,CDJ2
        y = 2  # why  # noqa: CDJ101
        # noqa: CDJ201
        """,
        """
        import requests
        requests.get(u, timeout=3)
        x = 1  # noqa: E501
        y = 2  # why

        """,
    )


def test_fix_keeps_used_codes_and_bare_noqa() -> None:
    check_noop(
        """
        import requests
        requests.get(u)  # noqa: CDJ201
        requests.get(u)  # noqa
        z = 1  # noqa: CDJ900, CDJ201
        """
    )


def test_flake8_reports_it_too(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text("import requests\nrequests.get(u, timeout=3)  # noqa: CDJ201\n")
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "CDJ", "x.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.stdout == "x.py:2:29: CDJ900 # noqa names CDJ201 but nothing on this line reports it; remove it\n"
