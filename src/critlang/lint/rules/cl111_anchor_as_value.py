from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule


@rule("CL111", "anchor-as-value", severity=Severity.ERROR)
def anchor_as_value(context: LintContext) -> Iterator[Finding]:
    """Anchor used as a value instead of in a time window (check error E212).

    ## What it does
    Reports an anchor (`screening`, `treatment` ...) written where a value is expected.

    ## Why is this bad?
    An anchor is a date that windows are measured from; comparing it directly is almost always a
    window written the wrong way round.

    ## Example
    ```
    exclusion
      E4 "Chemotherapy in the 3 weeks before treatment": chemotherapy >= treatment
    ```

    ## Use instead
    ```
    exclusion
      E4 "Chemotherapy in the 3 weeks before treatment": chemotherapy within 3 weeks before treatment
    ```
    """
    return check_errors(context, "E212")
