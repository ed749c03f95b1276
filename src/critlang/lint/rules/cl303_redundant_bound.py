from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.intervals import redundant_atoms
from critlang.lint.logic import conditions, file_analysis, quote, quote_all
from critlang.lint.registry import Finding, rule
from critlang.semantics import ir


@rule("CL303", "redundant-bound")
def redundant_bound(context: LintContext) -> Iterator[Finding]:
    """Bound that another bound on the same value already implies.

    ## What it does
    Reports, in an `and`, a comparison that the other comparisons on the same value already
    enforce (`age >= 18 years and age >= 21 years`: the first; `ANC in 1..2 x10^9/L and
    ANC >= 1.5 x10^9/L`: the lower end of the range), and, in an `or`, an alternative that the
    others already allow (`age >= 18 years or age >= 21 years`: the second). Thresholds are
    compared after unit conversion, so `ANC >= 1500 /uL and ANC >= 1.0 x10^9/L` is caught. The
    other bound may come from a definition the criterion uses (`adequate_marrow and
    ANC > 0.5 x10^9/L`).

    ## Why is this bad?
    The redundant bound never decides anything, yet a reader takes it for a requirement. Often
    the two bounds were meant to differ (a lower and an upper limit, or two different labs), or
    the protocol's threshold was changed in one place and not the other.

    ## Example
    ```
    inclusion
      I1 "Age ≥18 years": age >= 18 years and age >= 21 years
    ```

    ## Use instead
    ```
    inclusion
      I1 "Age ≥21 years": age >= 21 years
    ```
    """
    analysis = file_analysis(context)
    for _owner, root in conditions(context):
        for found in redundant_atoms(root, analysis):
            others = quote_all(found.because)
            if isinstance(found.parent, ir.All):
                if found.bound is not None:
                    message = (
                        f"the {found.bound} end of {quote(found.item)} is redundant: "
                        f"{others} already implies it"
                    )
                else:
                    message = f"{quote(found.item)} is redundant: {others} already implies it"
            else:
                message = f"{quote(found.item)} is redundant: {others} already allows it"
            yield Finding(
                span=found.item.origin.span,
                message=message,
                help="remove it, or correct the threshold if the two were meant to differ",
            )
