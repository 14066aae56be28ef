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


def _indented(text: str, columns: int) -> str:
    """``text`` with its leading spaces changed by ``columns`` (never below none)."""
    spaces = len(text) - len(text.lstrip(" "))
    return " " * max(0, spaces + columns) + text[spaces:]


class _Shift(cst.CSTTransformer):
    def __init__(self, delta: int) -> None:
        super().__init__()
        self.delta = delta

    def _moved(self, text: str) -> str:
        return _indented(text, self.delta)

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


def widest_line(node: cst.BaseExpression | cst.SimpleStatementLine, indent: int) -> int:
    """The longest line ``node`` (a statement, or an expression as one) takes indented ``indent`` columns."""
    statement = node if isinstance(node, cst.SimpleStatementLine) else cst.SimpleStatementLine([cst.Expr(node)])
    statement = statement.with_changes(leading_lines=())
    if indent <= 0:
        return max(len(line) for line in cst.Module(body=[statement]).code.splitlines())
    block = cst.IndentedBlock([statement], indent=" " * indent)
    code = cst.Module(body=[cst.If(test=cst.Name("_"), body=block)]).code
    return max(len(line) for line in code.splitlines()[1:])


class _Reindent(cst.CSTTransformer):
    """The continuation lines inside an argument that moves to a line of its own.

    A line indented at least as far as the argument's old column was aligned with something in the
    argument, and moves as far as the argument does; one indented less hung from the indentation
    of the argument's old line, and keeps that relation to the new line.  Columns count from the
    statement's indentation, as libcst writes continuation lines.
    """

    def __init__(self, column: int, aligned: int, hanging: int) -> None:
        super().__init__()
        self.column = column
        self.aligned = aligned
        self.hanging = hanging

    def _moved(self, text: str) -> str:
        spaces = len(text) - len(text.lstrip(" "))
        return _indented(text, self.aligned if spaces >= self.column else self.hanging)

    def leave_ParenthesizedWhitespace(
        self, original_node: cst.ParenthesizedWhitespace, updated_node: cst.ParenthesizedWhitespace
    ) -> cst.ParenthesizedWhitespace:
        if not updated_node.indent:
            return updated_node
        lines = [
            line.with_changes(whitespace=cst.SimpleWhitespace(self._moved(line.whitespace.value)))
            if line.comment is not None else line
            for line in updated_node.empty_lines
        ]
        return updated_node.with_changes(last_line=cst.SimpleWhitespace(self._moved(updated_node.last_line.value)),
                                         empty_lines=lines)


def moved_to_own_line(argument: cst.Arg, column: int, line_indent: int, new_column: int) -> cst.Arg:
    """``argument``, written at ``column`` on a line indented ``line_indent``, moved to a line of
    its own indented ``new_column`` (all counted from the statement's indentation)."""
    moved = argument.visit(_Reindent(column, new_column - column, new_column - line_indent))
    return moved if isinstance(moved, cst.Arg) else argument


def _line_break(columns: int, kept: cst.BaseParenthesizableWhitespace | None) -> cst.ParenthesizedWhitespace:
    """A line break to ``columns`` past the statement's indentation, keeping the comment (and the
    comment lines) that ``kept`` had at that place."""
    last = cst.SimpleWhitespace(" " * columns)
    if isinstance(kept, cst.ParenthesizedWhitespace):
        lines = [
            line.with_changes(indent=True, whitespace=cst.SimpleWhitespace(" " * columns))
            if line.comment is not None else line
            for line in kept.empty_lines
        ]
        return kept.with_changes(empty_lines=lines, indent=True, last_line=last)
    return cst.ParenthesizedWhitespace(indent=True, last_line=last)


def _after(argument: cst.Arg) -> cst.BaseParenthesizableWhitespace:
    if isinstance(argument.comma, cst.Comma):
        return argument.comma.whitespace_after
    return argument.whitespace_after_arg


def stacked(call: cst.Call, depth: int = 0) -> cst.Call:
    """``call`` with each argument on a line of its own, one level in, keeping the comments that
    were between them (``one_per_line`` for a call that may already span lines).

    The arguments' own continuation lines are the caller's to move (``moved_to_own_line``).
    """
    inner, closing = 4 * (depth + 1), 4 * depth
    arguments: list[cst.Arg] = []
    for index, argument in enumerate(call.args):
        last = index == len(call.args) - 1
        spacing = _line_break(closing if last else inner, _after(argument))
        if last and len(call.args) == 1:
            arguments.append(argument.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=spacing))
            continue
        comma = argument.comma if isinstance(argument.comma, cst.Comma) else cst.Comma()
        arguments.append(argument.with_changes(comma=comma.with_changes(whitespace_after=spacing),
                                               whitespace_after_arg=cst.SimpleWhitespace("")))
    return call.with_changes(whitespace_before_args=_line_break(inner, call.whitespace_before_args), args=arguments)
