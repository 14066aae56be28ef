"""What the project index knows about a whole project: the facts every rule may read.

Facts are plain, immutable values built statically from the project's source (never by importing
it) and kept in the cache as JSON.  Names are dotted module paths from the project root
(``shop.models.Order``); :class:`ProjectKnowledge` answers the questions rules ask about them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple

SessionKind = Literal["factory", "class", "holder", "adapter"]
# ``generic``: a ``GenericRelation`` (many objects); ``generic_foreign_key``: a ``GenericForeignKey``,
# one object reached through two columns, which ``prefetch_related`` loads and ``select_related`` cannot.
FieldKind = Literal["foreign_key", "one_to_one", "many_to_many", "generic", "generic_foreign_key", "plain"]
RelationKind = Literal["to_one", "many"]

# The one empty set of names that facts share: a project has tens of thousands of call sites and
# model facts, most with empty sets, and ``frozenset()`` makes a new 216-byte object each time.
NO_NAMES: frozenset[str] = frozenset()


def name_set(items: Iterable[str]) -> frozenset[str]:
    """``items`` as a frozenset, :data:`NO_NAMES` when there are none."""
    return frozenset(items) or NO_NAMES


class FieldFact(NamedTuple):
    """A model attribute: a concrete field, or a relation (forward or reverse).

    (A named tuple: a project has thousands, read back from the cache on every run.)"""

    name: str
    kind: FieldKind
    # The qualified name of the related model, when the field is a relation that resolves.
    target: str | None = None
    unique: bool = False
    # True for the reverse side of a relation declared on another model (``order.lines``).
    reverse: bool = False
    # The field's declared class name (``CharField``, ``JSONField``, ``ArrayField``...).
    field_class: str = ""
    # ``related_name`` as declared (``None`` for Django's default, ``"+"`` for no reverse relation).
    related_name: str | None = None
    # ``default=`` is a literal other than ``None`` (``default=""``, ``default=True``): every row
    # created without a value for the field gets that same value.
    constant_default: bool = False

    @property
    def is_relation(self) -> bool:
        return self.kind != "plain"

    @property
    def is_many(self) -> bool:
        """A manager when read from an instance: many-to-many, reverse foreign key, generic relation."""
        return self.kind in ("many_to_many", "generic") or (self.reverse and self.kind == "foreign_key")


class ModelFact(NamedTuple):
    """A Django model class: abstract or not, defined anywhere in the project."""

    qualified_name: str
    bases: tuple[str, ...] = ()
    abstract: bool = False
    # Own fields and reverse relations that other models declare; inherited ones come from bases.
    fields: tuple[FieldFact, ...] = ()
    # Sets of field names a unique constraint covers (``unique_together``, unconditional
    # ``UniqueConstraint``); single ``unique=True`` fields and the primary key are on the field.
    unique_together: tuple[frozenset[str], ...] = ()
    managers: frozenset[str] = NO_NAMES
    overrides_save: bool = False
    overrides_delete: bool = False
    # Field names the model's own ``save()`` reads (``self.<name>``).
    save_reads: frozenset[str] = NO_NAMES
    # ``Meta.unique_together``/``Meta.constraints`` that static reading cannot follow (unique
    # expressions, ``*Base.Meta.constraints``, lists built by code): which lookups are unique is unknown.
    opaque_constraints: bool = False
    # Names the class body defines with ``def``: methods and properties (``@property``,
    # ``@cached_property``), never a relation even when one returns a queryset.
    methods: frozenset[str] = NO_NAMES
    # Method name -> the attribute of ``self`` every ``return`` of it goes through
    # (``fees`` -> ``all_fees`` for ``return self.all_fees(manager="objects")``).
    method_returns: tuple[tuple[str, str], ...] = ()
    # ``UniqueConstraint(fields=[...], condition=Q(<field>__isnull=True))``: the field set and the
    # field that must be NULL (soft deletion: unique among the rows not deleted).
    unique_when_null: tuple[tuple[frozenset[str], str], ...] = ()
    # Unique field sets of a ``UniqueConstraint`` whose condition is ``Q(<field>__isnull=False)``, with that
    # field: unique among the rows that have a value there.
    unique_when_set: tuple[tuple[frozenset[str], str], ...] = ()

    @property
    def name(self) -> str:
        return self.qualified_name.rpartition(".")[2]


class TaskBaseFact(NamedTuple):
    """A ``celery.Task`` subclass defined in the project, and what it does to every task built on it."""

    qualified_name: str
    bases: tuple[str, ...] = ()
    # Overrides ``apply_async``/``delay`` to send from ``transaction.on_commit`` (or is Celery's
    # ``DjangoTask`` used through its ``*_on_commit`` methods only).
    defers_to_on_commit: bool = False
    # Turns keys into instances before the body runs (``__call__`` or ``before_start`` fetching rows).
    resolves_keys: bool = False
    autoretry_for: bool = False
    retry_backoff: bool = False


class TaskFact(NamedTuple):
    """A Celery task: a decorated function (also through project decorators) or a ``Task`` class."""

    qualified_name: str
    parameters: tuple[str, ...] = ()
    # Parameter name -> model qualified name from its annotation (``Order``, ``list[Order]``,
    # ``Order | None``), for parameters annotated with a project model.
    model_parameters: tuple[tuple[str, str], ...] = ()
    base: str | None = None
    bind: bool = False
    # The project decorator it is declared through (``shop.celery.task``), when not Celery's own.
    decorator: str | None = None
    # The function takes ``**kwargs``: any keyword argument is one of its own.
    any_keyword: bool = False


class SessionFact(NamedTuple):
    """A project function or class that makes or holds a ``requests.Session``."""

    qualified_name: str
    # True when every request through it gets a timeout (a ``request()`` override, an adapter
    # that sets one, a ``functools.partial`` of ``request`` with ``timeout=``).
    sets_default_timeout: bool = False
    # A function returning a session, a ``Session`` subclass, a class attribute holding one
    # (``shop.client.Client.session``), or (while the index is built) an ``HTTPAdapter`` subclass.
    kind: SessionKind = "factory"
    # What it is built from: the class or function called to make the session, or the base class.
    makes: str | None = None
    # Adapter classes mounted on it (``session.mount("https://", TimeoutAdapter())``).
    adapters: tuple[str, ...] = ()


class ReceiverFact(NamedTuple):
    """A function connected to a Django model signal (``@receiver`` or ``signal.connect``)."""

    qualified_name: str
    signal: str  # ``post_save``, ``pre_delete``...
    sender: str | None = None  # the model's qualified name, when given


class SignalArgumentFact(NamedTuple):
    """A model instance a project signal hands its receivers: ``signal.send(sender=..., document=doc)``
    where ``doc`` was fetched or built as a model row in the sending function."""

    signal: str  # the signal's qualified name, as the sending module imports it
    keyword: str
    model: str  # the row's model (qualified as the sending module names it; resolved by the merge)


class CallSiteFact(NamedTuple):
    """One call of a project function, seen from its caller."""

    caller: str  # qualified name of the calling function (or module)
    # The callee runs only after the commit: it is handed to ``transaction.on_commit`` (directly,
    # through a lambda or ``functools.partial``), not called.
    on_commit: bool = False
    # The caller holds a row lock (``select_for_update`` in an ``atomic`` block) at the call.
    locked: bool = False
    # Parameter positions (``"0"``) and keywords (``"items"``) given only literal containers.
    literal_arguments: frozenset[str] = NO_NAMES
    # The call sits in a ``transaction.atomic`` block of the caller (or the caller is decorated atomic).
    atomic: bool = False
    # The caller is a view (a module-level function taking ``request``, a method of a ``*View`` or
    # ``*ViewSet`` class): it runs in a transaction only under ``ATOMIC_REQUESTS``.
    view: bool = False
    # Project context managers open around the call and the caller's project decorators: the call is
    # in a transaction too when one of them is a wrapper around ``transaction.atomic``.
    guards: frozenset[str] = NO_NAMES


class SettingsFact(NamedTuple):
    """What the project's settings modules say."""

    # ``ATOMIC_REQUESTS`` of the default database; None when no settings module says.
    atomic_requests: bool | None = None
    # ``CELERY_TASK_SERIALIZER`` / ``task_serializer``: ``"json"``, ``"pickle"``... or None.
    task_serializer: str | None = None
    # The Celery app's ``task_cls`` (qualified name), when set.
    task_cls: str | None = None
    # ``AUTH_USER_MODEL`` as the project's model qualified name, when the project defines it.
    user_model: str | None = None


class SerializerFieldFact(NamedTuple):
    """A field of a Django REST framework serializer that reads through the instance's attributes."""

    name: str
    # The attribute path it reads, in lookup form: ``customer`` for a nested serializer,
    # ``customer__name`` for ``source="customer.name"``.
    path: str
    many: bool = False
    # The nested serializer's qualified name, when the field is one.
    serializer: str | None = None


class SerializerFact(NamedTuple):
    """A Django REST framework serializer class and the relations its fields read."""

    qualified_name: str
    # ``Meta.model`` as a qualified name, when given.
    model: str | None = None
    bases: tuple[str, ...] = ()
    # Only the fields that read through a path: nested serializers, dotted sources, related fields
    # that load the related row (``SlugRelatedField``, ``StringRelatedField``).
    fields: tuple[SerializerFieldFact, ...] = ()


class ModuleFacts(NamedTuple):
    """The facts one module contributes to the index (what the cache keeps per file)."""

    module: str
    models: tuple[ModelFact, ...] = ()
    task_bases: tuple[TaskBaseFact, ...] = ()
    tasks: tuple[TaskFact, ...] = ()
    # Functions of this module that apply a Celery task decorator to the function they are given.
    task_decorators: tuple[str, ...] = ()
    sessions: tuple[SessionFact, ...] = ()
    receivers: tuple[ReceiverFact, ...] = ()
    # Callee qualified name -> its call sites in this module.
    calls: tuple[tuple[str, CallSiteFact], ...] = ()
    settings: SettingsFact = SettingsFact()
    serializers: tuple[SerializerFact, ...] = ()
    # While the index is built: functions under a project decorator, and functions that may be
    # decorators through other project functions they apply (name -> those functions).
    task_candidates: tuple[TaskFact, ...] = ()
    decorator_candidates: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Functions of this module that open a transaction for whoever uses them: a ``@contextmanager``
    # whose every ``yield`` sits in ``with transaction.atomic(...)``, or a function returning
    # ``transaction.atomic(...)`` (also through another such wrapper).
    atomic_wrappers: tuple[str, ...] = ()
    # While the index is built: per ``yield`` (or ``return``) of such a candidate, the context
    # managers around it (or the one it returns); it is a wrapper when every entry names atomic or a wrapper.
    atomic_wrapper_candidates: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Model rows this module sends through project signals, by keyword.
    signal_arguments: tuple[SignalArgumentFact, ...] = ()
    # Views this module routes: the view's qualified name and the actions of its
    # ``as_view({"get": "retrieve"})``; ``("*",)`` for a router's ``register()`` or another ``as_view()``.
    view_routes: tuple[tuple[str, tuple[str, ...]], ...] = ()
