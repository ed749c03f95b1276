"""Findings from the checker's errors: the rules that report what ``critlang check`` rejects."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from critlang.diagnostics import Diagnostic
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding
from critlang.lint.spans import criterion_id_span, define_name_span
from critlang.source import Span
from critlang.syntax import ast


def check_errors(
    context: LintContext,
    *codes: str,
    keep: Callable[[Diagnostic], bool] | None = None,
    help: Callable[[Diagnostic], str | None] | None = None,
) -> Iterator[Finding]:
    """A finding for each check error with one of ``codes`` (that ``keep`` accepts)."""
    for error in context.errors(*codes):
        if keep is None or keep(error):
            yield Finding(
                span=narrow(context, error.span),
                message=error.message,
                help=help(error) if help is not None else error.help,
            )


def narrow(context: LintContext, span: Span) -> Span:
    """A whole definition or criterion's span narrowed to its name or ID, so that the caret
    points at what the message names."""
    for item in context.program.items:
        if item.span == span:
            if isinstance(item, ast.Define):
                return define_name_span(context.source, item)
            if isinstance(item, ast.Criterion):
                return criterion_id_span(context.source, item)
    return span
