from __future__ import annotations

import re
from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.spans import criterion_id_span
from critlang.lint.walk import ast_nodes
from critlang.syntax import ast

_NUMBER = r"(?P<number>\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
_UNIT = r"(?P<unit>hours?|days?|weeks?|months?|years?|hrs?|wks?|yrs?)"
# "within 3 months", "in the past 2 years", "during the last 6 weeks", "4 weeks prior to".
_PERIODS = (
    re.compile(
        rf"\b(?:within|in|during|over)\s+(?:the\s+)?"
        rf"(?:past\s+|last\s+|previous\s+|prior\s+|preceding\s+)?{_NUMBER}[\s-]*{_UNIT}\b",
        re.IGNORECASE,
    ),
    re.compile(rf"\b{_NUMBER}[\s-]*{_UNIT}\s+(?:prior|before|preceding)\b", re.IGNORECASE),
)


@rule("CL406", "missing-window")
def missing_window(context: LintContext) -> Iterator[Finding]:
    """Criterion whose protocol text names a time period that its expression leaves out.

    ## What it does
    Reports a criterion whose protocol text gives a period ("within 6 months", "in the past
    3 years", "4 weeks prior to screening") while its expression has no time window at all
    (criteria that use a definition are not checked: the window may be inside it).

    ## Why is this bad?
    Without the window the criterion looks at the patient's whole history: a myocardial
    infarction ten years ago excludes a patient whom the protocol accepts.

    ## Example
    ```
    exclusion
      E7 "Myocardial infarction within 6 months before screening": myocardial_infarction
    ```

    ## Use instead
    ```
    exclusion
      E7 "Myocardial infarction within 6 months before screening":
          myocardial_infarction within 6 months before screening
    ```
    """
    definitions = {define.name.casefold() for define in context.program.definitions}
    for criterion in context.program.criteria:
        if isinstance(criterion.body, ast.Review) or not criterion.text:
            continue
        period = next(
            (found for pattern in _PERIODS if (found := pattern.search(criterion.text))), None
        )
        if period is None:
            continue
        nodes = list(ast_nodes(context, criterion.body))
        if any(isinstance(node, ast.Windowed) for node in nodes):
            continue
        if any(isinstance(n, ast.Name) and n.name.casefold() in definitions for n in nodes):
            continue
        yield Finding(
            span=criterion_id_span(context.source, criterion),
            message=f'the protocol text says "{period.group(0)}" but the expression has no time window',
            help=f"add the window, e.g. `... within {period.group('number')} "
            f"{period.group('unit')} before screening`",
        )
