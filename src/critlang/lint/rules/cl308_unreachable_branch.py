from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.logic import conditions, file_analysis, quote, quote_all
from critlang.lint.registry import Finding, rule
from critlang.lint.thresholds import unreachable_branches


@rule("CL308", "unreachable-branch")
def unreachable_branch(context: LintContext) -> Iterator[Finding]:
    """Branch of an `if` chain that is never taken.

    ## What it does
    Reports a branch of `if ... then ... else if ... then ...` whose condition can only hold
    when an earlier condition holds too (`if age >= 18 years then ... else if age >= 65 years
    then ...`: the second branch), or can never hold at all, and a final `else` (other than
    `true`/`false`) that the conditions above leave nothing for.

    ## Why is this bad?
    A chain takes the first branch whose condition holds, so the later branch's requirement
    never applies to anyone: the older patients above get the adults' threshold. The branches
    are usually in the wrong order (the special case must come first) or a condition has the
    wrong operator.

    ## Example
    ```
    inclusion
      I10 "CrCl ≥60 mL/min, ≥50 mL/min from 65 years":
          if age >= 18 years then creatinine_clearance >= 60 mL/min
          else if age >= 65 years then creatinine_clearance >= 50 mL/min
          else false
    ```

    ## Use instead
    ```
    inclusion
      I10 "CrCl ≥60 mL/min, ≥50 mL/min from 65 years":
          if age >= 65 years then creatinine_clearance >= 50 mL/min
          else if age >= 18 years then creatinine_clearance >= 60 mL/min
          else false
    ```
    """
    analysis = file_analysis(context)
    for _owner, root in conditions(context):
        for found in unreachable_branches(root, analysis):
            if found.condition is None:
                yield Finding(
                    span=found.body.origin.span,
                    message=(
                        "this `else` is never taken: "
                        f"{quote_all(found.covering, 'or')} covers every patient whose values "
                        "are known"
                    ),
                    help="remove the last condition and let the `else` cover the rest, or "
                    "correct the conditions",
                )
            elif not found.covering:
                yield Finding(
                    span=found.condition.origin.span,
                    message=f"this branch is never taken: {quote(found.condition)} never holds",
                    help="correct the condition",
                )
            else:
                yield Finding(
                    span=found.condition.origin.span,
                    message=(
                        f"this branch is never taken: whenever {quote(found.condition)} holds, "
                        f"{quote_all(found.covering, 'or')} holds too and an earlier branch is "
                        "taken"
                    ),
                    help="put the more specific condition first, or correct the condition",
                )
