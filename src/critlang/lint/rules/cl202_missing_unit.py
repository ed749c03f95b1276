from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Applicability, Edit, Fix, Severity
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.walk import ast_nodes
from critlang.syntax import ast


@rule("CL202", "missing-unit", severity=Severity.ERROR, fixable=True)
def missing_unit(context: LintContext) -> Iterator[Finding]:
    """Plain number where a quantity with a unit is needed (check error E302).

    ## What it does
    Reports a threshold written without a unit and compared with a quantity: `ANC >= 1.5`,
    `age >= 18`. When the other side is a variable with a unit, an unsafe fix writes the
    variable's unit after the number; `--fix` does not apply it, because the protocol may have
    meant another unit (1.5 ×10⁹/L or 1500/µL).

    ## Why is this bad?
    A number without a unit is ambiguous exactly where protocols differ: ANC is written in
    ×10⁹/L, /µL and /mm³, creatinine in mg/dL and µmol/L. critlang never guesses a unit, so the
    file does not check.

    ## Example
    ```
    inclusion
      I10.1 "ANC ≥1.5×10⁹/L": ANC >= 1.5
    ```

    ## Use instead
    ```
    inclusion
      I10.1 "ANC ≥1.5×10⁹/L": ANC >= 1.5 x10^9/L
    ```
    """
    missing = [
        error for error in context.errors("E302") if "a number without a unit" in error.message
    ]
    if not missing:
        return
    comparisons = {
        node.span: node
        for node in ast_nodes(context, context.program)
        if isinstance(node, ast.Compare)
    }
    for error in missing:
        fix = _fix(context, comparisons.get(error.span))
        # The fix names the unit the variable is declared in; the checker's help only its code.
        help = None if fix is not None else error.help
        yield Finding(span=error.span, message=error.message, help=help, fix=fix)


def _fix(context: LintContext, comparison: ast.Compare | None) -> Fix | None:
    if comparison is None:
        return None
    pairs = ((comparison.left, comparison.right), (comparison.right, comparison.left))
    for number, other in pairs:
        if not isinstance(number, ast.Number) or not isinstance(other, ast.Name):
            continue
        if other.name.casefold() == "age":
            unit = "years"
        else:
            variable = context.dictionary.lookup(other.name)
            if variable is None or variable.unit is None:
                return None
            unit = variable.unit.code
        return Fix(
            message=f"write the unit: `{context.text(number.span)} {unit}`",
            edits=(Edit(span=number.span, text=f"{context.text(number.span)} {unit}"),),
            applicability=Applicability.UNSAFE,
        )
    return None
