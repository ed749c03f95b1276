"""A database that keeps its ids unique (the OMOP CDM's primary keys, as OHDSI's DDL declares
them): ``run_duckdb`` finds the keys, leaves out of the query what would put rows that share an id
in order, and gives the rows the in-memory evaluator gives. Ids the query cannot take as unique
(no key, a UNIQUE column that may be NULL, text ids, ids out of the order key's range) keep the
whole query. The evaluator is the reference: no outcome is written here."""

from __future__ import annotations

import contextlib
import datetime
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings

import critlang
from critlang.sql import duckdb_text
from critlang.sql.runner import _CONFIG, _Export, configure
from critlang.sql.source import ID_COLUMNS, ID_LIMIT
from tests.sql.cohorts import AS_OF, exports, reference_screen, sql_screen, write_export
from tests.sql.test_differential import trials
from tests.sql.test_omop_exports import EXAMPLES, FIXTURE, _tied_ids_trial, _with_results

SCREENING = datetime.date(2025, 6, 2)
# What the query leaves out when every clinical table's ids are unique.
ORDERING_PARTS = ("lab_repeats", "lab_irregular", "occurrence_repeats")


def _database(folder: Path, path: Path, keyed: bool = True) -> Path:
    """The CSV tables of ``folder`` as a DuckDB database with typed (sniffed) columns, each
    table's id a primary key where ``keyed`` and its ids allow it (none missing or repeated)."""
    with duckdb.connect(str(path)) as connection:
        for file in sorted(folder.glob("*.csv")):
            name = file.stem.lower()
            connection.execute(
                f"CREATE TABLE {name} AS SELECT * FROM read_csv(?, header = true)", [str(file)]
            )
            if keyed and name in ID_COLUMNS:
                # ids that repeat or are missing: the table stays without a key
                with contextlib.suppress(duckdb.Error):
                    connection.execute(f"ALTER TABLE {name} ADD PRIMARY KEY ({ID_COLUMNS[name]})")
    return path


@pytest.fixture(scope="module")
def keyed_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _database(FIXTURE, tmp_path_factory.mktemp("keyed") / "cdm.duckdb")


def _unique(path: Path) -> frozenset[str]:
    """The tables ``run_duckdb`` takes as keeping their ids unique."""
    connection = duckdb.connect(config=_CONFIG)
    try:
        configure(connection)
        return _Export(connection, path, None).unique_ids()
    finally:
        connection.close()


def test_the_primary_keys_are_found(keyed_fixture: Path) -> None:
    present = {path.stem.lower() for path in FIXTURE.glob("*.csv")}
    assert _unique(keyed_fixture) == frozenset(ID_COLUMNS) & present
    assert {"person", "concept", "measurement", "condition_occurrence"} <= _unique(keyed_fixture)


def test_the_query_leaves_out_the_order_of_repeated_ids(keyed_fixture: Path) -> None:
    trial = critlang.load(EXAMPLES[0])
    full = duckdb_text(trial, as_of=SCREENING)
    lean = duckdb_text(trial, as_of=SCREENING, unique_ids=ID_COLUMNS)
    for part in ORDERING_PARTS:
        assert f"{part} AS" in full
        assert part not in lean
    assert "PARTITION BY id" in full  # concepts, one row per id
    assert "PARTITION BY id" not in lean
    assert len(lean) < len(full)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_trials_on_a_keyed_database(path: Path, keyed_fixture: Path) -> None:
    trial = critlang.load(path)
    expected = reference_screen(trial, keyed_fixture, SCREENING)
    assert len(expected) > 1
    assert sql_screen(trial, keyed_fixture, SCREENING) == expected


def _with_measurement(tmp_path: Path, edit: str, keyed: bool = True) -> Path:
    """The fixture's database with ``edit`` run on its (unkeyed) measurement table, then keyed."""
    path = _database(FIXTURE, tmp_path / "cdm.duckdb", keyed=False)
    with duckdb.connect(str(path)) as connection:
        connection.execute(edit)
        if keyed:
            connection.execute("ALTER TABLE measurement ADD PRIMARY KEY (measurement_id)")
    return path


def test_results_of_one_day_in_id_order(tmp_path: Path) -> None:
    """Results of one day, in both tables, in the reader's order: ``measurement`` first, then
    by id (no id repeats in a table; one number is an id in both)."""
    rows = [
        ("1", "105", "2025-06-01", 15, 20),
        ("1", "106", "2025-06-01", 11, 14),
        ("1", "104", "2025-06-01", 9, 8),
        ("1", "103", "2025-05-31", 19, 10),
        ("2", "205", "2025-06-01", 13, 16),
        ("2", "204", "2025-06-01", 12, 10),
        ("2", "203", "2025-06-01", 17, 30),
    ]
    observations = (("1", "105", "2025-06-01", 12), ("2", "100", "2025-05-31", 10))
    typed = _with_results(tmp_path, rows, typed=True, observations=observations)
    with duckdb.connect(str(typed)) as connection:
        for table in ("measurement", "observation"):
            connection.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({ID_COLUMNS[table]})")
    assert {"measurement", "observation"} <= _unique(typed)
    trial = _tied_ids_trial()
    expected = reference_screen(trial, typed, SCREENING)
    assert expected[1] != expected[2]
    assert sql_screen(trial, typed, SCREENING) == expected


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param("SELECT 1", id="no-key"),
        pytest.param(f"UPDATE measurement SET measurement_id = {ID_LIMIT}"
                     " WHERE measurement_id = (SELECT MAX(measurement_id) FROM measurement)",
                     id="id-beyond-the-key-range"),
        pytest.param("UPDATE measurement SET measurement_id = -measurement_id"
                     " WHERE measurement_id = (SELECT MIN(measurement_id) FROM measurement)",
                     id="negative-id"),
        pytest.param("ALTER TABLE measurement ALTER measurement_id TYPE VARCHAR;"
                     " UPDATE measurement SET measurement_id = '0' || measurement_id"
                     " WHERE measurement_id = (SELECT MIN(measurement_id) FROM measurement)",
                     id="text-ids"),
    ],
)  # fmt: skip
def test_ids_the_query_cannot_take_as_unique(tmp_path: Path, edit: str) -> None:
    path = _with_measurement(tmp_path, edit, keyed=edit != "SELECT 1")
    assert "measurement" not in _unique(path)
    trial = critlang.load(EXAMPLES[0])
    assert sql_screen(trial, path, SCREENING) == reference_screen(trial, path, SCREENING)


@pytest.mark.parametrize("not_null", [False, True])
def test_a_unique_column(tmp_path: Path, not_null: bool) -> None:
    """UNIQUE alone lets ids be missing (NULL); UNIQUE and NOT NULL is a key."""
    path = _database(FIXTURE, tmp_path / "cdm.duckdb", keyed=False)
    with duckdb.connect(str(path)) as connection:
        columns = connection.execute("DESCRIBE measurement").fetchall()
        constraint = "UNIQUE NOT NULL" if not_null else "UNIQUE"
        definitions = ", ".join(
            f"{name} {kind} {constraint if name == 'measurement_id' else ''}"
            for name, kind, *_ in columns
        )
        connection.execute("ALTER TABLE measurement RENAME TO loaded")
        connection.execute(f"CREATE TABLE measurement ({definitions})")
        connection.execute("INSERT INTO measurement SELECT * FROM loaded")
        connection.execute("DROP TABLE loaded")
    assert ("measurement" in _unique(path)) is not_null
    trial = critlang.load(EXAMPLES[0])
    assert sql_screen(trial, path, SCREENING) == reference_screen(trial, path, SCREENING)


def test_a_csv_export_has_no_keys() -> None:
    assert _unique(FIXTURE) == frozenset()


@settings(max_examples=max(5, settings().max_examples // 6))
@given(tables=exports(), text=trials())
def test_generated_criteria_on_keyed_generated_exports(
    tables: dict[str, list[dict[str, str]]], text: str
) -> None:
    """Generated exports whose tables are keyed where their ids allow (some are, some not: the
    query then mixes both ways of ordering a person's rows)."""
    trial = critlang.parse(text)
    with tempfile.TemporaryDirectory(prefix="critlang-sql-") as folder:
        export = write_export(Path(folder) / "csv", tables)
        path = _database(export, Path(folder) / "cdm.duckdb")
        assert sql_screen(trial, path, AS_OF) == reference_screen(trial, path, AS_OF)
