"""Module facts to and from JSON values, checked on the way in.

The cache is data: :func:`facts_from_json` accepts only the exact shapes :func:`facts_to_json`
writes and raises :class:`ValueError` on anything else, so a corrupt or crafted cache is rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast, get_args

from flake8_celery_django.project.facts import (
    NO_NAMES,
    CallSiteFact,
    FieldFact,
    FieldKind,
    ModelFact,
    ModuleFacts,
    ReceiverFact,
    SerializerFact,
    SerializerFieldFact,
    SessionFact,
    SessionKind,
    SettingsFact,
    SignalArgumentFact,
    TaskBaseFact,
    TaskFact,
    name_set,
)

_FIELD_KINDS = frozenset(get_args(FieldKind))
_SESSION_KINDS = frozenset(get_args(SessionKind))
# Longest text the cache may hold in one name (anything longer is not a name this index writes).
_MAX_TEXT = 10_000


def _text(value: object) -> str:
    if type(value) is not str or len(value) > _MAX_TEXT:
        raise ValueError("not a name")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _flag(value: object) -> bool:
    if type(value) is not bool:
        raise ValueError("not a boolean")
    return value


def _optional_flag(value: object) -> bool | None:
    return None if value is None else _flag(value)


def _list(value: object, length: int | None = None) -> list[Any]:
    if type(value) is not list or (length is not None and len(value) != length):
        raise ValueError("not a list of the expected length")
    return value


def _texts(value: object) -> tuple[str, ...]:
    items = _list(value)
    for item in items:
        if type(item) is not str or len(item) > _MAX_TEXT:
            raise ValueError("not a name")
    return tuple(items)


# -- to JSON ------------------------------------------------------------------------------------
def _field_to_json(item: FieldFact) -> list[object]:
    return [
        item.name, item.kind, item.target, item.unique, item.reverse, item.field_class, item.related_name,
        item.constant_default,
    ]


# How many items a model's JSON list holds (what :func:`_model_to_json` writes).
_MODEL_ITEMS = 14


def _model_to_json(model: ModelFact) -> list[object]:
    return [
        model.qualified_name, list(model.bases), model.abstract, [_field_to_json(f) for f in model.fields],
        [sorted(together) for together in model.unique_together], sorted(model.managers),
        model.overrides_save, model.overrides_delete, sorted(model.save_reads), model.opaque_constraints,
        sorted(model.methods), [list(pair) for pair in model.method_returns],
        [[sorted(fields), null_field] for fields, null_field in model.unique_when_null],
        [[sorted(fields), set_field] for fields, set_field in model.unique_when_set],
    ]


def _task_to_json(task: TaskFact) -> list[object]:
    return [
        task.qualified_name, list(task.parameters), [list(pair) for pair in task.model_parameters],
        task.base, task.bind, task.decorator, task.any_keyword,
    ]


def facts_to_json(facts: ModuleFacts) -> dict[str, object]:
    """A JSON value for ``facts``; empty kinds are left out."""
    data: dict[str, object] = {"module": facts.module}
    if facts.models:
        data["models"] = [_model_to_json(model) for model in facts.models]
    if facts.task_bases:
        data["task_bases"] = [
            [b.qualified_name, list(b.bases), b.defers_to_on_commit, b.resolves_keys, b.autoretry_for, b.retry_backoff]
            for b in facts.task_bases
        ]
    if facts.tasks:
        data["tasks"] = [_task_to_json(task) for task in facts.tasks]
    if facts.task_candidates:
        data["task_candidates"] = [_task_to_json(task) for task in facts.task_candidates]
    if facts.task_decorators:
        data["task_decorators"] = list(facts.task_decorators)
    if facts.decorator_candidates:
        data["decorator_candidates"] = [[name, list(callees)] for name, callees in facts.decorator_candidates]
    if facts.view_routes:
        data["view_routes"] = [[name, list(actions)] for name, actions in facts.view_routes]
    if facts.sessions:
        data["sessions"] = [
            [s.qualified_name, s.sets_default_timeout, s.kind, s.makes, list(s.adapters)] for s in facts.sessions
        ]
    if facts.receivers:
        data["receivers"] = [[r.qualified_name, r.signal, r.sender] for r in facts.receivers]
    if facts.calls:
        data["calls"] = calls_to_json(facts.calls)
    if facts.settings != SettingsFact():
        s = facts.settings
        data["settings"] = [s.atomic_requests, s.task_serializer, s.task_cls, s.user_model]
    if facts.serializers:
        data["serializers"] = [_serializer_to_json(serializer) for serializer in facts.serializers]
    if facts.atomic_wrappers:
        data["atomic_wrappers"] = list(facts.atomic_wrappers)
    if facts.atomic_wrapper_candidates:
        data["atomic_wrapper_candidates"] = [[name, list(wrapped)] for name, wrapped in facts.atomic_wrapper_candidates]
    if facts.signal_arguments:
        data["signal_arguments"] = [[a.signal, a.keyword, a.model] for a in facts.signal_arguments]
    return data


def _serializer_to_json(serializer: SerializerFact) -> list[object]:
    return [
        serializer.qualified_name, serializer.model, list(serializer.bases),
        [[f.name, f.path, f.many, f.serializer] for f in serializer.fields],
    ]


# -- from JSON ----------------------------------------------------------------------------------
def _field_from_json(value: object) -> FieldFact:
    name, kind, target, unique, reverse, field_class, related_name, constant_default = _list(value, 8)
    # checked in line, without a call per value: a project holds thousands of fields
    if (
        type(name) is not str
        or len(name) > _MAX_TEXT
        or kind not in _FIELD_KINDS
        or (target is not None and (type(target) is not str or len(target) > _MAX_TEXT))
        or type(unique) is not bool
        or type(reverse) is not bool
        or type(field_class) is not str
        or len(field_class) > _MAX_TEXT
        or (related_name is not None and (type(related_name) is not str or len(related_name) > _MAX_TEXT))
        or type(constant_default) is not bool
    ):
        raise ValueError("not a field")
    return FieldFact(name, kind, target, unique, reverse, field_class, related_name, constant_default)


def _model_from_json(value: object) -> ModelFact:
    (name, bases, abstract, fields, together, managers, save, delete, reads, opaque, methods, returns, when_null,
     when_set) = _list(value, _MODEL_ITEMS)
    method_returns = []
    for pair in _list(returns):
        method, attribute = _list(pair, 2)
        method_returns.append((_text(method), _text(attribute)))
    unique_when_null = [_conditional_unique(pair) for pair in _list(when_null)]
    unique_when_set = [_conditional_unique(pair) for pair in _list(when_set)]
    return ModelFact(
        _text(name),
        _texts(bases),
        _flag(abstract),
        tuple(_field_from_json(item) for item in _list(fields)),
        tuple(frozenset(_texts(item)) for item in _list(together)),
        name_set(_texts(managers)),
        _flag(save),
        _flag(delete),
        name_set(_texts(reads)),
        _flag(opaque),
        name_set(_texts(methods)),
        tuple(method_returns),
        tuple(unique_when_null),
        tuple(unique_when_set),
    )


def _conditional_unique(value: object) -> tuple[frozenset[str], str]:
    """``[fields, field]``: a conditional constraint's unique fields and the field its condition names."""
    unique_fields, field = _list(value, 2)
    return frozenset(_texts(unique_fields)), _text(field)


def _task_from_json(value: object) -> TaskFact:
    name, parameters, model_parameters, base, bind, decorator, any_keyword = _list(value, 7)
    pairs = []
    for pair in _list(model_parameters):
        parameter, model = _list(pair, 2)
        pairs.append((_text(parameter), _text(model)))
    return TaskFact(
        _text(name), _texts(parameters), tuple(pairs), _optional_text(base), _flag(bind), _optional_text(decorator),
        _flag(any_keyword),
    )


def _task_base_from_json(value: object) -> TaskBaseFact:
    name, bases, defers, resolves, autoretry, backoff = _list(value, 6)
    return TaskBaseFact(_text(name), _texts(bases), _flag(defers), _flag(resolves), _flag(autoretry), _flag(backoff))


def _session_from_json(value: object) -> SessionFact:
    name, timeout, kind, makes, adapters = _list(value, 5)
    if kind not in _SESSION_KINDS:
        raise ValueError("unknown session kind")
    return SessionFact(_text(name), _flag(timeout), kind, _optional_text(makes), _texts(adapters))


def _receiver_from_json(value: object) -> ReceiverFact:
    name, signal, sender = _list(value, 3)
    return ReceiverFact(_text(name), _text(signal), _optional_text(sender))


def site_to_json(site: CallSiteFact) -> list[object]:
    """A call site as ``[caller, flags]`` (1: on_commit, 2: locked, 4: atomic, 8: view), then the
    literal arguments and the guards if any."""
    flags = int(site.on_commit) | int(site.locked) << 1 | int(site.atomic) << 2 | int(site.view) << 3
    row: list[object] = [site.caller, flags]
    if site.literal_arguments or site.guards:
        row.append(sorted(site.literal_arguments))
    if site.guards:
        row.append(sorted(site.guards))
    return row


def site_from_json(value: object) -> CallSiteFact:
    """What :func:`site_to_json` wrote."""
    row = _list(value)
    if len(row) not in (2, 3, 4) or type(row[1]) is not int or not 0 <= row[1] <= 15:
        raise ValueError("not a call site")
    flags = row[1]
    literal = name_set(_texts(row[2])) if len(row) >= 3 else NO_NAMES
    guards = name_set(_texts(row[3])) if len(row) == 4 else NO_NAMES
    return CallSiteFact(
        _text(row[0]), bool(flags & 1), bool(flags & 2), literal, bool(flags & 4), bool(flags & 8), guards
    )


def calls_to_json(calls: Iterable[tuple[str, CallSiteFact]]) -> list[list[object]]:
    """Call sites as ``[callee, *site_to_json(site)]``."""
    return [[callee, *site_to_json(site)] for callee, site in calls]


def _call_from_json(value: object) -> tuple[str, CallSiteFact]:
    row = _list(value)
    if not row:
        raise ValueError("not a call site")
    return _text(row[0]), site_from_json(row[1:])


def calls_from_json(value: object) -> list[tuple[str, CallSiteFact]]:
    return [_call_from_json(item) for item in _list(value)]


def _serializer_from_json(value: object) -> SerializerFact:
    name, model, bases, fields = _list(value, 4)
    found = []
    for item in _list(fields):
        field_name, path, many, nested = _list(item, 4)
        found.append(SerializerFieldFact(_text(field_name), _text(path), _flag(many), _optional_text(nested)))
    return SerializerFact(_text(name), _optional_text(model), _texts(bases), tuple(found))


def _settings_from_json(value: object) -> SettingsFact:
    atomic, serializer, task_cls, user_model = _list(value, 4)
    return SettingsFact(
        _optional_flag(atomic), _optional_text(serializer), _optional_text(task_cls), _optional_text(user_model)
    )


def _models_from_json(items: list[Any], deferred: list[tuple[str, object]] | None) -> tuple[ModelFact, ...]:
    if deferred is None:
        return tuple(_model_from_json(item) for item in items)
    deferred.extend((stored_model_name(item), item) for item in items)
    return ()


_KEYS = frozenset(
    {
        "module", "models", "task_bases", "tasks", "task_candidates", "task_decorators", "decorator_candidates",
        "sessions", "receivers", "calls", "settings", "serializers", "atomic_wrappers",
        "atomic_wrapper_candidates", "signal_arguments", "view_routes",
    }
)


def model_from_json(value: object) -> ModelFact:
    """A model :func:`facts_to_json` wrote; :class:`ValueError` for anything else."""
    return _model_from_json(value)


def stored_model_name(value: object) -> str:
    """The qualified name of a model as :func:`facts_to_json` wrote it, checked no further."""
    if type(value) is not list or len(value) != _MODEL_ITEMS:
        raise ValueError("not a model")
    return _text(value[0])


def _named_texts(value: object) -> tuple[str, tuple[str, ...]]:
    """``[name, [text, ...]]``."""
    name, texts = _list(value, 2)
    return _text(name), _texts(texts)


def facts_from_json(value: object, deferred_models: list[tuple[str, object]] | None = None) -> ModuleFacts:
    """The facts :func:`facts_to_json` wrote; :class:`ValueError` for anything else.

    With ``deferred_models``, models are only named there, to be decoded (and checked) when first
    looked up: a warm run looks up a few of the project's thousand models.
    """
    if type(value) is not dict or not set(value) <= _KEYS:
        raise ValueError("not module facts")
    data = cast("dict[str, object]", value)
    decorator_candidates = [_named_texts(item) for item in _list(data.get("decorator_candidates", []))]
    view_routes = [_named_texts(item) for item in _list(data.get("view_routes", []))]
    settings = data.get("settings")
    return ModuleFacts(
        module=_text(data.get("module")),
        models=_models_from_json(_list(data.get("models", [])), deferred_models),
        task_bases=tuple(_task_base_from_json(item) for item in _list(data.get("task_bases", []))),
        tasks=tuple(_task_from_json(item) for item in _list(data.get("tasks", []))),
        task_decorators=_texts(data.get("task_decorators", [])),
        sessions=tuple(_session_from_json(item) for item in _list(data.get("sessions", []))),
        receivers=tuple(_receiver_from_json(item) for item in _list(data.get("receivers", []))),
        calls=tuple(_call_from_json(item) for item in _list(data.get("calls", []))),
        settings=SettingsFact() if settings is None else _settings_from_json(settings),
        task_candidates=tuple(_task_from_json(item) for item in _list(data.get("task_candidates", []))),
        decorator_candidates=tuple(decorator_candidates),
        view_routes=tuple(view_routes),
        serializers=tuple(_serializer_from_json(item) for item in _list(data.get("serializers", []))),
        atomic_wrappers=_texts(data.get("atomic_wrappers", [])),
        atomic_wrapper_candidates=tuple(
            _named_texts(item) for item in _list(data.get("atomic_wrapper_candidates", []))
        ),
        signal_arguments=tuple(_signal_argument_from_json(item) for item in _list(data.get("signal_arguments", []))),
    )


def _signal_argument_from_json(value: object) -> SignalArgumentFact:
    signal, keyword, model = _list(value, 3)
    return SignalArgumentFact(_text(signal), _text(keyword), _text(model))
