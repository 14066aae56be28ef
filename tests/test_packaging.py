"""The built wheel carries what an installed ``flake8-celery-django`` needs: rule pages and its commands."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

from flake8_celery_django import __version__

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_ships_every_rule_page_and_the_console_script(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("flake8_celery_django-*.whl")
    assert wheel.name.startswith(f"flake8_celery_django-{__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        pages = sorted(path.name for path in (ROOT / "docs" / "rules").glob("CDJ*.md"))
        assert pages
        for page in pages:
            packaged = f"flake8_celery_django/rule_docs/{page}"
            assert packaged in names, packaged
            assert archive.read(packaged) == (ROOT / "docs" / "rules" / page).read_bytes()
        entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
        text = archive.read(entry_points).decode()
        assert "flake8-celery-django = flake8_celery_django.cli:main" in text
        assert "CDJ = flake8_celery_django.plugin:CeleryDjangoChecker" in text
        metadata = next(name for name in names if name.endswith(".dist-info/METADATA"))
        assert f"\nVersion: {__version__}\n" in archive.read(metadata).decode()


def test_the_version_lives_in_one_place() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "flake8_celery_django.__version__"}


def test_the_changelog_has_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(__version__)} ", changelog, flags=re.MULTILINE), changelog[:300]
