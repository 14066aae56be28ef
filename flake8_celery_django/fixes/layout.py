"""Where a fix's new code goes past the line length, and moving arguments to lines of their own."""

from __future__ import annotations

import libcst as cst

from flake8_celery_django.fixes.arguments import moved_to_own_line, widest_line
from flake8_celery_django.fixes.registry import FixContext


def statement_too_wide(target: cst.BaseExpression, replacement: cst.BaseExpression, ctx: FixContext) -> bool:
    """``replacement`` in place of ``target``, which spans lines, takes its statement wider than it may be."""
    statement = ctx.parent(target)
    while statement is not None and not isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        statement = ctx.parent(statement)
    if not isinstance(statement, cst.SimpleStatementLine) or "\n" not in ctx.code(target):
        return False
    indent = ctx.column(statement)
    fixed = statement.deep_replace(target, replacement)
    return isinstance(fixed, cst.SimpleStatementLine) and widest_line(fixed, indent) > max(
        ctx.line_length, widest_line(statement, indent)
    )


def moved_arguments(call: cst.Call, ctx: FixContext, column: int) -> cst.Call:
    """``call`` with each argument's continuation lines moved for a line of its own at ``column``."""
    moved = []
    for argument in call.args:
        old_column, line_indent = ctx.placement(argument)
        moved.append(moved_to_own_line(argument, old_column, line_indent, column))
    return call.with_changes(args=moved)
