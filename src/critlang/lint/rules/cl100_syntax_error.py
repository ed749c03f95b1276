from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.source import Span

_WINDOW_HELP = (
    "a time window needs a side and an anchor: `within 3 months before screening`, "
    "`within 7 days of treatment`"
)


@rule("CL100", "syntax-error", severity=Severity.ERROR)
def syntax_error(context: LintContext) -> Iterator[Finding]:
    """Text that is not valid critlang (parse errors E100-E112).

    ## What it does
    Reports the parse error of a file that is not valid critlang: an unexpected character, text
    that ends too soon, a word where the grammar expects something else, a unit or a date that
    cannot be read, a file that is not UTF-8. Nothing else can be linted in such a file, and this
    finding cannot be turned off or suppressed; `critlang lint` exits with status 2.

    ## Why is this bad?
    A file that does not parse cannot be checked, evaluated or screened with: every patient
    would be undecided.

    ## Example
    ```
    exclusion
      E3 "Live vaccine within 4 weeks": live_vaccine within 4 weeks
    ```

    ## Use instead
    ```
    exclusion
      E3 "Live vaccine within 4 weeks": live_vaccine within 4 weeks before screening
    ```
    """
    for error in context.parse_errors:
        help, span = error.help, error.span
        if help is None and "`before`" in error.message and "`of`" in error.message:
            help = _WINDOW_HELP
            span = _previous_word(context.source.text, span)
        yield Finding(span=span, message=error.message, help=help)


def _previous_word(text: str, span: Span) -> Span:
    """The word before ``span``: a window that lacks its anchor is noticed at the next token,
    often on the next line; the caret goes where the anchor is missing."""
    before = text[: span.start].rstrip()
    start = len(before)
    while start > 0 and not before[start - 1].isspace():
        start -= 1
    return Span(start, len(before)) if before else span
