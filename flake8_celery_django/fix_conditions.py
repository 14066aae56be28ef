"""Where a fix is correct: the conditions each rule's fix needs, checked when the finding is reported.

This is the one place that decides whether a finding is fixable.  The detectors call it with what
they resolved (the changed statement and the save that writes it, the send and its function, the
create call and its loop) when they report, and the answer travels with the finding
(``Finding.fix``): the plan its fixer carries out (``fix_plans``), or a :class:`NotFixable` with the
reason when the fix would change behaviour beyond what its rule page's "Fix safety" documents (the
finding stays, ``fix`` reports it as not fixable).  A condition reads the enclosing function's tree
(a :class:`CodeView`, built only when a finding in it is reported) and the project index; no libcst
here: the fixers in ``fixes/`` only carry out the rewrite.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from flake8_celery_django.fix_plans import (
    BulkCreatePlan,
    FixPlan,
    NotFixable,
    OnCommitPlan,
    Span,
    UpdatePlan,
)
from flake8_celery_django.knowledge.imports import ImportTable, dotted_name
from flake8_celery_django.project.facts import ModelFact
from flake8_celery_django.project.knowledge import NO_PROJECT, ProjectKnowledge, absolute_name

if TYPE_CHECKING:
    from flake8_celery_django.context import FileContext

_Function = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_ATOMIC = frozenset({"django.db.transaction.atomic"})
_SAVES = frozenset({"save", "asave"})
_SENDING_METHODS = frozenset({"delay", "apply_async", "send_task"})
_REFRESHES = frozenset({"refresh_from_db", "arefresh_from_db"})
# Calls known to give a number.
_NUMERIC_CALLS = frozenset({"int", "float", "len", "abs", "round", "sum", "decimal.Decimal", "Decimal"})
# Values that are not numbers: ``F("f") + x`` fails on save (or the database concatenates) for these.
_NOT_NUMBERS = (ast.List, ast.ListComp, ast.Dict, ast.DictComp, ast.Set, ast.SetComp, ast.Tuple, ast.JoinedStr)
_NOT_NUMBER_CALLS = frozenset({"list", "dict", "str", "set", "tuple", "sorted", "bytes"})
_NOT_NUMBER_ANNOTATIONS = frozenset({"list", "dict", "str", "set", "tuple", "bytes", "List", "Dict", "Set", "Tuple"})
# Field classes whose values are not numbers (``F("tags") + [x]`` is not list concatenation).
_NON_NUMERIC_FIELDS = frozenset(
    {
        "CharField", "TextField", "SlugField", "EmailField", "URLField", "JSONField", "ArrayField",
        "HStoreField", "BinaryField", "FileField", "ImageField", "UUIDField", "DateField",
        "DateTimeField", "TimeField", "BooleanField", "GenericIPAddressField",
    }
)
_ROW_IS_NEW_ATTRIBUTES = frozenset({"pk", "id", "adding"})
# Operators Django's expressions support (``Combinable``: + - * / % **).
_F_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.Pow)
# ``try`` statements (``try``/``except*`` is ``ast.TryStar`` from Python 3.11).
_TRY: tuple[type[ast.AST], ...] = tuple(getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name))


class CodeView:
    """One function's (or the module's) tree with each node's parent, and the names the file imports.

    ``owner`` is the class whose method the function is (``self`` is an instance of it).
    """

    def __init__(
        self,
        root: ast.AST,
        imports: ImportTable | None = None,
        project: ProjectKnowledge = NO_PROJECT,
        module: str | None = None,
        owner: ast.ClassDef | None = None,
    ) -> None:
        self.root = root
        self.imports = imports if imports is not None else ImportTable()
        self.project = project
        self.module = module
        self.owner = owner
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(root):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        current = self.parents.get(node)
        while current is not None:
            yield current
            current = self.parents.get(current)

    def function(self, node: ast.AST) -> ast.AST:
        """The function (or lambda) whose body holds ``node``; the root at its top level."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, _Function):
                return ancestor
        return self.root

    def code_scope(self, node: ast.AST) -> ast.AST:
        """The function, class or module whose body holds ``node``."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, (*_Function, ast.ClassDef)):
                return ancestor
        return self.root

    def qualified(self, expr: ast.expr) -> str | None:
        name = self.imports.resolve(expr)
        return absolute_name(name, self.module) if name is not None else None


class _Views:
    """Per file: the views built so far, one per function that holds a reported finding."""

    built: dict[ast.AST, CodeView]

    __slots__ = ("built",)

    def __init__(self) -> None:
        self.built = {}


def view_of(ctx: FileContext, root: ast.AST | None = None) -> CodeView:
    """The view of ``root`` (default: the code the walk is in, a class body's being its definer's)."""
    owner: ast.ClassDef | None = None
    if root is None:
        scope = ctx.scope
        while scope.kind == "class" and scope.parent is not None:
            scope = scope.parent
        root = scope.node
        method_of = scope.enclosing_class
        owner = method_of.node if method_of is not None and isinstance(method_of.node, ast.ClassDef) else None
    views = ctx.state(_Views).built
    found = views.get(root)
    if found is None:
        found = views[root] = CodeView(root, ctx.imports, ctx.project, ctx.module, owner)
    return found


def _guarded(decide: Callable[[], FixPlan | NotFixable], ctx: FileContext) -> FixPlan | NotFixable:
    """``decide()``; an internal error refuses the fix and never stops the check (unless it is strict)."""
    try:
        return decide()
    except Exception as error:  # noqa: BLE001  (a fix left undone, never a check aborted)
        if ctx.strict:
            raise
        return NotFixable(f"internal error in the fix conditions: {type(error).__name__}: {error}")


def span(node: ast.AST) -> Span:
    return (
        getattr(node, "lineno", 0),
        getattr(node, "col_offset", 0),
        getattr(node, "end_lineno", 0) or 0,
        getattr(node, "end_col_offset", 0) or 0,
    )


def _after(node: ast.AST, mark: ast.AST) -> bool:
    """``node`` (a node with a position) starts after ``mark`` ends."""
    here, there = span(node), span(mark)
    return here[0] > 0 and here[:2] >= there[2:]


def _before(node: ast.AST, mark: ast.AST) -> bool:
    """``node`` (a node with a position) ends before ``mark`` starts."""
    here, there = span(node), span(mark)
    return here[0] > 0 and here[2:] <= there[:2]


def _own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``function``'s body, nested functions included (they may run later)."""
    body = function.body if isinstance(function, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)) else []
    for statement in body:
        yield from ast.walk(statement)


def _with_bases(model: ModelFact, project: ProjectKnowledge) -> list[ModelFact]:
    """``model`` and every project model it inherits from (an abstract base's ``save()`` runs too)."""
    found: list[ModelFact] = []
    pending = [model]
    while pending:
        current = pending.pop(0)
        if any(current.qualified_name == seen.qualified_name for seen in found):
            continue
        found.append(current)
        pending.extend(base for base in map(project.model, current.bases) if base is not None)
    return found


# -- CDJ301 -------------------------------------------------------------------------------------
def _is_field(node: ast.AST, key: str, field: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == field and dotted_name(node.value) == key


def _assigned_targets(statement: ast.AST) -> list[ast.expr]:
    if isinstance(statement, ast.Assign):
        return list(statement.targets)
    if isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
        return [statement.target]
    return []


def _binds(statement: ast.AST, key: str) -> bool:
    root = key.partition(".")[0]
    return any(
        isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store) and name.id == root
        for target in _assigned_targets(statement)
        for name in ast.walk(target)
    )


def _kind_of_name(name: str, function: ast.AST, before: ast.AST) -> str:
    """``"other"`` when ``name`` is last bound (before ``before``) to a list, str, dict... else ``""``."""
    known = ""
    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        arguments = function.args
        for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
            if argument.arg == name and argument.annotation is not None:
                annotation = argument.annotation
                base = annotation.value if isinstance(annotation, ast.Subscript) else annotation
                if (dotted_name(base) or "").rpartition(".")[2] in _NOT_NUMBER_ANNOTATIONS:
                    known = "other"
    for node in _own_nodes(function):
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None or not _before(node, before):
            continue
        if any(dotted_name(target) == name for target in _assigned_targets(node)):
            known = "other" if _not_a_number(node.value) else ""
    return known


def _not_a_number(value: ast.expr) -> bool:
    if isinstance(value, _NOT_NUMBERS):
        return True
    if isinstance(value, ast.Constant):
        return isinstance(value.value, (str, bytes, bool)) or value.value is None
    if isinstance(value, ast.Call):
        return (dotted_name(value.func) or "") in _NOT_NUMBER_CALLS
    if isinstance(value, ast.BinOp):
        return _not_a_number(value.left) or _not_a_number(value.right)
    return False


def _numeric(value: ast.expr, function: ast.AST, at: ast.AST) -> bool:
    """A number, or a name/attribute this function does not show holding a list, str or dict."""
    if isinstance(value, ast.Constant):
        return isinstance(value.value, (int, float, complex)) and not isinstance(value.value, bool)
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, (ast.USub, ast.UAdd)):
        return _numeric(value.operand, function, at)
    if isinstance(value, ast.BinOp):
        return _numeric(value.left, function, at) and _numeric(value.right, function, at)
    if isinstance(value, (ast.Name, ast.Attribute)):
        name = dotted_name(value)
        return name is not None and _kind_of_name(name, function, at) == ""
    if isinstance(value, ast.Call):
        return (dotted_name(value.func) or "") in _NUMERIC_CALLS and not value.keywords
    return False


def _operands(statement: ast.AST, key: str, field: str) -> list[ast.expr]:
    """The operands combined with the field's old value."""
    if isinstance(statement, ast.AugAssign):
        return [statement.value]
    assert isinstance(statement, ast.Assign)
    found: list[ast.expr] = []
    pending: list[ast.expr] = [statement.value]
    while pending:
        current = pending.pop()
        if isinstance(current, ast.BinOp):
            pending.extend((current.left, current.right))
        elif not _is_field(current, key, field):
            found.append(current)
    return found


def _row_may_be_new(statement: ast.AST, key: str, function: ast.AST, view: CodeView) -> str | None:
    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and function.name in _SAVES and key == "self":
        return "inside the model's own save() the row may not exist yet"
    for node in _own_nodes(function):
        if isinstance(node, ast.Attribute) and node.attr == "adding" and dotted_name(node.value) == f"{key}._state":
            return f"{key}._state.adding says the row may not exist yet"
    for ancestor in view.ancestors(statement):
        if ancestor is function:
            break
        if isinstance(ancestor, (ast.If, ast.While)):
            for node in ast.walk(ancestor.test):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in _ROW_IS_NEW_ATTRIBUTES
                    and dotted_name(node.value) == key
                ):
                    return f"the row may not exist yet under `if {ast.unparse(ancestor.test)}`"
    return None


def _model_of(key: str, function: ast.AST, statement: ast.AST, view: CodeView) -> str | None:
    """The model class ``key`` holds, as far as its binding in this function says."""
    if key == "self":
        owner = view.owner if function is view.root else view.parents.get(function)
        if isinstance(owner, ast.ClassDef):
            prefix = f"{view.module}." if view.module else ""
            return prefix + owner.name
        return None
    found: ast.expr | None = None
    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for argument in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs):
            if argument.arg == key and argument.annotation is not None:
                found = argument.annotation
    for node in _own_nodes(function):
        if isinstance(node, ast.Assign) and _before(node, statement) and any(
            dotted_name(target) == key for target in node.targets
        ):
            value = node.value.value if isinstance(node.value, ast.Await) else node.value
            found = None
            while isinstance(value, ast.Call):
                if dotted_name(value.func) in ("get_object_or_404", "shortcuts.get_object_or_404") and value.args:
                    found = value.args[0]
                    break
                inner = value.func
                value = inner.value if isinstance(inner, ast.Attribute) else inner
                if isinstance(value, ast.Attribute) and value.attr == "objects":
                    found = value.value
                    break
    if found is None:
        return None
    return view.qualified(found) or dotted_name(found)


def _save_statement(save: ast.Call, view: CodeView) -> ast.Expr | None:
    parent = view.parents.get(save)
    if isinstance(parent, ast.Await):
        parent = view.parents.get(parent)
    return parent if isinstance(parent, ast.Expr) else None


def _sibling_block(statement: ast.stmt, view: CodeView) -> list[ast.stmt] | None:
    parent = view.parents.get(statement)
    for name in ("body", "orelse", "finalbody", "handlers"):
        block = getattr(parent, name, None)
        if isinstance(block, list) and statement in block:
            return block
    return None


def _outlives(root: str, function: ast.AST) -> bool:
    """``root`` is a parameter (``self`` included) or a name the function does not bind: its caller sees it."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return True
    arguments = function.args
    if root in {argument.arg for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}:
        return True
    return not any(
        isinstance(node, ast.Name) and node.id == root and isinstance(node.ctx, ast.Store)
        for node in _own_nodes(function)
    )


def _used_after(save_line: ast.stmt, key: str, function: ast.AST, view: CodeView) -> bool:
    """``key`` is read after its save: a later statement, the next turn of a loop around it, or the
    caller (a parameter, ``self``, or a name the function does not bind)."""
    root = key.partition(".")[0]
    if _outlives(root, function):
        return True
    for node in _own_nodes(function):
        if not (isinstance(node, ast.Name) and node.id == root and isinstance(node.ctx, ast.Load)):
            continue
        if _after(node, save_line):
            parent = view.parents.get(node)
            call = view.parents.get(parent) if parent is not None else None
            if (
                isinstance(parent, ast.Attribute)
                and parent.attr in _REFRESHES
                and isinstance(call, ast.Call)
                and dotted_name(parent.value) == key
            ):
                continue
            return True
    for ancestor in view.ancestors(save_line):
        if ancestor is function:
            break
        if isinstance(ancestor, (ast.For, ast.AsyncFor)) and root not in _target_names(ancestor.target):
            return True
        if isinstance(ancestor, ast.While):
            return True
    return False


def _target_names(target: ast.expr) -> set[str]:
    return {node.id for node in ast.walk(target) if isinstance(node, ast.Name)}


def _saved_fields(save: ast.Call) -> tuple[str, ...] | None:
    """The save's literal ``update_fields`` (None when it writes every field)."""
    for keyword in save.keywords:
        if keyword.arg == "update_fields" and isinstance(keyword.value, (ast.List, ast.Tuple, ast.Set)):
            return tuple(
                str(item.value) for item in keyword.value.elts
                if isinstance(item, ast.Constant) and isinstance(item.value, str)
            )
    return None


def update_with_f(statement: ast.stmt, save: ast.Call, view: CodeView) -> UpdatePlan | NotFixable:
    """CDJ301: ``statement`` changes a field from its own value and ``save`` writes it."""
    if not isinstance(statement, (ast.AugAssign, ast.Assign)):
        return NotFixable("no rewrite for this form of change")
    target = statement.target if isinstance(statement, ast.AugAssign) else statement.targets[0]
    key = dotted_name(target.value) if isinstance(target, ast.Attribute) else None
    if key is None or not isinstance(target, ast.Attribute):
        return NotFixable("no rewrite for this form of change")
    field = target.attr
    shown = f"{key}.{field}"
    if isinstance(statement, ast.AugAssign) and not isinstance(statement.op, _F_OPERATORS):
        return NotFixable(f"F() expressions have no {type(statement.op).__name__} operator")
    function = view.function(statement)
    new_row = _row_may_be_new(statement, key, function, view)
    if new_row is not None:
        return NotFixable(f"{new_row}, and F() cannot be inserted")
    operands = _operands(statement, key, field)
    for operand in operands:
        if not _numeric(operand, function, statement):
            return NotFixable(f"`{ast.unparse(operand)}` may not be a number, and F() only does arithmetic")
    model_name = _model_of(key, function, statement, view)
    model = view.project.model(model_name) if model_name is not None else None
    if model is not None:
        if any(field in own.save_reads for own in _with_bases(model, view.project)):
            return NotFixable(f"{model.name}.save() reads {field}, which holds an F() expression until refreshed")
        declared = view.project.model_field(model, field)
        if declared is not None and declared.field_class in _NON_NUMERIC_FIELDS:
            return NotFixable(f"{model.name}.{field} is a {declared.field_class}, and F() only does arithmetic")
    for node in _own_nodes(function):
        if node is statement or not isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            continue
        if _before(node, statement) and any(_is_field(target, key, field) for target in _assigned_targets(node)):
            return NotFixable(f"{shown} is assigned earlier in the function, and F() would discard that value")
    if not (isinstance(save.func, ast.Attribute) and dotted_name(save.func.value) == key):
        return NotFixable(f"the save is {ast.unparse(save.func)}(), not {key}.save()")
    save_line = _save_statement(save, view)
    block = _sibling_block(statement, view)
    if save_line is None or block is None or save_line not in block:
        return NotFixable(f"{shown} may change more than once before its save (a loop or a branch between them)")
    for node in _own_nodes(function):
        if not (_after(node, statement) and _before(node, save_line)):
            continue
        if _is_field(node, key, field):
            return NotFixable(f"{shown} is read before the save, where it would hold an F() expression")
        if _binds(node, key):
            return NotFixable(f"{key} is bound again before the save")
    refresh_after = span(save) if _used_after(save_line, key, function, view) else None
    return UpdatePlan(
        key,
        field,
        tuple(ast.unparse(operand) for operand in sorted(operands, key=lambda node: (node.lineno, node.col_offset))),
        refresh_after,
        asynchronous=refresh_after is not None and isinstance(view.parents.get(save), ast.Await),
        update_fields=_saved_fields(save),
    )


def plan_update(statement: ast.stmt, save: ast.Call, ctx: FileContext) -> FixPlan | NotFixable:
    """CDJ301's plan, when its detector reports ``statement`` at ``save`` in the code being walked."""
    return _guarded(lambda: update_with_f(statement, save, view_of(ctx)), ctx)


# -- CDJ501-CDJ503, CDJ506 ---------------------------------------------------------------------------
def _atomic_using(call: ast.expr, view: CodeView) -> tuple[bool, ast.expr | None]:
    """Whether ``call`` is ``transaction.atomic`` (called or not), and its ``using`` argument."""
    target = call.func if isinstance(call, ast.Call) else call
    if view.qualified(target) not in _ATOMIC:
        return False, None
    if not isinstance(call, ast.Call):
        return True, None
    for keyword in call.keywords:
        if keyword.arg == "using":
            return True, keyword.value
    if call.args and not (isinstance(call.args[0], ast.Constant) and call.args[0].value is None):
        first = call.args[0]
        # ``atomic(func)`` decorates; ``atomic("billing")`` names the database
        return True, first if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
    return True, None


def _is_atomic_wrapper(expr: ast.expr, view: CodeView) -> bool:
    """A project wrapper around ``atomic`` (the index): which database it opens is not in sight."""
    if not view.project.enabled:
        return False
    name = view.qualified(expr.func if isinstance(expr, ast.Call) else expr)
    return name is not None and view.project.is_atomic_wrapper(name)


def _refuse_wrapper(expr: ast.expr) -> NotFixable:
    target = expr.func if isinstance(expr, ast.Call) else expr
    return NotFixable(f"the transaction is opened by {ast.unparse(target)}(), whose database on_commit cannot name")


def send_on_commit(call: ast.Call, send: str, view: CodeView) -> OnCommitPlan | NotFixable:
    """CDJ501-CDJ503, CDJ506: ``call`` publishes a task message now; ``send`` is the callable that does it."""
    statement = view.parents.get(call)
    if not isinstance(statement, ast.Expr):
        return NotFixable("the send's result is used, and transaction.on_commit returns nothing")
    method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    if method not in _SENDING_METHODS:
        return NotFixable("no rewrite for this form of send")
    using: ast.expr | None = None
    found_atomic = False
    child: ast.AST = call
    for ancestor in view.ancestors(call):
        if isinstance(ancestor, ast.ExceptHandler) or (
            isinstance(ancestor, _TRY) and child in getattr(ancestor, "finalbody", ())
        ):
            return NotFixable("sent from an except or finally block, which may run after a rollback")
        if isinstance(ancestor, ast.AsyncFunctionDef):
            return NotFixable("sent from async def, where transaction.on_commit raises SynchronousOnlyOperation")
        if isinstance(ancestor, (ast.With, ast.AsyncWith)) and not found_atomic:
            for item in ancestor.items:
                is_atomic, given = _atomic_using(item.context_expr, view)
                if is_atomic:
                    found_atomic, using = True, given
                elif _is_atomic_wrapper(item.context_expr, view):
                    return _refuse_wrapper(item.context_expr)
        if isinstance(ancestor, (ast.FunctionDef, ast.Lambda)):
            if isinstance(ancestor, ast.FunctionDef) and not found_atomic:
                for decorator in ancestor.decorator_list:
                    is_atomic, given = _atomic_using(decorator, view)
                    if is_atomic:
                        found_atomic, using = True, given
                    elif _is_atomic_wrapper(decorator, view):
                        return _refuse_wrapper(decorator)
            break
        child = ancestor
    if using is None:
        return OnCommitPlan(send, method)
    if not isinstance(using, (ast.Constant, ast.Name, ast.Attribute)):
        return NotFixable(f"the database of atomic(using={ast.unparse(using)}) cannot be carried to on_commit")
    return OnCommitPlan(send, method, ast.unparse(using), span(using))


def plan_on_commit(call: ast.Call, send: str, function: ast.AST, ctx: FileContext) -> FixPlan | NotFixable:
    """The plan of CDJ501-CDJ503 and CDJ506, reported on ``call`` (in ``function``) once the file is walked."""
    return _guarded(lambda: send_on_commit(call, send, view_of(ctx, function)), ctx)


# -- CDJ401 -------------------------------------------------------------------------------------
ONLY_CREATE = NotFixable("only Model.objects.create(...) in a loop is rewritten")


def bulk_create(call: ast.Call, view: CodeView) -> BulkCreatePlan | NotFixable:
    """CDJ401: ``call`` creates one row per iteration of the loop around it."""
    func = call.func
    if not (
        isinstance(func, ast.Attribute)
        and func.attr == "create"
        and isinstance(func.value, ast.Attribute)
        and isinstance(func.value.value, (ast.Name, ast.Attribute))
    ):
        return ONLY_CREATE
    if (dotted_name(func.value.value) or "").rpartition(".")[2][:1].islower():
        # ``order.lines.create``: a related manager sets the foreign key, ``Model(...)`` would not
        return ONLY_CREATE
    if call.args:
        return NotFixable("create() takes keyword arguments only, which Model(...) is given")
    statement = view.parents.get(call)
    if not isinstance(statement, ast.Expr):
        return NotFixable("the created object is used, and bulk_create returns no objects one by one")
    loop = view.parents.get(statement)
    if isinstance(loop, ast.AsyncFor):
        return NotFixable("an async for loop cannot become a list comprehension here")
    if not isinstance(loop, ast.For) or len(loop.body) != 1 or loop.orelse:
        return NotFixable("the loop does more than the create (only a loop of one create is rewritten)")
    if isinstance(view.code_scope(loop), ast.ClassDef):
        return NotFixable("in a class body a comprehension cannot see the class's names")
    bound = _target_names(loop.target)
    function = view.function(loop)
    for node in _own_nodes(function):
        if isinstance(node, ast.Name) and node.id in bound and isinstance(node.ctx, ast.Load) and _after(node, loop):
            return NotFixable(f"`{node.id}` is read after the loop, and a comprehension would not leave it bound")
    model_expr = func.value.value
    name = view.qualified(model_expr) or dotted_name(model_expr)
    model = view.project.model(name) if name is not None else None
    if model is not None:
        if any(own.overrides_save for own in _with_bases(model, view.project)):
            return NotFixable(f"{model.name}.save() is overridden, and bulk_create does not call it")
        if view.project.receivers_of(model.qualified_name, ("pre_save", "post_save")):
            return NotFixable(f"{model.name} has pre_save/post_save receivers, which bulk_create does not send")
    return BulkCreatePlan(model.qualified_name if model is not None else name or ast.unparse(model_expr), span(loop))


def plan_bulk_create(call: ast.Call, ctx: FileContext) -> FixPlan | NotFixable:
    """CDJ401's plan, when its detector reports ``call`` in the code being walked."""
    return _guarded(lambda: bulk_create(call, view_of(ctx)), ctx)
