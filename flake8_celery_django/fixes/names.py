"""Names a piece of code reads and binds, as the late-binding and loop fixes need them."""

from __future__ import annotations

import libcst as cst


class Names(cst.CSTVisitor):
    """Names read (``loads``) and bound (``stores``) in a subtree, skipping nested functions."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.stores: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.loads.append(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)  # ``o.id`` reads ``o``, not a variable ``id``
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)  # ``f(key=value)`` reads ``value`` only
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.stores.update(target_names(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.stores.update(target_names(node.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.stores.update(target_names(node.target))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.stores.update(target_names(node.target))

    def visit_For(self, node: cst.For) -> None:
        self.stores.update(target_names(node.target))

    def visit_AsName(self, node: cst.AsName) -> None:
        self.stores.update(target_names(node.name))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.stores.add(node.name.value)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.stores.add(node.name.value)
        return False


def target_names(target: cst.BaseExpression) -> set[str]:
    """Names bound by an assignment target (``a``, ``a, b``, ``[a, *b]``)."""
    found: set[str] = set()
    pending: list[cst.BaseExpression] = [target]
    while pending:
        current = pending.pop()
        if isinstance(current, cst.Name):
            found.add(current.value)
        elif isinstance(current, (cst.Tuple, cst.List)):
            pending.extend(element.value for element in current.elements)
        elif isinstance(current, cst.StarredElement):
            pending.append(current.value)
    return found


def called_name(call: cst.Call) -> str:
    """``delay`` for ``task.delay(...)``, ``on_commit`` for ``on_commit(...)``: the name being called."""
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return ""
