"""The compiled query run on PostgreSQL (``run_postgres``) against the in-memory evaluator over
the records critlang's OMOP reader reads from the same data, as CSV: the Synthea export and the
OMOP fixture loaded with the CDM 5.4 DDL's column types, every example trial; the fixture loaded
as text, without some tables and columns, under a collation that does not order by code point;
the cohorts the differential tests make, typed and as text. The evaluator is the reference: no
outcome is written here.

The server comes from the ``postgres_dsn`` fixture (tests/sql/conftest.py): these tests skip
without one, and fail under CI.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

import critlang
from critlang.data import omop
from critlang.errors import CritlangError
from critlang.sql import compile_query, render, run_postgres
from critlang.sql.postgres import _Database
from critlang.sql.source import ID_COLUMNS, ID_LIMIT
from tests.conftest import FIXTURES, ROOT, extract_synthea_omop
from tests.sql.cohorts import AS_OF, Screened, exports, reference_screen, write_export
from tests.sql.test_differential import trials
from tests.sql.warehouse import csv_tables, load_postgres, warehouse_rows

try:
    import psycopg
except ImportError:  # every test that needs it asks for postgres_dsn, which says why it cannot run
    psycopg = None

FIXTURE = FIXTURES / "omop" / "valid"
SYNTHEA_AS_OF = datetime.date(2020, 1, 1)
EXAMPLES = [
    *sorted((ROOT / "examples").glob("*.crit")),
    *sorted((ROOT / "examples" / "synthea").glob("*.crit")),
]
Schema = Callable[[str], str]


def postgres_screen(
    trial: critlang.Trial, dsn: str, schema: str | None, as_of: datetime.date | None
) -> Screened:
    rows = run_postgres(trial, dsn, as_of=as_of, schema=schema)
    return {row.person_id: (row.verdict, row.outcomes) for row in rows}


@pytest.fixture(scope="module")
def fixture_schema(postgres_dsn: str, postgres_schema: Schema) -> str:
    schema = postgres_schema("fixture")
    with psycopg.connect(postgres_dsn) as connection:
        load_postgres(connection, FIXTURE, schema)
    return schema


@pytest.fixture(scope="module")
def synthea(postgres_dsn: str, postgres_schema: Schema) -> Iterator[tuple[Path, str]]:
    folder = Path(tempfile.mkdtemp(prefix="critlang-synthea-"))
    try:
        tables = extract_synthea_omop(folder)
        schema = postgres_schema("synthea")
        with psycopg.connect(postgres_dsn) as connection:
            load_postgres(connection, tables, schema)
        yield tables, schema
    finally:
        shutil.rmtree(folder)


def test_every_example_trial_compiles() -> None:
    """Every example compiles to SQL (the tests below run them all), the seed trials and the
    Synthea example among them."""
    seeds = {"NCT06945523", "NCT07480213", "c-car031-hcc", "th027-solid-tumors", "vegfr1-pdl1-cart"}
    assert {*seeds, "oncology"} <= {path.stem for path in EXAMPLES}
    for path in EXAMPLES:
        assert compile_query(critlang.load(path), as_of="2025-06-02").selects


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_trials_agree_on_synthea(
    postgres_dsn: str, synthea: tuple[Path, str], path: Path
) -> None:
    folder, schema = synthea
    trial = critlang.load(path)
    expected = reference_screen(trial, folder, SYNTHEA_AS_OF)
    assert len(expected) == 28
    got = postgres_screen(trial, postgres_dsn, schema, SYNTHEA_AS_OF)
    assert got.keys() == expected.keys()
    for person, reference in expected.items():
        assert got[person] == reference, person


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
@pytest.mark.parametrize("as_of", [datetime.date(2025, 6, 2), datetime.date(2024, 3, 1), None])
def test_example_trials_agree_on_the_fixture(
    postgres_dsn: str, fixture_schema: str, path: Path, as_of: datetime.date | None
) -> None:
    trial = critlang.load(path)
    expected = reference_screen(trial, FIXTURE, as_of)
    assert expected
    assert postgres_screen(trial, postgres_dsn, fixture_schema, as_of) == expected


def _load(dsn: str, folder: Path, schema: str, **options: Any) -> None:
    with psycopg.connect(dsn) as connection:
        load_postgres(connection, folder, schema, **options)


def test_the_fixture_as_text(postgres_dsn: str, postgres_schema: Schema) -> None:
    """Every column text: an export copied in as it is."""
    schema = postgres_schema("text")
    _load(postgres_dsn, FIXTURE, schema, typed=False)
    for path in EXAMPLES:
        trial = critlang.load(path)
        expected = reference_screen(trial, FIXTURE, datetime.date(2025, 6, 2))
        assert postgres_screen(trial, postgres_dsn, schema, datetime.date(2025, 6, 2)) == expected


def test_text_is_ordered_by_code_point_under_any_collation(
    postgres_dsn: str, postgres_schema: Schema, tmp_path: Path
) -> None:
    """Two results of one person with the same id and date are put in order by their cells,
    as text, by code point (the reader's order): so too when the columns' collation (ICU's
    English here) orders ``a…`` before ``B…``."""
    with psycopg.connect(postgres_dsn) as connection:
        found = connection.execute(
            "SELECT collname FROM pg_collation WHERE collname = 'en-US-x-icu'"
        ).fetchall()
    if not found:
        pytest.skip("the server has no ICU collation en-US-x-icu")
    folder = tmp_path / "export"
    shutil.copytree(FIXTURE, folder)
    measurement = folder / "measurement.csv"
    lines = measurement.read_text(encoding="utf-8").splitlines()
    first = next(line for line in lines if line.startswith("10,1,"))
    for value, source in (("9.5", "a718-7"), ("11", "B718-7")):
        cells = first.split(",")
        cells[0], cells[3], cells[4], cells[8], cells[16] = "30", "2025-06-01", "", value, source
        lines.append(",".join(cells))
    measurement.write_text("\n".join(lines) + "\n", encoding="utf-8")
    as_of = datetime.date(2025, 6, 2)
    for selector in ("latest", "earliest"):
        trial = critlang.parse(
            f'inclusion\n  I1 "Hb": {selector}(hemoglobin within 2 days before screening)'
            " >= 10 g/dL\n"
        )
        expected = reference_screen(trial, folder, as_of)
        for label, options in (
            ("icu", {"collation": "en-US-x-icu"}),
            ("icu_text", {"typed": False, "collation": "en-US-x-icu"}),
        ):
            schema = postgres_schema(label)
            _load(postgres_dsn, folder, schema, **options)
            assert postgres_screen(trial, postgres_dsn, schema, as_of) == expected, label


def test_tables_and_columns_the_database_lacks(
    postgres_dsn: str, postgres_schema: Schema, tmp_path: Path
) -> None:
    """No conditions or procedures (what they would hold is UNKNOWN), no death table, and no
    reference ranges or value words in ``measurement``: as the reader reads the same CSV."""
    folder = tmp_path / "export"
    shutil.copytree(FIXTURE, folder)
    for name in ("CONDITION_OCCURRENCE", "PROCEDURE_OCCURRENCE", "DEATH"):
        (folder / f"{name}.csv").unlink()
    measurement = folder / "measurement.csv"
    rows = measurement.read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    kept = [i for i, name in enumerate(header) if name not in ("range_high", "value_source_value")]
    measurement.write_text(
        "\n".join(",".join(row.split(",")[i] for i in kept) for row in rows) + "\n",
        encoding="utf-8",
    )
    trial = critlang.parse(
        "inclusion\n"
        '  I1 "No cancer": not malignancy\n'
        '  I2 "No chemo": not (chemotherapy within 4 weeks before screening)\n'
        '  I3 "Known": chemotherapy is known\n'
        '  I4 "Either": lung_cancer or chemotherapy within 1 year before screening\n'
        '  I5 "ALT": ALT <= 2.5 x ULN\n'
        '  I6 "HBsAg": HBsAg = negative\n'
    )
    for as_of in (datetime.date(2025, 6, 2), None):
        expected = reference_screen(trial, folder, as_of)
        schema = postgres_schema("lacking")
        _load(postgres_dsn, folder, schema)
        assert postgres_screen(trial, postgres_dsn, schema, as_of) == expected


def test_the_schema_is_found_on_the_search_path(postgres_dsn: str, fixture_schema: str) -> None:
    trial = critlang.load(ROOT / "examples" / "NCT07480213.crit")
    as_of = datetime.date(2025, 6, 2)
    on_path = f"{postgres_dsn} options='-c search_path={fixture_schema}'"
    assert postgres_screen(trial, on_path, None, as_of) == reference_screen(trial, FIXTURE, as_of)


def test_names_in_any_case(postgres_dsn: str, postgres_schema: Schema) -> None:
    """Tables and columns created with quoted upper-case names (``"PERSON"``, ``"Person_Id"``)
    are found as the lower-case ones are."""
    schema = postgres_schema("upper")
    _load(postgres_dsn, FIXTURE, schema)
    with psycopg.connect(postgres_dsn) as connection:
        for table in ("person", "measurement", "concept"):
            connection.execute(f'ALTER TABLE "{schema}".{table} RENAME TO "{table.upper()}"')
        connection.execute(f'ALTER TABLE "{schema}"."PERSON" RENAME person_id TO "Person_Id"')
        connection.execute(
            f'ALTER TABLE "{schema}"."MEASUREMENT" RENAME value_as_number TO "VALUE_AS_NUMBER"'
        )
    trial = critlang.load(ROOT / "examples" / "NCT06945523.crit")
    as_of = datetime.date(2025, 6, 2)
    expected = reference_screen(trial, FIXTURE, as_of)
    assert postgres_screen(trial, postgres_dsn, schema, as_of) == expected


def test_no_person_table_and_no_server(postgres_dsn: str) -> None:
    trial = critlang.parse('inclusion\n  I1 "adult": age >= 18 years\n')
    with pytest.raises(CritlangError, match="schema 'no_such_schema' has no OMOP person table"):
        run_postgres(trial, postgres_dsn, schema="no_such_schema")
    with pytest.raises(CritlangError, match="PostgreSQL could not run the query"):
        run_postgres(trial, "host=127.0.0.1 port=1 user=nobody connect_timeout=5")


# Cells the reader reads with care: numbers at the edges of what it keeps and of DECIMAL(38, 18),
# dates that are not on the calendar, white space; each cell is read by the query's rules on
# PostgreSQL as by the reader (a number rounded to 18 places, as DECIMAL(38, 18) holds it).
CELLS = [
    "12",
    " 12\t",
    "-0",
    "0e99999",
    "1e100",
    "1e101",
    "9.99e100",
    "1e-100",
    "0.9e-100",
    "1_000.5",
    "+.5",
    "5.",
    "1E+05",
    "1e999999999999999999999",
    "1e-999999999999999999999",
    "99999999999999999999.5",
    "100000000000000000000",
    "12345678901234567890.123",
    "1.0000000000000000005",
    "-1.0000000000000000015",
    "0.0000000000000000000001",
    "NaN",
    "inf",
    "abc",
    "1e",
    "2024-02-29",
    "2023-02-29",
    "2024-04-31",
    "2024-13-01",
    "0000-01-01",
    "\t2024-06-01 08:30:00 ",
    "2024-06-01T23:30:00+02:00",
    "2024-6-1",
]


def reader_reading(text: str) -> tuple[Decimal | str | None, datetime.date | None]:
    """The reader's number, as DECIMAL(38, 18) holds it (rounded to 18 places, half away from
    zero; None from 10^20), and its date."""
    value = omop._number(text, "cell", [])
    if value is None:
        return "not a number", omop._date(text)
    with localcontext(prec=400, rounding=ROUND_HALF_UP):
        exact = Decimal(value.numerator) / Decimal(value.denominator)  # exact: a decimal
        rounded = exact.quantize(Decimal(1).scaleb(-18))
    return (None if abs(rounded) >= 10**20 else rounded), omop._date(text)


def cells_query() -> exp.Select:
    """Each of :data:`CELLS`, whether the query's rules refuse it as a number, the number and
    the date they read."""
    from critlang.sql import cells

    values = ", ".join(f"({exp.Literal.string(cell).sql('duckdb')})" for cell in CELLS)
    query = sqlglot.parse_one(
        f"SELECT x, NOT {cells.is_number('x')} AS refused, {cells.number('x')} AS value,"
        f" {cells.date('x')} AS day FROM (VALUES {values}) AS cells(x)",
        read="duckdb",
    )
    assert isinstance(query, exp.Select)
    return query


def test_cells_read_as_the_reader_reads_them(postgres_dsn: str) -> None:
    query = cells_query()
    with psycopg.connect(postgres_dsn) as connection:
        on_postgres = connection.execute(render(query, "postgres")).fetchall()
    on_duckdb = duckdb.connect().execute(render(query, "duckdb")).fetchall()
    assert on_postgres == on_duckdb
    assert [row[0] for row in on_postgres] == CELLS
    for cell, refused, value, day in on_postgres:
        assert ("not a number" if refused else value, day) == reader_reading(cell), cell


# The differential tests' generated trials and exports, loaded typed (each cell as the typed
# column holds it: the reference reads the same cells) and as text.
@settings(
    max_examples=max(10, settings().max_examples // 3),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(tables=exports(), text=trials(), typed=st.booleans())
def test_generated_trials_agree_on_generated_exports(
    postgres_dsn: str,
    postgres_schema: Schema,
    tables: dict[str, list[dict[str, str]]],
    text: str,
    typed: bool,
) -> None:
    trial = critlang.parse(text)
    with tempfile.TemporaryDirectory(prefix="critlang-sql-") as folder:
        export = write_export(Path(folder), warehouse_rows(tables) if typed else tables)
        schema = postgres_schema("generated")
        _load(postgres_dsn, export, schema, typed=typed)
        expected = reference_screen(trial, export, AS_OF)
        assert postgres_screen(trial, postgres_dsn, schema, AS_OF) == expected


@pytest.fixture(scope="module")
def keyed_schema(postgres_dsn: str, postgres_schema: Schema) -> str:
    """The fixture with the primary keys OHDSI's DDL declares, on each table it has."""
    schema = postgres_schema("keyed")
    with psycopg.connect(postgres_dsn) as connection:
        load_postgres(connection, FIXTURE, schema)
        with connection.cursor() as cursor:
            for table, _, _ in csv_tables(FIXTURE):
                if table in ID_COLUMNS:
                    cursor.execute(
                        f'ALTER TABLE "{schema}"."{table}" ADD PRIMARY KEY ("{ID_COLUMNS[table]}")'
                    )
        connection.commit()
    return schema


def test_the_primary_keys_are_found(postgres_dsn: str, keyed_schema: str) -> None:
    with psycopg.connect(postgres_dsn) as connection, connection.cursor() as cursor:
        unique = _Database(cursor, keyed_schema).unique_ids(cursor)
    present = {table for table, _, _ in csv_tables(FIXTURE)}
    assert unique == frozenset(ID_COLUMNS) & present
    assert {"person", "concept", "measurement", "condition_occurrence"} <= unique


def test_no_keys_no_unique_ids(postgres_dsn: str, fixture_schema: str) -> None:
    with psycopg.connect(postgres_dsn) as connection, connection.cursor() as cursor:
        assert _Database(cursor, fixture_schema).unique_ids(cursor) == frozenset()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_trials_on_a_keyed_schema(postgres_dsn: str, keyed_schema: str, path: Path) -> None:
    """The query without what orders rows that share an id gives the evaluator's rows."""
    trial = critlang.load(path)
    as_of = datetime.date(2025, 6, 2)
    expected = reference_screen(trial, FIXTURE, as_of)
    assert postgres_screen(trial, postgres_dsn, keyed_schema, as_of) == expected


def test_ids_beyond_the_order_key_are_not_taken_as_unique(
    postgres_dsn: str, postgres_schema: Schema
) -> None:
    schema = postgres_schema("far_ids")
    with psycopg.connect(postgres_dsn) as connection:
        load_postgres(connection, FIXTURE, schema)
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{schema}".measurement SET measurement_id = {ID_LIMIT}'
                f' WHERE measurement_id = (SELECT MAX(measurement_id) FROM "{schema}".measurement)'
            )
            cursor.execute(f'ALTER TABLE "{schema}".measurement ADD PRIMARY KEY (measurement_id)')
            cursor.execute(f'ALTER TABLE "{schema}".person ADD PRIMARY KEY (person_id)')
        connection.commit()
        with connection.cursor() as cursor:
            assert _Database(cursor, schema).unique_ids(cursor) == {"person"}
