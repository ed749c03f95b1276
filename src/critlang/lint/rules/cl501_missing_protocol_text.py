from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.spans import criterion_id_span


@rule("CL501", "missing-protocol-text")
def missing_protocol_text(context: LintContext) -> Iterator[Finding]:
    """Criterion without the protocol's wording.

    ## What it does
    Reports a criterion written without its quoted protocol text: `I7: ECOG in 0..2` instead of
    `I7 "ECOG performance status 0-2": ECOG in 0..2`.

    ## Why is this bad?
    The quoted text is the protocol's own wording; it is carried into every explanation and
    report, and it is what a reviewer compares the expression with. Without it, a coordinator
    reading `I7 NOT MET` cannot tell what the protocol asked.

    ## Example
    ```
    inclusion
      I7: ECOG in 0..2
    ```

    ## Use instead
    ```
    inclusion
      I7 "ECOG performance status score of 0-2.": ECOG in 0..2
    ```
    """
    for criterion in context.program.criteria:
        if not criterion.text:
            yield Finding(
                span=criterion_id_span(context.source, criterion),
                message=f"criterion `{criterion.id}` has no protocol text",
                help=f'quote the protocol\'s wording: `{criterion.id} "...": ...`',
            )
