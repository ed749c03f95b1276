from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.walk import walk_ir
from critlang.semantics import ir
from critlang.units import Unit

BODY_SURFACE = "1.73_m2"


@rule("CL204", "egfr-clearance-confusion")
def egfr_clearance_confusion(context: LintContext) -> Iterator[Finding]:
    """Filtration rate normalised to body surface compared with one that is not.

    ## What it does
    Reports a comparison between a value in `mL/min/{1.73_m2}` (eGFR, normalised to 1.73 m² of
    body surface) and a threshold in `mL/min` (a creatinine clearance, not normalised), or the
    other way round. The two have the same dimension, so the checker accepts the comparison and
    the numbers are compared as they are.

    ## Why is this bad?
    They are different measurements: the Cockcroft-Gault creatinine clearance is in mL/min for
    the patient's own body, eGFR (CKD-EPI, MDRD) is per 1.73 m². For a small or a large patient
    they differ by 20% or more, so the threshold means something other than the protocol's.

    ## Example
    ```
    inclusion
      I6 "Creatinine clearance ≥60 mL/min": eGFR >= 60 mL/min
    ```

    ## Use instead
    ```
    inclusion
      I6 "Creatinine clearance ≥60 mL/min": creatinine_clearance >= 60 mL/min
    ```
    or, for a protocol that asks for eGFR, `eGFR >= 60 mL/min/1.73m2`.
    """
    seen: set[int] = set()
    for _owner, root in context.checked():
        for node in walk_ir(root):
            if not isinstance(node, ir.Comparison | ir.InRange):
                continue
            pairs: list[tuple[ir.Value, ir.Value | None]] = (
                [(node.left, node.right)]
                if isinstance(node, ir.Comparison)
                else [(node.value, node.low), (node.value, node.high)]
            )
            for left, right in pairs:
                if right is None or id(node.origin) in seen:
                    continue
                left_unit, right_unit = left.type.unit, right.type.unit
                if left_unit is None or right_unit is None:
                    continue
                if _normalised(left_unit) == _normalised(right_unit):
                    continue
                if left_unit.dimension != right_unit.dimension:
                    continue
                seen.add(id(node.origin))
                yield _finding(left, right, node)


def _normalised(unit: Unit) -> bool:
    return BODY_SURFACE in unit.kind_annotations


def _finding(left: ir.Value, right: ir.Value, node: ir.Comparison | ir.InRange) -> Finding:
    subject = next(
        (v for v in (left, right) if isinstance(v, ir.LabSelection | ir.FactValue)), None
    )
    other = right if subject is left else left
    if subject is not None and subject.type.unit is not None and other.type.unit is not None:
        name = subject.variable.name
        written = getattr(other.origin, "text", "") or other.type.unit.code
        if _normalised(subject.type.unit):
            message = (
                f"`{name}` is per 1.73 m² of body surface ({subject.type.unit.code}); "
                f"`{written}` is not: it reads as a creatinine clearance"
            )
            help = "compare `creatinine_clearance` with mL/min, or write the threshold in mL/min/1.73m2"
        else:
            message = (
                f"`{name}` is not normalised to body surface ({subject.type.unit.code}); "
                f"`{written}` is per 1.73 m²: it reads as an eGFR"
            )
            help = "compare `eGFR` with mL/min/1.73m2, or write the threshold in mL/min"
    else:
        message = "one side is normalised to 1.73 m² of body surface and the other is not"
        help = "compare values of the same kind: both per 1.73 m², or neither"
    return Finding(span=node.origin.span, message=message, help=help)
