"""Import aliases resolved to qualified names (``import requests as r`` makes ``r.get`` ``requests.get``)."""

from __future__ import annotations

import ast


class ImportTable:
    """Local names bound by import statements, mapped to the dotted names they stand for.

    Relative imports keep their dots: ``from .models import Order`` maps ``Order`` to ``.models.Order``.
    """

    __slots__ = ("names", "roots")

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        # Top-level packages imported anywhere in the file, for families that exit early without them.
        self.roots: set[str] = set()

    def add(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.partition(".")[0]
                self.roots.add(top)
                if alias.asname:
                    self.names[alias.asname] = alias.name
                else:
                    self.names[top] = top
            return
        module = "." * (node.level or 0) + (node.module or "")
        if not node.level and node.module:
            self.roots.add(node.module.partition(".")[0])
        for alias in node.names:
            if alias.name == "*":
                continue
            separator = "" if module.endswith(".") or not module else "."
            self.names[alias.asname or alias.name] = f"{module}{separator}{alias.name}"

    def resolve(self, node: ast.expr) -> str | None:
        """The qualified name of a ``Name`` or ``Attribute`` chain rooted at an imported name."""
        # Most names a rule asks about are not imported: look at the root before building the name.
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name):
            return None
        qualified = self.names.get(root.id)
        if qualified is None:
            return None
        dotted = dotted_name(node)
        if dotted is None:
            return None
        return qualified + dotted[len(root.id):]


def dotted_name(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, whatever the name is bound to."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    parts.reverse()
    return ".".join(parts)
