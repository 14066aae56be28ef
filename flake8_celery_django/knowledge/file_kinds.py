"""Files and functions whose ORM work runs once or only in tests: data migrations and test code.

A data migration (``RunPython(forwards)``, ``def forwards(apps, schema_editor)``) runs once at
deploy time with nobody else writing; test modules build fixtures row by row on purpose.  The ORM
families (CDJ3xx, CDJ4xx) stay silent there.
"""

from __future__ import annotations

import ast
import os
import re

from flake8_celery_django.context import FileContext, Scope
from flake8_celery_django.project.root import find_root

_TEST_FILE = re.compile(r"(^|/)(tests?|testing|[^/]*_tests)(/|\.py$)|(^|/)(test_[^/]*|[^/]*_tests?|conftest)\.py$")
# ``app/migrations/0001_x.py`` and helper modules such as ``utils/migrations.py`` that they call.
_MIGRATIONS_DIR = re.compile(r"(^|/)migrations(/|\.py$)")
_MIGRATION_PARAMETERS = ("apps", "schema_editor")
# What ``pre_migrate``/``post_migrate`` send besides ``apps`` (django/db/models/signals.py).
_MIGRATE_SIGNAL_PARAMETERS = frozenset({"sender", "app_config", "verbosity", "interactive"})


def is_migration_file(filename: str) -> bool:
    return bool(_MIGRATIONS_DIR.search(filename.replace("\\", "/")))


_MANAGEMENT_COMMAND = re.compile(r"(^|/)management/commands/[^/]+\.py$")


def is_management_command(filename: str) -> bool:
    """``app/management/commands/x.py``: run by an operator, one at a time."""
    return bool(_MANAGEMENT_COMMAND.search(filename.replace("\\", "/")))


def is_test_file(filename: str) -> bool:
    """``tests/...``, ``playwright_tests/...``, ``test_x.py``, ``x_tests.py``, ``tests.py``, ``testing.py``,
    ``conftest.py``."""
    return bool(_TEST_FILE.search(filename.replace("\\", "/")))


def is_data_migration_function(node: ast.AST) -> bool:
    """``def forwards(apps, schema_editor)`` (or ``(apps, *args)``): the signature ``RunPython`` calls;
    or a ``post_migrate`` handler (``def populate(sender, *, apps, **kwargs)``, ``(app_config, verbosity, ..., apps)``),
    which Django calls once per ``migrate`` with the historical app registry."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    names = tuple(argument.arg for argument in node.args.args[:2])
    if names == _MIGRATION_PARAMETERS:
        return True
    if names == ("apps",) and node.args.vararg is not None:
        return True  # ``def forwards(apps, *args)``: what ``RunPython`` passes, the editor unnamed
    every = {argument.arg for argument in (*node.args.args, *node.args.kwonlyargs)}
    return "apps" in every and not every.isdisjoint(_MIGRATE_SIGNAL_PARAMETERS)


_TEST_FIXTURE_METHODS = frozenset({"tearDown", "tearDownClass"})


def is_test_function(node: ast.AST) -> bool:
    """A test function or fixture method (:func:`is_test_function_name`), or a test class: named
    ``Test...``/``...Tests``/``...TestCase`` with no base (pytest) or a test base (``TestCase``)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return is_test_function_name(node.name)
    if isinstance(node, ast.ClassDef):
        return is_test_class_name(node.name) and (not node.bases or any(map(_names_a_test_class, node.bases)))
    return False


def is_test_function_name(name: str) -> bool:
    """``test``, ``test_x``, ``testX`` (unittest's camel case), ``setUp...``, ``tearDown``, ``tearDownClass``."""
    return (
        name == "test"
        or name.startswith(("test_", "setUp"))
        or (name.startswith("test") and name[4:5].isupper())
        or name in _TEST_FIXTURE_METHODS
    )


def is_test_class_name(name: str) -> bool:
    """``TestOrders``, ``Test_orders``, ``OrderTest``, ``OrderTests``, ``OrderTestCase``; not ``Testimonial``."""
    return (name.startswith("Test") and not name[4:5].islower()) or name.endswith(("Test", "Tests", "TestCase"))


def _names_a_test_class(base: ast.expr) -> bool:
    name = base.attr if isinstance(base, ast.Attribute) else base.id if isinstance(base, ast.Name) else ""
    return "Test" in name


def runs_once_or_in_tests(ctx: FileContext) -> bool:
    """True in migrations, test modules, test functions, and inside a ``RunPython`` function anywhere."""
    kind = _file_kind(ctx)
    if kind.migration or kind.test:
        return True
    scope: Scope | None = ctx.scope
    while scope is not None:
        if is_data_migration_function(scope.node) or is_test_function(scope.node):
            return True
        scope = scope.parent
    return False


def runs_in_a_migration(ctx: FileContext) -> bool:
    """True in a migration module or inside a ``RunPython`` function anywhere: its models are the
    historical ones ``apps.get_model()`` builds from the migration state, not today's."""
    if _file_kind(ctx).migration:
        return True
    scope: Scope | None = ctx.scope
    while scope is not None:
        if is_data_migration_function(scope.node):
            return True
        scope = scope.parent
    return False


def in_test_code(scope: Scope, ctx: FileContext) -> bool:
    """True in a test module, or inside a test function, fixture method or test class."""
    if _file_kind(ctx).test:
        return True
    current: Scope | None = scope
    while current is not None:
        if is_test_function(current.node):
            return True
        current = current.parent
    return False


class _FileKind:
    __slots__ = ("migration", "test", "script", "hidden")

    def __init__(self) -> None:
        self.migration: bool | None = None
        self.test: bool | None = None
        self.script: bool | None = None
        self.hidden: bool | None = None


def in_hidden_folder(ctx: FileContext) -> bool:
    """The module sits in a folder whose name starts with a dot (``.semgrep/``, ``.github/``) below the
    project root: no import path goes through such a folder, so it is a tool's, not the application's."""
    kind = _file_kind(ctx)
    return bool(kind.hidden)


def is_script(ctx: FileContext) -> bool:
    """The module is a command-line script: it ends in a top-level ``if __name__ == "__main__":``.

    Someone runs it and watches it (a report, a deploy step); no web or worker process does."""
    kind = _file_kind(ctx)
    if kind.script is None:
        module = ctx.module_scope.node
        kind.script = isinstance(module, ast.Module) and any(map(_is_main_guard, module.body))
    return kind.script


def _is_main_guard(statement: ast.stmt) -> bool:
    if not isinstance(statement, ast.If) or not isinstance(statement.test, ast.Compare):
        return False
    test = statement.test
    sides = [test.left, *test.comparators]
    return (
        len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides)
        and any(isinstance(side, ast.Constant) and side.value == "__main__" for side in sides)
    )


def path_in_project(filename: str, project_root: str | None) -> str:
    """``filename`` below its project root, so that the folders above the project (a checkout under
    ``~/tests/``) say nothing about what the file is; a relative name is judged as written."""
    if not os.path.isabs(filename):
        return filename
    root = os.path.abspath(project_root) if project_root else find_root(filename)
    below = os.path.relpath(filename, root)
    return filename if below.startswith("..") else below


def _file_kind(ctx: FileContext) -> _FileKind:
    kind = ctx.state(_FileKind)
    if kind.test is None:
        path = path_in_project(ctx.filename, getattr(ctx.options, "project_root", None))
        kind.migration = is_migration_file(path)
        kind.test = is_test_file(path)
        kind.hidden = not os.path.isabs(path) and any(
            part.startswith(".") and part not in (".", "..") for part in _folders(path)
        )
    return kind


def _folders(path: str) -> list[str]:
    return path.replace("\\", "/").split("/")[:-1]
