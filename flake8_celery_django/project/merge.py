"""Every module's candidate facts made into the project's facts, once all modules are read.

A class is a model when its bases lead to Django's ``Model``, wherever those bases are defined; a
function is a task decorator when it applies Celery's decorator or another task decorator; a
relation's target is resolved and its reverse side is added to the model it points to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from flake8_celery_django.project.classes import USER_MODEL_SETTING
from flake8_celery_django.project.facts import (
    FieldFact,
    ModelFact,
    ModuleFacts,
    ReceiverFact,
    SessionFact,
    SettingsFact,
    SignalArgumentFact,
    TaskBaseFact,
    TaskFact,
)
from flake8_celery_django.project.names import ADAPTER_ROOTS, ATOMIC, SESSION_ROOTS, TASK_ROOTS, is_model_root

DJANGO_USER = "django.contrib.auth.models.User"
T = TypeVar("T")


class _Table(dict[str, T]):
    """Facts by qualified name; a name not found is tried by its last component when that is unique."""

    def __init__(self, items: Iterable[tuple[str, T]]) -> None:
        super().__init__(items)
        self.by_last: dict[str, list[str]] = {}
        for name in self:
            self.by_last.setdefault(name.rpartition(".")[2], []).append(name)

    def find(self, name: str | None) -> str | None:
        if not name:
            return None
        if name in self:
            return name
        candidates = self.by_last.get(name.rpartition(".")[2], [])
        return candidates[0] if len(candidates) == 1 else None


def _descends(
    name: str, bases: Mapping[str, tuple[str, ...]], table: _Table[T], is_root: Callable[[str], bool]
) -> bool:
    """Whether a class's bases lead (through project classes) to a library root class."""
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for base in bases.get(current, ()):
            if is_root(base):
                return True
            found = table.find(base)
            if found is not None:
                pending.append(found)
    return False


def _ancestors(name: str, bases: Mapping[str, tuple[str, ...]], table: _Table[T]) -> list[str]:
    """The project classes ``name`` derives from, itself first."""
    order: list[str] = []
    pending = [name]
    while pending:
        current = pending.pop(0)
        if current in order:
            continue
        order.append(current)
        pending.extend(found for found in map(table.find, bases.get(current, ())) if found is not None)
    return order


def merge(modules: Iterable[ModuleFacts]) -> list[ModuleFacts]:
    """The project's facts from every module's candidates."""
    raw = list(modules)
    models = _models(raw)
    task_bases = _task_bases(raw)
    decorators = _task_decorators(raw)
    sessions = _sessions(raw)
    wrappers = _atomic_wrappers(raw)
    merged: list[ModuleFacts] = []
    for facts in raw:
        tasks = [_resolve_task(task, models, task_bases) for task in facts.tasks]
        tasks += [
            _resolve_task(task, models, task_bases)
            for task in facts.task_candidates
            if task.decorator is not None and _find_decorator(task.decorator, decorators)
        ]
        merged.append(
            ModuleFacts(
                module=facts.module,
                models=tuple(models[m.qualified_name] for m in facts.models if m.qualified_name in models),
                task_bases=tuple(
                    task_bases[b.qualified_name] for b in facts.task_bases if b.qualified_name in task_bases
                ),
                tasks=tuple(tasks),
                task_decorators=tuple(name for name in decorators if name.startswith(facts.module + ".")),
                sessions=tuple(sessions[s.qualified_name] for s in facts.sessions if s.qualified_name in sessions),
                receivers=tuple(_resolve_receiver(receiver, models) for receiver in facts.receivers),
                calls=facts.calls,
                settings=_resolve_settings(facts.settings, models, task_bases),
                serializers=facts.serializers,
                atomic_wrappers=tuple(
                    sorted({name for name, _ in facts.atomic_wrapper_candidates if name in wrappers})
                ),
                signal_arguments=_resolve_signal_arguments(facts.signal_arguments, models),
                view_routes=facts.view_routes,
            )
        )
    return merged


def _atomic_wrappers(raw: list[ModuleFacts]) -> set[str]:
    """Functions whose every ``yield`` (or ``return``) is in ``transaction.atomic`` or in another such function."""
    entries: dict[str, list[tuple[str, ...]]] = {}
    for facts in raw:
        for name, wrapped in facts.atomic_wrapper_candidates:
            entries.setdefault(name, []).append(wrapped)
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, uses in entries.items():
            if name not in found and all(any(item in ATOMIC or item in found for item in names) for names in uses):
                found.add(name)
                changed = True
    return found


# -- models -------------------------------------------------------------------------------------
def _models(raw: list[ModuleFacts]) -> _Table[ModelFact]:
    candidates = _Table((model.qualified_name, model) for facts in raw for model in facts.models)
    bases = {name: model.bases for name, model in candidates.items()}
    names = [name for name in candidates if _descends(name, bases, candidates, is_model_root)]
    found = _Table((name, candidates[name]) for name in names)
    user_model = None
    for facts in raw:
        if facts.settings.user_model:
            user_model = _model_from_string(facts.settings.user_model, found, "") or user_model
    resolved: dict[str, ModelFact] = {}
    reverse: dict[str, list[FieldFact]] = {}
    for name in names:
        model = found[name]
        fields = []
        for item in model.fields:
            if item.is_relation:
                target = _target(item.target, name, found, user_model)
                item = item._replace(target=target)
            fields.append(item)
        resolved[name] = model._replace(fields=tuple(fields))
    models = _Table(resolved.items())
    for name, model in resolved.items():
        if model.abstract:
            continue
        for owner in _ancestors(name, bases, models):
            declared = models.get(owner)
            if declared is None or (owner != name and not declared.abstract):
                continue
            for item in declared.fields:
                _add_reverse(item, model, owner, models, reverse)
    for name, extra in reverse.items():
        model = models[name]
        own = {item.name for item in model.fields}
        models[name] = model._replace(fields=model.fields + tuple(item for item in extra if item.name not in own))
    for name, model in models.items():
        if model.save_reads:
            known = _field_names(name, bases, models)
            models[name] = model._replace(save_reads=model.save_reads & known)
    return models


def _field_names(name: str, bases: Mapping[str, tuple[str, ...]], models: _Table[ModelFact]) -> frozenset[str]:
    names: set[str] = set()
    for owner in _ancestors(name, bases, models):
        model = models.get(owner)
        if model is not None:
            for item in model.fields:
                names.add(item.name)
                if item.is_relation and not item.reverse and item.kind != "generic_foreign_key":
                    names.add(item.name + "_id")
    return frozenset(names)


def _model_from_string(text: str, models: _Table[ModelFact], near: str) -> str | None:
    """``"shop.Order"`` (app label and class name), ``"Order"`` or a dotted path, as a project model."""
    if text in models:
        return text
    app, _, class_name = text.rpartition(".")
    candidates = models.by_last.get(class_name, [])
    if len(candidates) == 1:
        return candidates[0]
    narrowed = [name for name in candidates if app and app in name.split(".")]
    if len(narrowed) == 1:
        return narrowed[0]
    top = near.partition(".")[0]
    narrowed = [name for name in candidates if name.partition(".")[0] == top]
    return narrowed[0] if len(narrowed) == 1 else None


def _target(raw: str | None, own: str, models: _Table[ModelFact], user_model: str | None) -> str | None:
    if raw is None:
        return None
    if raw == USER_MODEL_SETTING:
        return user_model or DJANGO_USER
    if raw in models:
        return raw
    return _model_from_string(raw, models, own)


def _app_label(qualified: str) -> str:
    parts = qualified.split(".")
    if "models" in parts[1:]:
        return parts[parts.index("models", 1) - 1]
    return parts[-2] if len(parts) > 1 else parts[0]


def _add_reverse(
    item: FieldFact, model: ModelFact, owner: str, models: _Table[ModelFact], reverse: dict[str, list[FieldFact]]
) -> None:
    if not item.is_relation or item.reverse or item.kind in ("generic", "generic_foreign_key") or item.target is None:
        return
    target = model.qualified_name if item.target == owner else item.target
    if target not in models:
        return
    related = item.related_name
    if related is not None and related.endswith("+"):
        return
    lower = model.name.lower()
    if related is None:
        related = lower if item.kind == "one_to_one" else f"{lower}_set"
    else:
        related = related.replace("%(class)s", lower).replace("%(app_label)s", _app_label(model.qualified_name).lower())
    reverse.setdefault(target, []).append(FieldFact(related, item.kind, model.qualified_name, reverse=True))


# -- tasks --------------------------------------------------------------------------------------
def _task_bases(raw: list[ModuleFacts]) -> _Table[TaskBaseFact]:
    candidates = _Table((base.qualified_name, base) for facts in raw for base in facts.task_bases)
    bases = {name: base.bases for name, base in candidates.items()}
    names = [name for name in candidates if _descends(name, bases, candidates, TASK_ROOTS.__contains__)]
    found = _Table((name, candidates[name]) for name in names)
    resolved: dict[str, TaskBaseFact] = {}
    for name in names:
        lineage = [found[owner] for owner in _ancestors(name, bases, found) if owner in found]
        resolved[name] = found[name]._replace(
            defers_to_on_commit=any(base.defers_to_on_commit for base in lineage),
            resolves_keys=any(base.resolves_keys for base in lineage),
            autoretry_for=any(base.autoretry_for for base in lineage),
            retry_backoff=any(base.retry_backoff for base in lineage),
        )
    return _Table(resolved.items())


def _task_decorators(raw: list[ModuleFacts]) -> list[str]:
    known = {name for facts in raw for name in facts.task_decorators}
    pending = {name: callees for facts in raw for name, callees in facts.decorator_candidates}
    changed = True
    while changed:
        changed = False
        table = _Table((name, True) for name in known)
        for name, callees in list(pending.items()):
            if any(table.find(callee) for callee in callees):
                known.add(name)
                del pending[name]
                changed = True
    return sorted(known)


def _find_decorator(name: str, decorators: list[str]) -> bool:
    return _Table((item, True) for item in decorators).find(name) is not None


def _resolve_task(task: TaskFact, models: _Table[ModelFact], task_bases: _Table[TaskBaseFact]) -> TaskFact:
    model_parameters = []
    for parameter, annotation in task.model_parameters:
        found = _model_from_string(annotation, models, task.qualified_name)
        if found is not None:
            model_parameters.append((parameter, found))
    base = task_bases.find(task.base) or task.base
    return task._replace(model_parameters=tuple(model_parameters), base=base)


# -- sessions -----------------------------------------------------------------------------------
def _sessions(raw: list[ModuleFacts]) -> dict[str, SessionFact]:
    every = _Table((session.qualified_name, session) for facts in raw for session in facts.sessions)
    classes = _Table((name, s) for name, s in every.items() if s.kind in ("class", "adapter"))
    bases = {name: (s.makes,) if s.makes else () for name, s in classes.items()}
    adapters = {
        name: any(classes[owner].sets_default_timeout for owner in _ancestors(name, bases, classes))
        for name in classes
        if _descends(name, bases, classes, ADAPTER_ROOTS.__contains__)
    }
    session_classes = {
        name: any(classes[owner].sets_default_timeout for owner in _ancestors(name, bases, classes))
        for name in classes
        if _descends(name, bases, classes, SESSION_ROOTS.__contains__)
    }
    adapter_table = _Table(adapters.items())
    class_table = _Table(session_classes.items())
    result: dict[str, SessionFact] = {}

    def resolve(name: str, depth: int = 0) -> bool | None:
        """Whether the session ``name`` makes sets a timeout; None when it makes no session."""
        fact = every.get(name)
        if fact is None or depth > 20:
            return None
        if fact.kind in ("class", "adapter"):
            return session_classes.get(name)
        makes = fact.makes
        if makes in SESSION_ROOTS:
            inherited: bool | None = False
        else:
            found_class = class_table.find(makes)
            if found_class is not None:
                inherited = session_classes[found_class]
            else:
                found = every.find(makes)
                inherited = resolve(found, depth + 1) if found is not None and found != name else None
        if inherited is None:
            return None
        adapter_timeout = any(adapters.get(adapter_table.find(a) or "", False) for a in fact.adapters)
        return inherited or fact.sets_default_timeout or adapter_timeout

    for name, fact in every.items():
        if fact.kind == "adapter" or name in adapters:
            continue
        timeout = resolve(name)
        if timeout is not None:
            result[name] = fact._replace(sets_default_timeout=timeout)
    return result


# -- receivers and settings ---------------------------------------------------------------------
def _resolve_signal_arguments(
    arguments: tuple[SignalArgumentFact, ...], models: _Table[ModelFact]
) -> tuple[SignalArgumentFact, ...]:
    """The rows sent through project signals whose model is one of the project's."""
    resolved = []
    for argument in arguments:
        model = models.find(argument.model)
        if model is not None:
            resolved.append(argument._replace(model=model))
    return tuple(resolved)


def _resolve_receiver(receiver: ReceiverFact, models: _Table[ModelFact]) -> ReceiverFact:
    if receiver.sender is None:
        return receiver
    found = _model_from_string(receiver.sender, models, receiver.qualified_name)
    return receiver._replace(sender=found or receiver.sender)


def _resolve_settings(settings: SettingsFact, models: _Table[ModelFact], bases: _Table[TaskBaseFact]) -> SettingsFact:
    user_model = settings.user_model
    if user_model:
        user_model = _model_from_string(user_model, models, "") or user_model
    task_cls = bases.find(settings.task_cls) or settings.task_cls
    return settings._replace(user_model=user_model, task_cls=task_cls)
