from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.intervals import Analysis
from critlang.lint.logic import (
    beyond_domain,
    conditions,
    conjuncts,
    contradiction,
    file_analysis,
    is_leaf,
    outermost,
    owner_text,
)
from critlang.lint.registry import Finding, rule
from critlang.semantics import ir
from critlang.syntax import ast


@rule("CL301", "unsatisfiable-criterion")
def unsatisfiable_criterion(context: LintContext) -> Iterator[Finding]:
    """Criterion, or part of one, that no patient can meet.

    ## What it does
    Reasons over the bounds each condition puts on each value (after converting every threshold
    into the value's unit, `x ULN` limits as multiples of the ULN) and reports a criterion that
    no record can make MET: `age >= 18 years and age < 16 years`, `ALT <= 3 x ULN and
    ALT > 5 x ULN`, `creatinine <= 1.5 mg/dL and creatinine > 200 umol/L`. It also reports an
    `and` inside a criterion that can never hold (a dead alternative of an `or`, say), and a
    range with nothing in it (`ECOG in 3..2`). It names the parts that contradict each other.
    A threshold beyond the values a result can take is left to implausible-threshold (CL203).

    ## Why is this bad?
    An inclusion that can never be met makes every patient ineligible; an exclusion that can
    never be met excludes no one; a dead alternative silently drops the patients it was meant
    to admit. It is almost always a typo in an operator or a bound (`<` for `>`, 16 for 61), or
    two protocol lines merged into one criterion that contradict each other.

    ## Example
    ```
    inclusion
      I1 "Age 18 to 75": age >= 18 years and age > 75 years
    ```

    ## Use instead
    ```
    inclusion
      I1 "Age 18 to 75": age >= 18 years and age <= 75 years
    ```
    """
    analysis = file_analysis(context)
    for owner, root in conditions(context):
        if analysis.satisfiable(root) is False:
            finding = _whole(owner, root, analysis)
            if finding is not None:
                yield finding
            continue
        yield from _parts(root, analysis)


def _whole(
    owner: ast.Criterion | ast.Define, root: ir.Condition, analysis: Analysis
) -> Finding | None:
    clashing = _clashing(root, analysis)
    if clashing is None:
        return None
    what, span = owner_text(owner)
    if isinstance(owner, ast.Criterion):
        consequence = (
            "no patient can be eligible"
            if owner.section == "inclusion"
            else "it never excludes anyone"
        )
    else:
        consequence = "every criterion that uses it as a requirement fails"
    return Finding(
        span=span,
        message=f"{what} can never be met: {contradiction(clashing)}",
        help=f"check the operators and bounds; as written, {consequence}",
    )


def _parts(root: ir.Condition, analysis: Analysis) -> Iterator[Finding]:
    """The outermost ``and``s (and single comparisons) inside ``root`` that can never hold."""

    def dead(node: ir.Condition) -> bool:
        return (isinstance(node, ir.All) or is_leaf(node)) and analysis.satisfiable(node) is False

    for node in outermost(root, dead):
        clashing = _clashing(node, analysis)
        if clashing is not None:
            yield Finding(
                span=node.origin.span,
                message=f"this part can never be met: {contradiction(clashing)}",
                help="check the operators and bounds, or remove the dead part",
            )


def _clashing(node: ir.Condition, analysis: Analysis) -> list[ir.Condition] | None:
    """The parts of an unsatisfiable ``node`` that clash (the smallest set found); ``None``
    when it is a single comparison that only reaches beyond its variable's domain."""
    parts = conjuncts(node)
    core = analysis.unsatisfiable_core(parts) or list(range(len(parts)))
    clashing = [parts[index] for index in core]
    if len(clashing) == 1 and beyond_domain(clashing[0]):
        return None
    return clashing
