from __future__ import annotations

import re
from collections.abc import Iterator

from critlang.diagnostics import Applicability, Edit, Fix
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.spans import word_span
from critlang.lint.time import windows
from critlang.source import Span
from critlang.syntax import ast

# Protocol wording for a time before the anchor.
_BEFORE_WORDS = re.compile(
    r"\b(prior|before|previous|previously|preceding|past|last|history)\b", re.IGNORECASE
)


@rule("CL403", "window-after-anchor", fixable=True)
def window_after_anchor(context: LintContext) -> Iterator[Finding]:
    """Criterion that needs something to happen after its anchor (`before`/`after` mix-up).

    ## What it does
    Reports, in an inclusion or exclusion criterion, a window that looks for a lab result, a
    treatment, an event or a condition *after* a named anchor: `after screening`,
    `within 4 weeks after screening`. An unsafe fix turns `after` into `before`.

    ## Why is this bad?
    Eligibility is decided at screening, from what happened before it: a record has nothing
    after its anchor yet, so the criterion can never be met (in an inclusion) or never exclude
    (in an exclusion). A protocol's "within 4 weeks prior to screening" written with `after` is
    the usual cause.

    ## Example
    ```
    exclusion
      E4 "Chemotherapy within 3 weeks prior to screening":
          chemotherapy within 3 weeks after screening
    ```

    ## Use instead
    ```
    exclusion
      E4 "Chemotherapy within 3 weeks prior to screening":
          chemotherapy within 3 weeks before screening
    ```
    """
    seen: set[int] = set()
    for use in windows(context):
        window = use.window
        after = window.kind == "after" or (window.kind == "within" and window.side == "after")
        if not after or not isinstance(window.anchor, ast.Name) or not use.variables:
            continue
        if not isinstance(use.owner, ast.Criterion) or window.span.start in seen:
            continue
        seen.add(window.span.start)
        anchor = window.anchor.name
        names = " or ".join(f"`{v.name}`" for v in use.variables)
        section = use.owner.section
        outcome = "can never be met" if section == "inclusion" else "can never exclude anyone"
        text = use.owner.text or ""
        said = ' (the protocol text says "before")' if _BEFORE_WORDS.search(text) else ""
        keyword = _after_keyword(context, window)
        fix = None
        if keyword is not None:
            fix = Fix(
                message="write `before`",
                edits=(Edit(span=keyword, text="before"),),
                applicability=Applicability.UNSAFE,
            )
        yield Finding(
            span=window.span,
            message=(
                f"this {section} asks for {names} after `{anchor}`: at screening a record has "
                f"nothing after it, so the criterion {outcome}{said}"
            ),
            help=f"did you mean `before {anchor}`?",
            fix=fix,
        )


def _after_keyword(context: LintContext, window: ast.Window) -> Span | None:
    start = window.duration.span.end if window.duration is not None else window.span.start
    return word_span(context.source, Span(start, window.anchor.span.start), "after")
