from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.syntax import ast
from critlang.syntax.printer import expression_text


@rule("CL502", "negated-inclusion")
def negated_inclusion(context: LintContext) -> Iterator[Finding]:
    """Inclusion criterion that is a negation: an exclusion in disguise.

    ## What it does
    Reports an inclusion criterion whose whole expression is `not ...`: "no active infection"
    written as the inclusion `not active_infection`.

    ## Why is this bad?
    Exclusions describe the excluding condition, and reports and attrition funnels count them
    that way ("excluded by E5: active infection"). Written as a negated inclusion, the same
    patient "fails I8", and the explanation reads as a double negative. It is often an exclusion
    typed in the wrong section.

    ## Example
    ```
    inclusion
      I8 "No active infection": not active_infection
    ```

    ## Use instead
    ```
    exclusion
      E5 "Active infection": active_infection
    ```
    """
    for criterion in context.program.inclusions:
        body = criterion.body
        if isinstance(body, ast.Not):
            yield Finding(
                span=body.span,
                message=f"inclusion `{criterion.id}` is a negation; it reads as an exclusion",
                help=f"move it to the exclusions as `{expression_text(body.operand)}`; if the "
                "protocol lists it as an inclusion, keep it and suppress this with a comment",
            )
