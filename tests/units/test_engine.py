"""The engine: Unit values, errors with positions, special units, arithmetic, the table."""

from __future__ import annotations

import pickle
import subprocess
import sys
from fractions import Fraction

import pytest

from critlang import CritlangError
from critlang.units import (
    UCUM_VERSION,
    Dimension,
    UnitError,
    conversion,
    convert,
    convert_exact,
    parse_ucum,
    parse_unit,
)
from critlang.units.table import ATOMS, PREFIXES, SPECIAL, SPECIAL_FUNCTIONS
from tests.conftest import ROOT, shared_data


def test_unit_attributes() -> None:
    unit = parse_unit("mg/dL")
    assert unit.code == "mg/dL"
    assert unit.dimension == Dimension((("L", -3), ("M", 1)))
    assert unit.dimension.describe() == "mass/volume"
    assert str(unit.dimension) == "M.L-3"
    assert unit.factor == Fraction(10)  # 1 mg/dL = 10 g/m3
    assert not unit.is_arbitrary
    assert not unit.is_special
    assert parse_unit("[IU]/L").is_arbitrary
    assert parse_unit("Cel").is_special
    assert parse_unit("mL/min/{1.73_m2}").annotations == ("1.73_m2",)


def test_units_are_values() -> None:
    assert parse_unit("mg/dL") == parse_ucum("mg/dL")
    assert hash(parse_unit("mg/dL")) == hash(parse_ucum("mg/dL"))
    assert parse_unit("mg/dL") != parse_unit("mg/dl")  # same meaning, different code
    assert convert(1, "mg/dL", "mg/dl") == 1
    assert repr(parse_unit("x10^9/L")) == "Unit('10*9/L')"


@pytest.mark.parametrize(
    ("code", "position", "reason"),
    [
        ("mg/", 3, "`/` must be followed by a unit"),
        ("mg//L", 3, "`/` must be preceded by a unit"),
        ("g/12h", 4, "expected `.` or `/`"),
        ("mgg", 0, "unknown unit `mgg`"),
        ("m(g", 1, "expected `.` or `/`"),
        ("(mg", 0, "unclosed `(`"),
        ("mg)", 2, "unbalanced `)`"),
        ("m{abc", 1, "unclosed `{`"),
        ("[abc", 0, "unclosed `[`"),
        ("m-", 1, "sign must be followed"),
        ("kd", 0, "`d` takes no prefix"),
        ("m100", 1, "exponent larger than 99"),
        ("m\u00e9", 1, "not allowed in a UCUM code"),
        ("", 0, "empty unit code"),
        ("/0", 1, "a factor of 0 is not a unit"),
        ("(" * 25 + "m" + ")" * 25, 20, "nested too deeply"),
        ("m" * 201, 0, "longer than 200 characters"),
        ("d63", None, "outside the range a float can hold"),
    ],
)
def test_errors_carry_code_position_and_reason(
    code: str, position: int | None, reason: str
) -> None:
    with pytest.raises(UnitError) as caught:
        parse_ucum(code)
    error = caught.value
    assert isinstance(error, CritlangError)
    assert error.code == code
    assert error.position == position
    assert reason in error.reason


def test_clinical_error_names_the_reading() -> None:
    with pytest.raises(UnitError, match=r"read `x10\^9/Q` as `10\*9/Q`"):
        parse_unit("x10^9/Q")


def test_errors_pickle() -> None:
    error = UnitError("mg/", "`/` must be followed by a unit", 3)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.reason, copy.position) == ("mg/", error.reason, 3)


def test_non_text_code_is_a_unit_error() -> None:
    with pytest.raises(UnitError, match="must be text"):
        parse_unit(12)  # type: ignore[arg-type]


def test_special_units() -> None:
    assert convert(0, "Cel", "K") == pytest.approx(273.15)
    assert convert(212, "[degF]", "Cel") == pytest.approx(100)
    assert convert(0, "[degRe]", "Cel") == pytest.approx(0)
    assert convert(80, "[degRe]", "Cel") == pytest.approx(100)
    assert convert(7.4, "[pH]", "nmol/L") == pytest.approx(39.81071705534972)
    assert convert(39.81071705534972, "nmol/L", "[pH]") == pytest.approx(7.4)
    assert convert(1, "B", "dB") == pytest.approx(10)
    assert convert(20, "dB[SPL]", "Pa") == pytest.approx(2e-4)
    assert convert(100, "%[slope]", "deg") == pytest.approx(45)
    assert convert(100, "[p'diop]", "rad") == pytest.approx(0.7853981633974483)
    assert convert(1, "Np", "1") == pytest.approx(2.718281828459045)
    assert convert(3, "bit_s", "1") == pytest.approx(8)
    assert convert(2, "[hp'_X]", "1") == pytest.approx(0.01)
    with pytest.raises(UnitError, match="cannot be combined"):
        parse_ucum("Cel/h")
    with pytest.raises(UnitError, match="outside the range"):
        convert(-1, "mol/L", "[pH]")
    assert convert(1e300, "kCel", "uCel") == float("inf")  # as float arithmetic would say
    with pytest.raises(UnitError, match="no finite value"):
        convert_exact(1e300, "bar", "B[SPL]")


def test_every_special_function_round_trips() -> None:
    for code in SPECIAL_FUNCTIONS:
        unit = parse_ucum(code)
        canonical = conversion(unit, _canonical_unit(unit))
        back = conversion(_canonical_unit(unit), unit)
        assert back.apply(canonical.apply(0.5)) == pytest.approx(0.5, rel=1e-9), code


def _canonical_unit(unit: object) -> object:
    from critlang.units import Unit

    assert isinstance(unit, Unit)
    return Unit("canonical", unit.dimension, Fraction(1))


def test_unit_arithmetic() -> None:
    g, m, s = parse_ucum("g"), parse_ucum("m"), parse_ucum("s")
    assert (g * m).dimension == parse_ucum("g.m").dimension
    assert convert(1, m / s, "km/h") == pytest.approx(3.6)
    assert convert(1, m / (m / s), "s") == 1
    assert (m**2).dimension == parse_ucum("m2").dimension
    assert convert(1, m**-2, "cm-2") == pytest.approx(1e-4)
    assert (m**0).dimension.is_dimensionless
    assert parse_ucum((m / s).code) == m / s
    with pytest.raises(UnitError, match="special"):
        parse_ucum("Cel") * g


def test_conversion_factor_beyond_float_range_is_an_error() -> None:
    with pytest.raises(UnitError, match="more than a float can hold"):
        conversion("Ym12", "ym12")  # 1e288 and 1e-288: each fine, the ratio is not


def test_conversion_object_reuse() -> None:
    anc = conversion("x10^9/L", "/uL")
    assert anc.factor == 1000
    assert anc.apply(1.5) == 1500
    assert anc.apply_many([1, 2]) == [1000, 2000]
    assert conversion("x10^9/L", "/uL") is anc  # cached
    assert conversion("Cel", "K").factor is None


def test_table_covers_ucum() -> None:
    assert UCUM_VERSION == "2.2"
    assert len(PREFIXES) == 24
    assert len(ATOMS) == 312  # 7 base units and 305 derived units
    specials = {code for code, entry in ATOMS.items() if entry[3] & SPECIAL}
    assert specials == set(SPECIAL_FUNCTIONS)
    assert len(specials) == 21
    for code in ATOMS:
        parse_ucum(code)  # every atom parses on its own


def test_table_is_generated_from_the_official_xml() -> None:
    xml = shared_data("ucum", "ucum-essence.xml")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_ucum_table.py"), str(xml), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_convert_exact_of_a_non_number_is_a_unit_error() -> None:
    with pytest.raises(UnitError, match="'abc' is not a number"):
        convert_exact("abc", "mg/dL", "g/L")
    with pytest.raises(UnitError, match="not a number"):
        convert_exact(float("nan"), "mg/dL", "g/L")
