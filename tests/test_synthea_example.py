"""examples/synthea/oncology.crit screened over the real Synthea data in ``../shared/data``,
checked against verdicts computed here without critlang.

The expected outcome of every criterion for every patient comes from ``expected_outcomes``: plain
Python over the raw FHIR JSON and OMOP CSV (``json``, ``csv``), with the LOINC and SNOMED CT codes
written out by hand. It imports nothing from critlang. Its semantics are those of the criteria:
the latest result on or before the screening date, units as the data gives them (an OMOP result
whose unit concept is 0 has no unit, so its criterion is UNKNOWN), a result outside the
dictionary's plausible range is UNKNOWN, a condition counts when its dates overlap the window
(no abatement: ongoing), and Kleene logic for ``and`` and ``or``.

The two inputs are different Synthea populations: the FHIR bundles (75 patients, the SMART
subset) and the OMOP export (28 persons, synthea27nj) share no patient id (the OMOP
``person_source_value`` is the Synthea UUID, which the FHIR Patient ids are too) and no birth
date, so there is no comparison of the same patient across the two formats.

Every test skips, with the reason, when the shared data folder is absent.
"""

from __future__ import annotations

import csv
import datetime
import json
import tarfile
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import critlang
from critlang.screen import ScreenResult
from tests.conftest import ROOT, extract_synthea_omop, shared_data

CRITERIA = ROOT / "examples" / "synthea" / "oncology.crit"
AS_OF = datetime.date(2020, 1, 1)
FIVE_YEARS_BEFORE = datetime.date(2015, 1, 1)
SIX_MONTHS_BEFORE = datetime.date(2019, 7, 1)

# ---- the independent computation -----------------------------------------------------------------

# LOINC codes of each lab (as the standard dictionary lists them), the units it reads in (with the
# factor to the criterion's unit) and its plausible range in the criterion's unit.
LABS: dict[str, tuple[set[str], dict[str, Fraction], tuple[int, int]]] = {
    "hemoglobin": ({"718-7"}, {"g/dL": Fraction(1)}, (0, 25)),
    "platelets": (
        {"777-3", "26515-7"},
        {"10*3/uL": Fraction(1), "K/uL": Fraction(1), "10*9/L": Fraction(1)},
        (0, 3000),
    ),
    "WBC": (
        {"6690-2", "26464-8"},
        {"10*3/uL": Fraction(1), "K/uL": Fraction(1), "10*9/L": Fraction(1)},
        (0, 1000),
    ),
    "creatinine": ({"2160-0", "38483-4", "14682-9"}, {"mg/dL": Fraction(1)}, (0, 40)),
    "ALT": ({"1742-6", "1743-4", "1744-2"}, {"U/L": Fraction(1), "IU/L": Fraction(1)}, (0, 20000)),
    "AST": ({"1920-8", "30239-8"}, {"U/L": Fraction(1), "IU/L": Fraction(1)}, (0, 40000)),
    "bilirubin": ({"1975-2", "42719-5", "14631-6"}, {"mg/dL": Fraction(1)}, (0, 60)),
}
STUDY_CANCER = {
    "363406005", "109838007", "93761005", "94260004",  # colorectal
    "254637007", "424132000", "254632001", "67811000119102",  # lung
    "126906006", "92691004", "314994000",  # prostate
}  # fmt: skip
MI_OR_STROKE = {"22298006", "230690007"}
INACTIVE = {"inactive", "resolved", "remission", "refuted", "entered-in-error"}
OMOP_UNITS = {"8713": "g/dL", "8840": "mg/dL", "8848": "10*3/uL", "8647": "/uL", "8749": "umol/L"}

Lab = tuple[datetime.date, str, Fraction, str | None]  # date, LOINC code, value, unit
Condition = tuple[
    str, datetime.date | None, datetime.date | None, str | None
]  # code, start, end, status


def _and(*values: bool | None) -> bool | None:
    if any(value is False for value in values):
        return False
    return None if any(value is None for value in values) else True


def _or(*values: bool | None) -> bool | None:
    if any(value is True for value in values):
        return True
    return None if any(value is None for value in values) else False


def _lab(labs: list[Lab], name: str, test: Any) -> bool | None:
    """``test`` on the latest result of ``name`` on or before screening."""
    codes, units, (low, high) = LABS[name]
    results = [lab for lab in labs if lab[1] in codes and lab[0] <= AS_OF]
    if not results:
        return None
    latest = max(lab[0] for lab in results)
    outcomes: set[bool | None] = set()
    for _, _, value, unit in (lab for lab in results if lab[0] == latest):
        if unit not in units:
            outcomes.add(None)
            continue
        value *= units[unit]
        outcomes.add(test(value) if low <= value <= high else None)
    assert len(outcomes) == 1, f"{name}: results of {latest} disagree"
    return outcomes.pop()


def _in_window(conditions: list[Condition], codes: set[str], start: datetime.date) -> bool | None:
    """Whether a condition of ``codes`` overlaps [start, screening] (the closed world: the record
    lists every condition)."""
    found = open_ended = undated = False
    for code, onset, end, status in conditions:
        if code not in codes:
            continue
        if onset is None:
            undated = True
            continue
        if onset > AS_OF:
            continue
        if end is None and status in INACTIVE and onset < start:
            open_ended = True
            continue
        if end is None or end >= start:
            found = True
    if found:
        return True
    return None if open_ended or undated else False


def expected_outcomes(
    birth: datetime.date | None, labs: list[Lab], conditions: list[Condition]
) -> dict[str, bool | None]:
    """Each criterion of oncology.crit, MET (True), NOT MET (False) or UNKNOWN (None)."""
    age = None
    if birth is not None:
        age = AS_OF.year - birth.year - ((AS_OF.month, AS_OF.day) < (birth.month, birth.day))
    return {
        "I1": None if age is None else 18 <= age <= 75,
        "I2": _in_window(conditions, STUDY_CANCER, FIVE_YEARS_BEFORE),
        "I3": _lab(labs, "hemoglobin", lambda v: v >= Fraction("9.0")),
        "I4": _lab(labs, "platelets", lambda v: v >= 100),
        "I5": _lab(labs, "WBC", lambda v: v >= Fraction("3.0")),
        "I6": _lab(labs, "creatinine", lambda v: v <= Fraction("1.5")),
        "I7": _and(_lab(labs, "ALT", lambda v: v <= 100), _lab(labs, "AST", lambda v: v <= 100)),
        "I8": _lab(labs, "bilirubin", lambda v: v <= Fraction("1.5")),
        "E1": _in_window(conditions, MI_OR_STROKE, SIX_MONTHS_BEFORE),
    }


def expected_verdict(outcomes: dict[str, bool | None]) -> str:
    inclusions = [value for key, value in outcomes.items() if key.startswith("I")]
    exclusions = [value for key, value in outcomes.items() if key.startswith("E")]
    if False in inclusions or True in exclusions:
        return "ineligible"
    if None in inclusions or None in exclusions:
        return "undetermined"
    return "eligible"


def _day(text: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(text[:10]) if text else None


def fhir_patients(
    folder: Path,
) -> dict[str, tuple[datetime.date | None, list[Lab], list[Condition]]]:
    """Birth date, lab results and conditions of every Patient, from the bundles' JSON."""
    patients = {}
    for path in sorted(folder.rglob("*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        resources = [entry["resource"] for entry in bundle["entry"]]
        [patient] = [r for r in resources if r["resourceType"] == "Patient"]
        labs: list[Lab] = []
        conditions: list[Condition] = []
        for r in resources:
            if r["resourceType"] == "Observation" and r["status"] != "entered-in-error":
                for holder in [r, *r.get("component", [])]:
                    quantity = holder.get("valueQuantity")
                    if quantity is None:
                        continue
                    for coding in holder["code"]["coding"]:
                        if coding["system"] == "http://loinc.org":
                            unit = quantity.get("code") or quantity.get("unit")
                            value = Fraction(str(quantity["value"]))
                            labs.append((_day(r["effectiveDateTime"]), coding["code"], value, unit))  # type: ignore[arg-type]
            elif r["resourceType"] == "Condition":
                for coding in r["code"]["coding"]:
                    if coding["system"] == "http://snomed.info/sct":
                        status = r.get("clinicalStatus", {}).get("coding", [{}])[0].get("code")
                        conditions.append(
                            (
                                coding["code"],
                                _day(r.get("onsetDateTime")),
                                _day(r.get("abatementDateTime")),
                                status,
                            )
                        )
        patients[patient["id"]] = (_day(patient.get("birthDate")), labs, conditions)
    return patients


def _table(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def omop_patients(
    folder: Path,
) -> dict[str, tuple[datetime.date | None, list[Lab], list[Condition]]]:
    """Birth date, lab results and conditions of every person, from the export's CSV tables."""
    loinc = {
        r["concept_id"]: r["concept_code"]
        for r in _table(folder, "CONCEPT")
        if r["vocabulary_id"] == "LOINC"
    }
    snomed = {
        r["concept_id"]: r["concept_code"]
        for r in _table(folder, "CONCEPT")
        if r["vocabulary_id"] == "SNOMED"
    }
    patients: dict[str, tuple[datetime.date | None, list[Lab], list[Condition]]] = {}
    for r in _table(folder, "PERSON"):
        birth = None
        if r["month_of_birth"] and r["day_of_birth"]:
            birth = datetime.date(
                int(r["year_of_birth"]), int(r["month_of_birth"]), int(r["day_of_birth"])
            )
        patients[r["person_id"]] = (birth, [], [])
    for table, prefix in (("MEASUREMENT", "measurement"), ("OBSERVATION", "observation")):
        for r in _table(folder, table):
            code = loinc.get(r[f"{prefix}_concept_id"])
            if code is None or not r["value_as_number"]:
                continue
            if r.get("operator_concept_id", "0") not in ("", "0", "4172703"):  # not "="
                continue
            unit = OMOP_UNITS.get(r["unit_concept_id"])
            value = Fraction(r["value_as_number"])
            patients[r["person_id"]][1].append((_day(r[f"{prefix}_date"]), code, value, unit))  # type: ignore[arg-type]
    for r in _table(folder, "CONDITION_OCCURRENCE"):
        code = snomed.get(r["condition_concept_id"], r["condition_source_value"])
        start, end = _day(r["condition_start_date"]), _day(r["condition_end_date"])
        patients[r["person_id"]][2].append((code, start, end, None))
    return patients


# ---- the screens -----------------------------------------------------------------------------------

WORDS = {True: "met", False: "not_met", None: "unknown"}


@pytest.fixture(scope="session")
def fhir_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = shared_data("fhir-synthea-r4", "synthea-r4-75-patients.tgz")
    target = tmp_path_factory.mktemp("synthea-example-fhir")
    with tarfile.open(archive) as bundle:
        bundle.extractall(target, filter="data")
    folders = [item for item in target.iterdir() if item.is_dir()]
    return folders[0] if len(folders) == 1 else target


@pytest.fixture(scope="session")
def omop_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_synthea_omop(tmp_path_factory.mktemp("synthea-example-omop"))


@pytest.fixture(scope="session")
def trial() -> critlang.Trial:
    return critlang.load(CRITERIA)


def _check(result: ScreenResult, raw: dict[str, Any]) -> Counter[str]:
    ids = [row.id for row in result.rows]
    assert sorted(ids) == sorted(raw)
    assert result.totals["total"] == len(raw)
    assert [criterion.id for criterion in result.criteria] == [
        *(f"I{n}" for n in range(1, 9)),
        "E1",
    ]
    verdicts: Counter[str] = Counter()
    for row in result.rows:
        expected = expected_outcomes(*raw[row.id])
        got = {c.id: o.value for c, o in zip(result.criteria, row.outcomes, strict=True)}
        assert got == {key: WORDS[value] for key, value in expected.items()}, row.id
        assert row.status == expected_verdict(expected), row.id
        verdicts[row.status] += 1
    assert verdicts["error"] == 0
    assert dict(verdicts) == {k: v for k, v in result.totals.items() if k in verdicts}
    return verdicts


def test_fhir_verdicts_match_the_raw_json(trial: critlang.Trial, fhir_folder: Path) -> None:
    from critlang.data.fhir import read_fhir

    raw = fhir_patients(fhir_folder)
    assert len(raw) == 75
    result = trial.screen(read_fhir(fhir_folder, trial.dictionary), as_of=AS_OF)
    verdicts = _check(result, raw)
    # the totals examples/synthea/README.md gives
    assert verdicts == Counter(eligible=3, ineligible=70, undetermined=2)


def test_omop_verdicts_match_the_raw_csv(trial: critlang.Trial, omop_folder: Path) -> None:
    from critlang.data.omop import read_omop

    raw = omop_patients(omop_folder)
    assert len(raw) == 28
    result = trial.screen(read_omop(omop_folder, trial.dictionary), as_of=AS_OF)
    verdicts = _check(result, raw)
    assert verdicts == Counter(ineligible=28)


def test_the_two_inputs_share_no_patient(fhir_folder: Path, omop_folder: Path) -> None:
    fhir = fhir_patients(fhir_folder)
    sources = {r["person_source_value"] for r in _table(omop_folder, "PERSON")}
    assert not sources & set(fhir)
    omop_births = {birth for birth, _, _ in omop_patients(omop_folder).values()}
    assert not omop_births & {birth for birth, _, _ in fhir.values()}
