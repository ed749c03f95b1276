from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule


@rule("CL103", "duplicate-criterion-id", severity=Severity.ERROR)
def duplicate_criterion_id(context: LintContext) -> Iterator[Finding]:
    """Criterion ID used twice in a file (check error E210).

    ## What it does
    Reports a criterion whose ID (compared case-insensitively) an earlier criterion already has,
    in either section.

    ## Why is this bad?
    Results, explanations and reports name criteria by ID (`failed only I10.1`): two criteria
    with one ID cannot be told apart, and a copied criterion is often a protocol item entered twice.

    ## Example
    ```
    inclusion
      I7 "ECOG 0-2": ECOG in 0..2
      I7 "Life expectancy > 12 weeks": life_expectancy > 12 weeks
    ```

    ## Use instead
    ```
    inclusion
      I7 "ECOG 0-2": ECOG in 0..2
      I8 "Life expectancy > 12 weeks": life_expectancy > 12 weeks
    ```
    """
    return check_errors(context, "E210")
