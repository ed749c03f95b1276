from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.walk import ast_nodes
from critlang.syntax import ast

Key = tuple[str, str, Decimal]


@rule("CL504", "repeated-threshold")
def repeated_threshold(context: LintContext) -> Iterator[Finding]:
    """The same threshold for the same variable written in several criteria.

    ## What it does
    Reports a number or quantity compared with a variable (`ANC >= 1.5 x10^9/L`) when another
    criterion compares the same variable with the same threshold. The first occurrence is left
    alone; each later one is reported. Multiples of the ULN or LLN are not counted.

    ## Why is this bad?
    A magic number repeated across criteria must be changed in every place when the protocol is
    amended, and one place is always missed. A `define` names it once, and the name says why
    the number matters.

    ## Example
    ```
    inclusion
      I10.1 "ANC ≥1.5×10⁹/L at screening": ANC >= 1.5 x10^9/L
    exclusion
      E12 "ANC < 1.5×10⁹/L before infusion": ANC < 1.5 x10^9/L within 3 days before infusion
    ```

    ## Use instead
    ```
    define minimum_anc = 1.5 x10^9/L
    inclusion
      I10.1 "ANC ≥1.5×10⁹/L at screening": ANC >= minimum_anc
    exclusion
      E12 "ANC < 1.5×10⁹/L before infusion": ANC < minimum_anc within 3 days before infusion
    ```
    """
    first: dict[Key, ast.Criterion] = {}
    for criterion in context.program.criteria:
        if isinstance(criterion.body, ast.Review):
            continue
        reported: set[Key] = set()
        for node in ast_nodes(context, criterion.body):
            if not isinstance(node, ast.Compare):
                continue
            for subject, threshold in ((node.left, node.right), (node.right, node.left)):
                if not isinstance(subject, ast.Name) or not isinstance(
                    threshold, ast.Number | ast.Quantity
                ):
                    continue
                unit = threshold.unit if isinstance(threshold, ast.Quantity) else ""
                key = (subject.name.casefold(), unit, threshold.value.normalize())
                earlier = first.setdefault(key, criterion)
                if earlier is criterion or key in reported:
                    continue
                reported.add(key)
                name = _identifier(subject.name)
                yield Finding(
                    span=threshold.span,
                    message=(
                        f"`{subject.name}` is compared with `{threshold.text}` here and in "
                        f"`{earlier.id}`"
                    ),
                    help=f"name the threshold once: `define {name} = {threshold.text}`, "
                    f"then compare `{subject.name}` with `{name}`",
                )


def _identifier(name: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", f"{name.casefold()}_threshold")
