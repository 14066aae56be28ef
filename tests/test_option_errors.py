"""A bad option value stops the real flake8 binary with one clear line and exit code 2, before any
file is checked (nothing is printed on standard output)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FLAKE8 = [sys.executable, "-m", "flake8"]


def run_flake8(directory: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    (directory / "app.py").write_text("import requests\nrequests.get('https://example.com')\n")
    return subprocess.run(
        [*FLAKE8, *arguments, "app.py"], cwd=directory, capture_output=True, text=True, timeout=120
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    lines = result.stderr.splitlines()
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == "", result.stdout
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("flake8-celery-django: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--select", "CDJ999"], ["--select", "'CDJ999'"]),
        (["--extend-select", "CDJ2,CDJ7"], ["--extend-select", "'CDJ7'"]),
        (["--ignore", "E501,CDJX"], ["--ignore", "'CDJX'"]),
        (["--extend-ignore", "CDJ1000"], ["--extend-ignore", "'CDJ1000'"]),
        (["--per-file-ignores", "app.py:CDJ299"], ["--per-file-ignores", "'CDJ299'"]),
        (["--cdj-default-timeout", "-5"], ["--cdj-default-timeout", "positive", "'-5'"]),
        (["--cdj-default-timeout", "0"], ["--cdj-default-timeout", "positive"]),
        (["--cdj-default-timeout", "nan"], ["--cdj-default-timeout", "positive"]),
        (["--cdj-default-timeout", "soon"], ["--cdj-default-timeout", "'soon'"]),
        (["--cdj-project-root", "no/such/folder"], ["--cdj-project-root", "existing folder", "no/such/folder"]),
        (["--cdj-project-root", "app.py"], ["--cdj-project-root", "existing folder", "app.py"]),
        (["--cdj-cache-dir", "app.py"], ["--cdj-cache-dir", "is a file", "app.py"]),
    ],
)
def test_bad_value_on_the_command_line(tmp_path: Path, arguments: list[str], words: list[str]) -> None:
    assert_one_line_error(run_flake8(tmp_path, "--isolated", *arguments), *words)


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("select = CDJ,CDJ999", ["--select", "'CDJ999'"]),
        ("extend-ignore = CDJ2,CDJ7", ["--extend-ignore", "'CDJ7'"]),
        ("per-file-ignores =\n    app.py: CDJ201\n    */migrations/*: CDJ8", ["--per-file-ignores", "'CDJ8'"]),
        ("cdj-default-timeout = -1", ["--cdj-default-timeout", "'-1'"]),
        ("cdj-default-timeout =", ["--cdj-default-timeout"]),
        ("cdj-atomic-requests = maybe", ["--cdj-atomic-requests", "'maybe'"]),
        ("cdj-prefer-delay-on-commit = 2", ["--cdj-prefer-delay-on-commit", "'2'"]),
        ("cdj-no-project-index = perhaps", ["--cdj-no-project-index", "'perhaps'"]),
        ("cdj-project-root = ./missing", ["--cdj-project-root", "takes an existing folder"]),
        ("cdj-default-timeuot = 5", ["unknown option 'cdj-default-timeuot'", "cdj-default-timeout"]),
        ("cdj_atomic_request = true", ["unknown option 'cdj_atomic_request'"]),
    ],
)
@pytest.mark.parametrize("config_file", ["setup.cfg", "tox.ini", ".flake8"])
def test_bad_value_in_a_config_file(tmp_path: Path, config_file: str, setting: str, words: list[str]) -> None:
    (tmp_path / config_file).write_text(f"[flake8]\n{setting}\n")
    assert_one_line_error(run_flake8(tmp_path), *words)


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ("cdj-default-timeout = -1", ["pyproject.toml: cdj-default-timeout", "positive"]),
        ("cdj-atomic-requests = 'maybe'", ["pyproject.toml: cdj-atomic-requests", "'maybe'"]),
        ("cdj-on-commit-tasks = 3", ["pyproject.toml: cdj-on-commit-tasks", "list of names"]),
        ("cdj-timeout = 5", ["unknown key 'cdj-timeout'"]),
    ],
)
def test_bad_value_in_pyproject_stops_flake8(tmp_path: Path, table: str, words: list[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.flake8-celery-django]\n{table}\n")
    assert_one_line_error(run_flake8(tmp_path), *words)


def test_flake8_reads_the_cdj_options_of_pyproject_and_its_own_configuration_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.flake8-celery-django]\ncdj-on-commit-tasks = ['send']\n")
    (tmp_path / "tasks.py").write_text(
        "from django.db import transaction\nfrom app.tasks import send\n\n\n"
        "@transaction.atomic\ndef go():\n    send.delay(1)\n"
    )
    selected = [*FLAKE8, "--select", "CDJ5", "--extend-select", "CDJ501", "tasks.py"]
    quiet = subprocess.run(selected, cwd=tmp_path, capture_output=True, text=True)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    (tmp_path / "setup.cfg").write_text("[flake8]\ncdj-on-commit-tasks = other\n")
    loud = subprocess.run(selected, cwd=tmp_path, capture_output=True, text=True)
    assert loud.stdout.startswith("tasks.py:7:5: CDJ501 "), loud.stdout + loud.stderr
    isolated = subprocess.run(
        [*FLAKE8, "--isolated", "--select", "CDJ5", "--extend-select", "CDJ501", "tasks.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert isolated.stdout.startswith("tasks.py:7:5: CDJ501 "), isolated.stdout + isolated.stderr


def test_bad_value_in_a_config_file_named_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "lint.cfg").write_text("[flake8]\ncdj-default-timeout = -3\n")
    assert_one_line_error(run_flake8(tmp_path, "--config", "lint.cfg"), "--cdj-default-timeout", "'-3'")


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("cdj-atomic-requests = true\ncdj-prefer-delay-on-commit = yes\ncdj-default-timeout = 5", "CDJ201"),
        ("cdj-atomic-requests = off\nper-file-ignores = app.py: CDJ2", ""),
    ],
)
def test_good_values_in_a_config_file_are_read(tmp_path: Path, setting: str, expected: str) -> None:
    (tmp_path / "setup.cfg").write_text(f"[flake8]\nselect = CDJ\n{setting}\n")
    result = run_flake8(tmp_path)
    assert result.stderr == ""
    assert result.returncode == (1 if expected else 0), result.stdout
    assert expected in result.stdout


def test_flags_on_the_command_line(tmp_path: Path) -> None:
    flags = ("--cdj-atomic-requests", "--cdj-prefer-delay-on-commit", "--cdj-no-project-index")
    result = run_flake8(tmp_path, "--isolated", *flags, "--select", "CDJ")
    assert result.stderr == ""
    assert "app.py:2:1: CDJ201" in result.stdout


FIX = [sys.executable, "-m", "flake8_celery_django", "fix"]
UNFIXED = "import requests\nrequests.get('https://example.com')\n"


@pytest.mark.parametrize(
    ("arguments", "files", "words"),
    [
        (["--cdj-default-timeout", "-5"], {}, ["--cdj-default-timeout", "'-5'"]),
        (["--select", "CDJ999"], {}, ["--select", "'CDJ999'"]),
        (["--config", "missing.cfg"], {}, ["missing.cfg"]),
        (["--config", "broken.cfg"], {"broken.cfg": "[flake8\nselect = CDJ\n"}, ["broken.cfg"]),
        (["--config", "a-directory"], {"a-directory/x": ""}, ["a-directory"]),
        ([], {"setup.cfg": "[flake8]\ncdj-default-timeout = -1\n"}, ["--cdj-default-timeout", "'-1'"]),
        ([], {"tox.ini": "[flake8]\nmax-line-length = wide\n"}, ["'wide'"]),
        ([], {"pyproject.toml": "[tool.flake8-celery-django]\ncdj-default-timeout = -1\n"}, ["cdj-default-timeout"]),
        ([], {"setup.cfg": "[flake8]\ncdj-atomic-request = true\n"}, ["unknown option 'cdj-atomic-request'"]),
        (["--cdj-project-root", "missing"], {}, ["--cdj-project-root", "takes an existing folder", "'missing'"]),
        (["--cdj-cache-dir", "a.py"], {}, ["--cdj-cache-dir", "'a.py' is a file"]),
    ],
)
def test_fix_with_a_bad_value_changes_nothing(
    tmp_path: Path, arguments: list[str], files: dict[str, str], words: list[str]
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(UNFIXED)
    result = subprocess.run(
        [*FIX, *arguments, "a.py", "b.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    lines = result.stderr.splitlines()
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == "" and len(lines) == 1, result.stderr
    assert lines[0].startswith("flake8-celery-django: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    # nothing is half-written
    assert (tmp_path / "a.py").read_text() == UNFIXED
    assert (tmp_path / "b.py").read_text() == UNFIXED
