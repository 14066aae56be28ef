"""Fixers, registered per rule code, and what they hand back: one node replaced by another.

A fixer receives the libcst node that the finding was reported on (found again by its exact
start and end position) and returns an :class:`Edit`, or ``None`` when this occurrence is
better left to a person.  Whether a fix is safe or unsafe is the rule's own ``fix`` field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst
from libcst.metadata import CodeRange

from flake8_celery_django import rules as _rules  # noqa: F401  (declares the rules fixers refer to)
from flake8_celery_django.registry import RULES, FixSafety

if TYPE_CHECKING:
    from flake8_celery_django.context import Finding
    from flake8_celery_django.fixes.imports import ImportPlan, NeededImport
    from flake8_celery_django.settings import Settings


DEFAULT_LINE_LENGTH = 79  # flake8's default max-line-length


@dataclass(frozen=True)
class Edit:
    """Replace ``original`` (a node of the parsed module) with ``replacement``."""

    original: cst.CSTNode
    replacement: cst.CSTNode
    imports: tuple[NeededImport, ...] = ()


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
    # The finding being fixed, with what detection knew (``Finding.fix_data``).
    finding: Finding | None = None

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def column(self, node: cst.CSTNode) -> int:
        where = self.positions.get(node)
        return where.start.column if where is not None else 0


FixFunction = Callable[[cst.CSTNode, FixContext], "Edit | None"]


@dataclass(frozen=True)
class Fixer:
    code: str
    safety: FixSafety
    node_types: tuple[type[cst.CSTNode], ...]
    function: FixFunction


# Every fixer, including those of rules that this build does not declare.
ALL_FIXERS: dict[str, Fixer] = {}
# The fixers of the declared rules: what ``fix`` runs.
FIXERS: dict[str, Fixer] = {}


def fixer(
    code: str, safety: FixSafety, *node_types: type[cst.CSTNode]
) -> Callable[[FixFunction], FixFunction]:
    """Register the fix of ``code``; ``node_types`` are the libcst types the finding may sit on.

    ``safety`` must agree with the rule's own ``fix`` field (a test checks it).
    """

    def decorator(function: FixFunction) -> FixFunction:
        if code in ALL_FIXERS:
            raise ValueError(f"fixer for {code} registered twice")
        entry = Fixer(code, safety, node_types, function)
        ALL_FIXERS[code] = entry
        if code in RULES:
            FIXERS[code] = entry
        return function

    return decorator
