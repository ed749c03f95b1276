from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule


@rule("CL206", "unit-on-plain-number", severity=Severity.ERROR)
def unit_on_plain_number(context: LintContext) -> Iterator[Finding]:
    """Quantity with a unit compared with a value that has none (check error E302).

    ## What it does
    Reports a threshold with a unit compared with a variable that the dictionary declares as a
    plain number or score: `ECOG <= 2 points`, `INR <= 1.5 s`.

    ## Why is this bad?
    The unit says the author had another measurement in mind (a prothrombin time in seconds, not
    the INR); the comparison has no meaning and the file does not check.

    ## Example
    ```
    inclusion
      I9 "INR ≤1.5": INR <= 1.5 s
    ```

    ## Use instead
    ```
    inclusion
      I9 "INR ≤1.5": INR <= 1.5
    ```
    """
    return check_errors(
        context, "E302", keep=lambda error: "a number without a unit" not in error.message
    )
