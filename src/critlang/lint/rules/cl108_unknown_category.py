from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule


@rule("CL108", "unknown-category", severity=Severity.ERROR)
def unknown_category(context: LintContext) -> Iterator[Finding]:
    """Word that is not one of a value's categories (check error E202).

    ## What it does
    Reports a word compared with a categorical value (`sex`, `HBsAg`, `pregnancy_test`) or
    listed in a set, that is not one of the categories the dictionary declares for it, with the
    closest category as a suggestion.

    ## Why is this bad?
    The comparison could never be true: `sex = femal` would silently exclude every woman, so the
    checker rejects it.

    ## Example
    ```
    inclusion
      I2 "Women only": sex = femal
    ```

    ## Use instead
    ```
    inclusion
      I2 "Women only": sex = female
    ```
    """
    return check_errors(context, "E202")
