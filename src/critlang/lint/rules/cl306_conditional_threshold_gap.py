from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.intervals import IntervalSet, describe
from critlang.lint.logic import conditions, file_analysis, quote
from critlang.lint.registry import Finding, rule
from critlang.lint.thresholds import ConditionalThreshold, Gap, conditional_thresholds, gaps
from critlang.semantics import ir


@rule("CL306", "conditional-threshold-gap")
def conditional_threshold_gap(context: LintContext) -> Iterator[Finding]:
    """Conditional threshold that leaves some patients out of every branch.

    ## What it does
    Looks at thresholds that depend on a value such as sex or age, written as an `if` chain,
    as implications joined by `and`, or as alternatives joined by `or` (the guards all test
    one value, the branches all set a threshold on another), and reports values of the guarded
    value that no branch covers: a declared category left out (`sex = female` and `sex = male`
    leave out `other` and `unknown`), or a single number between two guards (`age < 65 years`
    and `age > 65 years` leave out 65). For an `if` chain this matters when the final `else`
    is `false` or `true`; a wider stretch between guards (`age < 18 years` / `age > 75 years`)
    usually means "no extra requirement" and is not reported.

    ## Why is this bad?
    The patients in the gap get whatever the fallback says, which nobody decided: with
    `else false` (or an `or`) they can never be eligible, with `else true` (or implications)
    no threshold applies to them at all. A boundary written `<` on one side and `>` on the other
    is the classic slip; a category nobody thought of is the other.

    ## Example
    ```
    inclusion
      I9 "Hb ≥10 g/dL (women), ≥12 g/dL (men)":
          if sex = female then hemoglobin >= 10 g/dL
          else if sex = male then hemoglobin >= 12 g/dL
          else false
      I10 "CrCl ≥60 mL/min below 65 years, ≥50 mL/min above":
          (age < 65 years implies creatinine_clearance >= 60 mL/min)
          and (age > 65 years implies creatinine_clearance >= 50 mL/min)
    ```

    ## Use instead
    ```
    inclusion
      I9 "Hb ≥10 g/dL (women), ≥12 g/dL (men)":
          if sex = female then hemoglobin >= 10 g/dL
          else hemoglobin >= 12 g/dL
      I10 "CrCl ≥60 mL/min below 65 years, ≥50 mL/min from 65":
          if age < 65 years then creatinine_clearance >= 60 mL/min
          else creatinine_clearance >= 50 mL/min
    ```
    """
    analysis = file_analysis(context)
    for _owner, root in conditions(context):
        for threshold in conditional_thresholds(root, analysis):
            for gap in gaps(threshold):
                yield _finding(threshold, gap)


def _finding(threshold: ConditionalThreshold, gap: Gap) -> Finding:
    values = describe(threshold.key, gap.constraint)
    measured = f"`{threshold.threshold.label}`"
    if threshold.form == "if":
        fallback = threshold.fallback
        assert isinstance(fallback, ir.Constant)
        outcome = (
            f"no {measured} threshold applies to them"
            if fallback.value
            else "they can never meet the criterion"
        )
        where = f"matches no branch and falls to `else {'true' if fallback.value else 'false'}`"
    elif threshold.form == "and":
        outcome = f"no {measured} threshold applies to them"
        where = "matches none of the conditions " + ", ".join(
            quote(arm.guard) for arm in threshold.arms
        )
    else:
        outcome = "they can never meet the criterion"
        where = "matches none of the alternatives " + ", ".join(
            quote(arm.guard) for arm in threshold.arms
        )
    if isinstance(gap.constraint, IntervalSet):
        advice = "make one of the bounds inclusive (`<=` or `>=`) so that the guards meet"
    else:
        advice = "add a branch for them, or make the last branch an `else` that covers them"
    return Finding(
        span=threshold.node.origin.span,
        message=f"`{values}` {where}: {outcome}",
        help=advice,
    )
