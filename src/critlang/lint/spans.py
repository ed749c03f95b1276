"""Finding the span of a word inside a node's span, for findings and fixes that point at one
token (a definition's name, a comparator, a criterion ID)."""

from __future__ import annotations

import re

from critlang.source import Source, Span
from critlang.syntax import ast


def word_span(source: Source, within: Span, word: str) -> Span | None:
    """The first occurrence of ``word`` as a whole word inside ``within``."""
    pattern = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(word) + r"(?![A-Za-z0-9_])")
    match = pattern.search(source.text, within.start, within.end)
    return Span(match.start(), match.end()) if match else None


def text_span(source: Source, within: Span, text: str) -> Span | None:
    """The first occurrence of ``text`` inside ``within``."""
    start = source.text.find(text, within.start, within.end)
    return Span(start, start + len(text)) if start >= 0 else None


def criterion_id_span(source: Source, criterion: ast.Criterion) -> Span:
    """The criterion's ID (the criterion's start, where its ID is written)."""
    start = criterion.span.start
    return Span(start, start + len(criterion.id))


def define_name_span(source: Source, define: ast.Define) -> Span:
    return word_span(source, define.span, define.name) or define.span


def declaration_name_span(source: Source, declaration: ast.Declaration) -> Span:
    # The name follows the kind keyword: `lab ANC ...`.
    after_kind = Span(declaration.span.start + len(declaration.kind), declaration.span.end)
    return word_span(source, after_kind, declaration.name) or declaration.span
