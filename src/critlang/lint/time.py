"""Time windows as the time rules see them: each window of the file with what it restricts."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import attrs

from critlang.errors import UnitError
from critlang.lint.context import LintContext
from critlang.lint.walk import ast_nodes, expressions
from critlang.semantics.dictionary import LAB, Variable
from critlang.syntax import ast
from critlang.units import conversion, parse_unit

_DAYS = parse_unit("d")


@attrs.frozen(kw_only=True)
class WindowUse:
    """A window, the expression it restricts, the criterion or definition it is in, and the
    dictionary variables named under it (definitions are not followed)."""

    window: ast.Window
    subject: ast.Expr
    owner: ast.Criterion | ast.Define
    variables: tuple[Variable, ...]

    @property
    def on_labs_only(self) -> bool:
        return bool(self.variables) and all(v.kind == LAB for v in self.variables)


def windows(context: LintContext) -> tuple[WindowUse, ...]:
    """Every window of the file's criteria and definitions, in source order."""
    return context.memo(__name__, lambda: tuple(_windows(context)))


def _windows(context: LintContext) -> Iterator[WindowUse]:
    for owner, body in expressions(context.program):
        for node in ast_nodes(context, body):
            if isinstance(node, ast.Windowed):
                names = [n for n in ast_nodes(context, node.expr) if isinstance(n, ast.Name)]
                found = []
                for name in names:
                    variable = context.dictionary.lookup(name.name)
                    if variable is not None:
                        found.append(variable)
                yield WindowUse(
                    window=node.window, subject=node.expr, owner=owner, variables=tuple(found)
                )


def days(quantity: ast.Quantity) -> Fraction | None:
    """A duration in days (months and years at their mean length), or None if not a time."""
    try:
        return conversion(parse_unit(quantity.unit), _DAYS).apply_exact(quantity.value)
    except UnitError:
        return None
