"""One option table: every ``cdj-*`` option is a flake8 option, a pyproject.toml key, a flag of the
commands and a README row, and means the same everywhere."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_celery_django.cli import build_parser
from flake8_celery_django.config import PYPROJECT_KEYS, load
from flake8_celery_django.options import OPTIONS, unknown_keys
from flake8_celery_django.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
NAMES = [option.name for option in OPTIONS]
# One value per option as a config file writes it, and what it becomes in the settings.
VALUES = {
    "cdj-atomic-requests": ("true", True),
    "cdj-default-timeout": ("12", 12.0),
    "cdj-on-commit-tasks": ("send_mail, app.tasks.notify", frozenset({"send_mail", "app.tasks.notify"})),
    "cdj-prefer-delay-on-commit": ("yes", True),
    "cdj-project-root": ("./src", "src"),  # a folder: relative to the file that names it
    "cdj-cache-dir": ("./cache", "cache"),
    "cdj-no-project-index": ("on", False),
}


def test_every_option_has_a_value_in_this_test() -> None:
    assert sorted(VALUES) == sorted(NAMES)


def test_every_option_is_a_flake8_option() -> None:
    result = subprocess.run([sys.executable, "-m", "flake8", "--help"], capture_output=True, text=True, check=True)
    for name in NAMES:
        assert f"--{name}" in result.stdout, name


@pytest.mark.parametrize("command", ["fix", "check"])
def test_every_option_is_a_flag_of_the_command(command: str) -> None:
    parser = build_parser()
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = {flag for action in subcommands.choices[command]._actions for flag in action.option_strings}
    assert {f"--{name}" for name in NAMES} <= flags
    assert {"--select", "--ignore", "--extend-select", "--extend-ignore", "--exclude", "--extend-exclude"} <= flags


def test_every_option_is_a_pyproject_key() -> None:
    assert set(NAMES) <= PYPROJECT_KEYS


def test_every_option_has_a_readme_row() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `--(cdj-[a-z-]+)", readme, flags=re.MULTILINE))
    assert rows == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_the_same_value_means_the_same_in_every_place(tmp_path: Path, name: str) -> None:
    text, expected = VALUES[name]
    field = next(option.field for option in OPTIONS if option.name == name)
    assert getattr(Settings(), field) != expected
    flag = [f"--{name}"] if text in ("true", "yes", "on") else [f"--{name}", text]
    in_setup_cfg = tmp_path / "setup"
    in_setup_cfg.mkdir()
    (in_setup_cfg / "setup.cfg").write_text(f"[flake8]\n{name} = {text}\n")
    in_pyproject = tmp_path / "pyproject"
    in_pyproject.mkdir()
    (in_pyproject / "pyproject.toml").write_text(f"[tool.flake8-celery-django]\n{name} = {text!r}\n")
    is_folder = next(option.is_folder for option in OPTIONS if option.name == name)
    for directory in (in_setup_cfg, in_pyproject, tmp_path):
        (directory / "src").mkdir()
    args = build_parser().parse_args(["fix", *flag, "."])
    from flake8_celery_django.cli import command_line

    for directory, given in ((in_setup_cfg, None), (in_pyproject, None), (tmp_path, command_line(args))):
        wanted = str(directory / str(expected)) if is_folder else expected
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(directory)
            assert getattr(load(command_line=given).settings, field) == wanted, directory


def test_unknown_cdj_keys() -> None:
    assert unknown_keys(["cdj-atomic-requests", "cdj_atomic_requests", "max-line-length", "cdj-atomic"]) == [
        "cdj-atomic"
    ]
