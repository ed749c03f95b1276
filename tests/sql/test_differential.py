"""The SQL backend agrees with the in-memory evaluator (SPEC §9) on generated OMOP exports and
generated criteria: every person's verdict and every criterion's outcome, UNKNOWN included.

The reference is the in-memory evaluator over the records critlang's OMOP reader reads from the
same CSV folder; nothing here states an expected outcome."""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import critlang
from tests.sql.cohorts import AS_OF, exports, reference_screen, sql_screen, write_export

# Declarations the leaves use beyond the standard dictionary: a lab with a normal range (x ULN
# without the result's own), one with a lookback, one without a unit, and the facts the OMOP reader
# takes from death.
DECLARATIONS = """
lab site_ALT "ALT at the site lab": U/L
    codes LOINC:1742-6
    accepts "[IU]/L"
    normal 0..40
    plausible 0..20000
lab recent_Hb "Hemoglobin within a month": g/dL
    codes LOINC:718-7
    plausible 0..25
    lookback 30 days
lab site_score "A score recorded as a result, without a unit": number
    codes LOINC:89247-1
fact deceased "Died": boolean
fact death_date "Date of death": date
"""

# Leaves from every construct the SQL backend supports, over the cohorts' vocabulary.
LEAVES = [
    "true",
    "age >= 50 years",
    "age in 18..75 years",
    "age_at(2020-01-01) < 40 years",
    "sex = female",
    "sex in {male, other}",
    "hemoglobin >= 9 g/dL",
    "hemoglobin > 95 g/L",
    "hemoglobin <= 12.5 g/dL within 30 days before screening",
    "hemoglobin >= 9 g/dL within 7 days after screening",
    "max(hemoglobin within 60 days before screening) >= 10 g/dL",
    "min(hemoglobin) < 9 g/dL",
    "max(hemoglobin) is known",
    "earliest(hemoglobin) >= 9 g/dL",
    "any(hemoglobin within 90 days before screening) < 8 g/dL",
    "all(hemoglobin within 400 days before screening) >= 8 g/dL",
    "count(hemoglobin within 90 days before screening) >= 2",
    "hemoglobin is missing",
    "platelets >= 100 x10^9/L",
    "platelets < 150000 /uL",
    "ALT <= 2.5 x ULN",
    "ALT > 40 U/L",
    "any(ALT) > 3 x ULN",
    "ALT in ..3 x ULN",
    "3 x ULN >= ALT",
    "hemoglobin > 0.75 x LLN",
    "creatinine <= 1.5 mg/dL",
    "creatinine < 133 umol/L",
    "creatinine is known",
    "max(creatinine) <= 1.5 mg/dL",
    "min(creatinine within 90 days before screening) < 100 umol/L",
    "max(site_score) >= 2",
    "min(site_score within 90 days before screening) <= 1",
    "min(HBsAg) = negative",
    "ECOG <= 1",
    "ECOG in 0..2",
    "weight >= 50 kg",
    "weight is known",
    "HBsAg = negative",
    "lung_cancer",
    "lung_cancer within 1 year before screening",
    "lung_cancer within 30 days of screening",
    "malignancy within 3 years before screening except basal_cell_carcinoma",
    "diagnosis in {ICD10:C34*}",
    "myocardial_infarction within 6 months before screening",
    "chemotherapy within 4 weeks before screening",
    "chemotherapy",
    "chemotherapy at least 2 weeks before screening",
    "surgery within 30 days before screening",
    "count(malignancy within 5 years before screening) >= 2",
    "chemotherapy is known",
    "site_ALT <= 2.5 x ULN",
    "any(site_ALT within 30 days before screening) > 3 x ULN",
    "site_ALT >= 0.5 x LLN",
    "recent_Hb >= 9 g/dL",
    "deceased",
    "deceased = true",
    "death_date < 2024-06-01",
    "death_date is known",
]


def expressions() -> st.SearchStrategy[str]:
    """Leaves combined with and, or, not, implies and if-then-else."""

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, inner).map(lambda pair: f"({pair[0]}) and ({pair[1]})"),
            st.tuples(inner, inner).map(lambda pair: f"({pair[0]}) or ({pair[1]})"),
            inner.map(lambda item: f"not ({item})"),
            st.tuples(inner, inner).map(lambda pair: f"({pair[0]}) implies ({pair[1]})"),
            st.tuples(inner, inner, inner).map(
                lambda t: f"if ({t[0]}) then ({t[1]}) else ({t[2]})"
            ),
        )

    return st.recursive(st.sampled_from(LEAVES), extend, max_leaves=4)


@st.composite
def trials(draw: st.DrawFn) -> str:
    """A criteria file: one to three inclusions and up to two exclusions, perhaps a review."""
    inclusions = draw(st.lists(expressions(), min_size=1, max_size=3))
    exclusions = draw(st.lists(expressions(), max_size=2))
    lines = [DECLARATIONS, "inclusion"]
    lines += [f'  I{n} "inclusion {n}": {text}' for n, text in enumerate(inclusions, 1)]
    if draw(st.booleans()):
        lines.append('  I9 "Consent": review "consent signed"')
    if exclusions:
        lines.append("exclusion")
        lines += [f'  E{n} "exclusion {n}": {text}' for n, text in enumerate(exclusions, 1)]
    return "\n".join(lines) + "\n"


def test_every_leaf_checks() -> None:
    for leaf in LEAVES:
        critlang.parse(f'{DECLARATIONS}inclusion\n  I1 "leaf": {leaf}\n')


@settings(max_examples=max(10, settings().max_examples // 3))
@given(tables=exports(), text=trials())
def test_sql_agrees_with_the_evaluator(tables: dict[str, list[dict[str, str]]], text: str) -> None:
    trial = critlang.parse(text)
    with tempfile.TemporaryDirectory(prefix="critlang-sql-") as folder:
        export = write_export(Path(folder), tables)
        expected = reference_screen(trial, export, AS_OF)
        assert sql_screen(trial, export, AS_OF) == expected


@settings(max_examples=max(10, settings().max_examples // 3))
@given(tables=exports(), leaf=st.sampled_from(LEAVES))
def test_each_leaf_agrees(tables: dict[str, list[dict[str, str]]], leaf: str) -> None:
    trial = critlang.parse(
        f'{DECLARATIONS}inclusion\n  I1 "leaf": {leaf}\nexclusion\n  E1 "leaf": {leaf}\n'
    )
    with tempfile.TemporaryDirectory(prefix="critlang-sql-") as folder:
        export = write_export(Path(folder), tables)
        assert sql_screen(trial, export, AS_OF) == reference_screen(trial, export, AS_OF)


def _result(person: int, concept: int, value: str, unit: int, days_before: int) -> dict[str, str]:
    return {
        "measurement_id": str(days_before),
        "person_id": str(person),
        "measurement_concept_id": str(concept),
        "measurement_date": (AS_OF - datetime.timedelta(days=days_before)).isoformat(),
        "value_as_number": value,
        "value_as_concept_id": "0",
        "unit_concept_id": str(unit),
    }


HEMOGLOBIN, CREATININE, SCORE = 3000963, 3016723, 36303722
G_DL, MG_DL, UMOL_L, KG, SCORE_UNIT = 8713, 8840, 8749, 9529, 44777566


def test_min_max_and_kinds_of_unit_on_results_that_do_not_read(tmp_path: Path) -> None:
    """Regressions found by this differential testing, stated here as outcomes as well: one
    result of the set that does not read (a unit of another kind, none, an implausible value)
    makes ``min`` and ``max`` UNKNOWN; a lab with a molar mass reads only mass and substance
    concentrations; a lab without a unit is ordered by its number."""
    measurements = [
        _result(1, HEMOGLOBIN, "10", G_DL, 20),
        _result(1, HEMOGLOBIN, "12", KG, 10),  # another kind
        _result(2, HEMOGLOBIN, "10", G_DL, 20),
        _result(2, HEMOGLOBIN, "100000", G_DL, 10),  # implausible
        _result(3, HEMOGLOBIN, "10", G_DL, 20),
        _result(3, HEMOGLOBIN, "12", 0, 10),  # no unit
        _result(4, HEMOGLOBIN, "10", G_DL, 20),
        _result(4, HEMOGLOBIN, "120", 8636, 10),  # 12 g/dL as g/L
        _result(1, CREATININE, "1.0", MG_DL, 20),
        _result(1, CREATININE, "5", KG, 10),  # mass, not mass per volume
        _result(2, CREATININE, "100", UMOL_L, 10),  # 1.1312 mg/dL by the molar mass
        _result(3, SCORE, "3", SCORE_UNIT, 20),
        _result(3, SCORE, "1", SCORE_UNIT, 10),
    ]
    tables = {
        "PERSON": [
            {"person_id": str(n), "gender_concept_id": "8532", "year_of_birth": "1970"}
            for n in (1, 2, 3, 4)
        ],
        "MEASUREMENT": measurements,
    }
    leaves = [
        "min(hemoglobin) < 11 g/dL",
        "max(hemoglobin) >= 11 g/dL",
        "max(hemoglobin) is known",
        "creatinine <= 1.2 mg/dL",
        "creatinine is known",
        "min(site_score) <= 1",
    ]
    criteria = "\n".join(f'  I{n} "leaf": {leaf}' for n, leaf in enumerate(leaves, 1))
    trial = critlang.parse(f"{DECLARATIONS}inclusion\n{criteria}\n")
    export = write_export(tmp_path, tables)
    expected = reference_screen(trial, export, AS_OF)
    assert sql_screen(trial, export, AS_OF) == expected
    unknown, met, not_met = "unknown", "met", "not_met"
    assert {person: outcomes for person, (_, outcomes) in expected.items()} == {
        1: (unknown, unknown, not_met, unknown, not_met, unknown),
        2: (unknown, unknown, not_met, met, met, unknown),
        3: (unknown, unknown, not_met, unknown, not_met, met),
        4: (met, met, met, unknown, not_met, unknown),
    }
