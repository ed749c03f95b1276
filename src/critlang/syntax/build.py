"""Parse -> AST while the LALR parser reduces: one short method per grammar construct.

Lark calls a function for each rule it reduces; :func:`install` gives it ours, so the AST is built
during the parse, without a Lark parse tree in between (half the time of building the tree and
then transforming it). The parser is a table-driven loop, not recursive, so a hostile file with
thousands of nested parentheses cannot exhaust Python's stack here; the parser bounds the depth.

Spans are those Lark's ``propagate_positions`` gives: a node runs from the start of its first
child to the end of its last, tokens that the tree leaves out (keywords, brackets) included, and
a child in parentheses counts from its opening parenthesis to its closing one (its
"container"), while its own span stays without them.
"""

from __future__ import annotations

import datetime
import functools
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
from lark import Lark, Token, Tree
from lark.parse_tree_builder import ParseTreeBuilder, PropagatePositions

from critlang.diagnostics import Diagnostic
from critlang.errors import UnitError
from critlang.source import NO_SPAN, Source, Span
from critlang.syntax import ast
from critlang.units import parse_unit

_COMPARATORS = {"≤": "<=", "≥": ">=", "≠": "!=", "==": "="}
_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?(?:[eE][+\-]?[0-9]+)?)[ \t]*(.*)", re.DOTALL)

Callback = Callable[[list[Any]], Any]


class BuildError(Exception):
    """Raised while building; the parser turns it into a ParseError."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.message)


def _token_span(token: Token) -> Span:
    start = token.start_pos or 0
    end = token.end_pos if token.end_pos is not None else start + len(token)
    return Span(start, end)


def _unquote(token: Token) -> str:
    body = str(token)[1:-1]
    return re.sub(r"\\(.)", r"\1", body, flags=re.DOTALL)


def install(parser: Lark) -> AstBuilder:
    """Make ``parser`` build the AST as it parses (see the module's docstring); parse with the
    returned builder's :meth:`AstBuilder.building` held."""
    builder = AstBuilder()
    rules = ParseTreeBuilder(  # type: ignore[no-untyped-call]
        parser.rules, Tree, propagate_positions=True, ambiguous=False, maybe_placeholders=True
    )
    callbacks: dict[Any, Callback] = parser.parser.parser.parser.callbacks
    for rule, wrappers in rules.rule_builders:
        name = rule.alias or rule.origin.name
        # A rule without a method (`_item`, Lark's `__x_star_N` for repetitions) is a tree whose
        # children its parent takes in (Lark inlines rules named with `_`).
        build: Callback = getattr(builder, name, None) or functools.partial(Tree, name)
        for wrapper in wrappers:  # Lark's placeholders, filtering and `?rule` inlining
            if wrapper is not PropagatePositions:
                build = wrapper(build)
        inlined = bool(rule.options.expand1 and not rule.alias)
        callbacks[rule] = builder.positioned(build, inlined)
    return builder


class AstBuilder:
    """Builds :mod:`critlang.syntax.ast` nodes, each with its span; ``source`` is for errors."""

    def __init__(self) -> None:
        self.source = Source("", "<string>")
        self.span = NO_SPAN  # the span of the node being built
        # Where a child in parentheses, or a value that is not a node, starts and ends (by id;
        # the object is kept beside it so that its id cannot be reused during the parse).
        self.containers: dict[int, tuple[object, int, int]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def building(self, source: Source) -> Iterator[None]:
        """One parse at a time (the builder keeps the parse's state)."""
        with self._lock:
            self.source = source
            try:
                yield
            finally:
                self.containers.clear()
                self.span = NO_SPAN

    def _bounds(self, child: object) -> tuple[int, int] | None:
        """Where ``child`` (a token or a built value) starts and ends, as its parent sees it."""
        if child.__class__ is Token:
            start = child.start_pos
            end = child.end_pos
            return (start, end) if start is not None and end is not None else None
        found = self.containers.get(id(child))
        if found is not None and found[0] is child:
            return found[1], found[2]
        span = getattr(child, "span", None)
        return (span.start, span.end) if span.__class__ is Span else None

    def positioned(self, build: Callback, inlined: bool) -> Callback:
        """``build`` given the span of its children (all of them, the left-out tokens too)."""
        bounds = self._bounds
        containers = self.containers

        def reduce(children: list[Any]) -> Any:
            if inlined and len(children) == 1:
                return children[0]  # a `?rule` passing its only child on: nothing changes
            first = last = None
            for child in children:
                first = bounds(child)
                if first is not None:
                    break
            for child in reversed(children):
                last = bounds(child)
                if last is not None:
                    break
            span = self.span = NO_SPAN if first is None or last is None else Span(first[0], last[1])
            result = build(children)
            if result.__class__ is not Token and getattr(result, "span", None) != span:
                containers[id(result)] = (result, span.start, span.end)
            return result

        return reduce

    def _error(self, code: str, message: str, span: Span, help: str | None = None) -> BuildError:
        return BuildError(
            Diagnostic(code=code, message=message, span=span, source=self.source, help=help)
        )

    # ---- literals ------------------------------------------------------------------------------

    def _decimal(self, token: Token) -> Decimal:
        try:
            value = Decimal(str(token))
        except InvalidOperation:  # the lexer only lets digits through; kept for safety
            raise self._error("E101", f"`{token}` is not a number", _token_span(token)) from None
        if not value.is_finite() or abs(value.adjusted()) > 100:
            raise self._error("E101", f"`{token}` is out of range", _token_span(token))
        return value

    def number(self, children: list[Token]) -> ast.Number:
        token = children[0]
        return ast.Number(value=self._decimal(token), text=str(token), span=_token_span(token))

    def signed_number(self, children: list[Token]) -> ast.Number:
        return self.number(children)

    def negative_number(self, children: list[Token]) -> ast.Number:
        token = children[0]
        return ast.Number(value=-self._decimal(token), text=f"-{token}", span=self.span)

    def quantity(self, children: list[Token]) -> ast.Quantity:
        token = children[0]
        match = _QUANTITY.fullmatch(str(token))
        assert match is not None
        number_text, unit_text = match.groups()
        span = _token_span(token)
        value = self._decimal(Token("NUMBER", number_text, start_pos=span.start))
        unit_start = span.start + match.start(2)
        try:
            unit = parse_unit(unit_text)
        except UnitError as error:
            position = unit_start + (error.position or 0)
            raise self._error(
                "E102",
                f"`{unit_text}` is not a unit critlang can read: {error.reason}",
                Span(
                    position,
                    max(position + 1, span.end if error.position is None else position + 1),
                ),
            ) from None
        return ast.Quantity(
            value=value, unit=unit.code, unit_text=unit_text, text=str(token), span=span
        )

    def limit_multiple(self, children: list[Any]) -> ast.LimitMultiple:
        factor, _times, limit = children
        return ast.LimitMultiple(factor=self._decimal(factor), limit=str(limit), span=self.span)

    def times(self, children: list[Token]) -> Token:
        return children[0]

    def limit(self, children: list[Token]) -> Token:
        return children[0]

    def date(self, children: list[Token]) -> ast.DateLiteral:
        token = children[0]
        text = str(token)
        try:
            value: datetime.date = (
                datetime.datetime.fromisoformat(text)
                if "T" in text
                else datetime.date.fromisoformat(text)
            )
        except ValueError:
            raise self._error(
                "E103", f"`{text}` is not a calendar date", _token_span(token)
            ) from None
        return ast.DateLiteral(value=value, text=text, span=_token_span(token))

    def code(self, children: list[Token]) -> ast.Code:
        token = children[0]
        system, _, code = str(token).partition(":")
        system = "RxNorm" if system == "RXNORM" else system
        return ast.Code(system=system, code=code, span=_token_span(token))

    def string(self, children: list[Token]) -> ast.String:
        return ast.String(value=_unquote(children[0]), span=_token_span(children[0]))

    def symbol(self, children: list[Token]) -> ast.Symbol:
        return ast.Symbol(name=str(children[0]), span=_token_span(children[0]))

    def true(self, children: list[Any]) -> ast.Boolean:
        return ast.Boolean(value=True, span=self.span)

    def false(self, children: list[Any]) -> ast.Boolean:
        return ast.Boolean(value=False, span=self.span)

    def closed_range(self, children: list[ast.Expr]) -> ast.Range:
        return ast.Range(low=children[0], high=children[1], span=self.span)

    def at_most(self, children: list[ast.Expr]) -> ast.Range:
        return ast.Range(low=None, high=children[0], span=self.span)

    def at_least(self, children: list[ast.Expr]) -> ast.Range:
        return ast.Range(low=children[0], high=None, span=self.span)

    def set_literal(self, children: list[ast.Expr | None]) -> ast.SetLiteral:
        items = tuple(child for child in children if child is not None)
        return ast.SetLiteral(items=items, span=self.span)

    # ---- expressions ---------------------------------------------------------------------------

    def name(self, children: list[Token]) -> ast.Name:
        return ast.Name(name=str(children[0]), span=_token_span(children[0]))

    def call(self, children: list[Any]) -> ast.Call:
        function, *args = children
        arguments = tuple(arg for arg in args if arg is not None)
        return ast.Call(function=str(function), args=arguments, span=self.span)

    def negate(self, children: list[ast.Expr]) -> ast.Negate:
        return ast.Negate(operand=children[0], span=self.span)

    def arithmetic(self, children: list[Any]) -> ast.Arithmetic:
        left, operator, right = children
        return ast.Arithmetic(operator=str(operator), left=left, right=right, span=self.span)

    def power(self, children: list[Any]) -> ast.Power:
        base, exponent = children
        value = int(str(exponent)) if str(exponent).isdigit() and len(str(exponent)) <= 2 else None
        if value is None:
            raise self._error(
                "E104", "a power must be a whole number below 100", _token_span(exponent)
            )
        return ast.Power(base=base, exponent=value, span=self.span)

    def compare(self, children: list[Any]) -> ast.Compare:
        left, operator, right = children
        text = _COMPARATORS.get(str(operator), str(operator))
        return ast.Compare(operator=text, left=left, right=right, span=self.span)

    def member(self, children: list[ast.Expr]) -> ast.Member:
        return ast.Member(value=children[0], target=children[1], span=self.span)

    def not_member(self, children: list[ast.Expr]) -> ast.Member:
        return ast.Member(value=children[0], target=children[1], negated=True, span=self.span)

    def is_known(self, children: list[ast.Expr]) -> ast.Presence:
        return ast.Presence(value=children[0], known=True, span=self.span)

    def is_missing(self, children: list[ast.Expr]) -> ast.Presence:
        return ast.Presence(value=children[0], known=False, span=self.span)

    def not_(self, children: list[ast.Expr]) -> ast.Not:
        return ast.Not(operand=children[0], span=self.span)

    def _logical(self, operator: str, children: list[ast.Expr]) -> ast.Logical:
        operands: list[ast.Expr] = []
        for child in children:
            if isinstance(child, ast.Logical) and child.operator == operator:
                operands.extend(child.operands)
            else:
                operands.append(child)
        return ast.Logical(operator=operator, operands=tuple(operands), span=self.span)

    def and_(self, children: list[ast.Expr]) -> ast.Logical:
        return self._logical("and", children)

    def or_(self, children: list[ast.Expr]) -> ast.Logical:
        return self._logical("or", children)

    def implies(self, children: list[ast.Expr]) -> ast.Implies:
        return ast.Implies(left=children[0], right=children[1], span=self.span)

    def if_then_else(self, children: list[ast.Expr]) -> ast.IfThenElse:
        condition, then, otherwise = children
        return ast.IfThenElse(condition=condition, then=then, otherwise=otherwise, span=self.span)

    def windowed(self, children: list[Any]) -> ast.Windowed:
        return ast.Windowed(expr=children[0], window=children[1], span=self.span)

    def except_(self, children: list[ast.Expr]) -> ast.Except:
        return ast.Except(expr=children[0], excluded=children[1], span=self.span)

    def window_side(self, children: list[Token]) -> Token:
        return children[0]

    def within(self, children: list[Any]) -> ast.Window:
        duration, side, anchor = children
        return ast.Window(
            kind="within",
            side=str(side),
            duration=self.quantity([duration]),
            anchor=anchor,
            span=self.span,
        )

    def before(self, children: list[Any]) -> ast.Window:
        return ast.Window(kind="before", anchor=children[0], span=self.span)

    def after(self, children: list[Any]) -> ast.Window:
        return ast.Window(kind="after", anchor=children[0], span=self.span)

    def at_least_before(self, children: list[Any]) -> ast.Window:
        duration, anchor = children
        return ast.Window(
            kind="at_least_before",
            duration=self.quantity([duration]),
            anchor=anchor,
            span=self.span,
        )

    # ---- items ---------------------------------------------------------------------------------

    def expression(self, children: list[Any]) -> Any:
        return children[0]

    def start(self, children: list[Any]) -> ast.Program:
        items: list[ast.Item] = []
        for child in children:
            items.extend(child if isinstance(child, list) else [child])
        return ast.Program(items=tuple(items), span=self.span)

    def trial(self, children: list[Any]) -> ast.Trial:
        identifier, title, version = children
        return ast.Trial(
            id=str(identifier),
            title=_unquote(title) if title is not None else None,
            version=None if version is None else str(version),
            span=self.span,
        )

    def version(self, children: list[Token]) -> Token:
        return Token.new_borrow_pos("VERSION", _unquote(children[0]), children[0])

    def use(self, children: list[Token]) -> ast.Use:
        return ast.Use(path=_unquote(children[0]), span=self.span)

    def define(self, children: list[Any]) -> ast.Define:
        return ast.Define(name=str(children[0]), expr=children[1], span=self.span)

    def _section(self, section: str, children: list[Any]) -> list[ast.Criterion]:
        return [attrs.evolve(criterion, section=section) for criterion in children]

    def inclusion(self, children: list[Any]) -> list[ast.Criterion]:
        return self._section("inclusion", children)

    def exclusion(self, children: list[Any]) -> list[ast.Criterion]:
        return self._section("exclusion", children)

    def criterion(self, children: list[Any]) -> ast.Criterion:
        identifier, text, body = children
        return ast.Criterion(
            id=str(identifier),
            section="",
            text=_unquote(text) if text is not None else None,
            body=body,
            span=self.span,
        )

    def criterion_id(self, children: list[Token]) -> Token:
        return children[0]

    def review(self, children: list[Token | None]) -> ast.Review:
        text = children[0]
        return ast.Review(text=_unquote(text) if text is not None else None, span=self.span)

    def declaration(self, children: list[Any]) -> ast.Declaration:
        kind, name, label, spec, *options = children
        return ast.Declaration(
            kind=str(kind),
            name=str(name),
            label=_unquote(label) if label is not None else None,
            spec=spec,
            options=tuple(options),
            span=self.span,
        )

    def declaration_kind(self, children: list[Token]) -> Token:
        return children[0]

    def anchor_declaration(self, children: list[Token]) -> ast.AnchorDeclaration:
        return ast.AnchorDeclaration(names=tuple(str(name) for name in children), span=self.span)

    def unit_spec(self, children: list[Token]) -> ast.UnitSpec:
        token = children[0]
        try:
            unit = parse_unit(str(token))
        except UnitError as error:
            start = (token.start_pos or 0) + (error.position or 0)
            raise self._error(
                "E102",
                f"`{token}` is not a unit critlang can read: {error.reason}",
                Span(start, start + 1),
            ) from None
        return ast.UnitSpec(unit=unit.code, unit_text=str(token), span=_token_span(token))

    def type_spec(self, children: list[Any]) -> ast.TypeSpec:
        return ast.TypeSpec(type=str(children[0]), range=children[1], span=self.span)

    def type_name(self, children: list[Token]) -> Token:
        return children[0]

    def decl_option(self, children: list[Any]) -> ast.Option:
        name, *values = children
        return ast.Option(name=str(name), values=tuple(values), span=self.span)

    def option_name(self, children: list[Token]) -> Token:
        return children[0]
