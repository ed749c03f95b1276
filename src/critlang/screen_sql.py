"""Screening with the compiled SQL (``critlang screen --engine duckdb|postgres``; docs/screen.md).

The query of :mod:`critlang.sql` gives each patient's verdict and every criterion's outcome; the
rows, the funnel, the per-criterion counts, the deciding criteria, the near misses and the
what-ifs are then built from them exactly as the in-memory engine builds them from its own
(:mod:`critlang.screen`). A what-if is one more query: the changed criterion alone
(:func:`critlang.screen.replacement`), whose outcome replaces the criterion's.

- **An OMOP export** (a CSV folder or a DuckDB file) with ``duckdb``: :func:`critlang.sql.run_duckdb`
  over it. Persons whose ``person_id`` is not a whole number are ERROR rows, as the OMOP reader
  makes them (the query has no row for them).
- **A PostgreSQL database** with ``postgres``: ``critlang.sql.run_postgres`` over the DSN given.
- **Any other input** (native JSON or JSON Lines, CSV, FHIR, records in memory) with ``duckdb``:
  read by critlang's readers (the same rules as in memory; a record they cannot read is an ERROR
  row), staged into an in-memory DuckDB database as OMOP tables (:mod:`critlang.sql.staging`)
  and screened by the query.

What the query does not give: what an UNKNOWN criterion lacks (``missing``), a near miss's
evidence and gap, and a record's unreadable cells and the source's tally of what it could not
use. Over staged records, which are in memory anyway, the in-memory evaluator works out
``missing`` and the near misses for the rows that need them (and screens in full a record the
query cannot screen exactly, saying why); over a database they are not given, and the result's
``notes`` (shown by the summary and the report) say so.
"""

from __future__ import annotations

import datetime
import importlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from critlang.data.record import Record
from critlang.data.sources import Entry, PatientSource, Tally
from critlang.errors import CritlangError
from critlang.eval.result import Outcome, Verdict
from critlang.screen import (
    ELIGIBLE,
    REVIEW,
    UNDETERMINED,
    UNKNOWN,
    Change,
    NearMiss,
    Row,
    ScreenResult,
    _guarded,
    _result,
    _Screener,
    _source,
    _unique,
)
from critlang.trial import Trial, _anchors

if TYPE_CHECKING:
    from critlang.sql.runner import SqlRow

ENGINES = ("memory", "duckdb", "postgres")
_OUTCOMES = {outcome.value: outcome for outcome in Outcome}
_VERDICTS = {verdict.value: verdict for verdict in Verdict}
_NOT_GIVEN = (
    "not given by the SQL engine over a database: what an unknown criterion lacks (missing), "
    "near-miss explanations and gaps (near misses are listed by criterion), each record's "
    "unreadable cells, and what the source could not use; --engine memory gives them"
)


def check_engine(engine: str, dsn: str | None, schema: str | None, jobs: int) -> None:
    """A :class:`CritlangError` for an engine that does not exist or options that do not go
    with it."""
    if engine not in ENGINES:
        raise CritlangError(f"engine {engine!r}: use one of {', '.join(ENGINES)}")
    if dsn is not None and engine != "postgres":
        raise CritlangError("--dsn is for --engine postgres (the database to screen)")
    if engine == "postgres" and not dsn:
        raise CritlangError("--engine postgres needs --dsn, the database to connect to")
    if schema is not None and engine == "memory":
        raise CritlangError("--schema is for the SQL engines (--engine duckdb or postgres)")
    if jobs > 1 and engine != "memory":
        raise CritlangError(
            f"--jobs is for the in-memory engine (--engine {engine} screens with SQL in the database)"
        )


def screen_sql(
    trial: Trial,
    source: Any,
    *,
    engine: str,
    dsn: str | None,
    schema: str | None,
    jobs: int,
    as_of: datetime.date | None,
    anchors: Mapping[str, datetime.date] | None,
    changes: Sequence[Change],
    format: str | None,
    progress: Callable[[int], None] | None,
    started: float,
) -> ScreenResult:
    """``trial`` screened by ``engine`` (``duckdb`` or ``postgres``); see the module docstring.
    The arguments are :func:`critlang.screen.screen`'s, the dates already read."""
    check_engine(engine, dsn, schema, jobs)
    screener = _Screener(trial, as_of, anchors, changes)
    if engine == "postgres":
        if source is not None:
            raise CritlangError(
                "--engine postgres screens the database of --dsn: give no data path"
            )
        assert dsn is not None
        run = _postgres(dsn, as_of, anchors, schema)
        rows = _database_rows(screener, run, progress)
        notes = [
            "the compiled SQL ran on PostgreSQL",
            _NOT_GIVEN,
            "persons whose person_id is not a whole number have no row",
        ]
        return _finish(screener, rows, changes, Tally(), None, started, engine, notes, False)
    _needs_sql()
    if source is None:
        raise CritlangError("--engine duckdb needs the data to screen")
    export = _omop_export(source, format)
    if export is not None:
        path, found_schema = export
        database_schema = schema if schema is not None else found_schema
        run = _duckdb(path, as_of, anchors, database_schema)
        rows = [*_unreadable_persons(path, database_schema), *_database_rows(screener, run, None)]
        if progress is not None:
            progress(len(rows))
        notes = [f"the compiled SQL ran in DuckDB over the OMOP export {path}", _NOT_GIVEN]
        return _finish(screener, rows, changes, Tally(), None, started, engine, notes, False)
    if schema is not None:
        raise CritlangError("--schema is for a database (an OMOP DuckDB file, or PostgreSQL)")
    return _staged(trial, screener, source, format, as_of, anchors, changes, progress, started)


# ---- databases -----------------------------------------------------------------------------------

Run = Callable[[Trial], "list[SqlRow]"]


def _needs_sql() -> None:
    for module in ("sqlglot", "duckdb"):
        try:
            importlib.import_module(module)
        except ImportError:
            raise CritlangError(
                f"--engine duckdb needs {module}: pip install 'critlang[sql]'"
            ) from None


def _duckdb(
    path: Path,
    as_of: datetime.date | None,
    anchors: Mapping[str, datetime.date] | None,
    schema: str | None,
) -> Run:
    from critlang.sql import run_duckdb

    def run(trial: Trial) -> list[SqlRow]:
        return run_duckdb(trial, path, as_of, anchors=anchors, schema=schema)

    return run


def _postgres(
    dsn: str,
    as_of: datetime.date | None,
    anchors: Mapping[str, datetime.date] | None,
    schema: str | None,
) -> Run:
    """``critlang.sql.run_postgres``, found when first needed, with the errors said plainly."""
    try:
        module = importlib.import_module("critlang.sql")
    except ImportError as error:
        raise CritlangError(
            f"--engine postgres needs the SQL backend: pip install 'critlang[sql]' ({error})"
        ) from None
    function = getattr(module, "run_postgres", None)
    if function is None:
        raise CritlangError(
            "--engine postgres: this critlang has no PostgreSQL runner (critlang.sql.run_postgres)"
        )

    def run(trial: Trial) -> list[SqlRow]:
        try:
            rows: list[SqlRow] = function(trial, dsn, as_of=as_of, anchors=anchors, schema=schema)
        except ImportError as error:
            raise CritlangError(
                f"--engine postgres needs psycopg: pip install 'critlang[postgres]' ({error})"
            ) from None
        return rows

    return run


def _omop_export(source: Any, format: str | None) -> tuple[Path, str | None] | None:
    """The OMOP export ``source`` is (its path and schema), or None for any other input."""
    from critlang.data.omop import OmopSource

    if isinstance(source, OmopSource):
        return source.path, source.schema
    if not isinstance(source, str | Path):
        return None
    from critlang.data import detect_format

    target = Path(source)
    chosen = (format or detect_format(target)).casefold()
    if chosen != "omop":
        return None
    if target.is_file() and target.suffix.casefold() == ".csv":
        target = target.parent  # person.csv: its folder of tables
    if not target.exists():
        from critlang.data import DataFormatError

        raise DataFormatError(f"{target}: no such file or folder")
    return target, None


def _unreadable_persons(path: Path, schema: str | None) -> list[Row]:
    """ERROR rows for the persons whose ``person_id`` is not a whole number, as the OMOP reader
    gives them (first, in its order): the query has no row for them."""
    from critlang.data.omop import PERSON_COLUMNS
    from critlang.data.omop_tables import DuckTables

    tables = DuckTables(path, 10_000, schema=schema)
    found: dict[str, str] = {}
    try:
        for row in tables.ordered("person", PERSON_COLUMNS):
            if row.key[0] != 0:
                break  # they come first
            text = row.key[2]
            where = row.where if ":" in row.where else f"{row.where} person_id {text!r}"
            found.setdefault(text, where)
    finally:
        tables.close()
    return [
        Row(
            id=text or "(no person_id)",
            verdict=None,
            error=f"person_id {text!r} is not a whole number" if text else "person_id is empty",
            where=found[text],
        )
        for text in sorted(found)
    ]


def _database_rows(
    screener: _Screener, run: Run, progress: Callable[[int], None] | None
) -> list[Row]:
    """A row per person of the query's rows, with the what-if verdicts from one query per
    change."""
    found_rows = run(screener.trial)
    changed = _changed(screener, run)
    rows = []
    for found in found_rows:
        identifier = str(found.person_id)
        where = f"person person_id {identifier}"
        if found.verdict == "error":
            rows.append(
                Row(
                    id=identifier,
                    verdict=None,
                    error=f"person_id {identifier} is on rows of person that disagree on birth "
                    "date or sex",
                    where=where,
                )
            )
        else:
            outcomes = tuple(_OUTCOMES[str(value)] for value in found.outcomes)
            rows.append(
                Row(
                    id=identifier,
                    verdict=_VERDICTS[found.verdict],
                    outcomes=outcomes,
                    where=where,
                    variants=_variants(screener, outcomes, found.person_id, changed),
                    near_miss=_bare_near_miss(screener, identifier, outcomes),
                )
            )
        if progress is not None:
            progress(len(rows))
    return rows


def _changed(
    screener: _Screener, run: Callable[[Trial], Iterable[Any]]
) -> list[dict[int, Outcome] | None]:
    """Per what-if change, the changed criterion's outcome by person (None: dropped)."""
    changed: list[dict[int, Outcome] | None] = []
    for _, replaced in screener.changes:
        if replaced is None:
            changed.append(None)
            continue
        changed.append(
            {
                found.person_id: _OUTCOMES[str(found.outcomes[0])]
                for found in run(replaced)
                if found.verdict != "error"
            }
        )
    return changed


def _variants(
    screener: _Screener,
    outcomes: tuple[Outcome, ...],
    key: int,
    changed: Sequence[Mapping[int, Outcome] | None],
) -> tuple[Verdict, ...]:
    """The verdict under each what-if (the in-memory engine's ``_variants``)."""
    if not screener.changes:
        return ()
    values = [REVIEW if found is None else found[key] for found in changed]
    return screener.variant_verdicts(outcomes, values)


def _bare_near_miss(
    screener: _Screener, identifier: str, outcomes: tuple[Outcome, ...]
) -> NearMiss | None:
    """A near miss as the outcomes tell it: the criterion and the verdict otherwise, without
    evidence (no explanation, no gap)."""
    failed = screener.failed(outcomes)
    if len(failed) != 1:
        return None
    decided = all(
        outcome is not UNKNOWN for index, outcome in enumerate(outcomes) if index != failed[0]
    )
    return NearMiss(
        id=identifier,
        criterion=screener.criteria[failed[0]].id,
        would_be=ELIGIBLE if decided else UNDETERMINED,
        explanation="",
        gap=None,
    )


# ---- staged records ------------------------------------------------------------------------------


def _staged(
    trial: Trial,
    screener: _Screener,
    source: PatientSource | str | Path | Iterable[Record | Mapping[str, Any] | str],
    format: str | None,
    as_of: datetime.date | None,
    anchors: Mapping[str, datetime.date] | None,
    changes: Sequence[Change],
    progress: Callable[[int], None] | None,
    started: float,
) -> ScreenResult:
    from critlang.sql.staging import Staging

    patients = _source(source, format, trial)
    stopped: list[str] = []
    entries = list(_guarded(patients, stopped))
    trials = [trial, *(replaced for _, replaced in screener.changes if replaced is not None)]
    in_memory: dict[int, str] = {}
    with Staging(trials, trial.dictionary) as staging:
        for position, entry in enumerate(entries):
            if entry.record is not None:
                days = _anchors(entry.record, as_of, anchors)
                reason = staging.add(position, entry.record, days)
                if reason is not None:
                    in_memory[position] = reason
        main = staging.run(trial)
        changed: list[dict[int, Outcome] | None] = [
            None
            if replaced is None
            else {
                key: _OUTCOMES[str(row.outcomes[0])] for key, row in staging.run(replaced).items()
            }
            for _, replaced in screener.changes
        ]
        queries = staging.queries
    rows: list[Row] = []
    seen: dict[str, str] = {}
    for position, entry in enumerate(entries):
        if entry.record is None or position in in_memory:
            row = screener.row(entry)
        else:
            row = _staged_row(screener, entry, main[position], position, changed)
        rows.append(_unique(row, seen))
        if progress is not None:
            progress(len(rows))
    notes = [
        "the records were read by critlang's readers and staged into an in-memory DuckDB "
        "database as OMOP CDM tables; the compiled SQL gave the verdicts and outcomes "
        f"({queries} {'query' if queries == 1 else 'queries'} per trial: one per group of records "
        "sharing anchor dates and sections)",
        "what unknown criteria lack (missing) and near-miss explanations: the in-memory "
        "evaluator's, for the rows that need them",
    ]
    if in_memory:
        first = min(in_memory)
        notes.append(
            f"{len(in_memory)} patient{'s' if len(in_memory) != 1 else ''} screened in memory, "
            "not by the SQL, which cannot screen their records exactly (for one, "
            f"{entries[first].id}: {in_memory[first]})"
        )
    source_error = f"{stopped[0]}; the rows before it are kept" if stopped else None
    return _finish(
        screener, rows, changes, patients.tally, source_error, started, "duckdb", notes, True
    )


def _staged_row(
    screener: _Screener,
    entry: Entry,
    found: SqlRow,
    key: int,
    changed: Sequence[Mapping[int, Outcome] | None],
) -> Row:
    """A staged record's row: the verdict and outcomes from the query; what is missing and the
    near miss from the evaluator, for this record only when it needs them."""
    record = entry.record
    assert record is not None
    outcomes = tuple(_OUTCOMES[str(value)] for value in found.outcomes)
    try:
        missing: tuple[str, ...] = ()
        if UNKNOWN in outcomes:
            result = screener.trial.evaluate(
                record, screener.as_of, anchors=screener.anchors, evidence=False
            )
            missing = result.missing
        failed = screener.failed(outcomes)
        near_miss = (
            screener._near_miss(entry.id, record, failed[0], outcomes) if len(failed) == 1 else None
        )
    except CritlangError as error:
        return screener._error(entry, str(error))
    except Exception as error:  # one patient's failure must not stop the screen
        return screener._error(entry, f"internal error ({type(error).__name__}: {error})")
    return Row(
        id=entry.id,
        verdict=_VERDICTS[found.verdict],
        outcomes=outcomes,
        missing=missing,
        problems=record.problems,
        where=entry.where,
        variants=_variants(screener, outcomes, key, changed),
        near_miss=near_miss,
    )


# ---- the summary ---------------------------------------------------------------------------------


def _finish(
    screener: _Screener,
    rows: list[Row],
    changes: Sequence[Change],
    tally: Tally,
    source_error: str | None,
    started: float,
    engine: str,
    notes: Sequence[str],
    details_given: bool,
) -> ScreenResult:
    patterns = list(Counter(row.outcomes for row in rows if row.outcomes).items())
    result = _result(
        screener.trial, screener, rows, patterns, changes, tally, source_error, started
    )
    return attrs.evolve(result, engine=engine, notes=tuple(notes), details_given=details_given)


__all__ = ["ENGINES", "check_engine", "screen_sql"]
