from __future__ import annotations

import re
from collections.abc import Iterator

from critlang.diagnostics import Applicability, Edit, Fix, Severity
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule

_ONE_SUGGESTION = re.compile(r"did you mean `([A-Za-z_][A-Za-z0-9_]*)`\?")


@rule("CL101", "unknown-name", severity=Severity.ERROR, fixable=True)
def unknown_name(context: LintContext) -> Iterator[Finding]:
    """Name that is neither in the dictionary nor defined (check error E201).

    ## What it does
    Reports a name that resolves to no dictionary entry, definition or built-in, with the
    closest known names as a suggestion. When there is exactly one suggestion, an unsafe fix
    replaces the name with it (`--fix` does not apply it: a person must confirm the variable).

    ## Why is this bad?
    The criterion cannot be checked or evaluated. A misspelt lab (`ANCC`) is the usual cause; a
    variable the trial needs but the dictionary lacks must be declared.

    ## Example
    ```
    inclusion
      I1 "ANC ≥1.5×10⁹/L": ANCC >= 1.5 x10^9/L
    ```

    ## Use instead
    ```
    inclusion
      I1 "ANC ≥1.5×10⁹/L": ANC >= 1.5 x10^9/L
    ```
    or declare the variable: `lab CD19_count "CD19+ B cells": /uL`.
    """
    for error in context.errors("E201"):
        fix = None
        match = _ONE_SUGGESTION.fullmatch(error.help or "")
        if match:
            fix = Fix(
                message=f"replace with `{match.group(1)}`",
                edits=(Edit(span=error.span, text=match.group(1)),),
                applicability=Applicability.UNSAFE,
            )
        yield Finding(span=error.span, message=error.message, help=error.help, fix=fix)
