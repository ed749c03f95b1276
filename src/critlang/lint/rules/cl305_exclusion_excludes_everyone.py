from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.logic import body_span, criteria, file_analysis, quote
from critlang.lint.registry import Finding, rule
from critlang.lint.sections import Premises


@rule("CL305", "exclusion-excludes-everyone")
def exclusion_excludes_everyone(context: LintContext) -> Iterator[Finding]:
    """Exclusion that every patient who meets the inclusions also meets.

    ## What it does
    Reports an exclusion that the inclusions imply: every patient who meets them meets the
    exclusion too (`I1: age >= 18 years` with `E4: age > 16 years`; `I7: ECOG in 0..1` with
    `E2: ECOG <= 2`), so no patient can be eligible. It names the inclusions that force it.
    Exclusions that are always met on their own are always-true-criterion (CL302), and
    inclusions that cannot be met together are contradicting-inclusions (CL304).

    ## Why is this bad?
    A patient is eligible only if they meet every inclusion and no exclusion; an exclusion
    implied by the inclusions makes the trial enrol no one. Usually the exclusion states the
    inclusion again instead of its opposite (exclusions describe the excluding condition:
    "ECOG ≥ 2", not "ECOG 0-2"), or an operator is reversed.

    ## Example
    ```
    inclusion
      I7 "ECOG 0-1": ECOG in 0..1
    exclusion
      E2 "ECOG ≥2": ECOG <= 2
    ```

    ## Use instead
    ```
    inclusion
      I7 "ECOG 0-1": ECOG in 0..1
    exclusion
      E2 "ECOG ≥2": ECOG >= 2
    ```
    """
    analysis = file_analysis(context)
    inclusions = criteria(context, "inclusion")
    premises = [condition for _, condition in inclusions]
    if not premises:
        return
    # Indexed by the values they constrain: an exclusion is asked about only the inclusions
    # connected to it by shared values.
    indexed = Premises(analysis, premises)
    for criterion, condition in criteria(context, "exclusion"):
        if analysis.valid(condition) is not False:
            continue  # always met on its own (CL302), or not known
        core = indexed.implying_core(condition)
        if not core:
            continue
        forcing = [premises[index] for index in core]
        if analysis.satisfiable(forcing) is not True:
            continue  # the inclusions contradict each other (CL301, CL304)
        named = [inclusions[index][0] for index in core]
        if len(named) == 1:
            who = f"inclusion `{named[0].id}` ({quote(forcing[0])})"
        else:
            ids = ", ".join(f"`{item.id}`" for item in named[:-1])
            who = f"inclusions {ids} and `{named[-1].id}`"
        yield Finding(
            span=body_span(criterion),
            message=(
                f"exclusion `{criterion.id}` excludes every patient who meets {who}: "
                "no patient can be eligible"
            ),
            help="an exclusion describes the excluding condition; check whether it restates "
            "the inclusion instead of its opposite, or has an operator reversed",
        )
