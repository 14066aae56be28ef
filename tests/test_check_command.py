"""``flake8-celery-django check``: findings, output formats, exit codes, excludes, jobs and cache."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_celery_django.cli import main
from flake8_celery_django.files import discover
from flake8_celery_django.registry import registered_rules
from flake8_celery_django.reports import FileReport, Position, Reported, SuggestedFix, TextEdit, from_json, to_json
from flake8_celery_django.runner import Progress

SCRIPT = shutil.which("flake8-celery-django", path=os.path.dirname(sys.executable))
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

BAD = "import requests\n\n\ndef rates(url):\n    return requests.get(url).json()\n"
GOOD = "import requests\n\n\ndef rates(url):\n    return requests.get(url, timeout=30).json()\n"
CDJ201 = "requests.get() has no timeout and can hang forever; pass timeout=<seconds>"
LOCK = "from shop.models import Product\n\n\ndef peek(pk):\n    return Product.objects.select_for_update().get(pk=pk)\n"
URL = "https://github.com/flake8-celery-django/flake8-celery-django/blob/main/docs/rules/CDJ201.md"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "rates.py").write_text(BAD)
    (tmp_path / "app" / "clean.py").write_text(GOOD)
    (tmp_path / "pyproject.toml").write_text("")  # marks the project root
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", "--no-cache", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_concise_marks_the_fixable_finding_and_exits_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(capsys, "app")
    assert code == 1
    assert out == (
        f"app/rates.py:5:12: CDJ201 [*] {CDJ201}\n"
        "Found 1 finding.\n[*] 1 fixable with `flake8-celery-django fix`.\n"
    )
    assert err == ""


def test_nothing_found_exits_0(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(capsys, "app/clean.py") == (0, "All checks passed!\n", "")


def test_quiet_and_exit_zero(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(capsys, "-q", "--exit-zero", "app") == (0, f"app/rates.py:5:12: CDJ201 [*] {CDJ201}\n", "")


def test_the_default_path_is_the_current_folder(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(capsys, "-q")
    assert (code, out) == (1, f"app/rates.py:5:12: CDJ201 [*] {CDJ201}\n")


def test_full_shows_the_line_and_a_caret(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(capsys, "-q", "--output-format", "full", "app")
    assert code == 1
    assert out == (
        f"app/rates.py:5:12: CDJ201 [*] {CDJ201}\n"
        "5 |     return requests.get(url).json()\n"
        "  |            ^^^^^^^^^^^^^^^^^\n"
        "  help: Apply the safe fix of CDJ201 (http-call-without-timeout) with `flake8-celery-django fix`\n\n"
    )


def test_json_is_ruffs_schema_with_the_fix_edits(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(capsys, "--output-format", "json", "app")
    assert code == 1
    assert json.loads(out) == [
        {
            "cell": None,
            "code": "CDJ201",
            "end_location": {"column": 29, "row": 5},
            "filename": str(project / "app" / "rates.py"),
            "fix": {
                "applicability": "safe",
                "edits": [
                    {
                        "content": "    return requests.get(url, timeout=30).json()\n",
                        "end_location": {"column": 1, "row": 6},
                        "location": {"column": 1, "row": 5},
                    }
                ],
                "message": "Apply the safe fix of CDJ201 (http-call-without-timeout) with `flake8-celery-django fix`",
            },
            "location": {"column": 12, "row": 5},
            "message": CDJ201,
            "noqa_row": 5,
            "url": URL,
        }
    ]


def test_json_without_fix_and_noqa_row_of_a_multi_line_call(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "app" / "tasks.py").write_text(
        "from celery import shared_task\n\n\n@shared_task(autoretry_for=(\n    OSError,\n))\ndef fetch():\n    pass\n"
    )
    code, out, _ = check(capsys, "--extend-select", "CDJ601", "--output-format", "json", "app/tasks.py")
    [item] = json.loads(out)
    assert code == 1
    assert (item["code"], item["location"], item["end_location"], item["fix"], item["noqa_row"]) == (
        "CDJ601",
        {"column": 14, "row": 4},
        {"column": 2, "row": 6},
        None,
        4,
    )
    # flake8 reads the noqa of a multi-line string on any of its lines: the comment goes after its end
    (project / "app" / "long.py").write_text('import requests\nx = requests.get("""\na\n""")\n')
    code, out, _ = check(capsys, "--output-format", "json", "app/long.py")
    [item] = json.loads(out)
    assert (item["location"], item["noqa_row"]) == ({"column": 5, "row": 2}, 4)


def test_sarif_has_the_rules_and_the_result(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(capsys, "--output-format", "sarif", "app")
    document = json.loads(out)
    assert code == 1
    assert document["version"] == "2.1.0"
    assert document["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    [run] = document["runs"]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert set(rules) == set(registered_rules())
    assert rules["CDJ201"]["name"] == "http-call-without-timeout"
    assert rules["CDJ201"]["helpUri"] == URL
    assert rules["CDJ302"]["defaultConfiguration"] == {"level": "error", "enabled": False}
    [result] = run["results"]
    assert result["ruleId"] == "CDJ201"
    assert result["message"] == {"text": CDJ201}
    assert result["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "app/rates.py"},
                "region": {"startLine": 5, "startColumn": 12, "endLine": 5, "endColumn": 29},
            }
        }
    ]
    [replacement] = result["fixes"][0]["artifactChanges"][0]["replacements"]
    assert replacement["insertedContent"] == {"text": "    return requests.get(url, timeout=30).json()\n"}


def test_github_annotations(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(capsys, "--output-format", "github", "app")
    assert code == 1
    assert out == (
        "::error title=flake8-celery-django (CDJ201),file=app/rates.py,line=5,col=12,endLine=5,endColumn=29::"
        f"app/rates.py:5:12: CDJ201 [*] {CDJ201}\n"
    )


def test_statistics(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "app" / "more.py").write_text(BAD + "\n\ndef again(url):\n    return requests.post(url)\n")
    code, out, _ = check(capsys, "--statistics", "app")
    assert (code, out) == (1, "3\tCDJ201\t[*] http-call-without-timeout\n")


def test_a_file_that_does_not_parse_is_reported_and_fails_the_run(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "app" / "broken.py").write_text("def f(:\n    pass\n")
    code, out, _ = check(capsys, "-q", "app/broken.py", "app/clean.py")
    assert (code, out) == (1, "app/broken.py:1:7: SyntaxError: invalid syntax\n")


def test_columns_count_characters(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "app" / "accents.py").write_text("import requests\nété = 1; requests.get('é')\n", encoding="utf-8")
    code, out, _ = check(capsys, "-q", "--output-format", "json", "app/accents.py")
    [item] = json.loads(out)
    assert (item["location"], item["end_location"]) == ({"column": 10, "row": 2}, {"column": 27, "row": 2})


def test_noqa_and_per_file_ignores(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "app" / "silenced.py").write_text("import requests\nrequests.get(u)  # noqa: CDJ201\n")
    (project / "app" / "legacy").mkdir()
    (project / "app" / "legacy" / "old.py").write_text(BAD)
    table = '[tool.flake8-celery-django]\nper-file-ignores = { "*/legacy/*" = ["CDJ2"] }\n'
    (project / "pyproject.toml").write_text(table)
    code, out, _ = check(capsys, "-q", "app")
    assert (code, out) == (1, f"app/rates.py:5:12: CDJ201 [*] {CDJ201}\n")


@pytest.mark.parametrize(
    ("args", "reported"),
    [((), False), (("--select", "CDJ"), False), (("--select", "CDJ3"), False), (("--extend-select", "CDJ302"), True)],
)
def test_a_rule_off_by_default_needs_its_full_code(
    project: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], reported: bool
) -> None:
    (project / "locks.py").write_text(LOCK)
    code, out, _ = check(capsys, "-q", *args, "locks.py")
    expected = "locks.py:5:12: CDJ302 select_for_update() is evaluated outside transaction.atomic; wrap it in"
    assert (code == 1, out.startswith(expected)) == (reported, reported), out


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        (("missing.py",), {}, "missing.py: no such file or directory"),
        (("--jobs", "0", "."), {}, "--jobs takes a number of processes of 1 or more, not 0"),
        (("--select", "CDJ8", "."), {}, "--select: unknown code 'CDJ8'"),
        (("--output-format", "xml", "."), {}, "invalid choice: 'xml'"),
        ((".",), {"setup.cfg": "[flake8]\ncdj-timeout = 3\n"}, "unknown option 'cdj-timeout'"),
        ((".",), {"pyproject.toml": "[tool.flake8-celery-django]\ncdj-default-timeout = 0\n"}, "cdj-default-timeout"),
    ],
)
def test_usage_errors_exit_2(project: Path, args: tuple[str, ...], files: dict[str, str], message: str) -> None:
    assert SCRIPT is not None
    for name, text in files.items():
        (project / name).write_text(text)
    result = subprocess.run([SCRIPT, "check", *args], cwd=project, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_the_same_findings_as_the_flake8_plugin() -> None:
    assert SCRIPT is not None
    flake8 = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "CDJ", "shop"],
        cwd=EXAMPLES, capture_output=True, text=True, timeout=120,
    )
    check_run = subprocess.run(
        [SCRIPT, "check", "--isolated", "--no-cache", "-q", "shop"], cwd=EXAMPLES, capture_output=True, text=True,
        timeout=120,
    )
    assert check_run.returncode == 1 and flake8.returncode == 1
    assert sorted(check_run.stdout.replace(" [*]", "").splitlines()) == sorted(flake8.stdout.splitlines())
    assert len(flake8.stdout.splitlines()) > 10


def test_default_excludes_and_force_exclude(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for folder in (".venv/lib/site-packages/requests", "build", "node_modules/x", "app/.tox"):
        (project / folder).mkdir(parents=True)
        (project / folder / "api.py").write_text(BAD)
    assert discover(["."]) == ["./app/clean.py", "./app/rates.py"]
    named = os.path.join("build", "api.py")
    assert discover([named, "app"]) == [os.path.join("app", "clean.py"), os.path.join("app", "rates.py"), named]
    assert discover([named], force_exclude=True) == []
    assert discover([".venv/lib/site-packages/requests/api.py"], force_exclude=True) == []
    assert discover(["."], exclude=["clean.py"]) == ["./app/rates.py"]
    code, out, _ = check(capsys, "-q", "--force-exclude", named)
    assert (code, out) == (0, "")


def test_parallel_jobs_give_the_same_reports(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for number in range(40):
        (project / "app" / f"m{number:02}.py").write_text(BAD if number % 3 else GOOD)
    one = check(capsys, "-q", "-j", "1", "app")
    two = check(capsys, "-q", "-j", "2", "app")
    assert one == two
    assert one[0] == 1 and len(one[1].splitlines()) == 27


def test_the_cache_serves_an_unchanged_file_and_rechecks_a_changed_one(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = main(["check", "-q", "app"])
    assert first == 1 and capsys.readouterr().out == f"app/rates.py:5:12: CDJ201 [*] {CDJ201}\n"
    [stored] = (project / ".cdj_cache" / "results").glob("*.json")
    tag = (project / ".cdj_cache" / "CACHEDIR.TAG").read_text()
    assert tag.startswith("Signature: 8a477f597d28d172789f06886806bc55\n")
    assert (project / ".cdj_cache" / ".gitignore").read_text().endswith("*\n")
    # The cache is what the second run reads: a report changed in it shows.
    stored.write_text(stored.read_text().replace("has no timeout", "HAS NO TIMEOUT"))
    assert main(["check", "-q", "app"]) == 1
    assert "HAS NO TIMEOUT" in capsys.readouterr().out
    # A changed file is checked again.
    (project / "app" / "rates.py").write_text(GOOD)
    assert main(["check", "-q", "app"]) == 0
    assert capsys.readouterr().out == ""
    # A cache that does not read back is no cache.
    stored.write_text('{"version": "0.1.0", "files": {"app/rates.py": {"size": 1}}')
    assert main(["check", "-q", "app"]) == 0
    stored.write_text("[1, 2]")
    assert main(["check", "-q", "app"]) == 0


def test_a_change_elsewhere_in_the_project_invalidates_the_cache(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "setup.cfg").write_text("[flake8]\n")
    assert main(["check", "-q", "app"]) == 1
    [stored] = (project / ".cdj_cache" / "results").glob("*.json")
    stored.write_text(stored.read_text().replace("has no timeout", "HAS NO TIMEOUT"))
    assert main(["check", "-q", "app"]) == 1
    assert "HAS NO TIMEOUT" in capsys.readouterr().out
    (project / "app" / "other.py").write_text("x = 1\n")  # the project changed: its index may say more
    assert main(["check", "-q", "app"]) == 1
    assert capsys.readouterr().out == f"app/rates.py:5:12: CDJ201 [*] {CDJ201}\n"


def test_the_cache_goes_to_the_project_root(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project / "app")
    assert main(["check", "-q", "rates.py"]) == 1
    assert list((project / ".cdj_cache" / "results").glob("*.json"))
    assert not (project / "app" / ".cdj_cache").exists()


def test_no_cache_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(capsys, "-q", "app")[0] == 1
    assert not (project / ".cdj_cache" / "results").exists()  # the project index keeps its own cache


def test_cache_dir_option(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "-q", "--cdj-cache-dir", "elsewhere", "app"]) == 1
    assert list((project / "elsewhere" / "results").glob("*.json"))
    assert not (project / ".cdj_cache").exists()  # the project index uses the same folder


def test_no_progress_when_standard_error_is_not_a_terminal(project: Path) -> None:
    assert SCRIPT is not None
    for number in range(40):
        (project / "app" / f"m{number:02}.py").write_text(GOOD)
    result = subprocess.run([SCRIPT, "check", "--no-cache", "app"], cwd=project, capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (1, "")


def test_reports_read_back_from_json() -> None:
    report = FileReport(
        "a.py",
        (
            Reported(
                "CDJ201", "m", Position(1, 2), Position(1, 9), 1,
                SuggestedFix("safe", "t", (TextEdit("x\n", Position(1, 1), Position(2, 1)),)),
            ),
            Reported(None, "SyntaxError: x", Position(3, 1), Position(3, 1), 3),
        ),
        failed=True,
    )
    assert from_json(json.loads(json.dumps(to_json(report)))) == report


ADOPTED_BEFORE = (
    "import requests\n\n"
    "requests.get(u)  # fetch\r\n"
    "requests.get(u)  # noqa: E501\n"
    'requests.get("""\n""")\n'
    "requests.get(u)  # noqa\n"
    "requests.get(u)  # noqa: CDJ201\n"
    "x = 1  # noqa: CDJ201\n"
)
ADOPTED_AFTER = (
    "import requests\n\n"
    "requests.get(u)  # fetch  # noqa: CDJ201\r\n"
    "requests.get(u)  # noqa: E501, CDJ201\n"
    'requests.get("""\n""")  # noqa: CDJ201\n'
    "requests.get(u)  # noqa\n"
    "requests.get(u)  # noqa: CDJ201\n"
    "x = 1  # noqa: CDJ201\n"
)


def test_add_noqa_silences_every_finding_once(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "app" / "legacy.py").write_bytes(ADOPTED_BEFORE.encode())
    (project / "app" / "broken.py").write_text("def f(:\n")
    assert check(capsys, "--add-noqa", "app/legacy.py", "app/broken.py") == (0, "", "Added 3 noqa directives.\n")
    assert (project / "app" / "legacy.py").read_bytes() == ADOPTED_AFTER.encode()
    assert (project / "app" / "broken.py").read_text() == "def f(:\n"
    assert check(capsys, "--add-noqa", "app/legacy.py") == (0, "", "Added 0 noqa directives.\n")
    # what is left is the unused noqa, whose remedy is to remove it, not to silence it
    code, out, _ = check(capsys, "-q", "app/legacy.py")
    unused = "# noqa names CDJ201 but nothing on this line reports it; remove it"
    assert (code, out) == (1, f"app/legacy.py:9:8: CDJ900 [*] {unused}\n")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_only_for_long_runs() -> None:
    terminal = FakeTerminal()
    progress = Progress(50, terminal, enabled=True)
    for _ in range(50):
        progress.step()
    progress.close()
    assert terminal.getvalue() == "\rchecked 25/50 files\rchecked 50/50 files\r\033[K"
    for stream, total, enabled in ((io.StringIO(), 50, True), (FakeTerminal(), 5, True), (FakeTerminal(), 50, False)):
        quiet = Progress(total, stream, enabled=enabled)
        for _ in range(total):
            quiet.step()
        quiet.close()
        assert stream.getvalue() == ""


SENDS = """from celery import shared_task
from django.db import transaction


@shared_task
def notify(order_id):
    pass


def place(order):
    with transaction.atomic():
        order.save()
        notify.delay(order.pk)


def refund(order):
    with transaction.atomic():
        try:
            order.save()
        except ValueError:
            notify.delay(order.pk)
            raise
"""
CDJ501 = "notify.delay() inside an atomic block; defer it with on_commit()"


def test_a_finding_whose_fix_is_refused_is_not_marked_or_counted(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The send in the ``except`` handler is a compensating action: moving it into on_commit would
    # lose it on the rollback, so ``fix`` refuses it, and ``check`` neither marks nor counts it.
    (project / "app" / "orders.py").write_text(SENDS)
    code, out, _ = check(capsys, "--extend-select", "CDJ501", "--unsafe-fixes", "app/orders.py")
    assert (code, out) == (
        1,
        f"app/orders.py:13:9: CDJ501 [*] {CDJ501}\n"
        f"app/orders.py:21:13: CDJ501 {CDJ501}\n"
        "Found 2 findings.\n[*] 1 fixable with `flake8-celery-django fix`.\n",
    )
    code, out, _ = check(capsys, "--extend-select", "CDJ501", "--output-format", "json", "app/orders.py")
    assert [bool(item["fix"]) for item in json.loads(out)] == [True, False]
