"""Walking the AST and the checked IR, for rules that look at every node."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import attrs

from critlang.semantics import ir
from critlang.syntax import ast

if TYPE_CHECKING:
    from critlang.lint.context import LintContext

IrNode = ir.Condition | ir.Value | ir.OccurrenceQuery | ir.WindowSpec


def walk_ast(root: object) -> Iterator[ast.Node]:
    """Every AST node under ``root`` (itself included), parents before children, in source
    order. Iterative: trees are bounded in depth by the parser, but not in breadth."""
    stack: list[object] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Node):
            yield node
        stack.extend(reversed(_children(node)))


class NodeTable:
    """Every AST node of a program in :func:`walk_ast`'s order, walked once: the nodes under any
    node of it are a slice (its own and its descendants' positions are consecutive)."""

    def __init__(self, root: object) -> None:
        self.nodes: list[ast.Node] = []
        self.places: dict[int, tuple[ast.Node, int, int]] = {}  # id -> node, first, last + 1
        opened: list[tuple[ast.Node, int]] = []
        stack: list[object] = [root]
        while stack:
            node = stack.pop()
            if node is _CLOSE:
                closed, first = opened.pop()
                self.places[id(closed)] = (closed, first, len(self.nodes))
                continue
            if isinstance(node, ast.Node):
                opened.append((node, len(self.nodes)))
                self.nodes.append(node)
                stack.append(_CLOSE)
            stack.extend(reversed(_children(node)))

    def under(self, root: object) -> Sequence[ast.Node]:
        """The nodes under ``root`` (itself included), as :func:`walk_ast` gives them."""
        place = self.places.get(id(root))
        if place is None or place[0] is not root:
            return list(walk_ast(root))  # not in this program (a used file's definition)
        return self.nodes[place[1] : place[2]]


_CLOSE = object()


def _children(node: object) -> list[ast.Node]:
    """The AST nodes directly under ``node``, in source order."""
    children: list[ast.Node] = []
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, tuple):
            children.extend(item for item in value if isinstance(item, ast.Node))
        elif isinstance(value, ast.Node):
            children.append(value)
    return children


def ast_nodes(context: LintContext, root: object) -> Sequence[ast.Node]:
    """:func:`walk_ast` of ``root`` as a sequence, from the file's node table (built once per
    file, shared by the rules)."""
    table = context.memo(__name__, lambda: NodeTable(context.program))
    return table.under(root)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(node_type: type) -> tuple[str, ...]:
    """The fields of an AST class that may hold nodes (not its span, names or numbers)."""
    found = _FIELDS.get(node_type)
    if found is None:
        found = (
            tuple(
                field.name
                for field in attrs.fields(node_type)
                if field.name != "span" and field.type not in ("str", "bool", "int", "Decimal")
            )
            if attrs.has(node_type)
            else ()
        )
        _FIELDS[node_type] = found
    return found


def expressions(program: ast.Program) -> Iterator[tuple[ast.Criterion | ast.Define, ast.Expr]]:
    """Every criterion body that is an expression and every definition body, with its owner."""
    for item in program.items:
        if isinstance(item, ast.Criterion) and not isinstance(item.body, ast.Review):
            yield item, item.body
        elif isinstance(item, ast.Define):
            yield item, item.expr


def walk_ir(root: IrNode, into_definitions: bool = False) -> Iterator[IrNode]:
    """Every IR node under ``root``, parents first. Definition bodies are entered only when
    ``into_definitions`` (their nodes point into the definition's text, maybe in another file)."""
    stack: list[IrNode] = [root]
    while stack:
        node = stack.pop()
        yield node
        children: list[IrNode] = []
        if isinstance(node, ir.DefinedCondition | ir.DefinedValue):
            if into_definitions:
                children.append(node.body)
        elif isinstance(node, ir.All | ir.Any_):
            children.extend(node.items)
        elif isinstance(node, ir.Negation):
            children.append(node.item)
        elif isinstance(node, ir.Implication):
            children += [node.premise, node.conclusion]
        elif isinstance(node, ir.Branch):
            children += [node.condition, node.then, node.otherwise]
        elif isinstance(node, ir.Comparison):
            children += [node.left, node.right]
        elif isinstance(node, ir.InRange):
            children += [v for v in (node.value, node.low, node.high) if v is not None]
        elif isinstance(node, ir.InSet):
            children.append(node.value)
        elif isinstance(node, ir.Presence | ir.Occurs):
            children.append(node.value if isinstance(node, ir.Presence) else node.query)
        elif isinstance(node, ir.Count):
            children.append(node.query)
        elif isinstance(node, ir.Arithmetic | ir.FunctionCall):
            children.extend(node.operands if isinstance(node, ir.Arithmetic) else node.args)
        elif isinstance(node, ir.LabSelection | ir.OccurrenceQuery) and node.window is not None:
            children.append(node.window)
        stack.extend(reversed(children))
