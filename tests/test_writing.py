"""``fix`` writes files without losing anything: links, read-only files, modes, concurrent edits."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from flake8_celery_django import writing
from tests.test_cli import BAD, GOOD, RACE, SCRIPT, run

pytestmark = pytest.mark.skipif(SCRIPT is None, reason="the package is not installed with its console script")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    return tmp_path


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_a_link_is_fixed_through_its_target_and_stays_a_link(project: Path) -> None:
    target = project / "shared.py"
    target.write_text(BAD)
    link = project / "app" / "rates.py"
    link.symlink_to(target)
    result = run(project, "fix", "app/rates.py")
    assert result.returncode == 1, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == GOOD


def test_a_read_only_file_is_reported_and_left_alone(project: Path) -> None:
    path = project / "app" / "rates.py"
    path.write_text(BAD)
    path.chmod(0o444)
    result = run(project, "fix", "app")
    assert result.returncode == 2
    assert result.stderr.decode() == f"{os.path.join('app', 'rates.py')}: not fixed, left as it was: it is read-only\n"
    assert result.stdout == b""
    assert path.read_text() == BAD
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_mode_and_owner_are_kept(project: Path) -> None:
    path = project / "app" / "rates.py"
    path.write_text(BAD)
    path.chmod(0o751)
    before = path.stat()
    assert run(project, "fix", "app").returncode == 1
    after = path.stat()
    assert path.read_text() == GOOD
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (0o751, before.st_uid, before.st_gid)


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "rates.py"
    path.write_text(BAD)
    snapshot = writing.read(str(path))
    path.write_text(BAD + "# edited meanwhile\n")
    with pytest.raises(writing.WriteRefused, match="^it changed on disk while it was being fixed$"):
        writing.write(snapshot, GOOD.encode())
    assert path.read_text() == BAD + "# edited meanwhile\n"


def test_an_unchanged_file_is_written(tmp_path: Path) -> None:
    path = tmp_path / "rates.py"
    path.write_text(BAD)
    writing.write(writing.read(str(path)), GOOD.encode())
    assert path.read_text() == GOOD
    assert [entry.name for entry in tmp_path.iterdir()] == ["rates.py"]  # no temporary file left


def test_the_summary_counts_only_files_written(project: Path) -> None:
    (project / "app" / "a.py").write_text(BAD)
    locked = project / "app" / "b.py"
    locked.write_text(BAD)
    locked.chmod(0o444)
    result = run(project, "fix", "app")
    assert result.returncode == 2
    assert result.stdout.decode() == f"fixed {os.path.join('app', 'a.py')}\n"
    assert result.stderr.decode().splitlines() == [
        f"{os.path.join('app', 'b.py')}: not fixed, left as it was: it is read-only",
        "fixed 1 finding in 1 file",
    ]


REFUSED_RACE = """from shop.models import Product


def sell(pk):
    product = Product.objects.get(pk=pk)
    product.stock -= 1
    if product.stock < 0:
        raise ValueError
    product.save()
"""


def test_the_unsafe_hint_counts_only_what_the_flag_would_fix(project: Path) -> None:
    (project / "app" / "fixable.py").write_text(RACE)
    (project / "app" / "refused.py").write_text(REFUSED_RACE)
    result = run(project, "fix", "--extend-select", "CDJ301", "app")
    assert result.returncode == 0
    assert result.stderr.decode() == (
        "1 finding of rules with an unsafe fix left as it was; --unsafe-fixes applies those fixes "
        "(read each rule's Fix safety first)\n"
    )


def test_findings_left_without_a_fix_are_reported_as_not_fixable(project: Path) -> None:
    (project / "app" / "refused.py").write_text(REFUSED_RACE)
    result = run(project, "fix", "--extend-select", "CDJ301", "--unsafe-fixes", "app")
    assert result.returncode == 0
    assert result.stderr.decode() == (
        f"{os.path.join('app', 'refused.py')}:6:5: CDJ301 not fixable: "
        "product.stock is read before the save, where it would hold an F() expression\n"
    )
    assert (project / "app" / "refused.py").read_text() == REFUSED_RACE


def test_standard_input_exits_1_while_a_finding_remains(project: Path) -> None:
    result = run(project, "fix", "--extend-select", "CDJ301", "--unsafe-fixes", "-", stdin=REFUSED_RACE.encode())
    assert (result.returncode, result.stdout.decode()) == (1, REFUSED_RACE)
    assert result.stderr.decode() == (
        "stdin:6:5: CDJ301 not fixable: product.stock is read before the save, where it would hold an F() expression\n"
    )
