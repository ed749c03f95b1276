from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.intervals import Analysis
from critlang.lint.logic import body_span, conjuncts, contradiction, criteria, file_analysis
from critlang.lint.registry import Finding, rule
from critlang.lint.sections import contradicting_groups, contradicting_pairs
from critlang.semantics import ir


@rule("CL304", "contradicting-inclusions")
def contradicting_inclusions(context: LintContext) -> Iterator[Finding]:
    """Inclusions that no patient can meet together.

    ## What it does
    Reports an inclusion that no patient can meet together with an earlier one (`I1: age >= 18
    years` and `I9: age < 16 years`; `I2: sex = male and ...` and `I3: sex = female and ...`),
    naming the parts that clash, and, when every pair can be met but all of them cannot, the
    smallest set of inclusions that cannot be met together. Each inclusion on its own can be
    met (a single unsatisfiable criterion is unsatisfiable-criterion, CL301).

    ## Why is this bad?
    A patient must meet every inclusion, so two inclusions that exclude each other leave the
    trial with no eligible patient. It usually means that a sub-criterion applies only to a
    group and lacks its condition (`sex = female implies ...`), or that a threshold is typed
    the wrong way round.

    ## Example
    ```
    inclusion
      I2 "Men: hemoglobin ≥13 g/dL":   sex = male and hemoglobin >= 13 g/dL
      I3 "Women: hemoglobin ≥12 g/dL": sex = female and hemoglobin >= 12 g/dL
    ```

    ## Use instead
    ```
    inclusion
      I2 "Men: hemoglobin ≥13 g/dL":   sex = male implies hemoglobin >= 13 g/dL
      I3 "Women: hemoglobin ≥12 g/dL": sex = female implies hemoglobin >= 12 g/dL
    ```
    """
    analysis = file_analysis(context)
    inclusions = [
        (criterion, condition)
        for criterion, condition in criteria(context, "inclusion")
        if analysis.satisfiable(condition) is not False
    ]
    # Each inclusion's normal form once; pairs only among those that share a value.
    forms = [analysis.form(condition) for _, condition in inclusions]
    earliest = contradicting_pairs(forms)
    paired: set[int] = set()
    for index, (criterion, condition) in enumerate(inclusions):
        if index not in earliest:
            continue
        other, other_condition = inclusions[earliest[index]]
        paired.update((earliest[index], index))
        yield Finding(
            span=body_span(criterion),
            message=(
                f"inclusion `{criterion.id}` cannot be met together with inclusion "
                f"`{other.id}`: {_clash([other_condition, condition], analysis)}"
            ),
            help="no patient can be eligible; check the thresholds, or the group each "
            "criterion applies to",
        )
    # Three or more that cannot be met together, among those not already in a pair: looked for
    # in each group of inclusions connected by shared values, within a work budget.
    rest = [index for index in range(len(inclusions)) if index not in paired]
    for core in contradicting_groups([forms[index] for index in rest], analysis.max_terms):
        named = [inclusions[rest[position]][0] for position in core]
        conditions = [inclusions[rest[position]][1] for position in core]
        ids = ", ".join(f"`{criterion.id}`" for criterion in named[:-1])
        yield Finding(
            span=body_span(named[-1]),
            message=(
                f"inclusions {ids} and `{named[-1].id}` cannot all be met together: "
                f"{_clash(conditions, analysis)}"
            ),
            help="no patient can be eligible; check the thresholds, or the group each "
            "criterion applies to",
        )


def _clash(conditions: list[ir.Condition], analysis: Analysis) -> str:
    """The parts of ``conditions`` that contradict each other, quoted."""
    parts = [part for condition in conditions for part in conjuncts(condition)]
    core = analysis.unsatisfiable_core(parts)
    if core is None:
        return "they contradict each other"
    return contradiction([parts[index] for index in core])
