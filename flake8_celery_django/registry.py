"""Rules and the callbacks that detect them, registered per AST node type.

A rule module declares its rules with :func:`rule` and its detectors with :func:`on` (called when the
walk reaches a node of that type) or :func:`on_exit` (called when the walk leaves it).  Before a
file is walked, :func:`build_dispatch` keeps only the callbacks that can emit an enabled code, so a
rule that is switched off costs nothing per node.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from dataclasses import dataclass, field

if TYPE_CHECKING:
    from flake8_celery_django.context import FileContext

FixSafety = Literal["safe", "unsafe", "none"]
NodeT = TypeVar("NodeT", bound=ast.AST)
Callback = Callable[[ast.AST, "FileContext"], None]


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: a stable code, a short kebab-case name and the message template it reports."""

    code: str
    name: str
    message: str
    summary: str
    default_enabled: bool = True
    fix: FixSafety = "none"

    def format(self, **fields: object) -> str:
        return f"{self.code} {self.message.format(**fields)}"


RULES: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    message: str,
    *,
    summary: str,
    default_enabled: bool = True,
    fix: FixSafety = "none",
) -> Rule:
    """Declare a rule; codes are ``CDJ`` and three digits and are never reused."""
    if len(code) != 6 or not code.startswith("CDJ") or not code[3:].isdigit():
        raise ValueError(f"bad rule code {code!r}")
    if code in RULES:
        raise ValueError(f"rule {code} declared twice")
    declared = Rule(code, name, message, summary, default_enabled, fix)
    RULES[code] = declared
    return declared


@dataclass(frozen=True, slots=True)
class Registration:
    node_type: type[ast.AST]
    callback: Callback
    codes: frozenset[str]
    on_exit: bool


_REGISTRATIONS: list[Registration] = []


def _register(
    node_types: tuple[type[ast.AST], ...], rules: tuple[Rule, ...], on_exit: bool
) -> Callable[[Callable[[NodeT, FileContext], None]], Callable[[NodeT, FileContext], None]]:
    if not rules:
        raise ValueError("a detector must name the rules it can report")
    codes = frozenset(r.code for r in rules)

    def decorator(
        func: Callable[[NodeT, FileContext], None],
    ) -> Callable[[NodeT, FileContext], None]:
        for node_type in node_types:
            _REGISTRATIONS.append(Registration(node_type, func, codes, on_exit))  # type: ignore[arg-type]
        return func

    return decorator


def on(
    *node_types: type[ast.AST], rules: Iterable[Rule]
) -> Callable[[Callable[[NodeT, FileContext], None]], Callable[[NodeT, FileContext], None]]:
    """Register a detector called when the walk enters a node of one of ``node_types``."""
    return _register(node_types, tuple(rules), on_exit=False)


def on_exit(
    *node_types: type[ast.AST], rules: Iterable[Rule]
) -> Callable[[Callable[[NodeT, FileContext], None]], Callable[[NodeT, FileContext], None]]:
    """Register a detector called when the walk leaves a node (its whole subtree seen)."""
    return _register(node_types, tuple(rules), on_exit=True)


Dispatch = dict[type[ast.AST], tuple[Callback, ...]]


@dataclass(frozen=True, slots=True)
class DispatchTables:
    enter: Dispatch
    exit: Dispatch
    # The walk's per-node-type plans for these tables, filled as node types are met.
    plans: dict[type[ast.AST], Any] = field(default_factory=dict, compare=False)


def build_dispatch(enabled: frozenset[str]) -> DispatchTables:
    """The per-node-type callback tables for the enabled codes; disabled detectors are dropped."""
    enter: dict[type[ast.AST], list[Callback]] = {}
    exit_: dict[type[ast.AST], list[Callback]] = {}
    for registration in _REGISTRATIONS:
        if registration.codes.isdisjoint(enabled):
            continue
        table = exit_ if registration.on_exit else enter
        callbacks = table.setdefault(registration.node_type, [])
        if registration.callback not in callbacks:
            callbacks.append(registration.callback)
    return DispatchTables(
        enter={k: tuple(v) for k, v in enter.items()},
        exit={k: tuple(v) for k, v in exit_.items()},
    )
