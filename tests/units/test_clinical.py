"""Clinical conversions and spellings: what protocols and lab systems write, read as UCUM."""

from __future__ import annotations

from fractions import Fraction

import pytest

from critlang.units import (
    UnitError,
    convert,
    convert_exact,
    convert_many,
    normalise,
    parse_unit,
    same_kind,
    same_unit,
)

CREATININE_MOLAR_MASS = 113.12  # g/mol


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        # ANC 1.5 x10^9/L = 1500 /uL = 1.5 10*3/uL
        (1.5, "x10^9/L", "/uL", 1500),
        (1.5, "x10^9/L", "10*3/uL", 1.5),
        (1500, "/uL", "10*9/L", 1.5),
        (1.5, "×10⁹/L", "/µL", 1500),
        (1.5, "x 10^9/L", "/uL", 1500),
        (1.5, "10^9/L", "/uL", 1500),
        (4.2, "K/uL", "10*9/L", 4.2),
        (4.5, "M/uL", "10*12/L", 4.5),
        # hemoglobin 9 g/dL = 90 g/L
        (9, "g/dL", "g/L", 90),
        (9, "g/dl", "g/L", 90),
        (90, "g/L", "g/dL", 9),
        # mL/min <-> L/h
        (60, "mL/min", "L/h", 3.6),
        (3.6, "L/h", "mL/min", 60),
        # 92 % = 0.92 (unity)
        (92, "%", "1", 0.92),
        # enzymes and arbitrary units with prefixes
        (1, "m[IU]/mL", "[IU]/L", 1),
        (40, "IU/L", "m[IU]/mL", 40),
        (5, "uIU/mL", "m[IU]/L", 5),
        (1, "U/L", "ukat/L", 1 / 60),
        # pressure, mass, time
        (120, "mmHg", "kPa", 15.99864),
        (250, "mcg", "mg", 0.25),
        (18, "years", "a", 18),
        (2, "yrs", "mo", 24),
        (6, "months", "d", 182.625),
        (4, "weeks", "d", 28),
        (14, "days", "wk", 2),
        (48, "hours", "d", 2),
        (3, "g/24h", "mg/h", 125),
        # temperature (special, affine)
        (37, "Cel", "[degF]", 98.6),
        (37, "°C", "K", 310.15),
    ],
)
def test_clinical_conversion(value: float, source: str, target: str, expected: float) -> None:
    assert convert(value, source, target) == pytest.approx(expected, rel=1e-12)


def test_creatinine_mass_to_amount_needs_molar_mass() -> None:
    assert convert(1.5, "mg/dL", "umol/L", molar_mass=CREATININE_MOLAR_MASS) == pytest.approx(
        132.6, abs=0.05
    )
    back = convert(132.6, "umol/L", "mg/dL", molar_mass=CREATININE_MOLAR_MASS)
    assert back == pytest.approx(1.49997, rel=1e-4)
    with pytest.raises(UnitError, match="molar mass"):
        convert(1.5, "mg/dL", "umol/L")


def test_exact_conversion_is_decimal_exact() -> None:
    assert convert_exact("1.5", "g/dL", "g/L") == 15
    assert convert_exact("37", "Cel", "[degF]") == Fraction("98.6")
    assert convert_exact("1.8", "mg/dL", "mg/dL") == Fraction("1.8")
    # bilirubin 1.8 vs 1.5 x ULN 1.2, both in mg/dL converted to umol/L and back: still equal
    assert convert_exact(Fraction("1.5") * Fraction("1.2"), "mg/dL", "mg/L") == 18


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("g/dL", "mL/min", "different dimensions: mass/volume vs volume/time"),
        ("mg/dL", "umol/L", "needs the analyte's molar mass"),
        ("[IU]/L", "/L", "international unit/volume vs number/volume"),
        ("[IU]/L", "U/L", "different dimensions"),
        ("[IU]", "[arb'U]", "different dimensions"),
        ("10*9/L", "nmol/L", "number/volume vs amount of substance/volume"),
        ("Cel", "g", "different dimensions: temperature vs mass"),
    ],
)
def test_rejected_conversions(source: str, target: str, message: str) -> None:
    with pytest.raises(UnitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        convert(1.0, source, target)


def test_molar_mass_does_not_bridge_other_dimensions() -> None:
    with pytest.raises(UnitError, match="different dimensions"):
        convert(1, "g/dL", "mL/min", molar_mass=100)
    with pytest.raises(UnitError, match="positive"):
        convert(1, "mg/dL", "umol/L", molar_mass=0)
    with pytest.raises(UnitError, match="not a number"):
        convert(1, "mg/dL", "umol/L", molar_mass="heavy")


def test_same_kind_compares_annotations() -> None:
    assert not same_kind("mL/min/{1.73_m2}", "mL/min")  # eGFR vs creatinine clearance
    assert not same_kind("mL/min/1.73m2", "mL/min")
    assert same_kind("mL/min/1.73m2", "L/h/{1.73_m2}")
    assert same_kind("x10^9/L", "/uL")
    assert same_kind("m[IU]/mL", "[IU]/L")
    assert not same_kind("mg/dL", "umol/L")
    assert not same_kind("[IU]/L", "U/L")
    assert not same_kind("mg/g{creat}", "mg/g")
    # labels that only say what is counted do not change the kind
    assert same_kind("cells/uL", "x10^9/L")
    assert same_kind("{copies}/mL", "/mL")
    # conversion itself ignores annotations, as UCUM says
    assert convert(60, "mL/min/{1.73_m2}", "mL/min") == 60


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("x10^9/L", "10*9/L"),
        ("×10⁹/L", "10*9/L"),
        ("x 10^9/L", "10*9/L"),
        ("X10^9/L", "10*9/L"),
        ("10^9/L", "10*9/L"),
        ("10E9/L", "10*9/L"),
        ("x10^12/L", "10*12/L"),
        ("/µL", "/uL"),
        ("/μL", "/uL"),
        ("/uL", "/uL"),
        ("mmHg", "mm[Hg]"),
        ("cmH2O", "cm[H2O]"),
        ("mcg/kg", "ug/kg"),
        ("IU/L", "[IU]/L"),
        ("mIU/mL", "m[IU]/mL"),
        ("µIU/mL", "u[IU]/mL"),
        ("mEq/L", "meq/L"),
        ("years", "a"),
        ("yrs", "a"),
        ("months", "mo"),
        ("weeks", "wk"),
        ("days", "d"),
        ("hours", "h"),
        ("mL/min/1.73m2", "mL/min/{1.73_m2}"),
        ("mL/min/1.73 m²", "mL/min/{1.73_m2}"),
        ("mL/min/1.73m^2", "mL/min/{1.73_m2}"),
        ("kg/m^2", "kg/m2"),
        ("kg/m²", "kg/m2"),
        ("mg / dL", "mg/dL"),
        (" mg/dL ", "mg/dL"),
        ("°C", "Cel"),
        ("K/uL", "10*3/uL"),
        ("pH", "[pH]"),
        ("(score)", "{score}"),
        ("cells/uL", "{cells}/uL"),
        ("10^9 cells/L", "10*9.{cells}/L"),
        ("copies/mL", "{copies}/mL"),
        ("/HPF", "/[HPF]"),
        ("msec", "ms"),
        ("mg/kg/day", "mg/kg/d"),
        ("g/24h", "g/(24.h)"),
        ("mg/24 hr", "mg/(24.h)"),
        ("mL/12hr", "mL/(12.h)"),
        # strict UCUM comes back unchanged
        ("10*3/uL", "10*3/uL"),
        ("10*3{rbc}", "10*3{rbc}"),
        ("(m)", "(m)"),
        ("mL/min/{1.73_m2}", "mL/min/{1.73_m2}"),
        ("[in_i'Hg]", "[in_i'Hg]"),
        ("[m/s2/Hz^(1/2)]", "[m/s2/Hz^(1/2)]"),
    ],
)
def test_clinical_spelling(spelling: str, code: str) -> None:
    assert parse_unit(spelling).code == code
    assert normalise(code) == code


@pytest.mark.parametrize(
    ("spelling", "message"),
    [
        ("ft", "femtotonne"),
        ("pt", "picotonne"),
        ("gal", r"`\[gal_us\]` or `\[gal_br\]`"),
        ("oz", "mass or a volume"),
        ("units/L", "enzyme units or international units"),
        ("mM", "mmol/L"),
        ("mg dL", "space inside a unit is ambiguous"),
        ("mL/min/1.73", "UCUM reads it as 1 x 73"),
        ("1.5", "UCUM reads it as 1 x 5"),
    ],
)
def test_ambiguous_spellings_are_rejected(spelling: str, message: str) -> None:
    with pytest.raises(UnitError, match=message):
        parse_unit(spelling)


def test_convert_many_matches_scalar() -> None:
    values = [0.5, 1.0, 1.5, 200.0]
    assert convert_many(values, "x10^9/L", "/uL") == [
        convert(value, "x10^9/L", "/uL") for value in values
    ]
    assert convert_many([0, 100], "Cel", "[degF]") == [32.0, 212.0]


def test_same_unit_is_one_unit_under_two_codes() -> None:
    assert same_unit("[iU]/L", "[IU]/L")
    assert same_unit("g/L", "g/L")
    assert not same_unit("g/L", "g/dL")  # the same kind, another factor
    assert not same_unit("U/L", "[IU]/L")  # enzyme units are not international units
    assert not same_unit("mL/min/{1.73_m2}", "mL/min")
    assert not same_unit("Cel", "K")
