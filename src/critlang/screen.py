"""Screening a cohort: every patient of a source evaluated against one trial, and what the
coordinator needs from the whole — totals, the attrition funnel, per-criterion counts, the
criteria that most often exclude, near misses, and what relaxing or dropping criteria would change.

One row per input patient, always: a patient whose data could not be read or evaluated is a row
with the verdict ERROR and the reason, never a lost patient.

**The funnel.** Criteria are taken in file order (inclusions, then exclusions as the file lists
them; review items are left out, since they never decide). A patient is *excluded* at the first
criterion that makes it ineligible (an inclusion NOT MET, an exclusion MET). After each criterion,
``remaining`` counts the evaluated patients not excluded by it or any criterion before it, and
``possibly`` how many of those remain only possibly: one of those criteria is UNKNOWN for them.
``remaining - possibly`` have passed every criterion so far. ``remaining`` never increases; after
the last criterion it is eligible + undetermined, and ``possibly`` is undetermined. Rows in ERROR
are not in the funnel (they are counted apart).
"""

from __future__ import annotations

import datetime
import itertools
import json
import multiprocessing
import operator
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs

from critlang.allocation import collected_in_batches
from critlang.data.record import Record, loads, read_record
from critlang.data.sources import Entry, PatientSource, Tally
from critlang.data.tabular import Piece, PieceReader, PieceSource
from critlang.errors import CritlangError
from critlang.eval.result import CriterionResult, Evidence, Outcome, Verdict
from critlang.semantics import ir
from critlang.source import Source
from critlang.syntax import ast
from critlang.syntax.parser import parse_expression, parse_program
from critlang.trial import Trial, load, parse
from critlang.wording import UNIT_WORDS, number_text

MET, NOT_MET, UNKNOWN, REVIEW = Outcome.MET, Outcome.NOT_MET, Outcome.UNKNOWN, Outcome.REVIEW
_OUTCOME_LETTERS = {id(MET): "m", id(NOT_MET): "n", id(UNKNOWN): "u", id(REVIEW): "r"}
ELIGIBLE, INELIGIBLE, UNDETERMINED = Verdict.ELIGIBLE, Verdict.INELIGIBLE, Verdict.UNDETERMINED
ERROR = "error"  # a row's status when it has no verdict
STATUSES = ("eligible", "ineligible", "undetermined", ERROR)
_BATCH = 64  # patients sent to a worker at a time


class WhatIfError(CritlangError):
    """A ``relax`` or ``drop`` that names no criterion of the trial."""


# ---- rows ----------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Gap:
    """How far a value is from the threshold of the comparison it failed."""

    variable: str
    value: str  # as the record gave it: ``0.9 10*9/L``
    threshold: str  # the comparison's other side: ``> 1.0 x10^9/L``, ``<= 3 x ULN (120 U/L)``
    difference: Fraction  # value - threshold, in ``unit``
    unit: str | None
    relative: Fraction | None  # difference / |threshold|, when the threshold is not 0

    def text(self) -> str:
        """``ANC 0.9 10*9/L: 0.1 10*9/L below > 1.0 x10^9/L (10%)``."""
        if self.difference == 0:
            return f"{self.variable} {self.value}: exactly at the limit of {self.threshold}"
        side = "below" if self.difference < 0 else "above"
        amount = _amount(abs(self.difference), self.unit)
        share = f" ({_percent(abs(self.relative))})" if self.relative else ""
        return f"{self.variable} {self.value}: {amount} {side} {self.threshold}{share}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "value": self.value,
            "threshold": self.threshold,
            "difference": number_text(self.difference),
            "unit": self.unit,
            "relative": None if self.relative is None else float(self.relative),
            "text": self.text(),
        }


@attrs.frozen(kw_only=True)
class NearMiss:
    """A patient who fails exactly one criterion."""

    id: str
    criterion: str
    would_be: Verdict  # ELIGIBLE when every other criterion is decided, else UNDETERMINED
    explanation: str  # the evidence that decided the failing criterion, in words
    gap: Gap | None  # when the decisive part is one comparison with a threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "criterion": self.criterion,
            "would_be": self.would_be.value,
            "explanation": self.explanation,
            "gap": None if self.gap is None else self.gap.to_dict(),
        }


@attrs.frozen(kw_only=True)
class Row:
    """One input patient's result: a verdict with an outcome per criterion, or an error."""

    id: str
    verdict: Verdict | None  # None: ERROR, see ``error``
    outcomes: tuple[Outcome, ...] = ()  # per criterion, in file order; () for an error
    missing: tuple[str, ...] = ()  # what the UNKNOWN criteria lack
    error: str | None = None
    problems: tuple[str, ...] = ()  # the record's unreadable fields (left out of it)
    where: str = ""
    variants: tuple[Verdict | None, ...] = ()  # the verdict under each what-if change
    near_miss: NearMiss | None = None

    @property
    def status(self) -> str:
        """``eligible``, ``ineligible``, ``undetermined`` or ``error``."""
        return self.verdict.value if self.verdict is not None else ERROR


# ---- what the screen reports ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CriterionInfo:
    id: str
    section: str
    text: str | None
    review: bool  # a review item: never decides, left out of the funnel


@attrs.frozen(kw_only=True)
class FunnelStep:
    """The patients left after a criterion (``id`` None: before any)."""

    id: str | None
    section: str | None
    text: str | None
    remaining: int  # not excluded by this criterion or any before it
    possibly: int  # of those, the ones for whom one of these criteria is UNKNOWN
    excluded: int  # excluded first by this criterion

    @property
    def passed(self) -> int:
        """Remaining with every criterion so far decided in their favour."""
        return self.remaining - self.possibly


@attrs.frozen(kw_only=True)
class CriterionCounts:
    id: str
    section: str
    text: str | None
    met: int
    not_met: int
    unknown: int
    review: int
    excluding: int  # patients this criterion makes ineligible (with or without others)
    only: int  # patients it alone makes ineligible


@attrs.frozen(kw_only=True)
class Change:
    """A what-if: replace a criterion's expression (``relax``) or leave it out (``drop``)."""

    criterion: str
    expression: str | None = None  # None: drop

    @property
    def label(self) -> str:
        if self.expression is None:
            return f"drop {self.criterion}"
        return f"relax {self.criterion} to `{self.expression}`"


@attrs.frozen(kw_only=True)
class WhatIf:
    """The verdicts with ``change`` (or with every change, ``label`` "all changes together")."""

    label: str
    eligible: int
    ineligible: int
    undetermined: int
    eligible_before: int
    newly_eligible: tuple[str, ...]  # ids
    no_longer_eligible: tuple[str, ...]

    @property
    def change(self) -> int:
        return self.eligible - self.eligible_before

    def to_dict(self) -> dict[str, Any]:
        return {
            "change": self.label,
            "eligible_before": self.eligible_before,
            "eligible": self.eligible,
            "ineligible": self.ineligible,
            "undetermined": self.undetermined,
            "difference": self.change,
            "newly_eligible": list(self.newly_eligible),
            "no_longer_eligible": list(self.no_longer_eligible),
        }


@attrs.frozen(kw_only=True)
class ScreenResult:
    """A cohort screened against one trial (see the module's docstring for the funnel)."""

    trial: str | None
    title: str | None
    criteria: tuple[CriterionInfo, ...]
    rows: list[Row] = attrs.field(repr=False)
    totals: Mapping[str, int]  # eligible, ineligible, undetermined, error, total
    funnel: tuple[FunnelStep, ...]
    counts: tuple[CriterionCounts, ...]
    near_misses: tuple[NearMiss, ...]
    what_if: tuple[WhatIf, ...]
    unmapped: Mapping[str, int]  # the source's tally: what it read and could not use
    source_error: str | None  # the source stopped early (rows after it could not be read)
    seconds: float
    engine: str = "memory"  # what screened: memory, duckdb or postgres (critlang.screen_sql)
    notes: tuple[str, ...] = ()  # how the engine screened, and what it does not give
    # False: the rows say neither what unknown criteria lack nor what the record could not read
    # (the SQL engines over a database)
    details_given: bool = True

    @property
    def deciding(self) -> tuple[CriterionCounts, ...]:
        """Criteria that make patients ineligible, the most often first."""
        found = [count for count in self.counts if count.excluding]
        return tuple(sorted(found, key=lambda count: (-count.excluding, -count.only)))

    def to_dict(self) -> dict[str, Any]:
        """Everything but the rows (see :meth:`write_jsonl` for those)."""
        return {
            "trial": self.trial,
            "title": self.title,
            "totals": dict(self.totals),
            "funnel": [attrs.asdict(step) for step in self.funnel],
            "criteria": [attrs.asdict(count) for count in self.counts],
            "deciding": [count.id for count in self.deciding],
            "near_misses": [miss.to_dict() for miss in self.near_misses],
            "what_if": [item.to_dict() for item in self.what_if],
            "unmapped": dict(self.unmapped),
            "source_error": self.source_error,
            "seconds": self.seconds,
            "engine": self.engine,
            "notes": list(self.notes),
            "details_given": self.details_given,
        }

    def row_dict(self, row: Row) -> dict[str, Any]:
        return {
            "id": row.id,
            "verdict": row.status,
            "error": row.error,
            "outcomes": {
                info.id: outcome.value
                for info, outcome in zip(self.criteria, row.outcomes, strict=False)
            },
            "failed": _failed_ids(self.criteria, row.outcomes),
            # None: not known (see details_given)
            "missing": list(row.missing) if self.details_given else None,
            "record_problems": list(row.problems) if self.details_given else None,
            "where": row.where,
            **(
                {
                    "what_if": {
                        item.label: (verdict.value if verdict is not None else ERROR)
                        for item, verdict in zip(self.what_if, row.variants, strict=False)
                    }
                }
                if self.what_if
                else {}
            ),
        }

    def write_jsonl(self, path: str | Path) -> None:
        """One JSON object per row, in input order."""
        with Path(path).open("w", encoding="utf-8") as handle:
            for row in self.rows:
                handle.write(json.dumps(self.row_dict(row), ensure_ascii=False))
                handle.write("\n")

    def write_csv(self, path: str | Path) -> None:
        """``id, verdict``, one column per criterion (its outcome), ``missing`` (``; ``-joined;
        ``not given`` when the engine does not say) and ``error``."""
        import csv

        with Path(path).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["id", "verdict", *(info.id for info in self.criteria), "missing", "error"]
            )
            blank = [""] * len(self.criteria)
            for row in self.rows:
                outcomes = [outcome.value for outcome in row.outcomes] or blank
                missing = (
                    "; ".join(row.missing)
                    if self.details_given or row.verdict is None
                    else "not given"
                )
                writer.writerow([row.id, row.status, *outcomes, missing, row.error or ""])

    def write(self, path: str | Path) -> None:
        """Rows to ``path``: JSON Lines for ``.jsonl``/``.ndjson``/``.json``, else CSV."""
        if Path(path).suffix.casefold() in (".jsonl", ".ndjson", ".json"):
            self.write_jsonl(path)
        else:
            self.write_csv(path)

    def summary(self, near_misses: int = 10) -> str:
        """The terminal report: totals, funnel, per-criterion counts, deciding criteria, near
        misses, what-if, what the source could not map, errors."""
        from critlang.report import render_text

        return render_text(self, near_misses)


# ---- screening -----------------------------------------------------------------------------------


def screen(
    trial: Trial,
    source: PatientSource | str | Path | Iterable[Record | Mapping[str, Any] | str] | None,
    as_of: datetime.date | str | None = None,
    anchors: Mapping[str, datetime.date | str] | None = None,
    *,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    relax: Mapping[str, str] | None = None,
    drop: Sequence[str] = (),
    format: str | None = None,
    engine: str = "memory",
    dsn: str | None = None,
    schema: str | None = None,
) -> ScreenResult:
    """Evaluate every patient of ``source`` against ``trial``.

    ``source`` is a :class:`PatientSource`, a path (read with
    :func:`critlang.data.open_patients`, ``format`` as there) or an iterable of records (dicts,
    JSON texts or :class:`Record`). ``as_of`` and ``anchors`` are used where a record has no
    anchor of its own. ``jobs`` > 1 evaluates in that many worker processes (each loads the trial
    once; rows keep the input order). ``progress`` is called with the number of patients done.
    ``relax`` maps criterion IDs to replacement expressions and ``drop`` lists criteria to leave
    out: each is a what-if, evaluated in the same pass, and reported with the change in eligible
    patients (and all of them together, when there are several).

    ``engine`` is ``memory`` (the evaluator, in this process), ``duckdb`` (the compiled SQL, run
    by DuckDB: over an OMOP export directly, over any other input staged into DuckDB first) or
    ``postgres`` (the compiled SQL on the PostgreSQL database ``dsn``; ``source`` is then None).
    ``schema`` names the database schema of the OMOP tables. The rows, funnel, counts and
    what-ifs are the same; :mod:`critlang.screen_sql` says what the SQL engines do not give.
    """
    started = time.perf_counter()
    changes = _changes(trial, relax or {}, drop)
    when, given = _dates(as_of, anchors)
    if engine != "memory" or dsn is not None or schema is not None:
        from critlang.screen_sql import screen_sql

        return screen_sql(
            trial,
            source,
            engine=engine,
            dsn=dsn,
            schema=schema,
            jobs=jobs,
            as_of=when,
            anchors=given,
            changes=changes,
            format=format,
            progress=progress,
            started=started,
        )
    if source is None:
        raise CritlangError("no patients to screen: give a source (a path, a reader or records)")
    patients = _source(source, format, trial)
    screener = _Screener(trial, when, given, changes)
    rows: list[Row] = []
    seen: dict[str, str] = {}
    stopped: list[str] = []
    if jobs > 1:
        produced = _parallel(trial, when, given, changes, patients, jobs, stopped)
    else:
        produced = (screener.row(entry) for entry in _guarded(patients, stopped))
    # Patients share outcome patterns: each is kept once (memory) and counted (the summary is
    # computed per pattern). Keyed by a letter per member, found by its id: hashing enum
    # members is slow in Python, and a text is not one more object for the cycle collector.
    patterns: dict[str, tuple[Outcome, ...]] = {}
    counts: dict[str, int] = {}
    letter = _OUTCOME_LETTERS.__getitem__
    for produced_row in collected_in_batches(produced):
        row = _unique(produced_row, seen)
        outcomes = row.outcomes
        if outcomes:
            key = "".join(map(letter, map(id, outcomes)))
            found = patterns.get(key)
            if found is None:
                patterns[key] = outcomes
                counts[key] = 1
            else:
                counts[key] += 1
                if found is not outcomes:
                    row = attrs.evolve(row, outcomes=found)
        rows.append(row)
        if progress is not None:
            progress(len(rows))
    counted = [(outcomes, counts[key]) for key, outcomes in patterns.items()]
    source_error = f"{stopped[0]}; the rows before it are kept" if stopped else None
    return _result(trial, screener, rows, counted, changes, patients.tally, source_error, started)


def _guarded(items: Iterable[Any], stopped: list[str]) -> Iterator[Any]:
    """The items, until the source fails (a reader's bug, an I/O error): then the reason is
    noted in ``stopped`` and the screen ends with the rows it has."""
    iterator = iter(items)
    count = 0
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except Exception as error:
            stopped.append(f"the source stopped after {count} patients: {error}")
            return
        count += 1
        yield item


def _dates(
    as_of: datetime.date | str | None, anchors: Mapping[str, datetime.date | str] | None
) -> tuple[datetime.date | None, dict[str, datetime.date] | None]:
    """The anchors given, read once (a bad date is a CritlangError before any patient)."""

    def day(name: str, value: datetime.date | str) -> datetime.date:
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise CritlangError(f"{name} {value!r} is not a date (write YYYY-MM-DD)") from None

    when = None if as_of is None else day("as-of", as_of)
    given = None if not anchors else {name: day(name, value) for name, value in anchors.items()}
    return when, given


class _Records:
    """Records given in memory, as a source."""

    def __init__(self, records: Iterable[Record | Mapping[str, Any] | str]) -> None:
        self.records = records
        self.tally = Tally()

    def __iter__(self) -> Iterator[Entry]:
        for index, item in enumerate(self.records):
            where = f"record {index}"
            try:
                if isinstance(item, Record):
                    record = item
                elif isinstance(item, str):
                    record = read_record(loads(item))
                else:
                    record = read_record(item)
            except (CritlangError, ValueError, RecursionError) as error:
                yield Entry(id=where, record=None, error=str(error), where=where)
                continue
            yield Entry(id=record.id or where, record=record, where=where)


def _source(
    source: PatientSource | str | Path | Iterable[Record | Mapping[str, Any] | str],
    format: str | None,
    trial: Trial,
) -> PatientSource:
    if isinstance(source, str | Path):
        from critlang.data import open_patients

        return open_patients(source, format, trial.dictionary, lazy=True)
    if hasattr(source, "tally"):
        return source  # type: ignore[return-value]
    return _Records(source)


def _unique(row: Row, seen: dict[str, str]) -> Row:
    """A second patient with an id already screened is an error row (readers that check ids
    themselves have already made it one)."""
    if row.verdict is None:
        return row
    first = seen.get(row.id)
    if first is None:
        seen[row.id] = row.where
        return row
    return Row(
        id=row.id,
        verdict=None,
        error=f"duplicate id {row.id!r}: the same id as the patient at {first or 'an earlier row'}",
        where=row.where,
    )


class _Screener:
    """Evaluates one patient: the row, its what-if verdicts and, for a near miss, the gap."""

    def __init__(
        self,
        trial: Trial,
        as_of: datetime.date | None,
        anchors: Mapping[str, datetime.date] | None,
        changes: Sequence[Change],
    ) -> None:
        self.trial = trial
        self.as_of = as_of
        self.anchors = anchors
        self.criteria = trial.criteria
        self.failing = tuple(
            NOT_MET if criterion.section == "inclusion" else MET for criterion in self.criteria
        )
        positions = {criterion.id: index for index, criterion in enumerate(self.criteria)}
        # Each change: the criterion's position, and the trial that evaluates its replacement
        # (one criterion only; None to drop it).
        self.changes = [
            (
                positions[change.criterion],
                None
                if change.expression is None
                else replacement(trial, change.criterion, change.expression),
            )
            for change in changes
        ]
        self.texts: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.strings: dict[str, str] = {}
        self.variants: list[tuple[int, ...]] = [(index,) for index in range(len(self.changes))]
        if len(self.changes) > 1:
            self.variants.append(tuple(range(len(self.changes))))

    def failed(self, outcomes: Sequence[Outcome]) -> list[int]:
        """The positions of the criteria that ``outcomes`` fail (an inclusion NOT MET, an
        exclusion MET), found in C: this runs once per record screened."""
        return list(
            itertools.compress(itertools.count(), map(operator.is_, outcomes, self.failing))
        )

    def row(self, entry: Entry) -> Row:
        record = entry.record
        if record is None:
            return Row(
                id=entry.id, verdict=None, error=entry.error or "no record", where=entry.where
            )
        try:
            result = self.trial.evaluate(record, self.as_of, anchors=self.anchors, evidence=False)
            outcomes = result.outcomes
            missing = self._shared(result.missing) if UNKNOWN in outcomes else ()
            variants = self._variants(record, outcomes) if self.changes else ()
            failed = self.failed(outcomes)
            near_miss = (
                self._near_miss(entry.id, record, failed[0], outcomes) if len(failed) == 1 else None
            )
        except CritlangError as error:
            return self._error(entry, str(error))
        except Exception as error:  # one patient's failure must not stop the screen
            return self._error(entry, f"internal error ({type(error).__name__}: {error})")
        return Row(
            id=entry.id,
            verdict=result.verdict,
            outcomes=outcomes,
            missing=missing,
            problems=self._shared(record.problems),
            where=entry.where,
            variants=variants,
            near_miss=near_miss,
        )

    # Rows stay in memory: patients share reasons and problems, and each is kept once (bounded:
    # a cohort of all-different texts shares nothing and keeps no more).
    _SHARED_LIMIT = 100_000

    def _shared(self, texts: tuple[str, ...]) -> tuple[str, ...]:
        if not texts:
            return ()
        found = self.texts.get(texts)
        if found is None:
            strings = self.strings
            found = tuple([strings.setdefault(text, text) for text in texts])
            if len(self.texts) < self._SHARED_LIMIT:
                self.texts[found] = found
            if len(strings) > self._SHARED_LIMIT:
                strings.clear()
        return found

    @staticmethod
    def _error(entry: Entry, message: str) -> Row:
        problems = entry.record.problems if entry.record is not None else ()
        return Row(id=entry.id, verdict=None, error=message, problems=problems, where=entry.where)

    def _variants(self, record: Record, outcomes: tuple[Outcome, ...]) -> tuple[Verdict, ...]:
        changed: list[Outcome] = []
        for _, trial in self.changes:
            if trial is None:
                changed.append(REVIEW)  # left out: never decides, like a review item
            else:
                result = trial.evaluate(record, self.as_of, anchors=self.anchors, evidence=False)
                changed.append(result.outcomes[0])
        return self.variant_verdicts(outcomes, changed)

    def variant_verdicts(
        self, outcomes: Sequence[Outcome], changed: Sequence[Outcome]
    ) -> tuple[Verdict, ...]:
        """The verdict under each what-if, given each change's outcome (``changed``, in the
        order of ``changes``)."""
        verdicts = []
        for variant in self.variants:
            modified = list(outcomes)
            for change in variant:
                modified[self.changes[change][0]] = changed[change]
            verdicts.append(verdict_from(modified, self.failing))
        return tuple(verdicts)

    def _near_miss(
        self, identifier: str, record: Record, index: int, outcomes: tuple[Outcome, ...]
    ) -> NearMiss:
        others_decided = all(
            outcome is not UNKNOWN for position, outcome in enumerate(outcomes) if position != index
        )
        # Re-evaluated with evidence, for this patient and criterion only: the value and the
        # threshold.
        criterion = self.trial.explain(
            record, self.criteria[index].id, self.as_of, anchors=self.anchors
        )
        return NearMiss(
            id=identifier,
            criterion=criterion.id,
            would_be=ELIGIBLE if others_decided else UNDETERMINED,
            explanation=_decisive_text(criterion),
            gap=gap(self.criteria[index], criterion),
        )


def _decisive_text(result: CriterionResult) -> str:
    """What decided a failed criterion: its evidence that points the way it came out (``live_vaccine
    within 4 weeks before screening: yes (live_vaccine, 2025-05-05)``), else its explanation."""
    wanted = "false" if result.section == "inclusion" else "true"
    decisive = [item.text for item in result.evidence if item.effective == wanted]
    return " … ".join(decisive) if decisive else result.explain()


def verdict_from(outcomes: Sequence[Outcome], failing: Sequence[Outcome]) -> Verdict:
    """SPEC §4's verdict from outcomes in file order; ``failing`` is, per criterion, the outcome
    that makes a patient ineligible (NOT MET for an inclusion, MET for an exclusion)."""
    unknown = False
    for outcome, fail in zip(outcomes, failing, strict=True):
        if outcome is fail:
            return INELIGIBLE
        if outcome is UNKNOWN:
            unknown = True
    return UNDETERMINED if unknown else ELIGIBLE


def _failed_ids(criteria: Sequence[CriterionInfo], outcomes: Sequence[Outcome]) -> list[str]:
    return [
        info.id
        for info, outcome in zip(criteria, outcomes, strict=False)
        if outcome is (NOT_MET if info.section == "inclusion" else MET)
    ]


# ---- what-if -------------------------------------------------------------------------------------


def _find(trial: Trial, identifier: str) -> str:
    ids = [criterion.id for criterion in trial.criteria]
    if identifier in ids:
        return identifier
    folded = [known for known in ids if known.casefold() == identifier.casefold()]
    if folded:
        return folded[0]
    raise WhatIfError(f"no criterion {identifier!r} in the trial (it has {', '.join(ids)})")


def _changes(trial: Trial, relax: Mapping[str, str], drop: Sequence[str]) -> list[Change]:
    changes = [
        Change(criterion=_find(trial, identifier), expression=expression)
        for identifier, expression in relax.items()
    ]
    changes += [Change(criterion=_find(trial, identifier)) for identifier in drop]
    return changes


def replacement(trial: Trial, identifier: str, expression: str | None = None) -> Trial:
    """A trial of one criterion: ``identifier``, with its expression replaced by ``expression``
    when given, checked in the context of the whole file (its definitions, declarations and
    ``use``s). Evaluating it costs one criterion, not the trial's all."""
    criterion = next(item for item in trial.program.criteria if item.id == identifier)
    text = trial.source.text
    name = trial.source.name
    if expression is None:
        edited, program = text, trial.program
    else:
        parse_expression(expression, f"replacement for {identifier}")  # its own syntax errors
        span = criterion.body.span
        edited = text[: span.start] + expression + text[span.end :]
        program = parse_program(edited, name)
    target = next(item for item in program.criteria if item.id == identifier)
    only = attrs.evolve(
        program,
        items=tuple(
            item for item in program.items if not isinstance(item, ast.Criterion) or item is target
        ),
    )
    path = Path(name)
    project = path.resolve().parent if path.is_file() else None
    return Trial(only, Source(edited, name), project, trial.dictionary)


# ---- near misses: how far from the threshold ---------------------------------------------------


def gap(checked: ir.CheckedCriterion, result: CriterionResult) -> Gap | None:
    """How far the value that decided a failed criterion is from its threshold, when one
    comparison of one variable with a constant (or ``k x ULN``) decided it; else None."""
    wanted = "false" if result.section == "inclusion" else "true"
    decisive = [item for item in result.evidence if item.effective == wanted]
    if len(decisive) != 1 or checked.condition is None:
        return None
    evidence = decisive[0]
    variable = evidence.facts.get("variable")
    if not isinstance(variable, str) or not isinstance(evidence.facts.get("value"), str):
        return None
    for node in _leaves(checked.condition):
        found = _measure(node, variable, evidence)
        if found is not None:
            return found
    return None


def _leaves(node: ir.Condition) -> Iterator[ir.Comparison | ir.InRange]:
    if isinstance(node, ir.Comparison | ir.InRange):
        yield node
    elif isinstance(node, ir.All | ir.Any_):
        for item in node.items:
            yield from _leaves(item)
    elif isinstance(node, ir.Negation):
        yield from _leaves(node.item)
    elif isinstance(node, ir.DefinedCondition):
        yield from _leaves(node.body)
    elif isinstance(node, ir.Implication):
        yield from _leaves(node.premise)
        yield from _leaves(node.conclusion)
    elif isinstance(node, ir.Branch):
        yield from _leaves(node.condition)
        yield from _leaves(node.then)
        yield from _leaves(node.otherwise)


def _variable_name(node: ir.Value) -> str | None:
    if isinstance(node, ir.LabSelection | ir.FactValue):
        return node.variable.name
    if isinstance(node, ir.Age):
        return "age"
    return None


def _measure(node: ir.Comparison | ir.InRange, variable: str, evidence: Evidence) -> Gap | None:
    from critlang.eval.plan import Planner

    text = evidence.text
    if not text.startswith(f"{variable} "):
        return None
    value_text = str(evidence.facts["value"])
    if isinstance(node, ir.InRange):
        if _variable_name(node.value) != variable or node.negated:
            return None
        shown = _source_text(node.origin).split(" in ", 1)[-1]
        if not text.endswith(f"in {shown}"):
            return None
        value = _quantity(str(evidence.facts.get("converted", value_text)), node.unit)
        low = None if node.low is None else Planner.threshold(node.low, node.unit, None)
        high = None if node.high is None else Planner.threshold(node.high, node.unit, None)
        if value is None or (low is None and high is None):
            return None
        number, unit = value
        if low is not None and number < low:
            bound = low
        elif high is not None and number > high:
            bound = high
        else:  # inside (an exclusion met): the nearer bound
            bounds = [item for item in (low, high) if item is not None]
            bound = min(bounds, key=lambda item: abs(number - item))
        return _gap_of(variable, value_text, f"the range {shown}", number, bound, unit)
    if node.operator in ("=", "!="):
        return None
    limit, other = (
        (node.right, node.left) if isinstance(node.right, ir.Limit) else (node.left, node.right)
    )
    if isinstance(limit, ir.Limit):
        if _variable_name(other) != variable:
            return None
        right_text = _source_text(limit.origin)
        if f" {node.operator} {right_text}" not in text:
            return None
        reference = evidence.facts.get(limit.limit.lower())
        value = _quantity(str(evidence.facts.get("converted", value_text)), None)
        if not isinstance(reference, str) or value is None:
            return None
        bound = limit.factor * Fraction(reference)
        number, unit = value
        threshold = (
            f"{node.operator} {right_text} ({number_text(bound)}{f' {unit}' if unit else ''})"
        )
        return _gap_of(variable, value_text, threshold, number, bound, unit)
    if _variable_name(node.left) != variable:
        return None
    right_text = _source_text(node.right.origin)
    if f" {node.operator} {right_text}" not in text:
        return None
    constant = Planner.threshold(node.right, node.unit, node.molar_mass)
    value = _quantity(str(evidence.facts.get("converted", value_text)), node.unit, node.molar_mass)
    if constant is None or value is None:
        return None
    number, unit = value
    return _gap_of(variable, value_text, f"{node.operator} {right_text}", number, constant, unit)


_TEXTS: dict[int, tuple[object, str]] = {}


def _source_text(node: object) -> str:
    """The canonical text of an AST node, printed once per node (near misses ask again and
    again); the node is kept with its text, so that its id is not reused."""
    from critlang.syntax.printer import expression_text

    found = _TEXTS.get(id(node))
    if found is None:
        found = _TEXTS[id(node)] = (node, expression_text(node))
    return found[1]


def _gap_of(
    variable: str, value: str, threshold: str, number: Fraction, bound: Fraction, unit: str | None
) -> Gap:
    return Gap(
        variable=variable,
        value=value,
        threshold=threshold,
        difference=number - bound,
        unit=unit,
        relative=(number - bound) / abs(bound) if bound else None,
    )


# The numbers of evidence texts, read once each (near misses repeat them).
_FRACTIONS: dict[str, Fraction] = {}


def _quantity(
    text: str, unit: Any, molar_mass: Fraction | None = None
) -> tuple[Fraction, str | None] | None:
    """``"0.9 10*9/L"`` as a number in ``unit`` (a :class:`~critlang.units.Unit`, or None to keep
    the text's own unit), with the unit's code."""
    from critlang.errors import UnitError
    from critlang.units import convert_exact, parse_unit

    number_part, _, unit_part = text.strip().partition(" ")
    number = _FRACTIONS.get(number_part)
    if number is None:
        try:
            number = Fraction(number_part)
        except ValueError:
            return None
        if len(_FRACTIONS) < 10_000:
            _FRACTIONS[number_part] = number
    if not unit_part:
        return number, None if unit is None else unit.code
    try:
        own = parse_unit(unit_part)
        if unit is None or own.code == unit.code:
            return number, own.code
        return convert_exact(number, own, unit, molar_mass=molar_mass), unit.code
    except UnitError:
        return None


def _amount(number: Fraction, unit: str | None) -> str:
    """``0.1 10*9/L``, ``1 year``, ``3 weeks``."""
    if unit is None:
        return number_text(number)
    words = UNIT_WORDS.get(unit)
    if words is not None and number == 1:
        words = words[:-1]
    return f"{number_text(number)} {words or unit}"


def _percent(share: Fraction) -> str:
    value = float(share) * 100
    return f"{value:.0f}%" if value >= 10 else f"{value:.2g}%"


class ProgressLine:
    """A one-line progress report on a terminal (``\\r``, redrawn at most ten times a second):
    patients screened, their rate and the time taken. The total is not known while streaming."""

    def __init__(self, stream: Any, interval: float = 0.1) -> None:
        self.stream = stream
        self.interval = interval
        self.started = time.perf_counter()
        self.shown = 0.0
        self.done = 0

    def __call__(self, done: int) -> None:
        self.done = done
        now = time.perf_counter()
        if now - self.shown >= self.interval:
            self.shown = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        self.stream.write(f"\r  screened {self.done:,} patients ({rate:,.0f}/s, {elapsed:.1f} s)")
        self.stream.flush()

    def close(self) -> None:
        """Clear the line, so that the summary starts on a clean one."""
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


# ---- worker processes ----------------------------------------------------------------------------

_WORKER: _Screener | None = None
_WORKER_DICTIONARY: Any = None  # the dictionary workers read JSON pieces with


def _trial_origin(trial: Trial) -> tuple[str | None, str, str]:
    """How a worker gets the trial: its file when it was loaded from one (unchanged since), else
    its text."""
    name = trial.source.name
    path = Path(name)
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == trial.source.text:
            return name, trial.source.text, name
    except (OSError, UnicodeDecodeError):
        pass
    return None, trial.source.text, name


def _start_worker(
    origin: tuple[str | None, str, str],
    as_of: datetime.date | None,
    anchors: Mapping[str, datetime.date] | None,
    changes: Sequence[Change],
    dictionary: Any,
) -> None:
    global _WORKER, _WORKER_DICTIONARY
    path, text, name = origin
    trial = load(path) if path is not None else parse(text, name)
    _WORKER = _Screener(trial, as_of, anchors, changes)
    _WORKER_DICTIONARY = trial.dictionary if dictionary == "trial" else dictionary


def _work_entries(batch: list[Entry]) -> tuple[list[Row], Counter[str]]:
    assert _WORKER is not None
    return [_WORKER.row(entry) for entry in batch], Counter()


def _work_pieces(reader: PieceReader, batch: list[Piece]) -> tuple[list[Row], Counter[str]]:
    """Read and evaluate in the worker: pieces are far cheaper to send than records."""
    assert _WORKER is not None
    tally = Tally()
    entries = reader.entries(tally, _WORKER_DICTIONARY)
    return [_WORKER.row(reader.entry(piece, entries)) for piece in batch], tally.unmapped


def _parallel(
    trial: Trial,
    as_of: datetime.date | None,
    anchors: Mapping[str, datetime.date] | None,
    changes: Sequence[Change],
    source: PatientSource,
    jobs: int,
    stopped: list[str],
) -> Iterator[Row]:
    """Rows in input order from ``jobs`` processes. A source that can be read in pieces (the
    native JSON and CSV readers) is read in the workers; any other sends them its entries. At
    most a few batches per worker are in flight, so memory stays bounded however long the source
    is (``Pool.imap`` would read it all ahead)."""
    items: Iterator[Any]
    reader: PieceReader | None = None
    dictionary: Any = None
    if isinstance(source, PieceSource):
        reader = source.reader()
        used = source.entry_dictionary()
        dictionary = "trial" if used is trial.dictionary else used
        items = _guarded(source.pieces(), stopped)
    else:
        items = _guarded(source, stopped)
    context = multiprocessing.get_context()
    initargs = (_trial_origin(trial), as_of, anchors, list(changes), dictionary)
    with context.Pool(jobs, _start_worker, initargs) as pool:
        pending: deque[Any] = deque()

        def submit(batch: list[Any]) -> None:
            if reader is not None:
                pending.append(pool.apply_async(_work_pieces, (reader, batch)))
            else:
                pending.append(pool.apply_async(_work_entries, (batch,)))

        def collect() -> list[Row]:
            rows, unmapped = pending.popleft().get()
            source.tally.unmapped.update(unmapped)
            return rows  # type: ignore[no-any-return]

        batch: list[Any] = []
        for item in items:
            batch.append(item)
            if len(batch) == _BATCH:
                submit(batch)
                batch = []
                while len(pending) >= jobs * 4:
                    yield from collect()
        if batch:
            submit(batch)
        while pending:
            yield from collect()


# ---- the summary ---------------------------------------------------------------------------------


def _result(
    trial: Trial,
    screener: _Screener,
    rows: list[Row],
    patterns: list[tuple[tuple[Outcome, ...], int]],
    changes: Sequence[Change],
    tally: Tally,
    source_error: str | None,
    started: float,
) -> ScreenResult:
    infos = tuple(
        CriterionInfo(
            id=criterion.id,
            section=criterion.section,
            text=criterion.text,
            review=criterion.condition is None,
        )
        for criterion in trial.criteria
    )
    failing = screener.failing
    totals = Counter(row.status for row in rows)
    counts = _counts(infos, failing, patterns)
    funnel = _funnel(infos, failing, patterns, totals.total() - totals[ERROR])
    near = [row.near_miss for row in rows if row.near_miss is not None]
    near.sort(key=_near_order)
    labels = [change.label for change in changes]
    if len(changes) > 1:
        labels.append("all changes together")
    what_if = []
    for position, label in enumerate(labels):
        verdicts = Counter(row.variants[position] for row in rows if row.variants)
        what_if.append(
            WhatIf(
                label=label,
                eligible=verdicts[ELIGIBLE],
                ineligible=verdicts[INELIGIBLE],
                undetermined=verdicts[UNDETERMINED],
                eligible_before=totals["eligible"],
                newly_eligible=tuple(
                    row.id
                    for row in rows
                    if row.variants
                    and row.variants[position] is ELIGIBLE
                    and row.verdict is not ELIGIBLE
                ),
                no_longer_eligible=tuple(
                    row.id
                    for row in rows
                    if row.variants
                    and row.verdict is ELIGIBLE
                    and row.variants[position] is not ELIGIBLE
                ),
            )
        )
    return ScreenResult(
        trial=trial.id,
        title=trial.title,
        criteria=infos,
        rows=rows,
        totals={**{status: totals[status] for status in STATUSES}, "total": len(rows)},
        funnel=funnel,
        counts=counts,
        near_misses=tuple(near),
        what_if=tuple(what_if),
        unmapped=dict(tally.unmapped.most_common()),
        source_error=source_error,
        seconds=time.perf_counter() - started,
    )


def _near_order(miss: NearMiss) -> tuple[int, float, str]:
    relative = abs(float(miss.gap.relative)) if miss.gap and miss.gap.relative is not None else 1e9
    return (0 if miss.would_be is ELIGIBLE else 1, relative, miss.id)


def _counts(
    infos: Sequence[CriterionInfo],
    failing: Sequence[Outcome],
    patterns: list[tuple[tuple[Outcome, ...], int]],
) -> tuple[CriterionCounts, ...]:
    size = len(infos)
    met, not_met, unknown, review = [0] * size, [0] * size, [0] * size, [0] * size
    excluding, only = [0] * size, [0] * size
    for outcomes, count in patterns:
        failed = []
        for index, outcome in enumerate(outcomes):
            # Identity, not a dict keyed by outcome: hashing enum members is slow in Python.
            if outcome is MET:
                met[index] += count
            elif outcome is NOT_MET:
                not_met[index] += count
            elif outcome is UNKNOWN:
                unknown[index] += count
            else:
                review[index] += count
            if outcome is failing[index]:
                failed.append(index)
        for index in failed:
            excluding[index] += count
        if len(failed) == 1:
            only[failed[0]] += count
    return tuple(
        CriterionCounts(
            id=info.id,
            section=info.section,
            text=info.text,
            met=met[index],
            not_met=not_met[index],
            unknown=unknown[index],
            review=review[index],
            excluding=excluding[index],
            only=only[index],
        )
        for index, info in enumerate(infos)
    )


def _funnel(
    infos: Sequence[CriterionInfo],
    failing: Sequence[Outcome],
    patterns: list[tuple[tuple[Outcome, ...], int]],
    evaluated: int,
) -> tuple[FunnelStep, ...]:
    steps = [index for index, info in enumerate(infos) if not info.review]
    size = len(steps)
    first_failed = [0] * (size + 1)  # patients excluded first at step k
    possibly = [0] * (size + 1)  # difference array: +count where an unknown starts, - at exclusion
    for outcomes, count in patterns:
        failed_at = unknown_at = size
        for step, index in enumerate(steps):
            outcome = outcomes[index]
            if outcome is failing[index]:
                failed_at = step
                break
            if outcome is UNKNOWN and unknown_at == size:
                unknown_at = step
        first_failed[failed_at] += count
        if unknown_at < failed_at:
            possibly[unknown_at] += count
            possibly[failed_at] -= count
    funnel = [
        FunnelStep(id=None, section=None, text=None, remaining=evaluated, possibly=0, excluded=0)
    ]
    remaining, open_unknown = evaluated, 0
    for step, index in enumerate(steps):
        remaining -= first_failed[step]
        open_unknown += possibly[step]
        info = infos[index]
        funnel.append(
            FunnelStep(
                id=info.id,
                section=info.section,
                text=info.text,
                remaining=remaining,
                possibly=open_unknown,
                excluded=first_failed[step],
            )
        )
    return tuple(funnel)


__all__ = [
    "Change",
    "CriterionCounts",
    "FunnelStep",
    "Gap",
    "NearMiss",
    "ProgressLine",
    "Row",
    "ScreenResult",
    "WhatIf",
    "WhatIfError",
    "gap",
    "screen",
    "verdict_from",
]
