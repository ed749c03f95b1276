"""OMOP CSV exports loaded into a SQL warehouse as typed tables, for the tests that run the
compiled query on PostgreSQL and Spark.

A warehouse's OMOP tables have the CDM 5.4 DDL's column types (integers, DATE, TIMESTAMP,
NUMERIC, VARCHAR), unlike a CSV export, where every cell is text: :data:`DDL_TYPES` gives them
for every column the query reads (the OHDSI DDL's, ``bigint`` where the DDL says ``integer``
and an export's ids may not fit); a column not listed is loaded as text. Loaded ``untyped``,
every column is text (an export copied into the warehouse as it is, bad cells and all).
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from critlang.sql.source import COLUMNS

# The OMOP CDM 5.4 DDL types (OHDSI CommonDataModel, inst/ddl/5.4) of the columns the query
# reads. Ids are 64-bit: the DDL's `integer` ids overflow in some exports.
_TEXT_COLUMNS = {
    "concept_name": "VARCHAR(255)",
    "vocabulary_id": "VARCHAR(20)",
    "concept_code": "VARCHAR(50)",
    "relationship_id": "VARCHAR(20)",
    "value_as_string": "VARCHAR(60)",
}


def ddl_type(column: str) -> str:
    """The CDM 5.4 type of one of the columns the query reads."""
    if column in _TEXT_COLUMNS:
        return _TEXT_COLUMNS[column]
    if column.endswith(("_id", "_id_1", "_id_2")):
        return "BIGINT"
    if column.endswith("_of_birth"):
        return "INTEGER"
    if column.endswith("_datetime"):
        return "TIMESTAMP"
    if column.endswith("_date"):
        return "DATE"
    if column in ("value_as_number", "range_low", "range_high"):
        return "NUMERIC"
    assert column.endswith(("_source_value", "_value")), column
    return "VARCHAR(50)"


DDL_TYPES: dict[str, dict[str, str]] = {
    table: {column: ddl_type(column) for column in columns} for table, columns in COLUMNS.items()
}


def csv_tables(folder: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """Each CSV table of an export: its name (lower case), file and header (lower case)."""
    for file in sorted(folder.glob("*.csv")):
        with file.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
        yield file.stem.lower(), file, [name.strip().lower() for name in header]


def column_types(table: str, header: list[str], *, typed: bool) -> dict[str, str | None]:
    """Each column's DDL type (None: text) when ``typed``, else every column text."""
    types = DDL_TYPES.get(table, {}) if typed else {}
    return {name: types.get(name) for name in header}


def quoted(name: str) -> str:
    """A SQL identifier in double quotes (test data names only)."""
    return '"' + name.replace('"', '""') + '"'


def load_postgres(
    connection: Any,
    folder: Path,
    schema: str,
    *,
    typed: bool = True,
    collation: str | None = None,
) -> None:
    """Every CSV table of ``folder`` as a table of ``schema`` (created anew), by COPY; a typed
    column reads an empty cell, quoted or not, as NULL. ``collation`` is that of every text
    column (by default the database's)."""
    collate = "" if collation is None else f" COLLATE {quoted(collation)}"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quoted(schema)} CASCADE")
        cursor.execute(f"CREATE SCHEMA {quoted(schema)}")
        for table, file, header in csv_tables(folder):
            types = column_types(table, header, typed=typed)
            columns = ", ".join(
                f"{quoted(name)} {kind or 'TEXT'}"
                + (collate if kind is None or kind.startswith("VARCHAR") else "")
                for name, kind in types.items()
            )
            target = f"{quoted(schema)}.{quoted(table)}"
            cursor.execute(f"CREATE TABLE {target} ({columns})")
            nullable = [quoted(name) for name, kind in types.items() if kind]
            force_null = f", FORCE_NULL ({', '.join(nullable)})" if nullable else ""
            copy = f"COPY {target} FROM STDIN (FORMAT csv, HEADER true{force_null})"
            with cursor.copy(copy) as writer, file.open("rb") as handle:
                while block := handle.read(1 << 16):
                    writer.write(block)
    connection.commit()


_LIMITS = {"INTEGER": 2**31, "BIGINT": 2**63}


def warehouse_cell(kind: str, text: str) -> str:
    """A CSV cell as a column of type ``kind`` holds it, written as text that reads back the
    same (a date as ``YYYY-MM-DD``, a timestamp without its offset …); empty when the database
    would refuse it."""
    cell = text.strip()
    if not cell:
        return ""
    if kind in _LIMITS:
        if not re.fullmatch(r"[+-]?[0-9]+", cell):
            return ""
        whole = int(cell)
        return str(whole) if -_LIMITS[kind] <= whole < _LIMITS[kind] else ""
    if kind in ("DATE", "TIMESTAMP"):
        try:
            moment = datetime.datetime.fromisoformat(cell)
        except ValueError:
            return ""
        if kind == "DATE":
            return moment.date().isoformat()
        return moment.replace(tzinfo=None).isoformat(sep=" ")
    if kind == "NUMERIC":
        try:
            number = Decimal(cell)
        except InvalidOperation:
            return ""
        # Postgres reads what Decimal reads, but no underscores, and exponents up to 1000
        fits = number.is_nan() or (number.is_finite() and abs(number.adjusted()) < 1000)
        return cell if "_" not in cell and fits else ""
    size = re.fullmatch(r"VARCHAR\(([0-9]+)\)", kind)
    assert size is not None, kind
    return text if len(text) <= int(size.group(1)) else ""


def warehouse_rows(tables: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    """Tables of CSV rows (named as files, ``MEASUREMENT``) as a typed warehouse holds them
    (:func:`warehouse_cell` for each column of a known type)."""
    typed = {}
    for name, rows in tables.items():
        types = DDL_TYPES.get(name.lower(), {})
        typed[name] = [
            {
                column: warehouse_cell(types[column], cell) if column in types else cell
                for column, cell in row.items()
            }
            for row in rows
        ]
    return typed
