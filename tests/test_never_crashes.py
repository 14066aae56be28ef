"""The plugin raises nothing, whatever Python it is shown: the standard library, generated programs,
deep nesting, long files, odd encodings and files that do not parse.

Every check runs the walk with ``strict=True`` (an internal error is raised, not skipped) and with
every registered rule enabled, so each family added to the registry is held to this too.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import traceback
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, given, settings

from flake8_celery_django.api import check_source, check_tree, parse_quietly
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings
from tests import programs

# The project index reads (and must survive) every file of the standard library too; its cache goes
# to a temporary folder, never into the interpreter's own.
ALL_RULES = Settings(
    enabled=frozenset(RULES), atomic_requests=True, cache_dir=tempfile.mkdtemp(prefix="cdj-never-crashes-")
)
FLAKE8 = [sys.executable, "-m", "flake8"]


def crash_report(filename: str) -> str:
    return f"{filename}: " + "".join(traceback.format_exc(limit=-6))


def check_strictly(tree: ast.Module, filename: str) -> None:
    """Run every rule on ``tree``; a failure names the file and shows the end of the traceback."""
    try:
        check_tree(tree, filename, ALL_RULES, strict=True)
    except Exception:  # noqa: BLE001
        pytest.fail(crash_report(filename), pytrace=False)


def stdlib_files() -> list[Path]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return sorted(
        path for path in stdlib.rglob("*.py") if "site-packages" not in path.parts and "dist-packages" not in path.parts
    )


def test_standard_library() -> None:
    files = stdlib_files()
    assert len(files) > 500, "the standard library was not found"
    failures = []
    for path in files:
        tree = parse_quietly(path.read_bytes(), str(path))
        if tree is None:
            continue  # test data that is deliberately not valid Python
        try:
            check_tree(tree, str(path), ALL_RULES, strict=True)
        except Exception:  # noqa: BLE001  (collect every failing file, then fail once)
            failures.append(crash_report(str(path)))
    assert not failures, f"{len(failures)} standard-library files crash the plugin:\n" + "\n".join(failures[:10])


def check_generated(source: str) -> None:
    tree = parse_quietly(source, "generated.py")
    assume(tree is not None)
    assert tree is not None
    try:
        check_tree(tree, "generated.py", ALL_RULES, strict=True)
    except Exception:  # noqa: BLE001
        pytest.fail(crash_report("generated.py") + "\nsource:\n" + source)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_generated_programs(source: str) -> None:
    check_generated(source)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar(auto_target=False))
def test_generated_programs_inside_a_task_loop(source: str) -> None:
    # the generated code where every family looks: a task, a loop, an atomic block
    check_generated(programs.in_task_loop("pass") + textwrap.indent(source, " " * 12))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_generated_syntax_trees(source: str) -> None:
    check_generated(source)


@pytest.mark.parametrize("name", sorted(programs.DEEP_EXPRESSIONS))
def test_expressions_nested_1000_levels(name: str) -> None:
    statement = programs.DEEP_EXPRESSIONS[name]
    for source in (statement, programs.in_task_loop(statement)):
        filename = f"deep {name}.py"
        tree = parse_quietly(source, filename)
        assert tree is not None, f"{filename} does not parse"
        check_strictly(tree, filename)


def test_blocks_nested_as_deep_as_a_file_allows() -> None:
    tree = parse_quietly(programs.DEEP_BLOCK_SOURCE, "deep blocks.py")
    assert tree is not None, "deep blocks.py does not parse"
    check_strictly(tree, "deep blocks.py")


@pytest.mark.parametrize("kind", programs.DEEP_BLOCK_KINDS)
def test_blocks_nested_1000_levels(kind: str) -> None:
    # deeper than CPython's tokenizer allows in a file (100 levels), so the tree is built directly
    check_strictly(programs.deep_block_module(kind), f"deep {kind} blocks.py")


def test_a_50k_line_file() -> None:
    source = programs.large_module(50_000)
    assert source.count("\n") >= 50_000
    findings = check_source(source, "long.py", ALL_RULES, strict=True)
    # the block has one call without a timeout, so the walk reached the end of the file
    assert findings and findings[-1].line > 49_000


ODD_FILES: dict[str, bytes] = {
    "latin1_with_cookie.py": (
        "# -*- coding: latin-1 -*-\nimport requests\nname = 'caf\xe9'\nrequests.get(name)\n".encode("latin-1")
    ),
    "latin1_without_cookie.py": "import requests\nname = 'caf\xe9'\nrequests.get(name)\n".encode("latin-1"),
    "cp1252_with_cookie.py": "# coding: cp1252\nimport requests\nquote = '\u201cx\u201d'\nrequests.get(quote)\n".encode(
        "cp1252"
    ),
    "utf16.py": "import requests\nrequests.get('x')\n".encode("utf-16"),
    "bom.py": b"\xef\xbb\xbfimport requests\nrequests.get('https://example.com')\n",
    "bom_with_cookie.py": b"\xef\xbb\xbf# -*- coding: utf-8 -*-\nimport requests\nrequests.get('x')\n",
    "bom_only.py": b"\xef\xbb\xbf",
    "empty.py": b"",
    "comments_only.py": b"# nothing here\n",
    "crlf.py": b"import requests\r\nrequests.get('x')\r\n",
    "no_final_newline.py": b"import requests\nrequests.get('x')",
    "form_feed.py": b"import requests\n\x0c\ndef f():\n    requests.get('x')\n",
    "null_byte.py": b"import requests\nx = 1\x00\n",
    "syntax_error.py": b"import requests\ndef broken(:\n    requests.get('x')\n",
    "indentation_error.py": b"import requests\nif True:\nrequests.get('x')\n",
    "python2.py": b"import requests\nprint 'hello'\nrequests.get('x')\n",
    "unterminated_string.py": b"import requests\nx = '''\nrequests.get('x')\n",
    "bad_escape.py": b"import requests\nx = '\\d'\nrequests.get(x)\n",
}


@pytest.mark.parametrize("name", sorted(ODD_FILES))
def test_odd_sources_in_process(name: str) -> None:
    tree = parse_quietly(ODD_FILES[name], name)
    if tree is not None:
        check_strictly(tree, name)


def test_odd_sources_through_flake8(tmp_path: Path) -> None:
    # the real flake8 path: its decoding, its E902/E999 handling, then the plugin on what parses
    for name, content in ODD_FILES.items():
        # flake8 itself stops with a traceback on a null byte (UTF-16 text too) under Python 3.10
        # (ast raises ValueError there, SyntaxError from 3.11 on): not the plugin's path.
        if b"\x00" in content and sys.version_info < (3, 11):
            continue
        (tmp_path / name).write_bytes(content)
    result = subprocess.run(
        [*FLAKE8, "--isolated", "-j", "1", "--select", "CDJ,E902,E999", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    reported = {line.split(":")[0].removeprefix("./") for line in result.stdout.splitlines()}
    # the plugin ran on the files flake8 could parse, BOM and cookies included
    for name in ("latin1_with_cookie.py", "cp1252_with_cookie.py", "bom.py", "bom_with_cookie.py", "crlf.py"):
        assert f"./{name}:" in result.stdout and "CDJ201" in result.stdout, (name, result.stdout)
    # and flake8 reported, not crashed on, the ones it could not
    for name in ("syntax_error.py", "indentation_error.py", "python2.py", "unterminated_string.py"):
        assert name in reported, (name, result.stdout)


def test_source_too_deep_for_the_parser_has_no_findings_and_no_error() -> None:
    # Python 3.11's parser raises RecursionError here; 3.10 and 3.13 parse it and the walk reports it.
    source = "import requests\nx = " + " + ".join(["requests.get(u)"] + ["1"] * 5000) + "\n"
    codes = {finding.code for finding in check_source(source, "deep.py", ALL_RULES, strict=True)}
    assert codes <= {"CDJ201"}
