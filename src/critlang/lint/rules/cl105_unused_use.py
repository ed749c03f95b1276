from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.names import referenced
from critlang.lint.registry import Finding, rule
from critlang.syntax import ast


@rule("CL105", "unused-use")
def unused_use(context: LintContext) -> Iterator[Finding]:
    """`use` of a file from which nothing is used.

    ## What it does
    Reports a `use` whose file (with the files it brings in) declares or defines no name that
    this file refers to: no variable, definition or anchor.

    ## Why is this bad?
    A reader looks in the used file for the meaning of the criteria and finds nothing that
    applies; if the file was meant to give a site-specific code or unit, the criteria do not use
    it and the standard entry is used instead.

    ## Example
    ```
    use "site-labs.crit"        # declares lab CD19_count, which no criterion uses

    inclusion
      I1 "Age ≥18 years": age >= 18 years
    ```

    ## Use instead
    ```
    inclusion
      I1 "Age ≥18 years": age >= 18 years
    ```
    """
    if not context.uses:
        return
    names = referenced(
        context,
        [
            item
            for item in context.program.items
            if isinstance(item, ast.Criterion | ast.Define | ast.Declaration)
        ],
    )
    for used in context.uses:
        if used.path is None or used.failed:
            continue  # a use that cannot be resolved or read is CL112
        if not used.provides & names:
            yield Finding(
                span=used.use.span,
                message=f'nothing from `use "{used.use.path}"` is used in this file',
                help="remove the `use`, or refer to what the file declares",
            )
