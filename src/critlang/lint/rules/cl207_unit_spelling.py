from __future__ import annotations

import re
from collections.abc import Iterator

from critlang.diagnostics import Edit, Fix
from critlang.errors import UnitError
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.walk import ast_nodes
from critlang.source import Span
from critlang.syntax import ast
from critlang.units import parse_unit

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
_REPLACEMENTS = {"×": "x", "µ": "u", "μ": "u", "·": ".", "−": "-", "²": "2", "³": "3"}


def ascii_unit(text: str) -> str:
    """The ASCII clinical spelling of a unit: `×10⁹/L` -> `x10^9/L`, `µmol/L` -> `umol/L`."""
    result = _SUPERSCRIPT_RUN.sub(
        lambda match: (
            ("" if match.group(0) in ("²", "³") else "^") + match.group(0).translate(_SUPERSCRIPTS)
        ),
        text,
    )
    for old, new in _REPLACEMENTS.items():
        result = result.replace(old, new)
    return re.sub(r"^([xX])[ \t]+(?=10)", r"\1", result)


@rule("CL207", "unit-spelling", fixable=True)
def unit_spelling(context: LintContext) -> Iterator[Finding]:
    """Unit written with typographic characters instead of its ASCII spelling.

    ## What it does
    Reports a unit written with `×`, superscript digits, `µ` or `μ`, `·` or `−`, as protocols
    typeset them (`1.5 × 10⁹/L`, `133 µmol/L`, `60 mL/min/1.73m²`), and fixes it to the ASCII
    spelling with the same meaning (`1.5 x10^9/L`, `133 umol/L`, `60 mL/min/1.73m2`). The fix
    is safe: it is made only when both spellings read as the same UCUM unit.

    ## Why is this bad?
    critlang reads both, but the typographic characters have look-alikes that are different
    characters (the micro sign `µ` and the Greek letter `μ`), cannot be typed on most keyboards,
    and defeat searching a file for a unit: one criterion in `µmol/L` and another in `umol/L`
    look different for no reason.

    ## Example
    ```
    inclusion
      I10.1 "ANC ≥1.5×10⁹/L": ANC >= 1.5 ×10⁹/L
    ```

    ## Use instead
    ```
    inclusion
      I10.1 "ANC ≥1.5×10⁹/L": ANC >= 1.5 x10^9/L
    ```
    """
    for node in ast_nodes(context, context.program):
        if isinstance(node, ast.Quantity | ast.UnitSpec) and not node.unit_text.isascii():
            written = node.unit_text
            span = Span(node.span.end - len(written), node.span.end)
            if context.text(span) != written:
                continue
            spelling = ascii_unit(written)
            try:
                same = parse_unit(spelling).code == node.unit
            except UnitError:
                same = False
            fix = (
                Fix(message=f"write `{spelling}`", edits=(Edit(span=span, text=spelling),))
                if same and spelling.isascii()
                else None
            )
            yield Finding(
                span=span,
                message=f"unit `{written}` is written with typographic characters",
                help=f"write `{spelling}`" if fix else "write the unit in ASCII (`u` for µ)",
                fix=fix,
            )
