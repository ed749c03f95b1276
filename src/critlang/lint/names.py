"""Which names a file refers to, for the unused-definition and unused-use rules."""

from __future__ import annotations

from collections.abc import Iterable

from critlang.lint.walk import walk_ast
from critlang.syntax import ast


def referenced(nodes: Iterable[object]) -> set[str]:
    """The casefolded names (variables, definitions, anchors) written in ``nodes``."""
    names: set[str] = set()
    for root in nodes:
        for node in walk_ast(root):
            if isinstance(node, ast.Name):
                names.add(node.name.casefold())
            elif isinstance(node, ast.Call) and node.function.casefold() == "age_at":
                names.add("age")
    return names
