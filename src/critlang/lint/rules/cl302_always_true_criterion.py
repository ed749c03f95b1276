from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.intervals import Analysis
from critlang.lint.logic import (
    beyond_domain,
    conditions,
    file_analysis,
    is_leaf,
    known_phrase,
    outermost,
    owner_text,
    quote,
)
from critlang.lint.registry import Finding, rule
from critlang.semantics import ir
from critlang.syntax import ast


@rule("CL302", "always-true-criterion")
def always_true_criterion(context: LintContext) -> Iterator[Finding]:
    """Criterion, or part of one, that every patient meets.

    ## What it does
    Reports a criterion that every record whose values it reads makes MET: an `or` whose
    alternatives cover every value (`age >= 18 years or age < 21 years`), a range that covers
    everything a result can be (`ANC >= 0 x10^9/L`, with ANC's plausible range 0..100), an
    implication whose conclusion always holds. It also reports such an `or`, `if` or
    `implies` (or a single comparison) inside a criterion. A threshold beyond the values a
    result can take is left to implausible-threshold (CL203).

    ## Why is this bad?
    A criterion that every patient meets selects no one: the protocol's requirement is lost,
    usually to a reversed operator or an `or` that should have been an `and`. Inside a
    criterion, an always-true part hides the condition that was meant. (Patients with the value
    missing are still UNKNOWN, which makes the defect harder to see in results.)

    ## Example
    ```
    inclusion
      I1 "Age 18 to 75": age >= 18 years or age <= 75 years
    ```

    ## Use instead
    ```
    inclusion
      I1 "Age 18 to 75": age >= 18 years and age <= 75 years
    ```
    """
    analysis = file_analysis(context)
    for owner, root in conditions(context):
        if analysis.valid(root) is True:
            if is_leaf(root) and beyond_domain(root):
                continue
            yield _whole(owner, root, analysis)
            continue
        yield from _parts(root, analysis)


def _whole(owner: ast.Criterion | ast.Define, root: ir.Condition, analysis: Analysis) -> Finding:
    patients = known_phrase(root, analysis)
    what, span = owner_text(owner)
    if isinstance(owner, ast.Criterion):
        consequence = (
            "it excludes every such patient"
            if owner.section == "exclusion"
            else "it selects no one"
        )
    else:
        consequence = "it adds no requirement"
    return Finding(
        span=span,
        message=f"{what} is always met: every patient {patients} meets {quote(root)}",
        help=f"check the operators and `and`/`or`; as written, {consequence}",
    )


def _parts(root: ir.Condition, analysis: Analysis) -> Iterator[Finding]:
    """The outermost ``or``, ``if``, ``implies`` or comparison inside ``root`` that is always
    true."""

    def always(node: ir.Condition) -> bool:
        candidate = isinstance(node, ir.Any_ | ir.Implication | ir.Branch) or is_leaf(node)
        return candidate and analysis.valid(node) is True

    for node in outermost(root, always):
        if not (is_leaf(node) and beyond_domain(node)):
            yield Finding(
                span=node.origin.span,
                message=(
                    f"this part is always true: every patient "
                    f"{known_phrase(node, analysis)} meets {quote(node)}"
                ),
                help="check the operators and `and`/`or`, or remove the part",
            )
