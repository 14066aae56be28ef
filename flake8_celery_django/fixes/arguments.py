"""Adding an argument to a call in the call's own layout (one line, or one argument per line)."""

from __future__ import annotations

import libcst as cst


def _spacing_after_comma(call: cst.Call) -> cst.BaseParenthesizableWhitespace:
    """The whitespace that separates arguments in this call: a space, or a newline and indent."""
    for argument in call.args[:-1]:
        if isinstance(argument.comma, cst.Comma):
            return argument.comma.whitespace_after
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return call.whitespace_before_args
    return cst.SimpleWhitespace(" ")


def append_argument(call: cst.Call, new: cst.Arg) -> cst.Call:
    """``call`` with ``new`` as its last argument, keeping a trailing comma and line breaks."""
    arguments = list(call.args)
    if not arguments:
        return call.with_changes(args=[new])
    last = arguments[-1]
    spacing = _spacing_after_comma(call)
    if isinstance(last.comma, cst.Comma):
        # f(a,\n) -> f(a,\n    new,\n): the old trailing comma moves to the new last argument
        arguments[-1] = last.with_changes(comma=cst.Comma(whitespace_after=spacing))
        arguments.append(new.with_changes(comma=last.comma))
    else:
        arguments[-1] = last.with_changes(
            comma=cst.Comma(whitespace_after=spacing), whitespace_after_arg=cst.SimpleWhitespace("")
        )
        arguments.append(new.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=arguments)


def number(value: float) -> cst.BaseNumber:
    """``30`` for 30.0, ``2.5`` for 2.5."""
    if value == int(value):
        return cst.Integer(str(int(value)))
    return cst.Float(repr(value))
