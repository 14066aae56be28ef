"""One module's facts from its syntax tree, in one walk, without importing anything.

What cannot be decided from one module (is this base class a model? is this decorator a task
decorator?) is recorded as a candidate with its resolved names; :mod:`.merge` decides once every
module has been read.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field

from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.project.classes import ClassReader
from flake8_celery_django.project.facts import (
    CallSiteFact,
    ModelFact,
    ModuleFacts,
    ReceiverFact,
    SessionFact,
    SettingsFact,
    SignalArgumentFact,
    TaskBaseFact,
    TaskFact,
    name_set,
)
from flake8_celery_django.project.names import (
    ATOMIC,
    CELERY_APP,
    CONTEXT_MANAGER,
    ON_COMMIT,
    PARTIAL,
    SESSION_ROOTS,
    Names,
)
from flake8_celery_django.project.serializers import serializer_facts
from flake8_celery_django.project.settings_module import is_settings_module, read_settings

SIGNALS = frozenset(
    {"pre_save", "post_save", "pre_delete", "post_delete", "m2m_changed", "pre_init", "post_init"}
)
# How a signal is sent (django/dispatch/dispatcher.py: ``Signal.send``, ``send_robust`` and their
# async twins).
_SIGNAL_SENDS = frozenset({"send", "send_robust", "asend", "asend_robust"})
# Queryset methods that return one row (django/db/models/query.py).
_ROW_METHODS = frozenset(
    {"get", "create", "first", "last", "latest", "earliest", "aget", "acreate", "afirst", "alast"}
)
# Generic containers whose item type is the model a parameter holds.
_CONTAINERS = frozenset(
    {
        "list", "List", "Sequence", "MutableSequence", "Iterable", "Iterator", "Collection", "Optional",
        "set", "Set", "frozenset", "FrozenSet", "tuple", "Tuple", "Union", "AbstractSet",
    }
)
_LITERAL_CONTAINERS = (ast.List, ast.Tuple, ast.Set)


@dataclass(slots=True)
class _SessionDraft:
    """A session being built in a function or held by a class: what makes it, what is mounted on it."""

    makes: str
    timeout: bool = False
    adapters: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Function:
    qualified: str
    atomic_depth: int = 0
    lock_depth: int = 0
    drafts: dict[str, _SessionDraft] = field(default_factory=dict)
    returned: _SessionDraft | None = None
    # For a module-level function: it applies Celery's task decorator to a function, or these
    # project functions (which may be task decorators).
    applies_celery: bool = False
    applies_project: set[str] = field(default_factory=set)
    defines_functions: bool = False
    parameters: frozenset[str] = frozenset()
    # A view: runs in a transaction only under ATOMIC_REQUESTS.
    view: bool = False
    # ``@contextlib.contextmanager``: its ``yield`` statements say whether it wraps ``atomic``.
    context_manager: bool = False
    # Qualified names of the context managers open here, innermost last.
    guards: list[str] = field(default_factory=list)
    # Project decorators of the function (possible wrappers around ``atomic``).
    decorators: tuple[str, ...] = ()
    # Per ``yield`` of a context manager (per ``return`` of another function): what it wraps.
    wraps: list[tuple[str, ...]] = field(default_factory=list)
    # Names bound to a model row here (``doc = Document.objects.get(...)``, ``doc: Document``), by
    # the class as this module names it: what a project signal sent from here hands its receivers.
    rows: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Class:
    qualified: str
    holders: dict[str, _SessionDraft] = field(default_factory=dict)
    view: bool = False


class _Exit:
    """The walk leaves a function or a class here."""


_EXIT_FUNCTION = _Exit()
_EXIT_CLASS = _Exit()
_EXIT_WITH = _Exit()
# Nodes the walk acts on; every other node only has its children walked.
_SPECIAL = frozenset(
    {
        _Exit, tuple, ast.Call, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.With, ast.AsyncWith,
        ast.Import, ast.ImportFrom, ast.Assign, ast.Return, ast.Yield, ast.YieldFrom,
    }
)
# Nodes without children the index reads (names, constants, contexts, operators): never pushed.
_LEAVES = frozenset(
    {
        str, int, float, complex, bytes, bool, type(None), type(...),
        ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del, ast.Pass, ast.Break, ast.Continue,
        ast.Global, ast.Nonlocal, ast.alias,
        *(
            cls
            for cls in vars(ast).values()
            if isinstance(cls, type) and issubclass(cls, (ast.operator, ast.cmpop, ast.unaryop, ast.boolop))
        ),
    }
)
# Fields that never hold a node the walk goes into (names, flags, contexts, operators).
_NOT_CHILDREN = frozenset(
    {"ctx", "op", "ops", "id", "attr", "arg", "name", "asname", "module", "level", "type_comment", "kind",
     "conversion", "is_async", "simple", "tag"}
)
# Node type -> its fields that may hold nodes, filled as types are met.
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    fields: tuple[str, ...] = getattr(kind, "_fields", ())
    found = _CHILD_FIELDS[kind] = tuple(name for name in fields if name not in _NOT_CHILDREN)
    return found


class _Extractor:
    def __init__(self, tree: ast.Module, module: str, is_package: bool, packages: frozenset[str]) -> None:
        self.tree = tree
        self.module = module
        self.is_package = is_package
        self.names = Names(module, is_package, packages)
        self.models: list[ModelFact] = []
        self.task_bases: list[TaskBaseFact] = []
        self.sessions: list[SessionFact] = []
        self.tasks: list[TaskFact] = []
        self.task_candidates: list[TaskFact] = []
        self.task_decorators: list[str] = []
        self.decorator_candidates: list[tuple[str, tuple[str, ...]]] = []
        self.receivers: list[ReceiverFact] = []
        self.signal_arguments: list[SignalArgumentFact] = []
        self.calls: list[tuple[str, CallSiteFact]] = []
        self.settings = SettingsFact()
        self.functions: list[_Function] = []
        self.classes: list[_Class] = []
        self.skipped_calls: set[int] = set()
        self.atomic_wrapper_candidates: list[tuple[str, tuple[str, ...]]] = []
        self.view_routes: list[tuple[str, tuple[str, ...]]] = []

    # -- the walk -------------------------------------------------------------------------------
    def run(self) -> ModuleFacts:
        self._read_top_level(self.tree.body)
        if is_settings_module(self.module):
            self.settings = read_settings(self.tree.body)
        stack: list[object] = list(reversed(self.tree.body))
        special = _SPECIAL
        leaves = _LEAVES
        child_fields = _CHILD_FIELDS
        attribute, keyword, expression = ast.Attribute, ast.keyword, ast.Expr
        while stack:
            item = stack.pop()
            kind = type(item)
            if kind in special:
                if item is _EXIT_FUNCTION:
                    self._leave_function()
                elif item is _EXIT_CLASS:
                    self._leave_class()
                elif kind is tuple:
                    self._leave_with(item[1], item[2])  # type: ignore[index]
                else:
                    assert isinstance(item, ast.AST)
                    self._visit(item, stack)
                continue
            # Any other node: only its children can hold what the index reads. The commonest kinds
            # (an attribute chain, a keyword argument, an expression statement) go to their one child.
            if kind is attribute:
                while type(item) is attribute:
                    item = item.value
                if type(item) not in leaves:
                    stack.append(item)
                continue
            if kind is keyword or kind is expression:
                item = item.value  # type: ignore[attr-defined]
                if type(item) not in leaves:
                    stack.append(item)
                continue
            for name in child_fields.get(kind) or _child_fields(kind):
                value = getattr(item, name, None)
                if type(value) is list:
                    stack.extend([child for child in reversed(value) if type(child) not in leaves])
                elif value is not None and type(value) not in leaves:
                    stack.append(value)
        return ModuleFacts(
            module=self.module,
            models=tuple(self.models),
            task_bases=tuple(self.task_bases),
            tasks=tuple(self.tasks),
            task_decorators=tuple(self.task_decorators),
            sessions=tuple(self.sessions),
            receivers=tuple(self.receivers),
            calls=tuple(self.calls),
            settings=self.settings,
            task_candidates=tuple(self.task_candidates),
            decorator_candidates=tuple(self.decorator_candidates),
            serializers=serializer_facts(self.tree, self.module, is_package=self.is_package),
            atomic_wrapper_candidates=tuple(self.atomic_wrapper_candidates),
            signal_arguments=tuple(self.signal_arguments),
            view_routes=tuple(self.view_routes),
        )

    def _read_top_level(self, body: list[ast.stmt]) -> None:
        """Imports and definitions at module level (also under ``if``/``try``), before the walk resolves names."""
        pending = list(body)
        while pending:
            statement = pending.pop()
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                self.names.add_import(statement)
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.names.defined.add(statement.name)
            elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        self.names.defined.add(target.id)
                        if isinstance(statement.value, ast.Call) and self._is_celery_constructor(statement.value):
                            self.names.celery_apps.add(target.id)
            elif isinstance(statement, (ast.If, ast.Try, ast.With)):
                pending.extend(statement.body)
                pending.extend(getattr(statement, "orelse", ()))
                for handler in getattr(statement, "handlers", ()):
                    pending.extend(handler.body)
                pending.extend(getattr(statement, "finalbody", ()))

    def _is_celery_constructor(self, call: ast.Call) -> bool:
        qualified = self.names.qualify(call.func)
        return qualified in CELERY_APP or (qualified is None and dotted_name(call.func) == "Celery")

    def _visit(self, node: ast.AST, stack: list[object]) -> None:
        kind = type(node)
        if kind is ast.Call:
            assert isinstance(node, ast.Call)
            self._call(node)
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            self._enter_function(node)
            stack.append(_EXIT_FUNCTION)
            stack.extend(reversed(node.body))
            return
        elif kind is ast.ClassDef:
            assert isinstance(node, ast.ClassDef)
            self._enter_class(node)
            stack.append(_EXIT_CLASS)
            stack.extend(reversed(node.body))
            return
        elif kind is ast.With or kind is ast.AsyncWith:
            assert isinstance(node, (ast.With, ast.AsyncWith))
            atomic = sum(1 for item in node.items if self._is_atomic(item.context_expr))
            guards = 0
            if self.functions:
                state = self.functions[-1]
                state.atomic_depth += atomic
                for item in node.items:
                    expr = item.context_expr
                    name = self.names.qualify(expr.func if isinstance(expr, ast.Call) else expr)
                    if name is not None:
                        state.guards.append(name)
                        guards += 1
            stack.append((_EXIT_WITH, atomic, guards))
            stack.extend(reversed(node.body))
            stack.extend(item.context_expr for item in reversed(node.items))
            return
        elif kind is ast.Import or kind is ast.ImportFrom:
            assert isinstance(node, (ast.Import, ast.ImportFrom))
            self.names.add_import(node)
            return
        elif kind is ast.Assign:
            assert isinstance(node, ast.Assign)
            self._assign(node)
        elif kind is ast.Return:
            assert isinstance(node, ast.Return)
            self._return(node)
        elif kind is ast.Yield or kind is ast.YieldFrom:
            self._yield()
        for name in _CHILD_FIELDS.get(kind) or _child_fields(kind):
            value = getattr(node, name, None)
            if type(value) is list:
                stack.extend([child for child in reversed(value) if type(child) not in _LEAVES])
            elif value is not None and type(value) not in _LEAVES:
                stack.append(value)

    def _route(self, attribute: str, receiver: ast.expr, node: ast.Call) -> None:
        """``View.as_view({"get": "retrieve"})`` routes those actions of a project view; a router's
        ``register(prefix, ViewSet)`` and any other ``as_view()`` route every action (``*``)."""
        if attribute == "register":
            keywords = {keyword.arg: keyword.value for keyword in node.keywords}
            view = node.args[1] if len(node.args) >= 2 else keywords.get("viewset")
            actions: tuple[str, ...] = ("*",)
        else:
            view = receiver
            mapping = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "actions"), None)
            actions = _actions(mapping)
        name = self.names.qualify(view) if view is not None else None
        if name is not None and self.names.is_project(name):
            self.view_routes.append((name, actions))

    def _caller(self) -> str:
        return self.functions[-1].qualified if self.functions else self.module

    def _path(self, name: str) -> str:
        owner = self.functions[-1].qualified if self.functions else (
            self.classes[-1].qualified if self.classes else self.module
        )
        if self.classes and (not self.functions or self.classes[-1].qualified.startswith(self.functions[-1].qualified)):
            owner = self.classes[-1].qualified
        return f"{owner}.{name}" if owner else name

    # -- functions ------------------------------------------------------------------------------
    def _is_atomic(self, node: ast.expr) -> bool:
        target = node.func if isinstance(node, ast.Call) else node
        return self.names.qualify(target) in ATOMIC

    def _enter_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        qualified = self._path(node.name)
        at_module_level = not self.functions and not self.classes
        arguments = node.args
        state = _Function(
            qualified,
            parameters=frozenset(a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]),
        )
        decorators: list[str] = []
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            decorator_name = self.names.qualify(target)
            if decorator_name in CONTEXT_MANAGER or dotted_name(target) in ("contextmanager", "asynccontextmanager"):
                state.context_manager = True
            elif decorator_name is not None and self.names.is_project(decorator_name):
                decorators.append(decorator_name)
            if self._is_atomic(decorator):
                state.atomic_depth = 1
            elif dotted_name(target) in ("receiver", "dispatch.receiver") or self.names.qualify(target) == (
                "django.dispatch.receiver"
            ):
                if isinstance(decorator, ast.Call):
                    self._receiver(qualified, decorator)
            elif at_module_level:
                self._task_declaration(node, qualified, decorator, target)
            elif self.functions:
                self._applies_decorator(target, decorator)
        state.decorators = tuple(decorators)
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            annotation = argument.annotation
            if isinstance(annotation, (ast.Name, ast.Attribute)) and _names_a_class(annotation):
                state.rows[argument.arg] = self.names.qualify(annotation) or dotted_name(annotation) or ""
        state.view = self._is_view(node)
        if self.functions:
            self.functions[0].defines_functions = True
        self.functions.append(state)

    def _is_view(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """A view function (first parameter ``request``) or a method of a ``*View``/``*ViewSet`` class."""
        if isinstance(node, ast.AsyncFunctionDef) or self.functions:
            return False
        arguments = [*node.args.posonlyargs, *node.args.args]
        if not arguments:
            return False
        if not self.classes:
            return arguments[0].arg == "request"
        return len(self.classes) == 1 and self.classes[0].view and arguments[0].arg == "self"

    def _task_declaration(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, qualified: str, decorator: ast.expr, target: ast.expr
    ) -> None:
        options = decorator.keywords if isinstance(decorator, ast.Call) else []
        bind = any(k.arg == "bind" and isinstance(k.value, ast.Constant) and k.value.value is True for k in options)
        base_node = next((k.value for k in options if k.arg == "base"), None)
        base = (self.names.qualify(base_node) or dotted_name(base_node)) if base_node is not None else None
        if self.names.is_task_decorator(target):
            self.tasks.append(_task(node, qualified, bind, base, None, self.names))
            return
        name = self.names.qualify(target)
        if name is not None and self.names.is_project(name):
            self.task_candidates.append(_task(node, qualified, bind, base, name, self.names))

    def _applies_decorator(self, target: ast.expr, decorator: ast.expr) -> None:
        """A nested function decorated inside a module-level function: the outer one may be a decorator."""
        top = self.functions[0]
        if self.names.is_task_decorator(target):
            top.applies_celery = True
            return
        name = self.names.qualify(target)
        if name is not None and self.names.is_project(name) and name != top.qualified:
            top.applies_project.add(name)

    def _leave_function(self) -> None:
        state = self.functions.pop()
        # A context manager yielding inside ``atomic`` or a project context manager; a function returning
        # ``atomic(...)`` on some path (only then: most functions return a project function's result).
        if any(
            name in ATOMIC or (state.context_manager and self.names.is_project(name))
            for names in state.wraps
            for name in names
        ):
            self.atomic_wrapper_candidates.extend((state.qualified, names) for names in state.wraps)
        if state.returned is not None:
            draft = state.returned
            self.sessions.append(
                SessionFact(state.qualified, draft.timeout, "factory", draft.makes, tuple(draft.adapters))
            )
        if not self.functions and not self.classes:
            if state.applies_celery:
                self.task_decorators.append(state.qualified)
            elif state.applies_project:
                self.decorator_candidates.append((state.qualified, tuple(sorted(state.applies_project))))

    def _leave_with(self, atomic: int, guards: int) -> None:
        if self.functions and guards:
            del self.functions[-1].guards[-guards:]
        if self.functions and atomic:
            state = self.functions[-1]
            state.atomic_depth -= atomic
            if state.lock_depth > state.atomic_depth:
                state.lock_depth = 0

    def _yield(self) -> None:
        """A ``yield`` of a ``@contextmanager``: the context managers around it are what it wraps."""
        if self.functions and self.functions[-1].context_manager:
            state = self.functions[-1]
            state.wraps.append(tuple(state.guards))

    # -- classes --------------------------------------------------------------------------------
    def _enter_class(self, node: ast.ClassDef) -> None:
        qualified = self._path(node.name)
        if not self.functions:
            model, task_base, session = ClassReader(node, qualified, self.names).facts()
            if model is not None:
                self.models.append(model)
            if task_base is not None:
                self.task_bases.append(task_base)
            if session is not None:
                self.sessions.append(session)
        view = not self.functions and not self.classes and any(
            (dotted_name(base) or "").rpartition(".")[2].endswith(("View", "ViewSet")) for base in node.bases
        )
        self.classes.append(_Class(qualified, view=view))

    def _leave_class(self) -> None:
        state = self.classes.pop()
        for attribute, draft in state.holders.items():
            self.sessions.append(
                SessionFact(
                    f"{state.qualified}.{attribute}", draft.timeout, "holder", draft.makes, tuple(draft.adapters)
                )
            )

    # -- sessions -------------------------------------------------------------------------------
    def _session_maker(self, value: ast.expr) -> str | None:
        """What a call builds when it may build a session: ``requests.Session()``, a project factory or class."""
        if not isinstance(value, ast.Call):
            return None
        qualified = self.names.qualify(value.func)
        if qualified is None:
            return None
        if qualified in SESSION_ROOTS:
            return qualified
        if self.names.is_project(qualified) and "session" in qualified.rpartition(".")[2].lower():
            return qualified
        return None

    def _draft_for(self, node: ast.expr) -> _SessionDraft | None:
        if not self.functions:
            return None
        key = dotted_name(node)
        if key is None:
            return None
        found = self.functions[-1].drafts.get(key)
        if found is None and key.startswith("self.") and self.classes:
            found = self.classes[-1].holders.get(key[5:])
        return found

    def _assign(self, node: ast.Assign) -> None:
        if len(node.targets) != 1:
            return
        target = node.targets[0]
        value = node.value
        if isinstance(target, ast.Attribute):
            if target.attr == "task_serializer" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                if isinstance(target.value, ast.Attribute) and target.value.attr == "conf":
                    self.settings = self.settings._replace(task_serializer=value.value)
                    return
            if target.attr == "request" and isinstance(value, ast.Call) and self._is_partial(value):
                draft = self._draft_for(target.value)
                if draft is not None and any(keyword.arg == "timeout" for keyword in value.keywords):
                    draft.timeout = True
                return
        if not self.functions:
            if not self.classes and isinstance(target, ast.Name) and self._is_task_decorator_value(value):
                self.task_decorators.append(f"{self.module}.{target.id}" if self.module else target.id)
            return
        if isinstance(target, ast.Name):
            row = self._row_model(value)
            if row is None:
                self.functions[-1].rows.pop(target.id, None)
            else:
                self.functions[-1].rows[target.id] = row
        maker = self._session_maker(value)
        if maker is None:
            return
        draft = _SessionDraft(maker)
        if isinstance(target, ast.Name):
            self.functions[-1].drafts[target.id] = draft
        elif (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
            and self.classes
        ):
            self.classes[-1].holders[target.attr] = draft
            self.functions[-1].drafts[f"self.{target.attr}"] = draft

    def _is_task_decorator_value(self, value: ast.expr) -> bool:
        """``my_task = shared_task`` or ``my_task = app.task(queue="q")``: a task decorator by another name."""
        if isinstance(value, ast.Call) and not value.args:
            value = value.func
        return isinstance(value, (ast.Name, ast.Attribute)) and self.names.is_task_decorator(value)

    def _is_partial(self, call: ast.Call) -> bool:
        return self.names.qualify(call.func) in PARTIAL or dotted_name(call.func) in ("partial", "functools.partial")

    def _return(self, node: ast.Return) -> None:
        if not self.functions:
            return
        state = self.functions[-1]
        if not state.context_manager:
            # ``return transaction.atomic(using=db)``: the function is a wrapper when every return is one.
            value = node.value
            returned = self.names.qualify(value.func) if isinstance(value, ast.Call) else None
            state.wraps.append((returned,) if returned is not None else ())
        if node.value is None:
            return
        if isinstance(node.value, ast.Name):
            state.returned = state.drafts.get(node.value.id) or state.returned
            return
        maker = self._session_maker(node.value)
        if maker is not None:
            state.returned = _SessionDraft(maker)

    # -- calls ----------------------------------------------------------------------------------
    def _call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            attribute = func.attr
            if attribute == "select_for_update":
                if self.functions and self.functions[-1].atomic_depth and not self.functions[-1].lock_depth:
                    self.functions[-1].lock_depth = self.functions[-1].atomic_depth
                return
            if attribute == "connect" and node.args:
                self._connect(func.value, node)
            elif attribute in _SIGNAL_SENDS and node.keywords and self.functions:
                self._signal_send(func.value, node)
            elif attribute == "mount" and len(node.args) == 2 and isinstance(node.args[1], ast.Call):
                draft = self._draft_for(func.value)
                adapter = self.names.qualify(node.args[1].func)
                if draft is not None and adapter is not None:
                    draft.adapters.append(adapter)
            elif attribute == "as_view" or (attribute == "register" and (len(node.args) >= 2 or node.keywords)):
                self._route(attribute, func.value, node)
            elif attribute == "update" and isinstance(func.value, ast.Attribute) and func.value.attr == "conf":
                for keyword in node.keywords:
                    if keyword.arg == "task_serializer" and isinstance(keyword.value, ast.Constant):
                        if isinstance(keyword.value.value, str):
                            self.settings = self.settings._replace(task_serializer=keyword.value.value)
        qualified = self.names.qualify(func)
        if qualified in CELERY_APP or (qualified is None and isinstance(func, ast.Name) and func.id == "Celery"):
            for keyword in node.keywords:
                if keyword.arg == "task_cls":
                    self.settings = self.settings._replace(task_cls=self._class_reference(keyword.value))
            return
        if self.functions and node.args:
            self._decorator_application(node)
        if id(node) in self.skipped_calls:
            return
        if node.args and (qualified in ON_COMMIT or (isinstance(func, ast.Attribute) and func.attr == "on_commit")):
            # ``transaction.on_commit(f)``, or a connection's (``connections[alias].on_commit(f)``), which
            # ``transaction.on_commit`` calls (django/db/backends/base/base.py).
            self._on_commit(node.args[0])
            return
        callee = self._callee(func, qualified)
        if callee is not None:
            self.calls.append((sys.intern(callee), self._site(node, on_commit=False)))

    def _callee(self, func: ast.expr, qualified: str | None = None) -> str | None:
        """The project function a call names: ``f(...)`` or ``module.f(...)``, never a method chain."""
        if isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
                return self._private_method(func.attr)
            # ``module.function(...)``; ``Class.method(...)`` and method chains are not tracked.
            if not isinstance(func.value, ast.Name) or not func.value.id[:1].islower():
                return None
            name = func.attr
        elif isinstance(func, ast.Name):
            name = func.id
        else:
            return None
        if not (name[:1].islower() or name[:1] == "_"):
            return None  # a class: building an instance is not a call of project code worth tracking
        qualified = qualified or self.names.qualify(func)
        if qualified is None or not self.names.is_project(qualified):
            return None
        return qualified

    def _private_method(self, name: str) -> str | None:
        """``self._name(...)``/``cls._name(...)`` in a method: the class's private method (by convention only
        its own class calls it, so these are all its calls); public methods are called from anywhere."""
        private = name.startswith("_") and not name.endswith("__")
        if not private or not self.classes or not self.functions:
            return None
        owner = self.classes[-1].qualified
        return f"{owner}.{name}" if self.functions[-1].qualified.startswith(owner + ".") else None

    def _site(self, call: ast.Call, on_commit: bool) -> CallSiteFact:
        literal = [str(index) for index, argument in enumerate(call.args) if isinstance(argument, _LITERAL_CONTAINERS)]
        literal += [k.arg for k in call.keywords if k.arg is not None and isinstance(k.value, _LITERAL_CONTAINERS)]
        if not self.functions:
            return CallSiteFact(self._caller(), on_commit, False, name_set(literal))
        state = self.functions[-1]
        guards = name_set(name for name in (*state.guards, *state.decorators) if self.names.is_project(name))
        return CallSiteFact(
            self._caller(), on_commit, state.lock_depth > 0, name_set(literal),
            atomic=state.atomic_depth > 0, view=state.view, guards=guards,
        )

    def _on_commit(self, callback: ast.expr) -> None:
        inner: ast.Call | None = None
        if isinstance(callback, ast.Lambda) and isinstance(callback.body, ast.Call):
            inner = callback.body
            func = inner.func
        elif isinstance(callback, ast.Call) and self._is_partial(callback) and callback.args:
            func = callback.args[0]
            inner = ast.Call(func, callback.args[1:], callback.keywords)
            self.skipped_calls.add(id(callback))
        else:
            func = callback
        if inner is not None:
            self.skipped_calls.add(id(inner))
        callee = self._callee(func)
        if callee is not None:
            self.calls.append((sys.intern(callee), self._site(inner or ast.Call(func, [], []), on_commit=True)))

    def _decorator_application(self, node: ast.Call) -> None:
        """``shared_task(**kw)(func)``, ``app.task(func)`` or a project function applied the same way."""
        func = node.func
        applied = func.func if isinstance(func, ast.Call) else func
        top = self.functions[0]
        if self.names.is_task_decorator(applied):
            top.applies_celery = True
            return
        argument = node.args[0]
        if isinstance(argument, ast.Name) and (
            top.defines_functions or isinstance(func, ast.Call) or argument.id in top.parameters
        ):
            name = self.names.qualify(applied)
            if name is not None and self.names.is_project(name) and name != top.qualified:
                top.applies_project.add(name)

    def _class_reference(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value.replace(":", ".")
        return self.names.qualify(node) or dotted_name(node)

    # -- receivers ------------------------------------------------------------------------------
    def _receiver(self, qualified: str, decorator: ast.Call) -> None:
        if not decorator.args:
            return
        signals = decorator.args[0]
        items = signals.elts if isinstance(signals, (ast.List, ast.Tuple)) else [signals]
        sender = self._sender(decorator)
        for item in items:
            signal = (dotted_name(item) or "").rpartition(".")[2]
            if signal not in SIGNALS:
                signal = self._project_signal(item) or signal
            if signal:
                self.receivers.append(ReceiverFact(qualified, signal, sender))

    def _connect(self, signal_node: ast.expr, call: ast.Call) -> None:
        signal = (dotted_name(signal_node) or "").rpartition(".")[2]
        if signal not in SIGNALS:
            signal = self._project_signal(signal_node) or ""
            if not signal:
                return
        handler = self.names.qualify(call.args[0])
        if handler is not None:
            self.receivers.append(ReceiverFact(handler, signal, self._sender(call)))

    def _project_signal(self, node: ast.expr) -> str | None:
        """The qualified name of a signal the project defines (``documents.signals.document_updated``)."""
        qualified = self.names.qualify(node)
        return qualified if qualified is not None and self.names.is_project(qualified) else None

    def _signal_send(self, signal_node: ast.expr, call: ast.Call) -> None:
        """``signal.send(sender=..., document=doc)`` of a project signal, ``doc`` a row: what its receivers get."""
        signal = self._project_signal(signal_node)
        if signal is None:
            return
        rows = self.functions[-1].rows
        for keyword in call.keywords:
            if keyword.arg is not None and keyword.arg != "sender" and isinstance(keyword.value, ast.Name):
                model = rows.get(keyword.value.id)
                if model:
                    self.signal_arguments.append(SignalArgumentFact(signal, keyword.arg, model))

    def _row_model(self, value: ast.expr) -> str | None:
        """The model class of a row ``value`` fetches or builds: ``Model(...)``,
        ``Model.<manager>...get()`` (``create``, ``first``, ``last``, ``latest``, ``earliest``)."""
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            return None
        func = value.func
        if isinstance(func, (ast.Name, ast.Attribute)) and _names_a_class(func):
            return self.names.qualify(func) or dotted_name(func)
        if not isinstance(func, ast.Attribute) or func.attr not in _ROW_METHODS:
            return None
        node = func.value
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
        if isinstance(node, ast.Attribute) and isinstance(node.value, (ast.Name, ast.Attribute)):
            if _names_a_class(node.value) and not node.attr[:1].isupper():
                return self.names.qualify(node.value) or dotted_name(node.value)
        return None

    def _sender(self, call: ast.Call) -> str | None:
        for keyword in call.keywords:
            if keyword.arg == "sender":
                return self._class_reference(keyword.value)
        return None


def _names_a_class(node: ast.expr) -> bool:
    """``Order`` or ``models.Order``: a name whose last part is capitalized."""
    return (dotted_name(node) or "").rpartition(".")[2][:1].isupper()


def _annotation_model(node: ast.expr | None, names: Names) -> str | None:
    """The class an annotation names, through containers and optionals (``list[Order]``, ``Order | None``)."""
    while node is not None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node = _parse_annotation(node.value)
            continue
        if isinstance(node, (ast.Name, ast.Attribute)):
            return names.qualify(node) or dotted_name(node)
        if isinstance(node, ast.Subscript):
            container = (dotted_name(node.value) or "").rpartition(".")[2]
            if container not in _CONTAINERS:
                return None
            inner = node.slice
            if isinstance(inner, ast.Tuple):
                inner = next((item for item in inner.elts if not _is_none(item)), None)  # type: ignore[assignment]
            node = inner
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            node = node.right if _is_none(node.left) else node.left
        else:
            return None
    return None


def _parse_annotation(text: str) -> ast.expr | None:
    """A string annotation (``"Order | None"``) as an expression, or None when it is not one."""
    if len(text) > 200:
        return None
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _actions(mapping: ast.expr | None) -> tuple[str, ...]:
    """The actions a literal ``{"get": "list", ...}`` names; ``("*",)`` for anything else."""
    if not isinstance(mapping, ast.Dict):
        return ("*",)
    actions: set[str] = set()
    for value in mapping.values:
        if not isinstance(value, ast.Constant) or not isinstance(value.value, str):
            return ("*",)
        actions.add(value.value)
    return tuple(sorted(actions))


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _task(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    qualified: str,
    bind: bool,
    base: str | None,
    decorator: str | None,
    names: Names,
) -> TaskFact:
    arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    if bind and arguments:
        arguments = arguments[1:]
    model_parameters = []
    for argument in arguments:
        model = _annotation_model(argument.annotation, names)
        if model is not None:
            model_parameters.append((argument.arg, model))
    return TaskFact(
        qualified,
        parameters=tuple(argument.arg for argument in arguments),
        model_parameters=tuple(model_parameters),
        base=base,
        bind=bind,
        decorator=decorator,
        any_keyword=node.args.kwarg is not None,
    )


def extract(
    tree: ast.Module, module: str, is_package: bool = False, packages: frozenset[str] = frozenset()
) -> ModuleFacts:
    """The facts of one module; ``packages`` are the project's top-level names (what counts as project code)."""
    return _Extractor(tree, module, is_package, packages).run()
