"""AST -> text, with the fewest parentheses that keep the meaning.

Used by explanations (``ANC >= 1.5 x10^9/L``) and by the round-trip property
``parse(print(parse(s))) == parse(s)``. Quantities keep the spelling they were written in.
"""

from __future__ import annotations

from decimal import Decimal

from critlang.syntax import ast

# Binding strength, loosest first; an operand binding more loosely than its parent needs parentheses.
(
    LEVEL_IF,
    LEVEL_IMPLIES,
    LEVEL_OR,
    LEVEL_AND,
    LEVEL_NOT,
    LEVEL_POSTFIX,
    LEVEL_COMPARE,
    LEVEL_SUM,
    LEVEL_PRODUCT,
    LEVEL_POWER,
    LEVEL_UNARY,
    LEVEL_ATOM,
) = range(12)


def decimal_text(value: Decimal) -> str:
    """A decimal as written plainly: ``1.50`` -> ``1.5``, no exponent."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def quoted(value: str) -> str:
    """A string literal: quoted, with quotes and backslashes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def binding_level(node: object) -> int:
    """How tightly ``node``'s operator binds (``LEVEL_IF`` loosest ... ``LEVEL_ATOM``)."""
    if isinstance(node, ast.IfThenElse):
        return LEVEL_IF
    if isinstance(node, ast.Implies):
        return LEVEL_IMPLIES
    if isinstance(node, ast.Logical):
        return LEVEL_OR if node.operator == "or" else LEVEL_AND
    if isinstance(node, ast.Not):
        return LEVEL_NOT
    if isinstance(node, ast.Windowed | ast.Except):
        return LEVEL_POSTFIX
    if isinstance(node, ast.Compare | ast.Member | ast.Presence):
        return LEVEL_COMPARE
    if isinstance(node, ast.Arithmetic):
        return LEVEL_SUM if node.operator in "+-" else LEVEL_PRODUCT
    if isinstance(node, ast.Power):
        return LEVEL_POWER
    if isinstance(node, ast.Negate):
        return LEVEL_UNARY
    return LEVEL_ATOM


def _wrapped(node: object, minimum: int) -> str:
    text = expression_text(node)
    return f"({text})" if binding_level(node) < minimum else text


def expression_text(node: object) -> str:
    """The canonical text of an expression (or of a window, range or set)."""
    if isinstance(node, ast.Number):
        return decimal_text(node.value)
    if isinstance(node, ast.Quantity):
        return node.text or f"{decimal_text(node.value)} {node.unit}"
    if isinstance(node, ast.LimitMultiple):
        return f"{decimal_text(node.factor)} x {node.limit}"
    if isinstance(node, ast.DateLiteral):
        return node.text or node.value.isoformat()
    if isinstance(node, ast.Code):
        return str(node)
    if isinstance(node, ast.String):
        return quoted(node.value)
    if isinstance(node, ast.Boolean):
        return "true" if node.value else "false"
    if isinstance(node, ast.Symbol | ast.Name):
        return node.name
    if isinstance(node, ast.Range):
        low = expression_text(node.low) if node.low is not None else ""
        high = expression_text(node.high) if node.high is not None else ""
        return f"{low}..{high}"
    if isinstance(node, ast.SetLiteral):
        return "{" + ", ".join(expression_text(item) for item in node.items) + "}"
    if isinstance(node, ast.Call):
        return f"{node.function}({', '.join(expression_text(arg) for arg in node.args)})"
    if isinstance(node, ast.Negate):
        return f"-{_wrapped(node.operand, LEVEL_UNARY)}"
    if isinstance(node, ast.Power):
        return f"{_wrapped(node.base, LEVEL_UNARY)}^{node.exponent}"
    if isinstance(node, ast.Arithmetic):
        level = binding_level(node)
        # Left-associative: the right operand of `-` or `/` needs parentheses at the same level.
        return f"{_wrapped(node.left, level)} {node.operator} {_wrapped(node.right, level + 1)}"
    if isinstance(node, ast.Compare):
        return f"{_wrapped(node.left, LEVEL_SUM)} {node.operator} {_wrapped(node.right, LEVEL_SUM)}"
    if isinstance(node, ast.Member):
        word = "not in" if node.negated else "in"
        return f"{_wrapped(node.value, LEVEL_SUM)} {word} {expression_text(node.target)}"
    if isinstance(node, ast.Presence):
        return f"{_wrapped(node.value, LEVEL_SUM)} is {'known' if node.known else 'missing'}"
    if isinstance(node, ast.Not):
        return f"not {_wrapped(node.operand, LEVEL_NOT)}"
    if isinstance(node, ast.Logical):
        level = binding_level(node)
        return f" {node.operator} ".join(_wrapped(item, level + 1) for item in node.operands)
    if isinstance(node, ast.Implies):
        return f"{_wrapped(node.left, LEVEL_OR)} implies {_wrapped(node.right, LEVEL_IMPLIES)}"
    if isinstance(node, ast.IfThenElse):
        return (
            f"if {expression_text(node.condition)} then {_wrapped(node.then, LEVEL_IMPLIES)} "
            f"else {expression_text(node.otherwise)}"
        )
    if isinstance(node, ast.Windowed):
        return f"{_wrapped(node.expr, LEVEL_POSTFIX)} {expression_text(node.window)}"
    if isinstance(node, ast.Except):
        return (
            f"{_wrapped(node.expr, LEVEL_POSTFIX)} except {_wrapped(node.excluded, LEVEL_COMPARE)}"
        )
    if isinstance(node, ast.Window):
        anchor = expression_text(node.anchor)
        duration = expression_text(node.duration) if node.duration is not None else ""
        if node.kind == "within":
            return f"within {duration} {node.side} {anchor}"
        if node.kind == "at_least_before":
            return f"at least {duration} before {anchor}"
        return f"{node.kind} {anchor}"
    return "?"
