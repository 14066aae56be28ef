"""CDJ201/CDJ202: give the HTTP call a timeout (``--cdj-default-timeout``, 30 seconds by default)."""

from __future__ import annotations

import libcst as cst

from flake8_celery_django.fixes.arguments import append_argument, fits, number, one_per_line
from flake8_celery_django.fixes.names import called_name
from flake8_celery_django.fixes.registry import Edit, FixContext, fixer

# Where detection accepts a positional timeout (see rules/http_timeouts.py): urlopen's third
# argument, Session.request's ninth.
_URLOPEN_TIMEOUT_POSITION = 2
_SESSION_REQUEST_TIMEOUT_POSITION = 8


def _timeout_keyword(value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        value=value,
        keyword=cst.Name("timeout"),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


@fixer("CDJ201", cst.Call)
def add_timeout(node: cst.CSTNode, ctx: FixContext) -> Edit | None:
    assert isinstance(node, cst.Call)
    if any(argument.star == "**" or argument.keyword is not None and argument.keyword.value == "timeout"
           for argument in node.args):
        return None
    timeout = _timeout_keyword(number(ctx.settings.default_timeout))
    fixed = append_argument(node, timeout)
    column = ctx.column(node)
    if fits(node, column, ctx.line_length) and not fits(fixed, column, ctx.line_length):
        fixed = one_per_line(fixed)  # the fix makes it too long for max-line-length: one argument per line
    return Edit(node, fixed)


@fixer("CDJ202", cst.Call)
def replace_timeout_none(node: cst.CSTNode, ctx: FixContext) -> Edit | None:
    assert isinstance(node, cst.Call)
    arguments = list(node.args)
    index: int | None = None
    for position, argument in enumerate(arguments):
        if argument.keyword is not None and argument.keyword.value == "timeout":
            index = position
    if index is None:
        positional = [i for i, argument in enumerate(arguments) if argument.keyword is None and not argument.star]
        wanted = (
            _SESSION_REQUEST_TIMEOUT_POSITION if called_name(node) == "request" else _URLOPEN_TIMEOUT_POSITION
        )
        if len(positional) > wanted:
            index = positional[wanted]
    if index is None or not _is_none(arguments[index].value):
        return None
    none = arguments[index].value
    arguments[index] = arguments[index].with_changes(
        value=number(ctx.settings.default_timeout).with_changes(lpar=none.lpar, rpar=none.rpar)
    )
    return Edit(node, node.with_changes(args=arguments))
