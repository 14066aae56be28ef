"""The questions rules ask of the project index, answered from every module's facts.

A :class:`ProjectKnowledge` is built once per project (and per set of module facts) and shared by
every file of a run; :data:`NO_PROJECT` answers "unknown" to everything, which is how the rules
behave with the index turned off.  Names given to it may be absolute (``shop.models.Order``) or
relative to the linted module (``.models.Order``); a bare class name is resolved when exactly one
project model (or task base, or task) has it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from flake8_celery_django.project.facts import (
    CallSiteFact,
    FieldFact,
    ModelFact,
    ModuleFacts,
    ReceiverFact,
    SerializerFact,
    SessionFact,
    SettingsFact,
    TaskBaseFact,
    TaskFact,
)
from flake8_celery_django.project.serialize import model_from_json


def absolute_name(name: str, module: str | None, is_package: bool = False) -> str:
    """``.models.Order`` seen from ``shop.views`` is ``shop.models.Order``."""
    if not name.startswith(".") or module is None:
        return name
    level = len(name) - len(name.lstrip("."))
    parts = module.split(".")
    keep = len(parts) - level + (1 if is_package else 0)
    if keep < 0:
        return name.lstrip(".")
    prefix = ".".join(parts[:keep])
    rest = name[level:]
    return f"{prefix}.{rest}" if prefix and rest else prefix or rest


class _ByName:
    """A table of facts by qualified name, with a fallback on a unique last component."""

    __slots__ = ("exact", "by_last")

    def __init__(self) -> None:
        self.exact: dict[str, object] = {}
        self.by_last: dict[str, list[str]] = {}

    def add(self, qualified: str, fact: object) -> None:
        self.exact[qualified] = fact
        self.by_last.setdefault(qualified.rpartition(".")[2], []).append(qualified)

    def has_last(self, last: str) -> bool:
        """Whether some fact's name ends with ``last``: :meth:`get` finds nothing for any other name."""
        return last in self.by_last

    def get(self, name: str) -> object | None:
        found = self.exact.get(name)
        if found is not None:
            return found
        # ``shop.models.Order`` imported as ``shop.models.order.Order`` or re-exported elsewhere:
        # the last component decides when it names exactly one fact.
        candidates = self.by_last.get(name.rpartition(".")[2], ())
        return self.exact[candidates[0]] if len(candidates) == 1 else None


class _StoredModel:
    """A model as the cache keeps it, decoded (and checked) on first use."""

    __slots__ = ("value", "fact")

    def __init__(self, value: object) -> None:
        self.value = value
        self.fact: ModelFact | None = None

    def decoded(self, on_corrupt: Callable[[], None] | None) -> ModelFact | None:
        if self.fact is None and self.value is not None:
            try:
                self.fact = model_from_json(self.value)
            except (ValueError, TypeError, RecursionError):
                if on_corrupt is not None:
                    on_corrupt()  # not used, and built again next time
            self.value = None
        return self.fact


class ProjectKnowledge:
    """Every module's facts, merged, with the lookups rules need."""

    def __init__(
        self,
        modules: Iterable[ModuleFacts] = (),
        enabled: bool = True,
        *,
        module_names: Iterable[str] = (),
        load_calls: Callable[[str], Iterable[CallSiteFact]] | None = None,
        stored_models: Iterable[tuple[str, object]] = (),
        on_corrupt: Callable[[], None] | None = None,
    ) -> None:
        """``module_names`` adds modules that have no facts; ``load_calls`` gives the call sites
        of one callee when :meth:`call_sites` first asks (the cache keeps them apart, in groups);
        ``stored_models`` are models as the cache keeps them (by qualified name), decoded on first
        use, and ``on_corrupt`` is called when one does not decode."""
        self.enabled = enabled
        self._load_calls = load_calls
        self._on_corrupt = on_corrupt
        self._models = _ByName()
        self._task_bases = _ByName()
        self._tasks = _ByName()
        self._sessions = _ByName()
        self._serializers = _ByName()
        self._atomic_wrappers = _ByName()
        self.task_decorators: frozenset[str] = frozenset()
        self.receivers: tuple[ReceiverFact, ...] = ()
        self._calls: dict[str, list[CallSiteFact]] = {}
        self.settings = SettingsFact()
        self.modules: frozenset[str] = frozenset()
        decorators: set[str] = set()
        receivers: list[ReceiverFact] = []
        # Project signal -> keyword -> the models of the rows sends hand over under it.
        self._signal_rows: dict[str, dict[str, set[str]]] = {}
        # View qualified name -> the actions its routes name ("*": any).
        self._view_actions: dict[str, set[str]] = {}
        names: set[str] = set(module_names)
        settings = SettingsFact()
        for qualified, value in stored_models:
            self._models.add(qualified, _StoredModel(value))
        for facts in modules:
            names.add(facts.module)
            for model in facts.models:
                self._models.add(model.qualified_name, model)
            for base in facts.task_bases:
                self._task_bases.add(base.qualified_name, base)
            for task in facts.tasks:
                self._tasks.add(task.qualified_name, task)
            for session in facts.sessions:
                self._sessions.add(session.qualified_name, session)
            for view, actions in facts.view_routes:
                self._view_actions.setdefault(view, set()).update(actions)
            for serializer in facts.serializers:
                self._serializers.add(serializer.qualified_name, serializer)
            decorators.update(facts.task_decorators)
            for wrapper in facts.atomic_wrappers:
                self._atomic_wrappers.add(wrapper, wrapper)
            receivers.extend(facts.receivers)
            for argument in facts.signal_arguments:
                by_keyword = self._signal_rows.setdefault(argument.signal, {})
                by_keyword.setdefault(argument.keyword, set()).add(argument.model)
            for callee, site in facts.calls:
                self._calls.setdefault(callee, []).append(site)
            settings = _merge_settings(settings, facts.settings)
        self.task_decorators = frozenset(decorators)
        self.receivers = tuple(receivers)
        self._signals_by_receiver: dict[str, tuple[str, ...]] = {}
        for receiver in self.receivers:
            known = self._signals_by_receiver.get(receiver.qualified_name, ())
            self._signals_by_receiver[receiver.qualified_name] = (*known, receiver.signal)
        self.settings = settings
        self.modules = frozenset(names)

    # -- whether a name can name a fact: a cheap test on its last component, before resolving it --
    def may_be_model(self, last: str) -> bool:
        return self._models.has_last(last)

    def may_be_task(self, last: str) -> bool:
        return self._tasks.has_last(last)

    def may_be_task_base(self, last: str) -> bool:
        return self._task_bases.has_last(last)

    def may_be_session(self, last: str) -> bool:
        return self._sessions.has_last(last)

    # -- models ---------------------------------------------------------------------------------
    def model(self, name: str) -> ModelFact | None:
        found = self._models.get(name)
        if type(found) is _StoredModel:
            return found.decoded(self._on_corrupt)
        return found if isinstance(found, ModelFact) else None

    def model_field(self, model: ModelFact, attribute: str) -> FieldFact | None:
        """``attribute`` of ``model``: its own fields first, then its bases' (abstract or not)."""
        for current in lineage(model, self.model):
            for candidate in current.fields:
                if candidate.name == attribute:
                    return candidate
        return None

    def managers_of(self, model: ModelFact) -> frozenset[str]:
        """Manager attributes of ``model`` and its bases; ``objects`` when none declares one (Django's default)."""
        found = {manager for current in lineage(model, self.model) for manager in current.managers}
        return frozenset(found) if found else frozenset({"objects"})

    def in_project(self, name: str) -> bool:
        """``name`` is defined in a module of the project (a model or any other class)."""
        return name.rpartition(".")[0] in self.modules

    def is_model(self, name: str) -> bool:
        return self.model(name) is not None

    def unique_lookup(self, model: ModelFact, names: Iterable[str], also_set: Iterable[str] | None = ()) -> bool:
        """Whether a unique constraint (a field's, a primary key, ``unique_together``) covers ``names``.

        ``fk`` and ``fk_id`` name the same column; ``pk`` and ``id`` are the primary key.
        """
        return unique_lookup_in(self, model, names, also_set)

    def receivers_of(self, model: str, signals: Iterable[str]) -> tuple[ReceiverFact, ...]:
        """Receivers of these signals connected for ``model`` (or for every sender)."""
        wanted = frozenset(signals)
        target = self.model(model)
        target_name = target.qualified_name if target is not None else model
        return tuple(
            receiver
            for receiver in self.receivers
            if receiver.signal in wanted
            and (receiver.sender is None or self._same_model(receiver.sender, target_name))
        )

    def receiver_rows(self, function: str) -> dict[str, str]:
        """Keyword parameters of a receiver of project signals that the sends fill with rows of one
        model (``document_updated.send(sender=..., document=doc)``, ``doc`` a ``Document``): keyword -> model."""
        found: dict[str, set[str]] = {}
        for signal in self._signals_by_receiver.get(function, ()):
            for keyword, models in self._signal_rows.get(signal, {}).items():
                found.setdefault(keyword, set()).update(models)
        return {keyword: next(iter(models)) for keyword, models in found.items() if len(models) == 1}

    def signals_received_by(self, function: str) -> tuple[str, ...]:
        """The model signals ``function`` (a qualified name) is connected to anywhere in the project."""
        return self._signals_by_receiver.get(function, ())

    def _same_model(self, left: str, right: str) -> bool:
        found = self.model(left)
        return (found.qualified_name if found is not None else left) == right

    # -- views ----------------------------------------------------------------------------------
    def view_actions(self, view: str) -> frozenset[str] | None:
        """The actions the project's URL configuration routes to ``view`` (a qualified name): None
        when it routes every action (a router, a plain ``as_view()``) or no route names the view."""
        actions = self._view_actions.get(view)
        return None if actions is None or "*" in actions else frozenset(actions)

    # -- tasks ----------------------------------------------------------------------------------
    def task(self, name: str) -> TaskFact | None:
        found = self._tasks.get(name)
        return found if isinstance(found, TaskFact) else None

    def defines_task(self, name: str) -> bool:
        """``name`` is where a task is defined (not a name it is imported or re-exported under)."""
        task = self.task(name)
        return task is not None and task.qualified_name == name

    def task_base(self, name: str) -> TaskBaseFact | None:
        found = self._task_bases.get(name)
        return found if isinstance(found, TaskBaseFact) else None

    def is_task_decorator(self, name: str) -> bool:
        return name in self.task_decorators

    def task_defers_to_on_commit(self, task: TaskFact) -> bool:
        """The task's base (or the app's ``task_cls``) sends it from ``transaction.on_commit``."""
        base_name = task.base or self.settings.task_cls
        base = self.task_base(base_name) if base_name else None
        return base is not None and base.defers_to_on_commit

    # -- HTTP -----------------------------------------------------------------------------------
    @property
    def has_sessions(self) -> bool:
        return bool(self._sessions.exact)

    def session(self, name: str) -> SessionFact | None:
        found = self._sessions.get(name)
        return found if isinstance(found, SessionFact) else None

    # -- Django REST framework ---------------------------------------------------------------------
    def serializer(self, name: str) -> SerializerFact | None:
        found = self._serializers.get(name)
        return found if isinstance(found, SerializerFact) else None

    # -- transactions ---------------------------------------------------------------------------
    @property
    def has_atomic_wrappers(self) -> bool:
        return bool(self._atomic_wrappers.exact)

    def is_atomic_wrapper(self, name: str) -> bool:
        """``name`` is a project function that opens ``transaction.atomic`` around its user
        (``with f():``, ``@f()``)."""
        return self._atomic_wrappers.get(name) is not None

    def in_atomic_at(self, site: CallSiteFact) -> bool:
        """The call runs inside a transaction its caller opened (``atomic`` or a project wrapper of it)."""
        return site.atomic or any(self.is_atomic_wrapper(name) for name in site.guards)

    # -- calls ----------------------------------------------------------------------------------
    def call_sites(self, callee: str) -> tuple[CallSiteFact, ...]:
        found = self._calls.get(callee)
        if found is None and self._load_calls is not None:
            found = self._calls[callee] = list(self._load_calls(callee))
        return tuple(found or ())


def lineage(model: ModelFact, resolve: Callable[[str], ModelFact | None]) -> Iterator[ModelFact]:
    """``model``, then its bases that ``resolve`` knows (abstract or not), nearest first, each once."""
    seen: set[str] = set()
    pending = deque([model])
    while pending:
        current = pending.popleft()
        if current.qualified_name in seen:
            continue
        seen.add(current.qualified_name)
        yield current
        pending.extend(base for base in map(resolve, current.bases) if base is not None)


class ModelLookup(Protocol):
    """Where models and their fields are looked up: the project, or one file and the project."""

    def model(self, name: str) -> ModelFact | None: ...

    def model_field(self, model: ModelFact, attribute: str) -> FieldFact | None: ...

    def in_project(self, name: str) -> bool: ...


def _column(models: ModelLookup, model: ModelFact, name: str) -> str | None:
    """The column an exact lookup or a constraint's field names (``fk``, ``fk_id`` and ``fk__pk`` alike);
    ``pk`` for the primary key; None for a lookup that matches more than one value."""
    parts = name.split("__")
    if len(parts) > 1 and parts[-1] == "exact":
        parts.pop()
    if len(parts) == 2 and parts[1] in ("pk", "id"):
        relation = models.model_field(model, parts[0])
        if relation is not None and relation.is_relation:
            parts.pop()
    if len(parts) != 1:
        return None  # ``name__iexact``, ``created__gte``, ``pk__in``: matches more than one value
    base = parts[0]
    if base in ("pk", "id"):
        return "pk"
    if base.endswith("_id") and models.model_field(model, base) is None:
        relation = models.model_field(model, base[:-3])
        if relation is None or relation.is_relation:
            return base[:-3]  # (a relation of a field class the index does not know, too)
    return base


def unique_lookup_in(
    models: ModelLookup, model: ModelFact, names: Iterable[str], also_set: Iterable[str] | None = ()
) -> bool:
    """Whether a unique constraint (a field's, a primary key, ``unique_together``) covers ``names``.

    ``fk``, ``fk_id`` and ``fk__pk`` name the same column, in the lookup and in a constraint's
    fields; ``pk`` and ``id`` are the primary key.  Only exact lookups count: ``slug__startswith``
    matches many slugs.  A constraint with ``condition=Q(<field>__isnull=True)`` counts when the row
    the call would create leaves that field unset: neither the lookup nor ``also_set`` (the
    ``defaults``' fields, None when unknown) sets it; one with ``condition=Q(<field>__isnull=False)``
    when the lookup names that field (a lookup of ``None`` there is the caller's to avoid).  A field
    of a constraint the lookup leaves out counts when its ``default`` is a literal and ``also_set``
    is known and leaves it unset: every created row has that value.  A model
    whose constraints are not all known (opaque ones, a base from outside the project) counts as
    covered: never a guess.  A project class that is not a model (a mixin) declares no constraint.
    """
    columns = set()
    for name in names:
        column = _column(models, model, name)
        if column == "pk":
            return True
        if column is not None:
            columns.add(column)
    for column in columns:
        found = models.model_field(model, column)
        if found is not None and found.unique:
            return True
    assigned: set[str] | None = None
    if also_set is not None:
        assigned = set(columns)
        assigned.update(column for column in (_column(models, model, name) for name in also_set) if column)

    def covers(fields: frozenset[str]) -> bool:
        return all(_column(models, model, name) in columns or _same_default(name) for name in fields)

    def _same_default(name: str) -> bool:
        """Every row the call creates gets the field's literal default: the ``defaults`` are known
        and leave it unset (two racing inserts then collide on it as on the lookup's own fields)."""
        if assigned is None:
            return False
        column = _column(models, model, name)
        found = models.model_field(model, column) if column is not None else None
        return found is not None and found.constant_default and column not in assigned

    pending = [model]
    seen: set[str] = set()
    while pending:
        current = pending.pop()
        if current.qualified_name in seen:
            continue
        seen.add(current.qualified_name)
        if current.opaque_constraints or any(covers(together) for together in current.unique_together):
            return True
        for together, null_field in current.unique_when_null:
            if covers(together) and (assigned is None or _column(models, model, null_field) not in assigned):
                return True  # the created row is in the constraint's rows: the losing insert fails
        for together, set_field in current.unique_when_set:
            if covers(together) and _column(models, model, set_field) in columns:
                return True  # the lookup gives the field a value: the created row is in the constraint's rows
        for name in current.bases:
            parent = models.model(name)
            if parent is None and not is_django_model_base(name) and not models.in_project(name):
                return True  # a base outside the project (``AbstractUser``) may declare the constraint
            if parent is not None:
                pending.append(parent)
    return False


def is_django_model_base(name: str) -> bool:
    """``django.db.models.Model`` however it was written (``models.Model``, GeoDjango's re-export)."""
    return name in ("Model", "models.Model") or (name.startswith("django.") and name.endswith(".models.Model"))


def _merge_settings(left: SettingsFact, right: SettingsFact) -> SettingsFact:
    return SettingsFact(
        atomic_requests=left.atomic_requests if right.atomic_requests is None else right.atomic_requests,
        task_serializer=right.task_serializer or left.task_serializer,
        task_cls=right.task_cls or left.task_cls,
        user_model=right.user_model or left.user_model,
    )


NO_PROJECT = ProjectKnowledge(enabled=False)
