"""Fixers, registered per rule code, and what they hand back: one node replaced by another.

A fixer receives the libcst node that the finding was reported on (found again by its exact
start and end position), with the plan detection bound to the finding in ``FixContext.plan``
(``fix_plans``: the call it resolved, where an argument goes, the database alias), and returns an
:class:`Edit`, or ``None`` when this occurrence is better left to a person.  It carries the plan
out and never resolves a name again.  Whether a fix is safe or unsafe is the rule's own ``fix`` field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import libcst as cst
from libcst.metadata import CodeRange

from flake8_celery_django import rules as _rules  # noqa: F401  (declares the rules fixers refer to)
from flake8_celery_django.registry import RULES, FixSafety

if TYPE_CHECKING:
    from flake8_celery_django.fix_plans import FixPlan
    from flake8_celery_django.fixes.imports import ImportPlan, NeededImport
    from flake8_celery_django.settings import Settings


DEFAULT_LINE_LENGTH = 79  # flake8's default max-line-length
NodeT = TypeVar("NodeT", bound=cst.CSTNode)


def char_column(line: str, byte_column: int) -> int:
    """ast columns count UTF-8 bytes; libcst columns count characters."""
    return len(line.encode("utf-8")[:byte_column].decode("utf-8", errors="ignore"))


Replacement = cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]


@dataclass(frozen=True)
class Edit:
    """Replace ``original`` (a node of the parsed module) with ``replacement``.

    ``also`` are further nodes replaced together with it (a statement inserted after another
    is that statement replaced by both), all or none.
    """

    original: cst.CSTNode
    replacement: Replacement
    imports: tuple[NeededImport, ...] = ()
    also: tuple[tuple[cst.CSTNode, Replacement], ...] = ()

    def replacements(self) -> tuple[tuple[cst.CSTNode, Replacement], ...]:
        return ((self.original, self.replacement), *self.also)


@dataclass
class FixContext:
    """What a fixer may consult: the module, each node's parent, the options and the imports."""

    module: cst.Module
    parents: Mapping[cst.CSTNode, cst.CSTNode]
    settings: Settings
    imports: ImportPlan
    positions: Mapping[cst.CSTNode, CodeRange] = field(default_factory=dict)
    # The project's maximum line length (flake8's max-line-length), for fixes that choose a layout.
    line_length: int = DEFAULT_LINE_LENGTH
    # Nodes by (line, column, end line, end column), columns in characters as libcst counts them.
    by_range: Mapping[tuple[int, int, int, int], list[cst.CSTNode]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    # The plan detection bound to the finding being fixed (``Finding.fix``), None when its fix needs none.
    plan: FixPlan | None = None

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def node_at(self, where: tuple[int, int, int, int], kind: type[NodeT]) -> NodeT | None:
        """The node of type ``kind`` at ``where`` (line, column, end line, end column, as ast counts)."""
        lines = self.lines
        line, column, end_line, end_column = where
        if not (0 < line <= len(lines) and 0 < end_line <= len(lines)):
            return None
        start = (line, char_column(lines[line - 1], column))
        end = (end_line, char_column(lines[end_line - 1], end_column))
        for node in self.by_range.get((*start, *end), ()):
            if isinstance(node, kind):
                return node
        return None

    def column(self, node: cst.CSTNode) -> int:
        where = self.positions.get(node)
        return where.start.column if where is not None else 0

    def _indent(self, node: cst.CSTNode) -> int:
        """The indentation of ``node``'s statement."""
        statement: cst.CSTNode | None = node
        while statement is not None and not isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            statement = self.parent(statement)
        return self.column(statement) if statement is not None else 0

    def opening(self, call: cst.Call) -> int:
        """The column just after ``call``'s ``(``, counted from its statement's indentation."""
        head = self.code(call.func) + self.code(call.whitespace_after_func) + "("
        return self.column(call) + len(head) - self._indent(call)

    def placement(self, node: cst.CSTNode) -> tuple[int, int]:
        """Where ``node`` starts and how far its line is indented, both counted from its statement's
        indentation (as libcst writes continuation lines)."""
        where = self.positions.get(node)
        indent = self._indent(node)
        if where is None or not 0 < where.start.line <= len(self.lines):
            return 0, 0
        line = self.lines[where.start.line - 1]
        return where.start.column - indent, len(line) - len(line.lstrip(" ")) - indent


FixFunction = Callable[[cst.CSTNode, FixContext], "Edit | None"]


@dataclass(frozen=True)
class Fixer:
    code: str
    node_types: tuple[type[cst.CSTNode], ...]
    function: FixFunction
    # The kind of plan its rule's detector binds (``fix_plans``); None for a fix that needs none.
    plan: type[object] | None = None

    @property
    def safety(self) -> FixSafety:
        """Declared once, on the rule (``rule(..., fix=...)``); ``none`` for a rule not in this build."""
        declared = RULES.get(self.code)
        return declared.fix if declared is not None else "none"


# Every fixer, including those of rules that this build does not declare.
ALL_FIXERS: dict[str, Fixer] = {}
# The fixers of the declared rules: what ``fix`` runs.
FIXERS: dict[str, Fixer] = {}


def fixer(
    code: str, *node_types: type[cst.CSTNode], plan: type[object] | None = None
) -> Callable[[FixFunction], FixFunction]:
    """Register the fix of ``code``; ``node_types`` are the libcst types the finding may sit on.

    ``plan`` is the kind of plan the rule's detector binds to each finding (``Finding.fix``): the
    fixer runs only on a finding that carries one.  Whether it is safe or unsafe is the rule's own
    ``fix`` field, declared nowhere else.
    """

    def decorator(function: FixFunction) -> FixFunction:
        if code in ALL_FIXERS:
            raise ValueError(f"fixer for {code} registered twice")
        entry = Fixer(code, node_types, function, plan)
        ALL_FIXERS[code] = entry
        if code in RULES:
            FIXERS[code] = entry
        return function

    return decorator
