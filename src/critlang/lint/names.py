"""Which names a file refers to, for the unused-definition and unused-use rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from critlang.lint.walk import ast_nodes
from critlang.syntax import ast

if TYPE_CHECKING:
    from critlang.lint.context import LintContext


def referenced(context: LintContext, nodes: Iterable[object]) -> set[str]:
    """The casefolded names (variables, definitions, anchors) written in ``nodes``."""
    names: set[str] = set()
    for root in nodes:
        for node in ast_nodes(context, root):
            if isinstance(node, ast.Name):
                names.add(node.name.casefold())
            elif isinstance(node, ast.Call) and node.function.casefold() == "age_at":
                names.add("age")
    return names
