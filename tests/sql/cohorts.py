"""Small OMOP CDM exports for the SQL backend's tests: a fixed vocabulary, generated persons and
clinical rows (hypothesis strategies), written as a folder of CSV tables; and the reference
screen of such an export by the in-memory evaluator over :func:`read_omop`'s records."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

import critlang
from critlang.data.omop import read_omop

AS_OF = datetime.date(2024, 6, 15)

# concept_id, concept_name, vocabulary_id, concept_code
CONCEPTS = [
    (3000963, "Hemoglobin", "LOINC", "718-7"),
    (3024929, "Platelets", "LOINC", "777-3"),
    (3006923, "Alanine aminotransferase", "LOINC", "1742-6"),
    (3016723, "Creatinine", "LOINC", "2160-0"),
    (36303722, "ECOG performance status", "LOINC", "89247-1"),
    (3025315, "Body weight", "LOINC", "29463-7"),
    (3037072, "Hepatitis B surface antigen", "LOINC", "5196-1"),
    (8713, "gram per deciliter", "UCUM", "g/dL"),
    (8636, "gram per liter", "UCUM", "g/L"),
    (8840, "milligram per deciliter", "UCUM", "mg/dL"),
    (8749, "micromole per liter", "UCUM", "umol/L"),
    (8848, "thousand per microliter", "UCUM", "10*3/uL"),
    (9444, "billion per liter", "UCUM", "10*9/L"),
    (8647, "per microliter", "UCUM", "/uL"),
    (8645, "unit per liter", "UCUM", "U/L"),
    (8923, "international unit per liter", "UCUM", "[iU]/L"),
    (9529, "kilogram", "UCUM", "kg"),
    (8739, "pound", "UCUM", "[lb_av]"),
    (8554, "percent", "UCUM", "%"),
    (586323, "degree Celsius", "UCUM", "Cel"),
    (44777566, "score", "UCUM", "{score}"),
    (9000001, "not a unit", "UCUM", "[not_a_unit]"),
    (4181412, "Positive", "Meas Value", "10828004"),
    (9189, "Negative", "Meas Value", "260385009"),
    (4115276, "Non-small cell lung cancer", "SNOMED", "254637007"),
    (45552890, "Malignant neoplasm of lung", "ICD10CM", "C34.90"),
    (4329847, "Myocardial infarction", "SNOMED", "22298006"),
    (45542411, "Malignant neoplasm of breast", "ICD10CM", "C50.911"),
    (45576951, "Basal cell carcinoma of skin", "ICD10CM", "C44.91"),
    (4112752, "Basal cell carcinoma", "SNOMED", "254701007"),
    (4201906, "Resolved", "SNOMED", "413322009"),
    (1736854, "cisplatin 1 MG/ML Injectable Solution", "RxNorm", "309311"),
    (1397599, "cisplatin", "RxNorm", "2555"),
    (21603750, "cisplatin", "ATC", "L01XA01"),
    (1125315, "acetaminophen 500 MG Oral Tablet", "RxNorm", "198440"),
    (4301351, "Surgical procedure", "SNOMED", "387713003"),
    (9201, "Inpatient Visit", "Visit", "IP"),
]
RELATIONSHIPS = [
    (1736854, 1397599, "RxNorm has ing"),
    (1397599, 1736854, "RxNorm ing of"),
    (1397599, 21603750, "RxNorm - ATC pr lat"),
]
LABS = [3000963, 3024929, 3006923, 3016723, 36303722, 3025315, 3037072]
UNITS = [
    0,
    8713,
    8636,
    8840,
    8749,
    8848,
    9444,
    8647,
    8645,
    8923,
    9529,
    8739,
    8554,
    586323,
    44777566,
    9000001,
    77,
]
CONDITIONS = [4115276, 4329847, 4112752, 0, 123]
CONDITION_SOURCES = [0, 45552890, 45542411, 45576951]
DRUGS = [1736854, 1397599, 1125315, 0]

TABLES: dict[str, list[str]] = {
    "PERSON": ["person_id", "gender_concept_id", "year_of_birth", "month_of_birth",
               "day_of_birth", "birth_datetime"],
    "MEASUREMENT": ["measurement_id", "person_id", "measurement_concept_id", "measurement_date",
                    "measurement_datetime", "operator_concept_id", "value_as_number",
                    "value_as_concept_id", "unit_concept_id", "range_low", "range_high",
                    "measurement_source_value", "measurement_source_concept_id",
                    "unit_source_value", "value_source_value"],
    "OBSERVATION": ["observation_id", "person_id", "observation_concept_id", "observation_date",
                    "observation_datetime", "value_as_number", "value_as_string",
                    "value_as_concept_id", "unit_concept_id", "observation_source_value",
                    "observation_source_concept_id", "unit_source_value", "value_source_value"],
    "CONDITION_OCCURRENCE": ["condition_occurrence_id", "person_id", "condition_concept_id",
                             "condition_start_date", "condition_start_datetime",
                             "condition_end_date", "condition_end_datetime",
                             "condition_status_concept_id", "condition_source_value",
                             "condition_source_concept_id", "condition_status_source_value"],
    "DRUG_EXPOSURE": ["drug_exposure_id", "person_id", "drug_concept_id",
                      "drug_exposure_start_date", "drug_exposure_start_datetime",
                      "drug_exposure_end_date", "drug_exposure_end_datetime", "verbatim_end_date",
                      "drug_source_value", "drug_source_concept_id"],
    "PROCEDURE_OCCURRENCE": ["procedure_occurrence_id", "person_id", "procedure_concept_id",
                             "procedure_date", "procedure_datetime", "procedure_end_date",
                             "procedure_end_datetime", "procedure_source_value",
                             "procedure_source_concept_id"],
    "DEATH": ["person_id", "death_date", "death_datetime"],
    "CONCEPT": ["concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id",
                "standard_concept", "concept_code"],
    "CONCEPT_RELATIONSHIP": ["concept_id_1", "concept_id_2", "relationship_id"],
}  # fmt: skip

Row = dict[str, str]


def _day(offset: int) -> str:
    return (AS_OF + datetime.timedelta(days=offset)).isoformat()


# Dates near the screening date: mostly the weeks before it, sometimes after it or long
# before, sometimes empty, a datetime, or not a date.
dates = st.one_of(
    st.integers(-120, 0).map(_day),
    st.integers(-120, 0).map(_day),
    st.integers(-2000, 60).map(_day),
    st.integers(-60, 0).map(lambda n: _day(n) + " 08:30:00"),
    st.integers(-60, 0).map(lambda n: _day(n) + "T23:30:00+02:00"),
    st.sampled_from(["", "2024-02-30", "2024-6-1", "not a date"]),
)
# Row ids from a small range, so that a person's rows repeat an id now and then (the reader
# then orders them by their cells).
ids = st.integers(1, 30)
# Each lab's usual units (unit concept, lowest, highest, decimal places): a result is mostly in
# one of them, and sometimes in any unit at all.
LAB_UNITS: dict[int, list[tuple[int, int, int, int]]] = {
    3000963: [(8713, 5, 18, 1), (8636, 50, 180, 0)],
    3024929: [(8848, 20, 400, 0), (9444, 20, 400, 0), (8647, 20000, 400000, 0)],
    3006923: [(8645, 5, 200, 0), (8645, 5, 200, 0), (8923, 5, 200, 0)],
    3016723: [(8840, 0, 3, 2), (8749, 30, 250, 0)],
    36303722: [(0, 0, 4, 0), (44777566, 0, 4, 0)],
    3025315: [(9529, 40, 120, 1), (8739, 90, 260, 0)],
    3037072: [(0, 0, 0, 0)],
}
ODD_NUMBERS = [
    "",
    "9.0",
    "1e1",
    "abc",
    "-1",
    "1_0",
    " 12 ",
    "NaN",
    "100000",
    "0.000000000000000000001",
]


def _pick(values: list[Any]) -> st.SearchStrategy[str]:
    return st.sampled_from(values).map(str)


@st.composite
def _value(draw: st.DrawFn, low: int, high: int, places: int) -> str:
    """A number in [low, high] with ``places`` decimals, or now and then an odd one."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(ODD_NUMBERS))
    scaled = draw(st.integers(low * 10**places, high * 10**places))
    return str(scaled) if places == 0 else f"{scaled / 10**places:.{places}f}"


@st.composite
def persons(draw: st.DrawFn) -> list[Row]:
    count = draw(st.integers(1, 4))
    rows = []
    for person in range(1, count + 1):
        year = draw(st.sampled_from(["1950", "1970", "1990", "2008", "1985.0", ""]))
        rows.append(
            {
                "person_id": str(person),
                "gender_concept_id": draw(_pick([8507, 8532, 8507, 8532, 8521, 0, ""])),
                "year_of_birth": year,
                "month_of_birth": draw(_pick([1, 6, 12, 6, "", 13])),
                "day_of_birth": draw(_pick([1, 15, 15, 31, ""])),
                "birth_datetime": draw(st.sampled_from(["", "1960-06-15 00:00:00"])),
            }
        )
    return rows


@st.composite
def measurement(draw: st.DrawFn, person_ids: list[str], labs: list[int]) -> Row:
    concept = draw(st.sampled_from(labs)) if draw(st.integers(0, 15)) else 0
    code = next((c for i, _, _, c in CONCEPTS if i == concept), "")
    unit, low, high, places = draw(st.sampled_from(LAB_UNITS.get(concept, [(0, 0, 10, 1)])))
    if draw(st.integers(0, 7)) == 0:
        unit = draw(st.sampled_from(UNITS))
    symbolic = concept == 3037072 or draw(st.integers(0, 15)) == 0
    return {
        "measurement_id": str(draw(ids)),
        "person_id": draw(st.sampled_from(person_ids)),
        "measurement_concept_id": str(concept),
        "measurement_date": draw(dates),
        "measurement_datetime": draw(st.sampled_from(["", "", _day(-3)])),
        "operator_concept_id": draw(_pick(["", 0, 0, 0, 4172703, 4171756])),
        "value_as_number": "" if symbolic else draw(_value(low, high, places)),
        "value_as_concept_id": draw(_pick([0, 4181412, 9189])) if symbolic else "0",
        "unit_concept_id": str(unit),
        "range_low": draw(st.sampled_from(["", "", "3.5", "12"])),
        "range_high": draw(st.sampled_from(["", "40", "16.5", "1.2", "400"])),
        "measurement_source_value": draw(st.sampled_from([code, code, "", "718-7"])),
        "measurement_source_concept_id": draw(st.sampled_from([str(concept), "0"])),
        "unit_source_value": "",
        "value_source_value": draw(st.sampled_from(["", "", "Negative (qualifier value)", "12"])),
    }


@st.composite
def observation(draw: st.DrawFn, person_ids: list[str]) -> Row:
    concept = draw(_pick([36303722, 3025315, 3037072, 0]))
    return {
        "observation_id": str(draw(ids)),
        "person_id": draw(st.sampled_from(person_ids)),
        "observation_concept_id": concept,
        "observation_date": draw(dates),
        "observation_datetime": "",
        "value_as_number": draw(st.sampled_from(["", "0", "1", "2", "1.5", "70", "80.25"])),
        "value_as_string": draw(st.sampled_from(["", "", "Positive", "Never smoker"])),
        "value_as_concept_id": draw(_pick([0, 4181412, 9189])),
        "unit_concept_id": draw(_pick([0, 9529, 8739, 44777566])),
        "observation_source_value": "",
        "observation_source_concept_id": "0",
        "unit_source_value": "",
        "value_source_value": "",
    }


@st.composite
def condition(draw: st.DrawFn, person_ids: list[str]) -> Row:
    return {
        "condition_occurrence_id": str(draw(ids)),
        "person_id": draw(st.sampled_from(person_ids)),
        "condition_concept_id": draw(_pick([*CONDITIONS, 4115276])),
        "condition_start_date": draw(dates),
        "condition_start_datetime": "",
        "condition_end_date": draw(st.one_of(st.just(""), dates)),
        "condition_end_datetime": "",
        "condition_status_concept_id": draw(_pick([0, 0, 4201906])),
        "condition_source_value": draw(st.sampled_from(["", "C34.1", "C44.91", "I21.9"])),
        "condition_source_concept_id": draw(_pick(CONDITION_SOURCES)),
        "condition_status_source_value": draw(st.sampled_from(["", "resolved", "active"])),
    }


@st.composite
def drug(draw: st.DrawFn, person_ids: list[str]) -> Row:
    return {
        "drug_exposure_id": str(draw(ids)),
        "person_id": draw(st.sampled_from(person_ids)),
        "drug_concept_id": draw(_pick([*DRUGS, 1736854])),
        "drug_exposure_start_date": draw(dates),
        "drug_exposure_start_datetime": "",
        "drug_exposure_end_date": draw(st.one_of(st.just(""), dates)),
        "drug_exposure_end_datetime": "",
        "verbatim_end_date": draw(st.one_of(st.just(""), dates)),
        "drug_source_value": "",
        "drug_source_concept_id": draw(_pick([0, 1397599])),
    }


@st.composite
def procedure(draw: st.DrawFn, person_ids: list[str]) -> Row:
    return {
        "procedure_occurrence_id": str(draw(ids)),
        "person_id": draw(st.sampled_from(person_ids)),
        "procedure_concept_id": draw(_pick([4301351, 0])),
        "procedure_date": draw(dates),
        "procedure_datetime": "",
        "procedure_end_date": draw(st.one_of(st.just(""), dates)),
        "procedure_end_datetime": "",
        "procedure_source_value": "",
        "procedure_source_concept_id": "0",
    }


@st.composite
def exports(draw: st.DrawFn) -> dict[str, list[Row]]:
    """A small export: 1 to 4 persons, their results of a few labs, a few rows of each other
    clinical table (a row may name a person who is not in ``person``), and some deaths."""
    people = draw(persons())
    person_ids = [row["person_id"] for row in people]
    tables: dict[str, list[Row]] = {"PERSON": people}
    # each person's results of a few labs (one to three of each), and some rows of anyone's
    tables["MEASUREMENT"] = [
        draw(measurement([person], [lab]))
        for person in person_ids
        for lab in draw(st.lists(st.sampled_from(LABS), max_size=4, unique=True))
        for _ in range(draw(st.integers(1, 3)))
    ]
    tables["MEASUREMENT"] += draw(st.lists(measurement([*person_ids, "99"], LABS), max_size=3))
    for name, strategy, most in (
        ("OBSERVATION", observation, 5),
        ("CONDITION_OCCURRENCE", condition, 6),
        ("DRUG_EXPOSURE", drug, 4),
        ("PROCEDURE_OCCURRENCE", procedure, 3),
    ):
        tables[name] = draw(st.lists(strategy([*person_ids, "99"]), max_size=most))
    tables["DEATH"] = [
        {"person_id": person, "death_date": draw(dates), "death_datetime": ""}
        for person in draw(st.lists(st.sampled_from([*person_ids, "99"]), max_size=2, unique=True))
    ]
    return tables


def vocabulary() -> dict[str, list[Row]]:
    """The fixed CONCEPT and CONCEPT_RELATIONSHIP tables."""
    concepts = [
        {
            "concept_id": str(number),
            "concept_name": name,
            "domain_id": "",
            "vocabulary_id": vocabulary_id,
            "concept_class_id": "",
            "standard_concept": "S",
            "concept_code": code,
        }
        for number, name, vocabulary_id, code in CONCEPTS
    ]
    links = [
        {"concept_id_1": str(a), "concept_id_2": str(b), "relationship_id": relationship}
        for a, b, relationship in RELATIONSHIPS
    ]
    return {"CONCEPT": concepts, "CONCEPT_RELATIONSHIP": links}


def write_export(folder: Path, tables: dict[str, list[Row]]) -> Path:
    """The tables as ``NAME.csv`` files in ``folder``, with the vocabulary."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in {**tables, **vocabulary()}.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=TABLES[name])
            writer.writeheader()
            writer.writerows(rows)
    return folder


Screened = dict[int, tuple[str, tuple[str | None, ...]]]


def reference_screen(trial: critlang.Trial, folder: Path, as_of: datetime.date | None) -> Screened:
    """Each person's verdict and outcomes by the in-memory evaluator, over the records
    critlang's OMOP reader reads from ``folder`` (a person it gives no record for: ``error``)."""
    screened: Screened = {}
    for entry in read_omop(folder, trial.dictionary):
        if not entry.id.isdigit():
            continue
        if entry.record is None:
            screened[int(entry.id)] = ("error", (None,) * len(trial.criteria))
            continue
        result = trial.evaluate(entry.record, as_of=as_of)
        screened[int(entry.id)] = (
            result.verdict.value,
            tuple(item.outcome.value for item in result.criteria),
        )
    return screened


def sql_screen(trial: critlang.Trial, folder: Path, as_of: datetime.date | None) -> Screened:
    """The same by the compiled query, run by DuckDB."""
    from critlang.sql import run_duckdb

    return {row.person_id: (row.verdict, row.outcomes) for row in run_duckdb(trial, folder, as_of)}
