"""The fix engine: detection first, libcst only where needed, all-or-nothing per file, imports added once."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from flake8_celery_django import cli
from flake8_celery_django.fixes import FIXERS, FixError, engine, fix_source
from flake8_celery_django.fixes.imports import ImportPlan, NeededImport, add_imports
from flake8_celery_django.fixes.registry import Edit, FixContext, Fixer
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings

ALL = Settings(enabled=frozenset(RULES))


def test_the_flake8_path_never_imports_libcst(tmp_path: Path) -> None:
    target = tmp_path / "views.py"
    target.write_text("import requests\nrequests.get(url)\n")
    script = textwrap.dedent(
        f"""
        import sys
        from flake8.main import cli
        sys.argv = ["flake8", "--select", "CDJ", {str(target)!r}]
        try:
            cli.main()
        except SystemExit:
            pass
        import flake8_celery_django.plugin
        print("libcst" in sys.modules, "flake8_celery_django.fixes" in sys.modules)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert "CDJ201" in result.stdout, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False False"


def test_a_clean_file_is_never_parsed_by_libcst(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("libcst parse on a file with nothing to fix")

    monkeypatch.setattr(engine.cst, "parse_module", refuse)
    source = "import requests\nrequests.get(url, timeout=5)\nrequests.get(url)  # noqa: CDJ201\n"
    assert fix_source(source, "clean.py", ALL).source == source


def _breaking_fixer(node: cst.CSTNode, ctx: FixContext) -> Edit:
    # a broken fixer: its output is not Python
    return Edit(node, cst.Name("import"))


def test_a_fix_that_breaks_the_code_raises_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(FIXERS, "CDJ201", Fixer("CDJ201", (cst.Call,), _breaking_fixer))
    source = "import requests\nrequests.get(url)\n"
    with pytest.raises(FixError, match="does not parse"):
        fix_source(source, "x.py", ALL)
    path = tmp_path / "x.py"
    path.write_text(source)
    assert cli.main(["fix", "--isolated", str(path)]) == 2
    assert path.read_text() == source
    assert f"{path}: not fixed, left as it was: a fix produced code that does not parse" in capsys.readouterr().err


def test_an_exception_in_a_fixer_names_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(node: cst.CSTNode, ctx: FixContext) -> Edit:
        raise RuntimeError("boom")

    monkeypatch.setitem(FIXERS, "CDJ201", Fixer("CDJ201", (cst.Call,), explode))
    path = tmp_path / "y.py"
    path.write_text("import requests\nrequests.get(url)\n")
    assert cli.main(["fix", "--isolated", str(path)]) == 2
    assert path.read_text() == "import requests\nrequests.get(url)\n"
    message = f"{path}: not fixed, left as it was: internal error while fixing: RuntimeError: boom"
    assert message in capsys.readouterr().err


def test_deeply_nested_code_is_fixed() -> None:
    depth = 150
    source = "import requests\nx = " + "(" * depth + "requests.get(u)" + ")" * depth + "\n"
    fixed = fix_source(source, "deep.py", ALL).source
    assert fixed == source.replace("requests.get(u)", "requests.get(u, timeout=30)")


def test_code_too_deep_to_rewrite_is_left_as_it_was_or_fixed() -> None:
    source = "import requests\nx = " + " + ".join(["requests.get(u)"] + ["1"] * 1000) + "\n"
    result = fix_source(source, "deep.py", ALL)
    # libcst's depth limit depends on the Python version: either the fix parses again, or the file
    # is left exactly as it was with the reason.
    if result.changed:
        ast.parse(result.source)
        assert "timeout=30" in result.source
    else:
        assert result.source == source
        assert result.skipped == "it is nested too deeply to rewrite"


def test_code_too_deep_to_parse_is_skipped() -> None:
    source = "import requests\nx = " + " + ".join(["requests.get(u)"] + ["1"] * 5000) + "\n"
    result = fix_source(source, "deep.py", ALL)
    assert (result.source, result.changed) == (source, False)
    # Python 3.11's parser gives up first; on 3.10 and 3.13 ast parses it and libcst gives up.
    assert result.skipped is not None
    assert result.skipped.startswith(("it does not parse", "it is nested too deeply to rewrite"))


def plan(source: str) -> ImportPlan:
    return ImportPlan(ast.parse(textwrap.dedent(source)))


def test_existing_imports_are_reused() -> None:
    found = plan(
        """
        from django.db import transaction
        import functools
        from django.db.models import F as Field
        """
    )
    assert found.reference("django.db", "transaction", "on_commit").expression == "transaction.on_commit"
    assert found.reference("functools", "partial").expression == "functools.partial"
    assert found.reference("django.db.models", "F").expression == "Field"
    assert all(not found.reference(*args).needs for args in [("functools", "partial"), ("django.db.models", "F")])


def test_a_direct_import_of_the_function_is_reused() -> None:
    found = plan("from django.db.transaction import on_commit\nfrom django.db import models\n")
    assert found.reference("django.db", "transaction", "on_commit").expression == "on_commit"
    assert found.reference("django.db.models", "F").expression == "models.F"


def test_a_missing_import_is_planned_once() -> None:
    found = plan("import requests\n")
    first = found.reference("django.db", "transaction", "on_commit")
    second = found.reference("django.db", "transaction", "on_commit")
    assert first.expression == second.expression == "transaction.on_commit"
    assert first.needs == second.needs == (NeededImport("django.db", "transaction", "transaction"),)


def test_a_name_bound_elsewhere_is_not_shadowed() -> None:
    found = plan(
        """
        from payments import transaction
        def charge(partial):
            F = 1
        """
    )
    assert found.reference("django.db", "transaction", "on_commit").expression == "db_transaction.on_commit"
    assert found.reference("functools", "partial").expression == "functools_partial"
    assert found.reference("django.db.models", "F").needs == (NeededImport("django.db.models", "F", "models_F"),)


def test_an_import_rebound_later_is_not_reused() -> None:
    found = plan("from django.db import transaction\ndef f(transaction):\n    pass\n")
    assert found.reference("django.db", "transaction", "on_commit").expression == "db_transaction.on_commit"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            '"""Docstring."""\nimport os\nfrom x import y\n\nz = 1\n',
            '"""Docstring."""\nimport os\nfrom django.db import transaction\nfrom x import y\n\nz = 1\n',
        ),
        (
            '"""Docstring."""\n\nz = 1\n',
            '"""Docstring."""\nfrom django.db import transaction\n\nz = 1\n',
        ),
        (
            "#!/usr/bin/env python\n# comment\n\nz = 1\n",
            "#!/usr/bin/env python\n# comment\n\nfrom django.db import transaction\nz = 1\n",
        ),
        (
            "from __future__ import annotations\nz = 1\nimport late\n",
            "from __future__ import annotations\n\nfrom django.db import transaction\nz = 1\nimport late\n",
        ),
    ],
)
def test_imports_go_after_the_leading_imports(before: str, after: str) -> None:
    module = add_imports(cst.parse_module(before), [NeededImport("django.db", "transaction", "transaction")] * 2)
    assert module.code == after


def test_fix_on_a_clean_tree_never_loads_libcst(tmp_path: Path) -> None:
    (tmp_path / "clean.py").write_text("import requests\nrequests.get(url, timeout=5)\n")
    (tmp_path / "silenced.py").write_text("import requests\nrequests.get(url)  # noqa: CDJ201\n")
    script = textwrap.dedent(
        f"""
        import sys
        from flake8_celery_django import cli
        code = cli.main(["fix", "--isolated", {str(tmp_path)!r}])
        print(code, "libcst" in sys.modules)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert result.stdout.split() == ["0", "False"], result.stderr
