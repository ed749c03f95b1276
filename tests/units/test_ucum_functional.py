"""The official UCUM functional tests (UcumFunctionalTests.xml), run against the strict parser."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from fractions import Fraction

import pytest

from critlang.units import UnitError, convert, display_name, parse_ucum
from tests.conftest import FIXTURES

SUITE = ET.parse(FIXTURES / "ucum" / "UcumFunctionalTests.xml").getroot()


def cases(section: str) -> list[dict[str, str]]:
    node = SUITE.find(section)
    assert node is not None, section
    return [dict(case.attrib) for case in node.iter("case")]


def tolerance(outcome: str) -> float:
    """Half a unit of the outcome's last written digit, or 1e-6 relative, whichever is larger.

    The file rounds its outcomes to the input's significant figures (6.3 [in_i] is "0.160" m).
    """
    exponent = Decimal(outcome).as_tuple().exponent
    assert isinstance(exponent, int)
    half_digit = 0.5 * 10.0**exponent
    return max(half_digit, 1e-6 * abs(float(outcome)))


def is_valid(code: str) -> bool:
    try:
        parse_ucum(code)
    except UnitError:
        return False
    return True


def test_validation_cases_agree() -> None:
    validation = cases("validation")
    disagreements = [
        (case["id"], case["unit"], case["valid"])
        for case in validation
        if is_valid(case["unit"]) != (case["valid"] == "true")
    ]
    agreed = len(validation) - len(disagreements)
    print(f"UCUM validation: {agreed} of {len(validation)} cases agree")
    assert len(validation) == 529
    assert disagreements == []


@pytest.mark.parametrize("case", cases("conversion"), ids=lambda case: case["id"])
def test_conversion_case(case: dict[str, str]) -> None:
    source, target = parse_ucum(case["srcUnit"]), parse_ucum(case["dstUnit"])
    result = convert(float(case["value"]), source, target)
    expected = float(case["outcome"])
    assert abs(result - expected) <= tolerance(case["outcome"]), (result, expected)


def test_all_conversion_cases_present() -> None:
    assert len(cases("conversion")) == 30


@pytest.mark.parametrize("case", cases("multiplication"), ids=lambda case: case["id"])
def test_multiplication_case(case: dict[str, str]) -> None:
    unit = parse_ucum(case["u1"]) * parse_ucum(case["u2"])
    value = Fraction(case["v1"]) * Fraction(case["v2"])
    result = convert(value, unit, parse_ucum(case["uRes"]))
    assert abs(result - float(case["vRes"])) <= tolerance(case["vRes"])


@pytest.mark.parametrize("case", cases("division"), ids=lambda case: case["id"])
def test_division_case(case: dict[str, str]) -> None:
    unit = parse_ucum(case["u1"]) / parse_ucum(case["u2"])
    value = Fraction(case["v1"]) / Fraction(case["v2"])
    # An empty result unit is unity (test 4-103: comparable units divide to a pure number).
    result = convert(value, unit, parse_ucum(case["uRes"] or "1"))
    assert abs(result - float(case["vRes"])) <= tolerance(case["vRes"])


@pytest.mark.parametrize("case", cases("displayNameGeneration"), ids=lambda case: case["id"])
def test_display_name_case(case: dict[str, str]) -> None:
    assert display_name(case["unit"]) == case["display"]
