"""Document symbols: the trial, its uses, declarations and definitions, and each section with
its criteria, as a tree for the editor's outline."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lsprotocol import types

from critlang.lint.spans import criterion_id_span, declaration_name_span, define_name_span
from critlang.source import Source, Span
from critlang.syntax import ast

Ranges = Callable[[Span], types.Range | None]


def document_symbols(
    program: ast.Program, source: Source, ranges: Ranges
) -> list[types.DocumentSymbol]:
    """The outline of ``program``; ``ranges`` maps a span to the editor's range (None when the
    span no longer exists in the editor's text)."""
    items = [symbol for symbol in _items(program, source, ranges) if symbol is not None]
    trial = program.trial
    if trial is None:
        return items
    start = min(item.span.start for item in program.items)
    end = max(item.span.end for item in program.items)
    whole = ranges(Span(start, end))
    name = ranges(trial.span)
    if whole is None or name is None:
        return items
    return [
        types.DocumentSymbol(
            name=f"trial {trial.id}",
            detail=trial.title,
            kind=types.SymbolKind.Module,
            range=whole,
            selection_range=name,
            children=items,
        )
    ]


def _items(
    program: ast.Program, source: Source, ranges: Ranges
) -> Iterator[types.DocumentSymbol | None]:
    criteria: list[ast.Criterion] = []
    for item in program.items:
        if isinstance(item, ast.Criterion):
            if criteria and criteria[-1].section != item.section:
                yield _section(criteria, source, ranges)
                criteria = []
            criteria.append(item)
            continue
        if criteria:
            yield _section(criteria, source, ranges)
            criteria = []
        yield _item(item, source, ranges)
    if criteria:
        yield _section(criteria, source, ranges)


def _item(item: ast.Item, source: Source, ranges: Ranges) -> types.DocumentSymbol | None:
    if isinstance(item, ast.Define):
        return _symbol(
            item.name,
            "define",
            types.SymbolKind.Function,
            item.span,
            define_name_span(source, item),
            ranges,
        )
    if isinstance(item, ast.Declaration):
        kind = types.SymbolKind.Field if item.kind == "lab" else types.SymbolKind.Property
        return _symbol(
            item.name,
            item.label or item.kind,
            kind,
            item.span,
            declaration_name_span(source, item),
            ranges,
        )
    if isinstance(item, ast.AnchorDeclaration):
        return _symbol(
            ", ".join(item.names), "anchor", types.SymbolKind.Constant, item.span, item.span, ranges
        )
    if isinstance(item, ast.Use):
        return _symbol(
            f'use "{item.path}"', None, types.SymbolKind.File, item.span, item.span, ranges
        )
    return None


def _section(
    criteria: list[ast.Criterion], source: Source, ranges: Ranges
) -> types.DocumentSymbol | None:
    """A section (from its keyword to its last criterion) with its criteria."""
    section = criteria[0].section
    keyword = source.text.rfind(section, 0, criteria[0].span.start)
    start = keyword if keyword >= 0 else criteria[0].span.start
    head = Span(start, start + len(section)) if keyword >= 0 else criteria[0].span
    children = [_criterion(criterion, source, ranges) for criterion in criteria]
    return _symbol(
        section,
        f"{len(criteria)} criteria",
        types.SymbolKind.Namespace,
        Span(start, criteria[-1].span.end),
        head,
        ranges,
        [child for child in children if child is not None],
    )


def _criterion(
    criterion: ast.Criterion, source: Source, ranges: Ranges
) -> types.DocumentSymbol | None:
    detail = criterion.text or ""
    if len(detail) > 80:
        detail = detail[:79] + "…"
    kind = (
        types.SymbolKind.Event
        if isinstance(criterion.body, ast.Review)
        else types.SymbolKind.Boolean
    )
    return _symbol(
        criterion.id, detail, kind, criterion.span, criterion_id_span(source, criterion), ranges
    )


def _symbol(
    name: str,
    detail: str | None,
    kind: types.SymbolKind,
    span: Span,
    selection: Span,
    ranges: Ranges,
    children: list[types.DocumentSymbol] | None = None,
) -> types.DocumentSymbol | None:
    whole, chosen = ranges(span), ranges(selection)
    if whole is None or chosen is None:
        return None
    return types.DocumentSymbol(
        name=name, detail=detail, kind=kind, range=whole, selection_range=chosen, children=children
    )
