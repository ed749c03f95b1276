"""Lark parse tree -> AST: one short method per grammar construct.

The transformer is non-recursive (Lark's ``Transformer_NonRecursive``), so a hostile file with
thousands of nested parentheses cannot exhaust Python's stack here; the parser bounds the depth.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
from lark import Token, Transformer_NonRecursive, v_args
from lark.tree import Meta

from critlang.diagnostics import Diagnostic
from critlang.errors import UnitError
from critlang.source import Source, Span
from critlang.syntax import ast
from critlang.units import parse_unit

_COMPARATORS = {"≤": "<=", "≥": ">=", "≠": "!=", "==": "="}
_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?(?:[eE][+\-]?[0-9]+)?)[ \t]*(.*)", re.DOTALL)


class BuildError(Exception):
    """Raised inside the transformer; the parser turns it into a ParseError."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.message)


def _span(meta: Meta) -> Span:
    if getattr(meta, "empty", True):
        return Span(0, 0)
    return Span(meta.start_pos, meta.end_pos)


def _token_span(token: Token) -> Span:
    start = token.start_pos or 0
    end = token.end_pos if token.end_pos is not None else start + len(token)
    return Span(start, end)


def _unquote(token: Token) -> str:
    body = str(token)[1:-1]
    return re.sub(r"\\(.)", r"\1", body, flags=re.DOTALL)


@v_args(meta=True)
class AstBuilder(Transformer_NonRecursive):  # type: ignore[type-arg]
    """Builds :mod:`critlang.syntax.ast` nodes; ``source`` is for error locations."""

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source

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

    def number(self, meta: Meta, children: list[Token]) -> ast.Number:
        token = children[0]
        return ast.Number(value=self._decimal(token), text=str(token), span=_token_span(token))

    def signed_number(self, meta: Meta, children: list[Token]) -> ast.Number:
        return self.number(meta, children)

    def negative_number(self, meta: Meta, children: list[Token]) -> ast.Number:
        token = children[0]
        return ast.Number(value=-self._decimal(token), text=f"-{token}", span=_span(meta))

    def quantity(self, meta: Meta, children: list[Token]) -> ast.Quantity:
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

    def limit_multiple(self, meta: Meta, children: list[Any]) -> ast.LimitMultiple:
        factor, _times, limit = children
        return ast.LimitMultiple(factor=self._decimal(factor), limit=str(limit), span=_span(meta))

    def times(self, meta: Meta, children: list[Token]) -> str:
        return str(children[0])

    def limit(self, meta: Meta, children: list[Token]) -> str:
        return str(children[0])

    def date(self, meta: Meta, children: list[Token]) -> ast.DateLiteral:
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

    def code(self, meta: Meta, children: list[Token]) -> ast.Code:
        token = children[0]
        system, _, code = str(token).partition(":")
        system = "RxNorm" if system == "RXNORM" else system
        return ast.Code(system=system, code=code, span=_token_span(token))

    def string(self, meta: Meta, children: list[Token]) -> ast.String:
        return ast.String(value=_unquote(children[0]), span=_token_span(children[0]))

    def symbol(self, meta: Meta, children: list[Token]) -> ast.Symbol:
        return ast.Symbol(name=str(children[0]), span=_token_span(children[0]))

    def true(self, meta: Meta, children: list[Any]) -> ast.Boolean:
        return ast.Boolean(value=True, span=_span(meta))

    def false(self, meta: Meta, children: list[Any]) -> ast.Boolean:
        return ast.Boolean(value=False, span=_span(meta))

    def closed_range(self, meta: Meta, children: list[ast.Expr]) -> ast.Range:
        return ast.Range(low=children[0], high=children[1], span=_span(meta))

    def at_most(self, meta: Meta, children: list[ast.Expr]) -> ast.Range:
        return ast.Range(low=None, high=children[0], span=_span(meta))

    def at_least(self, meta: Meta, children: list[ast.Expr]) -> ast.Range:
        return ast.Range(low=children[0], high=None, span=_span(meta))

    def set_literal(self, meta: Meta, children: list[ast.Expr | None]) -> ast.SetLiteral:
        items = tuple(child for child in children if child is not None)
        return ast.SetLiteral(items=items, span=_span(meta))

    # ---- expressions ---------------------------------------------------------------------------

    def name(self, meta: Meta, children: list[Token]) -> ast.Name:
        return ast.Name(name=str(children[0]), span=_token_span(children[0]))

    def call(self, meta: Meta, children: list[Any]) -> ast.Call:
        function, *args = children
        arguments = tuple(arg for arg in args if arg is not None)
        return ast.Call(function=str(function), args=arguments, span=_span(meta))

    def negate(self, meta: Meta, children: list[ast.Expr]) -> ast.Negate:
        return ast.Negate(operand=children[0], span=_span(meta))

    def arithmetic(self, meta: Meta, children: list[Any]) -> ast.Arithmetic:
        left, operator, right = children
        return ast.Arithmetic(operator=str(operator), left=left, right=right, span=_span(meta))

    def power(self, meta: Meta, children: list[Any]) -> ast.Power:
        base, exponent = children
        value = int(str(exponent)) if str(exponent).isdigit() and len(str(exponent)) <= 2 else None
        if value is None:
            raise self._error(
                "E104", "a power must be a whole number below 100", _token_span(exponent)
            )
        return ast.Power(base=base, exponent=value, span=_span(meta))

    def compare(self, meta: Meta, children: list[Any]) -> ast.Compare:
        left, operator, right = children
        text = _COMPARATORS.get(str(operator), str(operator))
        return ast.Compare(operator=text, left=left, right=right, span=_span(meta))

    def member(self, meta: Meta, children: list[ast.Expr]) -> ast.Member:
        return ast.Member(value=children[0], target=children[1], span=_span(meta))

    def not_member(self, meta: Meta, children: list[ast.Expr]) -> ast.Member:
        return ast.Member(value=children[0], target=children[1], negated=True, span=_span(meta))

    def is_known(self, meta: Meta, children: list[ast.Expr]) -> ast.Presence:
        return ast.Presence(value=children[0], known=True, span=_span(meta))

    def is_missing(self, meta: Meta, children: list[ast.Expr]) -> ast.Presence:
        return ast.Presence(value=children[0], known=False, span=_span(meta))

    def not_(self, meta: Meta, children: list[ast.Expr]) -> ast.Not:
        return ast.Not(operand=children[0], span=_span(meta))

    def _logical(self, operator: str, meta: Meta, children: list[ast.Expr]) -> ast.Logical:
        operands: list[ast.Expr] = []
        for child in children:
            if isinstance(child, ast.Logical) and child.operator == operator:
                operands.extend(child.operands)
            else:
                operands.append(child)
        return ast.Logical(operator=operator, operands=tuple(operands), span=_span(meta))

    def and_(self, meta: Meta, children: list[ast.Expr]) -> ast.Logical:
        return self._logical("and", meta, children)

    def or_(self, meta: Meta, children: list[ast.Expr]) -> ast.Logical:
        return self._logical("or", meta, children)

    def implies(self, meta: Meta, children: list[ast.Expr]) -> ast.Implies:
        return ast.Implies(left=children[0], right=children[1], span=_span(meta))

    def if_then_else(self, meta: Meta, children: list[ast.Expr]) -> ast.IfThenElse:
        condition, then, otherwise = children
        return ast.IfThenElse(condition=condition, then=then, otherwise=otherwise, span=_span(meta))

    def windowed(self, meta: Meta, children: list[Any]) -> ast.Windowed:
        return ast.Windowed(expr=children[0], window=children[1], span=_span(meta))

    def except_(self, meta: Meta, children: list[ast.Expr]) -> ast.Except:
        return ast.Except(expr=children[0], excluded=children[1], span=_span(meta))

    def window_side(self, meta: Meta, children: list[Token]) -> str:
        return str(children[0])

    def within(self, meta: Meta, children: list[Any]) -> ast.Window:
        duration, side, anchor = children
        return ast.Window(
            kind="within",
            side=side,
            duration=self.quantity(meta, [duration]),
            anchor=anchor,
            span=_span(meta),
        )

    def before(self, meta: Meta, children: list[Any]) -> ast.Window:
        return ast.Window(kind="before", anchor=children[0], span=_span(meta))

    def after(self, meta: Meta, children: list[Any]) -> ast.Window:
        return ast.Window(kind="after", anchor=children[0], span=_span(meta))

    def at_least_before(self, meta: Meta, children: list[Any]) -> ast.Window:
        duration, anchor = children
        return ast.Window(
            kind="at_least_before",
            duration=self.quantity(meta, [duration]),
            anchor=anchor,
            span=_span(meta),
        )

    # ---- items ---------------------------------------------------------------------------------

    def start(self, meta: Meta, children: list[Any]) -> ast.Program:
        items: list[ast.Item] = []
        for child in children:
            items.extend(child if isinstance(child, list) else [child])
        return ast.Program(items=tuple(items), span=_span(meta))

    def trial(self, meta: Meta, children: list[Any]) -> ast.Trial:
        identifier, title, version = children
        return ast.Trial(
            id=str(identifier),
            title=_unquote(title) if title is not None else None,
            version=version,
            span=_span(meta),
        )

    def version(self, meta: Meta, children: list[Token]) -> str:
        return _unquote(children[0])

    def use(self, meta: Meta, children: list[Token]) -> ast.Use:
        return ast.Use(path=_unquote(children[0]), span=_span(meta))

    def define(self, meta: Meta, children: list[Any]) -> ast.Define:
        return ast.Define(name=str(children[0]), expr=children[1], span=_span(meta))

    def _section(self, section: str, children: list[Any]) -> list[ast.Criterion]:
        return [attrs.evolve(criterion, section=section) for criterion in children]

    def inclusion(self, meta: Meta, children: list[Any]) -> list[ast.Criterion]:
        return self._section("inclusion", children)

    def exclusion(self, meta: Meta, children: list[Any]) -> list[ast.Criterion]:
        return self._section("exclusion", children)

    def criterion(self, meta: Meta, children: list[Any]) -> ast.Criterion:
        identifier, text, body = children
        return ast.Criterion(
            id=identifier,
            section="",
            text=_unquote(text) if text is not None else None,
            body=body,
            span=_span(meta),
        )

    def criterion_id(self, meta: Meta, children: list[Token]) -> str:
        return str(children[0])

    def review(self, meta: Meta, children: list[Token | None]) -> ast.Review:
        text = children[0]
        return ast.Review(text=_unquote(text) if text is not None else None, span=_span(meta))

    def declaration(self, meta: Meta, children: list[Any]) -> ast.Declaration:
        kind, name, label, spec, *options = children
        return ast.Declaration(
            kind=kind,
            name=str(name),
            label=_unquote(label) if label is not None else None,
            spec=spec,
            options=tuple(options),
            span=_span(meta),
        )

    def declaration_kind(self, meta: Meta, children: list[Token]) -> str:
        return str(children[0])

    def anchor_declaration(self, meta: Meta, children: list[Token]) -> ast.AnchorDeclaration:
        return ast.AnchorDeclaration(names=tuple(str(name) for name in children), span=_span(meta))

    def unit_spec(self, meta: Meta, children: list[Token]) -> ast.UnitSpec:
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

    def type_spec(self, meta: Meta, children: list[Any]) -> ast.TypeSpec:
        return ast.TypeSpec(type=children[0], range=children[1], span=_span(meta))

    def type_name(self, meta: Meta, children: list[Token]) -> str:
        return str(children[0])

    def decl_option(self, meta: Meta, children: list[Any]) -> ast.Option:
        name, *values = children
        return ast.Option(name=name, values=tuple(values), span=_span(meta))

    def option_name(self, meta: Meta, children: list[Token]) -> str:
        return str(children[0])
