from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule


@rule("CL114", "type-error", severity=Severity.ERROR)
def type_error(context: LintContext) -> Iterator[Finding]:
    """Value used where it does not fit (check errors E303-E307, E310-E316).

    ## What it does
    Reports the checker's type errors: `x ULN` compared with something that is not a lab result,
    `<` on categories, values that cannot be compared, an `in` target that does not fit, arithmetic
    on non-numbers, a criterion or `except` that is not a condition, a condition used as a value,
    an event used as a number (use `count(...)`), a function or selector given the wrong arguments.

    ## Why is this bad?
    The expression has no meaning critlang can evaluate, so the file does not check.

    ## Example
    ```
    inclusion
      I7 "ECOG 0-2": ECOG
    ```

    ## Use instead
    ```
    inclusion
      I7 "ECOG 0-2": ECOG in 0..2
    ```
    """
    return check_errors(
        context,
        "E303",
        "E304",
        "E305",
        "E306",
        "E307",
        "E310",
        "E311",
        "E312",
        "E313",
        "E314",
        "E315",
        "E316",
    )
