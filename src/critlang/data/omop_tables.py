"""The tables of an OMOP CDM export, read as text rows ordered by ``person_id``.

Two engines give the same rows, so :mod:`critlang.data.omop` maps them the same way:

- :class:`CsvTables` reads a folder of CSV files with Python's ``csv`` module. A table already
  sorted by ``person_id`` is streamed as it is; one that is not is sorted on disk (runs of
  ``chunk_rows`` rows, merged), so memory stays bounded whatever the size of the table.
- :class:`DuckTables` reads a DuckDB database file, or the same CSV folder through DuckDB's CSV
  reader; DuckDB sorts (spilling to a temporary folder when a table is larger than memory) and the
  rows are fetched ``chunk_rows`` at a time.

Every cell arrives as text or None (an empty cell is None), whatever the column's type in the
database, so that one parser reads both. A ``person_id`` is a key: ``(1, n, "")`` for a whole
number ``n``, ``(0, 0, text)`` for anything else. Rows whose ``person_id`` is not a number come
first, in no particular order (they belong to no person).
"""

from __future__ import annotations

import contextlib
import csv
import heapq
import itertools
import pickle
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple, Protocol

from critlang.errors import CritlangError

if TYPE_CHECKING:
    import duckdb  # type: ignore[import-not-found, unused-ignore]

PersonKey = tuple[int, int, str]
Cell = str | None

# Whole numbers as OMOP ids are written; both engines read ids with this one rule.
_SQL_ID = "[0-9]{1,18}"
# Sorted runs merged at once; more runs are merged in rounds.
_FAN_IN = 64
# A cell longer than csv's default 128 KiB limit is read rather than refused (free text, notes).
csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))


class OmopError(CritlangError):
    """An OMOP export that cannot be opened at all (no ``person`` table, no such file, DuckDB
    missing); problems inside the tables are never raised, they are counted."""


def identifier(text: Cell) -> int | None:
    """An OMOP id (``person_id``, a concept id) as a number, or None when it is not one: 1 to 18
    ASCII digits, nothing else (the SQL twin is :func:`_sql_key`)."""
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def person_key(text: Cell) -> PersonKey:
    number = identifier(text)
    return (0, 0, text or "") if number is None else (1, number, "")


class Row(NamedTuple):
    """One row: its person, its cells (in the order asked for), and where it is (``file:line``
    for a CSV file, the table's name in a database)."""

    key: PersonKey
    cells: tuple[Cell, ...]
    where: str


class Tables(Protocol):
    """What the mapper needs from an export."""

    skipped: Counter[str]  # lines that could not be read at all, by table

    def names(self) -> frozenset[str]:
        """The tables present (lower case)."""
        ...

    def columns(self, table: str) -> frozenset[str]:
        """A table's columns (lower case); empty for an empty file."""
        ...

    def distinct(self, table: str, columns: Sequence[str]) -> set[str]:
        """Every value the columns hold (for concept ids: which concepts to load)."""
        ...

    def matching(
        self, table: str, columns: Sequence[str], key: str, ids: Iterable[int]
    ) -> Iterator[tuple[Cell, ...]]:
        """The rows whose ``key`` column is one of ``ids``."""
        ...

    def starting(
        self, table: str, columns: Sequence[str], key: str, prefixes: tuple[str, ...]
    ) -> Iterator[tuple[Cell, ...]]:
        """The rows whose ``key`` column starts with one of ``prefixes``."""
        ...

    def ordered(self, table: str, columns: Sequence[str]) -> Iterator[Row]:
        """All rows, ordered by person key."""
        ...

    def close(self) -> None: ...


def _cell(value: object) -> Cell:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return None if not text or text.isspace() else text


def _cells(values: Iterable[str | None]) -> tuple[Cell, ...]:
    """:func:`_cell` of each (every value already text or None): the per-row hot path."""
    return tuple([None if not value or value.isspace() else value for value in values])


def table_name(file_name: str) -> str | None:
    lower = file_name.lower()
    return lower[: -len(".csv")] if lower.endswith(".csv") else None


def csv_files(folder: Path) -> dict[str, Path]:
    """The CSV tables of a folder by lower-case table name (``MEASUREMENT.csv`` → measurement)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        name = table_name(path.name)
        if name is not None and path.is_file():
            found.setdefault(name, path)
    return found


def _open(path: Path) -> IO[str]:
    # utf-8-sig drops a byte-order mark; undecodable bytes become U+FFFD rather than stopping
    return path.open(encoding="utf-8-sig", errors="replace", newline="")


def header(path: Path) -> list[str]:
    """A CSV file's column names in lower case (a repeated name gets a suffix), [] when empty."""
    with _open(path) as handle:
        try:
            first = next(csv.reader(line.replace("\0", "") for line in handle), [])
        except csv.Error:
            first = []
    names: list[str] = []
    for index, raw in enumerate(first):
        name = raw.strip().lower() or f"column{index}"
        while name in names:
            name += "_"
        names.append(name)
    return names


class CsvTables:
    """A folder of CSV files read with Python's ``csv`` module."""

    def __init__(self, folder: Path, chunk_rows: int, skipped: Counter[str] | None = None) -> None:
        self.folder = folder
        # lines the csv module cannot read at all, by table
        self.skipped: Counter[str] = skipped if skipped is not None else Counter()
        self.chunk_rows = max(1, chunk_rows)
        self.files = csv_files(folder)
        self._headers = {name: header(path) for name, path in self.files.items()}
        self._sorted: dict[str, bool] = {}
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def names(self) -> frozenset[str]:
        return frozenset(self.files)

    def columns(self, table: str) -> frozenset[str]:
        return frozenset(self._headers.get(table, ()))

    def _rows(self, table: str, columns: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
        """(line, the asked columns' raw cells) for each data row."""
        names = self._headers[table]
        positions = [names.index(column) if column in names else -1 for column in columns]
        with _open(self.files[table]) as handle:
            # csv refuses NUL characters: they are dropped
            reader = csv.reader(line.replace("\0", "") for line in handle)
            next(reader, None)
            while True:
                try:
                    raw = next(reader)
                except StopIteration:
                    break
                except csv.Error:
                    self.skipped[table] += 1
                    continue
                if not raw:
                    continue  # a blank line
                width = len(raw)
                yield (
                    reader.line_num,
                    [raw[p] if 0 <= p < width else "" for p in positions],
                )

    def distinct(self, table: str, columns: Sequence[str]) -> set[str]:
        """Also notes whether the table is sorted by person, so that reading it in order later
        sorts only when it must."""
        values: set[str] = set()
        has_person = "person_id" in self._headers.get(table, ())
        previous: PersonKey = (0, 0, "")
        ordered = True
        for _, cells in self._rows(table, [*columns, "person_id"]):
            for value in cells[:-1]:
                if value.strip():
                    values.add(value)
            if has_person and ordered:
                key = person_key(_cell(cells[-1]))
                ordered = key >= previous
                previous = key
        self._sorted[table] = ordered
        return values

    def matching(
        self, table: str, columns: Sequence[str], key: str, ids: Iterable[int]
    ) -> Iterator[tuple[Cell, ...]]:
        wanted = set(ids)
        if not wanted:
            return
        texts = {str(number) for number in wanted}
        for _, cells in self._rows(table, [key, *columns]):
            first = cells[0]
            # the plain spelling first; "007" still reaches identifier()
            if first in texts or (first[:1] == "0" and identifier(_cell(first)) in wanted):
                yield _cells(cells[1:])

    def starting(
        self, table: str, columns: Sequence[str], key: str, prefixes: tuple[str, ...]
    ) -> Iterator[tuple[Cell, ...]]:
        for _, cells in self._rows(table, [key, *columns]):
            if cells[0].startswith(prefixes):
                yield _cells(cells[1:])

    def ordered(self, table: str, columns: Sequence[str]) -> Iterator[Row]:
        file_name = self.files[table].name

        def rows() -> Iterator[Row]:
            for line, cells in self._rows(table, ["person_id", *columns]):
                yield Row(person_key(_cell(cells[0])), _cells(cells[1:]), f"{file_name}:{line}")

        if table not in self._sorted:
            self.distinct(table, [])
        if self._sorted[table]:
            return rows()
        return self._sort(rows())

    def _sort(self, rows: Iterator[Row]) -> Iterator[Row]:
        """An external merge sort: stable (rows of one person keep their file order)."""
        numbered = ((row.key, index, row) for index, row in enumerate(rows))
        first = list(itertools.islice(numbered, self.chunk_rows))
        if len(first) < self.chunk_rows:
            first.sort(key=lambda item: item[:2])
            return (row for _, _, row in first)
        runs = [self._write_run(first)]
        while chunk := list(itertools.islice(numbered, self.chunk_rows)):
            runs.append(self._write_run(chunk))
        while len(runs) > _FAN_IN:
            merged = [
                self._merge_to_file(runs[i : i + _FAN_IN]) for i in range(0, len(runs), _FAN_IN)
            ]
            runs = merged
        return (row for _, _, row in self._merge(runs))

    def _scratch_folder(self) -> Path:
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="critlang-omop-")
        return Path(self._scratch.name)

    def _write_run(self, chunk: list[tuple[PersonKey, int, Row]]) -> Path:
        chunk.sort(key=lambda item: item[:2])
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, kept on disk
            dir=self._scratch_folder(), suffix=".run", delete=False
        )
        with handle:
            # one pickle per item: a shared Pickler's memo would not match a shared Unpickler's
            for item in chunk:
                pickle.dump(item, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return Path(handle.name)

    def _merge_to_file(self, runs: list[Path]) -> Path:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, kept on disk
            dir=self._scratch_folder(), suffix=".run", delete=False
        )
        with handle:
            for item in self._merge(runs):
                pickle.dump(item, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return Path(handle.name)

    @staticmethod
    def _read_run(path: Path) -> Iterator[tuple[PersonKey, int, Row]]:
        with path.open("rb") as handle:
            while True:
                try:
                    item: tuple[PersonKey, int, Row] = pickle.load(handle)
                except EOFError:
                    break
                yield item
        path.unlink(missing_ok=True)

    def _merge(self, runs: list[Path]) -> Iterator[tuple[PersonKey, int, Row]]:
        return heapq.merge(*(self._read_run(path) for path in runs), key=lambda item: item[:2])

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


def load_duckdb() -> Any:
    """The duckdb module, or an :class:`OmopError` saying how to install it."""
    try:
        import duckdb
    except ImportError as error:
        raise OmopError(
            "reading OMOP data with DuckDB needs the duckdb package: pip install 'critlang[omop]'"
        ) from error
    return duckdb


def duckdb_available() -> bool:
    try:
        load_duckdb()
    except OmopError:
        return False
    return True


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_text(column: str) -> str:
    """A column as text, NUL characters dropped (as the Python reader drops them)."""
    return f"replace(CAST({_quote(column)} AS VARCHAR), chr(0), '')"


def _sql_key(column: str) -> str:
    """The SQL twin of :func:`identifier`: NULL for anything but a whole number."""
    text = _sql_text(column)
    return f"CASE WHEN regexp_full_match({text}, '{_SQL_ID}') THEN CAST({text} AS BIGINT) END"


class DuckTables:
    """An OMOP export read through DuckDB: a database file, or a folder of CSV files."""

    def __init__(
        self,
        path: Path,
        chunk_rows: int,
        *,
        schema: str | None = None,
        memory_limit: str | None = None,
    ) -> None:
        module = load_duckdb()
        self.chunk_rows = max(1, chunk_rows)
        self._scratch = tempfile.TemporaryDirectory(prefix="critlang-omop-duckdb-")
        config: dict[str, str | bool] = {
            "temp_directory": self._scratch.name,
            # rows are grouped by person in Python; the order inside a person does not matter
            "preserve_insertion_order": False,
            # Never fetch extensions from the network: critlang reads only what it is given.
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self.error: type[Exception] = module.Error
        self._relations: dict[str, str] = {}
        self._columns: dict[str, frozenset[str]] = {}
        self.skipped: Counter[str] = Counter()  # DuckDB reads a line or refuses the file
        try:
            if path.is_dir():
                self.connection: duckdb.DuckDBPyConnection = module.connect(config=config)
                self._csv_views(path)
            else:
                self.connection = module.connect(str(path), read_only=True, config=config)
                self._database_tables(schema)
        except module.Error as error:
            self.close()
            raise OmopError(f"{path.name}: DuckDB cannot read it ({error})") from error

    def _csv_views(self, folder: Path) -> None:
        for name, path in csv_files(folder).items():
            names = header(path)
            self._columns[name] = frozenset(names)
            if not names:
                continue
            columns = ", ".join(f"{_literal(column)}: 'VARCHAR'" for column in names)
            source = (
                f"read_csv({_literal(str(path))}, header = true, auto_detect = false, "
                f"delim = ',', quote = '\"', escape = '\"', null_padding = true, "
                f"strict_mode = false, columns = {{{columns}}})"
            )
            view = _quote(f"omop_{name}")
            self.connection.execute(f"CREATE VIEW {view} AS SELECT * FROM {source}")
            self._relations[name] = view

    def _database_tables(self, schema: str | None) -> None:
        found = self.connection.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = current_database() ORDER BY ordinal_position"
        ).fetchall()
        (catalog,) = self.connection.execute("SELECT current_database()").fetchone() or ("",)
        schemas: dict[str, dict[str, tuple[str, list[str]]]] = {}
        for table_schema, table, column in found:
            tables = schemas.setdefault(str(table_schema), {})
            _, columns = tables.setdefault(str(table).lower(), (str(table), []))
            columns.append(str(column))
        if schema is None:
            with_person = [name for name, tables in schemas.items() if "person" in tables]
            schema = "main" if "main" in with_person else (sorted(with_person) or ["main"])[0]
        for name, (table, columns) in schemas.get(schema, {}).items():
            self._columns[name] = frozenset(column.lower() for column in columns)
            lowered = ", ".join(
                f"{_quote(column)} AS {_quote(column.lower())}" for column in columns
            )
            # fully qualified: a schema may have the database's own name (cdm.duckdb, schema cdm)
            qualified = f"{_quote(str(catalog))}.{_quote(schema)}.{_quote(table)}"
            self._relations[name] = f"(SELECT {lowered} FROM {qualified})"

    def names(self) -> frozenset[str]:
        return frozenset(self._columns)

    def columns(self, table: str) -> frozenset[str]:
        return self._columns.get(table, frozenset())

    def _select(self, table: str, columns: Sequence[str]) -> str:
        present = self.columns(table)
        return ", ".join(_sql_text(column) if column in present else "NULL" for column in columns)

    def _fetch(self, sql: str, parameters: Sequence[object] = ()) -> Iterator[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        self._cursors.append(cursor)
        cursor.execute(sql, parameters)
        while batch := cursor.fetchmany(self.chunk_rows):
            yield from batch
        cursor.close()

    def distinct(self, table: str, columns: Sequence[str]) -> set[str]:
        relation = self._relations.get(table)
        if relation is None:
            return set()
        present = [column for column in columns if column in self.columns(table)]
        values: set[str] = set()
        for column in present:
            sql = f"SELECT DISTINCT {_sql_text(column)} FROM {relation}"
            values.update(str(value) for (value,) in self._fetch(sql) if _cell(value) is not None)
        if not present:
            # still reads the whole table, so that a file DuckDB cannot parse fails here
            list(self._fetch(f"SELECT count(*) FROM {relation}"))
        return values

    def matching(
        self, table: str, columns: Sequence[str], key: str, ids: Iterable[int]
    ) -> Iterator[tuple[Cell, ...]]:
        relation = self._relations.get(table)
        wanted = sorted(set(ids))
        if relation is None or not wanted or key not in self.columns(table):
            return
        sql = (
            f"SELECT {self._select(table, columns)} FROM {relation} "
            f"WHERE {_sql_key(key)} IN (SELECT unnest(?::BIGINT[]))"
        )
        for values in self._fetch(sql, [wanted]):
            yield tuple(_cell(value) for value in values)

    def starting(
        self, table: str, columns: Sequence[str], key: str, prefixes: tuple[str, ...]
    ) -> Iterator[tuple[Cell, ...]]:
        relation = self._relations.get(table)
        if relation is None or key not in self.columns(table) or not prefixes:
            return
        text = _sql_text(key)
        test = " OR ".join(f"starts_with({text}, ?)" for _ in prefixes)
        sql = f"SELECT {self._select(table, columns)} FROM {relation} WHERE {test}"
        for values in self._fetch(sql, list(prefixes)):
            yield tuple(_cell(value) for value in values)

    def ordered(self, table: str, columns: Sequence[str]) -> Iterator[Row]:
        relation = self._relations.get(table)
        if relation is None:
            return
        sql = (
            f"SELECT {_sql_text('person_id')}, {self._select(table, columns)} FROM {relation} "
            f"ORDER BY {_sql_key('person_id')} NULLS FIRST"
        )
        for values in self._fetch(sql):
            yield Row(person_key(_cell(values[0])), _cells(values[1:]), table)

    def close(self) -> None:
        for cursor in self._cursors:
            with contextlib.suppress(Exception):  # closing what may already be closed
                cursor.close()
        self._cursors.clear()
        connection = getattr(self, "connection", None)
        if connection is not None:
            connection.close()
        self._scratch.cleanup()
