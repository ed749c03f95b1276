from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule


@rule("CL102", "unknown-anchor", severity=Severity.ERROR)
def unknown_anchor(context: LintContext) -> Iterator[Finding]:
    """Time window measured from an anchor that no record supplies (check error E220).

    ## What it does
    Reports a window whose anchor is neither a standard anchor (`screening`, `enrollment`,
    `treatment`, `infusion`, `lymphodepletion`, `consent` ...) nor declared with `anchor`.

    ## Why is this bad?
    The window has no date to be measured from: the criterion cannot be checked, and a
    misspelt anchor (`screnning`) would leave every patient undecided.

    ## Example
    ```
    exclusion
      E3 "Live vaccine within 4 weeks of screening": live_vaccine within 4 weeks before screnning
    ```

    ## Use instead
    ```
    exclusion
      E3 "Live vaccine within 4 weeks of screening": live_vaccine within 4 weeks before screening
    ```
    """
    return check_errors(context, "E220")
