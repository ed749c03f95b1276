"""The FHIR R4 reader on small fixtures: what it maps, what it counts, and that broken input only
ever gives entries (tests/fixtures/fhir/README.md describes the fixtures)."""

from __future__ import annotations

import copy
import datetime
import functools
import gc
import json
import pickle
import random
import tempfile
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import critlang
from critlang.data.fhir import fhir_files, read_bundle, read_fhir
from critlang.data.record import read_record
from critlang.data.sources import Entry, Tally
from critlang.semantics.dictionary import standard
from critlang.units import parse_unit
from tests.conftest import FIXTURES

FHIR = FIXTURES / "fhir"
VALID = FHIR / "valid.json"
SCREENING = datetime.date(2025, 6, 2)

TRIAL = """
trial FHIR-TEST "criteria over the FHIR fixture"
inclusion
  I1 "Adult":             age >= 18 years
  I2 "Hemoglobin":        hemoglobin >= 12 g/dL
  I3 "WBC":               WBC >= 4 x10^9/L
  I4 "ECOG 0-1":          ECOG in 0..1
  I5 "NSCLC":             lung_cancer
  I6 "Weight":            weight >= 40 kg
exclusion
  E1 "Live vaccine":      live_vaccine within 4 weeks before screening
  E2 "Recent MI":         myocardial_infarction within 6 months before screening
  E3 "ALT above ULN":     ALT > 1 x ULN
  E4 "Stroke":            stroke
  E5 "HBsAg positive":    HBsAg = positive
"""


def only_record(path: Path = VALID, **options: Any) -> critlang.data.record.Record:
    [entry] = list(read_fhir(path, **options))
    assert entry.error is None, entry.error
    assert entry.record is not None
    return entry.record


def labs_by_source(record: critlang.data.record.Record) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for lab in record.labs:
        found.setdefault(lab.source, []).append(lab)
    return found


# ---- mapping --------------------------------------------------------------------------------------


def test_patient_fields() -> None:
    record = only_record()
    assert (record.id, record.sex, record.birth_date) == ("p1", "female", datetime.date(1961, 3, 2))
    assert record.age is None
    assert record.anchors == {}
    assert record.problems == ()


def test_every_observation_value_kind() -> None:
    labs = labs_by_source(only_record())
    [hemoglobin] = labs["Observation/hgb"]
    assert (hemoglobin.code, hemoglobin.value, hemoglobin.unit) == (
        "LOINC:718-7",
        Fraction(25, 2),
        "g/dL",
    )
    # the date of the effectiveDateTime as written (08:00 at +02:00 is still 30 May)
    assert hemoglobin.date == datetime.date(2025, 5, 30)
    assert hemoglobin.name is None
    [answer] = labs["Observation/hbsag"]
    assert answer.value == "negative"  # SNOMED 260385009, not its display text
    [smoking] = labs["Observation/smoking"]
    assert smoking.value == "never_smoker"  # the concept's text, as a symbol
    [ecog] = labs["Observation/ecog"]
    assert (ecog.value, ecog.unit) == (Fraction(1), None)
    # an effectivePeriod: its start
    [creatinine] = labs["Observation/creat"]
    assert creatinine.date == datetime.date(2025, 5, 29)


@pytest.mark.parametrize(
    ("source", "unit"),
    [
        ("Observation/wbc", "10*3/uL"),
        ("Observation/rbc", "10*6/uL"),
        ("Observation/phq9", "{score}"),
    ],
)
def test_clinical_unit_spellings_read_through_the_units_engine(source: str, unit: str) -> None:
    # K/uL, M/uL and (score) come as text; critlang.units reads them as these UCUM codes.
    [lab] = labs_by_source(only_record())[source]
    assert lab.unit == unit
    assert parse_unit(lab.unit).code == unit


def test_components_are_results_of_their_own_with_the_panels_date() -> None:
    by_code = {lab.code: lab for lab in labs_by_source(only_record())["Observation/bp"]}
    assert set(by_code) == {"LOINC:8480-6", "LOINC:8462-4"}  # the panel itself has no value
    assert (by_code["LOINC:8480-6"].value, by_code["LOINC:8480-6"].unit) == (120, "mm[Hg]")
    assert by_code["LOINC:8462-4"].date == datetime.date(2025, 5, 30)


def test_reference_ranges_in_the_results_unit() -> None:
    labs = labs_by_source(only_record())
    [hemoglobin] = labs["Observation/hgb"]
    assert (hemoglobin.low, hemoglobin.high) == (12, 16)
    # the platelet range is in 10*9/L, the value in 10*3/uL: the same amount, converted exactly
    [platelets] = labs["Observation/plt"]
    assert (platelets.unit, platelets.low, platelets.high) == ("10*3/uL", 150, 400)
    # a `treatment` range (high 100) is not the normal range; the untyped one (high 40) is
    [alt] = labs["Observation/alt"]
    assert (alt.low, alt.high) == (None, 40)
    # a range in the spelling K/uL's UCUM code
    [wbc] = labs["Observation/wbc"]
    assert (wbc.low, wbc.high) == (4, 11)


def test_limits_in_no_unit_or_another_kind_are_counted_not_used() -> None:
    source = read_fhir(FHIR / "broken" / "bad_units.json")
    [entry] = list(source)
    assert entry.record is not None
    [wbc] = entry.record.labs
    assert (wbc.low, wbc.high) == (None, None)
    unmapped = source.tally.unmapped
    assert unmapped["referenceRange limit in no unit or another unit than its result"] == 1
    assert unmapped["referenceRange limit in a unit that does not convert to its result's"] == 1


def test_conditions_and_events() -> None:
    record = only_record()
    assert record.conditions is not None
    assert record.events is not None
    conditions = {item.source: item for item in record.conditions}
    # the refuted stroke is not a condition the patient has
    assert set(conditions) == {"conditions: Condition/nsclc", "conditions: Condition/mi"}
    infarction = conditions["conditions: Condition/mi"]
    assert (infarction.code, infarction.start, infarction.end, infarction.status) == (
        "SNOMED:22298006",
        datetime.date(2020, 2, 1),
        datetime.date(2020, 3, 1),
        "resolved",
    )
    events = {item.source: item for item in record.events}
    assert {source: (item.code, item.start, item.end) for source, item in events.items()} == {
        # without a dictionary: the first coding in a known system
        "MedicationRequest/carboplatin": (
            "RXNORM:40048",
            datetime.date(2025, 3, 1),
            datetime.date(2025, 4, 20),
        ),
        # a contained Medication, and one elsewhere in the bundle
        "MedicationStatement/paclitaxel": (
            "ATC:L01CD01",
            datetime.date(2025, 3, 1),
            datetime.date(2025, 4, 20),
        ),
        "MedicationAdministration/nivolumab": ("ATC:L01FF01", datetime.date(2025, 4, 25), None),
        "Procedure/lobectomy": (
            "SNOMED:387713003",
            datetime.date(2024, 2, 1),
            datetime.date(2024, 2, 1),
        ),
        "Immunization/mmr": ("CVX:03", datetime.date(2025, 5, 1), None),
    }


def test_without_a_dictionary_the_first_known_coding_and_every_lab() -> None:
    source = read_fhir(VALID)
    [entry] = list(source)
    assert entry.record is not None
    nsclc = next(c for c in entry.record.conditions or () if c.source.endswith("nsclc"))
    assert nsclc.code == "ICD10:C34.1"
    # the creatinine's first coding is a local one: its LOINC coding is used, the system counted
    [creatinine] = labs_by_source(entry.record)["Observation/creat"]
    assert creatinine.code == "LOINC:2160-0"
    assert source.tally.unmapped["Observation code system http://acme.example/labs"] == 1
    # weight and ECOG stay results: which codes are facts is the dictionary's to say
    assert entry.record.facts == {}
    assert "Observation/weight" in labs_by_source(entry.record)


def test_a_dictionary_chooses_the_coding_and_reads_facts() -> None:
    dictionary = standard()
    source = read_fhir(VALID, dictionary)
    [entry] = list(source)
    record = entry.record
    assert record is not None
    carboplatin = next(e for e in record.events or () if e.source.endswith("carboplatin"))
    assert carboplatin.code == "ATC:L01XA02"  # RxNorm 40048 is in no dictionary variable
    nsclc = next(c for c in record.conditions or () if c.source.endswith("nsclc"))
    # of the ICD-10 and SNOMED codings, the one that stands for the most variables
    chosen = {v.name for v in dictionary.by_code(nsclc.code)}
    other = "ICD10:C34.1" if nsclc.code.startswith("SNOMED") else "SNOMED:254637007"
    assert {v.name for v in dictionary.by_code(other)} <= chosen
    assert "lung_cancer" in chosen
    # facts: the latest weight (62 kg on 2025-05-30, not 70 kg in 2024) and ECOG
    assert record.facts["weight"] == (Fraction(62), "kg")
    assert record.facts["ECOG"] == Fraction(1)
    # and they stay results too, as the OMOP reader keeps them
    assert sum(lab.code == "LOINC:29463-7" for lab in record.labs) == 2
    # a code no variable has is still in the record, and counted
    assert any(lab.code == "LOINC:789-8" for lab in record.labs)
    assert source.tally.unmapped["Observation LOINC:789-8"] == 1
    assert source.tally.unmapped["resource Encounter"] == 1
    assert source.tally.unmapped["Condition verificationStatus refuted"] == 1


def test_the_record_evaluates_as_a_clinician_reads_the_bundle() -> None:
    trial = critlang.parse(TRIAL, "fhir.crit")
    [entry] = list(read_fhir(VALID, trial.dictionary))
    assert entry.record is not None
    result = trial.evaluate(entry.record, as_of=SCREENING)
    outcomes = {criterion.id: criterion.outcome.value for criterion in result.criteria}
    assert outcomes == {
        "I1": "met",
        "I2": "met",
        "I3": "met",  # 5.2 K/uL is 5.2 x10^9/L
        "I4": "met",
        "I5": "met",
        "I6": "met",
        "E1": "not_met",  # MMR on 2025-05-01 is more than 4 weeks before 2025-06-02
        "E2": "not_met",
        "E3": "met",  # ALT 41 U/L, ULN 40 U/L from the result's reference range
        "E4": "not_met",  # closed world: the bundle has conditions, and no stroke
        "E5": "not_met",
    }
    assert result.verdict.value == "ineligible"


def test_deceased_is_a_fact() -> None:
    entries = {entry.id: entry for entry in read_fhir(FHIR / "ndjson")}
    record = entries["n2"].record
    assert record is not None
    assert record.facts["deceased"] is False
    text = json.dumps(
        {
            "resourceType": "Patient",
            "id": "d",
            "deceasedDateTime": "2020-05-01T10:00:00Z",
        }
    )
    [entry] = read_bundle(text)
    assert entry.record is not None
    assert entry.record.facts == {"deceased": True, "death_date": datetime.date(2020, 5, 1)}


# ---- closed world ---------------------------------------------------------------------------------


def test_sections_present_in_the_input_are_closed_world() -> None:
    source = read_fhir(VALID)
    assert source.sections == {"conditions", "events"}
    record = only_record()
    assert record.conditions is not None
    assert record.events is not None


def test_an_input_without_immunizations_does_not_provide_events() -> None:
    source = read_fhir(FHIR / "broken")
    entries = {entry.id: entry for entry in source}
    assert source.sections == {"conditions"}
    record = entries["undated"].record
    assert record is not None
    assert record.events is None  # "no live vaccine" would otherwise read as false
    assert record.conditions is not None
    assert source.tally.unmapped["section events not provided: no Immunization in the input"] == 1
    # the procedure it had is counted, not silently dropped
    assert source.tally.unmapped["events not used: the input does not provide the section"] == 1


@pytest.mark.parametrize(
    ("option", "conditions", "events"),
    [("all", True, True), ("none", False, False), (["conditions"], True, False)],
)
def test_sections_can_be_given(option: Any, conditions: bool, events: bool) -> None:
    record = only_record(sections=option)
    assert (record.conditions is not None, record.events is not None) == (conditions, events)


def test_an_open_section_makes_absence_unknown() -> None:
    trial = critlang.parse(TRIAL, "fhir.crit")
    record = only_record(dictionary=trial.dictionary, sections="none")
    result = trial.evaluate(record, as_of=SCREENING)
    stroke = next(c for c in result.criteria if c.id == "E4")
    assert stroke.outcome.value == "unknown"
    assert "no conditions section" in stroke.reasons[0]


def test_an_unknown_section_option_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown section"):
        read_fhir(VALID, sections=["labs"])


# ---- broken input ---------------------------------------------------------------------------------

# file -> the entries it gives: (id, the error's start, or None for a record)
BROKEN = {
    "truncated.json": [("truncated.json", "not valid JSON")],
    "not_json.json": [("not_json.json", "not valid JSON")],
    "empty.json": [("empty.json", "not valid JSON")],
    "array.json": [("array.json", "not a FHIR resource")],
    "no_patient.json": [("ghost", "no Patient resource for Patient/ghost")],
    "duplicate_ids.json": [("twin", "2 Patients"), ("twin", "2 Patients")],
    "patient_without_id.json": [("urn:uuid:0", "the Patient has no id")],
    "missing_dates.json": [("undated", None)],
    "bad_units.json": [("units", None)],
    "wrong_types.json": [("types", None)],
    "repeat_a.json": [("again", None)],
    "repeat_b.json": [("again", None)],  # alone it reads; after repeat_a.json it is a duplicate
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_broken_file_gives_its_entries(name: str) -> None:
    entries = list(read_fhir(FHIR / "broken" / name))
    got = [(entry.id, entry.error) for entry in entries]
    assert len(got) == len(BROKEN[name]), got
    for (identifier, error), (expected_id, expected_error) in zip(got, BROKEN[name], strict=True):
        assert identifier == expected_id
        if expected_error is None:
            assert error is None
        else:
            assert error is not None
            assert error.startswith(expected_error), error
    for entry in entries:
        assert (entry.record is None) == (entry.error is not None)
        assert entry.where


def test_the_broken_folder_gives_one_entry_per_input_patient() -> None:
    entries = list(read_fhir(FHIR / "broken"))
    # 12 files; duplicate_ids.json holds two patients; unreadable files count once each
    assert len(entries) == 13
    repeated = [entry for entry in entries if entry.id == "again"]
    assert [entry.error is None for entry in repeated] == [True, False]
    assert repeated[1].error is not None
    assert "repeat_a.json" in repeated[1].error


def test_missing_and_partial_dates_are_problems_on_the_record() -> None:
    record = only_record(FHIR / "broken" / "missing_dates.json")
    assert record.birth_date is None  # "1961": only a year
    problems = "\n".join(record.problems)
    assert "Patient.birthDate: '1961' gives only the year" in problems
    assert "Observation/o-no-date has no date" in problems
    assert "'2025-02-30' is not a date" in problems
    assert "conditions: Condition/c-no-onset has no date" in problems
    assert "performedString is not a date" in problems
    # a result without a date is kept undated, one whose date cannot be read is left out (as
    # read_record does); an undated condition is kept: a window cannot use it, "ever" can
    assert [(lab.source, lab.date) for lab in record.labs] == [("Observation/o-no-date", None)]
    assert [condition.start for condition in record.conditions or ()] == [None]


def test_unreadable_units_and_bounds_are_problems_like_a_native_records() -> None:
    source = read_fhir(FHIR / "broken" / "bad_units.json")
    [entry] = list(source)
    record = entry.record
    assert record is not None
    # Only the result that reads is kept; as read_record does, the others are listed problems.
    assert [lab.source for lab in record.labs] == ["Observation/o-ok"]
    problems = "\n".join(record.problems)
    assert "Observation/o-unit: unit 'grams per decilitre' cannot be read" in problems
    assert "Observation/o-less: value <5 is a bound, not a value" in problems
    assert "Observation/o-text: value 'lots' is not a number" in problems
    assert source.tally.unmapped["unit grams per decilitre"] == 1
    assert source.tally.unmapped["Observation comparator <"] == 1
    native = read_record(
        {"id": "x", "labs": [{"code": "LOINC:718-7", "value": 13, "unit": "grams per decilitre"}]}
    )
    assert native.labs == ()
    assert "cannot be read" in native.problems[0]
    # and the criterion that needed it is UNKNOWN, the problem listed with the result
    trial = critlang.parse("inclusion\n  I1: hemoglobin >= 12 g/dL\n", "t.crit")
    evaluated = trial.evaluate(record, as_of=SCREENING)
    assert evaluated.criteria[0].outcome.value == "unknown"
    assert any("cannot be read" in problem for problem in evaluated.record_problems)


def test_wrong_json_types_are_problems_or_counted() -> None:
    source = read_fhir(FHIR / "broken" / "wrong_types.json")
    [entry] = list(source)
    record = entry.record
    assert record is not None
    assert (record.sex, record.birth_date, record.labs) == (None, None, ())
    problems = "\n".join(record.problems)
    assert "Patient.gender 3 is not one of" in problems
    assert "valueInteger '120' has the wrong type" in problems
    assert source.tally.unmapped["Bundle entry without a resource"] == 2
    assert source.tally.unmapped["Observation without a code in a known system"] == 1
    assert source.tally.unmapped["Observation with an unreadable date"] == 2


# ---- NDJSON ---------------------------------------------------------------------------------------


def test_an_ndjson_export() -> None:
    source = read_fhir(FHIR / "ndjson")
    entries = list(source)
    assert [(entry.id, entry.error is None) for entry in entries] == [
        ("n1", True),
        ("n2", True),
        ("n3", False),
        ("n3", False),
        ("n4", False),
        ("n9", False),
    ]
    by_id = {entry.id: entry for entry in entries}
    first = by_id["n1"].record
    assert first is not None
    # h3's subject has `display` first, h4 holds a contained resource with another subject:
    # both are placed by parsing them, and both are n1's
    assert [lab.source for lab in first.labs] == [
        "Observation/h1",
        "Observation/h3",
        "Observation/h4",
    ]
    assert [c.code for c in first.conditions or ()] == ["ICD10:C34.1"]
    second = by_id["n2"].record
    assert second is not None
    # the medication by reference to Medication.ndjson; the vaccination by its `patient` field
    assert sorted(e.code or "" for e in second.events or ()) == ["ATC:L01XA02", "CVX:03"]
    # a line cut short that the quick scan placed with n2: a problem on n2's record
    assert any("Observation.ndjson byte" in p and "not valid JSON" in p for p in second.problems)
    assert by_id["n3"].error is not None
    assert "Patient.ndjson:3, Patient.ndjson:4" in by_id["n3"].error
    assert by_id["n4"].where == "Patient.ndjson:5"
    assert by_id["n9"].error == "no Patient resource for Patient/n9 (1 resources refer to it)"
    assert source.tally.unmapped["resource Encounter"] == 1
    assert source.tally.unmapped["Observation subject is not a patient"] == 1
    assert source.tally.unmapped["unreadable line in Observation.ndjson"] == 1


def _export(bundle: dict[str, Any], folder: Path) -> None:
    """Write a bundle's resources as a Bulk Data export: one NDJSON file per type, every
    reference made relative (``Patient/<id>``; in the bundle's resources too), the lines of
    each file shuffled (the same way every time), so that no patient's lines are together."""
    by_type: dict[str, list[str]] = {}
    urls = {
        entry["fullUrl"]: f"{entry['resource']['resourceType']}/{entry['resource']['id']}"
        for entry in bundle["entry"]
    }
    for entry in bundle["entry"]:
        resource = entry["resource"]
        for field in ("subject", "patient", "medicationReference"):
            reference = resource.get(field, {}).get("reference")
            if reference in urls:
                resource[field]["reference"] = urls[reference]
        by_type.setdefault(resource["resourceType"], []).append(json.dumps(resource))
    folder.mkdir(parents=True, exist_ok=True)
    for kind, lines in by_type.items():
        random.Random(0).shuffle(lines)
        (folder / f"{kind}.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_an_export_of_a_bundle_gives_the_bundles_record(tmp_path: Path) -> None:
    bundle = json.loads(VALID.read_text(encoding="utf-8"))
    _export(bundle, tmp_path / "export")
    dictionary = standard()
    [from_bundle] = list(read_fhir(VALID, dictionary))
    [from_export] = list(read_fhir(tmp_path / "export", dictionary))
    assert from_bundle.record is not None
    assert from_export.record is not None
    # the same record, but for the order of results (the export's lines are shuffled)
    for field in ("labs", "events", "conditions"):
        ours = getattr(from_export.record, field)
        theirs = getattr(from_bundle.record, field)
        assert Counter(ours) == Counter(theirs), field
    assert from_export.record.facts == from_bundle.record.facts


def test_a_single_ndjson_or_jsonl_file(tmp_path: Path) -> None:
    lines = (FHIR / "ndjson" / "Patient.ndjson").read_text(encoding="utf-8")
    (tmp_path / "patients.jsonl").write_text(lines, encoding="utf-8")
    entries = list(read_fhir(tmp_path / "patients.jsonl"))
    assert [entry.id for entry in entries] == ["n1", "n2", "n3", "n3", "n4"]


# ---- other inputs and the API ---------------------------------------------------------------------


def test_read_bundle_takes_text_bytes_or_parsed_json() -> None:
    text = VALID.read_text(encoding="utf-8")
    tally = Tally()
    [from_text] = read_bundle(text, tally=tally)
    [from_bytes] = read_bundle(text.encode())
    [from_json] = read_bundle(json.loads(text))
    assert from_text.record == from_bytes.record
    assert from_text.record is not None
    assert from_json.record is not None
    assert len(from_json.record.labs) == len(from_text.record.labs)  # floats, not decimals
    assert tally.unmapped["resource Encounter"] == 1
    [broken] = read_bundle("{", name="upload")
    assert (broken.id, broken.record) == ("upload", None)


def test_a_single_resource_file_and_a_bulk_manifest(tmp_path: Path) -> None:
    (tmp_path / "patient.json").write_text(
        '{"resourceType": "Patient", "id": "solo", "gender": "other"}', encoding="utf-8"
    )
    manifest = {"transactionTime": "2025-01-01T00:00:00Z", "request": "x", "output": []}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (tmp_path / "Observation.ndjson.gz").write_bytes(b"\x1f\x8b")
    source = read_fhir(tmp_path)
    entries = list(source)
    assert [(entry.id, entry.record is not None) for entry in entries] == [("solo", True)]
    assert source.tally.unmapped["file manifest.json not read (a Bulk Data manifest)"] == 1
    assert source.tally.unmapped["file Observation.ndjson.gz not read (not .json or .ndjson)"] == 1


def test_files_and_missing_paths(tmp_path: Path) -> None:
    assert fhir_files(VALID) == [VALID]
    names = [path.name for path in fhir_files(FHIR / "ndjson")]
    assert names == sorted(names)
    assert "Patient.ndjson" in names
    with pytest.raises(FileNotFoundError):
        read_fhir(tmp_path / "nowhere")
    assert list(read_fhir(tmp_path)) == []  # an empty folder: no patients


def test_iterating_again_reads_again_and_recounts() -> None:
    source = read_fhir(FHIR / "ndjson")
    first = list(source)
    tally = dict(source.tally.unmapped)
    assert list(source) == first
    assert dict(source.tally.unmapped) == tally


def test_entries_pickle_for_worker_processes() -> None:
    entries = list(read_fhir(VALID, standard())) + list(read_fhir(FHIR / "broken"))
    assert pickle.loads(pickle.dumps(entries)) == entries


def test_the_cycle_collector_is_left_as_it_was() -> None:
    list(read_fhir(VALID))
    assert gc.isenabled()
    gc.disable()
    try:
        list(read_fhir(VALID))
        assert not gc.isenabled()
    finally:
        gc.enable()


# ---- properties -----------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "x", "Patient/p1", "2025-05-30", "1961", "K/uL", "mg/dL", "<", "#med1"])
    | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@functools.cache
def _valid_bundle() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(VALID.read_text(encoding="utf-8"))
    return loaded


@functools.cache
def _trial() -> critlang.trial.Trial:
    return critlang.parse(TRIAL, "fhir.crit")


def _paths(value: object, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@st.composite
def mutated_bundles(draw: st.DrawFn) -> str:
    """The valid bundle with fields dropped or replaced by any JSON value, perhaps cut short."""
    bundle = copy.deepcopy(_valid_bundle())
    for _ in range(draw(st.integers(1, 8))):
        paths = list(_paths(bundle))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = bundle
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON_VALUES)
    text = json.dumps(bundle)
    if draw(st.integers(0, 4)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text


def _check(entries: list[Entry]) -> None:
    trial = _trial()
    assert entries
    for entry in entries:
        assert isinstance(entry, Entry)
        assert isinstance(entry.id, str)
        assert (entry.record is None) == (entry.error is not None)
        assert entry.error is None or not entry.error.startswith("internal error"), entry.error
        if entry.record is not None:
            # what the reader gives, the evaluator takes: never an exception
            trial.evaluate(entry.record, as_of=SCREENING)
            for lab in entry.record.labs:
                if lab.unit is not None:
                    parse_unit(lab.unit)


@given(mutated_bundles())
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_mutated_bundles_only_ever_give_entries(text: str) -> None:
    _check(read_bundle(text, _trial().dictionary))
    _check(read_bundle(text))


@given(mutated_bundles(), st.integers(0, 3))
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_mutated_exports_only_ever_give_entries(text: str, cut: int) -> None:
    try:
        bundle = json.loads(text)
        resources = [entry["resource"] for entry in bundle["entry"]]
    except (ValueError, KeyError, TypeError):
        resources = [text]  # cut short before the resources: one unreadable line
    lines = [item if isinstance(item, str) else json.dumps(item) for item in resources]
    if cut and lines:
        lines[cut % len(lines)] = lines[cut % len(lines)][: len(lines[cut % len(lines)]) // 2]
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "export.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
        source = read_fhir(folder, _trial().dictionary)
        entries = list(source)
    patients = [
        item
        for item in resources
        if isinstance(item, dict) and item.get("resourceType") == "Patient"
    ]
    if patients:
        _check(entries)
    for entry in entries:
        assert (entry.record is None) == (entry.error is not None)
        assert entry.error is None or not entry.error.startswith("internal error"), entry.error


def test_sections_before_iterating_does_not_read_the_export_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from critlang.data import fhir

    built = []
    original = fhir._Export.__init__

    def counting(self: Any, *args: Any) -> None:
        built.append(1)
        original(self, *args)

    monkeypatch.setattr(fhir._Export, "__init__", counting)
    source = read_fhir(FHIR / "ndjson")
    assert source.sections == {"conditions", "events"}
    first = list(source)
    assert len(built) == 1
    assert list(source) == first  # a second iteration reads again
    assert len(built) == 2


def test_the_export_index_holds_runs_of_a_patients_lines(tmp_path: Path) -> None:
    from critlang.data.fhir import _Export

    def observation(patient: str, number: int) -> str:
        return json.dumps(
            {
                "resourceType": "Observation",
                "id": f"{patient}-{number}",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
                "subject": {"reference": f"Patient/{patient}"},
                "effectiveDateTime": "2025-01-01",
                "valueQuantity": {"value": number, "unit": "g/dL"},
            }
        )

    patients = ["a", "b", "c"]
    grouped = [observation(p, n) for p in patients for n in range(4)]
    shuffled = [observation(p, n) for n in range(4) for p in patients]
    for name, lines in (("grouped", grouped), ("shuffled", shuffled)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "Patient.ndjson").write_text(
            "\n".join(json.dumps({"resourceType": "Patient", "id": p}) for p in patients),
            encoding="utf-8",
        )
        (folder / "Observation.ndjson").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
        index = _Export(fhir_files(folder), lambda path: path.name, Tally())
        # grouped: one run per patient (blank lines inside a run do not break it); shuffled: one
        # run per line
        assert len(index.run_starts) == (3 if name == "grouped" else 12)
        records = {entry.id: entry.record for entry in read_fhir(folder)}
        for patient in patients:
            record = records[patient]
            assert record is not None
            assert [lab.value for lab in record.labs] == [0, 1, 2, 3]
