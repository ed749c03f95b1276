from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule


@rule("CL113", "invalid-declaration", severity=Severity.ERROR)
def invalid_declaration(context: LintContext) -> Iterator[Finding]:
    """Dictionary declaration that does not make sense (check error E240).

    ## What it does
    Reports a `lab`, `fact`, `condition`, `treatment`, `event` or `procedure` declaration with
    an impossible part: a set of non-words, a range that is not plain numbers, a condition with a unit,
    a molar mass that is not a mass per amount.

    ## Why is this bad?
    The declaration cannot be used, so nothing that names the variable checks.

    ## Example
    ```
    lab ctDNA "Circulating tumour DNA": copies/mL
        plausible 0 copies/mL..1000000 copies/mL
    ```

    ## Use instead
    ```
    lab ctDNA "Circulating tumour DNA": copies/mL
        plausible 0..1000000
    ```
    """
    return check_errors(context, "E240")
