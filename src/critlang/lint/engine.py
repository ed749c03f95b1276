"""Running the rules on a file: selection, suppression comments, sorting and fixes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

import attrs

from critlang.allocation import collector_paused
from critlang.diagnostics import Applicability, Diagnostic, Edit, Severity
from critlang.errors import CritlangError
from critlang.lint.config import Selection, specificity
from critlang.lint.context import LintContext, analyse
from critlang.lint.registry import Rule, all_rules
from critlang.semantics.dictionary import Dictionary
from critlang.source import Source, Span
from critlang.syntax.parser import read_file

# A file that does not parse cannot be linted: its syntax error is always reported.
SYNTAX_ERROR = "CL100"
# `# critlang: ignore` or `# critlang: ignore[CL201, CL5]`, anywhere in a comment.
_SUPPRESSION = re.compile(r"critlang:\s*ignore(?:\[([^\]]*)\])?(?![\w-])")
MAX_FIX_ROUNDS = 10


@attrs.frozen(kw_only=True)
class FileResult:
    """The findings for one file; ``parse_failed`` when it is not valid critlang text, and
    ``fixed`` the number of fixes applied (``--fix``)."""

    name: str
    diagnostics: tuple[Diagnostic, ...]
    parse_failed: bool = False
    fixed: int = 0
    source: Source | None = None


class Stopped(Exception):
    """Raised by :func:`run_rules` when its ``stop`` says the findings are no longer wanted."""


def run_rules(
    context: LintContext, rules: Iterable[Rule], *, stop: Callable[[], bool] | None = None
) -> list[Diagnostic]:
    """The findings of ``rules`` (and always of the syntax-error rule) on ``context``, minus the
    suppressed ones, in source order. ``stop`` is asked before each rule; when it answers True,
    :class:`Stopped` is raised (a language server drops the analysis of a text already edited)."""
    chosen = {rule.code: rule for rule in rules}
    if context.parse_errors:
        syntax = next((rule for rule in all_rules() if rule.code == SYNTAX_ERROR), None)
        if syntax is not None:
            chosen[SYNTAX_ERROR] = syntax
    suppressions = _suppressions(context)
    found: list[Diagnostic] = []
    for rule in sorted(chosen.values(), key=lambda item: item.code):
        if stop is not None and stop():
            raise Stopped(rule.code)
        for finding in rule.check(context):
            diagnostic = Diagnostic(
                code=rule.code,
                name=rule.name,
                severity=rule.severity,
                message=finding.message,
                span=finding.span,
                source=context.source,
                help=finding.help,
                fix=finding.fix,
            )
            if rule.code != SYNTAX_ERROR and _suppressed(diagnostic, rule, suppressions):
                continue
            found.append(diagnostic)
    found.sort(key=lambda d: (d.span.start, d.code, d.span.end, d.message))
    return found


def _suppressions(context: LintContext) -> dict[int, list[str] | None]:
    """Line -> the selectors its suppression comment names (None: every rule)."""
    lines: dict[int, list[str] | None] = {}
    for comment in context.program.comments:
        for match in _SUPPRESSION.finditer(comment.text):
            line, _ = context.source.location(comment.span.start)
            if match.group(1) is None:
                lines[line] = None
            elif line not in lines or lines[line] is not None:
                named = [part.strip() for part in match.group(1).split(",") if part.strip()]
                lines[line] = [*(lines.get(line) or []), *named]
    return lines


def _suppressed(
    diagnostic: Diagnostic, rule: Rule, suppressions: dict[int, list[str] | None]
) -> bool:
    line, _ = diagnostic.location
    if line not in suppressions:
        return False
    selectors = suppressions[line]
    return selectors is None or any(specificity(selector, rule) for selector in selectors)


def lint_text(
    text: str,
    name: str = "<string>",
    *,
    selection: Selection | None = None,
    path: Path | None = None,
    dictionary: Dictionary | None = None,
) -> FileResult:
    """Lint criteria text; ``path`` is the file on disk, for ``use``."""
    with collector_paused():  # many objects made; any cycle among them is collected after
        context = analyse(text, name, path, dictionary)
        rules = (selection or Selection()).rules()
        return FileResult(
            name=name,
            diagnostics=tuple(run_rules(context, rules)),
            parse_failed=not context.parsed,
            source=context.source,
        )


def lint_file(
    path: Path,
    *,
    selection: Selection | None = None,
    fix: bool = False,
    name: str | None = None,
) -> FileResult:
    """Lint a file; with ``fix``, apply the safe fixes, write the file back and lint it again."""
    shown = name if name is not None else str(path)
    try:
        text = read_file(path)
    except CritlangError as error:
        unreadable = Diagnostic(
            code=SYNTAX_ERROR,
            name="syntax-error",
            message=str(error),
            source=None,
            severity=Severity.ERROR,
        )
        return FileResult(name=shown, diagnostics=(unreadable,), parse_failed=True)
    result = lint_text(text, shown, selection=selection, path=path)
    if not fix:
        return result
    fixed = 0
    for _ in range(MAX_FIX_ROUNDS):
        new_text, applied = apply_fixes(text, result.diagnostics)
        if not applied:
            break
        fixed += applied
        text = new_text
        result = lint_text(text, shown, selection=selection, path=path)
    if fixed:
        path.write_text(text, encoding="utf-8")
    return attrs.evolve(result, fixed=fixed)


def apply_fixes(
    text: str,
    diagnostics: Iterable[Diagnostic],
    applicability: Applicability = Applicability.SAFE,
) -> tuple[str, int]:
    """``text`` with the fixes of ``diagnostics`` applied (safe ones only, unless told), and how
    many were applied. A fix whose edits overlap an earlier fix's is left for the next round."""
    taken: list[Span] = []
    edits: list[Edit] = []
    applied = 0
    fixes = [d.fix for d in diagnostics if d.fix is not None and d.fix.edits]
    allowed = (
        {Applicability.SAFE}
        if applicability is Applicability.SAFE
        else {Applicability.SAFE, Applicability.UNSAFE}
    )
    for fix in sorted(fixes, key=lambda f: min(edit.span.start for edit in f.edits)):
        if fix.applicability not in allowed:
            continue
        if any(_overlap(edit.span, other) for edit in fix.edits for other in taken):
            continue
        taken.extend(edit.span for edit in fix.edits)
        edits.extend(fix.edits)
        applied += 1
    for edit in sorted(edits, key=lambda e: e.span.start, reverse=True):
        text = text[: edit.span.start] + edit.text + text[edit.span.end :]
    return text, applied


def _overlap(a: Span, b: Span) -> bool:
    return (a.start < b.end and b.start < a.end) or a.start == b.start
