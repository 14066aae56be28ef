"""What names hold: the inference every rule family shares, updated as the walk binds names.

``infer`` answers "what is this expression?" (a model instance, a queryset, a requests session, a
task result...) from the bindings seen so far in the file.  The walk calls the ``bind_*`` helpers
at assignments, loop targets, ``with ... as`` and function parameters.
"""

from __future__ import annotations

import ast

from flake8_celery_django.context import FileContext, Kind, Scope, Value
from flake8_celery_django.knowledge import http_clients, models, tasks
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.knowledge.transactions import ATOMIC

__all__ = [
    "ATOMIC",
    "bind_import",
    "bind_loop_target",
    "bind_target",
    "bind_with_items",
    "decorator_names",
    "infer",
    "new_function_scope",
    "record_class",
    "shadow_parameters",
    "target_names",
]

_SET_BUILDERS = frozenset({"set", "frozenset"})


def infer(node: ast.expr, ctx: FileContext) -> Value | None:
    """The kind of value ``node`` evaluates to, when this file makes it clear."""
    while isinstance(node, ast.Await):
        node = node.value
    if isinstance(node, ast.Name):
        return ctx.scope.lookup(node.id)
    if isinstance(node, ast.Attribute):
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id == "self":
            found = self_attribute(node.attr, ctx)
            if found is not None:
                return found
        return models.infer_attribute(node, ctx)
    if isinstance(node, ast.Call):
        return (
            http_clients.infer_call(node, ctx)
            or tasks.infer_call(node, ctx)
            or models.infer_call(node, ctx)
            or _infer_builtin_call(node, ctx)
        )
    if isinstance(node, (ast.Set, ast.SetComp)):
        return Value(Kind.SET, "set")
    if isinstance(node, ast.Lambda):
        return Value(Kind.FUNCTION, "lambda")
    if isinstance(node, ast.Subscript):
        return models.infer_subscript(node, ctx)
    return None


def _infer_builtin_call(node: ast.Call, ctx: FileContext) -> Value | None:
    func = node.func
    if isinstance(func, ast.Name) and func.id not in ctx.imports.names:
        if func.id in _SET_BUILDERS and ctx.scope.lookup(func.id) is None:
            return Value(Kind.SET, func.id)
        if func.id == "open" and ctx.scope.lookup(func.id) is None:
            return Value(Kind.OPEN_FILE, "open file")
    return None


def self_attribute(attr: str, ctx: FileContext) -> Value | None:
    """What ``self.<attr>`` holds in a method, from assignments elsewhere in its class."""
    owner = ctx.method_owner()
    if owner is None:
        return None
    return owner.bindings.get("self." + attr)


def target_names(target: ast.expr) -> frozenset[str]:
    """Names bound by an assignment or loop target (tuples unpacked, starred included)."""
    names: set[str] = set()
    pending = [target]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            pending.extend(node.elts)
        elif isinstance(node, ast.Starred):
            pending.append(node.value)
    return frozenset(names)


def _set(ctx: FileContext, name: str, value: Value | None) -> None:
    bindings = ctx.scope.bindings
    if value is None:
        bindings.pop(name, None)
        # A name re-bound to something unknown in a function no longer holds an outer binding.
        if ctx.scope.kind != "module" and ctx.scope.lookup(name) is not None:
            bindings[name] = _UNKNOWN
    else:
        bindings[name] = value


# Shadows an outer binding: the name holds something this file does not tell.
_UNKNOWN = Value(Kind.UNKNOWN)


def bind_target(target: ast.expr, value_node: ast.expr, value: Value | None, ctx: FileContext) -> None:
    """Record what an assignment binds: ``x = ...``, ``a, b = ...`` and ``self.x = ...``."""
    if isinstance(target, ast.Name):
        _set(ctx, target.id, value)
        if ctx.scope.kind == "module":
            tasks.record_app(target.id, value_node, ctx)
        if ctx.scope.kind == "class" and value is not None:
            ctx.scope.bindings["self." + target.id] = value
        return
    if isinstance(target, ast.Attribute):
        owner = target.value
        if isinstance(owner, ast.Name) and owner.id == "self":
            cls = ctx.scope.enclosing_class
            if cls is not None:
                key = "self." + target.attr
                if value is None:
                    cls.bindings.pop(key, None)
                else:
                    cls.bindings[key] = value
        return
    if isinstance(target, (ast.Tuple, ast.List)):
        unpacked = models.infer_unpacked(value_node, len(target.elts), ctx)
        for index, element in enumerate(target.elts):
            element_value = unpacked[index] if unpacked is not None else None
            if isinstance(element, (ast.Starred, ast.Tuple, ast.List)):
                for name in target_names(element):
                    _set(ctx, name, None)
            else:
                bind_target(element, value_node, element_value, ctx)


def bind_import(node: ast.Import | ast.ImportFrom, ctx: FileContext) -> None:
    """A name bound by an import no longer holds what an earlier assignment or ``def`` gave it."""
    for alias in node.names:
        if alias.name == "*":
            continue
        if alias.asname:
            _set(ctx, alias.asname, None)
        elif isinstance(node, ast.Import):
            _set(ctx, alias.name.partition(".")[0], None)
        else:
            _set(ctx, alias.name, None)


def shadow_parameters(arguments: ast.arguments, scope: Scope) -> None:
    """Parameters (of a lambda) hide what enclosing scopes bound to the same names."""
    parent = scope.parent
    if parent is None:
        return
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
    for argument in every:
        if argument is not None and parent.lookup(argument.arg) is not None:
            scope.bindings[argument.arg] = _UNKNOWN


def bind_loop_target(target: ast.expr, iterable: ast.expr, ctx: FileContext) -> None:
    """A ``for`` target over a queryset holds a model instance at each step."""
    element = models.element_of(iterable, ctx)
    if isinstance(target, ast.Name):
        _set(ctx, target.id, element)
    else:
        for name in target_names(target):
            _set(ctx, name, None)


def bind_with_items(node: ast.With | ast.AsyncWith, ctx: FileContext) -> tuple[str, ...]:
    """Bind ``with X() as name`` and return the qualified names of the context managers."""
    managers: list[str] = []
    for item in node.items:
        expr = item.context_expr
        call_target = expr.func if isinstance(expr, ast.Call) else expr
        qualified = ctx.qualified_name(call_target)
        if qualified is not None:
            managers.append(qualified)
        if item.optional_vars is not None:
            bind_target(item.optional_vars, expr, infer(expr, ctx), ctx)
    return tuple(managers)


def decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, ctx: FileContext) -> tuple[str, ...]:
    """Qualified names of the decorators (``@x.y(...)`` gives ``x.y`` resolved through imports)."""
    names: list[str] = []
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        qualified = ctx.qualified_name(target) or dotted_name(target)
        if qualified is not None:
            names.append(qualified)
    return tuple(names)


def parameter_names(arguments: ast.arguments) -> frozenset[str]:
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    if arguments.vararg is not None:
        every.append(arguments.vararg)
    if arguments.kwarg is not None:
        every.append(arguments.kwarg)
    return frozenset(argument.arg for argument in every)


def new_function_scope(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> Scope:
    """The scope of a function body, with its parameters bound from what the file says of them."""
    scope = Scope(
        node, "function", ctx.scope, decorators=decorator_names(node, ctx), parameters=parameter_names(node.args)
    )
    if any(name in ATOMIC for name in scope.decorators):
        scope.atomic_depth = 1
    models.bind_parameters(node, scope, ctx)
    tasks.record_function(node, scope, ctx)
    # The name of a plain (undecorated) function holds a function object, not data.
    if ctx.scope.kind in ("module", "function"):
        _set(ctx, node.name, None if node.decorator_list else Value(Kind.FUNCTION, node.name))
    return scope


def record_class(node: ast.ClassDef, ctx: FileContext) -> None:
    """Remember model classes defined in this file, so that ``Model(...)`` is known."""
    if models.is_model_class_definition(node, ctx):
        ctx.scope.bindings[node.name] = Value(Kind.MODEL_CLASS, node.name)
    tasks.record_class(node, ctx)
