"""What a condition asks of a value, for the value's SQL to answer: a comparison with a
literal, with a multiple of its own ULN or LLN, whether it is known, whether it is in a set."""

from __future__ import annotations

import datetime
from fractions import Fraction

import attrs

from critlang.eval.plan import Planner
from critlang.semantics import ir
from critlang.units import Unit

Threshold = Fraction | str | datetime.date | bool | None


class Unsupported(Exception):
    """A construct the SQL backend does not compile yet (the generator adds the criterion)."""


@attrs.frozen
class Compare:
    """``value operator threshold`` after both are in ``unit`` (``threshold`` None: the
    literal does not convert, so UNKNOWN)."""

    operator: str
    threshold: Threshold
    unit: Unit | None
    molar_mass: Fraction | None


@attrs.frozen
class AgainstLimit:
    """``value operator factor x ULN`` (or LLN), the limit taken from the result itself."""

    operator: str
    factor: Fraction
    limit: str


@attrs.frozen
class Known:
    """Whether the value can be had at all (``is known``): TRUE or FALSE, never UNKNOWN."""


@attrs.frozen
class Members:
    """``value in {…}`` (or ``not in``)."""

    members: frozenset[str]
    negated: bool


Question = Compare | AgainstLimit | Known | Members


def comparison(
    operator: str, literal: ir.Value, unit: Unit | None, molar_mass: Fraction | None
) -> Compare:
    """``value operator literal``: a number or quantity is brought to ``unit`` as the planner
    brings it (None when it does not convert)."""
    assert isinstance(literal, ir.Literal)
    threshold: Threshold = literal.value
    if isinstance(literal.value, Fraction):
        threshold = Planner.threshold(literal, unit, molar_mass)
    return Compare(operator, threshold, unit, molar_mass)
