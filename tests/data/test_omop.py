"""The OMOP CDM reader: hand-written exports (tests/fixtures/omop/), the real Synthea export, and
the same records whichever engine reads them (Python's csv, DuckDB's CSV reader, a DuckDB file)."""

from __future__ import annotations

import csv
import datetime
import shutil
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path

import pytest

import critlang
from critlang.data.omop import OmopError, OmopSource, read_omop
from critlang.data.omop_tables import duckdb_available
from critlang.data.record import Record
from critlang.data.sources import Entry, PatientSource
from critlang.units import parse_unit
from tests.conftest import FIXTURES, extract_synthea_omop

VALID = FIXTURES / "omop" / "valid"
BROKEN = FIXTURES / "omop" / "broken"
needs_duckdb = pytest.mark.skipif(not duckdb_available(), reason="duckdb is not installed")


@pytest.fixture(params=["python", "duckdb"])
def engine(request: pytest.FixtureRequest) -> str:
    if request.param == "duckdb" and not duckdb_available():
        pytest.skip("duckdb is not installed (pip install 'critlang[omop]')")
    return str(request.param)


def read(path: Path, engine: str = "python", **options: object) -> tuple[list[Entry], OmopSource]:
    source = read_omop(path, engine=engine, **options)  # type: ignore[arg-type]
    return list(source), source


def by_id(entries: list[Entry]) -> dict[str, Record]:
    return {entry.id: entry.record for entry in entries if entry.record is not None}


# ---- the hand-written export ----------------------------------------------------------------------


def test_valid_export_maps_every_table(engine: str) -> None:
    entries, source = read(VALID, engine)
    typed: PatientSource = source  # the protocol every cohort reader implements
    assert typed.tally is source.tally
    assert [entry.id for entry in entries] == ["1", "2", "3", "4"]
    assert all(entry.error is None for entry in entries)
    records = by_id(entries)
    one = records["1"]
    assert one.birth_date == datetime.date(1961, 3, 2)
    assert one.sex == "male"
    labs = {lab.source: lab for lab in one.labs}
    hemoglobin = labs["labs (measurement 10)"]
    assert (hemoglobin.code, hemoglobin.value, hemoglobin.unit) == (
        "LOINC:718-7",
        Fraction("13.1"),
        "g/dL",
    )
    assert (hemoglobin.low, hemoglobin.high) == (12, 16)
    assert hemoglobin.date == datetime.date(2025, 5, 30)
    assert labs["labs (measurement 11)"].unit == "10*3/uL"
    # unit_concept_id 0 (the source says U/L) and a unit concept that is not UCUM: no unit
    assert labs["labs (measurement 12)"].unit is None
    assert labs["labs (measurement 18)"].unit is None
    # value_as_concept_id, and a verbatim value with its SNOMED CT semantic tag
    assert labs["labs (measurement 13)"].value == "negative"
    assert labs["labs (measurement 21)"].value == "positive"
    # the latest ECOG observation is the fact
    assert one.facts == {"ECOG": 1}
    assert "labs (measurement 20)" not in labs  # no value at all


def test_valid_export_conditions_and_events(engine: str) -> None:
    records = by_id(read(VALID, engine)[0])
    one = records["1"]
    assert one.conditions is not None
    assert one.events is not None
    conditions = {item.source: item for item in one.conditions}
    # SNOMED 93880001 names no dictionary variable; its ICD-10-CM source concept does
    assert conditions["conditions (condition_occurrence 1)"].code == "ICD10CM:C34.90"
    assert conditions["conditions (condition_occurrence 1)"].status == "primary diagnosis"
    # SNOMED 254637007 names more variables than the ICD-10-shaped source value C78.7
    assert conditions["conditions (condition_occurrence 2)"].code == "SNOMED:254637007"
    resolved = conditions["conditions (condition_occurrence 3)"]
    assert (resolved.end, resolved.status) == (datetime.date(2016, 1, 1), "resolved")
    events = {item.source: item for item in one.events}
    # ATC through RxNorm has ing + RxNorm - ATC, and through concept_ancestor
    assert events["events (drug_exposure 1)"].code == "ATC:L01XA01"
    carboplatin = events["events (drug_exposure 2)"]
    assert carboplatin.code == "ATC:L01XA02"
    assert carboplatin.end == datetime.date(2025, 4, 2)  # from verbatim_end_date
    assert events["events (procedure_occurrence 1)"].code == "SNOMED:387713003"
    assert events["events (visit_occurrence 1)"].code == "Visit:IP"
    # closed world: a person with no rows has empty sections, not missing ones
    three = records["3"]
    assert three.conditions == ()
    assert three.events == ()
    assert three.labs == ()
    assert three.birth_date is None
    assert three.problems == ("person: only the year of birth (1990) is known",)
    assert records["4"].birth_date == datetime.date(1980, 1, 31)  # from birth_datetime
    assert records["4"].sex is None


def test_valid_export_other_tables(engine: str) -> None:
    records = by_id(read(VALID, engine)[0])
    two = records["2"]
    assert two.facts == {
        "weight": (Fraction(62), "kg"),
        "deceased": True,
        "death_date": datetime.date(2025, 1, 15),
    }
    codes = {lab.code: lab.value for lab in two.labs}
    assert codes["LOINC:2345-7"] == Fraction("7.1")  # concept 0, LOINC-shaped source value
    assert codes["LOINC:72166-2"] == "never_smoker"  # value_as_string
    assert two.problems == ("measurement 14: the value is > 5, a bound",)
    assert "LOINC:2160-0" not in codes


def test_valid_export_tally(engine: str) -> None:
    _, source = read(VALID, engine)
    tally = source.tally.unmapped
    assert tally["measurement: rows of a person_id not in person"] == 1
    assert tally["measurement: no unit concept (unit_concept_id 0, unit_source_value 'U/L')"] == 1
    assert tally["measurement: unit_concept_id 9000001 is not a UCUM concept in concept"] == 1
    assert tally["measurement: values that are bounds, not results"] == 1
    assert tally["drug_exposure RxNorm:198440"] == 1  # acetaminophen: no dictionary variable
    assert tally["condition_occurrence: condition_concept_id 999999 is not in concept"] == 1
    assert any("also coded ICD10:C78.7" in key for key in tally)


def test_evaluating_an_omop_record() -> None:
    trial = critlang.parse(
        """
inclusion
  I1 "Hb": hemoglobin >= 12 g/dL within 7 days before screening
  I2 "ECOG 0-1": ECOG in 0..1
  I3 "ALT": ALT <= 3 x ULN within 7 days before screening
exclusion
  E1 "Platinum within 6 months": platinum_chemotherapy within 6 months before screening
  E2 "NSCLC": nsclc
"""
    )
    record = by_id(read(VALID)[0])["1"]
    result = trial.evaluate(record, as_of="2025-06-02")
    outcomes = {item.id: item.outcome.value for item in result.criteria}
    assert outcomes == {"I1": "met", "I2": "met", "I3": "unknown", "E1": "met", "E2": "met"}
    assert "no unit" in " ".join(result.criterion("I3").reasons)


def test_sections_unknown_without_their_tables(tmp_path: Path, engine: str) -> None:
    folder = tmp_path / "export"
    shutil.copytree(VALID, folder)
    (folder / "PROCEDURE_OCCURRENCE.csv").unlink()
    (folder / "CONDITION_OCCURRENCE.csv").unlink()
    entries, source = read(folder, engine)
    record = by_id(entries)["1"]
    assert record.events is None
    assert record.conditions is None
    assert "procedure_occurrence: not in the export, so no record has a events section" in (
        source.tally.unmapped
    )


# ---- broken inputs ---------------------------------------------------------------------------


def test_broken_export_never_loses_a_person(engine: str) -> None:
    entries, source = read(BROKEN, engine)
    # one entry per distinct person_id, the unreadable ones first
    assert [entry.id for entry in entries] == [
        "(no person_id)",
        "abc",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
    ]
    errors = {entry.id: entry.error for entry in entries if entry.error}
    assert errors == {
        "(no person_id)": "person_id is empty",
        "abc": "person_id 'abc' is not a whole number",
        "2": "person_id 2 is on 2 rows of person that disagree on birth date or sex",
    }
    records = by_id(entries)
    one = records["1"]
    assert one.problems == (
        "person_id 1 is on 2 rows of person (they agree)",
        "measurement 1: value_as_number 'abc' is not a number",
        "measurement 2: measurement_date '2020-13-01' is not a date",
        "measurement 3: range_high 'high' is not a number",
        "measurement 8: value_as_number 'NaN' is not a number",
        "measurement 9: value_as_number '1e999999' is out of any plausible range",
        "condition_occurrence 1: ends (2020-01-01) before it starts (2020-05-01)",
        "condition_occurrence 2: condition_start_date 'someday' is not a date",
        "death: death_date 'not a date' is not a date",
    )
    assert [lab.source for lab in one.labs] == [
        "labs (measurement 3)",
        "labs (measurement 5)",
        "labs (measurement 11)",
    ]
    assert one.labs[1].unit is None  # unit_concept_id "kg" is not a concept id
    assert one.events is None  # drug_exposure has no drug_concept_id column
    assert one.conditions is not None
    assert one.conditions[0].start is None
    assert one.facts == {"deceased": True}
    assert records["3"].problems == ("person: 1990-2-30 is not a date of birth",)
    assert records["4"].problems == ("person: year_of_birth '19x0' is not a year",)
    assert records["5"].birth_date == datetime.date(1980, 1, 1)  # a short row
    assert records["6"].birth_date == datetime.date(1980, 1, 1)  # a long row
    tally = source.tally.unmapped
    assert tally["measurement: rows of a person_id not in person"] == 1
    assert tally["measurement: rows whose person_id is not a number"] == 1
    assert tally["death: rows of a person_id not in person"] == 1
    assert tally["person: a person_id on rows that disagree"] == 1
    assert tally["drug_exposure: no person_id or drug_concept_id column, so the table is not read"]


def test_unreadable_bytes_and_nul(tmp_path: Path, engine: str) -> None:
    folder = tmp_path / "export"
    shutil.copytree(VALID, folder)
    path = folder / "measurement.csv"
    data = (
        path.read_bytes().replace(b"13.1,0,8713", b"1\xff3.1,0,8713").replace(b"250,", b"2\x0050,")
    )
    path.write_bytes(data)
    entries, _ = read(folder, engine)
    assert len(entries) == 4
    assert all(entry.record is not None for entry in entries)
    labs = {lab.source: lab for lab in by_id(entries)["1"].labs}
    assert "labs (measurement 10)" not in labs  # "1\ufffd3.1" is not a number
    assert labs["labs (measurement 11)"].value == 250  # the NUL is dropped


def test_opening_errors(tmp_path: Path) -> None:
    with pytest.raises(OmopError, match="no such folder"):
        read_omop(tmp_path / "missing")
    with pytest.raises(OmopError, match=r"no person\.csv"):
        read_omop(tmp_path)
    with pytest.raises(OmopError, match="engine"):
        read_omop(VALID, engine="spark")  # type: ignore[arg-type]
    (tmp_path / "cdm.duckdb").write_text("not a database")
    with pytest.raises(OmopError):
        read_omop(tmp_path / "cdm.duckdb", engine="python")


def test_sorting_on_disk_gives_the_same_records(tmp_path: Path) -> None:
    """Unsorted tables sorted in runs of two rows and merged: the same as sorted in memory."""
    in_memory = [entry.record for entry in read(VALID)[0]]
    on_disk = [entry.record for entry in read(VALID, chunk_rows=2)[0]]
    assert on_disk == in_memory


def test_synthea_sorted_on_disk(synthea: Path, synthea_entries: list[Entry]) -> None:
    """CONDITION_OCCURRENCE.csv is not sorted by person_id: in runs of five rows it takes two
    rounds of merging, and gives the same records."""
    entries, _ = read(synthea, "python", chunk_rows=5)
    assert [entry.record for entry in entries] == [entry.record for entry in synthea_entries]


def test_reading_twice_starts_the_tally_again() -> None:
    source = read_omop(VALID, engine="python")
    first = list(source)
    counts = Counter(source.tally.unmapped)
    assert [entry.record for entry in source] == [entry.record for entry in first]
    assert source.tally.unmapped == counts


# ---- the real export: 28 Synthea persons -------------------------------------------------------


@pytest.fixture(scope="session")
def synthea(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_synthea_omop(tmp_path_factory.mktemp("synthea27nj"))


@pytest.fixture(scope="session")
def synthea_entries(synthea: Path) -> list[Entry]:
    return read(synthea, "python")[0]


def _rows(folder: Path, table: str) -> list[dict[str, str]]:
    with (folder / f"{table}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_synthea_every_person_read(synthea: Path, synthea_entries: list[Entry]) -> None:
    people = _rows(synthea, "PERSON")
    assert len(synthea_entries) == len(people) == 28
    assert all(entry.record is not None and entry.error is None for entry in synthea_entries)
    assert sorted(entry.id for entry in synthea_entries) == sorted(
        row["person_id"] for row in people
    )
    dead = {row["person_id"] for row in _rows(synthea, "DEATH")}
    for entry in synthea_entries:
        assert entry.record is not None
        assert entry.record.birth_date is not None
        assert entry.record.sex in {"male", "female"}
        assert entry.record.conditions is not None
        assert entry.record.events is not None
        assert (entry.record.facts.get("deceased") is True) == (entry.id in dead)


def test_synthea_values_and_units_match_the_csv(
    synthea: Path, synthea_entries: list[Entry]
) -> None:
    """An independent reading of MEASUREMENT.csv: every number with a UCUM unit concept is in its
    person's labs with the same value and unit, and the conditions are all there."""
    concepts = {row["concept_id"]: row for row in _rows(synthea, "CONCEPT")}
    expected: dict[str, tuple[str, Fraction, str, str]] = {}
    for row in _rows(synthea, "MEASUREMENT"):
        unit = concepts.get(row["unit_concept_id"])
        if row["value_as_number"] and unit is not None and unit["vocabulary_id"] == "UCUM":
            concept = concepts[row["measurement_concept_id"]]
            expected[f"labs (measurement {row['measurement_id']})"] = (
                row["person_id"],
                Fraction(row["value_as_number"]),
                parse_unit(unit["concept_code"]).code,  # canonical: pH is [pH]
                f"{concept['vocabulary_id']}:{concept['concept_code']}",
            )
    assert len(expected) > 8000
    found: dict[str, tuple[str, Fraction, str, str]] = {}
    for entry in synthea_entries:
        assert entry.record is not None
        for lab in entry.record.labs:
            if lab.unit is not None:
                assert isinstance(lab.value, Fraction)
                assert lab.code is not None
                found[lab.source] = (entry.id, lab.value, lab.unit, lab.code)
    assert found == expected
    conditions: defaultdict[str, int] = defaultdict(int)
    for row in _rows(synthea, "CONDITION_OCCURRENCE"):
        conditions[row["person_id"]] += 1
    for entry in synthea_entries:
        assert entry.record is not None
        assert entry.record.conditions is not None
        assert len(entry.record.conditions) == conditions[entry.id]


def test_synthea_tally(synthea: Path) -> None:
    _, source = read(synthea, "python")
    tally = source.tally.unmapped
    # the export's vocabulary shard has no ATC concepts: drugs stay RxNorm, and it says so
    assert any(
        key.startswith("drug_exposure: the export gives no drug an ATC class") for key in tally
    )
    assert tally["measurement: no unit concept (unit_concept_id 0, unit_source_value 'U/L')"] > 0
    assert not any("not a number" in key or "unreadable" in key for key in tally)


@needs_duckdb
def test_synthea_duckdb_csv_reader_gives_the_same_records(
    synthea: Path, synthea_entries: list[Entry]
) -> None:
    entries, _ = read(synthea, "duckdb")
    assert [entry.id for entry in entries] == [entry.id for entry in synthea_entries]
    assert [entry.record for entry in entries] == [entry.record for entry in synthea_entries]


def build_database(folder: Path, database: Path, schema: str = "main") -> None:
    """A DuckDB database of typed tables (DuckDB's own type detection), as a user would load one."""
    import duckdb

    with duckdb.connect(str(database)) as connection:
        if schema != "main":
            connection.execute(f"CREATE SCHEMA {schema}")
        for path in folder.glob("*.csv"):
            connection.execute(
                f'CREATE TABLE "{database.stem}".{schema}."{path.stem}" AS '
                "SELECT * FROM read_csv(?, header = true)",
                [str(path)],
            )


@needs_duckdb
def test_synthea_duckdb_database_gives_the_same_records(
    synthea: Path, synthea_entries: list[Entry], tmp_path: Path
) -> None:
    database = tmp_path / "synthea.duckdb"
    build_database(synthea, database)
    entries, source = read(database, "auto")
    assert source.engine == "duckdb"
    assert [entry.id for entry in entries] == [entry.id for entry in synthea_entries]
    assert [entry.record for entry in entries] == [entry.record for entry in synthea_entries]


@needs_duckdb
def test_duckdb_database_in_a_schema(tmp_path: Path) -> None:
    database = tmp_path / "cdm.duckdb"
    build_database(VALID, database, schema="cdm")
    entries, _ = read(database, "auto")
    assert [entry.record for entry in entries] == [entry.record for entry in read(VALID)[0]]
    with pytest.raises(OmopError, match="no person table"):
        read_omop(database, schema="other")


@needs_duckdb
def test_duckdb_refusing_a_csv_file_falls_back_to_python(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(VALID, folder)
    path = folder / "measurement.csv"
    # DuckDB's reader refuses a file that is not UTF-8; Python's reads it with U+FFFD
    path.write_bytes(path.read_bytes().replace(b"13.1,0,8713", b"1\xff3.1,0,8713"))
    entries, source = read(folder, "duckdb")
    assert [entry.record for entry in entries] == [entry.record for entry in read(folder)[0]]
    assert any(key.startswith("DuckDB could not read") for key in source.tally.unmapped)
