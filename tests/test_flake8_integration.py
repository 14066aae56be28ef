"""The plugin through the real ``flake8`` program: selection, noqa, standard input, options."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from flake8_celery_django.plugin import CeleryDjangoChecker
from flake8_celery_django.registry import RULES

SOURCE = textwrap.dedent(
    """\
    import requests


    def refresh(url):
        requests.get(url)
        requests.get(url, timeout=None)
        requests.post(url)  # noqa: CDJ201
        return requests.get(url, timeout=5)
    """
)


def flake8(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAKE8")}
    return subprocess.run(
        [sys.executable, "-m", "flake8", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text(SOURCE)
    return tmp_path


EXPECTED = [
    "app/views.py:5:5: CDJ201 requests.get() has no timeout and can hang forever; pass timeout=<seconds>",
    "app/views.py:6:5: CDJ202 requests.get() has timeout=None and can hang forever; pass timeout=<seconds>",
]


def test_reported_in_the_default_selection(project: Path) -> None:
    result = flake8("app/views.py", cwd=project)
    assert result.returncode == 1
    assert [line for line in result.stdout.splitlines() if " CDJ" in line] == EXPECTED


def test_select_narrows_to_the_plugin(project: Path) -> None:
    result = flake8("--select", "CDJ", "app/views.py", cwd=project)
    assert result.stdout.splitlines() == EXPECTED


def test_select_one_code(project: Path) -> None:
    result = flake8("--select", "CDJ202", "app/views.py", cwd=project)
    assert result.stdout.splitlines() == EXPECTED[1:]


def test_extend_ignore_drops_a_code(project: Path) -> None:
    result = flake8("--select", "CDJ", "--extend-ignore", "CDJ201", "app/views.py", cwd=project)
    assert result.stdout.splitlines() == EXPECTED[1:]


def test_standard_input_gives_the_same_findings(project: Path) -> None:
    result = flake8("--select", "CDJ", "--stdin-display-name", "app/views.py", "-", cwd=project, stdin=SOURCE)
    assert result.stdout.splitlines() == EXPECTED


def test_options_from_a_config_file(project: Path) -> None:
    (project / "setup.cfg").write_text("[flake8]\nselect = CDJ\ncdj-default-timeout = 12.5\n")
    result = flake8("app/views.py", cwd=project)
    assert result.stdout.splitlines() == EXPECTED
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (["--cdj-default-timeout", "-1"], None, "--cdj-default-timeout takes a positive number of seconds, not '-1'"),
        (["--cdj-default-timeout", "soon"], None, "--cdj-default-timeout takes a number of seconds, not 'soon'"),
        (
            [],
            "[flake8]\ncdj-default-timeout = 0\n",
            "--cdj-default-timeout takes a positive number of seconds, not '0'",
        ),
        ([], "[flake8]\ncdj-atomic-requests = maybe\n", None),
        (["--select", "CDJ999"], None, "--select: unknown code 'CDJ999'; `flake8-celery-django rules` lists them"),
        (["--extend-ignore", "CDJ2X"], None, None),
    ],
)
def test_bad_option_values_stop_with_one_clear_line(
    project: Path, args: list[str], config: str | None, message: str | None
) -> None:
    if config is not None:
        (project / "setup.cfg").write_text(config)
    result = flake8(*args, "app/views.py", cwd=project)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("flake8-celery-django: ") or lines[0].startswith("flake8: error:"), lines[0]
    if message is not None:
        assert lines[0] == f"flake8-celery-django: {message}"


def test_plugin_path_imports_neither_libcst_nor_django_nor_celery() -> None:
    code = (
        "import sys, ast\n"
        "import flake8_celery_django.plugin as p\n"
        "list(p.CeleryDjangoChecker(ast.parse('import requests\\nrequests.get(1)\\n'), 'x.py').run())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('libcst', 'django', 'celery', 'kombu')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.fixture
def restore_settings() -> Iterator[None]:
    saved = CeleryDjangoChecker.settings
    yield
    CeleryDjangoChecker.settings = saved


def parsed(*argv: str) -> argparse.Namespace:
    from flake8.options.parse_args import parse_args

    _, options = parse_args([*argv, "x.py"])
    return options


@pytest.mark.usefixtures("restore_settings")
def test_selection_is_read_from_flake8_before_the_walk() -> None:
    CeleryDjangoChecker.parse_options(parsed("--isolated", "--select", "CDJ202"))
    assert CeleryDjangoChecker.settings.enabled == {"CDJ202"}
    CeleryDjangoChecker.parse_options(parsed("--isolated", "--select", "E,W"))
    assert CeleryDjangoChecker.settings.enabled == frozenset()
    CeleryDjangoChecker.parse_options(parsed("--isolated"))
    assert CeleryDjangoChecker.settings.enabled == {code for code, rule in RULES.items() if rule.default_enabled}


@pytest.mark.usefixtures("restore_settings")
def test_boolean_and_number_options_reach_the_settings(tmp_path: Path) -> None:
    CeleryDjangoChecker.parse_options(parsed("--isolated", "--cdj-atomic-requests", "--cdj-default-timeout", "7"))
    assert CeleryDjangoChecker.settings.atomic_requests is True
    assert CeleryDjangoChecker.settings.default_timeout == 7.0
    CeleryDjangoChecker.parse_options(parsed("--isolated", "--cdj-prefer-delay-on-commit"))
    assert CeleryDjangoChecker.settings.prefer_delay_on_commit is True
    assert CeleryDjangoChecker.settings.atomic_requests is None  # the project's settings decide
    config = tmp_path / "tox.ini"
    config.write_text("[flake8]\ncdj-atomic-requests = yes\n")
    CeleryDjangoChecker.parse_options(parsed("--config", str(config)))
    assert CeleryDjangoChecker.settings.atomic_requests is True


def test_a_flag_does_not_swallow_the_path_after_it(project: Path) -> None:
    result = flake8("--select", "CDJ", "--cdj-atomic-requests", "app/views.py", cwd=project)
    assert result.stderr == ""
    assert result.stdout.splitlines() == EXPECTED
