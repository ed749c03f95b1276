from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule


@rule("CL110", "duplicate-definition", severity=Severity.ERROR)
def duplicate_definition(context: LintContext) -> Iterator[Finding]:
    """Name defined twice (check error E211).

    ## What it does
    Reports a `define` whose name (compared case-insensitively) is already defined in the file or
    in a file it brings in with `use`.

    ## Why is this bad?
    Only one of the two bodies can be meant; the file does not check until one is renamed or
    removed.

    ## Example
    ```
    define adequate_marrow = ANC >= 1.5 x10^9/L
    define adequate_marrow = ANC >= 1.0 x10^9/L and platelets >= 75 x10^9/L
    ```

    ## Use instead
    ```
    define adequate_marrow = ANC >= 1.0 x10^9/L and platelets >= 75 x10^9/L
    ```
    """
    return check_errors(context, "E211")
