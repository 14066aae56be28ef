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
from flake8_celery_django.knowledge.transactions import ATOMIC, is_atomic_manager

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
        return _infer_attribute_chain(node, ctx)
    if isinstance(node, ast.Call):
        return (
            http_clients.infer_call(node, ctx)
            or tasks.infer_call(node, ctx)
            or models.infer_call(node, ctx)
            or _infer_builtin_call(node, ctx)
        )
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return _infer_display(node.elts, ctx) or (Value(Kind.SET, "set") if isinstance(node, ast.Set) else None)
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
        found = _infer_comprehension(node, ctx)
        if found is not None:
            return found
        return Value(Kind.SET, "set") if isinstance(node, ast.SetComp) else None
    if isinstance(node, ast.Dict):
        return _infer_dict(node, ctx)
    if isinstance(node, ast.Lambda):
        return Value(Kind.FUNCTION, "lambda")
    if isinstance(node, ast.Subscript):
        container = node.value
        if isinstance(container, ast.Name) and not isinstance(node.slice, ast.Slice):
            bound = ctx.scope.lookup(container.id)
            if bound is not None and bound.kind is Kind.MODEL_INSTANCES:
                return Value(Kind.MODEL_INSTANCE, bound.label, model=bound.model)
        return models.infer_subscript(node, ctx)
    return None


def _attribute_value(node: ast.Attribute, owner: Value | None, ctx: FileContext) -> Value | None:
    """What ``owner.attr`` holds, given what its owner holds."""
    if isinstance(node.value, ast.Name) and node.value.id == "self":
        found = self_attribute(node.attr, ctx)
        if found is not None:
            return found
    found = models.infer_attribute(node, ctx)
    if found is not None:
        return found
    if owner is not None and owner.kind is Kind.MODEL_INSTANCE:
        return models.related_instance(owner, node.attr, ctx)
    return None


def _infer_attribute_chain(node: ast.Attribute, ctx: FileContext) -> Value | None:
    """``instance.project.organization``: followed one attribute at a time, from the innermost owner."""
    chain: list[ast.Attribute] = []
    root: ast.expr = node
    while isinstance(root, ast.Attribute):
        chain.append(root)
        root = root.value
    value = infer(root, ctx) if isinstance(root, (ast.Name, ast.Call)) else None
    for attribute in reversed(chain):
        value = _attribute_value(attribute, value, ctx)
    return value


def _instances_of(elements: list[ast.expr], ctx: FileContext) -> Value | None:
    """The first model instance (or collection of them) among ``elements``."""
    for element in elements:
        if isinstance(element, ast.Starred):
            element = element.value
        if isinstance(element, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
            found = infer(element, ctx)
            if found is not None and found.kind in (Kind.MODEL_INSTANCE, Kind.MODEL_INSTANCES):
                return found
    return None


def _infer_display(elements: list[ast.expr], ctx: FileContext) -> Value | None:
    """``[order, order.customer]``: a collection of model instances when one element is known to be one."""
    found = _instances_of(elements, ctx)
    return None if found is None else Value(Kind.MODEL_INSTANCES, found.label, model=found.model)


def _infer_comprehension(node: ast.ListComp | ast.SetComp | ast.GeneratorExp, ctx: FileContext) -> Value | None:
    """``[line.order for line in lines]``: the element's owner is a loop target over instances."""
    if len(node.generators) != 1:
        return None
    generator = node.generators[0]
    target = generator.target
    if not isinstance(target, ast.Name):
        return None
    element = models.element_of(generator.iter, ctx)
    if element is None:
        return None
    chain: list[ast.Attribute] = []
    root: ast.expr = node.elt
    while isinstance(root, ast.Attribute):
        chain.append(root)
        root = root.value
    if not isinstance(root, ast.Name) or root.id != target.id:
        return None
    value: Value | None = element
    for attribute in reversed(chain):
        value = models.related_instance(value, attribute.attr, ctx) if value is not None else None
    if value is None or value.kind is not Kind.MODEL_INSTANCE:
        return None
    return Value(Kind.MODEL_INSTANCES, value.label, model=value.model)


def _infer_dict(node: ast.Dict, ctx: FileContext) -> Value | None:
    """A dict display, with the string keys whose values are model instances (``kwargs=`` of a task)."""
    items: list[tuple[str, Value]] = []
    for key, value_node in zip(node.keys, node.values):
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            found = _instances_of([value_node], ctx)
            if found is not None:
                items.append((key.value, found))
    return Value(Kind.MAPPING, "dict", items=tuple(items))


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


# The label of a function object defined inside another function.
NESTED_FUNCTION = "nested function"
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
    if isinstance(target, ast.Subscript):
        _bind_item(target, value, ctx)
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


def _bind_item(target: ast.Subscript, value: Value | None, ctx: FileContext) -> None:
    """``kwargs["order"] = order`` adds the instance to a dict already known to hold some."""
    container, key = target.value, target.slice
    if not isinstance(container, ast.Name) or not isinstance(key, ast.Constant) or not isinstance(key.value, str):
        return
    if value is None or value.kind not in (Kind.MODEL_INSTANCE, Kind.MODEL_INSTANCES):
        return
    bound = ctx.scope.lookup(container.id)
    if bound is None or bound.kind is not Kind.MAPPING:
        return
    items = tuple(item for item in bound.items if item[0] != key.value) + ((key.value, value),)
    ctx.scope.bindings[container.id] = Value(Kind.MAPPING, bound.label, items=items)


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
    if any(is_atomic_manager(name, ctx) for name in scope.decorators):
        scope.atomic_depth = 1
    models.bind_parameters(node, scope, ctx)
    tasks.record_function(node, scope, ctx)
    # The name of a plain (undecorated) function holds a function object, not data.
    if ctx.scope.kind in ("module", "function"):
        # A function defined inside another one is marked: pickle cannot send it by reference.
        label = NESTED_FUNCTION if ctx.scope.kind == "function" else node.name
        _set(ctx, node.name, None if node.decorator_list else Value(Kind.FUNCTION, label))
    return scope


def record_class(node: ast.ClassDef, ctx: FileContext) -> None:
    """Remember model classes defined in this file, so that ``Model(...)`` is known."""
    if models.is_model_class_definition(node, ctx):
        ctx.scope.bindings[node.name] = Value(Kind.MODEL_CLASS, node.name)
    tasks.record_class(node, ctx)
