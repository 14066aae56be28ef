"""How far a loop can run, as far as the source tells: the extent of what it iterates.

A loop repeats without a bound the reader can see when it iterates rows of a query (a queryset, a
related manager, ``.iterator()``, ``.values()``), data sent by a client (``request.data``,
``request.POST``/``GET``, a serializer's ``validated_data``, a form's ``cleaned_data``)
or a parameter that the project's callers do not fill only with literals. It is bounded when the
source shows the items: a literal collection, a ``range()`` of at most :data:`SMALL_RANGE` literal
steps, the members of a ``Choices``/``Enum`` class, a constant, a setting, a model's ``_meta``,
a queryset sliced to at most :data:`SMALL_RANGE` rows, the objects a formset's
``save(commit=False)`` returns, or the files of one upload (``request.FILES``: Django accepts at most
``DATA_UPLOAD_MAX_NUMBER_FILES``, 100 by default, per request). A loop that asks a person at the
terminal (``input()``, ``getpass()``) runs as often as that person answers: a handful. Anything else
is unknown.

The :data:`LOOP_EXTENTS` provider records what assignments and loop targets bind as the walk
meets them; :func:`loop_extent` answers per loop.
"""

from __future__ import annotations

import ast
import enum
from typing import NamedTuple

from flake8_celery_django.context import FileContext, Kind, Loop, Scope
from flake8_celery_django.knowledge import callers, model_fields, models, relations
from flake8_celery_django.knowledge.bindings import infer, target_names
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.project.facts import ModelFact
from flake8_celery_django.registry import provider, provides

LOOP_EXTENTS = provider("loop-extents")


class Extent(enum.Enum):
    """Longest first: the extent of two iterables together is the longer one's."""

    UNBOUNDED = "unbounded"  # rows of a query, client data, a caller's data
    UNKNOWN = "unknown"
    BOUNDED = "bounded"  # fixed by the code base: a setting, a constant, a Choices class, formset results
    FEW = "few"  # written out in the loop: a literal collection, a small literal range()


_ORDER = (Extent.UNBOUNDED, Extent.UNKNOWN, Extent.BOUNDED, Extent.FEW)


# The most iterations a literal ``range()`` (or a queryset slice) may have to count as a handful.
SMALL_RANGE = 10

# Builtins whose result has as many items as their (first) iterable argument.
_SAME_LENGTH = frozenset({"enumerate", "sorted", "reversed", "list", "tuple", "set", "frozenset", "iter"})
# ``dict`` views and copies: as many items as the mapping.
_MAPPING_VIEWS = frozenset({"items", "keys", "values", "copy"})
# Trailing calls that keep a query lazy and change only the rows' shape.
_ROW_SHAPES = frozenset({"values", "values_list", "iterator", "aiterator"})
# Methods returning querysets by Django convention (generic views, DRF views and filter backends).
_QUERYSET_GETTERS = frozenset({"get_queryset", "filter_queryset", "get_query_set"})
# Attributes of an HTTP request that hold what the client sent.
_REQUEST_DATA = frozenset({"data", "POST", "GET", "FILES", "query_params", "body"})
# The uploaded files of a request: as many as the form has file inputs, at most
# ``DATA_UPLOAD_MAX_NUMBER_FILES`` (django/http/multipartparser.py); each file's content is unbounded.
_UPLOADED_FILES = "FILES"
# Calls that wait for a person at the terminal.
_PROMPTS = frozenset({"getpass.getpass"})
# Containers of validated client data: a DRF serializer's and a Django form's.
_VALIDATED_DATA = frozenset({"validated_data", "cleaned_data", "initial_data"})
# Lookups on client data that return part of it.
_DATA_GETTERS = frozenset({"get", "pop", "getlist", "setdefault"})
# Formset results that hold only the forms of one submission (``save(commit=False)`` fills them).
_FORMSET_RESULTS = frozenset({"new_objects", "changed_objects", "deleted_objects"})
# Names a ``Choices``/``Enum`` class exposes for its members.
_CHOICES_ATTRIBUTES = frozenset({"choices", "values", "labels", "names", "__members__"})


class _Binding(NamedTuple):
    """What a name was bound to: ``value`` itself, or an item of it (a loop target, an unpacking)."""

    value: ast.expr | None
    element: bool = False


class _NameExtents:
    """Per scope: what each local name was bound to, judged only when a loop iterates the name."""

    bindings: dict[str, list[_Binding]]
    computing: set[str]

    __slots__ = ("bindings", "computing")

    def __init__(self) -> None:
        self.bindings = {}
        self.computing = set()


# Bindings kept per name (flow-insensitive: a loop sees them all); later ones are not judged.
_MAX_BINDINGS = 8


class _LoopExtents:
    """Per file: each loop's extent, computed once when first asked."""

    extents: dict[int, Extent]
    bound: dict[int, frozenset[str]]

    __slots__ = ("extents", "bound")

    def __init__(self) -> None:
        self.extents = {}
        self.bound = {}


# -- recording -----------------------------------------------------------------------------------
@provides(LOOP_EXTENTS, ast.Assign, ast.AnnAssign)
def record_assignment(node: ast.Assign | ast.AnnAssign, ctx: FileContext) -> None:
    if node.value is None:
        return
    for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
        _record_binding(target, node.value, ctx)


@provides(LOOP_EXTENTS, ast.For, ast.AsyncFor)
def record_loop(node: ast.For | ast.AsyncFor, ctx: FileContext) -> None:
    _record_loop_target(node.target, node.iter, ctx)


def _record_binding(target: ast.expr, value: ast.expr, ctx: FileContext) -> None:
    """``name = value``: remember ``value``; its extent is judged if a loop ever iterates ``name``."""
    table = ctx.scope.state(_NameExtents).bindings
    if isinstance(target, ast.Name):
        # Flow-insensitive: ``ids = [ids]`` under an ``if`` keeps whatever ``ids`` held before.
        entries = table.setdefault(target.id, [])
        if len(entries) < _MAX_BINDINGS:
            entries.append(_Binding(value))
        return
    binding = _Binding(value, element=True) if isinstance(target, (ast.Tuple, ast.List)) else _Binding(None)
    for name in target_names(target):
        table[name] = [binding]


def _record_loop_target(target: ast.expr, iterable: ast.expr, ctx: FileContext) -> None:
    """``for item in data``: an item of client data is client data; an item of a literal is literal."""
    table = ctx.scope.state(_NameExtents).bindings
    for name in target_names(target):
        table[name] = [_Binding(iterable, element=True)]


def _element_extent(iterable: ast.expr, ctx: FileContext, depth: int) -> Extent:
    node = _unwrap(iterable, ctx)
    if _is_query(node, ctx):
        return Extent.UNKNOWN  # a row: what its attributes hold is another question
    if _client_data_source(node, ctx) == _UPLOADED_FILES:
        return Extent.UNBOUNDED  # an uploaded file: its lines are what the client sent
    return _extent(iterable, ctx, depth)


# -- questions -----------------------------------------------------------------------------------
def loop_extent(loop: Loop, ctx: FileContext) -> Extent:
    """How far ``loop`` runs: a ``while`` loop is unknown; a comprehension is as long as its longest part."""
    cache = ctx.state(_LoopExtents).extents
    found = cache.get(id(loop.node))
    if found is not None:
        return found
    node = loop.node
    if isinstance(node, (ast.For, ast.AsyncFor, ast.While)) and _prompts_person(node.body, ctx):
        found = Extent.FEW  # as many iterations as a person at the terminal answers
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        found = longest([iterable_extent(generator.iter, ctx) for generator in node.generators])
    elif loop.iterable is not None:
        found = iterable_extent(loop.iterable, ctx)
    elif isinstance(node, ast.While) and isinstance(node.test, ast.Name):
        found = _name_extent(node.test.id, ctx, 0)  # ``while rows: rows.pop()`` drains ``rows``
    else:
        found = Extent.UNKNOWN
    cache[id(loop.node)] = found
    return found


def _prompts_person(body: list[ast.stmt], ctx: FileContext) -> bool:
    """The loop's own code (not a function defined in it) calls ``input()`` or ``getpass()``."""
    pending: list[ast.AST] = list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call) and (
            _is_builtin(node.func, ("input",), ctx) or ctx.qualified_name(node.func) in _PROMPTS
        ):
            return True
        pending.extend(ast.iter_child_nodes(node))
    return False


def names_bound_in(loop: Loop, ctx: FileContext) -> frozenset[str]:
    """Names that may change from one iteration of ``loop`` to the next: its targets and what its body binds."""
    cache = ctx.state(_LoopExtents).bound
    found = cache.get(id(loop.node))
    if found is None:
        node = loop.node
        parts: list[ast.AST] = list(getattr(node, "body", []))
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            parts = [generator.target for generator in node.generators]
        names = set(loop.targets)
        for part in parts:
            for inner in ast.walk(part):
                if isinstance(inner, ast.Name) and not isinstance(inner.ctx, ast.Load):
                    names.add(inner.id)
                elif isinstance(inner, ast.arg):
                    names.add(inner.arg)
        found = cache[id(loop.node)] = frozenset(names)
    return found


def longest(extents: list[Extent]) -> Extent:
    """The extent of iterating several things in turn (or one inside another): the longest one's."""
    return next((extent for extent in _ORDER if extent in extents), Extent.FEW)


def iterable_extent(expr: ast.expr, ctx: FileContext) -> Extent:
    """The extent of iterating ``expr``."""
    return _extent(expr, ctx, 0)


# Nested conditionals, ``|`` and ``+`` deeper than this are not followed (generated code, not data).
_MAX_DEPTH = 32


def _extent(expr: ast.expr, ctx: FileContext, depth: int) -> Extent:
    if depth > _MAX_DEPTH:
        return Extent.UNKNOWN
    depth += 1
    node = _unwrap(expr, ctx)
    if isinstance(node, ast.IfExp):
        return longest([_extent(node.body, ctx, depth), _extent(node.orelse, ctx, depth)])
    if isinstance(node, ast.BoolOp):
        return longest([_extent(value, ctx, depth) for value in node.values])
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.BitAnd, ast.Add, ast.Sub)):
        return longest([_extent(node.left, ctx, depth), _extent(node.right, ctx, depth)])
    if isinstance(node, ast.Call) and _is_builtin(node.func, ("zip", "map", "filter"), ctx):
        parts = node.args[1:] if _is_builtin(node.func, ("map", "filter"), ctx) else node.args
        return longest([_extent(part, ctx, depth) for part in parts]) if parts else Extent.UNKNOWN
    if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)) and not _items(node):
        return Extent.UNKNOWN  # an empty collection filled later: as long as what fills it
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        starred = [element.value for element in node.elts if isinstance(element, ast.Starred)]
        return longest([_extent(part, ctx, depth) for part in starred])
    if isinstance(node, (ast.Dict, ast.Constant, ast.JoinedStr)):
        return Extent.FEW
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        return longest([_extent(generator.iter, ctx, depth) for generator in node.generators])
    if isinstance(node, ast.Call) and _is_builtin(node.func, ("range",), ctx):
        return _range_extent(node, ctx, depth)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        return _slice_extent(node, ctx, depth)
    if _is_query(node, ctx):
        return Extent.FEW if _selects_one_row(node, ctx, depth) else Extent.UNBOUNDED
    source = _client_data_source(node, ctx)
    if source == _UPLOADED_FILES:
        return Extent.BOUNDED
    if source is not None or _is_row_data(node, ctx) or _wraps_query(node, ctx):
        return Extent.UNBOUNDED
    if _is_fixed_set(node, ctx):
        return Extent.BOUNDED
    if isinstance(node, ast.Name):
        return _name_extent(node.id, ctx, depth)
    root = _chain_root(node)
    if root is not node and isinstance(root, ast.Name):
        return _name_extent(root.id, ctx, depth)  # ``users.values_list("pk")`` of ``users = a | b``
    if isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Name, ast.Subscript)):
        return _extent(node.value, ctx, depth)  # part of a mapping: ``rows["lines"]``, ``KINDS[key]``
    return Extent.UNKNOWN


def _chain_root(node: ast.expr) -> ast.expr:
    """``qs`` for ``qs.filter(...).values_list(...)``: the root of a lazy query chain."""
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and (node.func.attr in models.QUERYSET_METHODS or node.func.attr in _ROW_SHAPES)
    ):
        node = node.func.value
    return node


def _items(node: ast.List | ast.Tuple | ast.Set | ast.Dict) -> list[ast.expr | None]:
    return list(node.keys) if isinstance(node, ast.Dict) else list(node.elts)


def _unwrap(expr: ast.expr, ctx: FileContext) -> ast.expr:
    """``enumerate(sorted(x.items()))`` -> ``x``: wrappers that keep the number of items."""
    node = expr
    while True:
        if isinstance(node, ast.Await):
            node = node.value
        elif isinstance(node, ast.Call) and node.args and _is_builtin(node.func, _SAME_LENGTH, ctx):
            node = node.args[0]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _MAPPING_VIEWS
            and not node.args
            and not _is_query(node.func.value, ctx)
        ):
            node = node.func.value
        else:
            return node


def _is_builtin(func: ast.expr, names: frozenset[str] | tuple[str, ...], ctx: FileContext) -> bool:
    return (
        isinstance(func, ast.Name)
        and func.id in names
        and func.id not in ctx.imports.names
        and ctx.scope.lookup(func.id) is None
    )


def _literal_int(node: ast.expr) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _literal_int(node.operand)
        return None if inner is None else -inner
    return None


def _range_extent(call: ast.Call, ctx: FileContext, depth: int) -> Extent:
    bounds = [_literal_int(argument) for argument in call.args]
    if call.args and all(bound is not None for bound in bounds) and not call.keywords:
        numbers = [bound for bound in bounds if bound is not None]
        steps = len(range(*numbers)) if len(numbers) <= 3 and (len(numbers) < 3 or numbers[2]) else 0
        return Extent.FEW if steps <= SMALL_RANGE else Extent.UNBOUNDED
    # ``range(len(rows))`` runs as often as ``rows`` has items.
    if len(call.args) == 1 and isinstance(call.args[0], ast.Call) and _is_builtin(call.args[0].func, ("len",), ctx):
        inner = call.args[0]
        if len(inner.args) == 1:
            return _extent(inner.args[0], ctx, depth)
    return Extent.UNKNOWN


def _slice_extent(node: ast.Subscript, ctx: FileContext, depth: int) -> Extent:
    """``Model.objects.all()[:5]`` reads at most five rows."""
    base = _extent(node.value, ctx, depth)
    piece = node.slice
    if not isinstance(piece, ast.Slice) or piece.step is not None:
        return base
    lower = _literal_int(piece.lower) if piece.lower is not None else 0
    upper = _literal_int(piece.upper) if piece.upper is not None else None
    if lower is not None and upper is not None and lower >= 0 and upper - lower <= SMALL_RANGE:
        return Extent.FEW
    return base


def _is_query(node: ast.expr, ctx: FileContext) -> bool:
    """Rows of a query: a lazy queryset chain, a related manager's, rows shaped by ``values``/``iterator``."""
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _ROW_SHAPES
    ):
        node = node.func.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in _QUERYSET_GETTERS:
            return True
    if isinstance(node, ast.Name) and ctx.scope.lookup(node.id) is None and relations.lookup(node.id, ctx) is None:
        return False
    if relations.queryset_facts(node, ctx) is not None or models.queryset_label(node, ctx) is not None:
        return True
    value = infer(node, ctx)
    return value is not None and value.kind is Kind.QUERYSET


def _selects_one_row(node: ast.expr, ctx: FileContext, depth: int) -> bool:
    """``NodeGroup.objects.filter(pk=pk)``, ``qs.filter(slug=slug)`` on a ``unique`` field: one row at most."""
    calls, root = relations.chain_calls(node)
    facts = relations.queryset_facts(node, ctx)
    model = model_fields.model_named(facts.label, ctx) if facts is not None and facts.label else None
    for call in calls:
        if relations.method_name(call) == "filter" and _names_unique_column(call, model, ctx):
            return True
    if isinstance(root, ast.Name) and (calls or isinstance(node, ast.Name)):
        return _name_extent(root.id, ctx, depth) is Extent.FEW  # ``rows = Model.objects.filter(pk=pk)``
    return False


def _names_unique_column(call: ast.Call, model: ModelFact | None, ctx: FileContext) -> bool:
    """An exact lookup on the primary key or, when the model is known, on a ``unique`` field (a
    one-to-one included). Not ``unique_lookup``'s benefit of the doubt: an unknown constraint is no bound."""
    for keyword in call.keywords:
        if keyword.arg is None:
            continue
        name = keyword.arg.removesuffix("__exact")
        if name in ("pk", "id"):
            return True
        if model is None or "__" in name:
            continue
        found = model_fields.field_of(model, name, ctx)
        if found is None and name.endswith("_id"):
            found = model_fields.field_of(model, name[:-3], ctx)
            found = found if found is not None and found.is_relation else None
        if found is not None and found.unique and not found.is_many:
            return True
    return False


def _is_request(node: ast.expr, ctx: FileContext) -> bool:
    if isinstance(node, ast.Name):
        if node.id == "request":
            return True
        bound = ctx.scope.lookup(node.id)
        return bound is not None and bound.kind is Kind.HTTP_REQUEST
    return isinstance(node, ast.Attribute) and node.attr in ("request", "_request")


def _client_data_source(node: ast.expr, ctx: FileContext) -> str | None:
    """``POST`` for ``request.POST.getlist("ids")``, ``validated_data`` for ``validated_data["lines"]``,
    ``data.pop("items")``: where the client data comes from, or None when ``node`` is not client data."""
    while True:
        if isinstance(node, ast.Attribute):
            if node.attr in _REQUEST_DATA and _is_request(node.value, ctx):
                return node.attr
            if node.attr in _VALIDATED_DATA:
                return node.attr
            return None
        if isinstance(node, ast.Name):
            return node.id if node.id in _VALIDATED_DATA else None
        if isinstance(node, ast.Subscript):
            node = node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _DATA_GETTERS
        ):
            node = node.func.value
        else:
            return None


def _is_row_data(node: ast.expr, ctx: FileContext) -> bool:
    """``document.tags_list``, ``ip._custom_field_data``: a value stored in a row (a JSON or array field)."""
    if not isinstance(node, ast.Attribute) or not isinstance(node.value, ast.Name) or node.attr in _FORMSET_RESULTS:
        return False
    bound = ctx.scope.lookup(node.value.id)
    return bound is not None and bound.kind is Kind.MODEL_INSTANCE and not _is_constant_name(node.attr)


def _wraps_query(node: ast.expr, ctx: FileContext) -> bool:
    """``progress(queryset, total)``, ``chunked(rows.iterator(), 500)``: a helper that yields a query's rows."""
    return (
        isinstance(node, ast.Call)
        and bool(node.args)
        and not isinstance(node.func, ast.Attribute)
        and _is_query(_unwrap(node.args[0], ctx), ctx)
    )


def _is_fixed_set(node: ast.expr, ctx: FileContext) -> bool:
    """Items the code base fixes: a setting, a constant, a Choices/Enum class, a model's ``_meta``, formset results."""
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "save":
            return any(
                keyword.arg == "commit" and isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                for keyword in node.keywords
            )
        if isinstance(func, ast.Name) and func.id == "getattr" and node.args:
            return _is_settings(node.args[0], ctx)
        node = func
    dotted = dotted_name(node)
    if dotted is None:
        return False
    parts = dotted.split(".")
    last = parts[-1]
    if "_meta" in parts or _is_settings(node, ctx):
        return True
    if last in _FORMSET_RESULTS:
        return True
    if isinstance(node, ast.Attribute) and (_is_constant_name(last) or last in _CHOICES_ATTRIBUTES):
        return _is_constant_name(last) or _is_class_name(parts[-2])
    if isinstance(node, ast.Name):
        if ctx.code_scope().state(_NameExtents).bindings.get(node.id) is not None:
            return False
        if ctx.scope.lookup(node.id) is not None:
            return False
        return _is_constant_name(last) or _is_class_name(last)
    return False


def _is_settings(node: ast.expr, ctx: FileContext) -> bool:
    root = node
    while isinstance(root, ast.Attribute):
        root = root.value
    qualified = ctx.qualified_name(node) or ""
    return qualified == "django.conf.settings" or qualified.startswith("django.conf.settings.")


def _is_constant_name(name: str) -> bool:
    """``STATUSES``, ``_DEFAULT_KINDS``: module-level constants by convention."""
    letters = name.strip("_")
    return bool(letters) and letters.isupper()


def _is_class_name(name: str) -> bool:
    """``OrderStatus``: iterating a class only works for an ``Enum`` (or ``Choices``)."""
    return name[:1].isupper() and not name.isupper()


def _name_extent(name: str, ctx: FileContext, depth: int) -> Extent:
    scope: Scope | None = ctx.code_scope()
    while scope is not None:
        entries = scope.state(_NameExtents).bindings.get(name)
        if entries is not None:
            return _bound_extent(name, entries, scope, ctx, depth)
        if name in scope.parameters:
            return _parameter_extent(name, scope, ctx)
        scope = scope.parent
        while scope is not None and scope.kind == "class":
            scope = scope.parent
    return Extent.UNKNOWN


def _bound_extent(name: str, entries: list[_Binding], scope: Scope, ctx: FileContext, depth: int) -> Extent:
    """The longest of what ``name`` was bound to (a parameter reassigned keeps its callers' data too)."""
    state = scope.state(_NameExtents)
    if name in state.computing:
        return Extent.UNKNOWN  # ``rows = rows + [row]``: judged by its other bindings
    state.computing.add(name)
    try:
        extents = [_parameter_extent(name, scope, ctx)] if name in scope.parameters and not entries[0].element else []
        for binding in entries:
            if binding.value is None:
                extents.append(Extent.UNKNOWN)
            elif binding.element:
                extents.append(_element_extent(binding.value, ctx, depth))
            else:
                extents.append(_extent(binding.value, ctx, depth))
        return longest(extents)
    finally:
        state.computing.discard(name)


# -- parameters and their callers ----------------------------------------------------------------
def _parameter_extent(name: str, scope: Scope, ctx: FileContext) -> Extent:
    """A parameter is unbounded unless every call site in the project passes it a literal."""
    function = scope.node
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return Extent.UNBOUNDED
    sites = callers.call_sites(scope, ctx)
    if not sites:
        return Extent.UNBOUNDED
    keys = {name}
    position = _position(function, name, scope)
    if position is not None:
        keys.add(str(position))
    if all(not keys.isdisjoint(site.literal_arguments) for site in sites):
        return Extent.BOUNDED
    return Extent.UNBOUNDED


def _position(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str, scope: Scope) -> int | None:
    """The position a call gives ``name`` (``self``/``cls`` of a method are not passed)."""
    positional = [argument.arg for argument in (*function.args.posonlyargs, *function.args.args)]
    if name not in positional:
        return None
    is_method = scope.parent is not None and scope.parent.kind == "class" and "staticmethod" not in scope.decorators
    index = positional.index(name)
    return index - 1 if is_method else index
