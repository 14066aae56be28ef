"""Code that only management commands, migrations and tests run: by hand, once, or on a test database.

An operator runs a management command (``manage.py populatedb``) one run at a time and watches it; a
data migration runs once at deploy time; tests build their fixtures row by row on purpose. The cost
rules (CDJ4xx), CDJ303 and the timeout rules (CDJ201, CDJ202: no worker or request waits on an
operator's run) leave such code alone. It is the code of a management command, migration or test
module, of a data migration or test function, of an invoke or Fabric task, or of a function called
in the project (the project index's call sites) by management commands or migrations, or by
functions only they call, up to a few calls deep, and by nothing else but tests. Calls from tests
count neither way: tests call production entry points directly. A function no project code calls may
be an entry point (a view, a task, a hook) and is not such code, nor is a Celery task or a signal
receiver, whoever else calls it.
"""

from __future__ import annotations

import ast
import enum

from flake8_celery_django.context import FileContext, Scope
from flake8_celery_django.knowledge import callers
from flake8_celery_django.knowledge.file_kinds import is_management_command, runs_once_or_in_tests
from flake8_celery_django.project.knowledge import ProjectKnowledge

# A module of an app's ``migrations`` package (helpers its migrations import).
_MIGRATIONS = ".migrations."
# The task decorators of invoke (invoke/__init__.py, invoke/tasks.py) and Fabric (2 and later:
# fabric/__init__.py, fabric/tasks.py; 1: fabric.api, fabric.decorators).
_COMMAND_LINE_TASKS = frozenset(
    {
        "invoke.task", "invoke.tasks.task",
        "fabric.task", "fabric.tasks.task", "fabric.api.task", "fabric.decorators.task",
    }
)
# Callers of callers followed at most: populatedb -> create_products_by_schema -> create_product.
MAX_CALL_DEPTH = 8


class _Answer:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: bool | None = None


def runs_only_from_operator_code(ctx: FileContext) -> bool:
    """The code here runs only from a management command, a migration or tests (see the module)."""
    answer = ctx.code_scope().state(_Answer)  # the same for every node of a function
    if answer.value is None:
        answer.value = _decide(ctx)
    return answer.value


def _decide(ctx: FileContext) -> bool:
    if runs_once_or_in_tests(ctx) or is_management_command(ctx.filename):
        return True
    function = _outermost_function(ctx.code_scope())
    if function is None or function.is_task:
        return False
    if _is_command_line_task(function, ctx):
        return True
    if not ctx.project.enabled:
        return False
    qualified = callers.function_qualified_name(function, ctx)
    return qualified is not None and _OperatorCallers.of(ctx.project).only_operators_call(qualified)


def _is_command_line_task(function: Scope, ctx: FileContext) -> bool:
    """An invoke or Fabric task (``@task`` of ``invoke``/``fabric``, as their packages export it):
    a command an operator types (``invoke load-fixtures``), like a management command."""
    node = function.node
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if ctx.imports.resolve(target) in _COMMAND_LINE_TASKS:
            return True
    return False


def _outermost_function(scope: Scope) -> Scope | None:
    """The function defined at module or class level that ``scope`` runs in: a nested function
    exists only while its definer runs, and the index records calls of the definer."""
    found: Scope | None = None
    current: Scope | None = scope
    while current is not None and current.kind != "module":
        if current.kind == "function":
            found = current
        current = current.parent
    return found


class _Caller(enum.Enum):
    OPERATOR = "a management command or a migration"
    # Tests call production entry points directly (a view, a pipeline step named in settings):
    # a call from a test says nothing about where else the function runs.
    TEST = "test code"
    ON_IMPORT = "module-level code, which runs on import in every process"
    FUNCTION = "another function, judged by its own callers"


class _OperatorCallers:
    """What the project's call sites say, per function, cached for the project being checked."""

    _cached: _OperatorCallers | None = None

    def __init__(self, project: ProjectKnowledge) -> None:
        self.project = project
        self.answers: dict[str, bool] = {}

    @classmethod
    def of(cls, project: ProjectKnowledge) -> _OperatorCallers:
        cached = cls._cached
        if cached is None or cached.project is not project:
            cached = cls._cached = cls(project)
        return cached

    def only_operators_call(self, function: str) -> bool:
        answer, _ = self._judge(function, frozenset(), 0)
        return answer

    def _judge(self, function: str, path: frozenset[str], depth: int) -> tuple[bool, bool]:
        """Whether ``function`` runs only for operators, and whether that answer holds whatever the
        path (no cycle or depth bound cut it short), which makes it worth keeping."""
        known = self.answers.get(function)
        if known is not None:
            return known, True
        if depth >= MAX_CALL_DEPTH:
            return False, False
        if self._is_entry_point(function):
            self.answers[function] = False
            return False, True
        inside = path | {function}
        complete = True
        operator_caller = False
        for site in callers.call_sites_of(function, self.project):
            kind = self._caller_kind(site.caller)
            if kind is _Caller.TEST:
                continue
            if kind is _Caller.OPERATOR:
                operator_caller = True
                continue
            if site.caller in inside:
                complete = False  # recursion: the other callers decide
                continue
            answer, caller_complete = (False, True) if kind is _Caller.ON_IMPORT else self._judge(
                site.caller, inside, depth + 1
            )
            if not answer:
                if caller_complete:
                    self.answers[function] = False
                return False, caller_complete
            operator_caller = True
            complete = complete and caller_complete
        if complete:
            self.answers[function] = operator_caller
        return operator_caller, complete

    def _caller_kind(self, caller: str) -> _Caller:
        if callers.in_management_command(caller) or _MIGRATIONS in f".{caller}.":
            return _Caller.OPERATOR
        if callers.is_test_code(caller):
            return _Caller.TEST
        return _Caller.ON_IMPORT if caller in self.project.modules else _Caller.FUNCTION

    def _is_entry_point(self, function: str) -> bool:
        """A Celery task or a signal receiver runs in production whoever else calls it."""
        return self.project.defines_task(function) or bool(self.project.signals_received_by(function))
