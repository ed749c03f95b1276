"""Running the compiled query with DuckDB over an OMOP export: a CSV folder or a database file.

The export is opened as :mod:`critlang.data.omop_tables` opens it: a CSV file is read with
DuckDB's ``read_csv``, every column as text (``VARCHAR``, no type sniffing), RFC 4180 quoting,
short rows padded; a database file is attached read-only. Each table the query reads becomes a
view in an in-memory schema ``omop`` with exactly the columns it reads (those the export lacks are
NULL; a table it lacks is empty), so one query reads every export. Extensions are never installed
or loaded: no network.
"""

from __future__ import annotations

import contextlib
import datetime
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from sqlglot import exp

from critlang.allocation import collector_paused
from critlang.data.omop_tables import OmopError, csv_files, header, load_duckdb
from critlang.sql import cells
from critlang.sql.source import qualify_tables, table_columns, unique_tables, unit_codes_query

if TYPE_CHECKING:
    from critlang.trial import Trial

_SCHEMA = "omop"
_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
# A table without these is not read by the OMOP reader (its section is then missing).
_REQUIRED = {
    "condition_occurrence": "condition_concept_id",
    "drug_exposure": "drug_concept_id",
    "procedure_occurrence": "procedure_concept_id",
}


@attrs.frozen
class SqlRow:
    """One person's row: the verdict (``eligible``, ``ineligible``, ``undetermined``, or
    ``error`` when the person's ``person`` rows disagree) and each criterion's outcome, in the
    trial's order (None for an ``error`` row)."""

    person_id: int
    verdict: str
    outcomes: tuple[str | None, ...]


def _literal(text: str) -> str:
    return exp.Literal.string(text).sql(dialect="duckdb")


def _name(text: str) -> str:
    return exp.to_identifier(text, quoted=True).sql(dialect="duckdb")


class _Export:
    """The export's tables as views in schema ``omop``; ``present`` maps each table found to
    its columns (lower case) and the name to select them by."""

    def __init__(self, connection: Any, path: Path, schema: str | None) -> None:
        self.connection = connection
        self.present: dict[str, dict[str, str]] = {}
        self.sources: dict[str, str] = {}
        # The database's column types (a CSV export has none: every cell is text).
        self.types: dict[str, dict[str, str]] = {}
        # A database file's schema and each table's name there (a CSV export has neither).
        self.schema: str | None = None
        self.tables: dict[str, str] = {}
        connection.execute(f"CREATE SCHEMA {_name(_SCHEMA)}")
        if path.is_dir():
            self._csv(path)
        elif path.is_file():
            self._database(path, schema)
        else:
            raise OmopError(f"{path}: no such folder or file")
        if "person" not in self.present:
            raise OmopError(f"{path}: no person table (an OMOP export needs one)")
        for table, columns in table_columns():
            self._view(table, columns)

    def _csv(self, folder: Path) -> None:
        for table, file in csv_files(folder).items():
            names = header(file)
            self.present[table] = {name: name for name in names}
            if not names:
                continue
            columns = ", ".join(f"{_literal(name)}: 'VARCHAR'" for name in names)
            self.sources[table] = (
                f"read_csv({_literal(str(file))}, header = true, auto_detect = false, "
                f"delim = ',', quote = '\"', escape = '\"', null_padding = true, "
                f"strict_mode = false, columns = {{{columns}}})"
            )

    def _database(self, file: Path, schema: str | None) -> None:
        self.connection.execute(f"ATTACH {_literal(str(file))} AS source (READ_ONLY)")
        found = self.connection.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = 'source' ORDER BY ordinal_position"
        ).fetchall()
        schemas: dict[str, dict[str, tuple[str, dict[str, str]]]] = {}
        types: dict[tuple[str, str], dict[str, str]] = {}
        for table_schema, table, column, data_type in found:
            tables = schemas.setdefault(str(table_schema), {})
            _, columns = tables.setdefault(str(table).lower(), (str(table), {}))
            columns[str(column).lower()] = str(column)
            key = (str(table_schema), str(table).lower())
            types.setdefault(key, {})[str(column).lower()] = str(data_type)
        if schema is None:
            with_person = sorted(name for name, tables in schemas.items() if "person" in tables)
            schema = "main" if "main" in with_person else (with_person or ["main"])[0]
        self.schema = schema
        for name, (table, columns) in schemas.get(schema, {}).items():
            self.tables[name] = table
            self.present[name] = columns
            self.sources[name] = f"source.{_name(schema)}.{_name(table)}"
            self.types[name] = types.get((schema, name), {})

    def _view(self, table: str, columns: Sequence[str]) -> None:
        found = self.present.get(table, {})
        source = self.sources.get(table)
        items = [
            f"{_name(found[column]) if column in found and source else 'CAST(NULL AS VARCHAR)'}"
            f" AS {_name(column)}"
            for column in columns
        ]
        body = f"SELECT {', '.join(items)}"
        body += f" FROM {source}" if source else " WHERE FALSE"
        self.connection.execute(f"CREATE VIEW {_name(_SCHEMA)}.{_name(table)} AS {body}")

    def has_section(self, *tables: str) -> bool:
        """Whether the reader reads every one of ``tables`` (present, with the columns it
        needs, or an empty file)."""
        for table in tables:
            columns = self.present.get(table)
            if columns is None:
                return False
            if columns and not {"person_id", _REQUIRED[table]} <= set(columns):
                return False
        return True

    def unique_ids(self) -> frozenset[str]:
        """The tables whose ids the database keeps unique and present (a primary key, or a
        column both UNIQUE and NOT NULL), of an integer type, and (the clinical tables) all
        from 0 to ID_LIMIT - 1: the query needs no order for rows that share an id there. A
        CSV export's cells are text, constrained by nothing: none."""
        if self.schema is None:
            return frozenset()
        # by table and kind of constraint, the columns that have one of their own
        constraints: dict[str, dict[str, set[str]]] = {}
        for table, kind, columns in self.connection.execute(
            "SELECT table_name, constraint_type, constraint_column_names FROM duckdb_constraints()"
            " WHERE database_name = 'source' AND schema_name = ?",
            [self.schema],
        ).fetchall():
            if len(columns or ()) == 1:
                of_table = constraints.setdefault(str(table).lower(), {})
                of_table.setdefault(str(kind), set()).add(str(columns[0]).lower())
        keys = {
            table: {
                column
                for column in found.get("PRIMARY KEY", set())
                | (found.get("UNIQUE", set()) & found.get("NOT NULL", set()))
                if cells.kind_of(self.types.get(table, {}).get(column, "")) == cells.INTEGER
            }
            for table, found in constraints.items()
        }

        def bounds(table: str, column: str) -> tuple[Any, Any]:
            source = f"source.{_name(self.schema or '')}.{_name(self.tables[table])}"
            real = _name(self.present[table][column])
            row = self.connection.execute(f"SELECT MIN({real}), MAX({real}) FROM {source}")
            return row.fetchone() or (None, None)

        return unique_tables(keys, bounds)

    def unit_codes(self) -> list[str]:
        """The UCUM codes of the units the results use, read as the query reads a result's unit
        (:func:`~critlang.sql.source.unit_codes_query`, as PostgreSQL's runner reads them)."""
        query = qualify_tables(unit_codes_query(), _SCHEMA).sql(dialect="duckdb")
        rows = self.connection.execute(query).fetchall()
        return sorted(str(code) for (code,) in rows if code)


def configure(connection: Any) -> None:
    """What a DuckDB connection that runs the query needs: no progress bar (a long query would
    draw one on standard output), and no casts pushed into the CSV reader (DuckDB 2's
    ``type_pushdown`` reads a cell the query guards, ``kg`` in an id column, as the type the
    query casts it to, and fails on it)."""
    connection.execute("SET enable_progress_bar = false")
    with contextlib.suppress(Exception):  # a DuckDB without that optimizer
        connection.execute("SET disabled_optimizers = 'type_pushdown'")


def run_duckdb(
    trial: Trial,
    omop_path: str | Path,
    as_of: datetime.date | str | None = None,
    *,
    anchors: Mapping[str, datetime.date | str] | None = None,
    schema: str | None = None,
    memory_limit: str | None = None,
    temp_directory: str | Path | None = None,
) -> list[SqlRow]:
    """Screen the persons of an OMOP export with the compiled query, run by DuckDB.

    ``omop_path`` is a folder of CSV tables (``PERSON.csv`` …, names in any case) or a DuckDB
    database file (its tables in ``schema``, by default the schema holding ``person``). The
    units the export's results use are added to the query's catalogue, and a missing conditions
    or events table makes what it would hold UNKNOWN, as for the in-memory reader. Rows come in
    ``person_id`` order.

    ``memory_limit`` (``"4GB"``) bounds DuckDB's memory; beyond it DuckDB spills to
    ``temp_directory`` (by default a temporary folder of its own, deleted afterwards). A
    database file's numeric, date and timestamp columns are read as they are (their types come
    from the database), a CSV export's cells as text.
    """
    duckdb = load_duckdb()
    with contextlib.ExitStack() as stack:
        if temp_directory is None:
            temp_directory = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="critlang-sql-")
            )
        config: dict[str, str | bool] = {**_CONFIG, "temp_directory": str(temp_directory)}
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        try:
            connection = duckdb.connect(config=config)
        except duckdb.Error as error:
            raise OmopError(f"DuckDB refused its settings ({error})") from error
        rows = _screen(duckdb, connection, trial, Path(omop_path), as_of, anchors, schema)
    # Each row's verdict and outcomes come as one text (see _packed), read once per distinct
    # text: persons share a few hundred of them where they are thousands.
    read: dict[str, tuple[str, tuple[str | None, ...]]] = {}
    screened = []
    with collector_paused():  # a row per person, and no cycle among them
        for person, text in rows:
            found = read.get(text)
            if found is None:
                verdict, *outcomes = text.split(_SEPARATOR)
                found = read[text] = (verdict, tuple(outcome or None for outcome in outcomes))
            screened.append(SqlRow(person, *found))
    return screened


# What separates the verdict and the outcomes in a packed row (no outcome or verdict has it).
_SEPARATOR = "|"


def _packed(query: str, trial: Trial) -> str:
    """``query``'s rows as (``person_id``, one text of the verdict and each criterion's outcome,
    separated by ``_SEPARATOR``, a NULL outcome as empty): fetching two values per person
    instead of two and one per criterion takes a third of the time."""
    # The columns renamed by place: a criterion's id may be ``verdict`` or ``person_id`` too.
    count = len(trial.criteria)
    names = ", ".join(f"c{index}" for index in range(count + 2))
    outcomes = "".join(f", COALESCE(c{index}, '')" for index in range(2, count + 2))
    return (
        f"SELECT c0, CONCAT_WS({_literal(_SEPARATOR)}, c1{outcomes})"
        f" FROM ({query}) AS screened({names}) ORDER BY c0"
    )


def _screen(
    duckdb: Any,
    connection: Any,
    trial: Trial,
    omop_path: Path,
    as_of: datetime.date | str | None,
    anchors: Mapping[str, datetime.date | str] | None,
    schema: str | None,
) -> list[tuple[int, str]]:
    from critlang.sql import duckdb_text

    configure(connection)
    try:
        export = _Export(connection, Path(omop_path), schema)
        query = duckdb_text(
            trial,
            as_of=as_of,
            anchors=anchors,
            units=export.unit_codes(),
            conditions=export.has_section("condition_occurrence"),
            events=export.has_section("drug_exposure", "procedure_occurrence"),
            column_types=export.types,
            unique_ids=export.unique_ids(),
        )
        # The query names the OMOP tables unqualified: they are the export's views.
        connection.execute(f"USE memory.{_name(_SCHEMA)}")
        result = connection.execute(_packed(query, trial))
        with collector_paused():  # fetching makes a tuple per person: nothing to collect
            rows: list[tuple[int, str]] = result.fetchall()
    except duckdb.Error as error:
        raise OmopError(f"{omop_path}: DuckDB could not run the query ({error})") from error
    finally:
        connection.close()
    return rows
