"""The OMOP CDM 5.4 tables read into rows as :mod:`critlang.data.omop` reads them into records.

Each function gives one common table expression, as DuckDB SQL text built only from this
module's constants (table and column names); :func:`source_ctes` parses them with sqlglot, so the
query is printed in any dialect. What comes from the criteria file (the dictionary's codes) is
added by :func:`dictionary_codes` through sqlglot's constructors.

The rows, and the rules they follow (each the SQL twin of the reader's):

- ``persons``: one per whole-number ``person_id``: ``birth_date`` from year, month and day (else
  ``birth_datetime``), ``sex`` from ``gender_concept_id``; ``conflicting`` when its rows disagree
  (the reader gives no record then).
- ``concepts``: ``concept``, one row per id (the least of repeated rows), with the code's system
  (``CPT4`` written ``CPT``) and value.
- ``chosen_codes``: for each distinct (table, concept, source concept, source value), the one
  code a row keeps: among the standard concept's code, the source concept's (or a source value
  shaped like a LOINC or ICD-10 code), and a drug's ATC classes, the one that names the most
  dictionary variables, the first on a tie.
- ``lab_rows``: ``measurement`` and ``observation`` rows with a value (a number, or words), a
  code and a readable date (or none), with ``record_key``, their place in record order
  (``table_order``, then row id, then ``tie`` for a repeated id) as one number.
- ``occurrence_rows``: ``condition_occurrence`` (``table_order`` 2: the conditions), then
  ``drug_exposure``, ``procedure_occurrence`` and ``visit_occurrence`` (the events), with start,
  end and (conditions) status; rows ending before they start are left out.
- ``deaths``: the earliest readable death date of each person with a ``death`` row.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

import attrs
import sqlglot
from sqlglot import exp

from critlang.data import omop
from critlang.semantics.dictionary import Dictionary
from critlang.sql import cells

MEASUREMENT, OBSERVATION, CONDITION, DRUG, PROCEDURE, VISIT = range(6)
INACTIVE = ("inactive", "resolved", "remission", "refuted", "entered-in-error")
# Every OMOP table the query reads (the tables a schema qualifies).
TABLES = frozenset(
    {
        "person",
        "measurement",
        "observation",
        "condition_occurrence",
        "drug_exposure",
        "procedure_occurrence",
        "visit_occurrence",
        "death",
        "concept",
        "concept_relationship",
        "concept_ancestor",
    }
)
# Read once and kept (DuckDB and Postgres; the others decide for themselves): each is read by
# several of the query's parts.
MATERIALIZED = frozenset(
    {
        "concepts",
        "persons",
        "lab_repeats",
        "lab_irregular",
        "occurrence_repeats",
        "code_cells",
        "chosen_codes",
        "row_codes",
        "lab_rows",
        "occurrence_rows",
    }
)
# Text is put in order by code point, as Python compares strings (the reader's order), whatever
# the database's collation; the dialects without this collation are left to their own (binary
# in Spark's case): critlang.sql.render takes it out.
_C = 'COLLATE "C"'


@attrs.frozen
class _Table:
    """One clinical table as the reader reads it (its ``Spec``), with its place in the reader's
    order."""

    spec: omop.Spec
    order: int


# The reader's own specifications: the query reads the very cells the reader reads.
_LAB_TABLES = (
    _Table(omop.MEASUREMENT, MEASUREMENT),
    _Table(omop.OBSERVATION, OBSERVATION),
)
_OCCURRENCE_TABLES = (
    _Table(omop.CONDITION, CONDITION),
    _Table(omop.DRUG, DRUG),
    _Table(omop.PROCEDURE, PROCEDURE),
    _Table(omop.VISIT, VISIT),
)
# The tables whose ids the query can take as unique (``unique`` of :func:`source_ctes`), with
# their id column; the clinical tables' ids must moreover be whole numbers below ID_LIMIT.
ID_COLUMNS = {
    "concept": "concept_id",
    "person": "person_id",
    **{table.spec.table: table.spec.id for table in _LAB_TABLES + _OCCURRENCE_TABLES},
}
CLINICAL = frozenset(table.spec.table for table in _LAB_TABLES + _OCCURRENCE_TABLES)
# Ids below this fit a result's place in record order into one BIGINT (see ``_REGULAR_KEY``).
ID_LIMIT = 2**40 - 1


def unique_tables(
    keys: Mapping[str, Collection[str]], bounds: Callable[[str, str], tuple[Any, Any]]
) -> frozenset[str]:
    """The tables the query can take as unique (``unique`` of :func:`source_ctes`): those whose
    id column is among ``keys`` (by table, the columns the database keeps unique and present
    and of an integer type: a primary key, or UNIQUE and NOT NULL; names in lower case), and,
    for the clinical tables, whose ids all lie from 0 to ID_LIMIT - 1 (``bounds(table,
    column)``: their MIN and MAX, both None for a table without rows)."""
    unique = set()
    for table, column in ID_COLUMNS.items():
        if column not in keys.get(table, ()):
            continue
        if table in CLINICAL:
            least, most = bounds(table, column)
            if least is not None and not (most is not None and 0 <= least <= most < ID_LIMIT):
                continue
        unique.add(table)
    return frozenset(unique)


# The columns each table must have for the query (a view can supply missing ones as NULL).
COLUMNS: dict[str, tuple[str, ...]] = {
    "person": ("person_id", *omop.PERSON_COLUMNS),
    **{
        table.spec.table: ("person_id", *table.spec.columns)
        for table in _LAB_TABLES + _OCCURRENCE_TABLES
    },
    "death": ("person_id", *omop.DEATH_COLUMNS),
    "concept": ("concept_id", "concept_name", "vocabulary_id", "concept_code"),
    "concept_relationship": ("concept_id_1", "concept_id_2", "relationship_id"),
    "concept_ancestor": ("ancestor_concept_id", "descendant_concept_id"),
}


# The kinds of the database's typed columns (:func:`critlang.sql.cells.kind_of`), by table and
# column (lower case); a column not given is read as text.
Kinds = Mapping[str, Mapping[str, str | None]]
_NO_KINDS: Kinds = {}


def _repeats(table: _Table, kinds: Mapping[str, str | None]) -> str:
    """The row ids of ``table`` as numbers (with its place in the reader's order)."""
    spec = table.spec
    return (
        f"SELECT {table.order} AS table_order, {_row_number(spec.id, kinds)} AS row_number"
        f" FROM {spec.table}"
    )


def _row_number(column: str, kinds: Mapping[str, str | None]) -> str:
    return cells.identifier_of(column, kinds.get(column))


def _row_text(column: str, kinds: Mapping[str, str | None]) -> str:
    """The row id's text, which orders the ids that are not numbers (an integer column's
    numbers are in order by number alone)."""
    kind = kinds.get(column)
    if kind == cells.INTEGER:
        return f"CASE WHEN {_row_number(column, kinds)} IS NULL THEN CAST({column} AS VARCHAR) END"
    return cells.cell(column, kind)


def _repeated_rows(tables: tuple[_Table, ...], kinds: Kinds) -> str:
    """The row ids whose number repeats in a table, NULL (an id that is not a number) among
    them when two rows have one (for any persons: a row whose id another person's row repeats
    is ordered by its cells too, which changes nothing). Ids of one number but different text
    (``7`` and ``007``) repeat it: their order is then the ``tie``'s, by text first."""
    selects = " UNION ALL ".join(
        _repeats(table, kinds.get(table.spec.table, {})) for table in tables
    )
    return (
        "SELECT table_order AS repeat_table, row_number AS repeat_number"
        f" FROM ({selects}) AS ids GROUP BY table_order, row_number HAVING COUNT(*) > 1"
    )


# The type of a reading a table lacks (each table's readings are a CTE of their own: PostgreSQL
# would take a bare NULL there as text, which no UNION with a number or a date matches).
_NULL_TYPES = {
    "operator_id": "BIGINT",
    "value_concept_id": "BIGINT",
    "unit_concept_id": "BIGINT",
    "status_concept_id": "BIGINT",
    "value_string": "VARCHAR",
    "verbatim": "VARCHAR",
    "status_text": "VARCHAR",
    "low": cells.DECIMAL,
    "high": cells.DECIMAL,
    "end_date": "DATE",
}


def _code_columns(spec: omop.Spec, kinds: Mapping[str, str | None]) -> list[str]:
    """What decides a row's code: its concept, source concept and source value (``raw_key``:
    the cell's text as it is, which ``code_cells`` reads as the reader does)."""
    return [
        f"{cells.identifier_of(spec.concept, kinds.get(spec.concept))} AS concept_id",
        f"{cells.identifier_of(spec.source_concept, kinds.get(spec.source_concept))}"
        " AS source_concept_id",
        f"COALESCE(CAST({spec.source_value} AS VARCHAR), '') AS raw_key",
    ]


def _code_cells(kinds: Kinds) -> str:
    """Each distinct (table, concept, source concept, source value) of the clinical tables, read
    from the tables' distinct cells (a few, where the rows are millions), so that the rows
    themselves are read once, by ``lab_rows`` and ``occurrence_rows``, and only compared
    (``raw_key``) with these: ``source_key`` is the source value read (trimmed, in upper case),
    worked out here once per distinct value. The cells of rows those leave out are here too,
    which no row then looks up."""
    selects = []
    for table in _LAB_TABLES + _OCCURRENCE_TABLES:
        spec = table.spec
        types = kinds.get(spec.table, {})
        columns = ", ".join((spec.concept, spec.source_concept, spec.source_value))
        source_value = cells.cell(spec.source_value, types.get(spec.source_value))
        selects.append(
            f"SELECT DISTINCT {table.order} AS table_order,"
            f" {', '.join(_code_columns(spec, types))},"
            f" UPPER(TRIM(COALESCE({source_value}, ''))) AS source_key"
            f" FROM (SELECT DISTINCT {columns} FROM {spec.table}) AS cells"
        )
    return " UNION ALL ".join(selects)


_CODE_KEYS = (
    "SELECT DISTINCT table_order, concept_id, source_concept_id, source_key FROM code_cells"
)


def _drug_ids(kinds: Kinds) -> str:
    """The drugs of ``drug_exposure`` (concept and source concept), whose ATC classes are
    looked up (those of rows ``occurrence_rows`` leaves out too)."""
    spec, types = omop.DRUG, kinds.get(omop.DRUG.table, {})
    ids = " UNION ".join(
        f"SELECT {cells.identifier_of(column, types.get(column))} AS id"
        f" FROM (SELECT DISTINCT {column} FROM {spec.table}) AS cells"
        for column in (spec.concept, spec.source_concept)
    )
    return f"SELECT DISTINCT id FROM ({ids}) AS ids WHERE id IS NOT NULL AND id <> 0"


@attrs.frozen
class _Read:
    """A table's cells read (the common table expression ``name``, ``body``): its ``columns``,
    and ``rank``, the ``tie`` of a row whose id repeats; ``unique`` when no id repeats (the
    database says so: see :func:`_source_parts`), so that no row has a tie to break."""

    name: str
    body: str
    columns: str
    rank: str
    unique: bool

    def tied(self) -> str:
        """Its rows with ``tie``, which orders the rows whose id repeats (0 for the others)."""
        if self.unique:
            return f"SELECT {self.columns}, 0 AS tie FROM {self.name}"
        return (
            f"SELECT {self.columns}, 0 AS tie FROM {self.name} WHERE NOT repeated"
            f" UNION ALL SELECT {self.columns}, {self.rank} AS tie FROM {self.name} WHERE repeated"
        )


def _cells_select(
    table: _Table,
    repeats: str | None,
    wanted: dict[str, str | None],
    kinds: Mapping[str, str | None],
) -> _Read:
    """A table's cells, read, under common names (``wanted``: SQL over the table's columns,
    ``None`` for NULL); ``repeats`` names the common table expression of the ids that repeat,
    ``None`` when the table's ids are unique whole numbers (its rows need no tie)."""
    spec = table.spec

    def kind(column: str) -> str | None:
        return kinds.get(column)

    person = cells.identifier_of("person_id", kind("person_id"))
    if repeats is None:  # a whole number from 0 to ID_LIMIT - 1 in every row
        number, text = f"CAST({spec.id} AS BIGINT)", "CAST(NULL AS VARCHAR)"
    else:
        number, text = _row_number(spec.id, kinds), _row_text(spec.id, kinds)
    items = [
        f"{person} AS person_id",
        f"{table.order} AS table_order",
        f"{text} AS row_text",
        f"{number} AS row_number",
        *_code_columns(spec, kinds),
    ]
    items += [
        f"{value or f'CAST(NULL AS {_NULL_TYPES[name]})'} AS {name}"
        for name, value in wanted.items()
    ]
    names = [item.rsplit(" AS ", 1)[1] for item in items]
    name, columns = f"{spec.table}_read", ", ".join(names)
    if repeats is None:
        return _Read(name, f"SELECT {', '.join(items)} FROM {spec.table}", columns, "1", True)
    # The rows whose id repeats carry their cells, to be put in order by them (the reader's
    # _canonical) as tie; rows with the same cells read the same, so which comes first does not
    # matter. Every other row has tie 0 (its cells are never read for the order).
    items.append("repeat_table IS NOT NULL AS repeated")
    contents = [f"content_{index}" for index in range(1, len(spec.columns) + 1)]
    items += [
        f"CASE WHEN repeat_table IS NOT NULL THEN COALESCE({cells.cell(column, kind(column))}, '')"
        f" END AS {content}"
        for column, content in zip(spec.columns, contents, strict=True)
    ]
    read = (
        f"SELECT {', '.join(items)} FROM {spec.table} LEFT JOIN {repeats}"
        f" ON repeat_table = {table.order} AND COALESCE(repeat_number, -1) = COALESCE({number}, -1)"
    )
    # by the id's text first (ids of one number, or none), then by the cells
    order = ", ".join(f"{key} {_C}" for key in ["COALESCE(row_text, '')", *contents])
    rank = f"DENSE_RANK() OVER (PARTITION BY person_id, row_number ORDER BY {order})"
    return _Read(name, read, columns, rank, False)


# A lab result's place in its person's record order (``record_key``) is a BIGINT below 2^41, so
# that a selection's key (the day in front of it) is one BIGINT: a window over it is an aggregate
# on DuckDB, and a cheap one. For most persons it is worked out from the row alone: the table (0
# or 1) and the id's number (ids that are not numbers first), when no id of theirs repeats (no
# tie to break) and each is below 2^40 - 1. The other persons' rows are ranked in record order
# (``_IRREGULAR``); ids at ``ID_LIMIT`` or above are irregular.
_REGULAR_KEY = f"table_order * {2**40} + COALESCE(row_number + 1, 0)"
_IRREGULAR = f"repeated OR row_number >= {ID_LIMIT}"
_OF_IRREGULAR = "EXISTS (SELECT 1 FROM lab_irregular AS i WHERE i.person_id = c.person_id)"


def _lab_union(reads: list[_Read]) -> tuple[str | None, str]:
    """``lab_irregular`` (the persons whose rows are ranked; ``None`` when no table's ids can
    repeat) and ``lab_cells``: every lab row with ``tie`` and ``record_key``."""
    if all(read.unique for read in reads):
        return None, " UNION ALL ".join(
            f"SELECT {read.columns}, 0 AS tie, {_REGULAR_KEY} AS record_key FROM {read.name}"
            for read in reads
        )
    irregular = " UNION ALL ".join(
        f"SELECT person_id FROM {read.name} WHERE {_IRREGULAR}" for read in reads if not read.unique
    )
    persons = f"SELECT DISTINCT person_id FROM ({irregular}) AS rows WHERE person_id IS NOT NULL"
    regular = [
        f"SELECT {read.columns}, 0 AS tie, {_REGULAR_KEY} AS record_key"
        f" FROM {read.name} AS c WHERE NOT {_OF_IRREGULAR}"
        for read in reads
    ]
    tied = " UNION ALL ".join(
        f"SELECT {read.columns}, {read.rank} AS tie FROM {read.name} AS c WHERE {_OF_IRREGULAR}"
        for read in reads
    )
    ranked = (
        "SELECT *, DENSE_RANK() OVER (PARTITION BY person_id"
        " ORDER BY table_order, COALESCE(row_number + 1, 0), tie) AS record_key"
        f" FROM ({tied}) AS tied"
    )
    return persons, " UNION ALL ".join([*regular, ranked])


def _lab_cells(kinds: Kinds, unique: frozenset[str]) -> list[tuple[str, str]]:
    reads = []
    for table in _LAB_TABLES:
        present = set(table.spec.columns)
        types = kinds.get(table.spec.table, {})

        def read(
            reading: Callable[[str, str | None], str],
            name: str,
            types: Mapping[str, str | None] = types,
            present: set[str] = present,
        ) -> str | None:
            return reading(name, types.get(name)) if name in present else None

        day, moment = table.spec.start
        value = "value_as_number"
        has_number = cells.present(value, types.get(value))

        def verbatim(column: str, kind: str | None, number: str = has_number) -> str:
            """The value's words, read only where there is no number (the rows that use it)."""
            return f"CASE WHEN NOT ({number}) THEN {cells.cell(column, kind)} END"

        read_cells = _cells_select(
            table,
            None if table.spec.table in unique else "lab_repeats",
            {
                "dated": f"({cells.present(day, types.get(day))}"
                f" OR {cells.present(moment, types.get(moment))})",
                "result_date": f"COALESCE({cells.date_of(day, types.get(day))},"
                f" {cells.date_of(moment, types.get(moment))})",
                "operator_id": read(cells.identifier_of, "operator_concept_id"),
                "has_number": has_number,
                "number_read": f"CASE WHEN {has_number}"
                f" THEN {cells.is_number_of(value, types.get(value))} ELSE FALSE END",
                "value": cells.number_of(value, types.get(value)),
                "value_concept_id": read(cells.identifier_of, "value_as_concept_id"),
                "value_string": read(cells.cell, "value_as_string"),
                "unit_concept_id": read(cells.identifier_of, "unit_concept_id"),
                "low": read(cells.number_of, "range_low"),
                "high": read(cells.number_of, "range_high"),
                "verbatim": read(verbatim, "value_source_value"),
            },
            types,
        )
        reads.append(read_cells)
    persons, union = _lab_union(reads)
    return [
        *((read.name, read.body) for read in reads),
        *([("lab_irregular", persons)] if persons is not None else []),
        ("lab_cells", union),
    ]


def _occurrence_cells(kinds: Kinds, unique: frozenset[str]) -> tuple[list[tuple[str, str]], str]:
    reads, selects = [], []
    for table in _OCCURRENCE_TABLES:
        types = kinds.get(table.spec.table, {})

        def first_date(columns: tuple[str, ...], types: Mapping[str, str | None] = types) -> str:
            readings = [cells.date_of(column, types.get(column)) for column in columns]
            return readings[0] if len(readings) == 1 else f"COALESCE({', '.join(readings)})"

        condition = table.order == CONDITION
        status_concept, status = table.spec.extra if condition else ("", "")
        wanted: dict[str, str | None] = {
            "start_date": first_date(table.spec.start),
            "end_date": first_date(table.spec.end) if table.spec.end else None,
            "status_concept_id": cells.identifier_of(status_concept, types.get(status_concept))
            if condition
            else None,
            "status_text": cells.cell(status, types.get(status)) if condition else None,
        }
        repeats = None if table.spec.table in unique else "occurrence_repeats"
        read = _cells_select(table, repeats, wanted, types)
        reads.append((read.name, read.body))
        selects.append(read.tied())
    return reads, " UNION ALL ".join(selects)


_CONCEPT_ROWS = f"""
    SELECT {cells.identifier("concept_id_text")} AS id,
      CASE WHEN TRIM(vocabulary_text) = 'CPT4' THEN 'CPT'
           ELSE REPLACE(TRIM(vocabulary_text), ' ', '_') END AS system,
      TRIM(code_text) AS value, TRIM(vocabulary_text) AS vocabulary,
      COALESCE(TRIM(name_text), '') AS name
    FROM (SELECT {cells.text("concept_id")} AS concept_id_text,
                 {cells.text("vocabulary_id")} AS vocabulary_text,
                 {cells.text("concept_code")} AS code_text,
                 {cells.text("concept_name")} AS name_text FROM concept) AS texts
    WHERE vocabulary_text IS NOT NULL AND code_text IS NOT NULL
"""
_CONCEPTS = f"""
SELECT id, system, value, vocabulary, name FROM (
  SELECT id, system, value, vocabulary, name,
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY (system || ':' || value) {_C}, vocabulary {_C},
                                                 name {_C}) AS copy
  FROM ({_CONCEPT_ROWS}) AS read
  WHERE id IS NOT NULL) AS numbered
WHERE copy = 1
"""
# When ``concept_id`` is unique (the database's primary key), each id is one row already.
_UNIQUE_CONCEPTS = f"""
SELECT id, system, value, vocabulary, name FROM ({_CONCEPT_ROWS}) AS read WHERE id IS NOT NULL
"""


def _person_cells(kinds: Kinds) -> str:
    types = kinds.get("person", {})
    return f"""
SELECT {cells.identifier_of("person_id", types.get("person_id"))} AS person_id,
  {cells.identifier_of("gender_concept_id", types.get("gender_concept_id"))} AS gender,
  {cells.whole_of("year_of_birth", types.get("year_of_birth"))} AS birth_year,
  {cells.whole_of("month_of_birth", types.get("month_of_birth"))} AS birth_month,
  {cells.whole_of("day_of_birth", types.get("day_of_birth"))} AS birth_day,
  {cells.date_of("birth_datetime", types.get("birth_datetime"))} AS birth_datetime_date
FROM person
"""


_PERSON_READINGS = f"""
SELECT person_id,
  COALESCE(
    CASE WHEN {cells.calendar("birth_year", "birth_month", "birth_day")}
      THEN TRY_CAST(LPAD(CAST(birth_year AS VARCHAR), 4, '0') || '-'
                    || LPAD(CAST(birth_month AS VARCHAR), 2, '0') || '-'
                    || LPAD(CAST(birth_day AS VARCHAR), 2, '0') AS DATE) END,
    birth_datetime_date) AS birth_date,
  CASE gender WHEN 8507 THEN 'male' WHEN 8532 THEN 'female' WHEN 8521 THEN 'other'
              WHEN 8551 THEN 'unknown' END AS sex
FROM person_cells WHERE person_id IS NOT NULL
"""

_PERSONS = """
SELECT person_id, MIN(birth_date) AS birth_date, MIN(sex) AS sex,
  COUNT(DISTINCT COALESCE(CAST(birth_date AS VARCHAR), '-') || '|' || COALESCE(sex, '-')) > 1
    AS conflicting
FROM person_readings GROUP BY person_id
"""
# When ``person_id`` is unique (the database's primary key), no person's rows can disagree.
_UNIQUE_PERSONS = "SELECT person_id, birth_date, sex, FALSE AS conflicting FROM person_readings"

_RXNORM_LINKS = f"""
SELECT {cells.identifier("one_text")} AS one, {cells.identifier("two_text")} AS two, relationship
FROM (SELECT {cells.text("concept_id_1")} AS one_text, {cells.text("concept_id_2")} AS two_text,
             {cells.text("relationship_id")} AS relationship FROM concept_relationship) AS links
WHERE STARTS_WITH(relationship, 'RxNorm has ing') OR STARTS_WITH(relationship, 'RxNorm - ATC')
"""

_DRUG_CLASSES = f"""
SELECT d.id AS drug, l.two AS class_id
FROM drug_ids AS d JOIN rxnorm_links AS l ON l.one = d.id
WHERE l.relationship <> 'RxNorm has ing' AND l.two IS NOT NULL
UNION
SELECT d.id, a.high FROM drug_ids AS d JOIN (
  SELECT {cells.identifier(cells.text("descendant_concept_id"))} AS low,
         {cells.identifier(cells.text("ancestor_concept_id"))} AS high FROM concept_ancestor) AS a
  ON a.low = d.id
WHERE a.high IS NOT NULL AND a.high <> a.low
UNION
SELECT d.id, c.two FROM drug_ids AS d
JOIN rxnorm_links AS i ON i.one = d.id AND i.relationship = 'RxNorm has ing'
JOIN rxnorm_links AS c ON c.one = i.two
WHERE i.two IS NOT NULL AND c.relationship <> 'RxNorm has ing' AND c.two IS NOT NULL
"""

_DRUG_ATC = f"""
SELECT drug, value,
  ROW_NUMBER() OVER (PARTITION BY drug ORDER BY LENGTH(value) DESC, value {_C}) AS position
FROM (SELECT DISTINCT x.drug, c.value FROM drug_classes AS x
      JOIN concepts AS c ON c.id = x.class_id AND c.vocabulary = 'ATC') AS classes
"""

_CODE_CANDIDATES = """
SELECT k.table_order, k.concept_id, k.source_concept_id, k.source_key, 0 AS rank, c.system, c.value
FROM code_keys AS k JOIN concepts AS c ON c.id = k.concept_id AND k.concept_id <> 0
UNION ALL
SELECT k.table_order, k.concept_id, k.source_concept_id, k.source_key, 1, c.system, c.value
FROM code_keys AS k JOIN concepts AS c ON c.id = k.source_concept_id AND k.source_concept_id <> 0
UNION ALL
SELECT k.table_order, k.concept_id, k.source_concept_id, k.source_key, 1,
  CASE WHEN k.table_order = 2 THEN 'ICD10' ELSE 'LOINC' END, k.source_key
FROM code_keys AS k
LEFT JOIN concepts AS c ON c.id = k.source_concept_id AND k.source_concept_id <> 0
WHERE c.id IS NULL AND (
  (k.table_order IN (0, 1) AND REGEXP_MATCHES(k.source_key, '^[0-9]{1,7}-[0-9]$'))
  OR (k.table_order = 2
      AND REGEXP_MATCHES(k.source_key, '^[A-Z][0-9][0-9A-Z](\\.?[0-9A-Z]{1,4})?$')))
UNION ALL
SELECT k.table_order, k.concept_id, k.source_concept_id, k.source_key, 1 + a.position, 'ATC', a.value
FROM code_keys AS k JOIN drug_atc AS a ON a.drug = k.concept_id
WHERE k.table_order = 3 AND k.concept_id <> 0
UNION ALL
SELECT k.table_order, k.concept_id, k.source_concept_id, k.source_key, 1000000 + a.position,
  'ATC', a.value
FROM code_keys AS k JOIN drug_atc AS a ON a.drug = k.source_concept_id
WHERE k.table_order = 3 AND k.source_concept_id <> 0
"""

_CODE_NORMALISED = """
SELECT table_order, concept_id, source_concept_id, source_key, system, value, MIN(rank) AS rank,
  CASE UPPER(system) WHEN 'ICD10CM' THEN 'ICD10' WHEN 'ICD9CM' THEN 'ICD9'
                     WHEN 'SCT' THEN 'SNOMED' ELSE UPPER(system) END AS system_key,
  UPPER(REPLACE(value, '.', '')) AS code_key
FROM code_candidates
GROUP BY table_order, concept_id, source_concept_id, source_key, system, value
"""

_CODE_NAMES = """
SELECT n.table_order, n.concept_id, n.source_concept_id, n.source_key, n.rank, n.system_key,
  n.code_key, COUNT(DISTINCT d.variable) AS names
FROM code_normalised AS n LEFT JOIN dictionary_codes AS d ON d.system = n.system_key
  AND (CASE WHEN d.prefix THEN SUBSTRING(n.code_key, 1, LENGTH(d.code)) = d.code
            ELSE n.code_key = d.code END)
GROUP BY n.table_order, n.concept_id, n.source_concept_id, n.source_key, n.rank, n.system_key,
  n.code_key
"""

_CHOSEN_CODES = """
SELECT table_order, concept_id, source_concept_id, source_key, system_key, code_key FROM (
  SELECT *, ROW_NUMBER() OVER (
    PARTITION BY table_order, concept_id, source_concept_id, source_key
    ORDER BY names DESC, rank) AS choice
  FROM code_names) AS ranked
WHERE choice = 1
"""

# Each distinct code cells' chosen code, looked up by the cells as a row has them.
_ROW_CODES = """
SELECT c.table_order, c.concept_id, c.source_concept_id, c.raw_key, k.system_key, k.code_key
FROM code_cells AS c
JOIN chosen_codes AS k ON k.table_order = c.table_order AND k.source_key = c.source_key
  AND COALESCE(k.concept_id, -1) = COALESCE(c.concept_id, -1)
  AND COALESCE(k.source_concept_id, -1) = COALESCE(c.source_concept_id, -1)
"""

_JOIN_CODE = """
JOIN row_codes AS k ON k.table_order = c.table_order AND k.raw_key = c.raw_key
  AND COALESCE(k.concept_id, -1) = COALESCE(c.concept_id, -1)
  AND COALESCE(k.source_concept_id, -1) = COALESCE(c.source_concept_id, -1)
"""

# A row's place in the reader's order of a person's rows, as one number (one key to sort by,
# cheaper than five; on DuckDB a window over one key becomes an aggregate): its table, then its
# id's number (ids that are not numbers first), then ``tie``, which orders the rows whose
# number repeats or is none (by id text, then cells). Below 10^30: the table (0 to 5), the
# number (below 10^18) and the tie (a rank among one person's rows of one id, below 10^11).
_ORDER = (
    "(CAST(c.table_order AS DECIMAL(38, 0)) * 1000000000000000001"
    " + COALESCE(c.row_number + 1, 0)) * 100000000000 + c.tie AS record_key"
)
_LAB_ORDER = "c.record_key"


def _symbol(text: str) -> str:
    """The reader's ``_symbol_text``: lower case, blanks as ``_``."""
    return (
        f"REGEXP_REPLACE(REGEXP_REPLACE(LOWER({text}), '^\\s+|\\s+$', '', 'g'), '\\s+', '_', 'g')"
    )


_VALUE_CONCEPT = "COALESCE(c.value_concept_id, 0) <> 0 AND COALESCE(v.name, '') <> ''"
_VERBATIM = f"c.verbatim IS NOT NULL AND {cells.verbatim_words('c.verbatim')}"
_TAG = r"\s*\([a-z][a-z /-]*\)\s*$"

_LAB_ROWS = f"""
SELECT c.person_id, c.table_order, {_LAB_ORDER}, k.system_key, k.code_key, c.result_date,
  c.has_number AS is_number, c.value,
  CASE WHEN c.has_number AND c.unit_concept_id <> 0 AND u.vocabulary = 'UCUM'
    THEN u.value END AS unit,
  c.low, c.high,
  CASE WHEN c.has_number THEN NULL
    WHEN {_VALUE_CONCEPT} THEN {_symbol("v.name")}
    WHEN c.value_string IS NOT NULL THEN {_symbol("c.value_string")}
    ELSE {_symbol(f"REGEXP_REPLACE(c.verbatim, '{_TAG}', '')")} END AS symbol
FROM lab_cells AS c
{_JOIN_CODE}
LEFT JOIN concepts AS u ON u.id = c.unit_concept_id
LEFT JOIN concepts AS v ON v.id = c.value_concept_id
WHERE c.person_id IS NOT NULL
  AND (CASE WHEN c.has_number
         THEN c.number_read AND (c.operator_id IS NULL OR c.operator_id IN (0, 4172703))
         ELSE ({_VALUE_CONCEPT}) OR c.value_string IS NOT NULL OR ({_VERBATIM}) END)
  AND (NOT c.dated OR c.result_date IS NOT NULL)
"""

_OCCURRENCE_ROWS = f"""
SELECT c.person_id, c.table_order, {_ORDER}, k.system_key, k.code_key, c.start_date, c.end_date,
  CASE WHEN c.table_order <> 2 THEN NULL
       WHEN c.status_concept_id <> 0 AND s.id IS NOT NULL THEN NULLIF(LOWER(s.name), '')
       ELSE NULLIF(LOWER(TRIM(c.status_text)), '') END AS status
FROM occurrence_cells AS c
{_JOIN_CODE}
LEFT JOIN concepts AS s ON s.id = c.status_concept_id AND c.status_concept_id <> 0
WHERE c.person_id IS NOT NULL
  AND (c.start_date IS NULL OR c.end_date IS NULL OR c.end_date >= c.start_date)
"""


def _deaths(kinds: Kinds) -> str:
    types = kinds.get("death", {})
    days = [cells.date_of(column, types.get(column)) for column in ("death_date", "death_datetime")]
    return f"""
SELECT person_id, MIN(death_day) AS death_date FROM (
  SELECT {cells.identifier_of("person_id", types.get("person_id"))} AS person_id,
    COALESCE({", ".join(days)}) AS death_day
  FROM death) AS days
WHERE person_id IS NOT NULL GROUP BY person_id
"""


# Templates parsed, kept from their second use on (each later use copies the tree kept), and
# those used once: a process that compiles one query (the command line, run_duckdb in a script)
# then parses each template once and copies none, where parsing and copying cost about as much
# as the rest of compiling.
_PARSED: dict[str, exp.Expr] = {}
_USED_ONCE: set[str] = set()


def _parse(sql: str) -> exp.Expr:
    """A template parsed, as a tree of the caller's own."""
    kept = _PARSED.get(sql)
    if kept is not None:
        return kept.copy()
    parsed = sqlglot.parse_one(sql, read="duckdb")
    assert parsed is not None
    if sql not in _USED_ONCE:
        _USED_ONCE.add(sql)
        return parsed
    _PARSED[sql] = parsed
    return parsed.copy()


def dictionary_codes(dictionary: Dictionary) -> exp.Expr:
    """Every code pattern of the dictionary, as a VALUES table (system, code, prefix, variable),
    normalised as :class:`~critlang.semantics.dictionary.CodePattern` compares them."""
    rows = sorted(
        {
            (pattern.system, pattern.code, pattern.prefix, variable.name)
            for variable in dictionary.unique()
            for pattern in variable.codes
        }
    )
    values = [
        exp.tuple_(
            exp.Literal.string(system),
            exp.Literal.string(code),
            exp.Boolean(this=prefix),
            exp.Literal.string(name),
        )
        for system, code, prefix, name in rows
    ] or [exp.tuple_(exp.Null(), exp.Null(), exp.Boolean(this=False), exp.Null())]
    table = exp.values(values, alias="codes", columns=["system", "code", "prefix", "variable"])
    return exp.select("system", "code", "prefix", "variable", copy=False).from_(table, copy=False)


def _source_parts(
    dictionary: Dictionary, *, deaths: bool, kinds: Kinds, unique: frozenset[str]
) -> list[tuple[str, str | exp.Expr]]:
    """The source common table expressions, in dependency order: DuckDB SQL templates, and the
    dictionary's codes as a tree. ``unique`` names the tables whose ids the caller knows to be
    unique (``concept``, ``person``), and (the clinical tables) whole numbers from 0 to 2^40 - 2
    that no two rows of one person share: what would put rows that share an id in order is
    left out for them."""
    lab_reads = _lab_cells(kinds, unique)
    occurrence_reads, occurrence_cells = _occurrence_cells(kinds, unique)
    labs_repeating = tuple(t for t in _LAB_TABLES if t.spec.table not in unique)
    occurrences_repeating = tuple(t for t in _OCCURRENCE_TABLES if t.spec.table not in unique)
    parts: list[tuple[str, str | exp.Expr]] = [
        ("concepts", _UNIQUE_CONCEPTS if "concept" in unique else _CONCEPTS),
        ("person_cells", _person_cells(kinds)),
        ("person_readings", _PERSON_READINGS),
        ("persons", _UNIQUE_PERSONS if "person" in unique else _PERSONS),
        *([("lab_repeats", _repeated_rows(labs_repeating, kinds))] if labs_repeating else []),
        *lab_reads,
        *(
            [("occurrence_repeats", _repeated_rows(occurrences_repeating, kinds))]
            if occurrences_repeating
            else []
        ),
        *occurrence_reads,
        ("occurrence_cells", occurrence_cells),
        ("code_cells", _code_cells(kinds)),
        ("code_keys", _CODE_KEYS),
        ("drug_ids", _drug_ids(kinds)),
        ("rxnorm_links", _RXNORM_LINKS),
        ("drug_classes", _DRUG_CLASSES),
        ("drug_atc", _DRUG_ATC),
        ("code_candidates", _CODE_CANDIDATES),
        ("code_normalised", _CODE_NORMALISED),
        ("dictionary_codes", dictionary_codes(dictionary)),
        ("code_names", _CODE_NAMES),
        ("chosen_codes", _CHOSEN_CODES),
        ("row_codes", _ROW_CODES),
        ("lab_rows", _LAB_ROWS),
        ("occurrence_rows", _OCCURRENCE_ROWS),
    ]
    if deaths:
        parts.append(("deaths", _deaths(kinds)))
    return parts


def source_ctes(
    dictionary: Dictionary,
    *,
    deaths: bool,
    kinds: Kinds = _NO_KINDS,
    unique: frozenset[str] = frozenset(),
) -> list[tuple[str, exp.Expr]]:
    """The common table expressions that read the OMOP tables, in dependency order; ``kinds``
    are the types of the database's columns, read without a round trip through text; ``unique``
    the tables whose ids are known unique (see :func:`_source_parts`)."""
    return [
        (name, _parse(body) if isinstance(body, str) else body)
        for name, body in _source_parts(dictionary, deaths=deaths, kinds=kinds, unique=unique)
    ]


def duckdb_source_ctes(
    dictionary: Dictionary,
    *,
    deaths: bool,
    kinds: Kinds = _NO_KINDS,
    unique: frozenset[str] = frozenset(),
) -> str:
    """:func:`source_ctes` as DuckDB SQL text (``name AS (…), …``; tables unqualified): the
    templates as they are written, in DuckDB's SQL, without parsing them and printing them
    again (in a process that compiles one query, that round trip is most of the compiling)."""
    items = []
    for name, body in _source_parts(dictionary, deaths=deaths, kinds=kinds, unique=unique):
        text = body if isinstance(body, str) else body.sql(dialect="duckdb", copy=False)
        materialized = "MATERIALIZED " if name in MATERIALIZED else ""
        items.append(f"{name} AS {materialized}({text.strip()})")
    return ",\n".join(items)


def qualify_tables(query: exp.Expr, schema: str | None) -> exp.Expr:
    """Each OMOP table of ``query`` in ``schema`` (a quoted identifier, whatever it holds)."""
    if schema is None:
        return query

    def qualify(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in TABLES:
            node.set("db", exp.to_identifier(schema, quoted=True))
        return node

    return query.transform(qualify, copy=False)


def table_columns() -> Iterable[tuple[str, tuple[str, ...]]]:
    """Each table the query reads and the columns it reads from it."""
    return COLUMNS.items()


_UNIT_CODES = f"""
SELECT DISTINCT TRIM(code_text) AS code FROM (
  SELECT {cells.text("concept_code")} AS code_text, {cells.text("vocabulary_id")} AS vocabulary_text,
         {cells.identifier(cells.text("concept_id"))} AS id FROM concept) AS units
WHERE TRIM(vocabulary_text) = 'UCUM' AND code_text IS NOT NULL AND id IN (
  SELECT {cells.identifier(cells.text("unit_concept_id"))} FROM (
    SELECT CAST(unit_concept_id AS VARCHAR) AS unit_concept_id
    FROM (SELECT DISTINCT unit_concept_id FROM measurement) AS results
    UNION SELECT CAST(unit_concept_id AS VARCHAR)
    FROM (SELECT DISTINCT unit_concept_id FROM observation) AS facts) AS used)
ORDER BY code
"""


def unit_codes_query() -> exp.Select:
    """The UCUM codes (column ``code``) of the units the export's results use, as the query
    reads a result's unit (``concept``'s code for its ``unit_concept_id``)."""
    query = _parse(_UNIT_CODES)
    assert isinstance(query, exp.Select)
    return query


def source_select(
    table: str, columns: Mapping[str, str] | None, schema: str | None, name: str | None = None
) -> exp.Select:
    """The columns the query reads from ``table``, selected from the database's own table
    ``name`` (by default ``table``) in ``schema``; ``columns`` maps each column the database
    has (lower case) to its own name. A column it lacks is NULL, and without ``columns`` (the
    table is missing) there is no row."""
    found = columns or {}
    items = [
        exp.alias_(
            exp.column(exp.to_identifier(found[column], quoted=True))
            if column in found
            else exp.cast(exp.Null(), exp.DataType.build("VARCHAR"), copy=False),
            column,
            copy=False,
        )
        for column in COLUMNS[table]
    ]
    select = exp.select(*items, copy=False)
    if columns is None:
        return select.where(exp.false(), copy=False)
    database = exp.Table(
        this=exp.to_identifier(name or table, quoted=True),
        db=None if schema is None else exp.to_identifier(schema, quoted=True),
    )
    return select.from_(database, copy=False)


def with_sources(query: exp.Select, sources: Mapping[str, exp.Select]) -> exp.Select:
    """``query`` (compiled without a schema) reading each OMOP table from ``sources`` instead:
    common table expressions named after the tables, put first and never materialized, so
    that they read as views would."""
    ctes = [
        exp.CTE(
            this=body,
            alias=exp.TableAlias(this=exp.to_identifier(table)),
            materialized=False,
        )
        for table, body in sources.items()
    ]
    with_ = query.args.get("with_")
    if with_ is None:
        query.set("with_", exp.With(expressions=ctes))
    else:
        with_.set("expressions", [*ctes, *with_.expressions])
    return query
