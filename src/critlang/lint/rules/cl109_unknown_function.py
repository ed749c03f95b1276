from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule


@rule("CL109", "unknown-function", severity=Severity.ERROR)
def unknown_function(context: LintContext) -> Iterator[Finding]:
    """Call of a function critlang does not have (check error E203).

    ## What it does
    Reports a call whose name is neither a function of the fixed library (`age_at`,
    `cockcroft_gault`, `ckd_epi_2021`, `bmi`, `bsa_mosteller`, `days_between`, `abs`, `min`,
    `max`) nor a selector (`latest`, `earliest`, `min`, `max`, `any`, `all`, `count`).

    ## Why is this bad?
    The criterion cannot be evaluated; the library is fixed so that every formula is documented
    and shown in explanations.

    ## Example
    ```
    inclusion
      I4 "BMI < 35": body_mass_index(weight, height) < 35 kg/m2
    ```

    ## Use instead
    ```
    inclusion
      I4 "BMI < 35": bmi(weight, height) < 35 kg/m2
    ```
    """
    return check_errors(context, "E203")
