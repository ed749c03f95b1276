from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from critlang.errors import UnitError
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.walk import walk_ir
from critlang.semantics import ir
from critlang.semantics.dictionary import Variable
from critlang.units import conversion


@rule("CL203", "implausible-threshold")
def implausible_threshold(context: LintContext) -> Iterator[Finding]:
    """Threshold outside the range a real result can take.

    ## What it does
    Reports a number or quantity compared with a lab or fact (with `<`, `>=` ..., or as a bound
    of `in LOW..HIGH`) that lies, after conversion into the variable's unit, outside the
    variable's plausible range in the dictionary (`plausible 0..100` for ANC in 10*9/L; the
    declared range of an integer score such as ECOG 0..5).

    ## Why is this bad?
    No patient has such a value, so the comparison is decided by the threshold alone: everyone
    passes or everyone fails. It is almost always a unit slip: `1500` is the ANC per µL, written
    with the unit per litre ×10⁹.

    ## Example
    ```
    inclusion
      I10.1 "ANC ≥1500/µL": ANC >= 1500 x10^9/L
      I7 "ECOG 0-2": ECOG <= 20
    ```

    ## Use instead
    ```
    inclusion
      I10.1 "ANC ≥1500/µL": ANC >= 1500 /uL
      I7 "ECOG 0-2": ECOG <= 2
    ```
    """
    seen: set[int] = set()
    for _owner, root in context.checked():
        for node in walk_ir(root):
            pairs: list[tuple[ir.Value, ir.Value | None]] = []
            if isinstance(node, ir.Comparison):
                pairs = [(node.left, node.right), (node.right, node.left)]
            elif isinstance(node, ir.InRange):
                pairs = [(node.value, node.low), (node.value, node.high)]
            for subject, threshold in pairs:
                variable = _variable(subject)
                if variable is None or not isinstance(threshold, ir.Literal):
                    continue
                if id(threshold.origin) in seen:
                    continue
                finding = _check(variable, threshold)
                if finding is not None:
                    seen.add(id(threshold.origin))
                    yield finding


def _variable(value: ir.Value) -> Variable | None:
    if (isinstance(value, ir.LabSelection) and value.selector != "count") or isinstance(
        value, ir.FactValue
    ):
        variable = value.variable
    else:
        return None
    return variable if variable.plausible is not None else None


def _check(variable: Variable, threshold: ir.Literal) -> Finding | None:
    assert variable.plausible is not None
    if not isinstance(threshold.value, Fraction):
        return None
    value = threshold.value
    unit_text = ""
    if threshold.type.kind == "quantity" and threshold.type.unit is not None:
        if variable.unit is None:
            return None
        try:
            value = conversion(
                threshold.type.unit, variable.unit, molar_mass=variable.molar_mass
            ).apply_exact(value)
        except UnitError:
            return None
        unit_text = f" {variable.unit.code}"
    elif threshold.type.kind != "number" or variable.unit is not None:
        return None
    low, high = variable.plausible
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    written = getattr(threshold.origin, "text", "") or _number(threshold.value)
    shown_range = (
        f"{_number(low) if low is not None else ''}..{_number(high) if high is not None else ''}"
    )
    converted = ""
    help = "check the number against the protocol"
    if unit_text:
        assert threshold.type.unit is not None and variable.unit is not None
        if threshold.type.unit.code != variable.unit.code:
            converted = f" (= {_number(value)}{unit_text})"
        help = (
            "check the unit and the number against the protocol: a factor of 1000 (per µL "
            "vs ×10⁹/L) or 10 (g/L vs g/dL) between units is the usual slip"
        )
    return Finding(
        span=threshold.origin.span,
        message=(
            f"`{written}`{converted} is outside the plausible range of `{variable.name}` "
            f"({shown_range}{unit_text}): no patient has such a value"
        ),
        help=help,
    )


def _number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.6g}"
