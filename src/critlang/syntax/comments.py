"""Comments, collected while the parser lexes, for the formatter (and anyone who reads them).

The grammar ignores ``COMMENT``; Lark still calls a lexer callback for an ignored terminal, so the
parser hands :func:`on_comment` to Lark once and every parse of a program collects its comments
with the same contextual lexer that reads the code: a ``#`` inside a string or a unit is never
taken for a comment, and no second pass over the text is needed. Lark's ``cache=`` option keeps
callbacks out of the cache key and passes them to the loaded parser, so caching is unaffected.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from lark import Token

from critlang.source import Span
from critlang.syntax import ast

# The comments of the parse in progress in this thread or task; None when nobody is collecting.
_collected: ContextVar[list[ast.Comment] | None] = ContextVar("critlang_comments", default=None)


def on_comment(token: Token) -> Token:
    """The Lark lexer callback for ``COMMENT``: records the comment when a parse collects them."""
    found = _collected.get()
    if found is not None:
        start = token.start_pos or 0
        end = token.end_pos if token.end_pos is not None else start + len(token)
        found.append(ast.Comment(text=str(token), span=Span(start, end)))
    return token


@contextmanager
def collecting() -> Iterator[list[ast.Comment]]:
    """Collect the comments that the parses inside the ``with`` block lex, in text order."""
    found: list[ast.Comment] = []
    reset = _collected.set(found)
    try:
        yield found
    finally:
        _collected.reset(reset)


def is_own_line(text: str, offset: int) -> bool:
    """True when only blanks stand between the start of the line and ``offset``."""
    line_start = text.rfind("\n", 0, offset) + 1
    return not text[line_start:offset].strip()
