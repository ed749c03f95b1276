from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.time import windows
from critlang.syntax import ast


@rule("CL401", "window-without-anchor")
def window_without_anchor(context: LintContext) -> Iterator[Finding]:
    """Time window measured from a fixed date instead of one of the patient's anchors.

    ## What it does
    Reports a window whose anchor is a calendar date (`within 6 months before 2025-01-01`,
    `after 2024-06-30`) rather than a named anchor that each record supplies (`screening`,
    `enrollment`, `treatment` ...). A window with no anchor at all does not parse (CL100).

    ## Why is this bad?
    Eligibility windows in a protocol are relative to the patient's own visits. A fixed date
    gives the right answer only for patients screened around the day the criteria were written,
    and silently ages as the trial recruits.

    ## Example
    ```
    exclusion
      E3 "Live vaccine within 4 weeks before screening": live_vaccine within 4 weeks before 2025-06-02
    ```

    ## Use instead
    ```
    exclusion
      E3 "Live vaccine within 4 weeks before screening": live_vaccine within 4 weeks before screening
    ```
    """
    seen: set[int] = set()
    for use in windows(context):
        anchor = use.window.anchor
        if isinstance(anchor, ast.DateLiteral) and anchor.span.start not in seen:
            seen.add(anchor.span.start)
            yield Finding(
                span=anchor.span,
                message=f"the window is measured from the fixed date {anchor.text or anchor.value}, "
                "not from a patient's anchor",
                help="measure it from an anchor such as `screening` or `enrollment`; if the date "
                "is the protocol's own (a calendar cut-off), suppress this with a comment",
            )
