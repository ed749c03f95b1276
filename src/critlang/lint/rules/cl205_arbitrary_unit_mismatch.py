from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.units import involves_arbitrary_unit


@rule("CL205", "arbitrary-unit-mismatch", severity=Severity.ERROR)
def arbitrary_unit_mismatch(context: LintContext) -> Iterator[Finding]:
    """Arbitrary unit compared with a different unit (check error E301 on `[IU]`, `[arb'U]` ...).

    ## What it does
    Reports a comparison where one side is in an arbitrary unit (international units `[IU]`,
    `[arb'U]`, `[CFU]` ...) and the other in any other unit: `HBV_DNA` in `IU/mL` against a
    threshold in `copies/mL`, or `ALT` (enzyme units `U/L`) against `IU/L`.

    ## Why is this bad?
    An arbitrary unit is defined by a reference preparation of one assay, not by SI units: it
    converts only to itself. 1 IU of HBV DNA is about 5 copies, depending on the assay; the
    factor is not knowable from the units, so the comparison has no meaning and the file does not
    check. (A dictionary entry may *accept* `[IU]/L` results as `U/L` for enzymes; the criterion's
    own threshold must still be in the entry's unit.)

    ## Example
    ```
    exclusion
      E10 "HBV DNA > 2000 IU/mL": HBV_DNA > 10000 copies/mL
    ```

    ## Use instead
    ```
    exclusion
      E10 "HBV DNA > 2000 IU/mL": HBV_DNA > 2000 IU/mL
    ```
    """
    return check_errors(
        context,
        "E301",
        keep=involves_arbitrary_unit,
        help=lambda error: (
            "arbitrary units convert only to themselves" + (f"; {error.help}" if error.help else "")
        ),
    )
