"""CDJ3xx: read-modify-write on model rows without F() or a row lock, and locks taken outside a transaction.

``select_for_update`` only locks inside a transaction: Django's SQL compiler raises
``TransactionManagementError("select_for_update cannot be used outside of a transaction.")`` when the
connection is in autocommit mode (``django/db/models/sql/compiler.py``, ``as_sql``).  ``F`` is
``django.db.models.expressions.F``; ``Model.save``/``asave`` are in ``django/db/models/base.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import NamedTuple

from flake8_celery_django import fix_conditions
from flake8_celery_django.context import FileContext, Kind, Scope
from flake8_celery_django.knowledge import bindings, callers, models, relations
from flake8_celery_django.knowledge.file_kinds import runs_once_or_in_tests
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.knowledge.transactions import ATOMIC, atomic_requests
from flake8_celery_django.registry import on, on_exit, rule

LOST_UPDATE = rule(
    "CDJ301",
    "read-modify-write-without-lock",
    "{obj}.{field} is read, changed and saved; use F() or select_for_update()",
    summary="Model field changed from its own value (`obj.n += 1`) and saved without `F()` or a row lock",
    fix="unsafe",
    # Off: 4 of 21 findings were worth acting on in a strict read (docs/real-world.md, "Read strictly").
    default_enabled=False,
    uses=(relations.QUERYSET_NAMES,),
)
LOCK_OUTSIDE_ATOMIC = rule(
    "CDJ302",
    "select-for-update-outside-atomic",
    "select_for_update() is evaluated outside transaction.atomic; wrap it in an atomic block",
    summary="`select_for_update()` evaluated in a function with no enclosing `transaction.atomic`",
    default_enabled=False,
    uses=(relations.QUERYSET_NAMES,),
)

_F = frozenset({"django.db.models.F", "django.db.models.expressions.F"})
_SAVE_METHODS = frozenset({"save", "asave"})
_OWN_VALUE_FUNCTIONS = frozenset({"max", "min", "abs", "round"})
_STRING_METHODS = frozenset({"join", "format", "strip", "replace", "upper", "lower"})
_METHOD_DECORATOR = frozenset({"django.utils.decorators.method_decorator"})
# QuerySet methods that run the SELECT (``django/db/models/query.py``); ``update``/``delete`` do not lock.
_EVALUATING_METHODS = frozenset(
    {
        "get", "first", "last", "latest", "earliest", "get_or_create", "update_or_create",
        "in_bulk", "iterator", "aget", "afirst", "alast", "alatest", "aearliest",
        "aget_or_create", "aupdate_or_create", "ain_bulk", "aiterator",
    }
)
_EVALUATING_BUILTINS = frozenset({"list", "tuple", "set", "len", "bool", "sorted"})


class _Change(NamedTuple):
    node: ast.stmt
    field: str


class _RaceState:
    """Per function: changed fields waiting for a save, and names that hold new or locked rows."""

    pending: dict[str, list[_Change]]
    reported: set[int]
    fresh: set[str]
    locked: set[str]
    # ``obj.field`` assigned a value computed without its own (``obj.total = sum(...)``), with the
    # last such assignment: a clamp that follows (``obj.total = max(obj.total, 0)``) bounds that new
    # value, not the stored one, and so does a change it dominates (``obj.f = [a]`` then, below it,
    # ``obj.f += extra``).
    recomputed: dict[tuple[str, str], ast.stmt]

    __slots__ = ("pending", "reported", "fresh", "locked", "recomputed")

    def __init__(self) -> None:
        self.pending = {}
        self.reported = set()
        self.fresh = set()
        self.locked = set()
        self.recomputed = {}


class _LockState:
    """Per file: unguarded evaluations of locking querysets, and functions called inside atomic."""

    candidates: list[tuple[ast.AST, ast.FunctionDef | ast.AsyncFunctionDef | None]]
    called_in_atomic: set[str]

    __slots__ = ("candidates", "called_in_atomic")

    def __init__(self) -> None:
        self.candidates = []
        self.called_in_atomic = set()


class _Creating:
    """Per file: statements that run only while a row is being created, with the row's name."""

    rows: dict[int, str]

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows = {}


# -- CDJ301 -------------------------------------------------------------------------------------
def _created_row(test: ast.expr) -> tuple[str, bool] | None:
    """``not self.pk`` / ``self.pk is None`` / ``self._state.adding`` -> (``self``, True); ``self.pk`` ->
    (``self``, False): the row the test asks about, and whether its body is the creating branch."""
    creating = True
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        creating, test = False, test.operand
    elif isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.comparators[0], ast.Constant):
        constant = test.comparators[0].value
        if constant is None and isinstance(test.ops[0], (ast.Is, ast.IsNot)):
            creating, test = isinstance(test.ops[0], ast.IsNot), test.left
        elif constant is True and isinstance(test.ops[0], (ast.Is, ast.Eq)):
            test = test.left
        else:
            return None
    if not isinstance(test, ast.Attribute):
        return None
    if test.attr == "adding" and isinstance(test.value, ast.Attribute) and test.value.attr == "_state":
        key = dotted_name(test.value.value)
        return (key, creating) if key is not None else None
    if test.attr in ("pk", "id"):
        key = dotted_name(test.value)
        return (key, not creating) if key is not None else None
    return None


@on(ast.If, rules=(LOST_UPDATE,))
def record_creating_branch(node: ast.If, ctx: FileContext) -> None:
    """``if not self.pk:`` in ``save()``: the row is being inserted, no one else can be writing it."""
    found = _created_row(node.test)
    if found is None:
        return
    key, body_creates = found
    rows = ctx.state(_Creating).rows
    for statement in node.body if body_creates else node.orelse:
        for inner in ast.walk(statement):
            rows[id(inner)] = key


def _is_fresh_or_locked(name: str, ctx: FileContext) -> bool:
    for scope in ctx.function_scopes():
        state = scope.state(_RaceState)
        if name in state.fresh or name in state.locked:
            return True
    return False


def _is_constructor_or_create(value: ast.expr) -> bool:
    """``Order(...)`` or ``Order.objects.create(...)``: a row this function has just made."""
    if isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if isinstance(func, ast.Attribute) and func.attr in ("create", "acreate"):
        return True
    name = dotted_name(func)
    return name is not None and name.rpartition(".")[2][:1].isupper()


def _record_binding(targets: list[ast.expr], value: ast.expr, ctx: FileContext) -> None:
    state = ctx.scope.state(_RaceState)
    fresh = _is_constructor_or_create(value)
    locked = relations.is_locked_chain(value.value if isinstance(value, ast.Await) else value, ctx)
    for target in targets:
        names = [target] if isinstance(target, ast.Name) else []
        if isinstance(target, (ast.Tuple, ast.List)) and locked:
            names = [element for element in target.elts if isinstance(element, ast.Name)]
        for name_node in names:
            name = name_node.id
            if state.recomputed:
                state.recomputed = {key: at for key, at in state.recomputed.items() if key[0] != name}
            state.fresh.discard(name)
            state.locked.discard(name)
            if fresh:
                state.fresh.add(name)
            elif locked:
                state.locked.add(name)


def _clears_primary_key(target: ast.Attribute, value: ast.expr) -> bool:
    return target.attr in ("pk", "id") and isinstance(value, ast.Constant) and value.value is None


def _is_own_value(node: ast.expr, target: ast.Attribute) -> bool:
    if not isinstance(node, ast.Attribute) or node.attr != target.attr:
        return False
    owner = dotted_name(node.value)
    return owner is not None and owner == dotted_name(target.value)


def _reads_own_value(value: ast.expr, target: ast.Attribute, ctx: FileContext) -> bool:
    """``obj.f + x``, ``obj.f - x - y``, ``(obj.f or 0) + 1``, ``max(obj.f, x)``.

    The old value must go through arithmetic: ``obj.f = obj.f or default`` only fills a default.
    """
    pending: list[tuple[ast.expr, bool]] = [(value, False)]
    while pending:
        node, computed = pending.pop()
        if computed and _is_own_value(node, target):
            return True
        if isinstance(node, ast.BinOp):
            pending.extend(((node.left, True), (node.right, True)))
        elif isinstance(node, ast.BoolOp):
            pending.extend((item, computed) for item in node.values)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _OWN_VALUE_FUNCTIONS
            and ctx.scope.lookup(node.func.id) is None
        ):
            pending.extend((argument, True) for argument in node.args)
    return False


def _is_clamp(value: ast.expr, target: ast.Attribute, ctx: FileContext) -> bool:
    """``max(obj.f, 0)`` / ``min(obj.f, limit)``: the own value bounded by values that do not read it."""
    if not (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in ("max", "min")
        and ctx.scope.lookup(value.func.id) is None
        and not value.keywords
        and len(value.args) >= 2
    ):
        return False
    own = [argument for argument in value.args if _is_own_value(argument, target)]
    others = [argument for argument in value.args if not _is_own_value(argument, target)]
    return len(own) == 1 and not any(_mentions(other, target) for other in others)


def _mentions(node: ast.expr, target: ast.Attribute) -> bool:
    return any(_is_own_value(inner, target) for inner in ast.walk(node) if isinstance(inner, ast.Attribute))


def _was_recomputed(target: ast.Attribute, ctx: FileContext) -> bool:
    owner = dotted_name(target.value)
    return owner is not None and (owner, target.attr) in ctx.scope.state(_RaceState).recomputed


def _operands(value: ast.expr) -> Iterator[ast.expr]:
    """``value`` and, through ``+``/``-``/... chains, its operands: not what a list, a comprehension
    or a call's arguments hold (``[[k.lower(), v] for ...]`` is a list, not text)."""
    stack = [value]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.BinOp):
            stack.extend((node.left, node.right))
        elif isinstance(node, ast.UnaryOp):
            stack.append(node.operand)


def _is_text_or_f(value: ast.expr, ctx: FileContext) -> bool:
    """Text assembly (``obj.log += f"..."``) and ``F()`` expressions are not counted."""
    for node in _operands(value):
        if isinstance(node, ast.JoinedStr):
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return True
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _STRING_METHODS:
                return True
            if ctx.qualified_name(func) in _F or (isinstance(func, ast.Name) and func.id == "F"):
                return True
    return False


def _in_model_class(ctx: FileContext) -> bool:
    owner = ctx.method_owner()
    if owner is None or not isinstance(owner.node, ast.ClassDef):
        return False
    if models.is_model_class_definition(owner.node, ctx):
        return True
    return any((dotted_name(base) or "").endswith("Model") for base in owner.node.bases)


def _may_be_model_row(obj: ast.expr, ctx: FileContext) -> bool:
    if isinstance(obj, ast.Name) and obj.id == "self":
        return _in_model_class(ctx)
    key = dotted_name(obj)
    if key is not None and _is_fresh_or_locked(key, ctx):
        return False
    known = bindings.infer(obj, ctx)
    return known is None or known.kind is Kind.MODEL_INSTANCE


def _dominates(earlier: ast.stmt, later: ast.stmt, function: ast.AST) -> bool:
    """``earlier`` runs before ``later`` on every path: it sits in a block before the statement of
    that block that holds ``later``."""
    for node in ast.walk(function):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if not isinstance(block, list) or earlier not in block:
                continue
            after = block[block.index(earlier) + 1:]
            return any(later is inner for statement in after for inner in ast.walk(statement))
    return False


def _changes_a_new_value(statement: ast.stmt, target: ast.Attribute, ctx: FileContext) -> bool:
    """The field was given a value of its own earlier on every path here (``obj.f = [a]``): the
    change reads that value, not the stored one."""
    owner = dotted_name(target.value)
    assigned = ctx.scope.state(_RaceState).recomputed.get((owner or "", target.attr))
    return assigned is not None and _dominates(assigned, statement, ctx.code_scope().node)


def _record_change(statement: ast.stmt, target: ast.expr, value: ast.expr, ctx: FileContext) -> None:
    if not isinstance(target, ast.Attribute):
        return
    key = dotted_name(target.value)
    if key is None or _is_text_or_f(value, ctx) or runs_once_or_in_tests(ctx):
        return
    if _changes_a_new_value(statement, target, ctx):
        return
    if not _may_be_model_row(target.value, ctx) or ctx.state(_Creating).rows.get(id(statement)) == key:
        return
    if callers.runs_under_row_lock(ctx):
        return  # every caller in the project holds the row lock
    ctx.scope.state(_RaceState).pending.setdefault(key, []).append(_Change(statement, target.attr))


@on(ast.AugAssign, rules=(LOST_UPDATE,))
def check_augmented_change(node: ast.AugAssign, ctx: FileContext) -> None:
    _record_change(node, node.target, node.value, ctx)


@on(ast.Assign, ast.AnnAssign, rules=(LOST_UPDATE, LOCK_OUTSIDE_ATOMIC))
def check_assignment(node: ast.Assign | ast.AnnAssign, ctx: FileContext) -> None:
    if node.value is None:
        return
    targets: list[ast.expr] = list(node.targets) if isinstance(node, ast.Assign) else [node.target]
    _record_binding(targets, node.value, ctx)
    if len(targets) == 1 and isinstance(targets[0], ast.Attribute):
        target = targets[0]
        if _clears_primary_key(target, node.value):
            # ``obj.pk = None`` then ``save()`` inserts a copy: a new row nobody else is writing.
            copied = dotted_name(target.value)
            if copied is not None:
                ctx.scope.state(_RaceState).fresh.add(copied)
        elif _reads_own_value(node.value, target, ctx):
            if not (_is_clamp(node.value, target, ctx) and _was_recomputed(target, ctx)):
                _record_change(node, target, node.value, ctx)
        elif not _mentions(node.value, target):
            owner = dotted_name(target.value)
            if owner is not None:
                ctx.scope.state(_RaceState).recomputed[(owner, target.attr)] = node


@on(ast.For, ast.AsyncFor, rules=(LOST_UPDATE, LOCK_OUTSIDE_ATOMIC))
def check_loop_binding(node: ast.For | ast.AsyncFor, ctx: FileContext) -> None:
    state = ctx.scope.state(_RaceState)
    locked = relations.is_locked_chain(node.iter, ctx)
    for name in bindings.target_names(node.target):
        state.fresh.discard(name)
        state.locked.discard(name)
        if locked:
            state.locked.add(name)
    if locked and not _in_atomic(ctx):
        _lock_evaluated(node.iter, ctx)


def _saved_fields(call: ast.Call) -> frozenset[str] | None:
    """The literal ``update_fields`` of a save, or None when every field may be written."""
    for keyword in call.keywords:
        if keyword.arg == "update_fields":
            value = keyword.value
            if isinstance(value, (ast.List, ast.Tuple, ast.Set)) and all(
                isinstance(item, ast.Constant) and isinstance(item.value, str) for item in value.elts
            ):
                return frozenset(str(item.value) for item in value.elts if isinstance(item, ast.Constant))
            return None
    return None


def _saved_object(func: ast.Attribute) -> str | None:
    owner = func.value
    if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
        return "self"
    return dotted_name(owner)


def _check_save(node: ast.Call, ctx: FileContext) -> None:
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr not in _SAVE_METHODS:
        return
    key = _saved_object(func)
    if key is None:
        return
    state = ctx.scope.state(_RaceState)
    changes = state.pending.get(key)
    if not changes:
        return
    saved = _saved_fields(node)
    for change in changes:
        if id(change.node) in state.reported or (saved is not None and change.field not in saved):
            continue
        state.reported.add(id(change.node))
        fix = fix_conditions.plan_update(change.node, node, ctx)
        ctx.report(change.node, LOST_UPDATE, fix=fix, obj=key, field=change.field)


# -- CDJ302 -------------------------------------------------------------------------------------
def _decorated_atomic(scope: Scope, ctx: FileContext) -> bool:
    """``@method_decorator(transaction.atomic, ...)`` on the method or on its class."""
    node = scope.node
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and ctx.qualified_name(decorator.func) in _METHOD_DECORATOR:
            if decorator.args:
                wrapped = decorator.args[0]
                target = wrapped.func if isinstance(wrapped, ast.Call) else wrapped
                if ctx.qualified_name(target) in ATOMIC:
                    return True
    return False


def _in_atomic(ctx: FileContext) -> bool:
    """Inside an atomic block here or around the definition of this function, or a view under ATOMIC_REQUESTS."""
    if callers.receives_delete_signal(ctx):
        return True  # Django sends pre_delete/post_delete inside the deleting transaction
    views_atomic = atomic_requests(ctx)
    scope: Scope | None = ctx.scope
    while scope is not None:
        if scope.in_atomic or _decorated_atomic(scope, ctx):
            return True
        # Project wrappers such as ``conditional_atomic(...)`` or ``atomic_with_retry()``.
        if any("atomic" in name.rpartition(".")[2] for name in scope.context_managers):
            return True
        if views_atomic and scope.kind == "function":
            request = scope.bindings.get("request")
            if request is not None and request.kind is Kind.HTTP_REQUEST:
                return True
        scope = scope.parent
    return _called_inside_atomic(ctx)


class _Callers:
    """Per function: whether every caller in the project runs it inside a transaction (asked once)."""

    inside_atomic: bool | None

    __slots__ = ("inside_atomic",)

    def __init__(self) -> None:
        self.inside_atomic = None


def _called_inside_atomic(ctx: FileContext) -> bool:
    state = ctx.code_scope().state(_Callers)
    if state.inside_atomic is None:
        state.inside_atomic = callers.runs_inside_atomic(ctx)
    return state.inside_atomic


def _enclosing_function(ctx: FileContext) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for scope in ctx.function_scopes():
        if isinstance(scope.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return scope.node
    return None


def _checks_atomic_block(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """``if not connection.in_atomic_block: raise ...``: the function refuses to run outside atomic."""
    return any(
        isinstance(node, ast.Attribute) and node.attr == "in_atomic_block" for node in ast.walk(function)
    )


def _lock_evaluated(node: ast.AST, ctx: FileContext) -> None:
    # Migrations run in a transaction and tests in TestCase's: only application code is checked.
    if runs_once_or_in_tests(ctx):
        return
    ctx.state(_LockState).candidates.append((node, _enclosing_function(ctx)))


def _check_lock_evaluation(node: ast.Call, ctx: FileContext) -> None:
    func = node.func
    evaluated: ast.expr | None = None
    if isinstance(func, ast.Attribute) and func.attr in _EVALUATING_METHODS:
        evaluated = func.value
    elif isinstance(func, ast.Name) and func.id in _EVALUATING_BUILTINS and len(node.args) == 1:
        evaluated = node.args[0]
    if evaluated is None or not relations.is_locked_chain(evaluated, ctx):
        return
    if not _in_atomic(ctx):
        _lock_evaluated(node, ctx)


def _record_atomic_call(node: ast.Call, ctx: FileContext) -> None:
    func = node.func
    if isinstance(func, ast.Name):
        name = func.id
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
        name = func.attr
    else:
        return
    called = ctx.state(_LockState).called_in_atomic
    if name not in called and _in_atomic(ctx):
        called.add(name)


@on(ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp, rules=(LOCK_OUTSIDE_ATOMIC,))
def check_comprehension_lock(
    node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, ctx: FileContext
) -> None:
    for generator in node.generators:
        if relations.is_locked_chain(generator.iter, ctx) and not _in_atomic(ctx):
            _lock_evaluated(generator.iter, ctx)


@on(ast.Call, rules=(LOST_UPDATE, LOCK_OUTSIDE_ATOMIC))
def check_call(node: ast.Call, ctx: FileContext) -> None:
    _check_save(node, ctx)
    enabled: frozenset[str] = getattr(ctx.options, "enabled", frozenset())
    if LOCK_OUTSIDE_ATOMIC.code in enabled:
        _check_lock_evaluation(node, ctx)
        _record_atomic_call(node, ctx)


@on_exit(ast.Module, rules=(LOCK_OUTSIDE_ATOMIC,))
def report_unguarded_locks(node: ast.Module, ctx: FileContext) -> None:
    """A helper called from an atomic block elsewhere in the file is guarded by its caller."""
    state = ctx.state(_LockState)
    seen: set[tuple[int, int]] = set()
    guarded: dict[ast.AST, bool] = {}
    for candidate, function in state.candidates:
        position = (getattr(candidate, "lineno", 0), getattr(candidate, "col_offset", 0))
        if position in seen:
            continue
        if function is not None:
            if function not in guarded:
                guarded[function] = function.name in state.called_in_atomic or _checks_atomic_block(function)
            if guarded[function]:
                continue
        seen.add(position)
        ctx.report(candidate, LOCK_OUTSIDE_ATOMIC)
