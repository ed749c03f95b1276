from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule


@rule("CL405", "window-not-duration", severity=Severity.ERROR)
def window_not_duration(context: LintContext) -> Iterator[Finding]:
    """Time window whose length is not a duration (check error E261).

    ## What it does
    Reports `within D ...` or `at least D before ...` where `D` is not a time: a unit slip such as
    `4 wk` written `4 w` (watts) or `6 m` (metres) for months.

    ## Why is this bad?
    The window has no length, so the file does not check.

    ## Example
    ```
    exclusion
      E7 "MI within 6 months": myocardial_infarction within 6 m before screening
    ```

    ## Use instead
    ```
    exclusion
      E7 "MI within 6 months": myocardial_infarction within 6 months before screening
    ```
    """
    return check_errors(context, "E261")
