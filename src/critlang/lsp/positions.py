"""Character offsets <-> LSP positions, and offsets across an edit.

critlang spans are offsets in code points; an LSP position is a line and a column counted in the
client's position encoding (UTF-16 code units unless the client chose UTF-8 or UTF-32).
:class:`LineIndex` converts between the two for one text, using the line table of
:class:`critlang.source.Source`. :class:`OffsetMap` carries offsets from the text an analysis was
made of to the text in the editor now, so that the last analysis that parsed can still answer
while the current text has a syntax error.
"""

from __future__ import annotations

from lsprotocol import types

from critlang.source import Source, Span

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def _units(text: str, encoding: str) -> int:
    """The length of ``text`` in code units of ``encoding``."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _code_points(line: str, units: int, encoding: str) -> int:
    """How many code points of ``line`` fit in ``units`` code units of ``encoding``."""
    if encoding == UTF32 or line.isascii():
        return min(units, len(line))
    count = 0
    for index, char in enumerate(line):
        if count >= units:
            return index
        count += _units(char, encoding)
    return len(line)


class LineIndex:
    """Offsets in one text <-> LSP positions in the client's ``encoding``."""

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.source = Source(text)
        self.text = text
        self.encoding = str(encoding)

    def position(self, offset: int) -> types.Position:
        """The LSP position of a code-point offset (clamped to the text)."""
        line, column = self.source.location(offset)
        start = self.source.line_starts[line - 1]
        character = _units(self.text[start : start + column - 1], self.encoding)
        return types.Position(line=line - 1, character=character)

    def range(self, span: Span) -> types.Range:
        """The LSP range of a span."""
        return types.Range(start=self.position(span.start), end=self.position(span.end))

    def offset(self, position: types.Position) -> int:
        """The code-point offset of an LSP position (clamped to the text)."""
        starts = self.source.line_starts
        if position.line >= len(starts):
            return len(self.text)
        start = starts[position.line]
        end = starts[position.line + 1] - 1 if position.line + 1 < len(starts) else len(self.text)
        line = self.text[start:end].rstrip("\r")
        return start + _code_points(line, position.character, self.encoding)

    def span(self, range_: types.Range) -> Span:
        """The span of an LSP range."""
        return Span(self.offset(range_.start), self.offset(range_.end))

    @property
    def end(self) -> types.Position:
        """The position just after the last character."""
        return self.position(len(self.text))


class OffsetMap:
    """Offsets in ``old`` mapped to ``new``, two texts that differ in one region (an edit).

    The texts share a prefix and a suffix; an offset in the prefix stays, one in the suffix moves
    by the change in length, and one inside the changed region has no counterpart (``None``).
    """

    def __init__(self, old: str, new: str) -> None:
        self.identical = old == new
        limit = min(len(old), len(new))
        prefix = _common_prefix(old, new, limit)
        suffix = _common_suffix(old, new, limit - prefix)
        self.prefix = prefix
        self.old_end = len(old) - suffix
        self.new_end = len(new) - suffix

    def to_new(self, offset: int, *, after: bool = False) -> int | None:
        """Where an offset of the old text is in the new one. At a point where text was
        inserted, ``after`` chooses the end of the insertion rather than its start."""
        return _carry(offset, self.prefix, self.old_end, self.new_end, after, self.identical)

    def to_old(self, offset: int) -> int | None:
        """Where an offset of the new text was in the old one."""
        return _carry(offset, self.prefix, self.new_end, self.old_end, False, self.identical)

    def span_to_new(self, span: Span) -> Span | None:
        """A span of the old text in the new one, or None when the edit cut into it."""
        start = self.to_new(span.start, after=span.end > span.start)
        end = self.to_new(span.end)
        if start is None or end is None or end < start:
            return None
        return Span(start, end)


def _carry(
    offset: int, prefix: int, end: int, other_end: int, after: bool, identical: bool
) -> int | None:
    """``offset`` carried from a text whose changed region is ``[prefix, end)`` to one whose
    changed region is ``[prefix, other_end)``."""
    if identical or offset < prefix or (offset == prefix and not (after and end == prefix)):
        return offset
    if offset >= end:
        return offset - end + other_end
    return None


def _common_prefix(a: str, b: str, limit: int) -> int:
    """The length of the longest common prefix (bisecting on slices, which compare in C)."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    """The length of the longest common suffix, at most ``limit``."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle :] == b[len(b) - middle :]:
            low = middle
        else:
            high = middle - 1
    return low
