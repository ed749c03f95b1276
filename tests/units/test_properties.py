"""Properties of the units engine (SPEC §9), checked with hypothesis over the whole UCUM table."""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from hypothesis import assume, given
from hypothesis import strategies as st

from critlang.units import (
    UnitError,
    conversion,
    convert,
    convert_exact,
    parse_ucum,
    parse_unit,
    same_kind,
)
from critlang.units.table import ATOMS, METRIC, PREFIXES, SPECIAL

# Every linear simple unit (atom, or prefix + metric atom), grouped by dimension, so that two
# units drawn from one group are convertible.
_SIMPLE: dict[tuple[tuple[str, int], ...], list[str]] = defaultdict(list)
for _code, (_num, _den, _dims, _flags, _name) in ATOMS.items():
    if _flags & SPECIAL:
        continue
    _SIMPLE[_dims].append(_code)
    if _flags & METRIC:
        # Moderate prefixes keep compound factors inside the float range.
        for _prefix in ("k", "h", "d", "c", "m", "u", "n"):
            _SIMPLE[_dims].append(_prefix + _code)
_DIMENSIONS = sorted(_SIMPLE)
_ALL_SIMPLE = sorted(code for codes in _SIMPLE.values() for code in codes)


def _component(code: str, exponent: int) -> str:
    return code if exponent == 1 else f"{code}{exponent}"


@st.composite
def convertible_pair(draw: st.DrawFn) -> tuple[str, str]:
    """Two compound codes of the same dimension: the same shape, each slot filled from one group."""
    slots = draw(st.integers(min_value=1, max_value=3))
    left, right = [], []
    for index in range(slots):
        dims = draw(st.sampled_from(_DIMENSIONS))
        exponent = draw(st.sampled_from([1, 1, 2, -1]))
        operator = "" if index == 0 else draw(st.sampled_from([".", "/"]))
        left.append(operator + _component(draw(st.sampled_from(_SIMPLE[dims])), exponent))
        right.append(operator + _component(draw(st.sampled_from(_SIMPLE[dims])), exponent))
    return "".join(left), "".join(right)


@st.composite
def simple_unit(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(_ALL_SIMPLE))


values = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)


def _finite(*numbers: float) -> bool:
    return all(math.isfinite(number) and number != 0 for number in numbers)


@given(convertible_pair(), values)
def test_round_trip_is_identity(pair: tuple[str, str], value: float) -> None:
    source, target = pair
    there = convert(value, source, target)
    assume(_finite(there))
    back = convert(there, target, source)
    assert math.isclose(back, value, rel_tol=1e-12), (source, target, value, there, back)


@given(convertible_pair(), values)
def test_conversion_follows_canonical_factors(pair: tuple[str, str], value: float) -> None:
    source, target = (parse_ucum(code) for code in pair)
    exact = convert_exact(value, source, target)
    assert exact == Fraction(value) * source.factor / target.factor
    result = convert(value, source, target)
    assume(_finite(result))
    assert math.isclose(result, float(exact), rel_tol=1e-12)


@given(simple_unit(), simple_unit())
def test_incompatible_dimensions_always_raise(first: str, second: str) -> None:
    source, target = parse_ucum(first), parse_ucum(second)
    if source.dimension == target.dimension:
        assert conversion(source, target).factor == source.factor / target.factor
        assert same_kind(source, target)
        return
    assert not same_kind(source, target)
    try:
        convert(1.0, source, target)
    except UnitError:
        return
    raise AssertionError(f"{first} -> {second} converted across dimensions")


@given(values, st.floats(min_value=1.0, max_value=1000.0))
def test_molar_mass_round_trip(value: float, molar_mass: float) -> None:
    there = convert(value, "mg/dL", "umol/L", molar_mass=molar_mass)
    back = convert(there, "umol/L", "mg/dL", molar_mass=molar_mass)
    assert math.isclose(back, value, rel_tol=1e-12)


@given(st.sampled_from(["Cel", "[degF]", "[degRe]", "K"]), st.sampled_from(["Cel", "[degF]", "K"]))
def test_temperatures_round_trip_exactly(source: str, target: str) -> None:
    value = Fraction(37)
    assert convert_exact(convert_exact(value, source, target), target, source) == value


CLINICAL_SPELLINGS = [
    "x10^9/L",
    "×10⁹/L",
    "x 10^9/L",
    "10^9/L",
    "10^12/L",
    "/µL",
    "/uL",
    "mmHg",
    "mcg",
    "mcg/kg",
    "IU/L",
    "mIU/mL",
    "mEq/L",
    "years",
    "yrs",
    "months",
    "weeks",
    "days",
    "hours",
    "mL/min/1.73m2",
    "mL/min/1.73 m²",
    "kg/m^2",
    "°C",
    "K/uL",
    "pH",
    "(score)",
    "cells/uL",
]


@given(st.one_of(st.sampled_from(CLINICAL_SPELLINGS), convertible_pair().map(lambda p: p[0])))
def test_parsing_the_normalised_code_gives_the_same_unit(code: str) -> None:
    unit = parse_unit(code)
    assert parse_unit(unit.code) == unit
    assert parse_ucum(unit.code) == unit


_UNIT_ALPHABET = "mgLdulsh0123456789./()[]{}*^+-_%' xXµ×⁹²IUCelHgkKM"


@given(st.one_of(st.text(max_size=40), st.text(alphabet=_UNIT_ALPHABET, max_size=40)))
def test_any_text_gives_a_unit_or_a_unit_error(code: str) -> None:
    for parse in (parse_unit, parse_ucum):
        error: UnitError | None = None
        try:
            unit = parse(code)
        except UnitError as raised:
            error = raised
        if error is None:
            assert isinstance(unit.code, str)
        else:
            assert error.code == code
            assert error.position is None or 0 <= error.position <= len(code)


@given(
    st.text(alphabet=_UNIT_ALPHABET, max_size=20),
    st.text(alphabet=_UNIT_ALPHABET, max_size=20),
    st.one_of(st.none(), st.floats(allow_nan=True), st.text(max_size=5)),
)
def test_any_conversion_gives_a_value_or_a_unit_error(
    source: str, target: str, molar_mass: float | str | None
) -> None:
    try:
        result = conversion(source, target, molar_mass=molar_mass)
    except UnitError:
        return
    assert isinstance(result.apply(1.0), float)


_SPECIAL_CODES = sorted(code for code, entry in ATOMS.items() if entry[3] & SPECIAL)


@st.composite
def same_dimension_pair(draw: st.DrawFn) -> tuple[str, str]:
    """A convertible pair, or a special unit with any unit of its dimension."""
    if draw(st.booleans()):
        return draw(convertible_pair())
    special = draw(st.sampled_from(_SPECIAL_CODES))
    others = _SIMPLE.get(parse_ucum(special).dimension.exponents) or [special]
    return special, draw(st.sampled_from([*others, *_SPECIAL_CODES]))


@given(
    same_dimension_pair(),
    st.one_of(st.floats(), st.decimals(allow_nan=False, allow_infinity=False), st.fractions()),
)
def test_any_value_converts_or_gives_a_unit_error(pair: tuple[str, str], value: object) -> None:
    source, target = pair
    try:
        found = conversion(source, target)
    except UnitError:
        return
    assert isinstance(value, float | Decimal | Fraction)
    with contextlib.suppress(UnitError):
        assert isinstance(found.apply(float(value)), float)
    if isinstance(value, float) and not math.isfinite(value):
        return
    with contextlib.suppress(UnitError):
        assert isinstance(found.apply_exact(value), Fraction)


def test_prefix_table_is_exact() -> None:
    assert Fraction(*PREFIXES["m"][:2]) == Fraction(1, 1000)
    assert Fraction(*PREFIXES["Ki"][:2]) == 1024
