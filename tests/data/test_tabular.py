"""The native cohort readers (JSON, JSON Lines, a folder of JSON files, CSV) and the dispatcher:
one entry per input patient, whatever is wrong with it, read one at a time."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from critlang.data import DataFormatError, detect_format, open_patients, tabular
from critlang.data.sources import Entry
from critlang.data.tabular import (
    CsvSource,
    JsonFolderSource,
    JsonLinesSource,
    JsonSource,
    split_header,
)
from critlang.semantics.dictionary import standard

SCREENING = {"screening": "2025-06-02"}


def record(
    identifier: str, anc: object = 1.8, unit: str = "10*9/L", **more: object
) -> dict[str, object]:
    return {
        "id": identifier,
        "birth_date": "1960-01-01",
        "anchors": SCREENING,
        "labs": [{"name": "ANC", "value": anc, "unit": unit, "date": "2025-05-30"}],
        **more,
    }


def by_id(entries: list[Entry]) -> dict[str, Entry]:
    return {entry.id: entry for entry in entries}


# ---- JSON Lines -----------------------------------------------------------------------------------


def test_jsonl_one_entry_per_line_whatever_is_wrong(tmp_path: Path) -> None:
    lines = [
        json.dumps(record("P1")),
        json.dumps(record("P2", unit="furlongs")),  # unknown unit: a problem, the lab left out
        "",  # blank: not a patient
        '{"id": "P3", "birth_date": "1960-01-01", "labs": [{"name": "ANC", "val',  # truncated
        json.dumps(record("P1")),  # duplicate id
        json.dumps({"id": "P4", "birth_date": "1960-13-45", "labs": []}),  # impossible date
        json.dumps(["not", "a", "record"]),
        json.dumps({"id": "P5", "labs": {"not": "a list"}}),  # wrong structure: RecordError
        json.dumps(record("P6", anc=1.1) | {"anchors": {}}),  # no dates to anchor on: fine here
    ]
    path = tmp_path / "cohort.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    entries = list(JsonLinesSource(path))
    assert len(entries) == 8
    assert [entry.id for entry in entries] == [
        "P1", "P2", "P3", "P1", "P4", "cohort.jsonl:7", "P5", "P6"
    ]  # fmt: skip
    first, unit, truncated, duplicate, bad_date, array, structure, last = entries
    assert first.record is not None
    assert first.error is None
    assert first.where == "cohort.jsonl:1"
    assert unit.record is not None
    assert unit.record.labs == ()
    assert any("furlongs" in problem for problem in unit.record.problems)
    assert truncated.record is None
    assert truncated.error is not None
    assert truncated.error.startswith("line 4: not valid JSON")
    assert duplicate.record is None
    assert "duplicate id 'P1'" in (duplicate.error or "")
    assert "cohort.jsonl:1" in (duplicate.error or "")
    assert bad_date.record is not None
    assert bad_date.record.birth_date is None
    assert any("birth_date" in problem for problem in bad_date.record.problems)
    assert array.record is None
    assert "expected one record" in (array.error or "")
    assert structure.record is None
    assert "`labs` must be a list" in (structure.error or "")
    assert last.record is not None


def test_jsonl_tallies_units_and_names_the_dictionary_lacks(tmp_path: Path) -> None:
    path = tmp_path / "cohort.jsonl"
    rows = [
        record("P1", unit="furlongs"),
        record("P2") | {"events": [{"name": "moon_landing", "start": "2025-01-01"}]},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    source = JsonLinesSource(path, standard())
    assert len(list(source)) == 2
    assert source.tally.unmapped["unit furlongs"] == 1
    assert source.tally.unmapped["event moon_landing (not in the dictionary)"] == 1


def test_jsonl_bytes_that_are_not_utf8_are_one_error(tmp_path: Path) -> None:
    path = tmp_path / "cohort.jsonl"
    path.write_bytes(
        json.dumps(record("P1")).encode() + b"\n" + b'{"id": "P2\xff"}\n' + b'{"id": "P3"}\n'
    )
    entries = list(JsonLinesSource(path))
    assert [entry.error is None for entry in entries] == [True, False, True]
    assert "not UTF-8" in (entries[1].error or "")


# ---- JSON and folders ----------------------------------------------------------------------------


def test_json_list_is_read_one_record_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular, "_CHUNK", 7)  # records straddle many reads
    path = tmp_path / "cohort.json"
    records = [record(f"P{number}", anc=number / 10) for number in range(30)]
    path.write_text(json.dumps(records, indent=1), encoding="utf-8")
    entries = list(JsonSource(path))
    assert [entry.id for entry in entries] == [f"P{number}" for number in range(30)]
    assert all(entry.record is not None for entry in entries)
    assert entries[3].where == "cohort.json[3]"


def test_truncated_json_list_keeps_what_was_read_and_says_the_rest_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "cohort.json"
    text = json.dumps([record("P1"), record("P2"), record("P3")])
    path.write_text(text[: text.index('"P3"') + 10], encoding="utf-8")
    entries = list(JsonSource(path))
    assert [entry.id for entry in entries[:2]] == ["P1", "P2"]
    assert len(entries) == 3
    assert entries[2].record is None
    assert "from record 2" in (entries[2].error or "")


def test_json_single_record_and_empty_list(tmp_path: Path) -> None:
    single = tmp_path / "one.json"
    single.write_text(json.dumps(record("P1")), encoding="utf-8")
    assert [entry.id for entry in JsonSource(single)] == ["P1"]
    empty = tmp_path / "none.json"
    empty.write_text("[ ]", encoding="utf-8")
    assert list(JsonSource(empty)) == []


def test_json_folder_one_entry_per_file_named_by_stem_without_id(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text(json.dumps(record("P2")), encoding="utf-8")
    anonymous = record("x")
    del anonymous["id"]
    (tmp_path / "a.json").write_text(json.dumps(anonymous), encoding="utf-8")
    (tmp_path / "c.json").write_text('{"id": "P3", "labs": [', encoding="utf-8")
    (tmp_path / "d.json").write_text(json.dumps([record("P4"), record("P5")]), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a record", encoding="utf-8")
    entries = list(JsonFolderSource(tmp_path))
    assert [entry.id for entry in entries] == ["a", "P2", "P3", "P4", "P5"]
    assert entries[2].record is None
    assert "not valid JSON" in (entries[2].error or "")
    assert entries[3].where == "d.json[0]"


# ---- CSV -----------------------------------------------------------------------------------------

CSV_HEADER = (
    "id,birth_date,sex,screening,ANC [10*9/L],ANC_date,hemoglobin,hemoglobin_unit,"
    "ALT [U/L],ALT_high,ECOG,childbearing_potential,live_vaccine,liver_metastases,weight [kg]"
)


def write_csv(tmp_path: Path, *rows: str, header: str = CSV_HEADER) -> Path:
    path = tmp_path / "cohort.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_csv_columns_by_variable_with_units_dates_and_limits(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "P1,1960-01-01,female,2025-06-02,1.8,2025-05-30,9.5,g/dL,130,40,1,no,,2025-01-10,62",
        "P2,1970-05-05,male,2025-06-02,0.9 10*9/L,2025-05-30,95,g/L,30,40,2,yes,2025-05-20,no,",
    )
    entries = list(CsvSource(path, standard()))
    assert [entry.id for entry in entries] == ["P1", "P2"]
    first = entries[0].record
    assert first is not None
    assert first.problems == ()
    assert first.sex == "female"
    assert str(first.birth_date) == "1960-01-01"
    assert str(first.anchors["screening"]) == "2025-06-02"
    anc, hemoglobin, alt = first.labs
    assert (anc.name, anc.value, anc.unit) == ("ANC", Fraction("1.8"), "10*9/L")
    assert str(anc.date) == "2025-05-30"
    assert (hemoglobin.value, hemoglobin.unit, hemoglobin.date) == (Fraction("9.5"), "g/dL", None)
    assert (alt.value, alt.high) == (130, 40)
    assert first.facts["ECOG"] == 1
    assert first.facts["childbearing_potential"] is False
    assert first.facts["weight"] == (62, "kg")
    assert first.events == ()  # the file has an event column: empty is "none"
    assert first.conditions is not None
    assert first.conditions[0].name == "liver_metastases"
    second = entries[1].record
    assert second is not None
    assert second.events is not None
    assert str(second.events[0].start) == "2025-05-20"
    assert second.conditions == ()


def test_csv_bad_rows_are_entries_with_errors_or_problems(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "P1,1960-01-01,female,2025-06-02,1.8,2025-05-30,9.5,g/dL,30,40,1,no,,,",
        "P2,1960-01-01,female,2025-06-02,1.8,2025-05-30",  # too few cells
        "P3,1960-02-30,female,2025-06-02,1.8,2025-13-01,9.5,furlongs,30,40,1,no,,,",
        "P1,1960-01-01,female,2025-06-02,1.8,2025-05-30,9.5,g/dL,30,40,1,no,,,",  # duplicate
        ",,,,,,,,,,,,,,",  # an empty row: not a patient
        ",1960-01-01,female,,,,,,,,,,unknown,,",  # no id; the vaccine history not known
    )
    entries = list(CsvSource(path, standard()))
    assert [entry.id for entry in entries] == ["P1", "P2", "P3", "P1", "cohort.csv:7"]
    short = entries[1]
    assert short.record is None
    assert "6 cells, the header has 15" in (short.error or "")
    problems = entries[2].record.problems if entries[2].record else ()
    assert any("birth_date" in problem for problem in problems)
    assert any("furlongs" in problem for problem in problems)
    assert any("labs[0].date" in problem for problem in problems)  # the ANC left out
    assert entries[3].record is None
    assert "duplicate id" in (entries[3].error or "")
    unknown = entries[4].record
    assert unknown is not None
    assert unknown.events is None
    assert any("live_vaccine: not known" in problem for problem in unknown.problems)


def test_csv_list_columns_code_headers_and_unknown_columns(tmp_path: Path) -> None:
    header = "id,screening,LOINC:751-8 [10*9/L],conditions,events,favourite_colour"
    path = write_csv(
        tmp_path,
        "P1,2025-06-02,2.1,ICD10:C34.1@2024-01-10 active; liver_metastases@2025-01-10,none,blue",
        "P2,2025-06-02,,,chemotherapy@2025-03-01..2025-04-20,",
        header=header,
    )
    source = CsvSource(path, standard())
    first, second = list(source)
    assert first.record is not None
    assert second.record is not None
    assert first.record.labs[0].code == "LOINC:751-8"
    conditions = first.record.conditions or ()
    assert [(item.code, item.name, item.status) for item in conditions] == [
        ("ICD10:C34.1", None, "active"),
        (None, "liver_metastases", None),
    ]
    assert first.record.events == ()
    assert first.record.facts["favourite_colour"] == "blue"
    assert second.record.conditions == ()  # an empty list cell: none
    (chemotherapy,) = second.record.events or ()
    assert (str(chemotherapy.start), str(chemotherapy.end)) == ("2025-03-01", "2025-04-20")
    assert source.tally.unmapped["column favourite_colour (not in the dictionary; read as a fact)"]


def test_csv_without_occurrence_columns_leaves_the_sections_unknown(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "P1,2025-06-02,1.8", header="id,screening,ANC [10*9/L]")
    (entry,) = list(CsvSource(path))
    assert entry.record is not None
    assert entry.record.events is None
    assert entry.record.conditions is None


def test_csv_header_unit_that_cannot_be_read_is_a_problem_per_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "P1,1.8", "P2,2.0", header="id,ANC [bananas/L]")
    source = CsvSource(path, standard())
    entries = list(source)
    assert all(entry.record is not None and entry.record.labs == () for entry in entries)
    assert source.tally.unmapped["unit bananas/L"] == 2


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ANC [10*9/L]", ("ANC", "10*9/L")),
        ("SBP [mm[Hg]]", ("SBP", "mm[Hg]")),
        ("ALT [[IU]/L]", ("ALT", "[IU]/L")),
        ("ECOG", ("ECOG", None)),
        ("[odd]", ("[odd]", None)),
    ],
)
def test_split_header(header: str, expected: tuple[str, str | None]) -> None:
    assert split_header(header) == expected


# ---- choosing the reader -------------------------------------------------------------------------


def test_detect_format_by_extension_and_content(tmp_path: Path) -> None:
    native = tmp_path / "one.json"
    native.write_text(json.dumps(record("P1")), encoding="utf-8")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "entry": []}), encoding="utf-8")
    lines = tmp_path / "cohort.jsonl"
    lines.write_text(json.dumps(record("P1")) + "\n", encoding="utf-8")
    bulk = tmp_path / "Patient.ndjson"
    bulk.write_text(json.dumps({"resourceType": "Patient", "id": "a"}) + "\n", encoding="utf-8")
    table = tmp_path / "cohort.csv"
    table.write_text("id\nP1\n", encoding="utf-8")
    assert detect_format(native) == "native"
    assert detect_format(bundle) == "fhir"
    assert detect_format(lines) == "jsonl"
    assert detect_format(bulk) == "fhir"
    assert detect_format(table) == "csv"
    database = tmp_path / "cdm.duckdb"
    database.write_bytes(b"")
    assert detect_format(database) == "omop"
    omop = tmp_path / "omop"
    omop.mkdir()
    (omop / "PERSON.csv").write_text("person_id\n1\n", encoding="utf-8")
    assert detect_format(omop) == "omop"
    natives = tmp_path / "natives"
    natives.mkdir()
    (natives / "p1.json").write_text(json.dumps(record("P1")), encoding="utf-8")
    assert detect_format(natives) == "native"
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    (bundles / "b.json").write_text(bundle.read_text(encoding="utf-8"), encoding="utf-8")
    assert detect_format(bundles) == "fhir"


def test_open_patients_native_readers(tmp_path: Path) -> None:
    lines = tmp_path / "cohort.ndjson"
    lines.write_text(json.dumps(record("P1")) + "\n", encoding="utf-8")
    assert isinstance(open_patients(lines), JsonLinesSource)
    assert isinstance(open_patients(lines, "native"), JsonLinesSource)
    assert isinstance(open_patients(tmp_path, "native"), JsonFolderSource)
    table = tmp_path / "cohort.csv"
    table.write_text("id\nP1\n", encoding="utf-8")
    assert isinstance(open_patients(table), CsvSource)
    with pytest.raises(DataFormatError, match="no such file"):
        open_patients(tmp_path / "missing.json")
    with pytest.raises(DataFormatError, match="unknown format"):
        open_patients(table, "xml")
    odd = tmp_path / "cohort.txt"
    odd.write_text("id\nP1\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="give --format"):
        open_patients(odd)


def test_open_patients_dispatches_to_fhir_and_omop(tmp_path: Path) -> None:
    pytest.importorskip("critlang.data.fhir")
    pytest.importorskip("critlang.data.omop")
    bundle = tmp_path / "bundle.json"
    patient = {"resourceType": "Patient", "id": "F1", "birthDate": "1960-01-01"}
    bundle.write_text(
        json.dumps(
            {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient}]}
        ),
        encoding="utf-8",
    )
    fhir = open_patients(bundle)
    assert type(fhir).__name__ == "FhirSource"
    assert [entry.id for entry in fhir] == ["F1"]
    omop = tmp_path / "omop"
    omop.mkdir()
    (omop / "person.csv").write_text(
        "person_id,gender_concept_id,year_of_birth,month_of_birth,day_of_birth,birth_datetime\n"
        "7,8532,1960,1,1,\n",
        encoding="utf-8",
    )
    source = open_patients(omop)
    assert type(source).__name__ == "OmopSource"
    assert [entry.id for entry in source] == ["7"]
