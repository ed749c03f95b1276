"""Formatting and code actions: text edits from the formatter and from the lint rules' fixes.

Formatting runs :func:`critlang.fmt.files.format_checked` on the whole document and sends the
lines that changed, one edit per changed block, so that the editor keeps its marks elsewhere.
Range formatting formats the whole document and sends the changed blocks that touch the range
(an aligned column of one-line criteria may then be only partly realigned).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from lsprotocol import types

from critlang.diagnostics import Applicability, Diagnostic
from critlang.fmt.files import format_checked
from critlang.lint.engine import apply_fixes
from critlang.lsp.positions import LineIndex

FIX_ALL = "source.fixAll.critlang"


def format_edits(text: str, name: str, lines: LineIndex) -> list[types.TextEdit]:
    """The edits that bring ``text`` to the canonical layout (raises ``CritlangError`` when the
    text does not parse)."""
    formatted = format_checked(text, name)
    return list(changed_blocks(text, formatted, lines))


def changed_blocks(before: str, after: str, lines: LineIndex) -> Iterator[types.TextEdit]:
    """One edit for each block of lines that differs between ``before`` and ``after``."""
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    starts = [0]
    for line in old:
        starts.append(starts[-1] + len(line))
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, first, last, new_first, new_last in matcher.get_opcodes():
        if tag == "equal":
            continue
        span_range = types.Range(
            start=lines.position(starts[first]), end=lines.position(starts[last])
        )
        yield types.TextEdit(range=span_range, new_text="".join(new[new_first:new_last]))


def in_range(edits: Iterable[types.TextEdit], wanted: types.Range) -> list[types.TextEdit]:
    """The edits whose lines touch the lines of ``wanted``."""
    return [
        edit
        for edit in edits
        if edit.range.start.line <= wanted.end.line and edit.range.end.line >= wanted.start.line
    ]


def fix_actions(
    uri: str,
    diagnostics: Iterable[Diagnostic],
    wanted: types.Range,
    lines: LineIndex,
    convert: dict[int, types.Diagnostic],
) -> list[types.CodeAction]:
    """A quick fix for each finding with a fix whose range touches ``wanted``; ``convert`` maps a
    finding (by identity) to the LSP diagnostic it was published as."""
    actions = []
    for diagnostic in diagnostics:
        fix = diagnostic.fix
        if fix is None or not fix.edits:
            continue
        where = lines.range(diagnostic.span)
        if where.start.line > wanted.end.line or where.end.line < wanted.start.line:
            continue
        edits = [types.TextEdit(range=lines.range(e.span), new_text=e.text) for e in fix.edits]
        safe = fix.applicability is Applicability.SAFE
        published = convert.get(id(diagnostic))
        actions.append(
            types.CodeAction(
                title=fix.message + ("" if safe else " (check the result)"),
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[published] if published is not None else None,
                is_preferred=safe,
                edit=types.WorkspaceEdit(changes={uri: edits}),
            )
        )
    return actions


def fix_all_action(
    uri: str, text: str, diagnostics: Iterable[Diagnostic], lines: LineIndex
) -> types.CodeAction | None:
    """One action that applies every safe fix (as ``critlang lint --fix`` does in one round)."""
    fixed, applied = apply_fixes(text, diagnostics)
    if not applied:
        return None
    edits = list(changed_blocks(text, fixed, lines))
    return types.CodeAction(
        title=f"Apply {applied} safe fix{'es' if applied != 1 else ''} (critlang)",
        kind=FIX_ALL,
        edit=types.WorkspaceEdit(changes={uri: edits}),
    )
