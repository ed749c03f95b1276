"""Source text with a line table: turns character offsets into lines and columns."""

from __future__ import annotations

from bisect import bisect_right

import attrs


@attrs.frozen
class Span:
    """A half-open range of character offsets ``[start, end)`` in one source text."""

    start: int
    end: int

    def __add__(self, other: Span) -> Span:
        """The smallest span covering both."""
        return Span(min(self.start, other.start), max(self.end, other.end))


NO_SPAN = Span(0, 0)


class Source:
    """A named text (a file's path, ``<expr>`` or ``<string>``) and where its lines start."""

    __slots__ = ("_line_starts", "name", "text")

    def __init__(self, text: str, name: str = "<string>") -> None:
        self.text = text
        self.name = name
        self._line_starts: list[int] | None = None  # found when first asked for a location

    @property
    def line_starts(self) -> list[int]:
        """The offset where each line starts."""
        starts = self._line_starts
        if starts is None:
            starts = self._line_starts = [0]
            find = self.text.find
            index = find("\n")
            while index >= 0:
                starts.append(index + 1)
                index = find("\n", index + 1)
        return starts

    def location(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        starts = self.line_starts
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line end."""
        starts = self.line_starts
        if not 1 <= line <= len(starts):
            return ""
        start = starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start : end if end >= 0 else len(self.text)].rstrip("\r")
