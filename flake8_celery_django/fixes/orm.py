"""CDJ301 and CDJ401 (both unsafe): let the database do the arithmetic, insert in one query.

CDJ301: ``obj.f += x`` -> ``obj.f = F("f") + x``; after ``save()`` the database adds ``x`` to
its current value, so concurrent updates are not lost.  Until ``refresh_from_db()`` the attribute
holds the expression, not a number (hence unsafe).

CDJ401: a loop whose whole body is ``Model.objects.create(**fields)`` -> one
``Model.objects.bulk_create([Model(**fields) for ... in ...])``; ``save()`` and the model signals
are skipped (hence unsafe).
"""

from __future__ import annotations

import libcst as cst

from flake8_celery_django.fix_plans import BulkCreatePlan, UpdatePlan
from flake8_celery_django.fixes.arguments import keep_alignment
from flake8_celery_django.fixes.registry import Edit, FixContext, Replacement, fixer

# Operators that Django's expressions support (``Combinable``: + - * / % **).
_OPERATORS: dict[type[cst.BaseAugOp], type[cst.BaseBinaryOp]] = {
    cst.AddAssign: cst.Add,
    cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide,
    cst.ModuloAssign: cst.Modulo,
    cst.PowerAssign: cst.Power,
}
_BINARY = frozenset(_OPERATORS.values())
_ATOMIC = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.List,
    cst.Tuple,
    cst.Dict,
    cst.Set,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
)


def _parenthesized(node: cst.BaseExpression) -> cst.BaseExpression:
    """``node`` wrapped in parentheses unless it binds tighter than any operator already."""
    if node.lpar or isinstance(node, _ATOMIC):
        return node
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _refresh_after_save(
    target: cst.Attribute, plan: UpdatePlan, ctx: FixContext
) -> tuple[tuple[cst.CSTNode, Replacement], ...] | None:
    """``obj.refresh_from_db(fields=["f"])`` inserted after the save the plan points at.

    An existing ``refresh_from_db(fields=[...])`` right after it gets the field added instead.
    ``()`` when no refresh is needed, ``None`` when the save cannot be found as a statement.
    """
    if plan.refresh_after is None:
        return ()
    save = ctx.node_at(plan.refresh_after, cst.Call)
    expression = ctx.parent(save) if save is not None else None
    if isinstance(expression, cst.Await):
        expression = ctx.parent(expression)
    line = ctx.parent(expression) if isinstance(expression, cst.Expr) else None
    block = ctx.parent(line) if isinstance(line, cst.SimpleStatementLine) else None
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1 or block is None:
        return None
    field = cst.SimpleString(f'"{plan.field}"')
    statements = getattr(block, "body", ())
    following = statements[statements.index(line) + 1] if line in statements[:-1] else None
    existing = _refresh_fields(following, target)
    if existing is not None:
        if any(isinstance(element.value, cst.SimpleString) and element.value.evaluated_value == plan.field
               for element in existing.elements):
            return ()
        elements = [*existing.elements]
        elements[-1] = elements[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return ((existing, existing.with_changes(elements=[*elements, cst.Element(field)])),)
    method = "arefresh_from_db" if plan.asynchronous else "refresh_from_db"
    call: cst.BaseExpression = cst.Call(
        func=cst.Attribute(value=target.value, attr=cst.Name(method)),
        args=[cst.Arg(keyword=cst.Name("fields"), value=cst.List([cst.Element(field)]),
                      equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))],
    )
    if plan.asynchronous:
        call = cst.Await(call)
    refresh = cst.SimpleStatementLine(body=[cst.Expr(call)])
    return ((line, cst.FlattenSentinel([line, refresh])),)


def _refresh_fields(statement: cst.CSTNode | None, target: cst.Attribute) -> cst.List | None:
    """The ``fields=[...]`` list of ``obj.refresh_from_db(fields=[...])`` as a whole statement."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    expression = statement.body[0]
    call = expression.value if isinstance(expression, cst.Expr) else None
    if isinstance(call, cst.Await):
        call = call.expression
    if not (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Attribute)
        and call.func.attr.value in ("refresh_from_db", "arefresh_from_db")
        and call.func.value.deep_equals(target.value)
        and len(call.args) == 1
        and call.args[0].keyword is not None
        and call.args[0].keyword.value == "fields"
        and isinstance(call.args[0].value, cst.List)
        and call.args[0].value.elements
    ):
        return None
    return call.args[0].value


@fixer("CDJ301", cst.AugAssign, cst.Assign, plan=UpdatePlan)
def update_with_f(node: cst.CSTNode, ctx: FixContext) -> Edit | None:
    """``obj.f += x`` / ``obj.f = obj.f + x`` -> ``obj.f = F("f") + x`` (and a refresh after the save)."""
    plan = ctx.plan
    if not isinstance(plan, UpdatePlan):
        return None
    target_node = node.target if isinstance(node, cst.AugAssign) else (
        node.targets[0].target if isinstance(node, cst.Assign) and len(node.targets) == 1 else None
    )
    if not isinstance(target_node, cst.Attribute):
        return None
    refresh = _refresh_after_save(target_node, plan, ctx)
    if refresh is None:
        return None
    edit = _assign_f(node, plan.field, ctx)
    return None if edit is None else Edit(edit.original, edit.replacement, edit.imports, refresh)


def _assign_f(node: cst.CSTNode, name: str, ctx: FixContext) -> Edit | None:
    f = ctx.imports.reference("django.db.models", "F")
    if isinstance(node, cst.AugAssign):
        target = node.target
        operator = _OPERATORS.get(type(node.operator))
        if not isinstance(target, cst.Attribute) or operator is None:
            return None
        field = cst.Call(func=f.node(), args=[cst.Arg(cst.SimpleString(f'"{name}"'))])
        value = cst.BinaryOperation(
            left=field,
            operator=operator(),
            right=_parenthesized(node.value),
        )
        replacement = cst.Assign(
            targets=[cst.AssignTarget(target=target)], value=value, semicolon=node.semicolon
        )
        return Edit(node, replacement, f.needs)
    if isinstance(node, cst.Assign):
        if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Attribute):
            return None
        target = node.targets[0].target
        field = cst.Call(func=f.node(), args=[cst.Arg(cst.SimpleString(f'"{name}"'))])
        assigned = node.value
        if not isinstance(assigned, cst.BinaryOperation) or type(assigned.operator) not in _BINARY:
            return None
        if assigned.right.deep_equals(target) and not assigned.right.lpar:
            return Edit(node, node.with_changes(value=assigned.with_changes(right=field)), f.needs)
        # obj.f = obj.f + a + b: the read is the leftmost operand of a chain of supported operators
        chain: list[cst.BinaryOperation] = [assigned]
        leftmost = assigned.left
        while isinstance(leftmost, cst.BinaryOperation) and type(leftmost.operator) in _BINARY and not leftmost.lpar:
            chain.append(leftmost)
            leftmost = leftmost.left
        if not leftmost.deep_equals(target) or leftmost.lpar:
            return None
        rebuilt: cst.BaseExpression = field
        for link in reversed(chain):
            rebuilt = link.with_changes(left=rebuilt)
        return Edit(node, node.with_changes(value=rebuilt), f.needs)
    return None


def _has_comment_outside(loop: cst.For, call: cst.Call, line: cst.SimpleStatementLine) -> bool:
    """Whether turning ``loop`` into one statement would drop a comment.

    Comments inside the call stay with it, and so does the comment at the end of its line.
    """

    class Comments(cst.CSTVisitor):
        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def visit_Comment(self, node: cst.Comment) -> None:
            self.count += 1

    everywhere, inside = Comments(), Comments()
    loop.visit(everywhere)
    call.visit(inside)
    kept = inside.count + (1 if line.trailing_whitespace.comment is not None else 0)
    kept += sum(1 for empty in loop.leading_lines if empty.comment is not None)
    return everywhere.count != kept


@fixer("CDJ401", cst.Call, plan=BulkCreatePlan)
def bulk_create(node: cst.CSTNode, ctx: FixContext) -> Edit | None:
    """``for x in xs: M.objects.create(**f(x))`` -> ``M.objects.bulk_create([M(**f(x)) for x in xs])``."""
    assert isinstance(node, cst.Call)
    plan = ctx.plan
    if not isinstance(plan, BulkCreatePlan):
        return None
    func = node.func
    if not (
        isinstance(func, cst.Attribute)
        and func.attr.value == "create"
        and isinstance(func.value, cst.Attribute)
        and isinstance(func.value.value, (cst.Name, cst.Attribute))
        and all(argument.keyword is not None or argument.star == "**" for argument in node.args)
    ):
        return None
    manager = func.value
    model = manager.value
    # the loop detection saw around the create, found by its exact range: its one statement is the create
    loop = ctx.node_at(plan.loop_at, cst.For)
    block = loop.body if loop is not None else None
    line = block.body[0] if isinstance(block, cst.IndentedBlock) and len(block.body) == 1 else None
    expression = line.body[0] if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 else None
    if not (
        isinstance(loop, cst.For)
        and loop.asynchronous is None
        and loop.orelse is None
        and isinstance(line, cst.SimpleStatementLine)
        and isinstance(expression, cst.Expr)
        and expression.value is node
    ):
        return None
    if _has_comment_outside(loop, node, line):
        return None
    iterable = loop.iter
    if not iterable.lpar and (isinstance(iterable, cst.Tuple) or not isinstance(iterable, _ATOMIC)):
        # ``for x in a, b`` or ``for x in a if c else b`` need parentheses inside a comprehension
        iterable = iterable.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    # "Manager.create(" becomes "Manager.bulk_create([Model(" one level out (block indents are relative)
    instance = keep_alignment(node, len(".bulk_create([(") + len(ctx.code(model)) - len(".create("))
    instance = instance.with_changes(func=model, lpar=(), rpar=())
    comprehension = cst.ListComp(
        elt=instance,
        for_in=cst.CompFor(target=loop.target, iter=iterable),
    )
    bulk = cst.Call(func=cst.Attribute(value=manager, attr=cst.Name("bulk_create")), args=[cst.Arg(comprehension)])
    one_line = ctx.column(loop) + len(cst.Module(body=[]).code_for_node(bulk))
    if one_line > ctx.line_length and "\n" not in ctx.code(node):
        # too long for one line: the list goes on a line of its own, as formatters lay it out
        if ctx.column(loop) + 4 + len(cst.Module(body=[]).code_for_node(comprehension)) > ctx.line_length:
            # still too long: the element and its "for" on lines of their own inside the brackets
            inner = cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace("        "))
            comprehension = comprehension.with_changes(
                lbracket=cst.LeftSquareBracket(whitespace_after=inner),
                for_in=comprehension.for_in.with_changes(whitespace_before=inner),
                rbracket=cst.RightSquareBracket(
                    whitespace_before=cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace("    "))
                ),
            )
        bulk = bulk.with_changes(
            whitespace_before_args=cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace("    ")),
            args=[cst.Arg(comprehension, whitespace_after_arg=cst.ParenthesizedWhitespace(indent=True))],
        )
    statement = cst.SimpleStatementLine(
        body=[cst.Expr(bulk)],
        leading_lines=loop.leading_lines,
        trailing_whitespace=line.trailing_whitespace,
    )
    return Edit(loop, statement)
