"""The single walk over the tree flake8 has already parsed.

The walk is iterative (any depth of nesting is fine) and visits nodes in source order.  For each
node it calls the enabled detectors registered for the node's type, then schedules the node's
children.  Nodes that open a scope (functions, lambdas, classes), a repeating region (loop bodies,
comprehensions) or a ``with`` block schedule markers around exactly the fields that the scope
covers: a ``for`` loop's iterable runs once and stays outside the loop, its body repeats.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

from flake8_celery_django.context import FileContext, Loop, Scope
from flake8_celery_django.knowledge import bindings
from flake8_celery_django.knowledge.transactions import is_atomic_manager
from flake8_celery_django.registry import DispatchTables

# Fields that never hold a node worth visiting (strings, numbers, operators, load/store markers).
_LEAF_TYPES = {"identifier", "string", "int", "constant", "object", "expr_context"}
_SKIPPED_FIELDS = {"ctx", "op", "ops", "type_ignores"}
_FIELD_RE = re.compile(r"(\w+)([*?]?) (\w+)")
_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def _child_fields(node_type: type[ast.AST]) -> tuple[str, ...]:
    """The node-holding fields of a node type, in reverse order (they are pushed on a stack)."""
    found = _CHILD_FIELDS.get(node_type)
    if found is None:
        signature = node_type.__doc__ or ""
        types = {name: kind for kind, _, name in _FIELD_RE.findall(signature.partition("(")[2])}
        found = tuple(
            name
            for name in reversed(node_type._fields)
            if name not in _SKIPPED_FIELDS and types.get(name, "expr") not in _LEAF_TYPES
        )
        _CHILD_FIELDS[node_type] = found
    return found


class _Marker:
    """A step scheduled between nodes: enter or leave a scope, or run exit detectors."""

    __slots__ = ("action", "payload")

    def __init__(self, action: Callable[[FileContext, Any], None], payload: Any) -> None:
        self.action = action
        self.payload = payload


def _push_list(values: list[Any], push: Callable[[Any], None]) -> None:
    for item in reversed(values):
        if item is not None:
            push(item)


# -- scope actions -------------------------------------------------------------------------------
def _enter_scope(ctx: FileContext, scope: Scope) -> None:
    ctx.scope = scope


def _leave_scope(ctx: FileContext, scope: Scope) -> None:
    assert scope.parent is not None
    ctx.scope = scope.parent


def _enter_loop(ctx: FileContext, loop: Loop) -> None:
    loop.atomic_depth = ctx.scope.atomic_depth
    ctx.scope.loops.append(loop)


def _leave_loop(ctx: FileContext, loop: Loop) -> None:
    ctx.scope.loops.pop()


def _enter_with(ctx: FileContext, managers: tuple[str, ...]) -> None:
    scope = ctx.scope
    scope.context_managers.extend(managers)
    scope.atomic_depth += sum(1 for name in managers if is_atomic_manager(name, ctx))


def _leave_with(ctx: FileContext, managers: tuple[str, ...]) -> None:
    scope = ctx.scope
    del scope.context_managers[len(scope.context_managers) - len(managers):]
    scope.atomic_depth -= sum(1 for name in managers if is_atomic_manager(name, ctx))


class _ExitCallbacks:
    __slots__ = ("node", "callbacks")

    def __init__(self, node: ast.AST, callbacks: tuple[Callable[[ast.AST, FileContext], None], ...]):
        self.node = node
        self.callbacks = callbacks


def _run_exit(ctx: FileContext, pending: _ExitCallbacks) -> None:
    for callback in pending.callbacks:
        callback(pending.node, ctx)


class _Plan:
    """What the walk does at a node type that has bookkeeping, detectors or a scheduler."""

    __slots__ = ("handler", "enter", "exit", "scheduler", "fields")

    def __init__(
        self,
        handler: Callable[[Any, FileContext], None] | None,
        enter: tuple[Callable[[ast.AST, FileContext], None], ...],
        exit_: tuple[Callable[[ast.AST, FileContext], None], ...],
        scheduler: Callable[[Any, FileContext, Callable[[Any], None]], None] | None,
        fields: tuple[str, ...],
    ) -> None:
        self.handler = handler
        self.enter = enter
        self.exit = exit_
        self.scheduler = scheduler
        self.fields = fields


def _plan(node_type: type[ast.AST], tables: DispatchTables) -> Any:
    """A node type's plan: its child fields alone (a tuple) when it has nothing else to do."""
    fields = _child_fields(node_type)
    handler = _SPECIAL.get(node_type)
    enter = tables.enter.get(node_type, ())
    exit_ = tables.exit.get(node_type, ())
    scheduler = _SCHEDULERS.get(node_type)
    if handler is None and not enter and not exit_ and scheduler is None:
        return fields
    return _Plan(handler, enter, exit_, scheduler, fields)


def walk(tree: ast.Module, ctx: FileContext, tables: DispatchTables) -> None:
    """Walk ``tree`` once, calling the enabled detectors with ``ctx`` kept current."""
    # one dict lookup per node: a node type's bookkeeping, detectors and children are planned once
    plans = tables.plans
    stack: list[Any] = [tree]
    push = stack.append
    pop = stack.pop
    Marker = _Marker
    while stack:
        node = pop()
        node_type = type(node)
        plan = plans.get(node_type)
        if plan is None:
            if node_type is Marker:
                node.action(ctx, node.payload)
                continue
            plan = plans[node_type] = _plan(node_type, tables)
        if type(plan) is tuple:
            fields = plan
        else:
            if plan.handler is not None:
                plan.handler(node, ctx)
            for callback in plan.enter:
                callback(node, ctx)
            if plan.exit:
                push(Marker(_run_exit, _ExitCallbacks(node, plan.exit)))
            if plan.scheduler is not None:
                plan.scheduler(node, ctx, push)
                continue
            fields = plan.fields
        for name in fields:
            value = getattr(node, name, None)
            if value is None:
                continue
            if type(value) is list:
                for item in reversed(value):
                    if item is not None:
                        push(item)
            else:
                push(value)


# -- bookkeeping that every rule shares (runs before the detectors of the node) --------------------
def _record_import(node: ast.Import | ast.ImportFrom, ctx: FileContext) -> None:
    ctx.imports.add(node)
    bindings.bind_import(node, ctx)


def _record_assign(node: ast.Assign, ctx: FileContext) -> None:
    value = bindings.infer(node.value, ctx)
    for target in node.targets:
        bindings.bind_target(target, node.value, value, ctx)


def _record_annotated_assign(node: ast.AnnAssign, ctx: FileContext) -> None:
    if node.value is not None:
        bindings.bind_target(node.target, node.value, bindings.infer(node.value, ctx), ctx)


def _record_named_expr(node: ast.NamedExpr, ctx: FileContext) -> None:
    bindings.bind_target(node.target, node.value, bindings.infer(node.value, ctx), ctx)


def _record_class(node: ast.ClassDef, ctx: FileContext) -> None:
    bindings.record_class(node, ctx)


_SPECIAL: dict[type[ast.AST], Callable[[Any, FileContext], None]] = {
    ast.Import: _record_import,
    ast.ImportFrom: _record_import,
    ast.Assign: _record_assign,
    ast.AnnAssign: _record_annotated_assign,
    ast.NamedExpr: _record_named_expr,
    ast.ClassDef: _record_class,
}


# -- children scheduling for nodes that open a scope or a region ---------------------------------
def _schedule_function(
    node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext, push: Callable[[Any], None]
) -> None:
    scope = bindings.new_function_scope(node, ctx)
    push(Marker(_leave_scope, scope))
    _push_list(node.body, push)
    push(Marker(_enter_scope, scope))
    if node.returns is not None:
        push(node.returns)
    push(node.args)
    _push_list(node.decorator_list, push)


def _schedule_lambda(node: ast.Lambda, ctx: FileContext, push: Callable[[Any], None]) -> None:
    scope = Scope(node, "lambda", ctx.scope, parameters=bindings.parameter_names(node.args))
    bindings.shadow_parameters(node.args, scope)
    push(Marker(_leave_scope, scope))
    push(node.body)
    push(Marker(_enter_scope, scope))
    push(node.args)


def _schedule_class(node: ast.ClassDef, ctx: FileContext, push: Callable[[Any], None]) -> None:
    scope = Scope(node, "class", ctx.scope, decorators=bindings.decorator_names(node, ctx))
    push(Marker(_leave_scope, scope))
    _push_list(node.body, push)
    push(Marker(_enter_scope, scope))
    _push_list(node.decorator_list, push)
    _push_list(node.keywords, push)
    _push_list(node.bases, push)


def _schedule_for(node: ast.For | ast.AsyncFor, ctx: FileContext, push: Callable[[Any], None]) -> None:
    bindings.bind_loop_target(node.target, node.iter, ctx)
    loop = Loop(node, bindings.target_names(node.target), node.iter)
    _push_list(node.orelse, push)
    push(Marker(_leave_loop, loop))
    _push_list(node.body, push)
    push(Marker(_enter_loop, loop))
    push(node.iter)
    push(node.target)


def _schedule_while(node: ast.While, ctx: FileContext, push: Callable[[Any], None]) -> None:
    loop = Loop(node, frozenset(), None)
    _push_list(node.orelse, push)
    push(Marker(_leave_loop, loop))
    _push_list(node.body, push)
    push(node.test)
    push(Marker(_enter_loop, loop))


def _schedule_comprehension(
    node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
    ctx: FileContext,
    push: Callable[[Any], None],
) -> None:
    generators = node.generators
    first = generators[0]
    targets: frozenset[str] = frozenset()
    for generator in generators:
        targets |= bindings.target_names(generator.target)
    for generator in generators:
        bindings.bind_loop_target(generator.target, generator.iter, ctx)
    loop = Loop(node, targets, first.iter)
    push(Marker(_leave_loop, loop))
    if isinstance(node, ast.DictComp):
        push(node.value)
        push(node.key)
    else:
        push(node.elt)
    for generator in reversed(generators[1:]):
        _push_list(generator.ifs, push)
        push(generator.iter)
        push(generator.target)
    _push_list(first.ifs, push)
    push(first.target)
    push(Marker(_enter_loop, loop))
    push(first.iter)


def _schedule_with(node: ast.With | ast.AsyncWith, ctx: FileContext, push: Callable[[Any], None]) -> None:
    managers = bindings.bind_with_items(node, ctx)
    push(Marker(_leave_with, managers))
    _push_list(node.body, push)
    push(Marker(_enter_with, managers))
    _push_list(node.items, push)


Marker = _Marker
_SCHEDULERS: dict[type[ast.AST], Callable[[Any, FileContext, Callable[[Any], None]], None]] = {
    ast.FunctionDef: _schedule_function,
    ast.AsyncFunctionDef: _schedule_function,
    ast.Lambda: _schedule_lambda,
    ast.ClassDef: _schedule_class,
    ast.For: _schedule_for,
    ast.AsyncFor: _schedule_for,
    ast.While: _schedule_while,
    ast.ListComp: _schedule_comprehension,
    ast.SetComp: _schedule_comprehension,
    ast.GeneratorExp: _schedule_comprehension,
    ast.DictComp: _schedule_comprehension,
    ast.With: _schedule_with,
    ast.AsyncWith: _schedule_with,
}
