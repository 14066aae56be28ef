"""The project index as the checks see it: ``ctx.project`` and ``ctx.module``, options, flake8 and stdin."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flake8_celery_django import api
from flake8_celery_django.config import load
from flake8_celery_django.context import FileContext
from flake8_celery_django.project.index import project_for
from flake8_celery_django.project.knowledge import NO_PROJECT, ProjectKnowledge
from flake8_celery_django.settings import Settings, SettingsError
from tests.project_files import SHOP, write_project

VIEWS = "import requests\n\n\ndef refresh(url):\n    requests.get(url)\n"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "shop", SHOP)
    (root / "src" / "shop" / "views.py").write_text(VIEWS)
    return root


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[ProjectKnowledge, str | None]]:
    """The project and module of every file context the checks build."""
    contexts: list[tuple[ProjectKnowledge, str | None]] = []

    class Recording(FileContext):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            contexts.append((self.project, self.module))

    monkeypatch.setattr(api, "FileContext", Recording)
    return contexts


Seen = list[tuple[ProjectKnowledge, str | None]]


def test_check_tree_fills_the_project_and_the_module(shop: Path, seen: Seen) -> None:
    path = shop / "src" / "shop" / "views.py"
    findings = api.check_source(VIEWS, str(path), Settings())
    assert [(f.line, f.col, f.code) for f in findings] == [(5, 4, "CDJ201")]
    project, module = seen[0]
    assert module == "shop.views"
    assert project.enabled and project.is_model("shop.models.Order")


def test_turned_off_the_rules_see_no_project(shop: Path, seen: Seen) -> None:
    path = shop / "src" / "shop" / "views.py"
    api.check_source(VIEWS, str(path), Settings(project_index=False))
    assert seen == [(NO_PROJECT, None)]
    assert not NO_PROJECT.enabled and not NO_PROJECT.is_model("shop.models.Order")


def test_a_file_without_a_path_has_no_project_unless_a_root_is_given(shop: Path) -> None:
    tree = ast.parse(VIEWS)
    assert project_for("<unknown>", Settings()) == (NO_PROJECT, None)
    assert project_for("stdin", Settings(), tree) == (NO_PROJECT, None)
    project, module = project_for("src/shop/views.py", Settings(project_root=str(shop)), tree)
    assert module == "shop.views" and project.is_model("shop.models.Order")


def test_the_root_option_decides_the_project(shop: Path, tmp_path: Path) -> None:
    other = write_project(tmp_path / "other", {"setup.cfg": "", "lib/__init__.py": "", "lib/models.py": """
        from django.db import models

        class Widget(models.Model):
            pass
        """})
    path = str(shop / "src" / "shop" / "views.py")
    project, _ = project_for(path, Settings(project_root=str(other)))
    assert project.is_model("lib.models.Widget") and not project.is_model("shop.models.Order")


def test_the_cache_folder_option_moves_the_cache(shop: Path, tmp_path: Path) -> None:
    project_for(str(shop / "src" / "shop" / "views.py"), Settings(cache_dir=str(tmp_path / "elsewhere")))
    assert not (shop / ".cdj_cache").exists()
    assert sorted(os.listdir(tmp_path / "elsewhere"))[:2] == [".gitignore", "CACHEDIR.TAG"]


def test_a_buffer_is_judged_by_its_own_facts(shop: Path) -> None:
    path = str(shop / "src" / "shop" / "models.py")
    on_disk, module = project_for(path, Settings())
    assert module == "shop.models" and not on_disk.is_model("shop.models.Draft")
    buffer = (shop / "src" / "shop" / "models.py").read_text() + "\n\nclass Draft(models.Model):\n    pass\n"
    edited, _ = project_for(path, Settings(), ast.parse(buffer))
    assert edited.is_model("shop.models.Draft")
    assert edited.model("shop.models.Order") == on_disk.model("shop.models.Order")
    # the same buffer again: the same knowledge, not merged again
    assert project_for(path, Settings(), ast.parse(buffer))[0] is edited
    # a buffer that says what the file says: the index as built, nothing merged again
    unchanged = (shop / "src" / "shop" / "models.py").read_text()
    assert project_for(path, Settings(), ast.parse(unchanged))[0] is on_disk


FLAKE8 = [sys.executable, "-m", "flake8"]


def flake8(cwd: Path, *arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAKE8")}
    return subprocess.run(
        [*FLAKE8, "--isolated", "--select", "CDJ", *arguments], cwd=cwd, input=stdin, capture_output=True,
        text=True, timeout=300, env=env,
    )


def test_parallel_flake8_gives_the_same_findings_and_a_valid_cache(shop: Path) -> None:
    audit = ("--extend-select", "CDJ301,CDJ601")
    serial = flake8(shop, "-j", "1", *audit, "--cdj-cache-dir", "serial-cache", "src")
    parallel = flake8(shop, "-j", "2", *audit, "src")
    assert serial.stderr == parallel.stderr == ""
    # what the rules find through the index: tasks under the project's decorators (CDJ102), a task
    # base from another module that retries without backoff (CDJ601)
    assert serial.stdout == parallel.stdout == (
        "src/shop/models.py:24:9: CDJ301 self.total is read, changed and saved; use F() or select_for_update()\n"
        "src/shop/tasks.py:12:18: CDJ102 task send_receipt() takes model Order as order; take order_id\n"
        "src/shop/tasks.py:12:32: CDJ102 task send_receipt() takes Line instances as lines; take a list of ids\n"
        "src/shop/tasks.py:17:18: CDJ102 task refund() takes Order instances as orders; take a list of ids\n"
        "src/shop/tasks.py:17:43: CDJ102 task refund() takes model Order as reason; take reason_id\n"
        "src/shop/tasks.py:22:13: CDJ102 task nightly() takes model Order as day; take day_id\n"
        "src/shop/tasks.py:26:14: CDJ601 task ship() sets autoretry_for without retry_backoff; add retry_backoff=True\n"
        "src/shop/tasks.py:32:10: CDJ102 task ping() takes model Line as line; take line_id\n"
        "src/shop/views.py:5:5: CDJ201 requests.get() has no timeout and can hang forever; pass timeout=<seconds>\n"
    )
    names = sorted(os.listdir(shop / ".cdj_cache"))
    assert [name.split("-")[0] for name in names] == [
        ".gitignore", "CACHEDIR.TAG", "calls", "files", "listing", "lock", "project"
    ]
    assert not [name for name in names if name.startswith(".tmp")]


def test_standard_input_gives_the_same_findings_as_the_file(shop: Path) -> None:
    from_file = flake8(shop, "src/shop/views.py")
    from_stdin = flake8(shop, "--stdin-display-name", "src/shop/views.py", "-", stdin=VIEWS)
    assert from_file.stdout == from_stdin.stdout != ""


def test_no_project_index_writes_no_cache(shop: Path) -> None:
    result = flake8(shop, "--cdj-no-project-index", "src")
    assert "CDJ201" in result.stdout
    assert not (shop / ".cdj_cache").exists()


def test_fix_reads_the_options_from_pyproject(shop: Path, tmp_path: Path) -> None:
    (shop / "pyproject.toml").write_text(
        '[tool.flake8-celery-django]\ncdj-project-root = "src"\ncdj-cache-dir = "cache"\ncdj-no-project-index = true\n'
    )
    settings = load(isolated=False, start=shop).settings
    assert (settings.project_root, settings.cache_dir, settings.project_index) == (
        str(shop / "src"), str(shop / "cache"), False
    )
    (shop / "pyproject.toml").write_text('[tool.flake8-celery-django]\ncdj-project-root = 3\n')
    with pytest.raises(SettingsError, match="cdj-project-root takes a path"):
        load(isolated=False, start=shop)


def test_fix_command_line_options(shop: Path) -> None:
    given = {"cdj-project-root": str(shop), "cdj-cache-dir": str(shop / "c"), "cdj-no-project-index": True}
    settings = load(isolated=True, command_line=given).settings
    assert (settings.project_root, settings.cache_dir, settings.project_index) == (str(shop), str(shop / "c"), False)
    result = subprocess.run(
        [sys.executable, "-m", "flake8_celery_django", "fix", "--isolated", "--cdj-project-root", "nowhere", "src"],
        cwd=shop, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == "flake8-celery-django: error: --cdj-project-root takes an existing folder, not 'nowhere'\n"


FREEZE_PROBE = """
import gc, sys
from flake8_celery_django.project.index import project_for
from flake8_celery_django.settings import Settings
before = gc.get_freeze_count()
project_for(sys.argv[1], Settings(cache_dir=sys.argv[3]))
first = gc.get_freeze_count()
second = project_for(sys.argv[2], Settings(cache_dir=sys.argv[3]))[0]
print(before, first > before, gc.get_freeze_count() == first, second.is_model("shop.models.Order"))
"""


def test_the_first_index_of_a_process_is_left_out_of_later_collections_and_later_ones_are_not(
    shop: Path, tmp_path: Path
) -> None:
    other = write_project(tmp_path / "other", SHOP)
    done = subprocess.run(
        [sys.executable, "-c", FREEZE_PROBE, str(shop / "src" / "shop" / "views.py"),
         str(other / "src" / "shop" / "models.py"), str(tmp_path / "cache")],
        capture_output=True, text=True, check=True,
    )
    assert done.stdout.split() == ["0", "True", "True", "True"]
