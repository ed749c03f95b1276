"""Documents for the formatter: text, line breaks, groups and indentation.

After Wadler's "A prettier printer" and the document builders of prettier: a :class:`Group` is
printed on one line when it fits in the width, else every :class:`Line` directly inside it breaks;
the lines of a :class:`Fill` break one at a time, only where the next part would not fit.
:class:`Nest` indents the lines that break inside it by a number of columns, :class:`Align` to the
column where it starts. A line may carry comments, one printed at the end of the line it ends and
others on their own lines after it; such a line is *hard*: it always breaks, and so does every
group around it.
"""

from __future__ import annotations

from typing import TypeAlias

import attrs


@attrs.define(eq=False)
class Text:
    """Text printed as it is; ``start``/``end`` locate what it prints in the source (or -1)."""

    text: str
    start: int = -1
    end: int = -1


@attrs.define(eq=False)
class Line:
    """A space (``flat``) when its group fits on one line, else a line break."""

    flat: str = " "
    hard: bool = False
    trailing: str | None = None
    leading: list[str] = attrs.field(factory=list)

    def force(self) -> None:
        """Always break here (the groups around this line must be broken by the caller)."""
        self.hard = True


@attrs.define(eq=False)
class Group:
    parts: list[Doc]
    broken: bool = False


@attrs.define(eq=False)
class Nest:
    indent: int
    parts: list[Doc]


@attrs.define(eq=False)
class Align:
    parts: list[Doc]


@attrs.define(eq=False)
class Fill:
    """``content, Line, content, Line, ..., content``: each line breaks only when needed."""

    parts: list[Doc]


Doc: TypeAlias = Text | Line | Group | Nest | Align | Fill | list["Doc"]


@attrs.define(eq=False)
class _FillStep:
    """A fill being printed: the line before ``parts[index]`` and that part come next."""

    fill: Fill
    index: int


_Command: TypeAlias = tuple[int, bool, "Doc | _FillStep"]


def walk_lines(doc: Doc) -> tuple[list[list[Text]], list[tuple[Line, list[Group]]]]:
    """The texts between line breaks (segments, in order) and each line with its groups.

    ``segments[i]`` and ``segments[i + 1]`` are separated by ``lines[i]``. Hard lines break the
    groups around them here, so that a document built with hard lines is consistent.
    """
    segments: list[list[Text]] = [[]]
    lines: list[tuple[Line, list[Group]]] = []
    stack: list[tuple[Doc, tuple[Group, ...]]] = [(doc, ())]
    while stack:
        item, groups = stack.pop()
        if isinstance(item, Text):
            segments[-1].append(item)
        elif isinstance(item, Line):
            lines.append((item, list(groups)))
            segments.append([])
            if item.hard:
                for group in groups:
                    group.broken = True
        elif isinstance(item, list):
            stack.extend((part, groups) for part in reversed(item))
        elif isinstance(item, Group):
            stack.extend((part, (*groups, item)) for part in reversed(item.parts))
        else:
            stack.extend((part, groups) for part in reversed(item.parts))
    return segments, lines


def flat_width(doc: Doc) -> int | None:
    """The width of ``doc`` on one line, or None when it must break."""
    width = 0
    stack: list[Doc] = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, Text):
            width += len(item.text)
        elif isinstance(item, Line):
            if item.hard:
                return None
            width += len(item.flat)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Group) and item.broken:
            return None
        else:
            stack.extend(item.parts)
    return width


def render(doc: Doc, width: int, indent: int = 0) -> str:
    """Lay ``doc`` out in ``width`` columns, starting at column ``indent``.

    The result does not include the first line's indentation (the caller writes it).
    """
    out: list[str] = []
    column = indent
    stack: list[_Command] = [(indent, False, doc)]
    while stack:
        level, flat, item = stack.pop()
        if isinstance(item, Text):
            out.append(item.text)
            column += len(item.text)
        elif isinstance(item, list):
            stack.extend((level, flat, part) for part in reversed(item))
        elif isinstance(item, Line):
            if flat and not item.hard:
                out.append(item.flat)
                column += len(item.flat)
                continue
            if item.trailing is not None:
                out.append("  " + item.trailing)
            out.append("\n" + " " * level)
            for comment in item.leading:
                out.append(comment + "\n" + " " * level)
            column = level
        elif isinstance(item, Group):
            fits = flat or (not item.broken and _fits(item.parts, width - column, stack))
            stack.append((level, fits, item.parts))
        elif isinstance(item, Nest):
            stack.append((level + item.indent, flat, item.parts))
        elif isinstance(item, Align):
            stack.append((column, flat, item.parts))
        elif isinstance(item, Fill):
            stack.append((level, True, item.parts) if flat else (level, False, _FillStep(item, 0)))
        else:
            _fill_step(item, level, width, column, stack)
    return "".join(out)


def _fill_step(step: _FillStep, level: int, width: int, column: int, stack: list[_Command]) -> None:
    remaining = width - column
    parts = step.fill.parts
    index = step.index
    content = parts[index]
    last = index + 1 >= len(parts)
    if not last:
        stack.append((level, False, _FillStep(step.fill, index + 2)))
    rest = stack if last else []
    if index == 0:
        stack.append((level, _fits(content, remaining, rest), content))
        return
    separator = parts[index - 1]
    assert isinstance(separator, Line)
    joined = not separator.hard and _fits([Text(separator.flat), content], remaining, rest)
    stack.append((level, joined or _fits(content, width - level, rest), content))
    stack.append((level, joined, separator))


def _fits(doc: Doc, remaining: int, rest: list[_Command]) -> bool:
    """Whether ``doc`` fits on one line in ``remaining`` columns, with what follows it up to the
    next line break (``rest``, a stack of commands still to print)."""
    pending: list[tuple[bool, Doc | _FillStep]] = [(True, doc)]
    rest_index = len(rest)
    while remaining >= 0:
        if not pending:
            if rest_index == 0:
                return True
            rest_index -= 1
            _, flat, following = rest[rest_index]
            pending.append((flat, following))
            continue
        flat, item = pending.pop()
        if isinstance(item, Text):
            remaining -= len(item.text)
        elif isinstance(item, Line):
            if not flat or item.hard:
                return True
            remaining -= len(item.flat)
        elif isinstance(item, list):
            pending.extend((flat, part) for part in reversed(item))
        elif isinstance(item, Group):
            pending.append((flat and not item.broken, item.parts))
        elif isinstance(item, Nest | Align | Fill):
            pending.append((flat, item.parts))
        else:
            # A fill being printed: what comes next is one of its lines, which may break.
            pending.append((False, item.fill.parts[max(item.index - 1, 0) :]))
    return False
