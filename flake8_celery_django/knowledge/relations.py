"""Queryset chains, what they prefetch and lock, and which model attributes are relations.

Which model attributes are relations comes from :mod:`flake8_celery_django.knowledge.model_fields`
(the :data:`MODEL_RELATIONS` provider for this file's models, and the project index).
:data:`QUERYSET_NAMES` records what names hold queryset chains.  Method names come from Django's
``django/db/models/query.py`` (``QuerySet``, ``Prefetch``) and
``django/db/models/fields/related_descriptors.py`` (related managers).
"""

from __future__ import annotations

import ast
from typing import NamedTuple

from flake8_celery_django.context import FileContext, Kind, enclosing_binding
from flake8_celery_django.knowledge import model_fields, models
from flake8_celery_django.knowledge.bindings import target_names
from flake8_celery_django.registry import provider, provides

# Related-manager methods that run a query (``order.lines.all()``).  Those that also exist on lists,
# dicts or strings with a different meaning (``get``, ``values``, ``count(x)``, ``index``) are left
# out or only counted without arguments.
RELATED_QUERY_METHODS = frozenset(
    {
        "all", "filter", "exclude", "order_by", "annotate", "values_list", "aggregate",
        "latest", "earliest", "afirst", "alast", "acount", "aexists", "aaggregate",
        "alatest", "aearliest",
    }
)
RELATED_QUERY_METHODS_WITHOUT_ARGUMENTS = frozenset({"count", "exists", "first", "last"})

_PREFETCH = frozenset({"django.db.models.Prefetch", "django.db.models.query.Prefetch"})
# Queryset methods that sets (and lists) have too: not evidence of a queryset on their own.
_ALSO_ON_SETS = frozenset({"union", "intersection", "difference", "reverse"})
PREFETCH_RELATED_OBJECTS = frozenset(
    {"django.db.models.prefetch_related_objects", "django.db.models.query.prefetch_related_objects"}
)


def chain_calls(expr: ast.expr) -> tuple[list[ast.Call], ast.expr]:
    """The method calls of ``a.b().c()``, outermost first, and the expression the chain starts at."""
    calls: list[ast.Call] = []
    node = expr
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        calls.append(node)
        node = node.func.value
    return calls, node


def method_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else ""


class Prefetches(NamedTuple):
    """First components of the lookups a queryset prefetches; ``complete`` is False when one is not a literal."""

    names: frozenset[str] = frozenset()
    complete: bool = True

    def covers(self, relation: str) -> bool:
        return not self.complete or relation in self.names

    def union(self, other: Prefetches) -> Prefetches:
        return Prefetches(self.names | other.names, self.complete and other.complete)


class QuerysetFacts(NamedTuple):
    """What a queryset expression is known to be: its model, prefetches and whether it locks rows.

    ``from_manager`` is True when the chain starts at ``Model.objects`` (or a name bound to such a
    chain), so that every ``prefetch_related`` on it is in view.  ``roots`` are the names the chain
    starts from (``model`` in ``model.objects``, ``querysets`` in ``querysets[key].filter()``): when
    one of them changes per loop iteration, so may the table.
    """

    label: str
    prefetches: Prefetches
    from_manager: bool
    locked: bool
    roots: frozenset[str] = frozenset()

    def merged(self, other: QuerysetFacts) -> QuerysetFacts:
        return QuerysetFacts(
            self.label or other.label,
            self.prefetches.union(other.prefetches),
            self.from_manager and other.from_manager,
            self.locked or other.locked,
            self.roots | other.roots,
        )


class QuerysetNames:
    """Per-scope: names bound to queryset chains (``None``: re-bound to something else)."""

    facts: dict[str, QuerysetFacts | None]

    __slots__ = ("facts",)

    def __init__(self) -> None:
        self.facts = {}


QUERYSET_NAMES = provider("queryset-names")


def lookup(name: str, ctx: FileContext) -> QuerysetFacts | None:
    return enclosing_binding(ctx.scope, lambda scope: scope.state(QuerysetNames).facts, name)


def _prefetches_of_call(call: ast.Call, ctx: FileContext) -> Prefetches:
    names: set[str] = set()
    complete = True
    for argument in call.args:
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            names.add(argument.value.partition("__")[0])
        elif isinstance(argument, ast.Call) and _is_prefetch(argument.func, ctx):
            lookup_name = _prefetch_lookup(argument)
            if lookup_name is None:
                complete = False
            elif lookup_name:
                names.add(lookup_name)
        elif isinstance(argument, ast.Constant) and argument.value is None:
            continue
        else:
            complete = False
    if call.keywords:
        complete = False
    return Prefetches(frozenset(names), complete)


def _is_prefetch(func: ast.expr, ctx: FileContext) -> bool:
    qualified = ctx.qualified_name(func)
    if qualified is not None:
        return qualified in _PREFETCH
    return isinstance(func, ast.Name) and func.id == "Prefetch"


def _prefetch_lookup(call: ast.Call) -> str | None:
    """``Prefetch("lines", ...)`` prefetches ``lines``; with ``to_attr`` the manager stays unprefetched."""
    if not call.args or not isinstance(call.args[0], ast.Constant) or not isinstance(call.args[0].value, str):
        return None
    lookup_text = call.args[0].value
    first, _, rest = lookup_text.partition("__")
    if rest:
        return first
    for keyword in call.keywords:
        if keyword.arg == "to_attr":
            return ""
        if keyword.arg is None:
            return None
    return first


def queryset_facts(expr: ast.expr, ctx: FileContext) -> QuerysetFacts | None:
    """Facts about a lazy queryset chain (``Model.objects.filter(...).prefetch_related(...)``)."""
    calls, root = chain_calls(expr)
    if any(method_name(call) not in models.QUERYSET_METHODS for call in calls):
        return None
    base: QuerysetFacts | None
    owner = models.manager_owner(root, ctx)
    if owner is not None:
        base = QuerysetFacts(owner, Prefetches(), True, False)
    elif isinstance(root, ast.Name):
        base = lookup(root.id, ctx)
        if base is None:
            if not calls:
                return None
            label = models.queryset_label(root, ctx) or ""
            if not label and any(method_name(call) in _ALSO_ON_SETS for call in calls):
                return None
            base = QuerysetFacts(label, Prefetches(complete=False), False, False)
    elif calls and not any(method_name(call) in _ALSO_ON_SETS for call in calls):
        base = QuerysetFacts("", Prefetches(complete=False), False, False)
    else:
        return None
    prefetches = base.prefetches
    locked = base.locked
    roots = base.roots | _root_names(root)
    for call in reversed(calls):
        method = method_name(call)
        if method == "prefetch_related":
            if len(call.args) == 1 and isinstance(call.args[0], ast.Constant) and call.args[0].value is None:
                prefetches = Prefetches(frozenset(), prefetches.complete and base.from_manager)
            else:
                prefetches = prefetches.union(_prefetches_of_call(call, ctx))
        elif method == "select_for_update":
            locked = True
    return QuerysetFacts(base.label, prefetches, base.from_manager, locked, roots)


def manager_queryset_label(expr: ast.expr, ctx: FileContext) -> str | None:
    """The model of ``Model.objects...`` or of a name bound to such a queryset; None for anything else.

    Related managers (``order.lines.all()``) and querysets handed in from elsewhere are not included.
    """
    node = expr
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in models.QUERYSET_METHODS
    ):
        node = node.func.value
    owner = models.manager_owner(node, ctx)
    if owner is not None:
        return owner
    if isinstance(node, ast.Name):
        facts = lookup(node.id, ctx)
        if facts is not None:
            return facts.label if facts.from_manager and facts.label else None
        bound = ctx.scope.lookup(node.id)
        if bound is not None and bound.kind is Kind.QUERYSET and bound.label:
            return bound.label
    return None


def _root_names(root: ast.expr) -> frozenset[str]:
    """``model`` for ``model.objects``, ``qs`` for ``qs``, ``by_key``/``key`` for ``by_key[key]``."""
    if isinstance(root, ast.Attribute) and root.attr in models.MANAGER_ATTRIBUTES:
        root = root.value
    if isinstance(root, ast.Name):
        return frozenset({root.id})
    if isinstance(root, ast.Subscript):
        return frozenset(node.id for node in ast.walk(root) if isinstance(node, ast.Name))
    return frozenset()


def is_locked_chain(expr: ast.expr, ctx: FileContext) -> bool:
    """True when a chain (lazy or evaluated: ``...select_for_update().get()``) locks the rows it reads."""
    calls, root = chain_calls(expr)
    if any(method_name(call) == "select_for_update" for call in calls):
        return True
    if isinstance(root, ast.Name):
        facts = lookup(root.id, ctx)
        return facts is not None and facts.locked
    return False


@provides(QUERYSET_NAMES, ast.Assign, ast.AnnAssign)
def record_assignment(node: ast.Assign | ast.AnnAssign, ctx: FileContext) -> None:
    """Remember what names bound here hold."""
    state = ctx.scope.state(QuerysetNames)
    if node.value is None:
        return
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    facts = queryset_facts(node.value, ctx)
    for target in targets:
        if isinstance(target, ast.Name):
            _bind(state, target.id, facts)
        else:
            for name in target_names(target):
                _bind(state, name, None)


@provides(QUERYSET_NAMES, ast.For, ast.AsyncFor)
def forget_loop_target(node: ast.For | ast.AsyncFor, ctx: FileContext) -> None:
    forget_names(node.target, ctx)


def forget_names(target: ast.expr, ctx: FileContext) -> None:
    """A loop target or ``with ... as`` re-binds the names it holds."""
    state = ctx.scope.state(QuerysetNames)
    for name in target_names(target):
        if name in state.facts or lookup(name, ctx) is not None:
            state.facts[name] = None


@provides(QUERYSET_NAMES, ast.Call)
def record_prefetch_call(call: ast.Call, ctx: FileContext) -> None:
    """``prefetch_related_objects(orders, "lines")`` prefetches ``lines`` on ``orders``."""
    func = call.func
    last = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if last != "prefetch_related_objects":
        return
    qualified = ctx.qualified_name(func)
    if qualified not in PREFETCH_RELATED_OBJECTS or not call.args:
        return
    first = call.args[0]
    if not isinstance(first, ast.Name):
        return
    facts = lookup(first.id, ctx)
    if facts is None:
        return
    lookups = ast.Call(func=call.func, args=call.args[1:], keywords=call.keywords)
    added = QuerysetFacts(facts.label, _prefetches_of_call(lookups, ctx), facts.from_manager, facts.locked, facts.roots)
    ctx.scope.state(QuerysetNames).facts[first.id] = facts.merged(added)


def _bind(state: QuerysetNames, name: str, facts: QuerysetFacts | None) -> None:
    existing = state.facts.get(name)
    if facts is not None and existing is not None:
        # Flow-insensitive on purpose: a name bound twice keeps what either binding prefetches.
        facts = facts.merged(existing)
    state.facts[name] = facts


# -- model relations ---------------------------------------------------------------------------
# The provider that records this file's model classes (rules name it in ``uses=``).
MODEL_RELATIONS = model_fields.MODEL_RELATIONS
MANY = "many"  # a manager: many-to-many, reverse foreign key, generic relation
TO_ONE = "to one"  # forward foreign key or one-to-one: an instance, not a manager
PLAIN = "plain"  # a concrete non-relation field
DEFINED = "defined"  # a method or property of the model class: no prefetch can serve what it returns


def attribute_kind(model: str, attribute: str, ctx: FileContext) -> str | None:
    """What ``<model instance>.<attribute>`` is, when a model definition of this file or the project tells."""
    found = model_fields.model_named(model, ctx)
    if found is None:
        return None
    relation = model_fields.field_of(found, attribute, ctx)
    if relation is None:
        defined, returned = model_fields.method_of(found, attribute, ctx)
        if not defined:
            return None
        # A property returning ``self.all_fees(...)`` hands back a related manager, which
        # ``prefetch_related`` follows; one building a queryset (``device.vc_interfaces``) makes
        # ``prefetch_related_objects`` raise ValueError (django/db/models/query.py).
        through = model_fields.field_of(found, returned, ctx) if returned is not None else None
        return MANY if through is not None and through.is_many else DEFINED
    if relation.is_many:
        return MANY
    return TO_ONE if relation.is_relation else PLAIN
