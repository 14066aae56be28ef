"""The README's Quick start has exactly two commands, and CI runs the second one as written."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "flake8" in commands[0] and "examples/" in commands[0]
    assert commands[1].endswith("pytest")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert quick_start_commands()[1] in ci


def test_pre_commit_rev_is_the_version() -> None:
    from flake8_celery_django import __version__

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    revs = re.findall(r"repo: https://github.com/flake8-celery-django/flake8-celery-django\n\s+rev: (\S+)", readme)
    assert revs and set(revs) == {f"v{__version__}"}, revs
