from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule


@rule("CL107", "definition-cycle", severity=Severity.ERROR)
def definition_cycle(context: LintContext) -> Iterator[Finding]:
    """Definitions that refer to each other in a cycle (check error E230).

    ## What it does
    Reports a `define` that, directly or through other definitions, refers to itself, and names
    the cycle (`a -> b -> a`).

    ## Why is this bad?
    critlang guarantees that every program terminates: a definition cannot be recursive, so the
    file does not check.

    ## Example
    ```
    define adequate_marrow = ANC >= 1.5 x10^9/L and adequate_platelets
    define adequate_platelets = platelets >= 100 x10^9/L and adequate_marrow
    ```

    ## Use instead
    ```
    define adequate_platelets = platelets >= 100 x10^9/L
    define adequate_marrow = ANC >= 1.5 x10^9/L and adequate_platelets
    ```
    """
    return check_errors(context, "E230")
