"""FHIR R4 in: patient records from Bundles and Bulk Data NDJSON exports, one patient at a time.

>>> [entry] = read_bundle('''{"resourceType": "Bundle", "entry": [
...   {"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1961-03-02"}},
...   {"resource": {"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/p1"},
...     "code": {"coding": [{"system": "http://loinc.org", "code": "6690-2"}]},
...     "effectiveDateTime": "2025-05-30", "valueQuantity": {"value": 5.2, "unit": "K/uL"}}}]}''')
>>> lab = entry.record.labs[0]
>>> lab.code, lab.value, lab.unit, lab.date.isoformat()
('LOINC:6690-2', Fraction(26, 5), '10*3/uL', '2025-05-30')

:func:`read_fhir` takes a Bundle file, a folder (every ``*.json`` Bundle and every ``*.ndjson``
or ``*.jsonl`` file under it, recursively) or one NDJSON file, and yields one :class:`Entry` per
input patient, in input order; :func:`read_bundle` reads one Bundle held in memory. docs/data.md ("FHIR R4") lists what is mapped and how; in short:

- ``Patient`` gives the id, birth date, sex and the ``deceased`` fact; ``Observation`` a
  :class:`LabResult` per value (each component of a blood pressure its own), or, when a dictionary
  is given and the code is a fact's (body weight, ECOG), that fact (the latest value);
  ``Condition`` the conditions section; ``MedicationRequest``, ``MedicationStatement``,
  ``MedicationAdministration``, ``Procedure`` and ``Immunization`` the events section.
- Codes are ``SYSTEM:code`` by the coding's system URL (:data:`CODE_SYSTEMS`). A record entry
  holds one code: of a CodeableConcept's codings, the one that stands for the most dictionary
  variables when a dictionary is given, else the first in a known system.
- Sections: an input is complete for the resource types it contains (``sections="present"``): a
  conditions section when it has any ``Condition``, an events section when it has ``Procedure``,
  ``Immunization`` and a medication resource. ``sections="all"`` says every section is complete.
- Nothing is dropped silently: what is not read (a resource type, a code system, a unit, a
  status) is counted in :attr:`FhirSource.tally`; a field that cannot be read is a problem on the
  record (``Record.problems``); a patient whose data cannot be read at all (a file that is not
  JSON, a bundle without a Patient, two patients with one id) is an entry with an error.

Bulk Data NDJSON is read in two passes so that memory stays bounded for large exports: the first
pass reads each file once and keeps where each patient's lines are (runs of consecutive lines of
one patient: byte offsets and the patient's number, in arrays, not the resources); the second
reads each patient's lines back by offset, so only one patient's resources are in memory at a
time. See docs/data.md for the trade-off against requiring files sorted by patient.
"""

from __future__ import annotations

import datetime
import json
import math
import mmap
import os
import re
from array import array
from collections.abc import Callable, Collection, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from critlang.allocation import collector_paused
from critlang.data.jsontext import LINE_BUFFER, decode, exact_number
from critlang.data.record import FactValue, LabResult, Occurrence, Record
from critlang.data.sources import Entry, Tally
from critlang.errors import UnitError
from critlang.semantics.dictionary import FACT, Dictionary
from critlang.units import convert_exact, parse_unit, same_kind

__all__ = ["CODE_SYSTEMS", "SECTIONS", "FhirSource", "fhir_files", "read_bundle", "read_fhir"]

# FHIR code system URLs (and their HL7 OIDs) -> the system names critlang codes use.
CODE_SYSTEMS: Mapping[str, str] = {
    "http://loinc.org": "LOINC",
    "http://snomed.info/sct": "SNOMED",
    "http://hl7.org/fhir/sid/icd-10": "ICD10",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD10",
    "http://hl7.org/fhir/sid/icd-9-cm": "ICD9",
    "http://www.cms.gov/Medicare/Coding/ICD10": "ICD10PCS",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RXNORM",
    "http://hl7.org/fhir/sid/cvx": "CVX",
    "http://www.whocc.no/atc": "ATC",
    "http://hl7.org/fhir/sid/ndc": "NDC",
    "http://www.ama-assn.org/go/cpt": "CPT",
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": "HCPCS",
    "urn:oid:2.16.840.1.113883.6.1": "LOINC",
    "urn:oid:2.16.840.1.113883.6.96": "SNOMED",
    "urn:oid:2.16.840.1.113883.6.3": "ICD10",
    "urn:oid:2.16.840.1.113883.6.90": "ICD10",
    "urn:oid:2.16.840.1.113883.6.103": "ICD9",
    "urn:oid:2.16.840.1.113883.6.4": "ICD10PCS",
    "urn:oid:2.16.840.1.113883.6.88": "RXNORM",
    "urn:oid:2.16.840.1.113883.12.292": "CVX",
    "urn:oid:2.16.840.1.113883.6.73": "ATC",
    "urn:oid:2.16.840.1.113883.6.69": "NDC",
    "urn:oid:2.16.840.1.113883.6.12": "CPT",
    "urn:oid:2.16.840.1.113883.6.285": "HCPCS",
}
UCUM = "http://unitsofmeasure.org"

CONDITIONS, EVENTS = "conditions", "events"
SECTIONS = frozenset({CONDITIONS, EVENTS})
_MEDICATION_TYPES = ("MedicationRequest", "MedicationStatement", "MedicationAdministration")
# The resources that belong to one patient, and the field that says which.
_PATIENT_FIELD = {
    "Observation": "subject",
    "Condition": "subject",
    "Procedure": "subject",
    "Immunization": "patient",
    **dict.fromkeys(_MEDICATION_TYPES, "subject"),
}
# Statuses that say the thing did not happen (or was recorded in error): the resource is not used.
_VOID_STATUS = {
    "Observation": frozenset({"entered-in-error", "cancelled"}),
    "MedicationRequest": frozenset({"entered-in-error", "cancelled", "draft"}),
    "MedicationStatement": frozenset({"entered-in-error", "not-taken", "intended"}),
    "MedicationAdministration": frozenset({"entered-in-error", "not-done"}),
    "Procedure": frozenset({"entered-in-error", "not-done", "preparation"}),
    "Immunization": frozenset({"entered-in-error", "not-done"}),
}
_EVENT_DATE = {
    "Procedure": "performed",
    "Immunization": "occurrence",
    **dict.fromkeys(_MEDICATION_TYPES, "effective"),
}
_DATE_KINDS = ("DateTime", "Instant", "Period")
_VOID_VERIFICATION = frozenset({"refuted", "entered-in-error"})
_NOT_ORDERS = frozenset({"proposal", "plan"})  # MedicationRequest intents that are not orders
# Answers to qualitative tests (SNOMED CT qualifier values, HL7 v3 ObservationInterpretation).
_ANSWERS = {
    ("SNOMED", "10828004"): "positive",
    ("SNOMED", "260385009"): "negative",
    ("SNOMED", "260373001"): "detected",
    ("SNOMED", "260415000"): "not_detected",
    ("V3", "POS"): "positive",
    ("V3", "NEG"): "negative",
    ("V3", "DET"): "detected",
    ("V3", "ND"): "not_detected",
}
_V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_TRUE_WORDS = frozenset({"true", "yes", "y"})
_FALSE_WORDS = frozenset({"false", "no", "n"})
_SEXES = frozenset({"female", "male", "other", "unknown"})
_DIMENSIONLESS = parse_unit("1").dimension
_CACHE_LIMIT = 10_000

# NDJSON's first pass finds a line's type and patient without parsing it when the line says each
# once; otherwise (contained resources, a subject whose first key is not `reference`) it parses.
_RESOURCE_TYPE = re.compile(rb'"resourceType"\s*:\s*"([A-Za-z]+)"')
_REFERENCE = re.compile(rb'"(?:subject|patient)"\s*:\s*\{\s*"reference"\s*:\s*"([^"\\]*)"')
_ID = re.compile(rb'"id"\s*:\s*"([^"\\]*)"')
# What decodes a text msgspec refuses (jsontext.decode): NaN and Infinity are read as floats,
# which _number does not take as numbers.
_DECODER = json.JSONDecoder(parse_float=exact_number)
_OFFSET_BITS = 40  # a line's location: file number << 40 | byte offset (files up to 1 TiB)


def read_fhir(
    path: str | os.PathLike[str],
    dictionary: Dictionary | None = None,
    *,
    sections: str | Collection[str] = "present",
) -> FhirSource:
    """FHIR R4 patients from a Bundle file, an NDJSON file, or a folder of either (recursively).

    ``dictionary`` (a trial's, or the standard one) lets the reader choose among a concept's
    codings, read Observations of facts into facts, and count codes no variable has.
    ``sections`` says which sections are complete (closed-world, SPEC §4): ``"present"`` those
    whose resource types the input contains, ``"all"``, ``"none"``, or a collection of
    ``"conditions"`` and ``"events"``. Raises ``FileNotFoundError`` when ``path`` does not exist;
    nothing else: what cannot be read becomes an entry's error or a record's problem.
    """
    return FhirSource(Path(path), dictionary, sections)


def fhir_files(path: str | os.PathLike[str]) -> list[Path]:
    """The files :func:`read_fhir` reads for ``path``: Bundles (``*.json``), then NDJSON."""
    bundles, exports = _files(Path(path))
    return [*bundles, *exports]


def read_bundle(
    bundle: bytes | str | Mapping[str, Any],
    dictionary: Dictionary | None = None,
    *,
    name: str = "bundle",
    sections: str | Collection[str] = "present",
    tally: Tally | None = None,
) -> list[Entry]:
    """The entries of one Bundle given as JSON text, or parsed as ``json.loads`` gives it (an
    app's ``$everything`` answer).

    ``name`` stands for the bundle in messages (and is the id of an entry for a bundle that cannot
    be read); what is not mapped is counted in ``tally`` when one is given.
    """
    tally = Tally() if tally is None else tally
    mapper = _Mapper(dictionary, tally)
    if isinstance(bundle, bytes | str):
        parsed, error = _parse(bundle)
        if error is not None:
            return [Entry(id=name, record=None, error=error, where=name)]
    else:
        parsed = bundle if isinstance(bundle, dict) else dict(bundle)
    if _wants_present(sections):
        found: set[str] = set()
        _collect_types(parsed, found)
        closed = _present_sections(found, tally)
    else:
        closed = _chosen_sections(sections)
    return list(_bundle_entries(parsed, name, mapper, closed, {}))


class FhirSource:
    """FHIR R4 patients, read lazily: iterating yields one :class:`Entry` per input patient.

    Iterating again reads the input again (and counts the tally afresh).
    """

    def __init__(
        self,
        path: Path,
        dictionary: Dictionary | None = None,
        sections: str | Collection[str] = "present",
    ) -> None:
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {path}")
        self.path = path
        self.dictionary = dictionary
        self.tally = Tally()
        self._option = sections
        if not _wants_present(sections):
            _chosen_sections(sections)  # refuses an unknown section now, not when read
        self._root = path if path.is_dir() else path.parent
        self._bundles, self._exports = _files(path)
        self._sections: frozenset[str] | None = None
        self._export: _Export | None = None
        self._started = False

    @property
    def files(self) -> list[Path]:
        return [*self._bundles, *self._exports]

    @property
    def sections(self) -> frozenset[str]:
        """The sections every record from this input has (closed-world; SPEC §4)."""
        if self._sections is None:
            self._sections = self._decide_sections()
        return self._sections

    def __iter__(self) -> Iterator[Entry]:
        if self._started:  # read afresh; before the first time, `sections` may have read already
            self.tally.unmapped.clear()
            self._sections = None
            self._export = None
        self._started = True
        for extra in _skipped_files(self.path):
            self.tally.note(f"file {self._name(extra)} not read (not .json or .ndjson)")
        closed = self.sections
        mapper = _Mapper(self.dictionary, self.tally)
        seen: dict[str, str] = {}
        for path in self._bundles:
            name = self._name(path)
            try:
                data = path.read_bytes()
            except OSError as error:
                yield Entry(id=name, record=None, error=f"cannot read: {error}", where=name)
                continue
            parsed, problem = _parse(data)
            if problem is not None:
                yield Entry(id=name, record=None, error=problem, where=name)
                continue
            yield from _bundle_entries(parsed, name, mapper, closed, seen)
        if self._exports:
            export = self._indexed_export()
            yield from export.entries(mapper, closed, seen)

    def _name(self, path: Path) -> str:
        try:
            return path.relative_to(self._root).as_posix()
        except ValueError:
            return path.as_posix()

    def _indexed_export(self) -> _Export:
        if self._export is None:
            self._export = _Export(self._exports, self._name, self.tally)
        return self._export

    def _decide_sections(self) -> frozenset[str]:
        if not _wants_present(self._option):
            return _chosen_sections(self._option)
        found: set[str] = set()
        wanted = {"Condition", "Procedure", "Immunization", "Medication*"}
        for path in self._bundles:
            if wanted <= {_type_group(kind) for kind in found}:
                break  # a quick scan: stops once every section's types have been seen
            try:
                data = path.read_bytes()
            except OSError:
                continue
            found.update(match.decode() for match in _RESOURCE_TYPE.findall(data))
        if self._exports:
            found |= self._indexed_export().types
        return _present_sections(found, self.tally)


# ---- files ----------------------------------------------------------------------------------------


_LINES = (".ndjson", ".jsonl")  # one resource a line


def _files(path: Path) -> tuple[list[Path], list[Path]]:
    """A folder's Bundles and NDJSON files (sorted by path, so the order is the same on every
    machine), or the one file given."""
    if path.is_file():
        return ([], [path]) if path.name.endswith(_LINES) else ([path], [])
    if not path.is_dir():
        return [], []
    found = sorted(item for item in path.rglob("*") if item.is_file())
    bundles = [item for item in found if item.name.endswith(".json")]
    exports = [item for item in found if item.name.endswith(_LINES)]
    return bundles, exports


def _skipped_files(path: Path) -> list[Path]:
    """Files in a folder that look like FHIR data but are not read (``.ndjson.gz``)."""
    if not path.is_dir():
        return []
    return sorted(
        item
        for item in path.rglob("*")
        if item.is_file() and "json" in item.name and not item.name.endswith((".json", *_LINES))
    )


def _parse(data: bytes | str) -> tuple[Any, str | None]:
    """JSON with exact decimals, or why it is not JSON."""
    try:
        with collector_paused():  # a parsed document has no cycles: about 15 % faster
            return decode(data, _DECODER), None
    except RecursionError:
        return None, "not readable: nested too deeply"
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        return None, f"not valid JSON: {error}"


# ---- sections -------------------------------------------------------------------------------------


def _wants_present(option: str | Collection[str]) -> bool:
    return isinstance(option, str) and option == "present"


def _chosen_sections(option: str | Collection[str]) -> frozenset[str]:
    if isinstance(option, str):
        if option == "all":
            return SECTIONS
        if option == "none":
            return frozenset()
        option = [option]
    chosen = frozenset(option)
    unknown = chosen - SECTIONS
    if unknown:
        raise ValueError(
            f"unknown section {sorted(unknown)[0]!r}: use 'present', 'all', 'none', "
            "or some of 'conditions', 'events'"
        )
    return chosen


def _type_group(resource_type: str) -> str:
    return "Medication*" if resource_type in _MEDICATION_TYPES else resource_type


def _present_sections(types: set[str], tally: Tally) -> frozenset[str]:
    """The sections whose resource types the input has: an input is complete for those."""
    groups = {_type_group(kind) for kind in types}
    closed = set()
    if "Condition" in groups:
        closed.add(CONDITIONS)
    else:
        tally.note("section conditions not provided: no Condition in the input")
    missing = [
        name
        for name, group in (
            ("a medication resource", "Medication*"),
            ("Procedure", "Procedure"),
            ("Immunization", "Immunization"),
        )
        if group not in groups
    ]
    if not missing:
        closed.add(EVENTS)
    else:
        tally.note(f"section events not provided: no {' or '.join(missing)} in the input")
    return frozenset(closed)


def _collect_types(value: object, found: set[str]) -> None:
    if isinstance(value, dict):
        kind = value.get("resourceType")
        if isinstance(kind, str):
            found.add(kind)
        for entry in _list(value.get("entry")):
            if isinstance(entry, dict):
                _collect_types(entry.get("resource"), found)


# ---- bundles --------------------------------------------------------------------------------------


def _bundle_entries(
    bundle: object,
    name: str,
    mapper: _Mapper,
    closed: frozenset[str],
    seen: dict[str, str],
) -> Iterator[Entry]:
    """The entries of one parsed bundle file: one per Patient in it, and one per patient its
    resources refer to that it does not hold."""
    tally = mapper.tally
    if not isinstance(bundle, dict):
        yield _file_error(name, f"not a FHIR resource: a JSON {type(bundle).__name__}")
        return
    kind = bundle.get("resourceType")
    items: list[tuple[str, str | None, Mapping[str, Any]]] = []
    if kind == "Bundle":
        raw = bundle.get("entry", [])
        if not isinstance(raw, list):
            yield _file_error(name, "the Bundle's `entry` is not a list")
            return
        for index, item in enumerate(raw):
            resource = item.get("resource") if isinstance(item, dict) else None
            if not isinstance(resource, dict):
                tally.note("Bundle entry without a resource")
                continue
            full_url = item.get("fullUrl")
            items.append((f"entry {index}", _text(full_url), resource))
    elif isinstance(bundle.get("output"), list) and "transactionTime" in bundle:
        tally.note(f"file {name} not read (a Bulk Data manifest)")
        return
    elif isinstance(kind, str):
        items.append(("", None, bundle))  # a file with one resource
    else:
        yield _file_error(name, "not a FHIR resource: no resourceType")
        return

    patients: list[tuple[str, str | None, Mapping[str, Any]]] = []
    medications: dict[str, Mapping[str, Any]] = {}
    clinical: list[tuple[str, Mapping[str, Any]]] = []
    for position, full_url, resource in items:
        kind = resource.get("resourceType")
        if kind == "Patient":
            patients.append((position, full_url, resource))
        elif kind == "Medication":
            for key in (full_url, _local_reference("Medication", resource.get("id"))):
                if key is not None:
                    medications[key] = resource
        elif isinstance(kind, str) and kind in _PATIENT_FIELD:
            clinical.append((position, resource))
        else:
            tally.note(f"resource {kind}" if isinstance(kind, str) else "resource without a type")

    # Who each patient is: its fullUrl and `Patient/<id>` both refer to it.
    keys: dict[str, int] = {}
    ids: list[str | None] = []
    for number, (_, full_url, resource) in enumerate(patients):
        identifier = _text(resource.get("id"))
        ids.append(identifier)
        for key in (full_url, None if identifier is None else f"Patient/{identifier}"):
            if key is not None:
                keys.setdefault(key, number)
    owned: list[list[tuple[str, Mapping[str, Any]]]] = [[] for _ in patients]
    orphans: dict[str, list[str]] = {}
    for position, resource in clinical:
        kind = str(resource["resourceType"])
        reference = _reference(resource, kind)
        if reference is None:
            if len(patients) == 1:  # a patient's own bundle: the resource is about that patient
                owned[0].append((position, resource))
            else:
                tally.note(f"{kind} without a patient reference")
            continue
        owner = keys.get(reference)
        if owner is None:
            key = _patient_key(reference)
            if key is None:
                tally.note(f"{kind} subject is not a patient")
                continue
            owner = keys.get(f"Patient/{key}")
            if owner is None:
                orphans.setdefault(key, []).append(f"{kind} ({name} {position})".strip())
                continue
        owned[owner].append((position, resource))

    def medication(reference: str) -> Mapping[str, Any] | None:
        found = medications.get(reference)
        if found is None and (key := _typed_key(reference, "Medication")) is not None:
            found = medications.get(f"Medication/{key}")
        return found

    counts: dict[str | None, int] = {}
    for identifier in ids:
        counts[identifier] = counts.get(identifier, 0) + 1
    for number, (position, full_url, resource) in enumerate(patients):
        identifier = ids[number]
        where = f"{name} {position}".strip()
        if identifier is None:
            label = full_url or where
            yield Entry(id=label, record=None, error="the Patient has no id", where=where)
            continue
        if counts[identifier] > 1:
            error = f"{counts[identifier]} Patients in {name} have the id {identifier!r}"
            yield Entry(id=identifier, record=None, error=error, where=where)
            continue
        if identifier in seen:
            error = f"patient {identifier!r} was read already, from {seen[identifier]}"
            yield Entry(id=identifier, record=None, error=error, where=where)
            continue
        seen[identifier] = where
        yield mapper.entry(
            identifier,
            resource,
            ((f"{name} {at}", item) for at, item in owned[number]),
            medication,
            closed,
            where,
        )
    for key, resources in orphans.items():
        error = f"no Patient resource for Patient/{key} in {name} ({len(resources)} resources)"
        yield Entry(id=key, record=None, error=error, where=name)
    if not patients and not orphans:
        held = f" ({len(clinical)} clinical resources without a patient)" if clinical else ""
        yield _file_error(name, f"no Patient resource{held}")


def _file_error(name: str, error: str) -> Entry:
    return Entry(id=name, record=None, error=error, where=name)


def _reference(resource: Mapping[str, Any], kind: str) -> str | None:
    field = resource.get(_PATIENT_FIELD[kind])
    return _text(field.get("reference")) if isinstance(field, dict) else None


def _patient_key(reference: str) -> str | None:
    """The patient id a reference names (``Patient/7``, ``http://x/Patient/7/_history/2``,
    ``urn:uuid:7`` whose Patient's id is its uuid, as in Synthea's exports); None for other
    types."""
    if reference.startswith("urn:uuid:"):
        return reference[len("urn:uuid:") :] or None
    return _typed_key(reference, "Patient")


def _typed_key(reference: str, kind: str) -> str | None:
    parts = reference.split("/_history/", 1)[0].rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == kind and parts[-1]:
        return parts[-1]
    return None


def _local_reference(kind: str, identifier: object) -> str | None:
    return f"{kind}/{identifier}" if isinstance(identifier, str) and identifier else None


# ---- NDJSON ---------------------------------------------------------------------------------------


class _Export:
    """A Bulk Data export, indexed: where each patient's lines are, by byte offset.

    The index holds runs, not lines: consecutive lines of one patient in one file are one run
    (its start and end offsets, and the patient's number: 20 bytes). An export whose files are
    grouped by patient, as most servers write them, costs a run per patient and file, and reads
    back sequentially; one in any order costs a run per line.
    """

    def __init__(self, files: list[Path], name_of: Callable[[Path], str], tally: Tally) -> None:
        self.files = files
        self.names = [name_of(path) for path in files]
        self.tally = tally
        self.types: set[str] = set()
        self.numbers: dict[str, int] = {}  # patient id -> number
        self.keys: list[str] = []  # number -> patient id
        self.lines = array("l")  # number -> how many resource lines refer to the patient
        self.patient_lines: dict[int, list[tuple[int, int, int]]] = {}  # (file, offset, line)
        # In input order: ("patient", number) or ("broken", where, id, error).
        self.slots: list[tuple[str, Any, Any, Any]] = []
        self.medications: dict[str, Mapping[str, Any]] = {}
        self._owners = array("l")
        self._starts = array("q")  # file number << 40 | offset of the run's first line
        self._ends = array("q")  # offset just after the run's last line
        self._owner = -1  # the open run's patient, or -1
        for number, path in enumerate(files):
            self._scan(number, path)
        self.first, self.run_starts, self.run_ends = _group(
            self._owners, self._starts, self._ends, len(self.keys)
        )
        del self._owners, self._starts, self._ends

    def _number(self, key: str) -> int:
        number = self.numbers.get(key)
        if number is None:
            number = self.numbers[key] = len(self.keys)
            self.keys.append(key)
            self.lines.append(0)
        return number

    def _scan(self, file_number: int, path: Path) -> None:
        name = self.names[file_number]
        try:
            handle = path.open("rb", buffering=LINE_BUFFER)  # long lines: see LINE_BUFFER
        except OSError as error:
            self.slots.append(("broken", name, name, f"cannot read: {error}"))
            return
        self._owner = -1
        with handle:
            offset = 0
            for line_number, line in enumerate(handle, start=1):
                at = offset
                offset += len(line)
                if not line.strip():
                    if self._owner >= 0 and self._ends[-1] == at:
                        self._ends[-1] = offset  # a blank line inside a run
                    continue
                owner = self._line(line, file_number, at, line_number)
                if owner < 0:
                    self._owner = -1
                elif owner == self._owner and self._ends[-1] == at:
                    self._ends[-1] = offset
                else:
                    self._owner = owner
                    self._owners.append(owner)
                    self._starts.append(file_number << _OFFSET_BITS | at)
                    self._ends.append(offset)

    def _line(self, line: bytes, file_number: int, offset: int, line_number: int) -> int:
        """The number of the patient whose resource ``line`` is, or -1 (noted or counted)."""
        where = f"{self.names[file_number]}:{line_number}"
        resource: Any = None
        kind: str | None = None
        match = _RESOURCE_TYPE.search(line)
        if match is not None and line.count(b'"resourceType"') == 1:
            kind = match.group(1).decode()
        else:
            resource, _ = _parse(line)
            if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
                kind = resource["resourceType"]
            else:
                self._unreadable(line, where, file_number)
                return -1
        assert kind is not None
        self.types.add(kind)
        if kind in ("Patient", "Medication"):
            if resource is None:
                resource, _ = _parse(line)
            if not isinstance(resource, dict):
                self._unreadable(line, where, file_number)
                return -1
            if kind == "Medication":
                key = _local_reference("Medication", resource.get("id"))
                if key is not None:
                    self.medications[key] = resource
                return -1
            identifier = _text(resource.get("id"))
            if identifier is None:
                self.slots.append(("broken", where, where, "the Patient has no id"))
                return -1
            number = self._number(identifier)
            lines = self.patient_lines.setdefault(number, [])
            if not lines:
                self.slots.append(("patient", number, None, None))
            lines.append((file_number, offset, line_number))
            return -1
        if kind not in _PATIENT_FIELD:
            self.tally.note(f"resource {kind}")
            return -1
        reference: str | None = None
        if resource is None and line.count(b'"subject"') + line.count(b'"patient"') == 1:
            found = _REFERENCE.search(line)
            if found is not None:
                reference = found.group(1).decode("utf-8", "replace")
        if reference is None:
            if resource is None:
                resource, _ = _parse(line)
            if not isinstance(resource, dict):
                self._unreadable(line, where, file_number)
                return -1
            reference = _reference(resource, kind)
        if reference is None:
            self.tally.note(f"{kind} without a patient reference")
            return -1
        key = _patient_key(reference)
        if key is None:
            self.tally.note(f"{kind} subject is not a patient")
            return -1
        number = self._number(key)
        self.lines[number] += 1
        return number

    def _unreadable(self, line: bytes, where: str, file_number: int) -> None:
        """A line that is not a JSON resource: a patient's entry with the error when it looks
        like a Patient (so no patient is lost), else counted."""
        looks_like_patient = (
            b'"Patient"' in line or Path(self.names[file_number]).name.startswith("Patient")
        ) and b'"resourceType"' in line
        if looks_like_patient:
            found = _ID.search(line)
            identifier = found.group(1).decode("utf-8", "replace") if found else where
            self.slots.append(("broken", where, identifier, "not a readable JSON resource"))
        else:
            self.tally.note(f"unreadable line in {self.names[file_number]}")

    def entries(
        self, mapper: _Mapper, closed: frozenset[str], seen: dict[str, str]
    ) -> Iterator[Entry]:
        maps: dict[int, mmap.mmap | bytes] = {}
        try:
            for kind, first, second, third in self.slots:
                if kind == "broken":
                    yield Entry(id=second, record=None, error=third, where=first)
                else:
                    yield from self._patient(first, mapper, closed, seen, maps)
            for number, key in enumerate(self.keys):
                if number not in self.patient_lines:
                    count = self.lines[number]
                    error = f"no Patient resource for Patient/{key} ({count} resources refer to it)"
                    yield Entry(id=key, record=None, error=error, where="NDJSON export")
        finally:
            for opened in maps.values():
                if isinstance(opened, mmap.mmap):
                    opened.close()

    def _patient(
        self,
        number: int,
        mapper: _Mapper,
        closed: frozenset[str],
        seen: dict[str, str],
        maps: dict[int, mmap.mmap | bytes],
    ) -> Iterator[Entry]:
        key = self.keys[number]
        lines = self.patient_lines[number]
        if len(lines) > 1:
            places = ", ".join(f"{self.names[file]}:{line}" for file, _, line in lines)
            for file, _, line in lines:
                error = f"{len(lines)} Patients have the id {key!r} ({places})"
                yield Entry(id=key, record=None, error=error, where=f"{self.names[file]}:{line}")
            return
        file, offset, line_number = lines[0]
        where = f"{self.names[file]}:{line_number}"
        if key in seen:
            error = f"patient {key!r} was read already, from {seen[key]}"
            yield Entry(id=key, record=None, error=error, where=where)
            return
        seen[key] = where
        data = self._data(file, maps)
        end = data.find(b"\n", offset)
        patient, _ = _parse(data[offset : end if end >= 0 else len(data)])
        if not isinstance(patient, dict):
            yield Entry(id=key, record=None, error="the Patient line cannot be read", where=where)
            return
        yield mapper.entry(
            key,
            patient,
            self._resources(number, key, maps),
            lambda reference: self.medications.get(
                f"Medication/{_typed_key(reference, 'Medication')}"
            ),
            closed,
            where,
        )

    def _resources(
        self, number: int, key: str, maps: dict[int, mmap.mmap | bytes]
    ) -> Iterator[tuple[str, Mapping[str, Any] | str]]:
        mask = (1 << _OFFSET_BITS) - 1
        for run in range(self.first[number], self.first[number + 1]):
            location = self.run_starts[run]
            file, offset = location >> _OFFSET_BITS, location & mask
            data, end = self._data(file, maps), self.run_ends[run]
            while offset < end:
                stop = data.find(b"\n", offset, end)
                stop = end if stop < 0 else stop
                at, line, offset = offset, data[offset:stop], stop + 1
                if not line.strip():
                    continue
                where = f"{self.names[file]} byte {at}"
                resource, error = _parse(line)
                if not isinstance(resource, dict):
                    self.tally.note("unreadable line")
                    yield where, error or "not a JSON object"
                    continue
                kind = resource.get("resourceType")
                reference = _reference(resource, kind) if kind in _PATIENT_FIELD else None
                if reference is None or _patient_key(reference) != key:
                    # The quick scan took another field for the subject: not this patient's line.
                    self.tally.note("line placed by a field other than its subject")
                    yield where, f"its subject is {reference}, not Patient/{key}"
                    continue
                yield where, resource

    def _data(self, file: int, maps: dict[int, mmap.mmap | bytes]) -> mmap.mmap | bytes:
        data = maps.get(file)
        if data is None:
            try:
                with self.files[file].open("rb") as handle:
                    data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                data = b""  # emptied or removed since the first pass
            maps[file] = data
        return data


def _group(
    owners: array[int], starts: array[int], ends: array[int], count: int
) -> tuple[array[int], array[int], array[int]]:
    """The runs grouped by owner (a counting sort, stable): runs ``first[n]`` to
    ``first[n + 1]`` of the returned starts and ends are owner ``n``'s, in input order."""
    first = array("q", bytes(8 * (count + 1)))
    for owner in owners:
        first[owner + 1] += 1
    for number in range(count):
        first[number + 1] += first[number]
    cursor = array("q", first)
    sorted_starts = array("q", bytes(8 * len(starts)))
    sorted_ends = array("q", bytes(8 * len(ends)))
    for owner, start, end in zip(owners, starts, ends, strict=True):
        place = cursor[owner]
        sorted_starts[place] = start
        sorted_ends[place] = end
        cursor[owner] = place + 1
    return first, sorted_starts, sorted_ends


# ---- one patient's resources -> a Record -----------------------------------------------------------


class _Chart:
    """What one patient's resources say, as it is gathered."""

    __slots__ = ("conditions", "events", "facts", "labs", "problems")

    def __init__(self) -> None:
        self.labs: list[LabResult] = []
        # fact name -> (date or date.min, value): the latest value wins
        self.facts: dict[str, tuple[datetime.date, FactValue]] = {}
        self.events: list[Occurrence] = []
        self.conditions: list[Occurrence] = []
        self.problems: list[str] = []


class _Mapper:
    """Maps resources into records; holds the dictionary, the tally and the look-up caches."""

    def __init__(self, dictionary: Dictionary | None, tally: Tally) -> None:
        self.dictionary = dictionary
        self.tally = tally
        self._days: dict[str, datetime.date | str] = {}
        self._units: dict[tuple[object, object, object], tuple[str | None, str | None]] = {}
        self._codes: dict[tuple[str, tuple[tuple[str | None, str | None], ...]], _CodeChoice] = {}

    def entry(
        self,
        identifier: str,
        patient: Mapping[str, Any],
        resources: Iterator[tuple[str, Mapping[str, Any] | str]],
        medication: Callable[[str], Mapping[str, Any] | None],
        closed: frozenset[str],
        where: str,
    ) -> Entry:
        try:
            return Entry(
                id=identifier,
                record=self.record(patient, resources, medication, closed),
                where=where,
            )
        except Exception as error:  # a bug, not the data: the patient is still reported
            message = f"internal error reading this patient: {type(error).__name__}: {error}"
            return Entry(id=identifier, record=None, error=message, where=where)

    def record(
        self,
        patient: Mapping[str, Any],
        resources: Iterator[tuple[str, Mapping[str, Any] | str]],
        medication: Callable[[str], Mapping[str, Any] | None],
        closed: frozenset[str],
    ) -> Record:
        chart = _Chart()
        facts: dict[str, FactValue] = {}
        birth_date = self._patient(patient, chart, facts)
        for where, resource in resources:
            if isinstance(resource, str):  # a line that could not be read
                chart.problems.append(f"{where}: {resource}")
                continue
            kind = str(resource.get("resourceType"))
            source = _source(kind, resource, where)
            status = _text(resource.get("status"))
            if status is not None and status in _VOID_STATUS.get(kind, ()):
                self.tally.note(f"{kind} status {status}")
                continue
            if kind == "Observation":
                self._observation(resource, source, chart)
            elif kind == "Condition":
                self._condition(resource, source, chart)
            else:
                self._event(kind, resource, source, chart, medication)
        for name, (_, value) in chart.facts.items():
            facts[name] = value
        conditions = self._section(CONDITIONS, chart.conditions, closed)
        events = self._section(EVENTS, chart.events, closed)
        sex = (_text(patient.get("gender")) or "").lower() or None
        return Record(
            id=_text(patient.get("id")),
            birth_date=birth_date,
            sex=sex if sex in _SEXES else None,
            age=None,
            anchors={},
            facts=facts,
            labs=tuple(chart.labs),
            events=events,
            conditions=conditions,
            problems=tuple(chart.problems),
        )

    def _section(
        self, name: str, items: list[Occurrence], closed: frozenset[str]
    ) -> tuple[Occurrence, ...] | None:
        if name in closed:
            return tuple(items)
        if items:
            # Handing them over would make the section closed-world: absence would read as "no".
            self.tally.note(f"{name} not used: the input does not provide the section", len(items))
        return None

    # ---- Patient ----

    def _patient(
        self, patient: Mapping[str, Any], chart: _Chart, facts: dict[str, FactValue]
    ) -> datetime.date | None:
        gender = patient.get("gender")
        if gender is not None and (_text(gender) or "").lower() not in _SEXES:
            chart.problems.append(f"Patient.gender {gender!r} is not one of {sorted(_SEXES)}")
        birth_date = None
        if patient.get("birthDate") is not None:
            birth_date = self._day(patient.get("birthDate"), "Patient.birthDate", chart)
        deceased = patient.get("deceasedBoolean")
        if isinstance(deceased, bool):
            facts["deceased"] = deceased
        elif patient.get("deceasedDateTime") is not None:
            facts["deceased"] = True
            day = self._day(patient.get("deceasedDateTime"), "Patient.deceasedDateTime", chart)
            if day is not None:
                facts["death_date"] = day
        return birth_date

    # ---- Observation ----

    def _observation(self, resource: Mapping[str, Any], source: str, chart: _Chart) -> None:
        values = [key for key in resource if key.startswith("value")]
        components = _list(resource.get("component"))
        required = "Observation" if values or components else None
        day, until = self._when(resource, "effective", source, chart, required=required)
        day = day or until
        if day is None and any(resource.get(f"effective{kind}") for kind in _DATE_KINDS):
            # An unreadable date (noted): as in a native record, a result that cannot be
            # placed in any window is left out; one with no date at all is kept undated.
            self.tally.note("Observation with an unreadable date")
            return
        if values:
            code = self._code(resource.get("code"), "Observation", chart)
            if code is not None:
                self._result(code, resource, values[0], day, source, chart)
        for index, component in enumerate(components):
            if not isinstance(component, dict):
                chart.problems.append(f"{source}: component {index} is not an object")
                continue
            keys = [key for key in component if key.startswith("value")]
            if not keys:
                self.tally.note("Observation component without a value")
                continue
            code = self._code(component.get("code"), "Observation", chart)
            if code is not None:
                self._result(code, component, keys[0], day, source, chart)
        if not values and not components:
            absent = "dataAbsentReason" in resource or "hasMember" in resource
            self.tally.note(f"Observation without a value{' (by design)' if absent else ''}")

    def _result(
        self,
        code: str,
        holder: Mapping[str, Any],
        key: str,
        day: datetime.date | None,
        source: str,
        chart: _Chart,
    ) -> None:
        read = self._value(holder, key, source, chart)
        if read is None:
            return
        value, unit = read
        if self.dictionary is not None:
            # A fact's result (body weight, ECOG) is also that fact: facts are what a fact
            # variable reads. The result stays a lab too, as the OMOP reader keeps it.
            fact = next((v for v in self.dictionary.by_code(code) if v.kind == FACT), None)
            if fact is not None:
                self._fact(fact.name, fact.value_type, value, unit, day, source, chart)
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, datetime.date):
            self.tally.note("Observation valueDateTime (not a lab value)")
            return
        low, high = self._limits(holder, unit, chart)
        chart.labs.append(
            LabResult(
                name=None,
                code=code,
                value=value,
                unit=unit,
                date=day,
                low=low,
                high=high,
                source=source,
            )
        )

    def _value(
        self, holder: Mapping[str, Any], key: str, source: str, chart: _Chart
    ) -> tuple[Fraction | str | bool | datetime.date, str | None] | None:
        raw = holder.get(key)
        if key == "valueQuantity":
            if not isinstance(raw, dict):
                chart.problems.append(f"{source}: valueQuantity is not an object")
                return None
            comparator = _text(raw.get("comparator"))
            if comparator is not None and comparator != "=":
                # "<0.5": a bound, not a value; reading it as 0.5 would be a guess.
                chart.problems.append(
                    f"{source}: value {comparator}{raw.get('value')} is a bound, not a value"
                )
                self.tally.note(f"Observation comparator {comparator}")
                return None
            number = _number(raw.get("value"))
            if number is None:
                chart.problems.append(f"{source}: value {raw.get('value')!r} is not a number")
                return None
            unit, problem = self._unit(raw)
            if problem is not None:
                chart.problems.append(f"{source}: {problem}")
                return None
            return number, unit
        if key == "valueCodeableConcept":
            answer = _answer(raw)
            if answer is None:
                chart.problems.append(f"{source}: valueCodeableConcept has no code or text")
            return None if answer is None else (answer, None)
        if key == "valueString":
            text = _text(raw)
            if text is None:
                chart.problems.append(f"{source}: valueString is empty")
                return None
            number = _number(text)
            return (number, None) if number is not None else (_word(text), None)
        if key == "valueBoolean" and isinstance(raw, bool):
            return raw, None
        if key == "valueInteger" and isinstance(raw, int) and not isinstance(raw, bool):
            return Fraction(raw), None
        if key == "valueDateTime":
            day = self._day(raw, f"{source} valueDateTime", chart)
            return None if day is None else (day, None)
        if key in ("valueBoolean", "valueInteger"):
            chart.problems.append(f"{source}: {key} {raw!r} has the wrong type")
            return None
        self.tally.note(f"Observation {key}")
        return None

    def _fact(
        self,
        name: str,
        value_type: str,
        value: Fraction | str | bool | datetime.date,
        unit: str | None,
        day: datetime.date | None,
        source: str,
        chart: _Chart,
    ) -> None:
        fact: FactValue | None = None
        if value_type == "quantity":
            if isinstance(value, Fraction) and unit is not None:
                fact = (value, unit)
        elif value_type in ("number", "integer"):
            if isinstance(value, Fraction) and (unit is None or _is_pure_number(unit)):
                fact = value
        elif value_type == "boolean":
            if isinstance(value, bool):
                fact = value
            elif isinstance(value, str) and value in _TRUE_WORDS | _FALSE_WORDS:
                fact = value in _TRUE_WORDS
        elif value_type == "symbol":
            fact = value if isinstance(value, str) else None
        elif value_type == "date":
            fact = value if isinstance(value, datetime.date) else None
        if fact is None:
            shown = f"{value} {unit}" if unit else repr(value)
            chart.problems.append(f"{source}: {name} {shown} is not a {value_type}")
            self.tally.note(f"Observation fact {name} not a {value_type}")
            return
        when = day or datetime.date.min
        previous = chart.facts.get(name)
        if previous is None or when >= previous[0]:
            chart.facts[name] = (when, fact)

    def _unit(self, quantity: Mapping[str, Any]) -> tuple[str | None, str | None]:
        """A Quantity's unit as a UCUM code: its ``code`` when the system is UCUM (or not given),
        else its ``unit`` text through the clinical spellings; or why it cannot be read."""
        key = (quantity.get("code"), quantity.get("unit"), quantity.get("system"))
        if not all(part is None or isinstance(part, str) for part in key):
            return None, f"unit {key[0] if key[0] is not None else key[1]!r} is not text"
        found = self._units.get(key)
        if found is None:
            found = _read_unit(*key)
            if len(self._units) < _CACHE_LIMIT:
                self._units[key] = found
        if found[1] is not None:
            self.tally.note(f"unit {_unit_text(*key)}")
        return found

    def _limits(
        self, holder: Mapping[str, Any], unit: str | None, chart: _Chart
    ) -> tuple[Fraction | None, Fraction | None]:
        """The normal range's low and high, in the result's unit (the first range whose type is
        absent or `normal`)."""
        for item in _list(holder.get("referenceRange")):
            if not isinstance(item, dict):
                continue
            meaning = _codes_of(item.get("type"))
            if meaning and "normal" not in meaning:
                continue
            return self._limit(item.get("low"), unit), self._limit(item.get("high"), unit)
        return None, None

    def _limit(self, quantity: object, unit: str | None) -> Fraction | None:
        if not isinstance(quantity, dict):
            return None
        value = _number(quantity.get("value"))
        if value is None:
            self.tally.note("referenceRange limit without a number")
            return None
        own, problem = _read_unit(
            quantity.get("code"), quantity.get("unit"), quantity.get("system")
        )
        if problem is not None or (own is None) != (unit is None):
            self.tally.note("referenceRange limit in no unit or another unit than its result")
            return None
        if own == unit:
            return value
        assert own is not None and unit is not None
        try:
            if same_kind(own, unit):
                return convert_exact(value, own, unit)
        except UnitError:
            pass
        self.tally.note("referenceRange limit in a unit that does not convert to its result's")
        return None

    # ---- Condition and events ----

    def _condition(self, resource: Mapping[str, Any], source: str, chart: _Chart) -> None:
        verification = _codes_of(resource.get("verificationStatus"))
        void = verification & _VOID_VERIFICATION
        if void:
            self.tally.note(f"Condition verificationStatus {sorted(void)[0]}")
            return
        code = self._code(resource.get("code"), "Condition", chart)
        if code is None:
            return
        start, _ = self._when(resource, "onset", source, chart, required="Condition")
        # An abatement period: the condition lasted until its end, at the latest.
        abated, until = self._when(resource, "abatement", source, chart)
        end = until or abated
        status = sorted(_codes_of(resource.get("clinicalStatus")))
        self._occurrence(
            chart.conditions, code, start, end, status[0] if status else None, source, chart
        )

    def _event(
        self,
        kind: str,
        resource: Mapping[str, Any],
        source: str,
        chart: _Chart,
        medication: Callable[[str], Mapping[str, Any] | None],
    ) -> None:
        if kind == "MedicationRequest":
            intent = _text(resource.get("intent"))
            if intent in _NOT_ORDERS:
                self.tally.note(f"MedicationRequest intent {intent}")
                return
        if kind == "Immunization":
            concept = resource.get("vaccineCode")
        elif kind == "Procedure":
            concept = resource.get("code")
        else:
            concept = resource.get("medicationCodeableConcept")
            if concept is None:
                concept = self._medication(resource, medication, kind)
        code = self._code(concept, kind, chart)
        if code is None:
            return
        if kind == "MedicationRequest":
            # Ordered on authoredOn; taken over the dosage's bounds when it gives them.
            bounds = _dosage_bounds(resource)
            required = None if bounds is not None else kind
            start, end = self._when(resource, "authoredOn", source, chart, required=required)
            if bounds is not None:
                first, end = self._period(bounds, f"{source} boundsPeriod", chart)
                start = start or first
        else:
            prefix = _EVENT_DATE[kind]
            start, end = self._when(resource, prefix, source, chart, required=kind)
        self._occurrence(
            chart.events, code, start, end, _text(resource.get("status")), source, chart
        )

    def _medication(
        self,
        resource: Mapping[str, Any],
        medication: Callable[[str], Mapping[str, Any] | None],
        kind: str,
    ) -> object:
        reference = resource.get("medicationReference")
        target = _text(reference.get("reference")) if isinstance(reference, dict) else None
        if target is None:
            return None
        if target.startswith("#"):
            for contained in _list(resource.get("contained")):
                if isinstance(contained, dict) and contained.get("id") == target[1:]:
                    return contained.get("code")
        else:
            found = medication(target)
            if found is not None:
                return found.get("code")
        self.tally.note(f"{kind} medicationReference not found")
        return None

    def _occurrence(
        self,
        into: list[Occurrence],
        code: str,
        start: datetime.date | None,
        end: datetime.date | None,
        status: str | None,
        source: str,
        chart: _Chart,
    ) -> None:
        if start is not None and end is not None and end < start:
            chart.problems.append(f"{source}: ends ({end}) before it starts ({start})")
            return
        into.append(
            Occurrence(
                name=None,
                code=code,
                start=start,
                end=end,
                status=status,
                source=source,
                condition=into is chart.conditions,
            )
        )

    # ---- codes and dates ----

    def _code(self, concept: object, kind: str, chart: _Chart) -> str | None:
        """The one code a record entry gets for ``concept``, the tally noted."""
        codings = concept.get("coding") if isinstance(concept, dict) else None
        key = tuple(
            (_text(item.get("system")), _text(item.get("code")))
            for item in (codings if isinstance(codings, list) else ())
            if isinstance(item, dict)
        )
        choice = self._codes.get((kind, key))
        if choice is None:
            choice = self._choose(kind, key)
            if len(self._codes) < _CACHE_LIMIT:
                self._codes[(kind, key)] = choice
        for note in choice.notes:
            self.tally.note(note)
        return choice.code

    def _choose(self, kind: str, codings: tuple[tuple[str | None, str | None], ...]) -> _CodeChoice:
        notes = []
        known = []
        for system, code in codings:
            if system is None or code is None:
                continue
            name = CODE_SYSTEMS.get(_system_url(system))
            if name is None:
                notes.append(f"{kind} code system {system}")
            else:
                known.append(f"{name}:{code}")
        if not known:
            notes.append(f"{kind} without a code in a known system")
            return _CodeChoice(None, tuple(notes))
        if self.dictionary is None:
            return _CodeChoice(known[0], tuple(notes))
        stands_for = [frozenset(v.name for v in self.dictionary.by_code(code)) for code in known]
        best = max(range(len(known)), key=lambda index: len(stands_for[index]))
        if not stands_for[best]:
            notes.append(f"{kind} {known[0]}")
            return _CodeChoice(known[0], tuple(notes))
        if any(not names <= stands_for[best] for names in stands_for):
            notes.append(f"{kind} {known[best]}: other codings stand for other variables")
        return _CodeChoice(known[best], tuple(notes))

    def _when(
        self,
        resource: Mapping[str, Any],
        prefix: str,
        source: str,
        chart: _Chart,
        *,
        required: str | None = None,
    ) -> tuple[datetime.date | None, datetime.date | None]:
        """``{prefix}DateTime`` (or a bare ``{prefix}``) or ``{prefix}Instant`` as (date, None),
        ``{prefix}Period`` as (start, end). ``required`` is the resource type when a missing
        date is a problem to note."""
        for key in (f"{prefix}DateTime", prefix, f"{prefix}Instant"):
            value = resource.get(key)
            if value is not None:
                return self._day(value, f"{source} {key}", chart), None
        period = resource.get(f"{prefix}Period")
        if period is not None:
            return self._period(period, f"{source} {prefix}Period", chart)
        if required is not None:
            # onsetAge, performedString ...: when it happened is not a date.
            other = next((key for key in resource if key.startswith(prefix)), None)
            if other is not None:
                chart.problems.append(f"{source}: {other} is not a date, so it has no date")
                self.tally.note(f"{required} {other} (no date)")
            else:
                chart.problems.append(f"{source} has no date")
                self.tally.note(f"{required} without a date")
        return None, None

    def _period(
        self, period: object, where: str, chart: _Chart
    ) -> tuple[datetime.date | None, datetime.date | None]:
        if not isinstance(period, dict):
            chart.problems.append(f"{where} is not a Period")
            return None, None
        start = self._day(period["start"], f"{where}.start", chart) if "start" in period else None
        end = self._day(period["end"], f"{where}.end", chart) if "end" in period else None
        return start, end

    def _day(self, value: object, where: str, chart: _Chart) -> datetime.date | None:
        if not isinstance(value, str):
            chart.problems.append(f"{where}: {value!r} is not a date")
            return None
        found = self._days.get(value)
        if found is None:
            found = _read_day(value)
            if len(self._days) < _CACHE_LIMIT:
                self._days[value] = found
        if isinstance(found, str):
            chart.problems.append(f"{where}: {found}")
            return None
        return found


class _CodeChoice:
    __slots__ = ("code", "notes")

    def __init__(self, code: str | None, notes: tuple[str, ...]) -> None:
        self.code = code
        self.notes = notes


# ---- small readers --------------------------------------------------------------------------------


def _source(kind: str, resource: Mapping[str, Any], where: str) -> str:
    """How evidence names a resource. Conditions' names start with ``conditions``: that is how
    the evaluator tells a condition (ongoing without an abatement) from an event (one day)."""
    identifier = resource.get("id")
    name = f"{kind}/{identifier}" if isinstance(identifier, str) else f"{kind} ({where})"
    return f"conditions: {name}" if kind == "Condition" else name


def _text(value: object) -> str | None:
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _number(value: object) -> Fraction | None:
    """An exact number (JSON decimals arrive as ``Decimal``), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, Decimal):
        return Fraction(value) if value.is_finite() else None
    if isinstance(value, float):
        return Fraction(Decimal(repr(value))) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return Fraction(number) if number.is_finite() else None
    return None


def _read_day(text: str) -> datetime.date | str:
    """The calendar date of a FHIR date, dateTime or instant as written (its local date), or why
    it has none: a year or a year and month alone do not place a result in a window."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.date.fromisoformat(value)
        if len(value) > 10 and value[10] == "T":
            return datetime.datetime.fromisoformat(value).date()
    except ValueError:
        pass
    if re.fullmatch(r"\d{4}(-\d{2})?", value):
        return f"{value!r} gives only the year or month, not the day"
    return f"{value!r} is not a date"


def _unit_candidates(code: object, text: object, system: object) -> list[str]:
    """What may name a Quantity's unit, in order: the UCUM code, then the text."""
    candidates = []
    code_text = _text(code)
    if code_text is not None and (system is None or system == UCUM):
        candidates.append(code_text)
    unit_text = _text(text)
    if unit_text is not None and unit_text not in candidates:
        candidates.append(unit_text)
    return candidates


def _unit_text(code: object, text: object, system: object) -> str:
    return next(iter(_unit_candidates(code, text, system)), "")


def _read_unit(code: object, text: object, system: object) -> tuple[str | None, str | None]:
    candidates = _unit_candidates(code, text, system)
    if not candidates:
        return None, None
    reason = ""
    for candidate in candidates:
        try:
            return parse_unit(candidate).code, None
        except UnitError as error:
            reason = reason or error.reason
    return None, f"unit {candidates[0]!r} cannot be read ({reason})"


def _is_pure_number(unit: str) -> bool:
    """``1``, ``{score}``: a count or score with no dimension and no factor."""
    parsed = parse_unit(unit)
    return parsed.dimension == _DIMENSIONLESS and parsed.factor == 1


def _system_url(system: str) -> str:
    url = system.strip().rstrip("/")
    return "http://" + url[len("https://") :] if url.startswith("https://") else url


def _codes_of(concept: object) -> frozenset[str]:
    """The codes of a status CodeableConcept (``clinicalStatus``), lower case."""
    if not isinstance(concept, dict):
        return frozenset()
    return frozenset(
        code.strip().lower()
        for item in _list(concept.get("coding"))
        if isinstance(item, dict) and isinstance(code := item.get("code"), str) and code.strip()
    )


def _answer(concept: object) -> str | None:
    """A coded answer as the word a criterion compares (``positive``), else its text."""
    if not isinstance(concept, dict):
        return None
    codings = [item for item in _list(concept.get("coding")) if isinstance(item, dict)]
    for item in codings:
        system, code = item.get("system"), _text(item.get("code"))
        if not isinstance(system, str) or code is None:
            continue
        url = _system_url(system)
        name = "V3" if url == _V3_INTERPRETATION else CODE_SYSTEMS.get(url)
        word = _ANSWERS.get((name or "", code))
        if word is not None:
            return word
    text = _text(concept.get("text"))
    if text is None:
        for item in codings:
            text = _text(item.get("display")) or _text(item.get("code"))
            if text is not None:
                break
    return None if text is None else _word(text)


_SEMANTIC_TAG = re.compile(
    r"\s*\((?:finding|qualifier value|disorder|observable entity|procedure|situation|"
    r"morphologic abnormality|substance|regime/therapy|event|attribute|body structure)\)$"
)


def _word(text: str) -> str:
    """An answer as a symbol a criterion can compare: lower case, spaces as ``_``, a trailing
    SNOMED CT semantic tag dropped (``Never smoker (finding)`` -> ``never_smoker``), as the OMOP
    reader writes concept names."""
    return "_".join(_SEMANTIC_TAG.sub("", text.strip().lower()).split())


def _dosage_bounds(resource: Mapping[str, Any]) -> object:
    """A MedicationRequest's ``dosageInstruction[0].timing.repeat.boundsPeriod``, if any."""
    for dosage in _list(resource.get("dosageInstruction")):
        timing = dosage.get("timing") if isinstance(dosage, dict) else None
        repeat = timing.get("repeat") if isinstance(timing, dict) else None
        if isinstance(repeat, dict) and repeat.get("boundsPeriod") is not None:
            return repeat.get("boundsPeriod")
    return None
