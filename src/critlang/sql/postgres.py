"""Running the compiled query on PostgreSQL over an OMOP CDM database, with psycopg 3.

The database's OMOP tables are found in ``information_schema`` (in ``schema``, by default the
schema of the search path, then any other, that holds ``person``; table and column names in any
case). Each table the query reads is put at the front of the query as a common table expression
that is never materialized (it reads as a view would) holding exactly the columns the query
reads: a column the table lacks is NULL, a table the database lacks has no rows; a missing
conditions or events table makes what it would hold UNKNOWN, as :func:`run_duckdb` does. The
query runs in one read-only transaction: nothing is written, not even a temporary view.

The session is set for the query alone (``SET LOCAL``): ISO dates (the query reads every cell as
text, and a DATE as text is then ``YYYY-MM-DD`` whatever the server's ``DateStyle``), standard
string literals (the query's patterns hold backslashes), exact float output, no nested-loop joins
and no JIT compilation (see :data:`_SETTINGS`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from critlang.errors import CritlangError
from critlang.sql.runner import SqlRow
from critlang.sql.source import (
    source_select,
    table_columns,
    unique_tables,
    unit_codes_query,
    with_sources,
)

if TYPE_CHECKING:
    from critlang.trial import Trial

# A table without these is not read by the OMOP reader (its section is then missing).
_REQUIRED = {
    "condition_occurrence": "condition_concept_id",
    "drug_exposure": "drug_concept_id",
    "procedure_occurrence": "procedure_concept_id",
}
_SETTINGS = (
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL standard_conforming_strings = on",
    "SET LOCAL extra_float_digits = 1",
    # The planner cannot estimate the query's many derived rows (common table expressions, cells
    # read through patterns), and a nested loop it picks on a wrong estimate of one row can run
    # for minutes where a hash join takes a second; the query has no use for one.
    "SET LOCAL enable_nestloop = off",
    # Compiling the query's thousands of expressions costs more than it saves.
    "SET LOCAL jit = off",
)
_CATALOG = """
SELECT c.table_schema, c.table_name, c.column_name
FROM information_schema.columns AS c
WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
  AND lower(c.table_name) = ANY(%s)
ORDER BY c.table_schema, c.table_name, c.ordinal_position
"""


# The one-column primary keys and unique constraints of a schema's tables, with the column's type
# and whether it may be NULL.
_KEYS = """
SELECT t.table_name, k.column_name, t.constraint_type, c.data_type, c.is_nullable
FROM information_schema.table_constraints AS t
JOIN information_schema.key_column_usage AS k
  ON k.constraint_schema = t.constraint_schema AND k.constraint_name = t.constraint_name
  AND k.table_name = t.table_name
JOIN information_schema.columns AS c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name
  AND c.column_name = k.column_name
WHERE t.table_schema = %s AND t.constraint_type IN ('PRIMARY KEY', 'UNIQUE')
  AND (SELECT count(*) FROM information_schema.key_column_usage AS o
       WHERE o.constraint_schema = t.constraint_schema
         AND o.constraint_name = t.constraint_name) = 1
"""
_INTEGERS = frozenset({"smallint", "integer", "bigint"})


def _load_psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise CritlangError(
            "running the query on PostgreSQL needs psycopg: pip install 'critlang[postgres]'"
        ) from None
    return psycopg


class _Database:
    """The OMOP tables of one schema: ``tables`` maps each table the query reads that is there
    (lower case) to its own name and its columns (lower case, to their own names)."""

    def __init__(self, cursor: Any, schema: str | None) -> None:
        wanted = [table for table, _ in table_columns()]
        cursor.execute(_CATALOG, [wanted])
        found: dict[tuple[str, str, str], dict[str, str]] = {}
        for table_schema, table, column in cursor.fetchall():
            place = (str(table_schema), str(table).lower(), str(table))
            found.setdefault(place, {})[str(column).lower()] = str(column)
        schemas: dict[str, dict[str, tuple[str, dict[str, str]]]] = {}
        # a name in two cases ("person" and "PERSON"): the lower-case one
        for (where, key, name), columns in sorted(found.items(), key=_lower_first):
            schemas.setdefault(where, {}).setdefault(key, (name, columns))
        if schema is None:
            cursor.execute("SELECT unnest(current_schemas(false))")
            path = [str(name) for (name,) in cursor.fetchall()]
            with_person = [name for name in schemas if "person" in schemas[name]]
            ordered = [name for name in path if name in with_person] + sorted(with_person)
            if not ordered:
                raise CritlangError("no schema of the database has an OMOP person table")
            schema = ordered[0]
        elif "person" not in schemas.get(schema, {}):
            raise CritlangError(f"schema {schema!r} has no OMOP person table (or cannot be read)")
        self.schema = schema
        self.tables = schemas[schema]

    def sources(self) -> dict[str, exp.Select]:
        """The query's OMOP tables, as selects from this schema."""
        sources = {}
        for table, _ in table_columns():
            name, columns = self.tables.get(table, (table, None))
            sources[table] = source_select(table, columns, self.schema, name)
        return sources

    def unique_ids(self, cursor: Any) -> frozenset[str]:
        """The tables whose id is a primary key (or UNIQUE and NOT NULL) of an integer type,
        and (the clinical tables) whose ids all lie from 0 to ID_LIMIT - 1 (their MIN and MAX,
        which the key's index answers): the query needs no order for rows that share an id
        there (see :func:`critlang.sql.compile_query`)."""
        cursor.execute(_KEYS, [self.schema])
        keys: dict[str, set[str]] = {}
        for table, column, kind, data_type, nullable in cursor.fetchall():
            name, _ = self.tables.get(str(table).lower(), ("", {}))
            if name != str(table) or str(data_type) not in _INTEGERS:
                continue  # another table of the same name in another case, or not whole numbers
            if kind == "PRIMARY KEY" or nullable == "NO":
                keys.setdefault(str(table).lower(), set()).add(str(column).lower())

        def bounds(table: str, column: str) -> tuple[Any, Any]:
            name, columns = self.tables[table]
            real = exp.to_identifier(columns[column], quoted=True).sql("postgres")
            where = exp.table_(name, db=self.schema, quoted=True).sql("postgres")
            cursor.execute(f"SELECT MIN({real}), MAX({real}) FROM {where}")
            return tuple(cursor.fetchone() or (None, None))

        return unique_tables(keys, bounds)

    def has_section(self, *tables: str) -> bool:
        """Whether the reader would read every one of ``tables`` (there, with the columns it
        needs)."""
        for table in tables:
            _, columns = self.tables.get(table, ("", {}))
            if not {"person_id", _REQUIRED[table]} <= set(columns):
                return False
        return True


def _lower_first(item: tuple[tuple[str, str, str], dict[str, str]]) -> tuple[bool, str]:
    (_, key, name), _ = item
    return name != key, name


def run_postgres(
    trial: Trial,
    dsn: str,
    *,
    as_of: datetime.date | str | None = None,
    anchors: Mapping[str, datetime.date | str] | None = None,
    schema: str | None = None,
) -> list[SqlRow]:
    """Screen the persons of an OMOP CDM database on PostgreSQL with the compiled query.

    ``dsn`` is a libpq connection string or URI (``postgresql://user@host/db``); the OMOP tables
    are in ``schema``, by default the schema holding ``person`` (the search path's first). The
    units the database's results use are added to the query's catalogue, and a missing
    conditions or events table makes what it would hold UNKNOWN, as for :func:`run_duckdb`.
    Rows come in ``person_id`` order.

    Raises :class:`~critlang.errors.CritlangError` when psycopg is not installed, the database
    cannot be reached or has no ``person`` table, or PostgreSQL refuses the query.
    """
    from critlang.sql import compile_query, render

    psycopg = _load_psycopg()
    try:
        with psycopg.connect(dsn) as connection:
            connection.read_only = True
            with connection.transaction(), connection.cursor() as cursor:
                for setting in _SETTINGS:
                    cursor.execute(setting)
                database = _Database(cursor, schema)
                sources = database.sources()
                units_query = with_sources(unit_codes_query(), sources)
                cursor.execute(render(units_query, "postgres", pretty=False))
                units = [str(code) for (code,) in cursor.fetchall() if code]
                query = compile_query(
                    trial,
                    as_of=as_of,
                    anchors=anchors,
                    units=units,
                    conditions=database.has_section("condition_occurrence"),
                    events=database.has_section("drug_exposure", "procedure_occurrence"),
                    unique_ids=database.unique_ids(cursor),
                )
                query = with_sources(query, {t: s.copy() for t, s in sources.items()})
                cursor.execute(render(query, "postgres", pretty=False))
                rows = cursor.fetchall()
    except psycopg.Error as error:
        raise CritlangError(f"PostgreSQL could not run the query: {error}") from error
    return [SqlRow(int(row[0]), str(row[1]), tuple(row[2:])) for row in rows]
