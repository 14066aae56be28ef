"""What the walk knows about the file at the current node: imports, scopes, loops and bindings.

One :class:`FileContext` lives for one file and is dropped with it: nothing here outlives the
file, so flake8's memory does not grow with the number of files it checks.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar

from flake8_celery_django.fix_plans import FixPlan, NotFixable
from flake8_celery_django.knowledge.imports import ImportTable
from flake8_celery_django.project.knowledge import NO_PROJECT, ProjectKnowledge
from flake8_celery_django.registry import Rule

StateT = TypeVar("StateT")
ScopeKind = Literal["module", "class", "function", "lambda"]


class Kind(enum.Enum):
    """What a name is known to hold, as far as one file tells."""

    MODEL_CLASS = "model class"
    MODEL_INSTANCE = "model instance"
    # A list, tuple or set built from model instances (``[order, order.customer]``, ``list(qs)``).
    MODEL_INSTANCES = "model instances"
    QUERYSET = "queryset"
    REQUESTS_SESSION = "requests session"
    HTTPX_CLIENT = "httpx client"
    ASYNC_RESULT = "task result"
    GROUP_RESULT = "group result"
    SIGNATURE = "task signature"
    HTTP_REQUEST = "HTTP request"
    OPEN_FILE = "open file"
    FUNCTION = "function"
    SET = "set"
    # A dict display whose values include something known (``{"order": order}``).
    MAPPING = "dict"
    UNKNOWN = "unknown"


class Value(NamedTuple):
    """The inferred kind of a value, with a label for messages (a model name, a library)."""

    kind: Kind
    label: str = ""
    # The model's qualified name in the project index, when the index knows it (``shop.models.Order``).
    model: str = ""
    # A dict's string keys and what their values hold (``Kind.MAPPING`` only).
    items: tuple[tuple[str, Value], ...] = ()


@dataclass(eq=False, slots=True)
class Loop:
    """A repeating region: the body of a ``for``/``while`` loop or of a comprehension."""

    node: ast.AST
    targets: frozenset[str]
    iterable: ast.expr | None
    # How many atomic blocks were open when the loop began (an atomic block opened inside the body commits
    # once per iteration when it is the outermost one).
    atomic_depth: int = 0


@dataclass(eq=False, slots=True)
class Scope:
    """A module, class, function or lambda body, with what is known inside it."""

    node: ast.AST
    kind: ScopeKind
    parent: Scope | None
    decorators: tuple[str, ...] = ()
    bindings: dict[str, Value] = field(default_factory=dict)
    loops: list[Loop] = field(default_factory=list)
    context_managers: list[str] = field(default_factory=list)
    atomic_depth: int = 0
    is_task: bool = False
    parameters: frozenset[str] = frozenset()
    _state: dict[type[Any], Any] = field(default_factory=dict)

    @property
    def in_loop(self) -> bool:
        return bool(self.loops)

    @property
    def in_atomic(self) -> bool:
        return self.atomic_depth > 0

    @property
    def enclosing_class(self) -> Scope | None:
        """The class whose method this scope is (``self`` refers to an instance of it)."""
        if self.kind != "function" or self.parent is None or self.parent.kind != "class":
            return None
        return self.parent

    def state(self, cls: type[StateT]) -> StateT:
        """Per-scope state of one rule family, created on first use."""
        found = self._state.get(cls)
        if found is None:
            found = self._state[cls] = cls()
        return found  # type: ignore[no-any-return,unused-ignore]

    def lookup(self, name: str) -> Value | None:
        """The binding of ``name`` in this scope, else in the enclosing function scopes."""
        scope: Scope | None = self
        while scope is not None:
            found = scope.bindings.get(name)
            if found is not None:
                return None if found.kind is Kind.UNKNOWN else found
            scope = scope.parent
            while scope is not None and scope.kind == "class":
                scope = scope.parent
        return None


ValueT = TypeVar("ValueT")


def enclosing_binding(
    scope: Scope | None, table: Callable[[Scope], Mapping[str, ValueT | None]], name: str
) -> ValueT | None:
    """What ``name`` holds in the nearest function, lambda or module scope whose ``table`` has it.

    Class bodies are skipped, as Python skips them when a method looks a name up.
    """
    while scope is not None:
        if scope.kind != "class":
            names = table(scope)
            if name in names:
                return names[name]
        scope = scope.parent
    return None


@dataclass(frozen=True, order=True, slots=True)
class Finding:
    line: int
    col: int
    code: str
    message: str
    # Where the reported node ends, so that ``fix`` finds exactly that node again.
    end_line: int = field(default=0, compare=False)
    end_col: int = field(default=0, compare=False)
    # What this occurrence's fix needs, bound by the detector (``fix_plans``), or why it has none;
    # None for a rule without a fix, or a fix that needs nothing bound.
    fix: FixPlan | NotFixable | None = field(default=None, compare=False)


class FileContext:
    """Per-file knowledge shared by every rule, updated as the walk goes."""

    def __init__(
        self, tree: ast.Module, filename: str, options: Any, project: ProjectKnowledge = NO_PROJECT,
        module: str | None = None, strict: bool = False,
    ) -> None:
        self.filename = filename
        self.options = options
        # Internal errors are raised, not turned into a refused fix (``api.check_tree(strict=True)``).
        self.strict = strict
        # Facts about the whole project (the index), and this file's dotted module name in it.
        self.project = project
        self.module = module
        self.imports = ImportTable()
        self.module_scope = Scope(tree, "module", None)
        self.scope = self.module_scope
        self.findings: list[Finding] = []
        self._state: dict[type[Any], Any] = {}

    # -- reporting -----------------------------------------------------------------------------
    def report(self, node: ast.AST, rule: Rule, *, fix: FixPlan | NotFixable | None = None, **fields: object) -> None:
        """Report ``rule`` on ``node``; ``fix`` is what its fix needs here (or why there is none)."""
        self.findings.append(
            Finding(
                getattr(node, "lineno", 1),
                getattr(node, "col_offset", 0),
                rule.code,
                rule.format(**fields),
                getattr(node, "end_lineno", None) or 0,
                getattr(node, "end_col_offset", None) or 0,
                fix,
            )
        )

    # -- shared knowledge ----------------------------------------------------------------------
    def qualified_name(self, node: ast.expr) -> str | None:
        """The dotted name ``node`` stands for through the file's imports, unless a parameter hides it."""
        qualified = self.imports.resolve(node)
        if qualified is None or self.scope is self.module_scope:
            return qualified
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        name = root.id if isinstance(root, ast.Name) else ""
        scope: Scope | None = self.scope
        while scope is not None:
            if name in scope.parameters:
                return None
            scope = scope.parent
        return qualified

    def state(self, cls: type[StateT]) -> StateT:
        """Per-file state of one rule family, created on first use."""
        found = self._state.get(cls)
        if found is None:
            found = self._state[cls] = cls()
        return found  # type: ignore[no-any-return,unused-ignore]

    def code_scope(self) -> Scope:
        """The function, class or module whose code runs here (lambdas belong to their definer)."""
        scope = self.scope
        while scope.kind == "lambda" and scope.parent is not None:
            scope = scope.parent
        return scope

    def method_owner(self) -> Scope | None:
        """The class scope when the code here is a method's (``self`` is an instance of it)."""
        return self.code_scope().enclosing_class

    def function_scopes(self) -> Iterator[Scope]:
        scope: Scope | None = self.scope
        while scope is not None:
            if scope.kind in ("function", "lambda"):
                yield scope
            scope = scope.parent
