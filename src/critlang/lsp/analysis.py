"""One document's analysis: the linter's context and findings, and an index for the features.

The analysis is the linter's own pipeline (:func:`critlang.lint.context.analyse`, then
:func:`critlang.lint.engine.run_rules`), in steps, so that a large file shows its errors before
the slower rules finish:

1. :func:`check_document` parses, checks and runs the error rules (each reports what
   ``critlang check`` rejects);
2. :func:`index_document` resolves the names for hover, completion and navigation (or the
   first feature that needs them does);
3. :func:`lint_document` runs the other rules on the same context.

Check errors that no selected rule reports (a rule turned off in the configuration) are still
shown, under their E-code: the file does not check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import attrs

from critlang.allocation import collector_paused
from critlang.diagnostics import Diagnostic, Severity
from critlang.lint.config import ConfigError, Selection, find_config
from critlang.lint.context import LintContext, analyse
from critlang.lint.engine import run_rules
from critlang.lsp.index import DocumentIndex, build_index
from critlang.lsp.positions import LineIndex


@attrs.frozen(kw_only=True)
class Analysis:
    """What the server knows about one version of a document.

    ``complete`` is True once every selected rule has run; ``seconds`` is the time the analysis
    took so far; ``problem`` a configuration error to show the user.
    """

    uri: str
    version: int | None
    text: str
    path: Path | None
    context: LintContext
    diagnostics: tuple[Diagnostic, ...]
    lines: LineIndex
    selection: Selection
    complete: bool = False
    seconds: float = 0.0
    problem: str | None = None
    # The index, once built; shared by the analyses evolved from one check (same context).
    built: list[DocumentIndex] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def parsed(self) -> bool:
        """True when the text parsed (its AST, symbols and index are those of this text)."""
        return self.context.parsed

    @property
    def index(self) -> DocumentIndex:
        """The resolved names: built on first use (:func:`index_document` builds it ahead)."""
        if not self.built:
            with collector_paused():
                index = build_index(self.context)
            if not self.built:  # another thread may have built it meanwhile: keep one
                self.built.append(index)
        return self.built[0]


def selection_for(path: Path | None) -> tuple[Selection, str | None]:
    """The rules the configuration selects for ``path`` (``critlang.toml`` or
    ``pyproject.toml``), and the configuration's problem when it cannot be read."""
    if path is None:
        return Selection(), None
    try:
        return find_config(path.parent).selection(path), None
    except ConfigError as error:
        return Selection(), str(error)


def check_document(
    uri: str,
    version: int | None,
    text: str,
    path: Path | None,
    encoding: str,
    stop: Callable[[], bool] | None = None,
) -> Analysis:
    """Step one: parse, check and run the error rules (``stop``: see :func:`lint_document`)."""
    started = time.perf_counter()
    selection, problem = selection_for(path)
    name = str(path) if path is not None else uri
    errors = [rule for rule in selection.rules() if rule.severity is Severity.ERROR]
    with collector_paused():
        context = analyse(text, name, path)
        diagnostics = _with_check_errors(context, run_rules(context, errors, stop=stop))
    return Analysis(
        uri=uri,
        version=version,
        text=text,
        path=path,
        context=context,
        diagnostics=tuple(diagnostics),
        lines=LineIndex(text, encoding),
        selection=selection,
        seconds=time.perf_counter() - started,
        problem=problem,
    )


def index_document(analysis: Analysis) -> Analysis:
    """Step two: the index of names and literals, built now (else on first use)."""
    started = time.perf_counter()
    analysis.index  # noqa: B018 -- builds and keeps it
    seconds = analysis.seconds + time.perf_counter() - started
    return attrs.evolve(analysis, seconds=seconds)


def lint_document(analysis: Analysis, stop: Callable[[], bool] | None = None) -> Analysis:
    """Step three: the selected rules that step one did not run. ``stop`` is asked before each
    rule: when it answers True (the text has been edited since), the analysis is dropped with
    :class:`~critlang.lint.engine.Stopped`."""
    started = time.perf_counter()
    rules = [rule for rule in analysis.selection.rules() if rule.severity is not Severity.ERROR]
    codes = {rule.code for rule in rules}
    with collector_paused():
        found = [d for d in run_rules(analysis.context, rules, stop=stop) if d.code in codes]
    merged = sorted(
        [*analysis.diagnostics, *found], key=lambda d: (d.span.start, d.code, d.span.end, d.message)
    )
    return attrs.evolve(
        analysis,
        diagnostics=tuple(merged),
        complete=True,
        seconds=analysis.seconds + time.perf_counter() - started,
    )


def analyse_document(
    uri: str, version: int | None, text: str, path: Path | None, encoding: str
) -> Analysis:
    """The three steps at once."""
    return lint_document(index_document(check_document(uri, version, text, path, encoding)))


def _with_check_errors(context: LintContext, found: list[Diagnostic]) -> list[Diagnostic]:
    """``found``, and every check error that no finding reports (its rule is not selected)."""
    reported = {diagnostic.message for diagnostic in found}
    missing = [error for error in context.check_errors if error.message not in reported]
    if not missing:
        return found
    merged = [*found, *missing]
    merged.sort(key=lambda d: (d.span.start, d.code, d.span.end, d.message))
    return merged
