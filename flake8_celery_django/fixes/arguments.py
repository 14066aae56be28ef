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


def _split(
    trailing: cst.BaseParenthesizableWhitespace, spacing: cst.BaseParenthesizableWhitespace
) -> tuple[cst.BaseParenthesizableWhitespace, cst.BaseParenthesizableWhitespace]:
    """(whitespace after the old last argument's comma, whitespace after the new argument).

    In a one-argument-per-line call the comment on the old last line stays on that line and the
    line break before the closing parenthesis moves after the new argument.
    """
    if isinstance(trailing, cst.ParenthesizedWhitespace) and isinstance(spacing, cst.ParenthesizedWhitespace):
        separator = trailing.with_changes(indent=spacing.indent, last_line=spacing.last_line)
        tail = trailing.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        return separator, tail
    return spacing, trailing


def append_argument(call: cst.Call, new: cst.Arg) -> cst.Call:
    """``call`` with ``new`` as its last argument, keeping a trailing comma, comments and line breaks."""
    arguments = list(call.args)
    if not arguments:
        return call.with_changes(args=[new])
    last = arguments[-1]
    spacing = _spacing_after_comma(call)
    if isinstance(last.comma, cst.Comma):
        separator, tail = _split(last.comma.whitespace_after, spacing)
        arguments[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=separator))
        arguments.append(new.with_changes(comma=cst.Comma(whitespace_after=tail)))
    else:
        separator, tail = _split(last.whitespace_after_arg, spacing)
        arguments[-1] = last.with_changes(
            comma=cst.Comma(whitespace_after=separator), whitespace_after_arg=cst.SimpleWhitespace("")
        )
        arguments.append(new.with_changes(whitespace_after_arg=tail))
    return call.with_changes(args=arguments)


def number(value: float) -> cst.BaseNumber:
    """``30`` for 30.0, ``2.5`` for 2.5."""
    if value == int(value):
        return cst.Integer(str(int(value)))
    return cst.Float(repr(value))


class _Shift(cst.CSTTransformer):
    def __init__(self, delta: int) -> None:
        super().__init__()
        self.delta = delta

    def _moved(self, text: str) -> str:
        if self.delta >= 0:
            return " " * self.delta + text
        spaces = len(text) - len(text.lstrip(" "))
        return text[min(spaces, -self.delta):]

    def leave_ParenthesizedWhitespace(
        self, original_node: cst.ParenthesizedWhitespace, updated_node: cst.ParenthesizedWhitespace
    ) -> cst.ParenthesizedWhitespace:
        moved = self._moved(updated_node.last_line.value)
        lines = [line.with_changes(whitespace=cst.SimpleWhitespace(self._moved(line.whitespace.value)))
                 for line in updated_node.empty_lines]
        return updated_node.with_changes(last_line=cst.SimpleWhitespace(moved), empty_lines=lines)


class _Indents(cst.CSTVisitor):
    """The indentation (past the block's) of every continuation line in a subtree."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[int] = []

    def visit_ParenthesizedWhitespace(self, node: cst.ParenthesizedWhitespace) -> None:
        if node.indent:
            self.found.append(len(node.last_line.value))


def keep_alignment(call: cst.Call, delta: int, opening: int | None = None) -> cst.Call:
    """``call`` with its continuation lines moved ``delta`` columns, when they line up with its ``(``.

    A fix that writes something before the call's arguments moves its first line to the right;
    arguments aligned under the opening parenthesis (not a hanging indent) must move as well.
    ``opening`` is the column just after the ``(``, past the block's indentation, when known: a
    continuation line left of it is a hanging indent, and nothing moves.
    """
    if delta == 0 or isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return call
    if opening is not None:
        indents = _Indents()
        for argument in call.args:
            argument.visit(indents)
        if indents.found and min(indents.found) < opening:
            return call
    shifted = [argument.visit(_Shift(delta)) for argument in call.args]
    return call.with_changes(args=shifted)


def fits(node: cst.CSTNode, column: int, line_length: int) -> bool:
    """Whether ``node`` written from ``column`` stays within ``line_length`` (one written over
    several lines is left to its own layout, and counts as fitting)."""
    code = cst.Module(body=[]).code_for_node(node)
    return "\n" in code or column + len(code) <= line_length


def one_per_line(call: cst.Call, depth: int = 0) -> cst.Call:
    """``call`` with each argument on a line of its own, one level in (as black and ruff lay it out).

    ``depth`` is how many levels the call itself is indented past its statement. Several arguments
    get a trailing comma; the closing parenthesis goes back to the call's own indent.
    """
    indented = cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace("    " * (depth + 1)))
    closing = cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace("    " * depth))
    arguments = [argument.with_changes(comma=cst.Comma(whitespace_after=indented)) for argument in call.args[:-1]]
    last = call.args[-1]
    if arguments:
        arguments.append(last.with_changes(comma=cst.Comma(whitespace_after=closing)))
    else:
        arguments.append(last.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=closing))
    return call.with_changes(whitespace_before_args=indented, args=arguments)
