"""Canonical unit spellings: one per unit, and never one that means a different unit."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from critlang.fmt import format_source, units
from critlang.fmt.units import canonical_unit, canonical_unit_spec, preferred_spelling
from critlang.syntax import ast
from critlang.syntax.parser import parse_program
from critlang.units import UnitError, parse_unit
from tests.conftest import FIXTURES
from tests.fmt.strategies import DURATIONS, UNITS


def _real_units() -> list[str]:
    with (FIXTURES / "units" / "real_units.tsv").open(encoding="utf-8") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [row["source"] for row in rows if row["reading"] != "ERROR"]


SPELLINGS = sorted({*UNITS, *DURATIONS, *_real_units(), "10*-3/L", "k[IU]/L", "cm[H2O]"})
# `(score)` is how a lab system labels a unitless result; after a number in a criteria file the
# grammar reads `(` as the start of a group, so it is no quantity's unit there.
QUANTITY_SPELLINGS = [spelling for spelling in SPELLINGS if spelling != "(score)"]


@pytest.mark.parametrize(
    ("code", "value", "spelling"),
    [
        ("10*9/L", None, "x10^9/L"),
        ("10*3/uL", None, "x10^3/uL"),
        ("a", Decimal(18), "years"),
        ("a", Decimal("1.0"), "year"),
        ("mo", Decimal(1), "month"),
        ("wk", Decimal(4), "weeks"),
        ("d", Decimal(14), "days"),
        ("h", Decimal(48), "hours"),
        ("mm[Hg]", None, "mmHg"),
        ("m[IU]/L", None, "mIU/L"),
        ("[IU]/L", None, "IU/L"),
        ("meq/L", None, "mEq/L"),
        ("mL/min/{1.73_m2}", None, "mL/min/1.73m2"),
        ("ug", None, "ug"),
        ("umol/L", None, "umol/L"),
        ("%", None, "%"),
        ("g/dL", None, "g/dL"),
    ],
)
def test_preferred_spelling(code: str, value: Decimal | None, spelling: str) -> None:
    assert preferred_spelling(code, value) == spelling


@pytest.mark.parametrize("written", QUANTITY_SPELLINGS)
def test_a_formatted_quantity_reads_as_the_same_unit(written: str) -> None:
    source = f"define d = 2 {written}"
    (before,) = parse_program(source).items
    formatted = format_source(source)
    (after,) = parse_program(formatted).items
    assert isinstance(before, ast.Define)
    assert isinstance(after, ast.Define)
    assert isinstance(before.expr, ast.Quantity)
    assert isinstance(after.expr, ast.Quantity)
    assert after.expr.unit == before.expr.unit
    assert after.expr.unit_text == preferred_spelling(before.expr.unit, Decimal(2))


@pytest.mark.parametrize("written", SPELLINGS)
def test_a_formatted_declaration_unit_reads_as_the_same_unit(written: str) -> None:
    try:
        code = parse_unit(written).code
    except UnitError:
        pytest.fail(f"{written} is listed as a unit critlang reads")
    spelling = canonical_unit_spec(written, code)
    (item,) = parse_program(f"lab x: {spelling}").items
    assert isinstance(item, ast.Declaration)
    assert isinstance(item.spec, ast.UnitSpec)
    assert item.spec.unit == code


def test_all_spellings_of_one_unit_become_one() -> None:
    spelled = {
        canonical_unit(written, parse_unit(written).code, Decimal(2))
        for written in ["x10^9/L", "×10⁹/L", "10^9/L", "10*9/L", "x10*9/L", "× 10^9/L"]
    }
    assert spelled == {"x10^9/L"}


def test_a_preferred_spelling_the_parser_reads_otherwise_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `2 in` is no quantity (`in` is a keyword), and `m` is the metre: either way the guard falls
    # back to the UCUM code.
    for wrong in ("in", "m"):
        monkeypatch.setattr(units, "preferred_spelling", lambda code, value=None, w=wrong: w)
        assert canonical_unit("inches", "[in_i]", Decimal(2)) == "[in_i]"
    assert canonical_unit_spec("inch", "[in_i]") == "[in_i]"
