"""CDJ201/CDJ202: give the HTTP call a timeout (``--cdj-default-timeout``, 30 seconds by default)."""

from __future__ import annotations

import libcst as cst

from flake8_celery_django.fix_plans import TimeoutPlan
from flake8_celery_django.fixes.arguments import append_argument, fits, number, one_per_line, stacked
from flake8_celery_django.fixes.layout import moved_arguments, statement_too_wide
from flake8_celery_django.fixes.registry import Edit, FixContext, fixer


def _timeout_keyword(value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        value=value,
        keyword=cst.Name("timeout"),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


@fixer("CDJ201", cst.Call, plan=TimeoutPlan)
def add_timeout(node: cst.CSTNode, ctx: FixContext) -> Edit | None:
    """``requests.get(url)`` -> ``requests.get(url, timeout=30)``: detection found no timeout passed."""
    assert isinstance(node, cst.Call)
    if not isinstance(ctx.plan, TimeoutPlan):
        return None
    timeout = _timeout_keyword(number(ctx.settings.default_timeout))
    fixed = append_argument(node, timeout)
    column = ctx.column(node)
    if fits(node, column, ctx.line_length) and not fits(fixed, column, ctx.line_length):
        fixed = one_per_line(fixed)  # the fix makes it too long for max-line-length: one argument per line
    elif statement_too_wide(node, fixed, ctx):
        # written across lines, its last line now too long: everything one per line
        fixed = stacked(append_argument(moved_arguments(node, ctx, 4), timeout))
    return Edit(node, fixed)


@fixer("CDJ202", cst.Call, plan=TimeoutPlan)
def replace_timeout_none(node: cst.CSTNode, ctx: FixContext) -> Edit | None:
    """The ``None`` detection read as the timeout (the keyword, or the positional argument the plan
    names) becomes ``--cdj-default-timeout``."""
    assert isinstance(node, cst.Call)
    plan = ctx.plan
    if not isinstance(plan, TimeoutPlan):
        return None
    arguments = list(node.args)
    index: int | None = None
    if plan.position is None:
        for position, argument in enumerate(arguments):
            if argument.keyword is not None and argument.keyword.value == "timeout":
                index = position
    else:
        positional = [i for i, argument in enumerate(arguments) if argument.keyword is None and not argument.star]
        if len(positional) > plan.position:
            index = positional[plan.position]
    if index is None or not _is_none(arguments[index].value):
        return None
    none = arguments[index].value
    arguments[index] = arguments[index].with_changes(
        value=number(ctx.settings.default_timeout).with_changes(lpar=none.lpar, rpar=none.rpar)
    )
    return Edit(node, node.with_changes(args=arguments))
