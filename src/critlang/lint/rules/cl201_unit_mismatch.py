from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.units import involves_arbitrary_unit


@rule("CL201", "unit-mismatch", severity=Severity.ERROR)
def unit_mismatch(context: LintContext) -> Iterator[Finding]:
    """Quantities of different dimensions compared or added (check error E301).

    ## What it does
    Reports a comparison, range or sum whose two sides have units of different dimensions, such
    as a count per volume and a mass per volume, that no conversion can bring together (mass and
    amount of substance convert when the dictionary gives the analyte's molar mass). Mismatches
    that involve an arbitrary unit are CL205.

    ## Why is this bad?
    The threshold was written in the unit of another lab (haemoglobin's `g/dL` for the ANC), or
    for another analyte: the criterion has no meaning, and the file does not check.

    ## Example
    ```
    inclusion
      I10.1 "ANC ≥1.5×10⁹/L": ANC >= 9 g/dL
    ```

    ## Use instead
    ```
    inclusion
      I10.1 "ANC ≥1.5×10⁹/L": ANC >= 1.5 x10^9/L
    ```
    """
    return check_errors(context, "E301", keep=lambda error: not involves_arbitrary_unit(error))
