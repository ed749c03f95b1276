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
  code and a readable date (or none), in record order (``table_order``, then row id).
- ``occurrence_rows``: ``condition_occurrence`` (``table_order`` 2: the conditions), then
  ``drug_exposure``, ``procedure_occurrence`` and ``visit_occurrence`` (the events), with start,
  end and (conditions) status; rows ending before they start are left out.
- ``deaths``: the earliest readable death date of each person with a ``death`` row.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

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
        "lab_cells",
        "occurrence_cells",
        "chosen_codes",
        "lab_rows",
        "occurrence_rows",
    }
)
# Text is put in order by code point, as Python compares strings (the reader's order), whatever
# the database's collation; the dialects without this collation are left to their own (binary
# in Spark's case): critlang.sql.render takes it out.
_C = 'COLLATE "C"'
# Columns compared, in this order, to put a person's rows of one table in the reader's order
# when a row id repeats (_canonical: by id, then by every cell read).
ORDER_COLUMNS = 14


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


def _text_select(table: _Table, wanted: dict[str, str | None]) -> str:
    """A table's cells as text, under common names (``None``: the table has no such cell)."""
    items = [
        f"{cells.identifier(cells.text('person_id'))} AS person_id",
        f"{table.order} AS table_order",
        f"{cells.text(table.spec.id)} AS row_text",
        f"{cells.identifier(cells.text(table.spec.id))} AS row_number",
        f"{cells.identifier(cells.text(table.spec.concept))} AS concept_id",
        f"{cells.identifier(cells.text(table.spec.source_concept))} AS source_concept_id",
        f"UPPER(TRIM(COALESCE({cells.text(table.spec.source_value)}, ''))) AS source_key",
    ]
    for name, column in wanted.items():
        items.append(f"{cells.text(column) if column else 'CAST(NULL AS VARCHAR)'} AS {name}")
    content = list(table.spec.columns) + [""] * (ORDER_COLUMNS - len(table.spec.columns))
    for index, column in enumerate(content, start=1):
        value = f"COALESCE({cells.text(column)}, '')" if column else "''"
        items.append(f"{value} AS content_{index}")
    return f"SELECT {', '.join(items)} FROM {table.spec.table}"


def _lab_cells() -> str:
    selects = []
    for table in _LAB_TABLES:
        present = set(table.spec.columns)

        def column(name: str, present: set[str] = present) -> str | None:
            return name if name in present else None

        selects.append(
            _text_select(
                table,
                {
                    "date_text": table.spec.start[0],
                    "datetime_text": table.spec.start[1],
                    "operator_text": column("operator_concept_id"),
                    "number_text": "value_as_number",
                    "value_concept_text": "value_as_concept_id",
                    "value_string": column("value_as_string"),
                    "unit_text": "unit_concept_id",
                    "low_text": column("range_low"),
                    "high_text": column("range_high"),
                    "verbatim": "value_source_value",
                },
            )
        )
    return " UNION ALL ".join(selects)


def _occurrence_cells() -> str:
    selects = []
    for table in _OCCURRENCE_TABLES:
        ends = [*table.spec.end, None, None, None][:3]
        wanted: dict[str, str | None] = {
            "start_text": table.spec.start[0],
            "start_datetime_text": table.spec.start[1],
            "end_text": ends[0],
            "end_datetime_text": ends[1],
            "end_verbatim_text": ends[2],
            "status_concept_text": table.spec.extra[0] if table.order == CONDITION else None,
            "status_text": table.spec.extra[1] if table.order == CONDITION else None,
        }
        selects.append(_text_select(table, wanted))
    return " UNION ALL ".join(selects)


_LAB_CELLS = _lab_cells()
_OCCURRENCE_CELLS = _occurrence_cells()

_CONCEPTS = f"""
SELECT id, system, value, vocabulary, name FROM (
  SELECT id, system, value, vocabulary, name,
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY (system || ':' || value) {_C}, vocabulary {_C},
                                                 name {_C}) AS copy
  FROM (
    SELECT {cells.identifier("concept_id_text")} AS id,
      CASE WHEN TRIM(vocabulary_text) = 'CPT4' THEN 'CPT'
           ELSE REPLACE(TRIM(vocabulary_text), ' ', '_') END AS system,
      TRIM(code_text) AS value, TRIM(vocabulary_text) AS vocabulary,
      COALESCE(TRIM(name_text), '') AS name
    FROM (SELECT {cells.text("concept_id")} AS concept_id_text,
                 {cells.text("vocabulary_id")} AS vocabulary_text,
                 {cells.text("concept_code")} AS code_text,
                 {cells.text("concept_name")} AS name_text FROM concept) AS texts
    WHERE vocabulary_text IS NOT NULL AND code_text IS NOT NULL) AS read
  WHERE id IS NOT NULL) AS numbered
WHERE copy = 1
"""

_PERSON_CELLS = f"""
SELECT {cells.identifier(cells.text("person_id"))} AS person_id,
  {cells.identifier(cells.text("gender_concept_id"))} AS gender,
  {cells.whole(cells.text("year_of_birth"))} AS birth_year,
  {cells.whole(cells.text("month_of_birth"))} AS birth_month,
  {cells.whole(cells.text("day_of_birth"))} AS birth_day,
  {cells.text("birth_datetime")} AS birth_datetime_text
FROM person
"""

_PERSON_READINGS = f"""
SELECT person_id,
  COALESCE(
    CASE WHEN {cells.calendar("birth_year", "birth_month", "birth_day")}
      THEN TRY_CAST(LPAD(CAST(birth_year AS VARCHAR), 4, '0') || '-'
                    || LPAD(CAST(birth_month AS VARCHAR), 2, '0') || '-'
                    || LPAD(CAST(birth_day AS VARCHAR), 2, '0') AS DATE) END,
    {cells.date("birth_datetime_text")}) AS birth_date,
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

_CODE_KEYS = """
SELECT DISTINCT table_order, concept_id, source_concept_id, source_key FROM lab_cells
UNION
SELECT DISTINCT table_order, concept_id, source_concept_id, source_key FROM occurrence_cells
"""

_DRUG_IDS = """
SELECT DISTINCT id FROM (
  SELECT concept_id AS id FROM occurrence_cells WHERE table_order = 3
  UNION SELECT source_concept_id FROM occurrence_cells WHERE table_order = 3) AS ids
WHERE id IS NOT NULL AND id <> 0
"""

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

_JOIN_CODE = """
JOIN chosen_codes AS k ON k.table_order = c.table_order AND k.source_key = c.source_key
  AND COALESCE(k.concept_id, -1) = COALESCE(c.concept_id, -1)
  AND COALESCE(k.source_concept_id, -1) = COALESCE(c.source_concept_id, -1)
"""

_ORDER = "c.row_number, c.row_text, " + ", ".join(
    f"c.content_{index}" for index in range(1, ORDER_COLUMNS + 1)
)


def _symbol(text: str) -> str:
    """The reader's ``_symbol_text``: lower case, blanks as ``_``."""
    return (
        f"REGEXP_REPLACE(REGEXP_REPLACE(LOWER({text}), '^\\s+|\\s+$', '', 'g'), '\\s+', '_', 'g')"
    )


_VALUE_CONCEPT = "COALESCE(c.value_concept_id, 0) <> 0 AND COALESCE(v.name, '') <> ''"
_VERBATIM = f"c.verbatim IS NOT NULL AND {cells.verbatim_words('c.verbatim')}"
_TAG = r"\s*\([a-z][a-z /-]*\)\s*$"

_LAB_ROWS = f"""
SELECT c.person_id, c.table_order, {_ORDER}, k.system_key, k.code_key,
  COALESCE({cells.date("c.date_text")}, {cells.date("c.datetime_text")}) AS result_date,
  c.number_text IS NOT NULL AS is_number,
  {cells.number("c.number_text")} AS value,
  CASE WHEN c.number_text IS NOT NULL AND c.unit_concept_id <> 0 AND u.vocabulary = 'UCUM'
    THEN u.value END AS unit,
  {cells.number("c.low_text")} AS low,
  {cells.number("c.high_text")} AS high,
  CASE WHEN c.number_text IS NOT NULL THEN NULL
    WHEN {_VALUE_CONCEPT} THEN {_symbol("v.name")}
    WHEN c.value_string IS NOT NULL THEN {_symbol("c.value_string")}
    ELSE {_symbol(f"REGEXP_REPLACE(c.verbatim, '{_TAG}', '')")} END AS symbol
FROM (SELECT t.*, {cells.identifier("t.value_concept_text")} AS value_concept_id,
             {cells.identifier("t.unit_text")} AS unit_concept_id,
             {cells.identifier("t.operator_text")} AS operator_id
      FROM lab_cells AS t) AS c
{_JOIN_CODE}
LEFT JOIN concepts AS u ON u.id = c.unit_concept_id
LEFT JOIN concepts AS v ON v.id = c.value_concept_id
WHERE c.person_id IS NOT NULL
  AND (CASE WHEN c.number_text IS NOT NULL
         THEN {cells.is_number("c.number_text")}
              AND (c.operator_id IS NULL OR c.operator_id IN (0, 4172703))
         ELSE ({_VALUE_CONCEPT}) OR c.value_string IS NOT NULL OR ({_VERBATIM}) END)
  AND ((c.date_text IS NULL AND c.datetime_text IS NULL)
       OR COALESCE({cells.date("c.date_text")}, {cells.date("c.datetime_text")}) IS NOT NULL)
"""

_OCCURRENCE_DATES = f"""
SELECT c.*, {cells.first_date(["c.start_text", "c.start_datetime_text"])} AS start_date,
  {cells.first_date(["c.end_text", "c.end_datetime_text", "c.end_verbatim_text"])} AS end_date,
  {cells.identifier("c.status_concept_text")} AS status_concept_id
FROM occurrence_cells AS c WHERE c.person_id IS NOT NULL
"""

_OCCURRENCE_ROWS = f"""
SELECT c.person_id, c.table_order, {_ORDER}, k.system_key, k.code_key, c.start_date, c.end_date,
  CASE WHEN c.table_order <> 2 THEN NULL
       WHEN c.status_concept_id <> 0 AND s.id IS NOT NULL THEN NULLIF(LOWER(s.name), '')
       ELSE NULLIF(LOWER(TRIM(c.status_text)), '') END AS status
FROM occurrence_dates AS c
{_JOIN_CODE}
LEFT JOIN concepts AS s ON s.id = c.status_concept_id AND c.status_concept_id <> 0
WHERE c.start_date IS NULL OR c.end_date IS NULL OR c.end_date >= c.start_date
"""

_DEATHS = f"""
SELECT person_id, MIN(death_day) AS death_date FROM (
  SELECT {cells.identifier(cells.text("person_id"))} AS person_id,
    {cells.first_date([cells.text("death_date"), cells.text("death_datetime")])} AS death_day
  FROM death) AS days
WHERE person_id IS NOT NULL GROUP BY person_id
"""


@functools.cache
def _parsed(sql: str) -> exp.Expr:
    parsed = sqlglot.parse_one(sql, read="duckdb")
    assert parsed is not None
    return parsed


def _parse(sql: str) -> exp.Expr:
    """A template parsed (once per process), as a tree of the caller's own."""
    return _parsed(sql).copy()


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


def source_ctes(dictionary: Dictionary, *, deaths: bool) -> list[tuple[str, exp.Expr]]:
    """The common table expressions that read the OMOP tables, in dependency order."""
    texts = [
        ("concepts", _CONCEPTS),
        ("person_cells", _PERSON_CELLS),
        ("person_readings", _PERSON_READINGS),
        ("persons", _PERSONS),
        ("lab_cells", _LAB_CELLS),
        ("occurrence_cells", _OCCURRENCE_CELLS),
        ("code_keys", _CODE_KEYS),
        ("drug_ids", _DRUG_IDS),
        ("rxnorm_links", _RXNORM_LINKS),
        ("drug_classes", _DRUG_CLASSES),
        ("drug_atc", _DRUG_ATC),
        ("code_candidates", _CODE_CANDIDATES),
        ("code_normalised", _CODE_NORMALISED),
    ]
    ctes = [(name, _parse(sql)) for name, sql in texts]
    ctes.append(("dictionary_codes", dictionary_codes(dictionary)))
    later = [
        ("code_names", _CODE_NAMES),
        ("chosen_codes", _CHOSEN_CODES),
        ("lab_rows", _LAB_ROWS),
        ("occurrence_dates", _OCCURRENCE_DATES),
        ("occurrence_rows", _OCCURRENCE_ROWS),
    ]
    if deaths:
        later.append(("deaths", _DEATHS))
    ctes.extend((name, _parse(sql)) for name, sql in later)
    return ctes


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
  SELECT {cells.identifier(cells.text("unit_concept_id"))} FROM measurement
  UNION SELECT {cells.identifier(cells.text("unit_concept_id"))} FROM observation)
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
