"""The FHIR R4 reader on real data: 75 Synthea patients as FHIR R4 bundles
(``../shared/data/fhir-synthea-r4``, Apache 2.0, licence beside the archive).

Every test here skips, with the reason, when the shared data folder is absent. The archive is
extracted once per session into a temporary folder. The checks against the raw JSON use their own
small loops over the files, not the reader's code.
"""

from __future__ import annotations

import datetime
import json
import tarfile
from collections import Counter
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import critlang
from critlang.data.fhir import fhir_files, read_fhir
from critlang.data.sources import Entry
from critlang.errors import UnitError
from critlang.semantics.dictionary import standard
from critlang.units import parse_unit
from tests.conftest import shared_data
from tests.data.test_fhir import _export

PATIENTS = 75
LOINC = "http://loinc.org"


@pytest.fixture(scope="session")
def synthea(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 75 bundles, extracted (``filter="data"``: no absolute paths, links or devices)."""
    archive = shared_data("fhir-synthea-r4", "synthea-r4-75-patients.tgz")
    target = tmp_path_factory.mktemp("synthea")
    with tarfile.open(archive) as bundle:
        bundle.extractall(target, filter="data")
    folders = [item for item in target.iterdir() if item.is_dir()]
    return folders[0] if len(folders) == 1 else target


@pytest.fixture(scope="session")
def raw(synthea: Path) -> dict[str, list[dict[str, Any]]]:
    """Each patient's resources straight from the JSON, by Patient id."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(synthea.rglob("*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        resources = [entry["resource"] for entry in bundle["entry"]]
        [patient] = [r for r in resources if r["resourceType"] == "Patient"]
        found[patient["id"]] = resources
    return found


@pytest.fixture(scope="session")
def entries(synthea: Path) -> list[Entry]:
    return list(read_fhir(synthea))


@pytest.fixture(scope="session")
def with_dictionary(synthea: Path) -> tuple[list[Entry], Counter[str]]:
    source = read_fhir(synthea, standard())
    return list(source), source.tally.unmapped


def test_all_patients_read_with_unique_ids(
    entries: list[Entry], raw: dict[str, list[dict[str, Any]]]
) -> None:
    assert len(raw) == PATIENTS
    assert len(entries) == PATIENTS
    assert [entry.error for entry in entries if entry.error] == []
    ids = [entry.id for entry in entries]
    assert len(set(ids)) == PATIENTS
    assert set(ids) == set(raw)
    for entry in entries:
        assert entry.record is not None
        assert entry.record.id == entry.id
        assert entry.record.problems == ()


def test_every_lab_unit_reads(synthea: Path, entries: list[Entry]) -> None:
    # Independently: every unit in the files reads through critlang.units (Synthea writes
    # `(score)`, `K/uL` and `M/uL` beside UCUM codes).
    units: Counter[str] = Counter()
    for path in fhir_files(synthea):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] != "Observation":
                continue
            for holder in [resource, *resource.get("component", [])]:
                if "valueQuantity" in holder:
                    units[
                        holder["valueQuantity"].get("code") or holder["valueQuantity"]["unit"]
                    ] += 1
    assert {"(score)", "K/uL", "M/uL"} <= set(units)
    unreadable = []
    for unit in units:
        try:
            parse_unit(unit)
        except UnitError as error:
            unreadable.append(f"{unit}: {error.reason}")
    assert unreadable == []
    assert parse_unit("(score)").code == "{score}"
    assert parse_unit("K/uL").code == "10*3/uL"
    assert parse_unit("M/uL").code == "10*6/uL"
    # and the reader kept every one of them, as the UCUM code
    kept = Counter(lab.unit for entry in entries if entry.record for lab in entry.record.labs)
    assert sum(count for unit, count in kept.items() if unit is not None) == sum(units.values())
    assert all(parse_unit(unit).code == unit for unit in kept if unit is not None)


def _expected_labs(resources: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    """(code, value, unit, date) of every result in the raw resources."""
    expected: Counter[tuple[Any, ...]] = Counter()
    for resource in resources:
        if resource["resourceType"] != "Observation" or resource["status"] == "entered-in-error":
            continue
        day = datetime.date.fromisoformat(resource["effectiveDateTime"][:10])
        for holder in [resource, *resource.get("component", [])]:
            [coding] = [c for c in holder["code"]["coding"] if c["system"] == LOINC]
            code = f"LOINC:{coding['code']}"
            if "valueQuantity" in holder:
                quantity = holder["valueQuantity"]
                value: Any = Fraction(quantity["value"])
                unit = parse_unit(quantity.get("code") or quantity["unit"]).code
            elif "valueCodeableConcept" in holder:
                concept = holder["valueCodeableConcept"]
                text = concept.get("text") or concept["coding"][0]["display"]
                value, unit = "_".join(text.lower().split()), None
            elif "valueString" in holder:
                value, unit = "_".join(holder["valueString"].lower().split()), None
            else:
                continue
            expected[(code, value, unit, day)] += 1
    return expected


def test_values_match_the_raw_json(
    entries: list[Entry], raw: dict[str, list[dict[str, Any]]]
) -> None:
    checked = 0
    for entry in entries[:: PATIENTS // 5]:  # five patients across the set
        assert entry.record is not None
        resources = raw[entry.id]
        got = Counter((lab.code, lab.value, lab.unit, lab.date) for lab in entry.record.labs)
        assert got == _expected_labs(resources), entry.id
        checked += sum(got.values())

        [patient] = [r for r in resources if r["resourceType"] == "Patient"]
        assert entry.record.birth_date == datetime.date.fromisoformat(patient["birthDate"])
        assert entry.record.sex == patient["gender"]
        assert entry.record.facts.get("deceased", False) == ("deceasedDateTime" in patient)

        conditions = Counter(
            (
                f"SNOMED:{r['code']['coding'][0]['code']}",
                r["onsetDateTime"][:10],
                r.get("abatementDateTime", "")[:10] or None,
                r["clinicalStatus"]["coding"][0]["code"],
            )
            for r in resources
            if r["resourceType"] == "Condition"
        )
        got_conditions = Counter(
            (c.code, c.start and c.start.isoformat(), c.end and c.end.isoformat(), c.status)
            for c in entry.record.conditions or ()
        )
        assert got_conditions == conditions, entry.id

        kinds = ("MedicationRequest", "Procedure", "Immunization")
        events = Counter(r["resourceType"] for r in resources if r["resourceType"] in kinds)
        got_events = Counter(e.source.split("/")[0] for e in entry.record.events or ())
        assert got_events == events, entry.id
    assert checked > 1000


def test_the_bundles_are_complete_for_conditions_and_events(synthea: Path) -> None:
    source = read_fhir(synthea)
    assert source.sections == {"conditions", "events"}
    for entry in source:
        assert entry.record is not None
        assert entry.record.conditions is not None
        assert entry.record.events is not None
    unmapped = source.tally.unmapped
    # what is not read is counted by type: Synthea's claims, encounters, care plans ...
    assert unmapped["resource Claim"] > 0
    assert unmapped["resource Encounter"] > 0
    assert not any(key.startswith("unit ") for key in unmapped)


def test_a_dictionary_reads_facts_and_counts_unknown_codes(
    with_dictionary: tuple[list[Entry], Counter[str]], raw: dict[str, list[dict[str, Any]]]
) -> None:
    entries, unmapped = with_dictionary
    dictionary = standard()
    assert len(entries) == PATIENTS
    assert all(entry.record for entry in entries)
    for entry in entries:
        assert entry.record is not None
        weights = [
            (r["effectiveDateTime"], Fraction(r["valueQuantity"]["value"]))
            for r in raw[entry.id]
            if r["resourceType"] == "Observation"
            and r["code"]["coding"][0]["code"] == "29463-7"
            and "valueQuantity" in r
        ]
        if weights:
            # the latest (ISO date-times of one offset sort as text)
            assert entry.record.facts["weight"] == (max(weights)[1], "kg")
        else:
            assert "weight" not in entry.record.facts
    counted = [key for key in unmapped if key.startswith("Observation LOINC:")]
    assert counted
    for key in counted:
        assert dictionary.by_code(key.split(" ", 1)[1]) == ()


def test_an_ndjson_export_of_the_same_patients_gives_the_same_records(
    synthea: Path, entries: list[Entry], tmp_path: Path
) -> None:
    # Every patient's resources in one file per type, each file's lines shuffled: every line is
    # found again by its offset.
    export = tmp_path / "export"
    merged: dict[str, Any] = {"entry": []}
    for path in fhir_files(synthea):
        merged["entry"].extend(json.loads(path.read_text(encoding="utf-8"))["entry"])
    _export(merged, export)
    source = read_fhir(export)
    from_export = {entry.id: entry for entry in source}
    assert len(from_export) == PATIENTS
    for entry in entries:
        other = from_export[entry.id]
        assert entry.record is not None
        assert other.record is not None
        for field in ("labs", "events", "conditions"):
            ours = Counter(getattr(other.record, field))
            assert ours == Counter(getattr(entry.record, field)), (entry.id, field)
        assert other.record.facts == entry.record.facts


def test_a_trial_screens_every_patient(with_dictionary: tuple[list[Entry], Counter[str]]) -> None:
    trial = critlang.parse(
        """
inclusion
  I1: age >= 18 years
  I2: hemoglobin >= 10 g/dL
  I3: creatinine <= 1.5 mg/dL
  I4: systolic_bp < 160 mm[Hg]
exclusion
  E1: myocardial_infarction within 6 months before screening
  E2: stroke
""",
        "synthea.crit",
    )
    entries, _ = with_dictionary
    verdicts: Counter[str] = Counter()
    for entry in entries:
        assert entry.record is not None
        result = trial.evaluate(entry.record, as_of=datetime.date(2019, 6, 1))
        verdicts[result.verdict.value] += 1
    assert sum(verdicts.values()) == PATIENTS
    assert verdicts["eligible"] > 0
    assert verdicts["ineligible"] > 0
