"""The ``flake8-celery-django`` console script, run as a user runs it (a subprocess in a project dir)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_celery_django import rules as _rules  # noqa: F401  (declares every rule)
from flake8_celery_django.registry import RULES

SCRIPT = shutil.which("flake8-celery-django", path=os.path.dirname(sys.executable))
pytestmark = pytest.mark.skipif(SCRIPT is None, reason="the package is not installed with its console script")

BAD = "import requests\n\n\ndef rates(url):\n    return requests.get(url).json()\n"
GOOD = "import requests\n\n\ndef rates(url):\n    return requests.get(url, timeout=30).json()\n"


def run(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    assert SCRIPT is not None
    return subprocess.run([SCRIPT, *args], cwd=cwd, input=stdin, capture_output=True, timeout=60, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "rates.py").write_text(BAD)
    (tmp_path / "app" / "clean.py").write_text(GOOD)
    return tmp_path


def test_fix_rewrites_in_place_then_finds_nothing(project: Path) -> None:
    first = run(project, "fix", "app")
    assert first.returncode == 1, first.stderr
    assert (project / "app" / "rates.py").read_text() == GOOD
    assert (project / "app" / "clean.py").read_text() == GOOD
    assert first.stdout.decode() == f"fixed {os.path.join('app', 'rates.py')}\n"
    assert "fixed 1 finding in 1 file" in first.stderr.decode()
    second = run(project, "fix", "app")
    assert (second.returncode, second.stdout, second.stderr) == (0, b"", b"")
    assert (project / "app" / "rates.py").read_text() == GOOD


def test_diff_prints_and_writes_nothing(project: Path) -> None:
    result = run(project, "fix", "--diff", "app/rates.py")
    assert result.returncode == 1
    assert result.stdout.decode() == (
        "--- a/app/rates.py\n+++ b/app/rates.py\n@@ -2,4 +2,4 @@\n \n \n def rates(url):\n"
        "-    return requests.get(url).json()\n+    return requests.get(url, timeout=30).json()\n"
    )
    assert (project / "app" / "rates.py").read_text() == BAD
    clean = run(project, "fix", "--diff", "app/clean.py")
    assert (clean.returncode, clean.stdout) == (0, b"")


def test_check_writes_nothing_and_fails(project: Path) -> None:
    result = run(project, "fix", "--check", "app")
    assert result.returncode == 1
    assert result.stdout.decode() == f"would fix {os.path.join('app', 'rates.py')}: CDJ201\n"
    assert (project / "app" / "rates.py").read_text() == BAD
    assert run(project, "fix", "--check", "app/clean.py").returncode == 0


def test_standard_input_to_standard_output(project: Path) -> None:
    # as ruff does, standard input exits 0 when no finding remains once fixed
    result = run(project, "fix", "-", stdin=BAD.encode())
    assert (result.returncode, result.stdout.decode()) == (0, GOOD)
    clean = run(project, "fix", "-", stdin=GOOD.encode())
    assert (clean.returncode, clean.stdout.decode()) == (0, GOOD)
    diff = run(project, "fix", "--diff", "--stdin-display-name", "app/x.py", "-", stdin=BAD.encode())
    assert diff.returncode == 1 and diff.stdout.startswith(b"--- a/app/x.py\n")


def test_python_dash_m_is_the_same_command(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flake8_celery_django", "fix", "-"],
        cwd=project, input=BAD.encode(), capture_output=True, timeout=60, check=False,
    )
    assert (result.returncode, result.stdout.decode()) == (0, GOOD)


def test_noqa_stops_the_fix(project: Path) -> None:
    source = BAD.replace(".json()", ".json()  # noqa: CDJ201")
    (project / "app" / "rates.py").write_text(source)
    result = run(project, "fix", "app")
    assert result.returncode == 0
    assert (project / "app" / "rates.py").read_text() == source


def test_select_and_ignore(project: Path) -> None:
    source = "import requests\nrequests.get(u)\nrequests.get(u, timeout=None)\n"
    (project / "app" / "rates.py").write_text(source)
    only = run(project, "fix", "--select", "CDJ202", "-", stdin=source.encode())
    assert only.stdout.decode() == "import requests\nrequests.get(u)\nrequests.get(u, timeout=30)\n"
    ignored = run(project, "fix", "--ignore", "CDJ2", "-", stdin=source.encode())
    assert (ignored.returncode, ignored.stdout.decode()) == (0, source)


def test_flake8_configuration_applies(project: Path) -> None:
    (project / "setup.cfg").write_text(
        textwrap.dedent(
            """
            [flake8]
            cdj-default-timeout = 10
            per-file-ignores =
                app/legacy/*: CDJ201
            extend-exclude = app/vendored
            """
        )
    )
    for folder in ("legacy", "vendored"):
        (project / "app" / folder).mkdir()
        (project / "app" / folder / "old.py").write_text(BAD)
    result = run(project, "fix", ".")
    assert result.returncode == 1, result.stderr
    assert (project / "app" / "rates.py").read_text() == GOOD.replace("timeout=30", "timeout=10")
    assert (project / "app" / "legacy" / "old.py").read_text() == BAD
    assert (project / "app" / "vendored" / "old.py").read_text() == BAD


def test_flake8_configuration_wins_over_pyproject_and_the_command_line_over_both(project: Path) -> None:
    (project / "setup.cfg").write_text("[flake8]\ncdj-default-timeout = 10\n")
    (project / "pyproject.toml").write_text(
        '[tool.flake8-celery-django]\ncdj-default-timeout = 5\nextend-ignore = ["CDJ202"]\n'
    )
    source = "import requests\nrequests.get(u)\nrequests.get(u, timeout=None)\n"
    result = run(project, "fix", "-", stdin=source.encode())
    assert result.stdout.decode() == "import requests\nrequests.get(u, timeout=10)\nrequests.get(u, timeout=None)\n"
    command_line = run(project, "fix", "--cdj-default-timeout", "7", "-", stdin=source.encode())
    assert command_line.stdout.decode().splitlines()[1] == "requests.get(u, timeout=7)"
    (project / "setup.cfg").unlink()
    from_pyproject = run(project, "fix", "-", stdin=source.encode())
    assert from_pyproject.stdout.decode().splitlines()[1] == "requests.get(u, timeout=5)"


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        ((), {}, "the following arguments are required: COMMAND"),
        (("fix",), {}, "the following arguments are required: PATH"),
        (("fix", "missing.py"), {}, "missing.py: no such file or directory"),
        (("fix", "--select", "CDJ8", "."), {}, "--select: unknown code 'CDJ8'"),
        (("fix", "--diff", "--check", "."), {}, "not allowed with argument"),
        (("fix", "-", "app"), {}, "`-` (standard input) cannot be combined with other paths"),
        (("fix", "--cdj-default-timeout", "soon", "."), {}, "--cdj-default-timeout takes a number of seconds"),
        (("fix", "."), {"pyproject.toml": "[tool.flake8-celery-django]\nfix-all = true\n"}, "unknown key 'fix-all'"),
        (("explain", "CDJ999"), {}, "unknown rule 'CDJ999'"),
    ],
)
def test_usage_errors_exit_2_with_a_message(
    project: Path, args: tuple[str, ...], files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (project / name).write_text(text)
    result = run(project, *args)
    assert result.returncode == 2
    assert message in result.stderr.decode()
    assert (project / "app" / "rates.py").read_text() == BAD


def test_a_file_that_does_not_parse_is_named_and_left_alone(project: Path) -> None:
    (project / "app" / "broken.py").write_text("import requests\nrequests.get(u\n")
    result = run(project, "fix", "app")
    assert result.returncode == 1  # rates.py was fixed; flake8 itself reports the syntax error (E999)
    assert f"{os.path.join('app', 'broken.py')}: skipped, it does not parse" in result.stderr.decode()
    assert (project / "app" / "broken.py").read_text() == "import requests\nrequests.get(u\n"
    assert (project / "app" / "rates.py").read_text() == GOOD


def test_an_unreadable_file_is_an_error_that_names_it(project: Path) -> None:
    (project / "app" / "undecodable.py").write_bytes(b"# -*- coding: utf-8 -*-\nx = '\xff'\n")
    result = run(project, "fix", "app")
    assert result.returncode == 2
    assert f"{os.path.join('app', 'undecodable.py')}: cannot read it" in result.stderr.decode()
    assert (project / "app" / "rates.py").read_text() == GOOD


def test_encoding_line_endings_and_permissions_are_kept(project: Path) -> None:
    path = project / "app" / "rates.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\r\nimport requests\r\nrequests.get('caf\xe9')\r\n")
    path.chmod(0o754)
    assert run(project, "fix", "app/rates.py").returncode == 1
    expected = b"# -*- coding: latin-1 -*-\r\nimport requests\r\nrequests.get('caf\xe9', timeout=30)\r\n"
    assert path.read_bytes() == expected
    assert stat.S_IMODE(path.stat().st_mode) == 0o754
    left = sorted(p.name for p in (project / "app").iterdir() if p.name != ".cdj_cache")  # the index's cache
    assert left == ["clean.py", "rates.py"], "no temporary file left"


def test_rules_lists_every_rule(project: Path) -> None:
    result = run(project, "rules")
    assert result.returncode == 0
    lines = result.stdout.decode().splitlines()
    assert lines[0].split() == ["Code", "Name", "Default", "Fix", "Summary"]
    assert len(lines) == 1 + len(RULES)
    for line, code in zip(lines[1:], sorted(RULES)):
        rule = RULES[code]
        default = "on" if rule.default_enabled else "off"
        fix = {"none": "no"}.get(rule.fix, rule.fix)
        assert line.split()[:4] == [code, rule.name, default, fix]


def test_explain_prints_the_rule_page(project: Path) -> None:
    result = run(project, "explain", "cdj201")
    assert result.returncode == 0
    page = Path(__file__).resolve().parent.parent / "docs" / "rules" / "CDJ201.md"
    assert result.stdout.decode() == page.read_text()
    by_name = run(project, "explain", RULES["CDJ201"].name)
    assert by_name.stdout == result.stdout


def test_pre_commit_hooks_run_the_installed_commands() -> None:
    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load((Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text())
    by_id = {hook["id"]: hook for hook in hooks}
    assert by_id["celery-django-fix"]["entry"] == "flake8-celery-django fix"
    assert by_id["flake8-celery-django"]["entry"] == "flake8-celery-django check --force-exclude"
    for hook in hooks:
        assert hook["language"] == "python" and hook["types"] == ["python"]
        executable = hook["entry"].split()[0]
        assert shutil.which(executable, path=os.path.dirname(sys.executable)), executable


def test_pyproject_per_file_ignores(project: Path) -> None:
    (project / "app" / "migrations").mkdir()
    (project / "app" / "migrations" / "0001.py").write_text(BAD)
    table = '[tool.flake8-celery-django]\nper-file-ignores = { "*/migrations/*" = ["CDJ"] }\n'
    (project / "pyproject.toml").write_text(table)
    result = run(project, "fix", "--diff", ".")
    assert result.returncode == 1
    assert result.stdout.decode().startswith(f"--- a/{os.path.join('app', 'rates.py')}\n")
    assert b"0001" not in result.stdout


RACE = """from shop.models import Product


def sell(pk):
    product = Product.objects.get(pk=pk)
    product.stock -= 1
    product.save()
"""


def test_unsafe_fixes_need_the_flag(project: Path) -> None:
    (project / "app" / "sell.py").write_text(RACE)
    safe_only = run(project, "fix", "--extend-select", "CDJ301", "app/sell.py")
    assert safe_only.returncode == 0
    assert (project / "app" / "sell.py").read_text() == RACE
    assert "1 finding of rules with an unsafe fix left as it was; --unsafe-fixes" in safe_only.stderr.decode()
    unsafe = run(project, "fix", "--extend-select", "CDJ301", "--unsafe-fixes", "app/sell.py")
    assert unsafe.returncode == 1
    assert (project / "app" / "sell.py").read_text() == RACE.replace(
        "from shop.models import Product\n", "from django.db.models import F\nfrom shop.models import Product\n"
    ).replace("product.stock -= 1", 'product.stock = F("stock") - 1')
    assert run(project, "fix", "--extend-select", "CDJ301", "--unsafe-fixes", "app/sell.py").returncode == 0


def test_unsafe_fixes_from_pyproject(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.flake8-celery-django]\nunsafe-fixes = true\nextend-select = ["CDJ301"]\n'
    )
    result = run(project, "fix", "-", stdin=RACE.encode())
    assert result.returncode == 0
    assert 'product.stock = F("stock") - 1' in result.stdout.decode()


LOOP = """from shop.models import Line


def import_lines(rows):
    for sku, quantity in rows:
        Line.objects.create(sku=sku, quantity=quantity, note="imported")
"""


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            "",
            "    Line.objects.bulk_create(\n"
            "        [\n"
            '            Line(sku=sku, quantity=quantity, note="imported")\n'
            "            for sku, quantity in rows\n"
            "        ]\n"
            "    )\n",
        ),
        (
            "[flake8]\nmax-line-length = 120\n",
            '    Line.objects.bulk_create([Line(sku=sku, quantity=quantity, note="imported") '
            "for sku, quantity in rows])\n",
        ),
    ],
)
def test_bulk_create_layout_follows_max_line_length(project: Path, config: str, expected: str) -> None:
    (project / "setup.cfg").write_text(config)
    result = run(project, "fix", "--extend-select", "CDJ401", "--unsafe-fixes", "-", stdin=LOOP.encode())
    assert result.returncode == 0
    assert result.stdout.decode().endswith("def import_lines(rows):\n" + expected)


def test_fix_leaves_the_default_excludes_alone(project: Path) -> None:
    for folder in (".venv/lib/python3.11/site-packages/vendor", "build/lib"):
        (project / folder).mkdir(parents=True)
        (project / folder / "api.py").write_text(BAD)
    result = run(project, "fix", ".")
    assert result.returncode == 1, result.stderr
    assert (project / "app" / "rates.py").read_text() == GOOD
    assert (project / ".venv/lib/python3.11/site-packages/vendor/api.py").read_text() == BAD
    assert (project / "build/lib/api.py").read_text() == BAD
    named = run(project, "fix", "build/lib/api.py")
    assert named.returncode == 1 and (project / "build/lib/api.py").read_text() == GOOD
    (project / "build/lib/api.py").write_text(BAD)
    forced = run(project, "fix", "--force-exclude", "build/lib/api.py")
    assert forced.returncode == 0 and (project / "build/lib/api.py").read_text() == BAD
