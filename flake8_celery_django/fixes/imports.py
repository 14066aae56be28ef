"""The names a fix needs (``transaction``, ``partial``, ``F``), reused from the file or imported once.

A name already imported at module level is reused when nothing else in the file binds the same
name; otherwise one ``from module import name`` line is added after the module's leading imports
(under another name when the plain one is taken).
"""

from __future__ import annotations

import ast
from collections import Counter
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


def add_imports(module: cst.Module, needed: list[NeededImport]) -> cst.Module:
    """``module`` with one import line per needed import, after its leading imports."""
    if not needed:
        return module
    body = list(module.body)
    position = 0
    for index, statement in enumerate(body):
        if index == 0 and _is_docstring(statement):
            position = 1
            continue
        if _is_import_line(statement):
            position = index + 1
            continue
        break
    lines = [cst.parse_statement(entry.statement() + "\n") for entry in sorted(set(needed))]
    body[position:position] = lines
    return module.with_changes(body=body)
