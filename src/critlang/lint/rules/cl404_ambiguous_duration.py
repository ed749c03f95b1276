from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.time import days, windows

CALENDAR_UNITS = {"mo": "months", "a": "years"}
# UCUM's month and year variants: not calendar units, so never calendar arithmetic.
MEAN_UNITS = {"mo_j", "mo_g", "mo_s", "a_j", "a_g", "a_t"}


@rule("CL404", "ambiguous-duration")
def ambiguous_duration(context: LintContext) -> Iterator[Finding]:
    """Window length whose meaning depends on how it is rounded.

    ## What it does
    Reports a window length that is not a whole number of days, weeks, calendar months or
    calendar years: a fraction of a month or year (`1.5 months`), hours or minutes that are not
    whole days (`36 hours`), or UCUM's mean months and years (`mo_j`, `a_g` ...).

    ## Why is this bad?
    Records carry dates, not times: a window is counted in whole days, so `36 hours` is
    rounded up to 2 days. Whole months and years are calendar months and years (3 months before
    31 May is 28 February); a fraction of a month has no calendar meaning and is counted as
    mean months of 30.44 days, which is neither the protocol's intent nor what a coordinator
    counts on a calendar.

    ## Example
    ```
    exclusion
      E4 "Chemotherapy within 6 weeks before screening":
          chemotherapy within 1.5 months before screening
    ```

    ## Use instead
    ```
    exclusion
      E4 "Chemotherapy within 6 weeks before screening":
          chemotherapy within 6 weeks before screening
    ```
    """
    seen: set[int] = set()
    for use in windows(context):
        duration = use.window.duration
        if duration is None or duration.span.start in seen:
            continue
        message = None
        whole = duration.value == duration.value.to_integral_value()
        if duration.unit in CALENDAR_UNITS and not whole:
            message = (
                f"`{duration.text}` is not a whole number of calendar {CALENDAR_UNITS[duration.unit]}: "
                "it is counted as mean months of 30.44 days"
            )
            help = "write weeks or days (`6 weeks`), or whole months"
        elif duration.unit in MEAN_UNITS:
            message = f"`{duration.text}` is a mean {('month' if duration.unit.startswith('mo') else 'year')}, not a calendar one"
            help = "write `months` or `years` for calendar months and years, or days"
        elif duration.unit not in CALENDAR_UNITS:
            length = days(duration)
            if length is not None and length.denominator != 1:
                message = (
                    f"`{duration.text}` is not a whole number of days: records carry dates, so it "
                    "is rounded up to whole days"
                )
                help = "write whole days (`2 days` for 48 hours)"
        if message:
            seen.add(duration.span.start)
            yield Finding(span=duration.span, message=message, help=help)
