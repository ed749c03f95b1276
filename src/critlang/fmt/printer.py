"""``critlang fmt``: one canonical layout for a criteria file, with its comments kept in place.

The layout, in 100 columns:

- ``trial``, ``use``, ``define``, declarations and the ``inclusion``/``exclusion`` keywords start
  at column 0, criteria at column 2; what continues an item on more lines is indented by 4 more.
- A criterion is ``ID "protocol text": expression``, on one line when it fits. The expressions
  of a run of one-line criteria (no blank line or comment between them) are aligned in one
  column after the protocol texts, unless that would leave a gap of more than 20 columns after
  a header or overflow a line: then a new run starts. A criterion that does not fit on one line
  puts its expression on the next lines, at column 6. ``define NAME =`` does the same at
  column 4. A declaration keeps its spec (or its ``codes``) after the colon and puts each other
  option on a line of its own; long lists of codes fill their lines, aligned after the option.
- An expression too long for its line breaks before its ``and``/``or`` operands, one per line
  with the operator first; then before ``implies``, ``else``, ``then``, and before a time window
  or ``except`` (these two indented by 4). A parenthesised part that breaks continues aligned
  inside its parenthesis; an ``else if`` chain breaks as one.
- Parentheses are the fewest that keep the meaning, plus those that spare the reader a
  precedence rule: ``and`` inside ``or`` (and the other way round), ``or``/``and`` around
  ``implies``, ``not (x within w)``, ``(a except b) within w``. Where the lexer would read a
  different token they are kept too: ``(3 mg)^2``, ``2 * (10)``, and a one-item set after a
  declaration's colon is written ``{ a }`` (``{a}`` there is a UCUM annotation unit).
- Operators are spaced and spelled in ASCII (``<=`` for ``≤``, ``=`` for ``==``, ``x ULN`` for
  ``× ULN``); numbers, names, codes and dates are kept as written; units are spelled as
  :mod:`critlang.fmt.units` says; quoted text is kept, re-escaped.
- Blank lines between items are kept (several become one); blank lines inside an item, at the
  start and at the end of the file go; lines end in ``\n``, without trailing blanks.
- Every comment is kept. A comment on its own line stays before what it preceded (inside an
  expression: before the operand line it preceded); a comment at the end of a line stays at the
  end of that line, and the expression breaks there so that it can. A comment where no line can
  break (inside a comparison, say) moves to the start or the end of its line; when two would end
  one line, the first moves before it. A comment indented under the item it follows stays
  under it; other comments take the indentation of what they precede.

Formatting is idempotent and never changes the program: the output parses to an equal AST, with
the same comments.
"""

from __future__ import annotations

import bisect
import re

import attrs

from critlang.allocation import collector_paused
from critlang.fmt.doc import (
    Align,
    Doc,
    Fill,
    Group,
    Line,
    Nest,
    Text,
    flat_width,
    render,
    walk_lines,
)
from critlang.fmt.units import canonical_unit, canonical_unit_spec
from critlang.syntax import ast
from critlang.syntax.comments import is_own_line
from critlang.syntax.parser import parse_program
from critlang.syntax.printer import (
    LEVEL_COMPARE,
    LEVEL_IMPLIES,
    LEVEL_NOT,
    LEVEL_OR,
    LEVEL_POSTFIX,
    LEVEL_SUM,
    LEVEL_UNARY,
    binding_level,
    decimal_text,
    expression_text,
    quoted,
)

WIDTH = 100
CRITERION_INDENT = 2
CONTINUATION = 4
# Alignment stops where it would leave more than this many spaces after a criterion's header.
MAX_ALIGNMENT_GAP = 20

# Binding strength, loosest first (as in critlang.syntax.printer and the grammar).
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+\-]?[0-9]+)?")
_SECTION_WORDS = frozenset({"inclusion", "exclusion"})


def format_source(text: str, name: str = "<string>") -> str:
    """The canonical layout of a criteria file; raises :class:`~critlang.errors.ParseError`.

    >>> print(format_source('inclusion I1 "Age":age>=18 years  I2: ECOG<=1 # PS'), end="")
    inclusion
      I1 "Age": age >= 18 years
      I2:       ECOG <= 1  # PS
    """
    return format_program(text, parse_program(text, name))


def format_program(text: str, program: ast.Program) -> str:
    """Like :func:`format_source`, for a program already parsed from ``text``."""
    with collector_paused():  # many objects made; any cycle among them is collected after
        return _Formatter(text, program).format()


# ---- the file as a sequence of items, section keywords and comments --------------------------


@attrs.define(eq=False)
class _Element:
    """One thing printed at the top level: an item, a section keyword or a comment line."""

    start: int
    end: int
    item: ast.Item | None = None
    word: str = ""  # the section keyword or the comment's text
    is_comment: bool = False
    dangling: bool = False  # a comment indented under the item before it
    comments: list[ast.Comment] = attrs.field(factory=list)  # an item's or a keyword's own
    # Filled in when laid out.
    indent: int = 0
    blank_before: bool = False
    layout: _ItemLayout | None = None


@attrs.define(eq=False)
class _ItemLayout:
    doc: Doc
    hoisted: list[str]
    trailing: str | None
    # For a criterion: its header text, the line between header and body, and the body's width
    # on one line (None when the criterion cannot be on one line).
    header: str = ""
    line: Line | None = None
    one_line_width: int | None = None


class _Formatter:
    def __init__(self, text: str, program: ast.Program) -> None:
        self.text = text
        self.program = program
        self.masked = _mask(text, program.comments)

    def format(self) -> str:
        elements = self._elements()
        self._place(elements)
        for element in elements:
            if element.item is not None:
                element.layout = self._item_layout(element)
        self._align(elements)
        out: list[str] = []
        for element in elements:
            if out:
                out.append("\n\n" if element.blank_before else "\n")
            out.append(self._print(element))
        return "".join(out) + "\n" if out else ""

    def _elements(self) -> list[_Element]:
        """Items, section keywords and comments, in text order; each comment that belongs to an
        item (inside it, or after it on its last line) or to a keyword is given to it."""
        text = self.text
        comments = self.program.comments
        masked = self.masked
        elements: list[_Element] = []
        previous_end = 0
        for item in self.program.items:
            elements.extend(_keywords(masked, previous_end, item.span.start))
            elements.append(_Element(start=item.span.start, end=item.span.end, item=item))
            previous_end = item.span.end
        elements.extend(_keywords(masked, previous_end, len(text)))
        starts = [element.start for element in elements]
        loose: list[_Element] = []
        for comment in comments:
            position = comment.span.start
            index = bisect.bisect_right(starts, position) - 1
            owner = elements[index] if index >= 0 else None
            if owner is not None and (
                position < owner.end or "\n" not in text[owner.end : position]
            ):
                owner.comments.append(comment)
            else:
                loose.append(
                    _Element(
                        start=position,
                        end=comment.span.end,
                        word=comment.text.rstrip(),
                        is_comment=True,
                    )
                )
        for element in elements:
            if element.comments:
                element.end = max(element.end, element.comments[-1].span.end)
        return sorted(elements + loose, key=lambda element: element.start)

    def _place(self, elements: list[_Element]) -> None:
        """Indentation and blank lines.

        Criteria are indented by 2. A comment indented under the item it directly follows stays
        with it, at the item's continuation indent; any other comment takes the indentation of
        what it directly precedes; one that stands apart keeps its place inside a section.
        """
        text = self.text
        in_section = False
        previous_end: int | None = None
        owner: _Element | None = None  # the item that a run of comments directly follows
        for element in elements:
            if previous_end is not None:
                element.blank_before = text.count("\n", previous_end, element.start) >= 2
            previous_end = element.end
            if element.is_comment:
                column = element.start - (text.rfind("\n", 0, element.start) + 1)
                if owner is not None and not element.blank_before and column > owner.indent:
                    element.indent = owner.indent + CONTINUATION
                    element.dangling = True
                else:
                    owner = None
                    element.indent = CRITERION_INDENT if in_section and column > 0 else 0
            elif element.item is None:
                in_section = True
                owner = None
            else:
                in_section = isinstance(element.item, ast.Criterion)
                element.indent = CRITERION_INDENT if in_section else 0
                owner = element
        following: _Element | None = None
        for element in reversed(elements):
            if (
                element.is_comment
                and not element.dangling
                and following is not None
                and not following.blank_before
            ):
                element.indent = following.indent
            following = element

    def _print(self, element: _Element) -> str:
        margin = " " * element.indent
        if element.is_comment:
            return margin + element.word
        if element.item is None:
            trailing = [comment.text.rstrip() for comment in element.comments]
            return "  ".join([element.word, *trailing])
        layout = element.layout
        assert layout is not None
        lines = [margin + comment for comment in layout.hoisted]
        body = margin + render(layout.doc, WIDTH, element.indent)
        if layout.trailing is not None:
            body += "  " + layout.trailing
        return "\n".join([*lines, body])

    # ---- items ----------------------------------------------------------------------------------

    def _item_layout(self, element: _Element) -> _ItemLayout:
        item = element.item
        start = item.span.start if item is not None else 0
        header = ""
        line: Line | None = None
        body: Doc | None = None
        if isinstance(item, ast.Criterion):
            header = item.id + (f" {quoted(item.text)}" if item.text is not None else "") + ":"
            line = Line()
            body = self._body(item.body)
            doc: Doc = Group(
                [Text(header, start, start + len(item.id)), Nest(CONTINUATION, [line, body])]
            )
        elif isinstance(item, ast.Define):
            head = f"define {item.name} ="
            doc = Group(
                [Text(head, start, start + 6), Nest(CONTINUATION, [Line(), self._expr(item.expr)])]
            )
        elif isinstance(item, ast.Trial):
            words = ["trial", item.id]
            if item.title is not None:
                words.append(quoted(item.title))
            if item.version is not None:
                words += ["version", quoted(item.version)]
            doc = Text(" ".join(words), start, item.span.end)
        elif isinstance(item, ast.Use):
            doc = Text(f"use {quoted(item.path)}", start, item.span.end)
        elif isinstance(item, ast.Declaration):
            doc = self._declaration(item)
        else:
            assert isinstance(item, ast.AnchorDeclaration)
            # The AST keeps no places for the names: find them in the text, comments masked.
            places = [
                match.start() + start
                for match in re.finditer(r"\w+", self.masked[start : item.span.end])
            ][1:]
            names: list[Doc] = []
            for index, (name, place) in enumerate(zip(item.names, places, strict=True)):
                if index:
                    names.append(Line())
                comma = "," if index + 1 < len(item.names) else ""
                names.append(Text(name + comma, place, place + len(name)))
            doc = [Text("anchor ", start, start + 6), Align([Fill(names)])]
        assert item is not None
        hoisted, trailing = self._attach(doc, item, element.comments)
        layout = _ItemLayout(doc=doc, hoisted=hoisted, trailing=trailing, header=header, line=line)
        if isinstance(doc, Group) and not doc.broken and body is not None:
            width = flat_width(body)
            if width is not None and element.indent + len(header) + 1 + width <= WIDTH:
                layout.one_line_width = width
        return layout

    def _body(self, body: ast.Expr | ast.Review) -> Doc:
        if isinstance(body, ast.Review):
            text = "review" + (f" {quoted(body.text)}" if body.text is not None else "")
            return Text(text, body.span.start, body.span.end)
        return self._expr(body)

    def _declaration(self, item: ast.Declaration) -> Doc:
        """``kind name "label": spec`` (or ``: codes ...``), then each option on its own line."""
        head = f"{item.kind} {item.name}" + (f" {quoted(item.label)}" if item.label else "")
        start = item.span.start
        options = list(item.options)
        parts: list[Doc] = [Text(head, start, start + len(item.kind))]
        first: Doc | None = None
        if item.spec is not None:
            first = self._spec(item.spec)
        elif options and options[0].name == "codes":
            first = self._option(options.pop(0))
        if first is not None:
            parts = [
                Group(
                    [
                        Text(head + ":", start, start + len(item.kind)),
                        Nest(CONTINUATION, [Line(), first]),
                    ]
                )
            ]
        for option in options:
            parts.append(Nest(CONTINUATION, [Line(hard=True), self._option(option)]))
        return parts

    def _spec(self, spec: ast.UnitSpec | ast.TypeSpec | ast.SetLiteral) -> Doc:
        if isinstance(spec, ast.UnitSpec):
            unit = canonical_unit_spec(spec.unit_text or spec.unit, spec.unit)
            return Text(unit, spec.span.start, spec.span.end)
        if isinstance(spec, ast.TypeSpec):
            kind = Text(spec.type, spec.span.start, spec.span.start + len(spec.type))
            return kind if spec.range is None else [kind, Text(" "), self._expr(spec.range)]
        if len(spec.items) <= 1:
            # `{a}` after `:` is the UCUM unit `{a}` (an annotation); `{ a }` is a set.
            return [
                Text("{ ", spec.span.start, spec.span.start + 1),
                *map(self._expr, spec.items),
                Text(" }" if spec.items else "}", spec.span.end - 1, spec.span.end),
            ]
        return self._expr(spec)

    def _option(self, option: ast.Option) -> Doc:
        start = option.span.start
        values = self._listed(list(option.values))
        return [Text(option.name + " ", start, start + len(option.name)), Align([Fill(values)])]

    def _listed(self, nodes: list[ast.Expr]) -> list[Doc]:
        """``a, b, c`` as the parts of a fill: each with its comma, lines between them."""
        parts: list[Doc] = []
        for index, node in enumerate(nodes):
            if index:
                parts.append(Line())
            doc = self._expr(node)
            parts.append([doc, Text(",")] if index + 1 < len(nodes) else doc)
        return parts

    # ---- comments -------------------------------------------------------------------------------

    def _attach(
        self, doc: Doc, item: ast.Item, comments: list[ast.Comment]
    ) -> tuple[list[str], str | None]:
        """Give each of an item's comments to the line break before or after its place, so that
        it prints where it was; returns the comments to print before the item and after it.

        The item's text between two possible line breaks is a segment. A comment on its own line
        goes before the segment it precedes (or stands in); a comment at the end of a line goes
        after the segment it follows (or stands in), and only one can: any others of that segment
        go before it. The line breaks next to a segment with comments are forced.
        """
        segments, lines = walk_lines(doc)
        if not comments:
            return [], None
        ranges: list[tuple[int, int, int]] = []  # (start, end, index) of segments with a place
        for index, segment in enumerate(segments):
            placed = [text for text in segment if text.start >= 0]
            if placed:
                ranges.append(
                    (min(text.start for text in placed), max(text.end for text in placed), index)
                )
        starts = [start for start, _, _ in ranges]
        last = len(segments) - 1
        leading: dict[int, list[ast.Comment]] = {}
        ending: dict[int, list[ast.Comment]] = {}
        for comment in comments:
            position = comment.span.start
            own_line = is_own_line(self.text, position)
            if position >= item.span.end:
                ending.setdefault(last, []).append(comment)
                continue
            found = bisect.bisect_right(starts, position) - 1
            if found < 0:
                leading.setdefault(ranges[0][2] if ranges else 0, []).append(comment)
                continue
            _, end, index = ranges[found]
            if own_line and position >= end and index < last:
                index += 1
            (leading if own_line else ending).setdefault(index, []).append(comment)
        hoisted: list[str] = []
        trailing: str | None = None
        for index in sorted(set(leading) | set(ending)):
            at_end = ending.get(index, [])
            before = sorted(leading.get(index, []) + at_end[:-1], key=_position)
            after = at_end[-1].text.rstrip() if at_end else None
            if before:
                texts = [comment.text.rstrip() for comment in before]
                if index == 0:
                    hoisted.extend(texts)
                else:
                    line, groups = lines[index - 1]
                    line.leading.extend(texts)
                    _force(line, groups)
            if after is not None:
                if index == last:
                    trailing = after
                else:
                    line, groups = lines[index]
                    line.trailing = after
                    _force(line, groups)
        return hoisted, trailing

    # ---- alignment ------------------------------------------------------------------------------

    def _align(self, elements: list[_Element]) -> None:
        """Align the expressions of consecutive one-line criteria in one column, in blocks that
        fit the width; a criterion that would overflow the block's column, or leave a gap wider
        than MAX_ALIGNMENT_GAP after a header, starts a new block."""
        block: list[_ItemLayout] = []
        column = 0
        for element in elements:
            layout = element.layout
            if layout is None or layout.one_line_width is None:
                _pad(block, column)
                block = []
                continue
            own = len(layout.header) + 1
            if block and not layout.hoisted and not element.blank_before:
                wanted = max(column, own)
                members = [*block, layout]
                shortest = min(len(member.header) for member in members)
                if wanted - shortest - 1 <= MAX_ALIGNMENT_GAP and all(
                    element.indent + wanted + (member.one_line_width or 0) <= WIDTH
                    for member in members
                ):
                    block.append(layout)
                    column = wanted
                    continue
            _pad(block, column)
            block = [layout]
            column = own
        _pad(block, column)

    # ---- expressions ----------------------------------------------------------------------------

    def _operand(self, node: ast.Expr, minimum: int, *, parenthesise: bool = False) -> Doc:
        doc = self._expr(node)
        if parenthesise or binding_level(node) < minimum:
            return [Text("("), Align([doc]), Text(")")]
        return doc

    def _expr(self, node: ast.Expr) -> Doc:
        span = node.span
        if isinstance(node, ast.Logical):
            level = binding_level(node)
            parts: list[Doc] = []
            for index, operand in enumerate(node.operands):
                doc = self._operand(
                    operand, level + 1, parenthesise=isinstance(operand, ast.Logical)
                )
                parts.extend([Line(), Text(f"{node.operator} "), doc] if index else [doc])
            return Group(parts)
        if isinstance(node, ast.Compare):
            return [
                self._operand(node.left, LEVEL_SUM),
                Text(f" {node.operator} "),
                self._operand(node.right, LEVEL_SUM),
            ]
        if isinstance(node, ast.Windowed):
            # `(a except b) within w` keeps its parentheses: without them the window seems to
            # belong to `b`.
            return Group(
                [
                    self._operand(
                        node.expr,
                        LEVEL_POSTFIX,
                        parenthesise=isinstance(node.expr, ast.Except | ast.Windowed),
                    ),
                    Nest(CONTINUATION, [Line(), self._window(node.window)]),
                ]
            )
        if isinstance(node, ast.Except):
            return Group(
                [
                    self._operand(node.expr, LEVEL_POSTFIX),
                    Nest(
                        CONTINUATION,
                        [Line(), Text("except "), self._operand(node.excluded, LEVEL_COMPARE)],
                    ),
                ]
            )
        if isinstance(node, ast.Implies):
            return Group(
                [
                    self._operand(
                        node.left, LEVEL_OR, parenthesise=isinstance(node.left, ast.Logical)
                    ),
                    Line(),
                    Text("implies "),
                    self._operand(
                        node.right, LEVEL_IMPLIES, parenthesise=isinstance(node.right, ast.Logical)
                    ),
                ]
            )
        if isinstance(node, ast.IfThenElse):
            return self._if(node)
        if isinstance(node, ast.Not):
            # `not (x within w)`: without parentheses, `not` seems to apply before the window.
            postfix = isinstance(node.operand, ast.Windowed | ast.Except)
            return [Text("not "), self._operand(node.operand, LEVEL_NOT, parenthesise=postfix)]
        if isinstance(node, ast.Member):
            word = " not in " if node.negated else " in "
            return [self._operand(node.value, LEVEL_SUM), Text(word), self._expr(node.target)]
        if isinstance(node, ast.Presence):
            word = " is known" if node.known else " is missing"
            return [self._operand(node.value, LEVEL_SUM), Text(word)]
        if isinstance(node, ast.Arithmetic):
            level = binding_level(node)
            # Left-associative: the right operand of `-` or `/` needs parentheses at its level.
            # `2 * 10` would be read as the quantity "2 times ten": `2 * (10)` is a product.
            left = self._operand(node.left, level)
            right = self._operand(node.right, level + 1)
            if node.operator == "*" and _ends_with_number(left) and _starts_with_ten(right):
                right = [Text("("), right, Text(")")]
            return [left, Text(f" {node.operator} "), right]
        if isinstance(node, ast.Power):
            # `(3 mg)^2`: without parentheses the power would be part of the unit.
            base = self._operand(node.base, LEVEL_UNARY, parenthesise=_ends_with_unit(node.base))
            return [base, Text(f"^{node.exponent}")]
        if isinstance(node, ast.Negate):
            return [Text("-"), self._operand(node.operand, LEVEL_UNARY)]
        if isinstance(node, ast.Call):
            head = Text(f"{node.function}(", span.start, span.start + len(node.function))
            if not node.args:
                return [head, Text(")")]
            arguments: list[Doc] = []
            for index, argument in enumerate(node.args):
                if index:
                    arguments.extend([Text(","), Line()])
                arguments.append(self._expr(argument))
            return [head, Align([Group(arguments)]), Text(")")]
        if isinstance(node, ast.SetLiteral):
            if not node.items:
                return Text("{}", span.start, span.end)
            return [Text("{"), Align([Fill(self._listed(list(node.items)))]), Text("}")]
        if isinstance(node, ast.Range):
            low = [self._expr(node.low)] if node.low is not None else []
            high = [self._expr(node.high)] if node.high is not None else []
            return [*low, Text(".."), *high]
        return Text(self._leaf(node), span.start, span.end)

    def _if(self, node: ast.IfThenElse) -> Doc:
        """``if c then a`` / ``else if d then b`` / ``else e``: an else-if chain breaks as one."""
        parts: list[Doc] = []
        branch: ast.Expr = node
        while isinstance(branch, ast.IfThenElse):
            if parts:
                parts.extend([Line(), Text("else ")])
            condition = self._operand(
                branch.condition,
                LEVEL_IMPLIES,
                parenthesise=isinstance(branch.condition, ast.IfThenElse),
            )
            then = self._operand(branch.then, LEVEL_IMPLIES)
            parts.append(
                Group([Text("if "), Align([condition]), Line(), Text("then "), Align([then])])
            )
            branch = branch.otherwise
        parts.extend([Line(), Text("else "), Align([self._expr(branch)])])
        return Group(parts)

    def _window(self, window: ast.Window) -> Doc:
        anchor = Text(self._leaf(window.anchor), window.anchor.span.start, window.anchor.span.end)
        duration: Doc = (
            Text(self._leaf(window.duration), window.duration.span.start, window.duration.span.end)
            if window.duration is not None
            else Text("")
        )
        if window.kind == "within":
            return [Text("within "), duration, Text(f" {window.side} "), anchor]
        if window.kind == "at_least_before":
            return [Text("at least "), duration, Text(" before "), anchor]
        return [Text(f"{window.kind} "), anchor]

    def _leaf(self, node: ast.Expr | ast.Window) -> str:
        if isinstance(node, ast.Number):
            return node.text or decimal_text(node.value)
        if isinstance(node, ast.Quantity):
            written = _NUMBER.match(node.text) if node.text else None
            number = written.group(0) if written else decimal_text(node.value)
            unit = canonical_unit(node.unit_text or node.unit, node.unit, node.value)
            return f"{number} {unit}"
        if isinstance(node, ast.LimitMultiple):
            written = _NUMBER.match(self.text, node.span.start, node.span.end)
            factor = written.group(0) if written else decimal_text(node.factor)
            return f"{factor} x {node.limit}"
        if isinstance(
            node, ast.DateLiteral | ast.Code | ast.String | ast.Boolean | ast.Symbol | ast.Name
        ):
            return expression_text(node)
        raise AssertionError(f"no layout for {type(node).__name__}")


def _ends_with_unit(node: ast.Expr) -> bool:
    while isinstance(node, ast.Negate):
        node = node.operand
    return isinstance(node, ast.Quantity)


def _edge_text(doc: Doc, last: bool) -> str:
    """The first (or last) text of a document."""
    while isinstance(doc, list | Group | Nest | Align | Fill):
        parts = doc if isinstance(doc, list) else doc.parts
        if not parts:
            return ""
        doc = parts[-1 if last else 0]
    return doc.text if isinstance(doc, Text) else ""


def _starts_with_ten(doc: Doc) -> bool:
    return _edge_text(doc, last=False).startswith("10")


def _ends_with_number(doc: Doc) -> bool:
    """Whether ``doc`` ends with a bare number (not a quantity, a power or a parenthesis)."""
    return _NUMBER.fullmatch(_edge_text(doc, last=True)) is not None


def _pad(block: list[_ItemLayout], column: int) -> None:
    """Put the expressions of a block of one-line criteria at ``column`` after the indentation."""
    for member in block:
        assert member.line is not None
        member.line.flat = " " * (column - len(member.header))


def _force(line: Line, groups: list[Group]) -> None:
    line.force()
    for group in groups:
        group.broken = True


def _position(comment: ast.Comment) -> int:
    return comment.span.start


def _mask(text: str, comments: tuple[ast.Comment, ...]) -> str:
    """``text`` with its comments blanked out (same length, so offsets still hold)."""
    if not comments:
        return text
    pieces: list[str] = []
    previous = 0
    for comment in comments:
        pieces.append(text[previous : comment.span.start])
        pieces.append(" " * (comment.span.end - comment.span.start))
        previous = comment.span.end
    pieces.append(text[previous:])
    return "".join(pieces)


def _keywords(masked: str, start: int, end: int) -> list[_Element]:
    """The section keywords between two items: outside items, comments and blanks, nothing else
    can stand there."""
    found: list[_Element] = []
    for match in re.finditer(r"\S+", masked[start:end]):
        word = match.group(0)
        if word not in _SECTION_WORDS:
            raise AssertionError(f"unexpected text between items: {word!r}")
        offset = start + match.start()
        found.append(_Element(start=offset, end=offset + len(word), word=word))
    return found
