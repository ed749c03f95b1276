from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.time import days, windows

# Longer than any life: the window covers everything.
LIFETIME_DAYS = Fraction(120 * 36525, 100)
# A lab result older than a year does not describe the patient at screening.
LAB_DAYS = Fraction(36525, 100)


@rule("CL402", "window-too-long")
def window_too_long(context: LintContext) -> Iterator[Finding]:
    """Time window longer than plausible.

    ## What it does
    Reports a window longer than a human life (120 years), and a window on lab results longer
    than a year, or longer than the lab's `lookback` in the dictionary.

    ## Why is this bad?
    A window longer than a life restricts nothing: the criterion means "ever", and the length
    is usually a unit slip (`6 years` for `6 weeks`, `400 months` for `4 months`). A lab result
    from years ago does not describe the patient at screening, and results older than the lab's
    lookback are never used, so the window promises more than it gives.

    ## Example
    ```
    inclusion
      I10.1 "ANC ≥1.5×10⁹/L within 14 days before screening":
          ANC >= 1.5 x10^9/L within 14 months before screening
    ```

    ## Use instead
    ```
    inclusion
      I10.1 "ANC ≥1.5×10⁹/L within 14 days before screening":
          ANC >= 1.5 x10^9/L within 14 days before screening
    ```
    """
    seen: set[int] = set()
    for use in windows(context):
        duration = use.window.duration
        if duration is None or duration.span.start in seen:
            continue
        length = days(duration)
        if length is None:
            continue
        message = None
        if length > LIFETIME_DAYS:
            message = (
                f"a window of {duration.text} is longer than a human life: it restricts nothing"
            )
        elif use.on_labs_only:
            lookbacks = [
                (variable, days(variable.lookback))
                for variable in use.variables
                if variable.lookback is not None
            ]
            shorter = [(v, d) for v, d in lookbacks if d is not None and length > d]
            if shorter:
                variable, _ = shorter[0]
                assert variable.lookback is not None
                message = (
                    f"a window of {duration.text} on `{variable.name}` is longer than its "
                    f"lookback ({variable.lookback.text}): older results are never used"
                )
            elif length > LAB_DAYS:
                names = ", ".join(f"`{v.name}`" for v in use.variables)
                message = (
                    f"a window of {duration.text} on {names}: a result that old does not "
                    "describe the patient at screening"
                )
        if message:
            seen.add(duration.span.start)
            yield Finding(
                span=duration.span,
                message=message,
                help="check the number and the unit against the protocol",
            )
