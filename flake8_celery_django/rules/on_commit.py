"""CDJ5xx: Celery tasks sent before the transaction that wrote their data has committed.

A message published inside a transaction reaches the broker at once; the worker may read the
database before the commit (``DoesNotExist``, old values) and still runs the task after a rollback.
Django's ``transaction.on_commit`` (django/db/backends/base/base.py) runs a callable after the
commit, or at once when no transaction is open; Celery's ``DjangoTask.delay_on_commit``
(celery/contrib/django/task.py) is ``on_commit(partial(self.delay, ...))``.

Each task call gets at most one of CDJ501/502/503, the most certain one that is enabled.  The
choice waits for the end of the file, because ``post_save.connect(handler)`` may come after
``handler`` is defined.
"""

from __future__ import annotations

import ast
import re
from typing import NamedTuple

from flake8_celery_django import fix_conditions
from flake8_celery_django.fix_plans import FixPlan, NotFixable
from flake8_celery_django.context import FileContext, Kind, Scope
from flake8_celery_django.knowledge import bindings, callers, file_kinds, models, tasks
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.knowledge.transactions import (
    ATOMIC,
    MODEL_SIGNALS,
    NON_ATOMIC_REQUESTS,
    atomic_requests,
    is_atomic_manager,
    names_decorator,
    on_commit_callback,
)
from flake8_celery_django.registry import Rule, on, on_exit, rule

IN_ATOMIC = rule(
    "CDJ501",
    "task-sent-inside-atomic",
    "{call} inside {where}; defer it with on_commit()",
    summary="Task sent inside `transaction.atomic` (block, decorator, or a view under `ATOMIC_REQUESTS`)",
    fix="unsafe",
    # Off: 2 of 26 findings were worth acting on in a strict read (docs/real-world.md, "Read strictly").
    default_enabled=False,
    uses=(tasks.CANVAS_MEMBERS,),
)
IN_SIGNAL_RECEIVER = rule(
    "CDJ502",
    "task-sent-from-model-signal-receiver",
    "{call} inside a {signal} receiver; defer it with on_commit()",
    summary=(
        "Task sent from a `pre_delete`/`post_delete`/`m2m_changed` receiver, which Django runs inside the"
        " transaction of the delete or the relation change"
    ),
    fix="unsafe",
    uses=(tasks.CANVAS_MEMBERS,),
)
IN_SAVE_RECEIVER = rule(
    "CDJ506",
    "task-sent-from-save-signal-receiver",
    "{call} inside a {signal} receiver; defer it with on_commit()",
    summary="Task sent from a `pre_save`/`post_save` receiver, which runs in a transaction when the save does",
    fix="unsafe",
    # Off: 3 of 24 findings were worth acting on in a strict read (docs/real-world.md, "Read strictly").
    default_enabled=False,
    uses=(tasks.CANVAS_MEMBERS,),
)
# Signals Django sends inside a transaction of its own: ``Collector.delete`` wraps the pre_delete and
# post_delete signals in ``transaction.atomic(savepoint=False)`` (django/db/models/deletion.py; a fast
# delete, which runs none, is taken only when no receiver listens), and the many-to-many managers'
# add/remove/clear/set wrap m2m_changed the same way (django/db/models/fields/related_descriptors.py).
# ``Model.save_base`` sends post_save after its own block (django/db/models/base.py).
_SIGNALS_IN_A_TRANSACTION = frozenset({"pre_delete", "post_delete", "m2m_changed"})
_DELETE_SIGNALS = frozenset({"pre_delete", "post_delete"})
AFTER_WRITE = rule(
    "CDJ503",
    "task-sent-after-orm-write",
    "{call} after {write} on line {line}; defer it with on_commit()",
    summary="Task sent after an ORM write in the same function, outside `on_commit`",
    fix="unsafe",
    # Off: 0 of 20 findings were worth acting on in a strict read (docs/real-world.md, "Read strictly").
    default_enabled=False,
    uses=(tasks.CANVAS_MEMBERS,),
)
ON_COMMIT_CALL_RESULT = rule(
    "CDJ504",
    "on-commit-given-call-result",
    "on_commit() gets {call} ({effect}); pass {remedy}",
    summary="`transaction.on_commit` handed a task call's result or a signature instead of a callable",
    fix="safe",
    uses=(tasks.CANVAS_MEMBERS,),
)
ON_COMMIT_LATE_BINDING = rule(
    "CDJ505",
    "on-commit-callback-late-binding",
    "the on_commit() {callback} reads loop variable {name!r} late; bind {name}={name}",
    summary="`on_commit` lambda or nested function in a loop that reads the loop variable late",
    fix="safe",
    uses=(tasks.CANVAS_MEMBERS,),
)

_SENDING_RULES = (IN_ATOMIC, IN_SIGNAL_RECEIVER, IN_SAVE_RECEIVER, AFTER_WRITE)
_CANVAS_LABELS = frozenset({"group", "chain", "chord"})
# Manager and queryset methods that write (django/db/models/query.py).
_QUERYSET_WRITES = frozenset(
    {
        "create", "update", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create",
        "acreate", "aupdate", "adelete", "abulk_create", "abulk_update", "aget_or_create",
        "aupdate_or_create",
    }
)
_INSTANCE_WRITES = frozenset({"save", "delete", "asave", "adelete"})
_VIEW_BASE_SUFFIXES = ("View", "ViewSet")
_NOT_PER_REQUEST = frozenset({"classmethod", "staticmethod"})
# A task base class named like this defers its own sending to on_commit (pretix's TransactionAwareTask).
_DEFERRING_BASE = re.compile(r"transaction_?aware|on_?commit|after_?commit", re.IGNORECASE)
# ModelAdmin methods that Django's admin calls inside ``transaction.atomic`` on POST:
# ``changeform_view``, ``delete_view`` and list_editable ``changelist_view`` (django/contrib/admin/options.py).
_ADMIN_ATOMIC_METHODS = frozenset({"save_model", "save_related", "save_formset", "delete_model"})


class _FunctionFacts:
    """What one function has shown so far: its first unsheltered ORM write, what kind of code it is."""

    # Unsheltered ORM writes so far, as (line, readable name), in source order.
    writes: list[tuple[int, str]]
    # ``if``/``else`` arms as line ranges (body first, body last, else first, else last).
    arms: list[tuple[int, int, int, int]]
    analysed: bool
    atomic_decorated: bool
    admin_method: bool
    signal: str | None
    view: str | None
    # A method of a Celery beat scheduler: the beat process holds no transaction.
    beat_scheduler: bool
    key: str | None

    __slots__ = (
        "writes", "arms", "analysed", "atomic_decorated", "admin_method", "signal", "view", "beat_scheduler", "key"
    )

    def __init__(self) -> None:
        self.writes = []
        self.arms = []
        self.analysed = False
        self.atomic_decorated = False
        self.admin_method = False
        self.signal = None
        self.view = None
        self.beat_scheduler = False
        self.key = None


class _LoopBindings:
    """Names (re)bound inside each enclosing loop body, and callables defined there."""

    assigned: dict[int, set[str]]
    callables: dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda]

    __slots__ = ("assigned", "callables")

    def __init__(self) -> None:
        self.assigned = {}
        self.callables = {}


class _Candidate(NamedTuple):
    """A task call whose CDJ501-503 verdict waits for the end of the file."""

    node: ast.Call
    call: str
    # The callable that sends (``notify.delay``) and the function the send is in, for the fix's plan.
    send: str
    function: ast.AST
    atomic: str | None
    signal: str | None
    function_key: str | None
    write_line: int
    write_name: str
    autocommit: bool
    task_names: tuple[str, ...]
    # The project index says the task's base class (or the app's task_cls) defers to on_commit.
    deferred_by_base: bool = False


class _FileFacts:
    candidates: list[_Candidate]
    connected: dict[str, str]
    handed_to_on_commit: set[int]
    view_classes: set[str]
    deferring_tasks: set[str]

    __slots__ = ("candidates", "connected", "handed_to_on_commit", "view_classes", "deferring_tasks")

    def __init__(self) -> None:
        self.candidates = []
        self.connected = {}
        self.handed_to_on_commit = set()
        self.view_classes = set()
        self.deferring_tasks = set()


def _describe(node: ast.expr) -> str:
    """``type(...).async_execute`` for ``type(self).async_execute``: a short name for a receiver."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(f"{dotted_name(node.func) or '(...)'}(...)")
    else:
        parts.append("(...)")
    return ".".join(reversed(parts))


# -- what a call is ------------------------------------------------------------------------------
def _sent_now(node: ast.Call, ctx: FileContext) -> tuple[str, str] | None:
    """``(display, callable to defer)`` when ``node`` publishes a task message now."""
    found = tasks.task_call(node, ctx)
    if found is not None:
        if not found.sends_now or not isinstance(node.func, ast.Attribute):
            return None
        send = f"{_describe(node.func.value)}.{found.method}"
        return send + "()", send
    func = node.func
    # chain/group/chord ``__call__`` is ``apply_async`` (celery/canvas.py); a plain Signature's runs locally.
    if isinstance(func, ast.Call):
        qualified = ctx.qualified_name(func.func)
        if qualified is not None and qualified in tasks.CANVAS_CONSTRUCTORS:
            name = qualified.rpartition(".")[2]
            return f"{name}(...)()", f"{name}(...).apply_async"
    elif isinstance(func, ast.Name):
        bound = ctx.scope.lookup(func.id)
        if bound is not None and bound.kind is Kind.SIGNATURE and bound.label in _CANVAS_LABELS:
            return f"{func.id}()", f"{func.id}.apply_async"
    return None


def _orm_write(node: ast.Call, ctx: FileContext) -> str | None:
    """A readable name for the ORM write ``node`` makes: ``order.save()``, ``Order.objects.create()``."""
    func = node.func
    if not isinstance(func, ast.Attribute):
        return None
    method = func.attr
    receiver = func.value
    if method in _QUERYSET_WRITES and models.queryset_label(receiver, ctx) is not None:
        return f"{dotted_name(receiver) or models.queryset_label(receiver, ctx)}.{method}()"
    if method not in _INSTANCE_WRITES:
        return None
    # ``Model.save()``/``delete()`` take no positional argument; ``img.save(path)``,
    # ``cache.delete(key)`` and ``storage.save(name, f)`` are not ORM writes.
    positional = [argument for argument in node.args if not isinstance(argument, ast.Starred)]
    value = bindings.infer(receiver, ctx)
    if value is not None and value.kind is Kind.MODEL_INSTANCE:
        return f"{dotted_name(receiver) or value.label}.{method}()"
    if positional or value is not None:
        return None
    if method in ("delete", "adelete") and isinstance(receiver, (ast.Name, ast.Attribute)):
        qualified = ctx.qualified_name(receiver)
        if qualified is not None and not qualified.startswith("."):
            # ``requests.delete()``, ``cache.delete()``: a module or an imported object, not a row.
            if not models.is_model_class_name(qualified):
                return None
    name = dotted_name(receiver)
    if name is None:
        if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super":
            name = "super()"
        elif isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute):
            name = f"{dotted_name(receiver.func) or receiver.func.attr}(...)"
        else:
            return None
    return f"{name}.{method}()"


# -- what kind of function the call is in ------------------------------------------------------------
def _function_node(scope: Scope) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    node = scope.node
    if scope.kind == "function" and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return node
    return None


def _receiver_signal(function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> str | None:
    """``post_save`` for a function decorated with ``@receiver(post_save, ...)`` (lists too)."""
    for decorator in function.decorator_list:
        if not isinstance(decorator, ast.Call) or ctx.qualified_name(decorator.func) not in models.RECEIVER:
            continue
        signal: ast.expr | None = decorator.args[0] if decorator.args else None
        for keyword in decorator.keywords:
            if keyword.arg == "signal":
                signal = keyword.value
        found = _model_signal(signal, ctx)
        if found is not None:
            return found
    return None


def _connected_elsewhere(
    scope: Scope, function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
) -> str | None:
    """The model signal a module-level function is connected to in another module (project index)."""
    if scope.parent is not ctx.module_scope or ctx.module is None or not ctx.project.enabled:
        return None
    signals = ctx.project.signals_received_by(f"{ctx.module}.{function.name}")
    return next((signal for signal in signals if f"django.db.models.signals.{signal}" in MODEL_SIGNALS), None)


def _model_signal(node: ast.expr | None, ctx: FileContext) -> str | None:
    if node is None:
        return None
    for candidate in node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]:
        qualified = ctx.qualified_name(candidate)
        if qualified in MODEL_SIGNALS:
            return qualified.rpartition(".")[2]
    return None


def _is_view_class(node: ast.ClassDef, ctx: FileContext) -> bool:
    known = ctx.state(_FileFacts).view_classes
    for base in node.bases:
        name = dotted_name(base) or ""
        last = name.rpartition(".")[2]
        if last.endswith(_VIEW_BASE_SUFFIXES) or last in known:
            return True
    return False


def _view_kind(scope: Scope, function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> str | None:
    """``a view function``/``a view method`` that Django wraps in ``atomic`` under ATOMIC_REQUESTS.

    django/core/handlers/base.py ``make_view_atomic`` wraps the resolved view (a function, or the
    function ``as_view()`` returns, which runs every method of the class) unless it is async or
    marked ``non_atomic_requests``.
    """
    if isinstance(function, ast.AsyncFunctionDef):
        return None
    if any(names_decorator(d, NON_ATOMIC_REQUESTS, ctx) for d in function.decorator_list):
        return None
    parent = scope.parent
    if parent is None:
        return None
    arguments = [*function.args.posonlyargs, *function.args.args]
    if parent.kind == "module":
        return "a view function" if arguments and arguments[0].arg == "request" else None
    owner = parent.node
    if parent.kind != "class" or parent.parent is not ctx.module_scope or not isinstance(owner, ast.ClassDef):
        return None
    if any(dotted_name(d) in _NOT_PER_REQUEST for d in function.decorator_list):
        return None
    if any(names_decorator(d, NON_ATOMIC_REQUESTS, ctx) for d in owner.decorator_list):
        return None
    if not arguments or arguments[0].arg != "self" or not _is_view_class(owner, ctx):
        return None
    return "a view method"


# Celery beat's scheduler classes (celery/beat.py, django_celery_beat/schedulers.py).
_BEAT_SCHEDULERS = frozenset(
    {
        "celery.beat.Scheduler",
        "celery.beat.PersistentScheduler",
        "django_celery_beat.schedulers.DatabaseScheduler",
    }
)


def _in_beat_scheduler(scope: Scope, ctx: FileContext) -> bool:
    """A method of a class built on a Celery beat scheduler (it runs in the beat process)."""
    parent = scope.parent
    if parent is None or parent.kind != "class" or not isinstance(parent.node, ast.ClassDef):
        return False
    return any(ctx.qualified_name(base) in _BEAT_SCHEDULERS for base in parent.node.bases)


def _is_admin_atomic_method(scope: Scope, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """``save_model`` and its siblings on a ``ModelAdmin`` subclass."""
    parent = scope.parent
    if function.name not in _ADMIN_ATOMIC_METHODS or parent is None or parent.kind != "class":
        return False
    owner = parent.node
    if not isinstance(owner, ast.ClassDef):
        return False
    return any((dotted_name(base) or "").rpartition(".")[2].endswith("ModelAdmin") for base in owner.bases)


def _function_key(scope: Scope, function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """How ``<signal>.connect(...)`` in this file can name the function: ``handler``, ``Class.handler``."""
    parent = scope.parent
    if parent is None:
        return None
    if parent.kind == "module":
        return function.name
    if parent.kind == "class" and isinstance(parent.node, ast.ClassDef) and parent.parent is not None:
        if parent.parent.kind == "module":
            return f"{parent.node.name}.{function.name}"
    return None


def _facts(scope: Scope, ctx: FileContext) -> _FunctionFacts:
    facts = scope.state(_FunctionFacts)
    if not facts.analysed:
        facts.analysed = True
        function = _function_node(scope)
        if function is not None:
            facts.atomic_decorated = any(names_decorator(d, ATOMIC, ctx) for d in function.decorator_list)
            facts.signal = _receiver_signal(function, ctx) or _connected_elsewhere(scope, function, ctx)
            facts.admin_method = _is_admin_atomic_method(scope, function)
            facts.view = _view_kind(scope, function, ctx)
            facts.beat_scheduler = _in_beat_scheduler(scope, ctx)
            facts.key = _function_key(scope, function)
    return facts


def _atomic_reason(scope: Scope, facts: _FunctionFacts, ctx: FileContext) -> str | None:
    if any(is_atomic_manager(name, ctx) for name in scope.context_managers):
        return "an atomic block"
    if scope.in_atomic or facts.atomic_decorated:
        return "an @atomic function"
    if facts.admin_method:
        return "an atomic ModelAdmin method"
    if facts.view is not None and atomic_requests(ctx):
        return f"{facts.view} under ATOMIC_REQUESTS"
    return None


# -- detectors ----------------------------------------------------------------------------------------
@on(ast.FunctionDef, ast.AsyncFunctionDef, rules=_SENDING_RULES)
def record_deferring_task(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> None:
    """``@app.task(base=TransactionAwareTask)``: the task's own ``apply_async`` waits for the commit."""
    if ctx.scope is not ctx.module_scope:
        return
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and tasks.task_decorator(decorator, ctx):
            for keyword in decorator.keywords:
                base = dotted_name(keyword.value) if keyword.arg == "base" else None
                if base is not None and _DEFERRING_BASE.search(base.rpartition(".")[2]):
                    ctx.state(_FileFacts).deferring_tasks.add(node.name)


@on(ast.ClassDef, rules=_SENDING_RULES)
def record_view_class(node: ast.ClassDef, ctx: FileContext) -> None:
    if ctx.scope is ctx.module_scope and _is_view_class(node, ctx):
        ctx.state(_FileFacts).view_classes.add(node.name)


@on(ast.Call, rules=(*_SENDING_RULES, ON_COMMIT_CALL_RESULT, ON_COMMIT_LATE_BINDING))
def check_call(node: ast.Call, ctx: FileContext) -> None:
    callback = on_commit_callback(node, ctx)
    if callback is not None:
        _check_on_commit_argument(callback, ctx)
        return
    scope = ctx.scope
    if isinstance(node.func, ast.Attribute) and node.func.attr == "connect":
        _record_connect(node, ctx)
    if scope.kind != "function":
        return
    write = _orm_write(node, ctx)
    if write is not None:
        facts = _facts(scope, ctx)
        if not scope.in_atomic and not facts.atomic_decorated and len(facts.writes) < _MAX_WRITES:
            facts.writes.append((node.lineno, write))
        return
    sent = _sent_now(node, ctx)
    if sent is None or id(node) in ctx.state(_FileFacts).handed_to_on_commit or file_kinds.in_test_code(scope, ctx):
        return
    facts = _facts(scope, ctx)
    write_line, write_name = _preceding_write(facts, node.lineno)
    ctx.state(_FileFacts).candidates.append(
        _Candidate(
            node=node,
            call=sent[0],
            send=sent[1],
            function=scope.node,
            atomic=_atomic_reason(scope, facts, ctx),
            signal=facts.signal,
            function_key=facts.key,
            write_line=write_line,
            write_name=write_name,
            autocommit=_runs_in_autocommit(scope, facts, ctx),
            task_names=_task_names(node, ctx),
            deferred_by_base=isinstance(node.func, ast.Attribute) and tasks.defers_to_on_commit(node.func.value, ctx),
        )
    )


_MAX_WRITES = 64


def _runs_in_autocommit(scope: Scope, facts: _FunctionFacts, ctx: FileContext) -> bool:
    """No transaction is open when the function runs, so each write commits at once.

    Workers run tasks, Django runs views without ATOMIC_REQUESTS and management commands, beat runs its
    schedulers, on_commit runs callbacks; and so does a function whose every caller in the project is
    such code, calling it outside any atomic block.
    """
    if scope.is_task or (facts.view is not None and not atomic_requests(ctx)) or facts.beat_scheduler:
        return True
    qualified = callers.function_qualified_name(scope, ctx) if scope.kind == "function" else None
    if qualified is not None and callers.is_management_command(qualified):
        return True
    return callers.runs_after_commit(ctx) or callers.runs_in_autocommit(ctx)


def _open_arms(facts: _FunctionFacts, line: int) -> list[tuple[int, int, int, int]]:
    """The ``if``/``else`` statements not finished by ``line``; finished ones are dropped for good.

    The walk goes in source order, so an ``if`` that ended before ``line`` can hold no later send:
    the list stays as short as the nesting, and a function of any length is checked in linear time.
    """
    arms = facts.arms = [arm for arm in facts.arms if arm[3] >= line]
    return arms


def _preceding_write(facts: _FunctionFacts, line: int) -> tuple[int, str]:
    """The first write that can run before a send on ``line``: not in the other arm of an ``if``."""
    arms = _open_arms(facts, line)
    for write_line, write_name in facts.writes:
        exclusive = any(
            (body_first <= write_line <= body_last and else_first <= line <= else_last)
            or (else_first <= write_line <= else_last and body_first <= line <= body_last)
            for body_first, body_last, else_first, else_last in arms
        )
        if not exclusive:
            return write_line, write_name
    return 0, ""


@on(ast.If, rules=(AFTER_WRITE,))
def record_branches(node: ast.If, ctx: FileContext) -> None:
    """Remember the arms of an ``if`` with an ``else``: a write in one arm never precedes a send in the other."""
    scope = ctx.scope
    if scope.kind != "function" or not node.orelse:
        return
    body_last = getattr(node.body[-1], "end_lineno", None) or node.body[-1].lineno
    else_last = getattr(node.orelse[-1], "end_lineno", None) or node.orelse[-1].lineno
    facts = _facts(scope, ctx)
    _open_arms(facts, node.lineno).append((node.body[0].lineno, body_last, node.orelse[0].lineno, else_last))


def _task_names(node: ast.Call, ctx: FileContext) -> tuple[str, ...]:
    """How the task of ``mail.send_mail.delay(...)`` may be named: ``send_mail``, ``mail.send_mail``
    and its qualified name through the imports."""
    func = node.func
    if not isinstance(func, ast.Attribute):
        return ()
    names: list[str] = []
    for name in (dotted_name(func.value), ctx.qualified_name(func.value)):
        if name is not None:
            names.extend((name, name.rpartition(".")[2]))
    return tuple(names)


def _defers_itself(candidate: _Candidate, state: _FileFacts, configured: frozenset[str]) -> bool:
    """The task's class sends it from on_commit: defined so in this file, or named by the option."""
    if candidate.deferred_by_base:
        return True
    if not candidate.task_names:
        return False
    if candidate.task_names[0] in state.deferring_tasks:
        return True
    return any(name in configured for name in candidate.task_names)


def _record_connect(node: ast.Call, ctx: FileContext) -> None:
    """``post_save.connect(handler, sender=...)``: ``handler`` is a model-signal receiver."""
    assert isinstance(node.func, ast.Attribute)
    signal = _model_signal(node.func.value, ctx)
    if signal is None:
        return
    target: ast.expr | None = node.args[0] if node.args else None
    for keyword in node.keywords:
        if keyword.arg == "receiver":
            target = keyword.value
    key: str | None = None
    if isinstance(target, ast.Name):
        key = target.id
    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        owner = target.value.id
        if owner in ("self", "cls"):
            scope: Scope | None = ctx.scope
            while scope is not None and scope.kind != "class":
                scope = scope.parent
            if scope is not None and isinstance(scope.node, ast.ClassDef):
                key = f"{scope.node.name}.{target.attr}"
        else:
            key = f"{owner}.{target.attr}"
    if key is not None:
        ctx.state(_FileFacts).connected.setdefault(key, signal)


@on_exit(ast.Module, rules=_SENDING_RULES)
def report_sending(node: ast.Module, ctx: FileContext) -> None:
    state = ctx.state(_FileFacts)
    configured: frozenset[str] = ctx.options.on_commit_tasks
    for candidate in state.candidates:
        if _defers_itself(candidate, state, configured):
            continue
        signal = candidate.signal
        if signal is None and candidate.function_key is not None:
            signal = state.connected.get(candidate.function_key)
        verdicts: list[tuple[Rule, dict[str, object]]] = []
        if candidate.atomic is not None:
            verdicts.append((IN_ATOMIC, {"where": candidate.atomic}))
        if signal is not None:
            receiver = IN_SIGNAL_RECEIVER if signal in _SIGNALS_IN_A_TRANSACTION else IN_SAVE_RECEIVER
            verdicts.append((receiver, {"signal": signal}))
        if candidate.write_line and not candidate.autocommit:
            verdicts.append((AFTER_WRITE, {"write": candidate.write_name, "line": candidate.write_line}))
        # One finding per send, the first that applies: the rules exclude each other by
        # definition (CDJ502 and CDJ506 are receivers outside atomic, CDJ503 neither), whichever are enabled.
        if verdicts:
            chosen, fields = verdicts[0]
            fix: FixPlan | NotFixable | None = fix_conditions.plan_on_commit(
                candidate.node, candidate.send, candidate.function, ctx
            )
            if signal in _DELETE_SIGNALS and _hands_over_deleted_key(candidate.node, candidate.function):
                fix = NotFixable("the task gets the key of the row being deleted, which is gone after the commit")
            ctx.report(candidate.node, chosen, fix=fix, call=candidate.call, **fields)


def _hands_over_deleted_key(call: ast.Call, function: ast.AST) -> bool:
    """A delete receiver's send hands over the deleted row or its key (``instance``, ``instance.pk``,
    ``str(instance.id)``, also inside ``args=(...)``/``kwargs={...}``): a task that looks it up after
    the commit finds nothing."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    arguments = function.args
    parameters = (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)
    if "instance" not in {argument.arg for argument in parameters}:
        return False
    return any(
        _is_row_or_key(item)
        for value in (*call.args, *(keyword.value for keyword in call.keywords))
        for item in tasks.values_inside(value)
    )


def _is_row_or_key(node: ast.expr) -> bool:
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("str", "int"):
        if len(node.args) != 1:
            return False
        node = node.args[0]
    if isinstance(node, ast.Attribute) and node.attr in ("pk", "id"):
        node = node.value
    return isinstance(node, ast.Name) and node.id == "instance"


def _check_on_commit_argument(callback: ast.expr, ctx: FileContext) -> None:
    if isinstance(callback, ast.Call):
        ctx.state(_FileFacts).handed_to_on_commit.add(id(callback))
        _check_call_result(callback, ctx)
        return
    if isinstance(callback, ast.Name):
        bound = ctx.scope.lookup(callback.id)
        if bound is not None and bound.kind is Kind.SIGNATURE and bound.label not in _CANVAS_LABELS:
            ctx.report(
                callback,
                ON_COMMIT_CALL_RESULT,
                call=f"signature {callback.id}",
                effect="runs in-process",
                remedy=f"{callback.id}.delay",
            )
            return
    _check_late_binding(callback, ctx)


def _check_call_result(callback: ast.Call, ctx: FileContext) -> None:
    """``on_commit(task.delay(pk))`` sends now and then raises TypeError; ``on_commit(task.s(pk))`` runs it here."""
    found = tasks.task_call(callback, ctx)
    if found is not None and isinstance(callback.func, ast.Attribute):
        receiver = _describe(callback.func.value)
        if found.sends_now:
            ctx.report(
                callback,
                ON_COMMIT_CALL_RESULT,
                call=f"{receiver}.{found.method}()",
                effect="sends at once",
                remedy=f"partial({receiver}.{found.method}, ...)",
            )
        else:
            ctx.report(
                callback,
                ON_COMMIT_CALL_RESULT,
                call=f"signature {receiver}.{found.method}(...)",
                effect="runs in-process",
                remedy=f"partial({receiver}.delay, ...)",
            )
        return
    if found is not None:
        # ``signature("name", ...)`` built by a function: a plain Signature, run locally when called.
        ctx.report(
            callback,
            ON_COMMIT_CALL_RESULT,
            call=f"signature {found.task!r}",
            effect="runs in-process",
            remedy="its .delay",
        )
        return
    sent = _sent_now(callback, ctx)
    if sent is not None:
        ctx.report(
            callback,
            ON_COMMIT_CALL_RESULT,
            call=sent[0],
            effect="sends at once",
            remedy=f"partial({sent[1]}, ...)",
        )


# -- CDJ505: callbacks that read a loop variable late ----------------------------------------------------
@on(ast.Assign, ast.AugAssign, ast.AnnAssign, rules=(ON_COMMIT_LATE_BINDING,))
def record_loop_assignment(node: ast.Assign | ast.AugAssign | ast.AnnAssign, ctx: FileContext) -> None:
    loops = ctx.scope.loops
    if not loops:
        return
    state = ctx.scope.state(_LoopBindings)
    names = state.assigned.setdefault(id(loops[-1].node), set())
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        names.update(bindings.target_names(target))
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
        for target in targets:
            if isinstance(target, ast.Name):
                state.callables[target.id] = node.value


@on(ast.FunctionDef, ast.AsyncFunctionDef, rules=(ON_COMMIT_LATE_BINDING,))
def record_loop_function(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> None:
    if ctx.scope.loops:
        ctx.scope.state(_LoopBindings).callables[node.name] = node


def _late_reads(
    function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, loop_names: set[str]
) -> list[ast.Name]:
    """Loads of ``loop_names`` in the callable's body that nothing inside it binds."""
    bound = set(bindings.parameter_names(function.args))
    body: list[ast.AST] = [function.body] if isinstance(function, ast.Lambda) else list(function.body)
    reads: list[ast.Name] = []
    pending = list(body)
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Name):
            if isinstance(current.ctx, ast.Load):
                reads.append(current)
            else:
                bound.add(current.id)
        elif isinstance(current, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
            bound |= bindings.parameter_names(current.args)
        pending.extend(ast.iter_child_nodes(current))
    found = [name for name in reads if name.id in loop_names and name.id not in bound]
    found.sort(key=lambda name: (name.lineno, name.col_offset))
    return found


def _commits_each_iteration(
    scope: Scope, names: set[str], assigned: dict[int, set[str]], ctx: FileContext
) -> bool:
    """The callback runs before the loop rebinds ``names``: the atomic block around ``on_commit`` was opened
    inside every loop that binds them, and it is the outermost one, since the function runs outside any
    transaction. Django runs ``on_commit`` callbacks when the outermost atomic block commits
    (django/db/transaction.py ``Atomic.__exit__``); an inner one is a savepoint and defers them."""
    if not scope.in_atomic:
        return False
    for loop in scope.loops:
        if (loop.targets | assigned.get(id(loop.node), set())) & names and loop.atomic_depth:
            return False
    return scope.kind == "function" and _runs_in_autocommit(scope, _facts(scope, ctx), ctx)


def _check_late_binding(callback: ast.expr, ctx: FileContext) -> None:
    scope = ctx.scope
    if not scope.loops:
        return
    function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | None = None
    if isinstance(callback, ast.Lambda):
        function = callback
    elif isinstance(callback, ast.Name):
        function = scope.state(_LoopBindings).callables.get(callback.id)
    if function is None:
        return
    assigned = scope.state(_LoopBindings).assigned
    loop_names: set[str] = set()
    for loop in scope.loops:
        loop_names |= loop.targets
        loop_names |= assigned.get(id(loop.node), set())
    reads = _late_reads(function, loop_names)
    if not reads or _commits_each_iteration(scope, {name.id for name in reads}, assigned, ctx):
        return
    kind = "lambda" if isinstance(function, ast.Lambda) else f"function {function.name}()"
    ctx.report(callback, ON_COMMIT_LATE_BINDING, callback=kind, name=reads[0].id)
