"""Code that only management commands, migrations and tests run: by hand, once, or on a test database.

An operator runs a management command (``manage.py populatedb``) one run at a time and watches it;
a data migration runs once at deploy time; tests build their fixtures row by row on purpose. The
cost rules (CDJ4xx) and CDJ303 leave such code alone. It is the code of a management command,
migration or test module, of a data migration or test function, or of a function whose every
caller in the project (the project index's call sites) is such code, through callers of callers up
to a few calls deep. A function no project code calls may be an entry point (a view, a task, a
hook) and is not such code, nor is a Celery task or a signal receiver, whoever else calls it.
"""

from __future__ import annotations

from flake8_celery_django.context import FileContext, Scope
from flake8_celery_django.knowledge import callers
from flake8_celery_django.knowledge.file_kinds import (
    is_management_command,
    is_migration_file,
    is_test_class_name,
    is_test_file,
    is_test_function_name,
    runs_once_or_in_tests,
)
from flake8_celery_django.project.knowledge import ProjectKnowledge

# Callers of callers followed at most: populatedb -> create_products_by_schema -> create_product.
MAX_CALL_DEPTH = 4


def runs_only_from_operator_code(ctx: FileContext) -> bool:
    """The code here runs only from a management command, a migration or tests (see the module)."""
    if runs_once_or_in_tests(ctx) or is_management_command(ctx.filename):
        return True
    function = _outermost_function(ctx.code_scope())
    if function is None or function.is_task or not ctx.project.enabled:
        return False
    qualified = callers.function_qualified_name(function, ctx)
    return qualified is not None and _OperatorCallers.of(ctx.project).only_operators_call(qualified)


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
        """Whether every caller of ``function`` is operator code, and whether that answer holds
        whatever the path (no cycle or depth bound cut it short), which makes it worth keeping."""
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
        seen_caller = False
        for site in self.project.call_sites(function):
            if site.caller in inside:
                complete = False  # recursion: the other callers decide
                continue
            seen_caller = True
            answer, caller_complete = self._caller_is_operator_code(site.caller, inside, depth + 1)
            if not answer and caller_complete:
                self.answers[function] = False
                return False, True
            if not answer:
                return False, False
            complete = complete and caller_complete
        if complete:
            self.answers[function] = seen_caller
        return seen_caller, complete

    def _caller_is_operator_code(self, caller: str, path: frozenset[str], depth: int) -> tuple[bool, bool]:
        module, names = self._split(caller)
        if module is not None:
            path_name = module.replace(".", "/") + ".py"
            if is_management_command(path_name) or is_migration_file(path_name) or is_test_file(path_name):
                return True, True
        if any(is_test_function_name(name) or is_test_class_name(name) for name in names):
            return True, True
        if not names:
            return False, True  # module-level code runs on import, in every process
        return self._judge(caller, path, depth)

    def _split(self, qualified: str) -> tuple[str | None, list[str]]:
        """``shop.management.commands.load.Command.handle`` -> the module and the names in it."""
        parts = qualified.split(".")
        for end in range(len(parts), 0, -1):
            module = ".".join(parts[:end])
            if module in self.project.modules:
                return module, parts[end:]
        return None, parts

    def _is_entry_point(self, function: str) -> bool:
        """A Celery task or a signal receiver runs in production whoever else calls it."""
        task = self.project.task(function)
        return (task is not None and task.qualified_name == function) or bool(
            self.project.signals_received_by(function)
        )
