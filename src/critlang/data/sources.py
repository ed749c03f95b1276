"""Where patients come from when a cohort is screened: one :class:`Entry` per input patient.

Every reader (native JSON/JSONL, CSV, FHIR R4, OMOP CDM) yields entries one patient at a time, so
that memory stays bounded however large the input is, and never drops a patient: a patient whose
data cannot be read is an entry with ``record`` None and the reason in ``error``. What a reader
could not map (a FHIR resource type it does not read, a code no dictionary variable has, a unit it
cannot read) is counted in its :class:`Tally`, never dropped silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Protocol

import attrs

from critlang.data.record import Record


@attrs.frozen(kw_only=True)
class Entry:
    """One input patient: its id in the source, and its record or why there is none."""

    id: str  # the source's id; when it has none, where it is ("rows.csv:17", "bundle.json")
    record: Record | None
    error: str | None = None  # why the record could not be read (record is None then)
    where: str = ""  # file and line, entry or row, for messages


@attrs.define
class Tally:
    """What a reader saw and did not use, by kind (``"Observation LOINC:1234-5"``,
    ``"resource Claim"``, ``"unit mg/dL/h"``), with how many times."""

    unmapped: Counter[str] = attrs.field(factory=Counter)

    def note(self, what: str, count: int = 1) -> None:
        self.unmapped[what] += count


class PatientSource(Protocol):
    """An input the screen reads: iterating it yields one entry per patient, in input order."""

    tally: Tally

    def __iter__(self) -> Iterator[Entry]: ...
