"""Patients from an OMOP CDM 5.4 export: a folder of CSV tables or a DuckDB database.

Use::

    source = read_omop("omop/")              # or "cdm.duckdb"
    for entry in source:
        print(entry.id, entry.error or len(entry.record.labs))
    print(source.tally.unmapped.most_common(5))

One :class:`~critlang.data.sources.Entry` per person in ``person``, in ``person_id`` order, read
one person at a time (see :mod:`critlang.data.omop_tables` for how memory stays bounded).

What becomes what (docs/data.md, "OMOP CDM", says it for users):

- ``person``: ``birth_date`` from year/month/day of birth (``birth_datetime`` when one is
  missing; a year alone gives no birth date, and the record says so); ``sex`` from
  ``gender_concept_id`` (8507 male, 8532 female, 8521 other, 8551 unknown).
- ``measurement`` and ``observation`` → ``labs``, coded by their concept (``LOINC:718-7``):
  ``value_as_number`` with the UCUM unit of ``unit_concept_id``, else ``value_as_concept_id`` (or
  an observation's ``value_as_string``, or a ``value_source_value`` in words) as a symbol
  (``Positive`` → ``positive``); ``range_low``/``range_high`` → ``low``/``high``. A row without a value is counted, not kept. A result whose
  code is a dictionary ``fact`` (ECOG, weight) also sets that fact, from the latest result.
- ``condition_occurrence`` → ``conditions`` (start, end, status); ``drug_exposure``,
  ``procedure_occurrence`` and ``visit_occurrence`` → ``events``.
- ``death`` → the facts ``deceased`` (true) and ``death_date``.

Closed world: the export is the person's whole record, so a person has a ``conditions`` section
(empty when they have no rows) whenever ``condition_occurrence`` is in the export, and an
``events`` section whenever both ``drug_exposure`` and ``procedure_occurrence`` are.

Codes: each row gets one code, so that ``count(...)`` counts rows. The candidates are the
standard concept's code, the source concept's code, a source value shaped like a LOINC code
(measurement, observation) or an ICD-10 code (condition) whose concept is not in ``concept``,
and for drugs the ATC classes found through ``concept_ancestor`` or the ``RxNorm - ATC``
relationships (of the drug or of its ingredients); the one that names the most dictionary
variables is kept (the standard concept on a tie).

Nothing in the tables raises: a cell that cannot be read is listed in the record's ``problems``
(the row is left out when it cannot be placed: a lab without a value or date), and what is not
used (a concept missing from ``concept``, a unit that is not UCUM, a code no dictionary variable
has, rows of persons not in ``person``) is counted in :attr:`OmopSource.tally`.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Literal

import attrs

from critlang.data.omop_tables import (
    Cell,
    CsvTables,
    DuckTables,
    OmopError,
    PersonKey,
    Row,
    Tables,
    csv_files,
    duckdb_available,
    header,
    identifier,
    load_duckdb,
)
from critlang.data.record import FactValue, LabResult, Occurrence, Record, looks_numeric
from critlang.data.sources import Entry, Tally
from critlang.errors import UnitError
from critlang.semantics.dictionary import FACT, Dictionary, standard
from critlang.units import parse_unit
from critlang.wording import number_text

__all__ = ["OmopError", "OmopSource", "read_omop"]

Engine = Literal["auto", "duckdb", "python"]

# gender_concept_id -> the `sex` fact's symbols
_SEX = {8507: "male", 8532: "female", 8521: "other", 8551: "unknown"}
# operator_concept_id -> its sign; only "=" (or none) makes value_as_number a result
_OPERATORS = {4172703: "=", 4171756: "<", 4171754: "<=", 4172704: ">", 4171755: ">="}
_EXACT = frozenset({0, 4172703})
# vocabulary_id -> the system the dictionary writes
_SYSTEMS = {"CPT4": "CPT"}
_INGREDIENT = "RxNorm has ing"
_TO_ATC = "RxNorm - ATC"  # "RxNorm - ATC pr lat", "... sec up" and the older plain name
# SNOMED CT's semantic tag ("Negative (qualifier value)"), which a verbatim value may carry
_SEMANTIC_TAG = re.compile(r"\s*\([a-z][a-z /-]*\)\s*$")
_NUMBER_DIGITS = 100
# Entries kept in each cache of cells already read (codes, numbers, dates repeat across rows).
_CACHE = 100_000
_NUMBERS: dict[str, Fraction] = {}
_DATES: dict[
    str, datetime.date | None
] = {}  # a number beyond 10**±100 is not a measurement: refuse it, do not expand it


@attrs.frozen
class _Guess:
    """A source value read as a code of ``system`` when it has this shape."""

    system: str
    shape: re.Pattern[str]


@attrs.frozen
class Spec:
    """What is read from one clinical table."""

    table: str
    id: str
    concept: str
    source_concept: str
    source_value: str
    start: tuple[str, str]  # date, datetime
    end: tuple[str, ...] = ()  # date, datetime, and any fallback
    extra: tuple[str, ...] = ()
    concept_extra: tuple[str, ...] = ()  # more columns that hold concept ids
    guess: _Guess | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return (
            self.id,
            self.concept,
            self.source_concept,
            self.source_value,
            *self.start,
            *self.end,
            *self.extra,
        )

    @property
    def concept_columns(self) -> tuple[str, ...]:
        return (self.concept, self.source_concept, *self.concept_extra)


_LOINC = _Guess("LOINC", re.compile(r"[0-9]{1,7}-[0-9]"))
_ICD10 = _Guess("ICD10", re.compile(r"[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?"))

MEASUREMENT = Spec(
    "measurement",
    "measurement_id",
    "measurement_concept_id",
    "measurement_source_concept_id",
    "measurement_source_value",
    ("measurement_date", "measurement_datetime"),
    extra=(
        "operator_concept_id",
        "value_as_number",
        "value_as_concept_id",
        "unit_concept_id",
        "unit_source_value",
        "range_low",
        "range_high",
        "value_source_value",
    ),
    concept_extra=("value_as_concept_id", "unit_concept_id"),
    guess=_LOINC,
)
OBSERVATION = Spec(
    "observation",
    "observation_id",
    "observation_concept_id",
    "observation_source_concept_id",
    "observation_source_value",
    ("observation_date", "observation_datetime"),
    extra=(
        "value_as_number",
        "value_as_string",
        "value_as_concept_id",
        "unit_concept_id",
        "unit_source_value",
        "value_source_value",
    ),
    concept_extra=("value_as_concept_id", "unit_concept_id"),
    guess=_LOINC,
)
CONDITION = Spec(
    "condition_occurrence",
    "condition_occurrence_id",
    "condition_concept_id",
    "condition_source_concept_id",
    "condition_source_value",
    ("condition_start_date", "condition_start_datetime"),
    ("condition_end_date", "condition_end_datetime"),
    extra=("condition_status_concept_id", "condition_status_source_value"),
    concept_extra=("condition_status_concept_id",),
    guess=_ICD10,
)
DRUG = Spec(
    "drug_exposure",
    "drug_exposure_id",
    "drug_concept_id",
    "drug_source_concept_id",
    "drug_source_value",
    ("drug_exposure_start_date", "drug_exposure_start_datetime"),
    ("drug_exposure_end_date", "drug_exposure_end_datetime", "verbatim_end_date"),
)
PROCEDURE = Spec(
    "procedure_occurrence",
    "procedure_occurrence_id",
    "procedure_concept_id",
    "procedure_source_concept_id",
    "procedure_source_value",
    ("procedure_date", "procedure_datetime"),
    ("procedure_end_date", "procedure_end_datetime"),
)
VISIT = Spec(
    "visit_occurrence",
    "visit_occurrence_id",
    "visit_concept_id",
    "visit_source_concept_id",
    "visit_source_value",
    ("visit_start_date", "visit_start_datetime"),
    ("visit_end_date", "visit_end_datetime"),
)
LAB_TABLES = (MEASUREMENT, OBSERVATION)
EVENT_TABLES = (DRUG, PROCEDURE, VISIT)
CLINICAL = (*LAB_TABLES, CONDITION, *EVENT_TABLES)
PERSON_COLUMNS = (
    "gender_concept_id",
    "year_of_birth",
    "month_of_birth",
    "day_of_birth",
    "birth_datetime",
)
DEATH_COLUMNS = ("death_date", "death_datetime")
# Without both, the events section would claim "no treatment" or "no procedure" it cannot know.
EVENT_SECTION_TABLES = ("drug_exposure", "procedure_occurrence")


def read_omop(
    path: str | Path,
    dictionary: Dictionary | None = None,
    *,
    engine: Engine = "auto",
    schema: str | None = None,
    chunk_rows: int = 100_000,
    memory_limit: str | None = None,
) -> OmopSource:
    """The persons of an OMOP CDM export, one :class:`~critlang.data.sources.Entry` each.

    ``path`` is a folder of CSV tables (``PERSON.csv``, ``measurement.csv`` …: names in any case;
    a CSV file stands for its folder) or a DuckDB database file (its tables in ``schema``, by default the one holding ``person``).
    ``dictionary`` (the standard one by default) decides which code a row keeps when it has
    several, which results set facts, and which codes are counted as unmapped. ``engine`` reads a
    CSV folder with DuckDB (``duckdb``, the default when it is installed) or Python's ``csv``
    module (``python``); a database file needs DuckDB. ``chunk_rows`` rows are held at once when
    sorting or fetching; ``memory_limit`` (``"2GB"``) bounds DuckDB, which spills to disk beyond it.

    Raises :class:`OmopError` when the export cannot be opened at all (no such path, no
    ``person`` table, DuckDB needed but not installed); nothing in the tables raises.
    """
    target = Path(path)
    if target.is_file() and target.suffix.casefold() == ".csv":
        target = target.parent  # PERSON.csv: the folder of tables it is in
    return OmopSource(
        target,
        dictionary if dictionary is not None else standard(),
        engine=engine,
        schema=schema,
        chunk_rows=chunk_rows,
        memory_limit=memory_limit,
    )


class OmopSource:
    """A :class:`~critlang.data.sources.PatientSource` over an OMOP export; iterating reads it
    again from the start (and starts the tally again)."""

    def __init__(
        self,
        path: Path,
        dictionary: Dictionary,
        *,
        engine: Engine = "auto",
        schema: str | None = None,
        chunk_rows: int = 100_000,
        memory_limit: str | None = None,
    ) -> None:
        if engine not in ("auto", "duckdb", "python"):
            raise OmopError(f"engine {engine!r}: use auto, duckdb or python")
        self.path = path
        self.dictionary = dictionary
        self.schema = schema
        self.chunk_rows = chunk_rows
        self.memory_limit = memory_limit
        self.tally = Tally()
        if path.is_dir():
            files = csv_files(path)
            if "person" not in files:
                raise OmopError(f"{path}: no person.csv (an OMOP export needs its person table)")
            if "person_id" not in header(files["person"]):
                raise OmopError(f"{files['person'].name}: no person_id column")
            if engine == "duckdb":
                load_duckdb()
            self.engine: Engine = (
                "duckdb"
                if engine == "duckdb" or (engine == "auto" and duckdb_available())
                else "python"
            )
        elif path.is_file():
            if engine == "python":
                raise OmopError(
                    f"{path.name}: a database file is read with DuckDB, not the python engine"
                )
            self.engine = "duckdb"
            tables = self._duck()
            try:
                if "person_id" not in tables.columns("person"):
                    raise OmopError(f"{path.name}: no person table with a person_id column")
            finally:
                tables.close()
        else:
            raise OmopError(f"{path}: no such folder or file")

    def _duck(self) -> DuckTables:
        return DuckTables(
            self.path, self.chunk_rows, schema=self.schema, memory_limit=self.memory_limit
        )

    def _csv(self) -> CsvTables:
        return CsvTables(self.path, self.chunk_rows)

    def __iter__(self) -> Iterator[Entry]:
        self.tally.unmapped.clear()
        last: PersonKey | None = None
        tables: Tables = self._duck() if self.engine == "duckdb" else self._csv()
        try:
            try:
                for key, entry in _Reader(tables, self.dictionary, self.tally).entries():
                    last = key
                    yield entry
                return
            except Exception as error:
                # A CSV file DuckDB's reader refuses (bytes that are not UTF-8, say) is read
                # again by Python's, whose records are the same, from the next person on.
                if not (isinstance(tables, DuckTables) and self.path.is_dir()):
                    raise
                if not isinstance(error, tables.error):
                    raise
                # the Python pass reads every person again (yielding only the rest): it counts
                self.tally.unmapped.clear()
                reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
                self.tally.note(f"DuckDB could not read the CSV files, Python read them: {reason}")
            tables.close()
            tables = self._csv()
            for key, entry in _Reader(tables, self.dictionary, self.tally).entries():
                if last is None or key > last:
                    yield entry
        finally:
            tables.close()


@attrs.frozen
class _Concept:
    code: str  # "LOINC:718-7"
    vocabulary: str
    name: str


@attrs.frozen
class _Choice:
    code: str
    mapped: bool  # some dictionary variable has the code
    lost: str | None  # what the other codes would have named, when not used


class _Stream:
    """A table's rows in person order, taken one person at a time."""

    def __init__(self, table: str, rows: Iterator[Row], tally: Tally) -> None:
        self.table = table
        self.rows = rows
        self.head = next(rows, None)
        self.tally = tally

    def take(self, key: PersonKey) -> list[Row]:
        head = self.head
        while head is not None and head.key < key:
            self._orphan(head)
            head = next(self.rows, None)
        taken = []
        while head is not None and head.key == key:
            taken.append(head)
            head = next(self.rows, None)
        self.head = head
        return taken

    def drain(self) -> None:
        head = self.head
        while head is not None:
            self._orphan(head)
            head = next(self.rows, None)
        self.head = None

    def _orphan(self, row: Row) -> None:
        if row.key[0] == 0:
            self.tally.note(f"{self.table}: rows whose person_id is not a number")
        else:
            self.tally.note(f"{self.table}: rows of a person_id not in person")


class _Reader:
    """One pass over an export: the vocabulary it uses, then its persons."""

    def __init__(self, tables: Tables, dictionary: Dictionary, tally: Tally) -> None:
        self.tables = tables
        self.dictionary = dictionary
        self.tally = tally
        self.concepts: dict[int, _Concept] = {}
        self.atc: dict[int, tuple[str, ...]] = {}
        self._choices: dict[tuple[str, tuple[str, ...]], _Choice] = {}
        self._units: dict[int, tuple[str | None, str | None]] = {}
        self._codes: dict[tuple[str, Cell, Cell, Cell], tuple[str | None, tuple[str, ...]]] = {}
        # drug -> its ingredients, its ATC classes (by relationship), its ancestors
        self._ingredients: dict[int, set[int]] = {}
        self._classes: dict[int, set[int]] = {}
        self._ancestors: dict[int, set[int]] = {}

    # ---- the tables and the concepts they use --------------------------------------------------

    def _usable(self) -> list[Spec]:
        present = self.tables.names()
        usable = []
        for spec in CLINICAL:
            if spec.table not in present:
                continue
            columns = self.tables.columns(spec.table)
            if columns and not {"person_id", spec.concept} <= columns:
                self.tally.note(
                    f"{spec.table}: no person_id or {spec.concept} column, so the table is not read"
                )
                continue
            usable.append(spec)
        return usable

    def _load_vocabulary(self, specs: Sequence[Spec]) -> None:
        tables = self.tables
        used: set[int] = set()
        drugs: set[int] = set()
        for spec in specs:
            values = tables.distinct(spec.table, spec.concept_columns)
            found = {number for value in values if (number := identifier(value)) is not None}
            used |= found
            if spec is DRUG:
                drugs = found - {0}
        tables.distinct("person", [])  # reads it through once: sorted? readable?
        if "death" in tables.names():
            tables.distinct("death", [])
        related = self._drug_classes(drugs)
        names = tables.names()
        if "concept" not in names:
            self.tally.note("concept: absent, so no concept has a code")
            return
        wanted = (used | related) - {0}
        for concept_id, name, vocabulary, code in tables.matching(
            "concept",
            ("concept_id", "concept_name", "vocabulary_id", "concept_code"),
            "concept_id",
            wanted,
        ):
            number = identifier(concept_id)
            if number is None or vocabulary is None or code is None:
                continue
            vocabulary = vocabulary.strip()
            system = _SYSTEMS.get(vocabulary, vocabulary.replace(" ", "_"))
            concept = _Concept(f"{system}:{code.strip()}", vocabulary, (name or "").strip())
            known = self.concepts.get(number)
            # a concept_id on two rows: the same one kept whatever order the engine reads them in
            if known is None or attrs.astuple(concept) < attrs.astuple(known):
                self.concepts[number] = concept
        self._resolve_classes()
        if drugs and not self.atc:
            self.tally.note(
                "drug_exposure: the export gives no drug an ATC class (no ATC concepts reached "
                "through concept_ancestor or RxNorm - ATC), so drugs match only RxNorm codes"
            )

    def _drug_classes(self, drugs: set[int]) -> set[int]:
        """Reads which ATC classes the drugs belong to; returns the concept ids involved."""
        if not drugs:
            return set()
        names = self.tables.names()
        if "concept_relationship" in names:
            # one pass: every RxNorm - ATC link is kept (a few thousand in a full vocabulary),
            # since which ingredients matter is known only at the end of it
            classes: dict[int, set[int]] = {}
            for first, second, relationship in self.tables.starting(
                "concept_relationship",
                ("concept_id_1", "concept_id_2", "relationship_id"),
                "relationship_id",
                (_INGREDIENT, _TO_ATC),
            ):
                one, two = identifier(first), identifier(second)
                if one is None or two is None:
                    continue
                if relationship == _INGREDIENT:
                    if one in drugs:
                        self._ingredients.setdefault(one, set()).add(two)
                else:
                    classes.setdefault(one, set()).add(two)
            wanted = drugs.union(*self._ingredients.values())
            self._classes = {one: found for one, found in classes.items() if one in wanted}
        if "concept_ancestor" in names:
            for descendant, ancestor in self.tables.matching(
                "concept_ancestor",
                ("descendant_concept_id", "ancestor_concept_id"),
                "descendant_concept_id",
                drugs,
            ):
                low, high = identifier(descendant), identifier(ancestor)
                if low is not None and high is not None and low != high:
                    self._ancestors.setdefault(low, set()).add(high)
        related: set[int] = set()
        for group in (self._ingredients, self._classes, self._ancestors):
            for values in group.values():
                related |= values
        return related

    def _resolve_classes(self) -> None:
        drugs = set(self._ingredients) | set(self._classes) | set(self._ancestors)
        for drug in drugs:
            ids = set(self._classes.get(drug, ())) | self._ancestors.get(drug, set())
            for ingredient in self._ingredients.get(drug, ()):
                ids |= self._classes.get(ingredient, set())
            codes = {
                concept.code
                for number in ids
                if (concept := self.concepts.get(number)) is not None
                and concept.vocabulary == "ATC"
            }
            if codes:
                # the most specific class first: it matches every broader pattern too
                self.atc[drug] = tuple(sorted(codes, key=lambda code: (-len(code), code)))

    # ---- persons ---------------------------------------------------------------------------------

    def entries(self) -> Iterator[tuple[PersonKey, Entry]]:
        specs = self._usable()
        self._load_vocabulary(specs)
        names = self.tables.names()
        for table in ("condition_occurrence", *EVENT_SECTION_TABLES):
            if table not in names:
                section = "conditions" if table == "condition_occurrence" else "events"
                self.tally.note(f"{table}: not in the export, so no record has a {section} section")
        has_conditions = CONDITION in specs
        has_events = all(
            any(spec.table == table for spec in specs) for table in EVENT_SECTION_TABLES
        )
        streams = [
            (spec, _Stream(spec.table, self.tables.ordered(spec.table, spec.columns), self.tally))
            for spec in specs
        ]
        deaths = (
            _Stream("death", self.tables.ordered("death", DEATH_COLUMNS), self.tally)
            if "death" in names and "person_id" in self.tables.columns("death")
            else None
        )
        for key, rows in _groups(self.tables.ordered("person", PERSON_COLUMNS)):
            if key[0] == 0:
                yield key, self._unreadable(key, rows)
                continue
            data = {spec.table: stream.take(key) for spec, stream in streams}
            died = deaths.take(key) if deaths is not None else []
            try:
                entry = self._entry(key, rows, data, died, has_conditions, has_events)
            except Exception as error:  # a bug here must not lose the person
                entry = Entry(
                    id=str(key[1]),
                    record=None,
                    error=f"internal error reading this person: {error!r}",
                    where=_where(rows[0], str(key[1])),
                )
            yield key, entry
        for _, stream in streams:
            stream.drain()
        if deaths is not None:
            deaths.drain()
        for table, count in self.tables.skipped.items():
            self.tally.note(f"{table}: lines the CSV reader cannot read", count)

    def _unreadable(self, key: PersonKey, rows: list[Row]) -> Entry:
        text = key[2]
        self.tally.note("person: rows whose person_id is not a number")
        return Entry(
            id=text or "(no person_id)",
            record=None,
            error=f"person_id {text!r} is not a whole number" if text else "person_id is empty",
            where=_where(rows[0], repr(text)),
        )

    def _entry(
        self,
        key: PersonKey,
        rows: list[Row],
        data: dict[str, list[Row]],
        died: list[Row],
        has_conditions: bool,
        has_events: bool,
    ) -> Entry:
        person_id = str(key[1])
        rows = sorted(rows, key=_cells_order)  # repeated rows: the same first row in any engine
        where = _where(rows[0], person_id)
        problems: list[str] = []
        readings = {
            self._person(row, problems if index == 0 else []) for index, row in enumerate(rows)
        }
        if len(readings) > 1:
            self.tally.note("person: a person_id on rows that disagree")
            return Entry(
                id=person_id,
                record=None,
                error=f"person_id {person_id} is on {len(rows)} rows of person that disagree "
                "on birth date or sex",
                where=where,
            )
        if len(rows) > 1:
            self.tally.note("person: a person_id on more than one row")
            problems.append(f"person_id {person_id} is on {len(rows)} rows of person (they agree)")
        birth_date, sex = readings.pop()
        labs: list[LabResult] = []
        conditions: list[Occurrence] = []
        events: list[Occurrence] = []
        for spec in CLINICAL:
            table_rows = data.get(spec.table)
            if not table_rows:
                continue
            for cells in _canonical(table_rows):
                row = dict(zip(spec.columns, cells, strict=True))
                if spec is MEASUREMENT or spec is OBSERVATION:
                    lab = self._lab(spec, row, problems)
                    if lab is not None:
                        labs.append(lab)
                else:
                    section = "conditions" if spec is CONDITION else "events"
                    occurrence = self._occurrence(spec, row, section, problems)
                    if occurrence is not None:
                        (conditions if spec is CONDITION else events).append(occurrence)
        facts = self._facts(labs)
        self._death(died, facts, problems)
        record = Record(
            id=person_id,
            birth_date=birth_date,
            sex=sex,
            age=None,
            anchors={},
            facts=facts,
            labs=tuple(labs),
            events=tuple(events) if has_events else None,
            conditions=tuple(conditions) if has_conditions else None,
            problems=tuple(problems),
        )
        return Entry(id=person_id, record=record, where=where)

    def _person(self, row: Row, problems: list[str]) -> tuple[datetime.date | None, str | None]:
        gender, year, month, day, birth_datetime = row.cells
        birth_date: datetime.date | None = None
        year_number, month_number, day_number = (_whole(value) for value in (year, month, day))
        noted = len(problems)
        if year_number is not None and month_number is not None and day_number is not None:
            try:
                birth_date = datetime.date(year_number, month_number, day_number)
            except ValueError:
                problems.append(f"person: {year}-{month}-{day} is not a date of birth")
        if birth_date is None and birth_datetime is not None:
            birth_date = _date(birth_datetime)
            if birth_date is None:
                problems.append(f"person: birth_datetime {birth_datetime!r} is not a date")
        if birth_date is None and len(problems) == noted:
            if year is None:
                problems.append("person: no year of birth")
            elif year_number is None:
                problems.append(f"person: year_of_birth {year!r} is not a year")
            else:
                problems.append(f"person: only the year of birth ({year_number}) is known")
        gender_id = identifier(gender)
        sex = _SEX.get(gender_id) if gender_id is not None else None
        if gender is None:
            self.tally.note("person: no gender_concept_id")
        elif sex is None and gender_id != 0:
            self.tally.note(f"person: gender_concept_id {gender} is not a sex")
        return birth_date, sex

    # ---- rows ------------------------------------------------------------------------------------

    def _code(self, spec: Spec, row: dict[str, Cell]) -> str | None:
        """The row's code, or None (counted) when it has none."""
        key = (spec.table, row[spec.concept], row[spec.source_concept], row[spec.source_value])
        found = self._codes.get(key)
        if found is None:
            found = self._resolve_code(spec, *key[1:])
            if len(self._codes) < _CACHE:
                self._codes[key] = found
        code, notes = found
        for note in notes:
            self.tally.note(note)
        return code

    def _resolve_code(
        self, spec: Spec, concept_text: Cell, source_text: Cell, source_value: Cell
    ) -> tuple[str | None, tuple[str, ...]]:
        """The code for these cells, and what to count each time a row has them."""
        notes: list[str] = []
        candidates: list[str] = []
        concept_id = identifier(concept_text)
        concept = self.concepts.get(concept_id) if concept_id else None
        if concept is not None:
            candidates.append(concept.code)
        elif concept_id is None:
            notes.append(f"{spec.table}: {spec.concept} {concept_text!r} is not a concept id")
        elif concept_id != 0:
            notes.append(f"{spec.table}: {spec.concept} {concept_id} is not in concept")
        source_id = identifier(source_text)
        source = self.concepts.get(source_id) if source_id else None
        value = (source_value or "").strip().upper()
        if source is not None:
            candidates.append(source.code)
        elif spec.guess is not None and spec.guess.shape.fullmatch(value):
            candidates.append(f"{spec.guess.system}:{value}")
        if spec is DRUG:
            for number in (concept_id, source_id):
                if number:
                    candidates.extend(self.atc.get(number, ()))
        if not candidates:
            notes.append(f"{spec.table}: rows with no code ({spec.concept} {concept_text})")
            return None, tuple(notes)
        choice = self._choose(spec.table, tuple(dict.fromkeys(candidates)))
        if not choice.mapped:
            notes.append(f"{spec.table} {choice.code}")
        if choice.lost is not None:
            notes.append(choice.lost)
        return choice.code, tuple(notes)

    def _choose(self, table: str, candidates: tuple[str, ...]) -> _Choice:
        key = (table, candidates)
        choice = self._choices.get(key)
        if choice is None:
            named = [(code, set(self.dictionary.entry_names(None, code))) for code in candidates]
            best, best_names = max(named, key=lambda item: len(item[1]))  # the first on a tie
            others = set().union(*(names for _, names in named)) - best_names
            lost = None
            if others:
                other_codes = ", ".join(code for code, names in named if names - best_names)
                lost = (
                    f"{table} {best}: also coded {other_codes}, for "
                    f"{', '.join(sorted(others))}, which the record does not use"
                )
            choice = self._choices[key] = _Choice(best, bool(best_names), lost)
        return choice

    def _lab(self, spec: Spec, row: dict[str, Cell], problems: list[str]) -> LabResult | None:
        where = f"{spec.table} {row[spec.id]}"
        value: Fraction | str | None
        text = row.get("value_as_number")
        if text is not None:
            value = _number(text, f"{where}: value_as_number", problems)
            if value is None:
                self.tally.note(f"{spec.table}: unreadable values")
                return None
            operator = identifier(row.get("operator_concept_id"))
            if operator is not None and operator not in _EXACT:
                sign = _OPERATORS.get(operator, f"(operator concept {operator})")
                problems.append(f"{where}: the value is {sign} {number_text(value)}, a bound")
                self.tally.note(f"{spec.table}: values that are bounds, not results")
                return None
        else:
            value = self._symbol(spec, row)
            if value is None:
                self.tally.note(f"{spec.table}: rows with no value")
                return None
        code = self._code(spec, row)
        if code is None:
            return None
        date, readable = self._date(row, spec.start, spec.table, where, problems)
        if not readable:
            return None  # a result that cannot be placed in time cannot be used in a window
        return LabResult(
            name=None,
            code=code,
            value=value,
            unit=self._unit(spec, row) if isinstance(value, Fraction) else None,
            date=date,
            low=_limit(row.get("range_low"), f"{where}: range_low", problems),
            high=_limit(row.get("range_high"), f"{where}: range_high", problems),
            source=f"labs ({where})",
        )

    def _symbol(self, spec: Spec, row: dict[str, Cell]) -> str | None:
        """A qualitative value: the value concept's name, else the value text."""
        concept_text = row.get("value_as_concept_id")
        concept_id = identifier(concept_text)
        if concept_id:
            concept = self.concepts.get(concept_id)
            if concept is not None and concept.name:
                return _symbol_text(concept.name)
            self.tally.note(f"{spec.table}: value_as_concept_id {concept_id} is not in concept")
        elif concept_text is not None and concept_id is None:
            self.tally.note(f"{spec.table}: value_as_concept_id {concept_text!r} is not a number")
        text = row.get("value_as_string")
        if text is not None:
            return _symbol_text(text)
        # The verbatim source value, when it is words: a number there without value_as_number is
        # one the export could not read, and is not guessed at.
        text = row.get("value_source_value")
        if text is not None and not looks_numeric(text):
            self.tally.note(f"{spec.table}: values read from value_source_value")
            return _symbol_text(_SEMANTIC_TAG.sub("", text))
        return None

    def _unit(self, spec: Spec, row: dict[str, Cell]) -> str | None:
        text = row.get("unit_concept_id")
        number = identifier(text)
        if not number:
            source = row.get("unit_source_value")
            self.tally.note(
                f"{spec.table}: no unit concept (unit_concept_id {text or 0}, "
                f"unit_source_value {source!r})"
            )
            return None
        found = self._units.get(number)
        if found is None:
            concept = self.concepts.get(number)
            if concept is None or concept.vocabulary != "UCUM":
                found = (None, f"unit_concept_id {number} is not a UCUM concept in concept")
            else:
                ucum = concept.code.partition(":")[2]
                try:
                    found = (parse_unit(ucum).code, None)
                except UnitError as error:
                    found = (None, f"unit {ucum!r} cannot be read ({error.reason})")
            self._units[number] = found
        unit, why = found
        if why is not None:
            self.tally.note(f"{spec.table}: {why}")
        return unit

    def _occurrence(
        self, spec: Spec, row: dict[str, Cell], section: str, problems: list[str]
    ) -> Occurrence | None:
        code = self._code(spec, row)
        if code is None:
            return None
        where = f"{spec.table} {row[spec.id]}"
        start, _ = self._date(row, spec.start, spec.table, where, problems)
        end, _ = self._date(row, spec.end, spec.table, where, problems)
        if start is not None and end is not None and end < start:
            problems.append(f"{where}: ends ({end}) before it starts ({start})")
            self.tally.note(f"{spec.table}: rows that end before they start")
            return None
        status = None
        if spec is CONDITION:
            status_id = identifier(row.get("condition_status_concept_id"))
            concept = self.concepts.get(status_id) if status_id else None
            text = concept.name if concept is not None else row.get("condition_status_source_value")
            status = text.strip().lower() if text is not None and text.strip() else None
        return Occurrence(
            name=None,
            code=code,
            start=start,
            end=end,
            status=status,
            source=f"{section} ({where})",
            condition=spec is CONDITION,
        )

    def _date(
        self,
        row: dict[str, Cell],
        columns: Sequence[str],
        table: str,
        where: str,
        problems: list[str],
    ) -> tuple[datetime.date | None, bool]:
        """The first readable date of ``columns``, and whether a date given was readable."""
        bad = None
        for column in columns:
            text = row.get(column)
            if text is None:
                continue
            day = _date(text)
            if day is not None:
                return day, True
            bad = bad or f"{where}: {column} {text!r} is not a date"
        if bad is not None:
            problems.append(bad)
            self.tally.note(f"{table}: unreadable dates")
            return None, False
        return None, True

    def _facts(self, labs: list[LabResult]) -> dict[str, FactValue]:
        """The dictionary facts that results give (the latest result of each)."""
        latest: dict[str, tuple[datetime.date, int, FactValue]] = {}
        for index, lab in enumerate(labs):
            if lab.code is None:
                continue
            for variable in self.dictionary.by_code(lab.code):
                if variable.kind != FACT:
                    continue
                day = lab.date or datetime.date.min
                found = latest.get(variable.name)
                if found is None or (day, index) >= found[:2]:
                    value: FactValue
                    if isinstance(lab.value, Fraction) and lab.unit is not None:
                        value = (lab.value, lab.unit)
                    else:
                        value = lab.value
                    latest[variable.name] = (day, index, value)
        return {name: value for name, (_, _, value) in latest.items()}

    def _death(self, rows: list[Row], facts: dict[str, FactValue], problems: list[str]) -> None:
        if not rows:
            return
        facts["deceased"] = True
        days = []
        for row in sorted(rows, key=_cells_order):
            cells = dict(zip(DEATH_COLUMNS, row.cells, strict=True))
            day, _ = self._date(cells, DEATH_COLUMNS, "death", "death", problems)
            if day is not None:
                days.append(day)
        if days:
            facts["death_date"] = min(days)


def _groups(rows: Iterator[Row]) -> Iterator[tuple[PersonKey, list[Row]]]:
    """Rows grouped by person. Rows whose person_id is not a number come first, in an order that
    depends on the engine: they are sorted here, so both engines group them alike."""
    unreadable: list[Row] = []
    first = None
    for row in rows:
        if row.key[0] != 0:
            first = row
            break
        unreadable.append(row)
    unreadable.sort(key=lambda row: row.key)
    rest = itertools.chain(unreadable, [first] if first is not None else [], rows)
    for key, group in itertools.groupby(rest, key=lambda row: row.key):
        yield key, list(group)


def _where(row: Row, person_id: str) -> str:
    """``PERSON.csv:17`` for a CSV row; ``person person_id 17`` for a database row."""
    return row.where if ":" in row.where else f"{row.where} person_id {person_id}"


def _cells_order(row: Row) -> tuple[str, ...]:
    return tuple(cell or "" for cell in row.cells)


def _canonical(rows: list[Row]) -> list[tuple[Cell, ...]]:
    """A person's rows of one table in an order that does not depend on the engine: by row id."""

    def by_id(cells: tuple[Cell, ...]) -> tuple[int, int, str]:
        number = identifier(cells[0])
        return (1, number, "") if number is not None else (0, 0, cells[0] or "")

    keyed = [(by_id(row.cells), row.cells) for row in rows]
    if len({key for key, _ in keyed}) < len(keyed):  # a repeated id: its rows by content
        keyed.sort(key=lambda item: (item[0], tuple(cell or "" for cell in item[1])))
    else:
        keyed.sort(key=lambda item: item[0])
    return [cells for _, cells in keyed]


def _whole(text: Cell) -> int | None:
    if text is None:
        return None
    stripped = text.strip()
    if re.fullmatch(r"[0-9]{1,4}", stripped):
        return int(stripped)
    if re.fullmatch(r"[0-9]{1,4}\.0*", stripped):  # a year written as a decimal number
        return int(stripped.partition(".")[0])
    return None


def _date(text: str) -> datetime.date | None:
    if text in _DATES:
        return _DATES[text]
    stripped = text.strip()
    day: datetime.date | None
    try:
        if len(stripped) > 10:
            day = datetime.datetime.fromisoformat(stripped.replace("Z", "+00:00")).date()
        else:
            day = datetime.date.fromisoformat(stripped)
    except (ValueError, OverflowError):
        day = None
    if len(_DATES) < _CACHE:
        _DATES[text] = day
    return day


def _number(text: str, where: str, problems: list[str]) -> Fraction | None:
    found = _NUMBERS.get(text)
    if found is not None:
        return found
    try:
        decimal = Decimal(text.strip())
    except InvalidOperation:
        decimal = None
    if decimal is None or not decimal.is_finite():
        problems.append(f"{where} {text!r} is not a number")
        return None
    if decimal and abs(decimal.adjusted()) > _NUMBER_DIGITS:
        problems.append(f"{where} {text!r} is out of any plausible range")
        return None
    number = Fraction(decimal)
    if len(_NUMBERS) < _CACHE:
        _NUMBERS[text] = number
    return number


def _limit(text: Cell, where: str, problems: list[str]) -> Fraction | None:
    return None if text is None else _number(text, where, problems)


def _symbol_text(text: str) -> str | None:
    """``Positive`` → ``positive``, ``Not detected`` → ``not_detected``."""
    return "_".join(text.lower().split()) or None
