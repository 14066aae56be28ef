"""Rules, knowledge providers and the callbacks that run them, registered per AST node type.

A rule module declares its rules with :func:`rule` and its detectors with :func:`on` (called when the
walk reaches a node of that type) or :func:`on_exit` (called when the walk leaves it).  Knowledge
that several rules read is computed by a :class:`Provider` (declared with :func:`provider`, its
callbacks with :func:`provides`); a rule names the providers it reads with ``uses=``.  Before a file
is walked, :func:`build_dispatch` keeps only the detectors that can emit an enabled code and the
providers an enabled rule uses, providers first, so a rule that is switched off costs nothing per
node and what a rule reports never depends on which other rules are on.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from flake8_celery_django.context import FileContext

FixSafety = Literal["safe", "unsafe", "none"]
NodeT = TypeVar("NodeT", bound=ast.AST)
Callback = Callable[[ast.AST, "FileContext"], None]


class Provider(NamedTuple):
    """A piece of per-file knowledge that rules read, computed during the walk when one needs it."""

    name: str


class Rule(NamedTuple):
    """One rule: a stable code, a short kebab-case name and the message template it reports."""

    code: str
    name: str
    message: str
    summary: str
    default_enabled: bool = True
    fix: FixSafety = "none"
    uses: tuple[Provider, ...] = ()

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
    uses: Iterable[Provider] = (),
) -> Rule:
    """Declare a rule; codes are ``CDJ`` and three digits and are never reused.

    ``uses`` names the knowledge providers the rule's detectors read.
    """
    if len(code) != 6 or not code.startswith("CDJ") or not code[3:].isdigit():
        raise ValueError(f"bad rule code {code!r}")
    if code in RULES:
        raise ValueError(f"rule {code} declared twice")
    declared = Rule(code, name, message, summary, default_enabled, fix, tuple(uses))
    RULES[code] = declared
    return declared


def registered_rules() -> dict[str, Rule]:
    """Every rule, whichever module was imported first: importing the rules package declares them."""
    import flake8_celery_django.rules  # noqa: F401

    return RULES


_PROVIDERS: dict[str, Provider] = {}


def provider(name: str) -> Provider:
    """Declare a knowledge provider; its callbacks are registered with :func:`provides`."""
    if name in _PROVIDERS:
        raise ValueError(f"provider {name} declared twice")
    declared = _PROVIDERS[name] = Provider(name)
    return declared


class Registration(NamedTuple):
    node_type: type[ast.AST]
    callback: Callback
    codes: frozenset[str]
    on_exit: bool
    # Set for a provider's callback: it runs when an enabled rule uses the provider.
    provides: Provider | None = None


_REGISTRATIONS: list[Registration] = []


def provides(
    provided: Provider, *node_types: type[ast.AST], on_exit: bool = False
) -> Callable[[Callable[[NodeT, FileContext], None]], Callable[[NodeT, FileContext], None]]:
    """Register a provider's callback for a node type; it runs before every detector of that node."""

    def decorator(
        func: Callable[[NodeT, FileContext], None],
    ) -> Callable[[NodeT, FileContext], None]:
        for node_type in node_types:
            _REGISTRATIONS.append(
                Registration(node_type, func, frozenset(), on_exit, provided)  # type: ignore[arg-type]
            )
        return func

    return decorator


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
    """The per-node-type callback tables for the enabled codes; disabled detectors are dropped.

    Providers used by an enabled rule come first at every node type (on entry; last on exit, after
    the detectors that read what they collected), so detectors always read complete knowledge.
    """
    rules = registered_rules()
    used = {used for code in enabled if code in rules for used in rules[code].uses}
    enter: dict[type[ast.AST], list[Callback]] = {}
    exit_: dict[type[ast.AST], list[Callback]] = {}
    ordered = [r for r in _REGISTRATIONS if r.provides is not None and not r.on_exit]
    ordered += [r for r in _REGISTRATIONS if r.provides is None]
    ordered += [r for r in _REGISTRATIONS if r.provides is not None and r.on_exit]
    for registration in ordered:
        if registration.provides is not None:
            if registration.provides not in used:
                continue
        elif registration.codes.isdisjoint(enabled):
            continue
        table = exit_ if registration.on_exit else enter
        callbacks = table.setdefault(registration.node_type, [])
        if registration.callback not in callbacks:
            callbacks.append(registration.callback)
    return DispatchTables(
        enter={k: tuple(v) for k, v in enter.items()},
        exit={k: tuple(v) for k, v in exit_.items()},
    )
