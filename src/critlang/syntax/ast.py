"""The abstract syntax tree: frozen attrs classes, one per construct.

Every node carries a ``span`` that equality ignores, so two trees are equal when they mean the same
program. Types, units and resolved names are not stored here: the checker keeps them in side
tables keyed by node identity.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TypeAlias

import attrs

from critlang.source import NO_SPAN, Span


@attrs.frozen(kw_only=True)
class Node:
    span: Span = attrs.field(default=NO_SPAN, eq=False, repr=False)


# ---- literals -----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Number(Node):
    value: Decimal
    text: str = attrs.field(eq=False, default="")


@attrs.frozen(kw_only=True)
class Quantity(Node):
    """A number with a unit: ``unit`` is the normalised UCUM code, ``unit_text`` as written."""

    value: Decimal
    unit: str
    unit_text: str = attrs.field(eq=False, default="")
    text: str = attrs.field(eq=False, default="")


@attrs.frozen(kw_only=True)
class LimitMultiple(Node):
    """``2.5 x ULN``: a multiple of the upper (or lower) limit of normal of the result compared."""

    factor: Decimal
    limit: str  # "ULN" or "LLN"


@attrs.frozen(kw_only=True)
class DateLiteral(Node):
    value: datetime.date
    text: str = attrs.field(eq=False, default="")


@attrs.frozen(kw_only=True)
class Code(Node):
    """``ICD10:C34.1``; a ``code`` ending in ``*`` matches every code that starts with the rest."""

    system: str
    code: str

    @property
    def is_wildcard(self) -> bool:
        return self.code.endswith("*")

    def __str__(self) -> str:
        return f"{self.system}:{self.code}"


@attrs.frozen(kw_only=True)
class String(Node):
    value: str


@attrs.frozen(kw_only=True)
class Boolean(Node):
    value: bool


@attrs.frozen(kw_only=True)
class Symbol(Node):
    """A bare word in a set or declaration: ``female`` in ``{female, male}``."""

    name: str


@attrs.frozen(kw_only=True)
class Range(Node):
    """``low..high``, inclusive; a missing side is open."""

    low: Expr | None
    high: Expr | None


@attrs.frozen(kw_only=True)
class SetLiteral(Node):
    items: tuple[Expr, ...]


# ---- names and operations -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Name(Node):
    name: str


@attrs.frozen(kw_only=True)
class Call(Node):
    function: str
    args: tuple[Expr, ...]


@attrs.frozen(kw_only=True)
class Negate(Node):
    operand: Expr


@attrs.frozen(kw_only=True)
class Arithmetic(Node):
    operator: str  # + - * /
    left: Expr
    right: Expr


@attrs.frozen(kw_only=True)
class Power(Node):
    base: Expr
    exponent: int


@attrs.frozen(kw_only=True)
class Compare(Node):
    operator: str  # < <= > >= = != (the protocol spellings ≤ ≥ ≠ == are normalised)
    left: Expr
    right: Expr


@attrs.frozen(kw_only=True)
class Member(Node):
    """``value in target`` (``not in`` when ``negated``); the target is a range, set or code."""

    value: Expr
    target: Expr
    negated: bool = False


@attrs.frozen(kw_only=True)
class Presence(Node):
    """``value is known`` (``known``) or ``value is missing``."""

    value: Expr
    known: bool


@attrs.frozen(kw_only=True)
class Not(Node):
    operand: Expr


@attrs.frozen(kw_only=True)
class Logical(Node):
    """``a and b and c`` or ``a or b``: chains of one operator are flattened."""

    operator: str  # "and" or "or"
    operands: tuple[Expr, ...]


@attrs.frozen(kw_only=True)
class Implies(Node):
    left: Expr
    right: Expr


@attrs.frozen(kw_only=True)
class IfThenElse(Node):
    condition: Expr
    then: Expr
    otherwise: Expr


@attrs.frozen(kw_only=True)
class Window(Node):
    """A time window relative to an anchor.

    ``kind`` is ``within`` (with ``side`` before/after/of and a ``duration``), ``before``,
    ``after``, or ``at_least_before`` (with a ``duration``).
    """

    kind: str
    anchor: Name | DateLiteral
    side: str | None = None
    duration: Quantity | None = None


@attrs.frozen(kw_only=True)
class Windowed(Node):
    expr: Expr
    window: Window


@attrs.frozen(kw_only=True)
class Except(Node):
    """``events except sub_type``: occurrences of ``expr`` that are not also ``excluded``."""

    expr: Expr
    excluded: Expr


Expr: TypeAlias = (
    Number
    | Quantity
    | LimitMultiple
    | DateLiteral
    | Code
    | String
    | Boolean
    | Symbol
    | Range
    | SetLiteral
    | Name
    | Call
    | Negate
    | Arithmetic
    | Power
    | Compare
    | Member
    | Presence
    | Not
    | Logical
    | Implies
    | IfThenElse
    | Windowed
    | Except
)

# ---- program items ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Trial(Node):
    id: str
    title: str | None = None
    version: str | None = None


@attrs.frozen(kw_only=True)
class Use(Node):
    path: str


@attrs.frozen(kw_only=True)
class Define(Node):
    name: str
    expr: Expr


@attrs.frozen(kw_only=True)
class Review(Node):
    """A criterion software cannot decide; its outcome is always REVIEW."""

    text: str | None = None


@attrs.frozen(kw_only=True)
class Criterion(Node):
    id: str
    section: str  # "inclusion" or "exclusion"
    text: str | None
    body: Expr | Review


@attrs.frozen(kw_only=True)
class UnitSpec(Node):
    unit: str
    unit_text: str = attrs.field(eq=False, default="")


@attrs.frozen(kw_only=True)
class TypeSpec(Node):
    type: str  # boolean, integer, number, date
    range: Range | None = None


@attrs.frozen(kw_only=True)
class Option(Node):
    """A declaration option: ``codes LOINC:751-8, LOINC:26499-4``, ``plausible 0..100``."""

    name: str
    values: tuple[Expr, ...]


@attrs.frozen(kw_only=True)
class Declaration(Node):
    """A dictionary entry: ``lab ANC "Absolute neutrophil count": 10*9/L codes ...``."""

    kind: str  # lab, fact, treatment, condition, event, procedure
    name: str
    label: str | None = None
    spec: UnitSpec | TypeSpec | SetLiteral | None = None
    options: tuple[Option, ...] = ()

    def option(self, name: str) -> Option | None:
        return next((option for option in self.options if option.name == name), None)


@attrs.frozen(kw_only=True)
class AnchorDeclaration(Node):
    names: tuple[str, ...]


Item: TypeAlias = Trial | Use | Define | Declaration | AnchorDeclaration | Criterion


@attrs.frozen(kw_only=True)
class Comment(Node):
    text: str


@attrs.frozen(kw_only=True)
class Program(Node):
    """A parsed file: its items in order, and its comments (kept for the formatter)."""

    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = attrs.field(default=(), eq=False)

    @property
    def trial(self) -> Trial | None:
        return next((item for item in self.items if isinstance(item, Trial)), None)

    @property
    def uses(self) -> tuple[Use, ...]:
        return tuple(item for item in self.items if isinstance(item, Use))

    @property
    def definitions(self) -> tuple[Define, ...]:
        return tuple(item for item in self.items if isinstance(item, Define))

    @property
    def declarations(self) -> tuple[Declaration | AnchorDeclaration, ...]:
        return tuple(
            item for item in self.items if isinstance(item, Declaration | AnchorDeclaration)
        )

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(item for item in self.items if isinstance(item, Criterion))

    @property
    def inclusions(self) -> tuple[Criterion, ...]:
        return tuple(item for item in self.criteria if item.section == "inclusion")

    @property
    def exclusions(self) -> tuple[Criterion, ...]:
        return tuple(item for item in self.criteria if item.section == "exclusion")
