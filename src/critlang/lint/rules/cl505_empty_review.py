from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.syntax import ast


@rule("CL505", "empty-review")
def empty_review(context: LintContext) -> Iterator[Finding]:
    """Review item that does not say what the investigator must confirm.

    ## What it does
    Reports a `review` criterion without its own quoted instruction (`I13 "Consent": review`).

    ## Why is this bad?
    A review item is listed with every verdict (`eligible — 3 items to confirm`); its text is
    the instruction the coordinator acts on. Without one, the list shows only the protocol's
    heading, or "to be confirmed by the investigator", and the coordinator must go back to the
    protocol.

    ## Example
    ```
    inclusion
      I13 "Informed consent": review
    ```

    ## Use instead
    ```
    inclusion
      I13 "Informed consent": review "informed consent form signed by the patient or a legal representative"
    ```
    """
    for criterion in context.program.criteria:
        body = criterion.body
        if isinstance(body, ast.Review) and not body.text:
            yield Finding(
                span=body.span,
                message=f"review item `{criterion.id}` does not say what to confirm",
                help='write the instruction: `review "..."`',
            )
