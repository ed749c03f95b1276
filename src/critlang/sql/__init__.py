"""Criteria compiled to one SQL query over the OMOP CDM 5.4 (``critlang sql``; docs/sql.md).

``compile_query(trial, as_of=...)`` gives the query as a sqlglot expression, ``to_sql`` prints it
in a dialect, ``run_duckdb(trial, path, as_of)`` runs it with DuckDB over an OMOP export (a
folder of CSV tables or a DuckDB database), and ``run_postgres(trial, dsn, as_of=...)`` on
PostgreSQL over an OMOP CDM database (:mod:`critlang.sql.postgres`). The query returns one row per person: ``person_id``,
``verdict`` and one column per criterion, named by its id, holding ``met``, ``not_met``,
``unknown`` or ``review``; its semantics are the in-memory evaluator's over the records
:func:`critlang.data.omop.read_omop` reads from the same export.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from sqlglot import exp

from critlang.errors import CritlangError
from critlang.sql import cells
from critlang.sql.generator import Options, SqlGenerator
from critlang.sql.postgres import run_postgres
from critlang.sql.runner import SqlRow, run_duckdb
from critlang.sql.source import qualify_tables
from critlang.sql.units import known_units

if TYPE_CHECKING:
    from critlang.trial import Trial

DIALECTS = ("duckdb", "postgres", "spark", "databricks", "bigquery", "snowflake", "tsql")


def compile_query(
    trial: Trial,
    *,
    as_of: datetime.date | str | None = None,
    anchors: Mapping[str, datetime.date | str] | None = None,
    schema: str | None = None,
    units: Iterable[str] | None = None,
    conditions: bool = True,
    events: bool = True,
    column_types: Mapping[str, Mapping[str, str]] | None = None,
    unique_ids: Iterable[str] = (),
) -> exp.Select:
    """The trial's criteria as one query over the OMOP tables (see the module docstring).

    ``as_of`` is the screening date and ``anchors`` other anchor dates (baked in as literals);
    ``schema`` qualifies every OMOP table; ``units`` are the UCUM codes (as the export's
    ``concept`` writes them) the query knows, by default a catalogue of common clinical units
    and the dictionary's (a result in any other unit is UNKNOWN); ``conditions`` and
    ``events`` say whether the export has a ``condition_occurrence`` table, and both
    ``drug_exposure`` and ``procedure_occurrence`` (without them, what they would hold is
    UNKNOWN). ``column_types`` gives the DuckDB types of the database's columns (table and
    column names in lower case, types as ``information_schema.columns.data_type`` writes them):
    a column of a numeric, date or timestamp type is then read as it is, without the round
    trip through text a CSV export needs (the readings are the same). ``unique_ids`` names the
    tables whose ids are known unique: ``concept`` and ``person`` (a primary key), and the
    clinical tables whose ids are whole numbers from 0 to 2^40 - 2 that no two rows of one
    person share (a primary key is enough); the query then leaves out what would put the rows
    that share an id in order. Naming a table whose ids are not so gives wrong rows:
    :func:`run_duckdb` and ``run_postgres`` name only those the database declares so.

    Raises :class:`~critlang.errors.CritlangError` naming the criterion and the construct when
    a criterion uses one the SQL backend does not support yet.
    """
    generator = _generator(
        trial, as_of, anchors, units, conditions, events, column_types, unique_ids
    )
    query = generator.query()
    qualified = qualify_tables(query, schema)
    assert isinstance(qualified, type(query))
    return qualified


def duckdb_text(
    trial: Trial,
    *,
    as_of: datetime.date | str | None = None,
    anchors: Mapping[str, datetime.date | str] | None = None,
    units: Iterable[str] | None = None,
    conditions: bool = True,
    events: bool = True,
    column_types: Mapping[str, Mapping[str, str]] | None = None,
    unique_ids: Iterable[str] = (),
) -> str:
    """:func:`compile_query` (without a schema: the OMOP tables unqualified) as DuckDB SQL text,
    made faster: the parts that read the OMOP tables, written in DuckDB's SQL, go in as written
    instead of being parsed and printed again. What :func:`run_duckdb` runs; the same rows as
    the printed :func:`compile_query` (``tests/sql/test_duckdb_text.py``)."""
    generator = _generator(
        trial, as_of, anchors, units, conditions, events, column_types, unique_ids
    )
    return generator.duckdb_text()


def _generator(
    trial: Trial,
    as_of: datetime.date | str | None,
    anchors: Mapping[str, datetime.date | str] | None,
    units: Iterable[str] | None,
    conditions: bool,
    events: bool,
    column_types: Mapping[str, Mapping[str, str]] | None,
    unique_ids: Iterable[str],
) -> SqlGenerator:
    options = Options(
        anchors=_anchor_dates(as_of, anchors),
        units=known_units(trial.dictionary.unique()) if units is None else tuple(units),
        conditions=conditions,
        events=events,
        kinds={
            table: {column: cells.kind_of(kind) for column, kind in columns.items()}
            for table, columns in (column_types or {}).items()
        },
        unique=frozenset(unique_ids),
    )
    return SqlGenerator(trial.criteria, trial.dictionary, options)


def to_sql(
    trial: Trial,
    *,
    dialect: str = "duckdb",
    as_of: datetime.date | str | None = None,
    schema: str | None = None,
    pretty: bool = True,
) -> str:
    """:func:`compile_query` printed in ``dialect`` (one of :data:`DIALECTS`)."""
    if dialect not in DIALECTS:
        raise CritlangError(f"dialect {dialect!r}: use one of {', '.join(DIALECTS)}")
    return render(compile_query(trial, as_of=as_of, schema=schema), dialect, pretty=pretty)


# The rows Spark is made to compute once (see _portable). Not the other materialized ones: read
# by two or three parts of the query, they cost little inlined, and kept they trip an error of
# Spark's optimizer (IndexOutOfBoundsException in PushdownPredicatesAndPruneColumnsForCTEDef).
_SPARK_SHARED = frozenset({"persons", "lab_rows", "occurrence_rows"})


def render(query: exp.Select, dialect: str, *, pretty: bool = True) -> str:
    """A compiled query printed in ``dialect`` (sqlglot's dialect output)."""
    if dialect in ("duckdb", "postgres"):
        return query.sql(dialect=dialect, pretty=pretty)
    spark = dialect in ("spark", "databricks")

    def portable(node: exp.Expr) -> exp.Expr:
        return _portable(node, spark=spark)

    # transform copies the query, which the generator may then change as it prints it
    return query.transform(portable).sql(dialect=dialect, pretty=pretty, copy=False)


def _portable(node: exp.Expr, *, spark: bool) -> exp.Expr:
    """What only DuckDB and Postgres say: ``AS MATERIALIZED``, the ``g`` flag of
    ``REGEXP_REPLACE`` (the other dialects always replace every match), and ``COLLATE "C"``
    (the others' own collation is left).

    Spark has no ``MATERIALIZED``, and inlines every deterministic common table expression
    wherever it is read: the rows every leaf reads (:data:`_SPARK_SHARED`) would be planned
    once per leaf, and the plan of a large trial exhausts the driver's memory. There, each of
    them reads its rows through an always true ``RAND() >= 0``: not deterministic, so Spark
    plans it once and reuses it."""
    if isinstance(node, exp.Collate):
        collated: exp.Expr = node.this
        return collated
    if isinstance(node, exp.RegexpReplace) and node.args.get("modifiers") is not None:
        node.set("modifiers", None)
        node.set("single_replace", None)
    if isinstance(node, exp.CTE):
        if spark and node.alias in _SPARK_SHARED:
            rows = node.this.subquery("once", copy=False)
            once = exp.GTE(this=exp.Rand(), expression=exp.Literal.number(0))
            node.set("this", exp.select(exp.Star(), copy=False).from_(rows).where(once))
        node.set("materialized", None)  # only DuckDB and Postgres write it
    return node


def _anchor_dates(
    as_of: datetime.date | str | None, anchors: Mapping[str, datetime.date | str] | None
) -> dict[str, datetime.date]:
    """Anchor dates by lower-case name; ``as_of`` is the screening date."""
    given = dict(anchors or {})
    if as_of is not None:
        given.setdefault("screening", as_of)
    dates = {}
    for name, day in given.items():
        if isinstance(day, str):
            try:
                day = datetime.date.fromisoformat(day)
            except ValueError:
                raise CritlangError(f"{day!r} is not a date (write YYYY-MM-DD)") from None
        dates[name.casefold()] = day
    return dates


__all__ = [
    "DIALECTS",
    "SqlRow",
    "compile_query",
    "duckdb_text",
    "render",
    "run_duckdb",
    "run_postgres",
    "to_sql",
]
