from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.intervals import describe
from critlang.lint.logic import conditions, file_analysis, quote
from critlang.lint.registry import Finding, rule
from critlang.lint.thresholds import ConditionalThreshold, Overlap, conditional_thresholds, overlaps


@rule("CL307", "conditional-threshold-overlap")
def conditional_threshold_overlap(context: LintContext) -> Iterator[Finding]:
    """Conditional threshold whose branches claim the same patients.

    ## What it does
    Looks at thresholds that depend on a value such as sex or age (an `if` chain, implications
    joined by `and`, alternatives joined by `or`; see conditional-threshold-gap, CL306) and
    reports guards that overlap in a way the author rarely means:

    - two guards that each cover values the other does not (`age <= 65 years` and
      `age >= 65 years` both cover 65; `age < 70 years` and `age >= 65 years` both cover
      65..69): in an `if` chain the earlier branch silently takes the overlap, with `and` the
      stricter threshold wins there, with `or` the more lenient one;
    - a guard inside another whose threshold can then never make a difference: with `and`,
      `(age >= 18 years implies CrCl >= 60 mL/min) and (age >= 65 years implies
      CrCl >= 50 mL/min)` never lets a 70-year-old in with 55 mL/min, because the first
      threshold applies to them too.

    A later `if` guard that widens an earlier one (`if age >= 65 years ... else if
    age >= 18 years ...`) is the usual way to write a chain and is not reported.

    ## Why is this bad?
    The patients in the overlap get a threshold the protocol did not give them. The protocol
    meant the groups to be exclusive ("below 65", "65 and over") or meant the special group's
    threshold to replace the general one, not to be added to it.

    ## Example
    ```
    inclusion
      I10 "CrCl ≥60 mL/min, ≥50 mL/min from 65 years":
          (age >= 18 years implies creatinine_clearance >= 60 mL/min)
          and (age >= 65 years implies creatinine_clearance >= 50 mL/min)
    ```

    ## Use instead
    ```
    inclusion
      I10 "CrCl ≥60 mL/min, ≥50 mL/min from 65 years":
          if age >= 65 years then creatinine_clearance >= 50 mL/min
          else creatinine_clearance >= 60 mL/min
    ```
    """
    analysis = file_analysis(context)
    for _owner, root in conditions(context):
        for threshold in conditional_thresholds(root, analysis):
            for overlap in overlaps(threshold, analysis):
                yield _finding(threshold, overlap)


def _finding(threshold: ConditionalThreshold, overlap: Overlap) -> Finding:
    first, second = threshold.arms[overlap.first], threshold.arms[overlap.second]
    values = describe(threshold.key, overlap.constraint)
    if overlap.kind == "dead":
        stricter = "at least as strict" if threshold.form == "and" else "at least as lenient"
        return Finding(
            span=second.node.origin.span,
            message=(
                f"the branch for {quote(second.guard)} never makes a difference: for "
                f"`{values}` the branch for {quote(first.guard)} applies too and is {stricter}"
            ),
            help="make the groups exclusive, or write the special group first in an "
            "`if ... then ... else` chain",
        )
    if threshold.form == "if":
        outcome = "the earlier branch takes them"
    elif threshold.form == "and":
        outcome = "both thresholds apply there, so the stricter one wins"
    else:
        outcome = "either alternative admits them, so the more lenient one wins"
    return Finding(
        span=second.node.origin.span,
        message=(
            f"`{values}` matches both {quote(first.guard)} and {quote(second.guard)}: {outcome}"
        ),
        help="make the guards exclusive (`<` on one side, `>=` on the other)",
    )
