"""The compiled query printed for Spark (``to_sql(..., dialect="spark")``, through ``render``) and
run by ``spark.sql`` on a local Spark session, against the in-memory evaluator over the records
critlang's OMOP reader reads from the same CSV: the OMOP fixture and the Synthea export, loaded as
tables with the CDM's column types, every example trial. The evaluator is the reference.

Opt-in: it runs only with ``CRITLANG_SPARK=1``, after ``pip install -e '.[dev,spark]'`` (PySpark
needs Java 17). The session is local (``local[2]``), bound to 127.0.0.1, without its web UI; its
driver has ``CRITLANG_SPARK_MEMORY`` of heap (by default 8g: Spark's analyzer copies the plan of
a large trial once for each of its many reads of the same rows), decimal arithmetic without
precision loss (``spark.sql.decimalOperations.allowPrecisionLoss`` false, as the query's exact
comparisons need) and UTC as its time zone.
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import critlang
from critlang.sql import compile_query, render
from critlang.sql.source import source_select, table_columns, unit_codes_query, with_sources
from tests.conftest import FIXTURES, ROOT, extract_synthea_omop
from tests.sql.cohorts import Screened, reference_screen
from tests.sql.warehouse import DDL_TYPES, csv_tables

pytestmark = pytest.mark.skipif(
    os.environ.get("CRITLANG_SPARK") != "1",
    reason="Spark runs only with CRITLANG_SPARK=1 (pip install -e '.[dev,spark]'; Java 17)",
)

FIXTURE = FIXTURES / "omop" / "valid"
EXAMPLES = [
    *sorted((ROOT / "examples").glob("*.crit")),
    *sorted((ROOT / "examples" / "synthea").glob("*.crit")),
]
# The CDM 5.4 types in Spark's words. NUMERIC is a DOUBLE, as the OHDSI Spark DDL has it (FLOAT
# there; DOUBLE here, which holds these exports' values exactly): the query reads it as text.
SPARK_TYPES = {"BIGINT": "BIGINT", "INTEGER": "INT", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP"}
SPARK_TYPES["NUMERIC"] = "DOUBLE"
# A data set: each OMOP table there, as the view holding it and its columns.
Tables = dict[str, tuple[str, dict[str, str]]]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    warehouse = tempfile.mkdtemp(prefix="critlang-spark-")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("critlang-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", os.environ.get("CRITLANG_SPARK_MEMORY", "8g"))
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.decimalOperations.allowPrecisionLoss", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        shutil.rmtree(warehouse, ignore_errors=True)


def load(spark: Any, folder: Path, label: str) -> Tables:
    """Each CSV table of ``folder`` as a temporary view ``<label>_<table>``, its columns of the
    CDM's types (the others text); an empty cell is NULL."""
    tables: Tables = {}
    for table, file, header in csv_tables(folder):
        frame = spark.read.csv(str(file), header=True, inferSchema=False)
        types = DDL_TYPES.get(table, {})
        columns = []
        for name, raw in zip(header, frame.columns, strict=True):
            kind = SPARK_TYPES.get(types.get(name, ""), "STRING")
            read = f"`{raw}`" if kind == "STRING" else f"CAST(`{raw}` AS {kind})"
            columns.append(f"{read} AS `{name}`")
        view = f"{label}_{table}"
        frame.selectExpr(*columns).createOrReplaceTempView(view)
        tables[table] = (view, {name: name for name in header})
    return tables


def spark_screen(
    spark: Any, trial: critlang.Trial, tables: Tables, as_of: datetime.date | None
) -> Screened:
    """The trial screened by the query as ``to_sql`` prints it for Spark, each OMOP table read
    from its view (as ``run_postgres`` reads a database's tables), the units its results use
    known."""
    sources = {}
    for table, _ in table_columns():
        view, columns = tables.get(table, (table, None))
        sources[table] = source_select(table, columns, None, view)
    units_query = render(with_sources(unit_codes_query(), sources), "spark")
    units = [str(row[0]) for row in spark.sql(units_query).collect() if row[0]]
    query = compile_query(trial, as_of=as_of, units=units)
    text = render(with_sources(query, {t: s.copy() for t, s in sources.items()}), "spark")
    rows = spark.sql(text).collect()
    return {int(row[0]): (str(row[1]), tuple(row[2:])) for row in rows}


@pytest.fixture(scope="module")
def fixture_tables(spark: Any) -> Tables:
    return load(spark, FIXTURE, "fixture")


@pytest.fixture(scope="module")
def synthea(spark: Any) -> Iterator[tuple[Path, Tables]]:
    folder = Path(tempfile.mkdtemp(prefix="critlang-synthea-"))
    try:
        tables = extract_synthea_omop(folder)
        yield tables, load(spark, tables, "synthea")
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_trials_agree_on_the_fixture(
    spark: Any, fixture_tables: Tables, path: Path
) -> None:
    trial = critlang.load(path)
    as_of = datetime.date(2025, 6, 2)
    expected = reference_screen(trial, FIXTURE, as_of)
    assert expected
    assert spark_screen(spark, trial, fixture_tables, as_of) == expected


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_trials_agree_on_synthea(
    spark: Any, synthea: tuple[Path, Tables], path: Path
) -> None:
    folder, tables = synthea
    trial = critlang.load(path)
    as_of = datetime.date(2020, 1, 1)
    expected = reference_screen(trial, folder, as_of)
    assert len(expected) == 28
    got = spark_screen(spark, trial, tables, as_of)
    assert got.keys() == expected.keys()
    for person, reference in expected.items():
        assert got[person] == reference, person


def test_cells_read_as_the_reader_reads_them(spark: Any) -> None:
    """The edge cells of the PostgreSQL test, read by the query's rules on Spark (Java's
    regular expressions, Spark's string literals and casts) as by the reader."""
    from tests.sql.test_postgres import CELLS, cells_query, reader_reading

    rows = spark.sql(render(cells_query(), "spark")).collect()
    assert [row[0] for row in rows] == CELLS
    for cell, refused, value, day in rows:
        assert ("not a number" if refused else value, day) == reader_reading(cell), cell
