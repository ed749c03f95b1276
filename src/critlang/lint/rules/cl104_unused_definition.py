from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.names import referenced
from critlang.lint.registry import Finding, rule
from critlang.lint.spans import define_name_span


@rule("CL104", "unused-definition")
def unused_definition(context: LintContext) -> Iterator[Finding]:
    """Definition that no criterion uses.

    ## What it does
    Reports a `define` that no criterion refers to, directly or through other definitions. A
    file without criteria (a library brought in with `use`) is not checked.

    ## Why is this bad?
    An unused definition is usually a criterion that was never written, or a leftover after a
    criterion changed: a reviewer reads a threshold that nothing applies.

    ## Example
    ```
    define adequate_marrow = ANC >= 1.5 x10^9/L and platelets >= 100 x10^9/L
    define adequate_liver = ALT <= 3 x ULN and AST <= 3 x ULN

    inclusion
      I10.1 "Adequate marrow": adequate_marrow
    ```

    ## Use instead
    ```
    define adequate_marrow = ANC >= 1.5 x10^9/L and platelets >= 100 x10^9/L
    define adequate_liver = ALT <= 3 x ULN and AST <= 3 x ULN

    inclusion
      I10.1 "Adequate marrow": adequate_marrow
      I10.2 "Adequate liver function": adequate_liver
    ```
    """
    program = context.program
    if not program.criteria:
        return
    bodies = {define.name.casefold(): define for define in program.definitions}
    reached: set[str] = set()
    pending = [
        name
        for name in referenced(context, (criterion.body for criterion in program.criteria))
        if name in bodies
    ]
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        reached.add(name)
        pending.extend(
            inner for inner in referenced(context, [bodies[name].expr]) if inner in bodies
        )
    for key, define in bodies.items():
        if key not in reached:
            yield Finding(
                span=define_name_span(context.source, define),
                message=f"`{define.name}` is defined but no criterion uses it",
                help="use it in a criterion, or remove it",
            )
