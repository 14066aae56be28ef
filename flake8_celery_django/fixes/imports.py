"""The names a fix needs (``transaction``, ``partial``, ``F``), reused from the file or imported once.

A name already imported at module level is reused when nothing else in the file binds the same
name; otherwise one ``from module import name`` line is added after the module's leading imports
(under another name when the plain one is taken).
"""

from __future__ import annotations

import ast
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst


@dataclass(frozen=True, order=True)
class NeededImport:
    """``from module import name as alias``."""

    module: str
    name: str
    alias: str

    def statement(self) -> str:
        suffix = "" if self.alias == self.name else f" as {self.alias}"
        return f"from {self.module} import {self.name}{suffix}"


@dataclass(frozen=True)
class Reference:
    """The expression to write (``transaction.on_commit``) and the import it needs, if any."""

    expression: str
    needs: tuple[NeededImport, ...]

    def node(self) -> cst.BaseExpression:
        return cst.parse_expression(self.expression)


def _bound_names(tree: ast.Module) -> Counter[str]:
    """How many times each name is bound anywhere in the file (imports included)."""
    counts: Counter[str] = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            counts[node.id] += 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            counts[node.name] += 1
        elif isinstance(node, ast.arg):
            counts[node.arg] += 1
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                counts[(alias.asname or alias.name).partition(".")[0]] += 1
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            counts.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            counts[node.name] += 1
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            counts[node.name] += 1
        elif isinstance(node, ast.MatchMapping) and node.rest:
            counts[node.rest] += 1
    return counts


class ImportPlan:
    """Module-level imports of one file and every name it binds, to pick names for fixes."""

    def __init__(self, tree: ast.Module) -> None:
        self.bound = _bound_names(tree)
        self.star_import = False
        # local name -> dotted name it stands for, from module-level imports only
        self.module_names: dict[str, str] = {}
        for statement in tree.body:
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    if alias.asname:
                        self.module_names[alias.asname] = alias.name
                    elif "." not in alias.name:
                        self.module_names[alias.name] = alias.name
            elif isinstance(statement, ast.ImportFrom) and not statement.level and statement.module:
                for alias in statement.names:
                    if alias.name == "*":
                        self.star_import = True
                        continue
                    self.module_names[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
        self._planned: dict[tuple[str, str], NeededImport] = {}

    def _only_import(self, local: str) -> bool:
        return self.bound[local] == 1

    def _local_for(self, qualified: str) -> str | None:
        for local, target in self.module_names.items():
            if target == qualified and self._only_import(local):
                return local
        return None

    def reference(self, module: str, name: str, attribute: str = "") -> Reference:
        """How to write ``module.name[.attribute]`` in this file, and the import that takes."""
        tail = f".{attribute}" if attribute else ""
        if attribute:
            local = self._local_for(f"{module}.{name}.{attribute}")
            if local is not None:
                return Reference(local, ())
        local = self._local_for(f"{module}.{name}")
        if local is not None:
            return Reference(local + tail, ())
        local = self._local_for(module)
        if local is not None:
            return Reference(f"{local}.{name}{tail}", ())
        planned = self._planned.get((module, name))
        if planned is None:
            planned = NeededImport(module, name, self._free_alias(module, name))
            self._planned[(module, name)] = planned
        return Reference(planned.alias + tail, (planned,))

    def _free_alias(self, module: str, name: str) -> str:
        candidates = [name, f"{module.rpartition('.')[2]}_{name}", f"{module.replace('.', '_')}_{name}"]
        taken = {planned.alias for planned in self._planned.values()}
        for candidate in candidates:
            if not self.bound[candidate] and candidate not in taken and not self.star_import:
                return candidate
        for number in range(2, 1000):
            candidate = f"{name}_{number}"
            if not self.bound[candidate] and candidate not in taken:
                return candidate
        raise ValueError(f"no free name for {module}.{name}")


def _is_import_line(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


Statement = cst.SimpleStatementLine | cst.BaseCompoundStatement

# isort's and ruff's sections, in their order.
FUTURE, STANDARD_LIBRARY, THIRD_PARTY, FIRST_PARTY, LOCAL_FOLDER = range(5)


def first_party_names(root: str | None = None) -> frozenset[str]:
    """Top-level packages and modules in ``root`` (the working directory): first party, as isort says."""
    root = root or os.getcwd()
    try:
        entries = os.listdir(root)
    except OSError:
        return frozenset()
    names = set()
    for entry in entries:
        stem, suffix = os.path.splitext(entry)
        if suffix in (".py", ".pyi") or (not suffix and os.path.isdir(os.path.join(root, entry))):
            names.add(stem)
    return frozenset(names)


def section(module: str, level: int, first_party: frozenset[str]) -> int:
    """The isort section of ``from <level dots><module> import ...`` or ``import <module>``."""
    if level:
        return LOCAL_FOLDER
    top = module.partition(".")[0]
    if top == "__future__":
        return FUTURE
    if top in sys.stdlib_module_names:
        return STANDARD_LIBRARY
    return FIRST_PARTY if top in first_party else THIRD_PARTY


def name_key(name: str) -> tuple[int, str]:
    """isort's ``order_by_type``: CONSTANTS, then Classes, then the rest, each case-insensitively."""
    if name.isupper() and len(name) > 1:
        return (0, name.lower())
    if name[:1].isupper():
        return (1, name.lower())
    return (2, name.lower())


@dataclass(frozen=True)
class _ImportLine:
    """One statement of the leading import block."""

    index: int
    section: int
    straight: bool  # ``import x`` rather than ``from x import y``
    module: str


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return node.value if isinstance(node, cst.Name) else ""


def _leading_block(body: Sequence[Statement], first_party: frozenset[str]) -> tuple[int, list[_ImportLine]]:
    """Where imports may start (after the docstring) and the leading import statements."""
    start = 1 if body and _is_docstring(body[0]) else 0
    found: list[_ImportLine] = []
    for index in range(start, len(body)):
        statement = body[index]
        if not _is_import_line(statement):
            break
        assert isinstance(statement, cst.SimpleStatementLine)
        first = statement.body[0]
        if isinstance(first, cst.ImportFrom):
            module = _dotted(first.module) if first.module is not None else ""
            level = len(first.relative)
            found.append(_ImportLine(index, section(module, level, first_party), False, module))
        else:
            assert isinstance(first, cst.Import)
            module = _dotted(first.names[0].name)
            found.append(_ImportLine(index, section(module, 0, first_party), True, module))
    return start, found


def _from_line(entry: NeededImport) -> cst.SimpleStatementLine:
    statement = cst.parse_statement(entry.statement() + "\n")
    assert isinstance(statement, cst.SimpleStatementLine)
    return statement


def _alias(entry: NeededImport) -> cst.ImportAlias:
    asname = cst.AsName(cst.Name(entry.alias)) if entry.alias != entry.name else None
    return cst.ImportAlias(name=cst.Name(entry.name), asname=asname)


def _merged(
    statement: cst.SimpleStatementLine, entry: NeededImport, line_length: int
) -> cst.SimpleStatementLine | None:
    """``from m import a, c`` with ``b`` added in isort's order, or None when it cannot take it."""
    node = statement.body[0]
    if len(statement.body) != 1 or not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
        return None
    names = list(node.names)
    position = len(names)
    for number, existing in enumerate(names):
        if name_key(_dotted(existing.name)) > name_key(entry.name):
            position = number
            break
    added = _alias(entry)
    if node.lpar is not None:
        # one name per line in parentheses: the new one takes the layout of its neighbours
        template = names[0].comma
        if not isinstance(template, cst.Comma):
            return None
        if position == len(names):
            last = names[-1]
            names[-1] = last.with_changes(comma=template)
            names.append(added.with_changes(comma=last.comma))
        else:
            names.insert(position, added.with_changes(comma=template))
        return statement.with_changes(body=[node.with_changes(names=names)])
    plain = [name.with_changes(comma=cst.MaybeSentinel.DEFAULT) for name in names]
    plain.insert(position, added)
    one_line = node.with_changes(names=plain)
    code = cst.Module(body=[]).code_for_node(statement.with_changes(body=[one_line]))
    if len(code.rstrip("\n").split("\n")[-1]) <= line_length and "\n" not in code.rstrip("\n"):
        return statement.with_changes(body=[one_line])
    # too long for one line: one name per line, in parentheses (black's and ruff's layout)
    comma = cst.Comma(whitespace_after=cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace("    ")))
    last_comma = cst.Comma(whitespace_after=cst.ParenthesizedWhitespace(indent=True))
    wrapped = [name.with_changes(comma=comma) for name in plain[:-1]] + [plain[-1].with_changes(comma=last_comma)]
    return statement.with_changes(
        body=[
            one_line.with_changes(
                names=wrapped,
                lpar=cst.LeftParen(
                    whitespace_after=cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace("    "))
                ),
                rpar=cst.RightParen(),
            )
        ]
    )


def _import_at(body: Sequence[Statement], position: int) -> cst.SimpleStatementLine:
    statement = body[position]
    assert isinstance(statement, cst.SimpleStatementLine)  # a line of the leading import block
    return statement


def _add_one(
    body: list[Statement], entry: NeededImport, line_length: int, first_party: frozenset[str]
) -> None:
    start, block = _leading_block(body, first_party)
    for line in block:
        statement = body[line.index]
        if not line.straight and line.module == entry.module and isinstance(statement, cst.SimpleStatementLine):
            merged = _merged(statement, entry, line_length)
            if merged is not None:
                body[line.index] = merged
                return
    wanted = section(entry.module, 0, first_party)
    new = _from_line(entry)
    same = [line for line in block if line.section == wanted]
    if same:
        position = same[-1].index + 1
        for line in same:
            if not line.straight and line.module.lower() > entry.module.lower():
                position = line.index
                break
        if position == same[0].index:
            # first of its section: it takes the blank lines and comments above the section
            new = new.with_changes(leading_lines=_import_at(body, position).leading_lines)
            body[position] = _import_at(body, position).with_changes(leading_lines=())
        body.insert(position, new)
        return
    earlier = [line for line in block if line.section < wanted]
    later = [line for line in block if line.section > wanted]
    blank = (cst.EmptyLine(),)
    if earlier:
        body.insert(earlier[-1].index + 1, new.with_changes(leading_lines=blank))
    elif later:
        position = later[0].index
        new = new.with_changes(leading_lines=_import_at(body, position).leading_lines)
        body[position] = _import_at(body, position).with_changes(leading_lines=blank)
        body.insert(position, new)
    else:
        body.insert(start, new)


def add_imports(
    module: cst.Module,
    needed: list[NeededImport],
    line_length: int = 79,
    first_party: frozenset[str] | None = None,
) -> cst.Module:
    """``module`` with each needed import placed as isort and ruff would place it.

    Merged into an existing ``from module import ...`` of the leading imports, else a new line in
    its section (standard library, third party, first party), in order; a section that is not
    there yet gets a blank line between it and its neighbours.
    """
    if not needed:
        return module
    first_party = first_party_names() if first_party is None else first_party
    body = list(module.body)
    for entry in sorted(set(needed)):
        _add_one(body, entry, line_length, first_party)
    return module.with_changes(body=body)
