"""Facts from one class body: a model's fields and options, a task base's behaviour, a session's timeout.

Which classes really are models, task bases or sessions is decided when every module has been read
(their bases may live in other modules); this only reads what the class itself says.
"""

from __future__ import annotations

import ast

from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.project.constraints import MetaFacts, has_constant_default, read_meta
from flake8_celery_django.project.facts import (
    NO_NAMES,
    FieldFact,
    FieldKind,
    ModelFact,
    SessionFact,
    TaskBaseFact,
    name_set,
)
from flake8_celery_django.project.model_methods import returned_self_attribute
from flake8_celery_django.project.names import (
    ADAPTER_ROOTS,
    ON_COMMIT,
    SESSION_ROOTS,
    TASK_ROOTS,
    Names,
    is_model_root,
)

USER_MODEL_SETTING = "<AUTH_USER_MODEL>"
GENERIC_FOREIGN_KEY = "GenericForeignKey"
_FETCHES = frozenset({"get", "get_object_or_404", "in_bulk"})


def field_kind(class_name: str) -> FieldKind | None:
    """The kind of a field from its class name (``ForeignKey``, ``TreeForeignKey``, ``CharField``...)."""
    if class_name == GENERIC_FOREIGN_KEY:
        return "generic_foreign_key"
    if class_name.endswith("ForeignKey") or class_name == "ForeignObject":
        return "foreign_key"
    if class_name.endswith("OneToOneField"):
        return "one_to_one"
    if class_name.endswith("ManyToManyField"):
        return "many_to_many"
    if class_name.endswith("GenericRelation"):
        return "generic"
    if class_name.endswith("Field"):
        return "plain"
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and bool(node.value)


def relation_target(node: ast.expr, names: Names, own: str) -> str | None:
    """What a relation points to: a qualified name, ``"app_label.Model"`` as written, or the user-model marker."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return own if node.value == "self" else node.value
    if isinstance(node, ast.Attribute) and node.attr == "AUTH_USER_MODEL":
        return USER_MODEL_SETTING
    return names.qualify(node) or dotted_name(node)


class ClassReader:
    """Reads one class statement; :meth:`facts` gives the candidate facts it supports."""

    def __init__(self, node: ast.ClassDef, qualified: str, names: Names) -> None:
        self.node = node
        self.qualified = qualified
        self.names = names
        self.bases = tuple(_base_name(base, names) for base in node.bases)
        self.project_based = any(base and names.is_project(base) for base in self.bases)

    def _based_on(self, roots: frozenset[str]) -> bool:
        return self.project_based or any(base in roots for base in self.bases)

    def facts(self) -> tuple[ModelFact | None, TaskBaseFact | None, SessionFact | None]:
        model = self.model() if self.project_based or any(map(is_model_root, self.bases)) else None
        task_base = self.task_base() if self._based_on(TASK_ROOTS) else None
        session = self.session() if self._based_on(SESSION_ROOTS | ADAPTER_ROOTS) else None
        return model, task_base, session

    # -- models ---------------------------------------------------------------------------------
    def model(self) -> ModelFact:
        fields: list[FieldFact] = []
        managers: set[str] = set()
        meta = MetaFacts()
        save: ast.FunctionDef | ast.AsyncFunctionDef | None = None
        overrides_delete = False
        methods: set[str] = set()
        method_returns: list[tuple[str, str]] = []
        for statement in self.node.body:
            if isinstance(statement, (ast.Assign, ast.AnnAssign)):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                value = statement.value
                if len(targets) != 1 or not isinstance(targets[0], ast.Name) or not isinstance(value, ast.Call):
                    continue
                name = targets[0].id
                found = self._field(name, value)
                if found is not None:
                    fields.append(found)
                elif _is_manager(value):
                    managers.add(name)
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                methods.add(statement.name)
                returned = returned_self_attribute(statement)
                if returned is not None:
                    method_returns.append((statement.name, returned))
                if statement.name == "save":
                    save = statement
                elif statement.name == "delete":
                    overrides_delete = True
            elif isinstance(statement, ast.ClassDef) and statement.name == "Meta":
                meta = read_meta(statement)
        return ModelFact(
            self.qualified,
            bases=self.bases,
            abstract=meta.abstract,
            fields=tuple(fields),
            unique_together=meta.unique_together,
            managers=name_set(managers),
            overrides_save=save is not None,
            overrides_delete=overrides_delete,
            save_reads=_self_reads(save) if save is not None else NO_NAMES,
            opaque_constraints=meta.opaque_constraints,
            methods=name_set(methods),
            method_returns=tuple(method_returns),
            unique_when_null=meta.unique_when_null,
            unique_when_set=meta.unique_when_set,
        )

    def _field(self, name: str, call: ast.Call) -> FieldFact | None:
        class_name = (dotted_name(call.func) or "").rpartition(".")[2]
        kind = field_kind(class_name)
        if kind is None:
            return None
        target = None
        related_name = None
        if kind not in ("plain", "generic_foreign_key"):  # a generic key's arguments name its two columns
            to = call.args[0] if call.args else _keyword(call, "to")
            target = relation_target(to, self.names, self.qualified) if to is not None else None
            related = _keyword(call, "related_name")
            if isinstance(related, ast.Constant) and isinstance(related.value, str):
                related_name = related.value
        unique = kind == "one_to_one" or _true(_keyword(call, "unique")) or _true(_keyword(call, "primary_key"))
        return FieldFact(
            name, kind, target, unique, field_class=class_name, related_name=related_name,
            constant_default=has_constant_default(call),
        )

    # -- task bases -----------------------------------------------------------------------------
    def task_base(self) -> TaskBaseFact:
        defers = resolves = autoretry = backoff = False
        for statement in self.node.body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                if isinstance(target, ast.Name) and target.id == "autoretry_for":
                    autoretry = not (isinstance(statement.value, (ast.Tuple, ast.List)) and not statement.value.elts)
                elif isinstance(target, ast.Name) and target.id == "retry_backoff":
                    value = statement.value
                    backoff = not (isinstance(value, ast.Constant) and not value.value)
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if statement.name in ("apply_async", "delay"):
                    defers = defers or self._calls_on_commit(statement)
                elif statement.name in ("__call__", "before_start"):
                    resolves = resolves or _fetches_rows(statement)
        return TaskBaseFact(self.qualified, self.bases, defers, resolves, autoretry, backoff)

    def _calls_on_commit(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and (
                self.names.qualify(node.func) in ON_COMMIT
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "on_commit")
            ):
                return True
        return False

    # -- sessions and adapters ------------------------------------------------------------------
    def session(self) -> SessionFact:
        adapter = any(base in ADAPTER_ROOTS or base.endswith("Adapter") for base in self.bases)
        # An adapter's send(); a session's request() or send(), which request() calls with the
        # timeout it was given (requests/sessions.py), so either may fill one in.
        methods = ("send",) if adapter else ("request", "send")
        sets_timeout = any(
            isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
            and statement.name in methods
            and sets_timeout_in(statement)
            for statement in self.node.body
        )
        base = next((base for base in self.bases if base), None)
        return SessionFact(self.qualified, sets_timeout, "adapter" if adapter else "class", base)


def _is_manager(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "as_manager":
        return True
    if isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute) and func.func.attr == "from_queryset":
        return True
    return (dotted_name(func) or "").endswith("Manager")


def _self_reads(function: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str]:
    owner = function.args.args[0].arg if function.args.args else "self"
    return name_set(
        node.attr
        for node in ast.walk(function)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Load)
        and isinstance(node.value, ast.Name)
        and node.value.id == owner
    )


def _fetches_rows(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """``Model.objects.get(pk=...)`` or ``get_object_or_404(...)`` on the task's arguments."""
    for node in ast.walk(function):
        if not isinstance(node, ast.Call) or not (node.args or node.keywords):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "get_object_or_404":
            return True
        if isinstance(func, ast.Attribute) and func.attr in _FETCHES and _on_manager(func.value):
            return True
    return False


def _on_manager(node: ast.expr) -> bool:
    """``Event.objects`` or a queryset built on it (``Event.objects.select_related("organizer")``)."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value
    return isinstance(node, ast.Attribute) and node.attr in ("objects", "_default_manager")


def sets_timeout_in(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> bool:
    """The function gives requests a timeout: ``kwargs.setdefault("timeout", ...)``,
    ``kwargs["timeout"] = ...``, ``timeout=...`` to the call it makes, or a ``timeout`` default."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            if any(keyword.arg == "timeout" for keyword in node.keywords):
                return True
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in ("setdefault", "update")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == "timeout"
            ):
                return True
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
            key = node.slice
            if isinstance(key, ast.Constant) and key.value == "timeout":
                return True
        elif isinstance(node, ast.Name) and node.id == "timeout" and isinstance(node.ctx, ast.Store):
            return True
    return False


def _base_name(base: ast.expr, names: Names) -> str:
    """A base class's qualified name; ``app.Task`` of any Celery application is Celery's ``Task``."""
    if isinstance(base, ast.Attribute) and base.attr == "Task" and names.is_celery_app(base.value):
        return "celery.Task"
    return names.qualify(base) or dotted_name(base) or ""
