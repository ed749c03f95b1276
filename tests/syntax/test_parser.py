"""Parsing: the grammar's constructs become the right AST nodes; bad text gives located errors."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from critlang.errors import CritlangError, ParseError
from critlang.syntax import ast
from critlang.syntax.parser import parse_expression, parse_program

SAMPLE = """\
# NCT06945523 — CEA CAR-T
trial NCT06945523 "CAR-T targeting CEA" version "2.1"
use "oncology.crit"

define adequate_marrow =
    WBC > 2.0 x10^9/L and ANC > 1.0 x10^9/L   # hematology
    and platelets > 50 x10^9/L

lab ANC "Absolute neutrophil count": 10*9/L
    codes LOINC:751-8, LOINC:26499-4
    plausible 0..100
fact ECOG "ECOG performance status": integer 0..5
fact sex: {female, male, other, unknown}
treatment chemotherapy "Systemic chemotherapy": codes ATC:L01*
anchor screening, infusion

inclusion
  I1 "Age ≥18 years":   age >= 18 years
  I10.4 "ALT ≤3×ULN (≤5×ULN with liver metastases)":
      if liver_metastases then ALT <= 5 x ULN else ALT <= 3 x ULN
  I13 "Consent":        review "consent signed"
exclusion
  E9 "Other malignancy":
      other_malignancy within 3 years before screening
      except (cervical_carcinoma_in_situ or basal_cell_carcinoma)
"""


def test_program_items() -> None:
    program = parse_program(SAMPLE, "sample.crit")
    assert program.trial == ast.Trial(id="NCT06945523", title="CAR-T targeting CEA", version="2.1")
    assert program.uses == (ast.Use(path="oncology.crit"),)
    assert [d.name for d in program.definitions] == ["adequate_marrow"]
    assert [c.id for c in program.inclusions] == ["I1", "I10.4", "I13"]
    assert [c.id for c in program.exclusions] == ["E9"]
    assert program.criteria[2].body == ast.Review(text="consent signed")
    assert [comment.text for comment in program.comments] == [
        "# NCT06945523 — CEA CAR-T",
        "# hematology",
    ]


def test_declarations() -> None:
    program = parse_program(SAMPLE)
    anc, ecog, sex, chemo, anchors = program.declarations
    assert isinstance(anc, ast.Declaration)
    assert (anc.kind, anc.name, anc.label) == ("lab", "ANC", "Absolute neutrophil count")
    assert anc.spec == ast.UnitSpec(unit="10*9/L")
    codes = anc.option("codes")
    assert codes is not None
    assert codes.values == (
        ast.Code(system="LOINC", code="751-8"),
        ast.Code(system="LOINC", code="26499-4"),
    )
    assert isinstance(ecog, ast.Declaration)
    assert ecog.spec == ast.TypeSpec(
        type="integer",
        range=ast.Range(low=ast.Number(value=Decimal(0)), high=ast.Number(value=Decimal(5))),
    )
    assert isinstance(sex, ast.Declaration)
    assert isinstance(sex.spec, ast.SetLiteral)
    assert [item.name for item in sex.spec.items if isinstance(item, ast.Symbol)] == [
        "female",
        "male",
        "other",
        "unknown",
    ]
    assert isinstance(chemo, ast.Declaration)
    assert chemo.spec is None
    assert anchors == ast.AnchorDeclaration(names=("screening", "infusion"))


def test_criterion_bodies() -> None:
    program = parse_program(SAMPLE)
    age, alt, _, malignancy = program.criteria
    assert age.body == ast.Compare(
        operator=">=",
        left=ast.Name(name="age"),
        right=ast.Quantity(value=Decimal(18), unit="a"),
    )
    assert isinstance(alt.body, ast.IfThenElse)
    assert alt.body.then == ast.Compare(
        operator="<=",
        left=ast.Name(name="ALT"),
        right=ast.LimitMultiple(factor=Decimal(5), limit="ULN"),
    )
    assert isinstance(malignancy.body, ast.Except)
    assert isinstance(malignancy.body.expr, ast.Windowed)
    window = malignancy.body.expr.window
    assert (window.kind, window.side, window.anchor) == (
        "within",
        "before",
        ast.Name(name="screening"),
    )
    assert window.duration == ast.Quantity(value=Decimal(3), unit="a")


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("ANC >= 1.5 x10^9/L", "10*9/L"),
        ("ANC >= 1.5 × 10⁹/L", "10*9/L"),
        ("ANC >= 1500 /uL", "/uL"),
        ("ANC >= 1.5e9/L", "/L"),
        ("hemoglobin >= 9.0 g/dL", "g/dL"),
        ("SpO2 > 92 %", "%"),
        ("eGFR >= 60 mL/min/1.73 m2", "mL/min/{1.73_m2}"),
        ("eGFR >= 60 mL/min/1.73m2", "mL/min/{1.73_m2}"),
        ("bp < 140 mmHg", "mm[Hg]"),
        ("age >= 18 years", "a"),
    ],
)
def test_quantities(text: str, unit: str) -> None:
    expression = parse_expression(text)
    assert isinstance(expression, ast.Compare)
    assert isinstance(expression.right, ast.Quantity)
    assert expression.right.unit == unit


def test_precedence() -> None:
    expression = parse_expression("a or b and not c implies d")
    assert expression == ast.Implies(
        left=ast.Logical(
            operator="or",
            operands=(
                ast.Name(name="a"),
                ast.Logical(
                    operator="and",
                    operands=(ast.Name(name="b"), ast.Not(operand=ast.Name(name="c"))),
                ),
            ),
        ),
        right=ast.Name(name="d"),
    )
    arithmetic = parse_expression("weight / height^2 * 2 + 1 < 30")
    assert isinstance(arithmetic, ast.Compare)
    assert isinstance(arithmetic.left, ast.Arithmetic)
    assert arithmetic.left.operator == "+"


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("ECOG in 0..2", ast.Member),
        ("x not in {a, b}", ast.Member),
        ("ECOG is known", ast.Presence),
        ("ECOG is missing", ast.Presence),
        ("ALT ≤ 3 x ULN", ast.Compare),
        ("ALT ≠ 3", ast.Compare),
        ("diagnosis in ICD10:C34.*", ast.Member),
        ("onset after 2025-01-01", ast.Windowed),
        ("chemotherapy at least 3 weeks before treatment", ast.Windowed),
        ("count(seizure within 1 year before screening) >= 2", ast.Compare),
        ("max(ALT within 14 days of screening) <= 3 x ULN", ast.Compare),
        ("-x < 3", ast.Compare),
        ("true or false", ast.Logical),
    ],
)
def test_constructs(text: str, node: type) -> None:
    assert isinstance(parse_expression(text), node)


def test_spans_locate_nodes() -> None:
    text = "ECOG in 0..2 and ANC >= 1.5 x10^9/L"
    expression = parse_expression(text)
    assert isinstance(expression, ast.Logical)
    second = expression.operands[1]
    assert text[second.span.start : second.span.end] == "ANC >= 1.5 x10^9/L"


def test_equality_ignores_spans_and_spelling() -> None:
    assert parse_expression("ANC>=1.5 x10^9/L") == parse_expression("ANC  >=  1.5 10*9/L")
    assert parse_expression("a ≤ 3") == parse_expression("a <= 3")


def test_date_literal() -> None:
    expression = parse_expression("onset after 2025-04-18")
    assert isinstance(expression, ast.Windowed)
    assert expression.window.anchor == ast.DateLiteral(value=datetime.date(2025, 4, 18))


@pytest.mark.parametrize(
    ("text", "code", "message", "column"),
    [
        ("ANC >= 1.5 )", "E112", "expected the end of the text after `1.5`, found `)`", 12),
        ("ANC >= 9 gx/dL", "E102", "`gx/dL` is not a unit critlang can read", 10),
        ("ANC >=", "E111", "the text ends too soon; expected a number with a unit", 7),
        ("age @ 3", "E110", "unexpected character '@'", 5),
        ("onset after 2025-02-30", "E103", "`2025-02-30` is not a calendar date", 13),
        ("(" * 101 + "a" + ")" * 101, "E105", "nested more than 100 deep", 101),
        ("a" + "+a" * 150, "E105", "nested more than 100 deep", 1),
        ("x ^ 1000 > 1", "E104", "a power must be a whole number below 100", 5),
    ],
)
def test_errors(text: str, code: str, message: str, column: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_expression(text)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == code
    assert message in diagnostic.message
    assert diagnostic.location == (1, column)


def test_error_renders_with_caret() -> None:
    with pytest.raises(ParseError) as caught:
        parse_program('inclusion\n  I1 "x" age >= 18 years\n', "t.crit")
    assert str(caught.value) == (
        't.crit:2:10: E112 expected `:` after `"x"`, found `age`\n'
        "  |\n"
        '2 |   I1 "x" age >= 18 years\n'
        "  |          ^^^"
    )


def test_hostile_inputs_give_parse_errors() -> None:
    for text in ["(" * 10_000, ")" * 10_000, "x" * 1_000_001, '"' * 3]:
        with pytest.raises(CritlangError):
            parse_expression(text)


def test_long_chains_are_flat() -> None:
    expression = parse_expression("a and " * 5_000 + "a")
    assert isinstance(expression, ast.Logical)
    assert len(expression.operands) == 5_001


def test_division_with_spaces_is_not_a_unit() -> None:
    # Found by the printer round-trip fuzz: `1.5 / ANC` lexed as the quantity `1.5 /`.
    expression = parse_expression("1.5 / ANC > 1")
    assert isinstance(expression, ast.Compare)
    assert isinstance(expression.left, ast.Arithmetic)
    assert expression.left.left == ast.Number(value=Decimal("1.5"))
    assert parse_expression("ANC >= 1500 /uL") == parse_expression("ANC >= 1500/uL")
