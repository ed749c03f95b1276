"""Records that are not an OMOP export (native JSON, CSV, FHIR), screened by the compiled query:
staged into an in-memory DuckDB database as OMOP CDM tables, then queried.

The records are read by critlang's own readers (so the reading rules are the in-memory engine's)
and each is written as one person of the OMOP tables the query reads, so that the query's
semantics over the staged tables are the in-memory evaluator's over the records themselves:

- ``person``: the birth date (year, month and day); sex is a fact (below).
- ``measurement``: the record's lab results, in the record's order, then the facts that stand for
  a lab's undated result (a flat ``{"ANC": "1.8 10*9/L"}``): the value as an exact decimal with
  its unit as a ``UCUM`` concept, a word as a value concept named by it, the reference range as
  ``range_low``/``range_high``.
- ``condition_occurrence``: the conditions (start, end, and a status when it is an inactive one);
  ``procedure_occurrence``: every event, treatment and procedure. A record without a conditions
  (events) section is screened by a query compiled for an export without that table.
- ``critlang_facts``: the record's facts (``sex`` included, and an ``age`` given without a birth
  date), typed: true/false, a number, a quantity, a word or a date. The query reads every fact
  from it (:class:`StagedGenerator`), as the evaluator reads the record's facts.

Codes: a staged row's concept is a staging-only code (vocabulary ``CRITLANG_STAGED``), one per
set of variables the record's entry stands for (by its name and code, as the evaluator resolves
it, and for ``diagnosis in {…}`` by the code patterns it matches); the query is compiled from the
criteria with each variable given exactly those codes, so a row names the same variables in SQL
as in memory.

Anchors are constants of the query: records are staged in groups that share their anchor dates
(their own, else ``as_of`` and the anchors given) and which sections they have, each group in a
schema of its own, and the query is compiled and run once per group.

What the query cannot reproduce exactly is not staged: such a record is left to the in-memory
evaluator, and :meth:`Staging.add` says why (a number with more than 18 decimal places or of
10^15 or more, a special unit such as a temperature, a word the OMOP reader would respell, an
occurrence ending before it starts, a fact of a kind no column holds).
"""

from __future__ import annotations

import csv
import datetime
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from sqlglot import exp

from critlang.data.omop_tables import load_duckdb
from critlang.data.record import LabResult, Occurrence, Record
from critlang.errors import CritlangError, UnitError
from critlang.eval.plan import _sections, index_facts
from critlang.semantics import ir
from critlang.semantics.dictionary import CodePattern, Dictionary, Variable
from critlang.sql import expressions as sql
from critlang.sql import labs, truth
from critlang.sql.generator import Options, SqlGenerator
from critlang.sql.questions import Compare, Known, Members, Question, Unsupported
from critlang.sql.runner import SqlRow, configure
from critlang.sql.source import ID_COLUMNS, INACTIVE, qualify_tables, table_columns
from critlang.sql.units import fact_readings
from critlang.units import parse_unit

if TYPE_CHECKING:
    from critlang.trial import Trial

SYSTEM = "CRITLANG_STAGED"  # the vocabulary of the staging codes
FACTS = "critlang_facts"
_VALUES = "CRITLANG_VALUE"  # the vocabulary of the value concepts (words)
_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
_FACT_COLUMNS = {
    "person_id": "BIGINT",
    "variable": "VARCHAR",
    "kind": "VARCHAR",  # boolean, number, quantity, symbol, date, age
    "flag": "BOOLEAN",
    "number": "DECIMAL(38, 18)",
    "unit": "VARCHAR",
    "symbol": "VARCHAR",
    "folded": "VARCHAR",  # the symbol casefolded, as `in {…}` compares it
    "day": "DATE",
}
_AGE = "age"  # the kind of the row holding an age given without a birth date
_LARGEST = 10**15  # numbers staged are smaller than this, with at most 18 decimal places
_SCALE = 10**18
_YEARS = parse_unit("a")


class NotStaged(Exception):
    """A record the query cannot screen exactly as the evaluator does (the reason)."""


# ---- what the criteria read -------------------------------------------------------------------


@attrs.frozen
class Usage:
    """The variables a set of trials reads: labs, facts, conditions and events, the code patterns
    of ``diagnosis in {…}`` (each under a name of its own), and whether ``age`` is read."""

    labs: frozenset[str]
    facts: frozenset[str]
    occurrences: frozenset[str]
    patterns: Mapping[tuple[str, ...], tuple[str, tuple[CodePattern, ...]]]
    age: bool
    anchors: frozenset[str]  # the anchors whose dates the query holds (lower case)
    sections: frozenset[str]  # conditions, events: the sections whose presence matters

    @staticmethod
    def of(trials: Sequence[Trial]) -> Usage:
        found: dict[str, set[str]] = {"labs": set(), "facts": set(), "occurrences": set()}
        patterns: dict[tuple[str, ...], tuple[str, tuple[CodePattern, ...]]] = {}
        age = False
        # screening: results are taken on or before it, conditions are active at it
        anchors = {"screening"}
        sections: set[str] = set()
        for trial in trials:
            for node in _walk(trial.criteria):
                if isinstance(node, ir.WindowSpec | ir.Age | ir.AnchorDate) and isinstance(
                    node.anchor, str
                ):
                    anchors.add(node.anchor.casefold())
                if isinstance(node, ir.LabSelection):
                    found["labs"].add(node.variable.name)
                elif isinstance(node, ir.FactValue | ir.FactTruth):
                    found["facts"].add(node.variable.name)
                elif isinstance(node, ir.Age):
                    age = True
                elif isinstance(node, ir.OccurrenceQuery):
                    found["occurrences"].update(v.name for v in node.variables + node.excluded)
                    conditions_only, events_only = _sections(node)
                    sections.update(
                        name
                        for name, read in (
                            ("conditions", not events_only),
                            ("events", not conditions_only),
                        )
                        if read
                    )
                    if node.codes and not node.variables and node.codes not in patterns:
                        parsed = tuple(
                            pattern
                            for code in node.codes
                            if (pattern := CodePattern.parse(code)) is not None
                        )
                        # a name no criteria file can write (it has spaces)
                        patterns[node.codes] = (f"diagnosis in #{len(patterns) + 1}", parsed)
        return Usage(
            labs=frozenset(found["labs"]),
            facts=frozenset(found["facts"]),
            occurrences=frozenset(found["occurrences"]),
            patterns=patterns,
            age=age,
            anchors=frozenset(anchors),
            sections=frozenset(sections),
        )


def _walk(root: object) -> Iterator[object]:
    """Every IR node under ``root`` (criteria, conditions, values), each once."""
    stack = [root]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if isinstance(item, tuple | list):
            stack.extend(item)
            continue
        if type(item).__module__ != ir.__name__ or not attrs.has(type(item)) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        stack.extend(
            getattr(item, field.name)
            for field in attrs.fields(type(item))  # type: ignore[arg-type]
            if field.name not in ("origin", "type")
        )


def _rewrite(
    node: Any,
    variable: Callable[[Variable], Variable],
    patterns: Mapping[tuple[str, ...], Variable],
    memo: dict[int, Any],
) -> Any:
    """``node`` with each variable replaced by ``variable(it)``, and each ``diagnosis in {…}`` a
    query of its pattern variable (the same node when nothing changes)."""
    if isinstance(node, Variable):
        return variable(node)
    if isinstance(node, tuple):
        items = tuple(_rewrite(item, variable, patterns, memo) for item in node)
        return node if all(a is b for a, b in zip(items, node, strict=True)) else items
    if type(node).__module__ != ir.__name__ or not attrs.has(type(node)):
        return node
    found = memo.get(id(node))
    if found is not None:
        return found[1]
    changes = {}
    for field in attrs.fields(type(node)):
        if field.name in ("origin", "type"):
            continue
        value = getattr(node, field.name)
        new = _rewrite(value, variable, patterns, memo)
        if new is not value:
            changes[field.name] = new
    if isinstance(node, ir.OccurrenceQuery) and node.codes and not node.variables:
        changes["variables"] = (patterns[node.codes],)
        changes["codes"] = ()
    result = attrs.evolve(node, **changes) if changes else node
    memo[id(node)] = (node, result)  # the node is kept, so that its id is not reused
    return result


# ---- the staged tables ---------------------------------------------------------------------------


def decimal_text(value: Fraction) -> str | None:
    """``value`` written exactly with at most 18 decimal places, or None when it cannot be (or
    is 10^15 or more: beyond what the query compares exactly)."""
    if abs(value) >= _LARGEST:
        return None
    scaled = value * _SCALE
    if scaled.denominator != 1:
        return None
    number = int(scaled)
    sign = "-" if number < 0 else ""
    whole, fraction = divmod(abs(number), _SCALE)
    if not fraction:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:018d}".rstrip("0")


def _special(code: str) -> bool:
    """Whether a unit is one the query does not read (a special unit, or not a unit)."""
    try:
        return parse_unit(code).is_special
    except UnitError:
        return True


def _canonical_word(text: str) -> bool:
    """Whether the OMOP reader reads ``text`` back unchanged (lower case, no blanks, ASCII)."""
    return bool(text) and text.isascii() and text == "_".join(text.lower().split())


@attrs.define
class _Group:
    """Persons sharing anchors and sections: staged in one schema, screened by one query."""

    schema: str
    anchors: dict[str, datetime.date]
    conditions: bool
    events: bool
    rows: dict[str, list[dict[str, str]]] = attrs.field(factory=dict)
    persons: dict[int, int] = attrs.field(factory=dict)  # staged person_id -> the caller's key

    def add(self, table: str, row: dict[str, str]) -> None:
        self.rows.setdefault(table, []).append(row)


class Staging:
    """Records staged for the query of ``trials`` (the trial and its what-if replacements), whose
    dictionary is ``dictionary``. :meth:`add` each record, then :meth:`run` each trial."""

    def __init__(self, trials: Sequence[Trial], dictionary: Dictionary) -> None:
        self.dictionary = dictionary
        self.usage = Usage.of(trials)
        self.groups: dict[tuple[Any, ...], _Group] = {}
        self.tokens: dict[frozenset[str], int] = {}  # the variables a code names -> its number
        self.concepts: dict[tuple[str, str], int] = {}  # (vocabulary, code) -> concept_id
        self.names: dict[int, str] = {}  # concept_id -> concept_name
        self.units: set[str] = set()
        self.connection: Any = None
        self._person = 0

    # ---- records -------------------------------------------------------------------------------

    def add(self, key: int, record: Record, anchors: Mapping[str, datetime.date]) -> str | None:
        """Stage one record (``key`` names it in :meth:`run`'s rows) with its anchors; the reason
        when it is not staged (the caller evaluates it in memory)."""
        if self.connection is not None:
            raise RuntimeError("records are added before the first run")
        try:
            rows = self._rows(record)
        except NotStaged as reason:
            return str(reason)
        # Records whose dates and sections the query reads alike share a group: the anchors the
        # criteria use, and a section's presence only when a criterion looks in it.
        days = {name: day for name, day in anchors.items() if name in self.usage.anchors}
        conditions = record.conditions is not None or "conditions" not in self.usage.sections
        events = record.events is not None or "events" not in self.usage.sections
        group_key = (tuple(sorted(days.items())), conditions, events)
        group = self.groups.get(group_key)
        if group is None:
            schema = f"staged_{len(self.groups) + 1}"
            group = self.groups[group_key] = _Group(schema, days, conditions, events)
        self._person += 1
        person = str(self._person)
        group.persons[self._person] = key
        for table, row in rows:
            group.add(table, {"person_id": person, **row})
        return None

    def _rows(self, record: Record) -> list[tuple[str, dict[str, str]]]:
        dictionary, used = self.dictionary, self.usage
        rows: list[tuple[str, dict[str, str]]] = []
        born = record.birth_date
        rows.append(
            (
                "person",
                {}
                if born is None
                else {
                    "year_of_birth": str(born.year),
                    "month_of_birth": str(born.month),
                    "day_of_birth": str(born.day),
                },
            )
        )
        facts = index_facts(record, dictionary)
        results: list[tuple[LabResult, frozenset[str]]] = []
        for result in record.labs:
            names = used.labs.intersection(dictionary.entry_names(result.name, result.code))
            if names:
                results.append((result, frozenset(names)))
        for name in sorted(used.labs):
            if name in facts:
                results.append((_flat(name, facts[name]), frozenset({name})))
        for number, (result, names) in enumerate(results, start=1):
            rows.append(("measurement", self._measurement(number, result, names)))
        for number, item in enumerate(record.conditions or (), start=1):
            rows.append(("condition_occurrence", self._occurrence(number, item, True)))
        for number, item in enumerate(record.events or (), start=1):
            rows.append(("procedure_occurrence", self._occurrence(number, item, False)))
        for name in sorted(used.facts):
            value = facts.get(name)
            if value is not None:
                rows.append((FACTS, {"variable": name, **_fact(name, value)}))
        if used.age and born is None and record.age is not None:
            rows.append((FACTS, {"kind": _AGE, "number": _number(record.age, "age")}))
        for table, row in rows:
            if table == FACTS and row.get("kind") == "quantity":
                self.units.add(row["unit"])
        return rows

    def _measurement(self, number: int, result: LabResult, names: frozenset[str]) -> dict[str, str]:
        row = {
            "measurement_id": str(number),
            "measurement_concept_id": str(self._token(names)),
            "measurement_date": result.date.isoformat() if result.date else "",
        }
        value = result.value
        if isinstance(value, Fraction):
            row["value_as_number"] = _number(value, f"{result.source}: the value")
            if result.unit is not None:
                if _special(result.unit):
                    raise NotStaged(
                        f"{result.source}: the unit {result.unit} (not converted in SQL)"
                    )
                if any(self._special_variable(name) for name in names):
                    raise NotStaged(f"{result.source}: a lab in a special unit")
                self.units.add(result.unit)
                row["unit_concept_id"] = str(self._concept("UCUM", result.unit, result.unit))
        elif isinstance(value, str):
            if not _canonical_word(value):
                raise NotStaged(
                    f"{result.source}: the word {value!r} (the OMOP reader respells it)"
                )
            row["value_as_concept_id"] = str(self._concept(_VALUES, value, value))
        else:
            raise NotStaged(f"{result.source}: a value that is neither a number nor a word")
        for column, limit in (("range_low", result.low), ("range_high", result.high)):
            if limit is not None:
                row[column] = _number(limit, f"{result.source}: {column}")
        return row

    def _special_variable(self, name: str) -> bool:
        variable = self.dictionary.lookup(name)
        return variable is not None and variable.unit is not None and variable.unit.is_special

    def _occurrence(self, number: int, item: Occurrence, condition: bool) -> dict[str, str]:
        names = set(
            self.usage.occurrences.intersection(self.dictionary.entry_set(item.name, item.code))
        )
        if item.code is not None:
            system, _, value = item.code.partition(":")
            for pattern_name, patterns in self.usage.patterns.values():
                if any(pattern.matches(system, value) for pattern in patterns):
                    names.add(pattern_name)
        if item.start is not None and item.end is not None and item.end < item.start:
            raise NotStaged(f"{item.source}: ends before it starts")
        start = item.start.isoformat() if item.start else ""
        end = item.end.isoformat() if item.end else ""
        token = str(self._token(frozenset(names)))
        if not condition:
            return {
                "procedure_occurrence_id": str(number),
                "procedure_concept_id": token,
                "procedure_date": start,
                "procedure_end_date": end,
            }
        # the status counts only as inactive or not (the evaluator's `_INACTIVE`)
        status = item.status.casefold() if item.status is not None else ""
        return {
            "condition_occurrence_id": str(number),
            "condition_concept_id": token,
            "condition_start_date": start,
            "condition_end_date": end,
            "condition_status_source_value": status if status in INACTIVE else "",
        }

    def _token(self, names: frozenset[str]) -> int:
        """The concept of the staging code that names exactly ``names``."""
        number = self.tokens.setdefault(names, len(self.tokens) + 1)
        return self._concept(SYSTEM, f"T{number}", "staged entry")

    def _concept(self, vocabulary: str, code: str, name: str) -> int:
        key = (vocabulary, code)
        found = self.concepts.get(key)
        if found is None:
            found = self.concepts[key] = len(self.concepts) + 1
            self.names[found] = name
        return found

    # ---- the database --------------------------------------------------------------------------

    def _load(self) -> None:
        duckdb = load_duckdb()
        self.connection = duckdb.connect(config=_CONFIG)
        configure(self.connection)
        columns = dict(table_columns())
        concept_rows = [
            {"concept_id": str(number), "concept_name": self.names[number],
             "vocabulary_id": vocabulary, "concept_code": code}
            for (vocabulary, code), number in self.concepts.items()
        ]  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="critlang-staged-") as folder:
            for group in self.groups.values():
                self.connection.execute(f"CREATE SCHEMA {_name(group.schema)}")
                for table, names in columns.items():
                    rows = concept_rows if table == "concept" else group.rows.get(table, [])
                    typed = dict.fromkeys(names, "VARCHAR")
                    self._table(Path(folder), group.schema, table, typed, rows)
                self._table(
                    Path(folder), group.schema, FACTS, _FACT_COLUMNS, group.rows.get(FACTS, [])
                )

    def _table(
        self,
        folder: Path,
        schema: str,
        table: str,
        columns: Mapping[str, str],
        rows: Sequence[Mapping[str, str]],
    ) -> None:
        qualified = f"{_name(schema)}.{_name(table)}"
        definition = ", ".join(f"{_name(name)} {kind}" for name, kind in columns.items())
        self.connection.execute(f"CREATE TABLE {qualified} ({definition})")
        if not rows:
            return
        file = folder / f"{schema}.{table}.csv"
        with file.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(columns), restval="")
            writer.writeheader()
            writer.writerows(rows)
        types = ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items())
        self.connection.execute(
            f"INSERT INTO {qualified} SELECT * FROM read_csv(?, header = true, "
            "auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            f"columns = {{{types}}})",
            [str(file)],
        )

    def run(self, trial: Trial) -> dict[int, SqlRow]:
        """``trial``'s query over every group: each staged record's row, by its key."""
        if self.connection is None:
            self._load()
        criteria = self._criteria(trial)
        found: dict[int, SqlRow] = {}
        duckdb = load_duckdb()
        for group in self.groups.values():
            options = Options(
                anchors=group.anchors,
                units=tuple(sorted(self.units)),
                conditions=group.conditions,
                events=group.events,
                # Staged ids are whole numbers: a person's rows numbered from 1 in each table,
                # one person row per person, one concept per code.
                unique=frozenset(ID_COLUMNS),
            )
            query = StagedGenerator(criteria, trial.dictionary, options, group.schema).query()
            text = qualify_tables(query, group.schema).sql(dialect="duckdb", copy=False)
            try:
                rows = self.connection.execute(text).fetchall()
            except duckdb.Error as error:
                raise CritlangError(
                    f"DuckDB could not run the query over the staged records ({error})"
                ) from error
            for row in rows:
                key = group.persons[int(row[0])]
                found[key] = SqlRow(key, str(row[1]), tuple(row[2:]))
        return found

    def _criteria(self, trial: Trial) -> list[ir.CheckedCriterion]:
        """The trial's criteria with each variable coded by the staging codes that name it."""
        codes: dict[str, list[CodePattern]] = {}
        for names, number in self.tokens.items():
            for name in names:
                codes.setdefault(name, []).append(CodePattern(system=SYSTEM, code=f"T{number}"))
        patterns = {
            key: Variable(name=name, kind="condition", codes=tuple(codes.get(name, ())))
            for key, (name, _) in self.usage.patterns.items()
        }
        made: dict[str, Variable] = {}

        def coded(variable: Variable) -> Variable:
            if variable.kind == "fact":
                return variable  # facts are read from the staged facts, not by code
            found = made.get(variable.name)
            if found is None:
                found = made[variable.name] = attrs.evolve(
                    variable, codes=tuple(codes.get(variable.name, ()))
                )
            return found

        memo: dict[int, Any] = {}
        return [_rewrite(criterion, coded, patterns, memo) for criterion in trial.criteria]

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def queries(self) -> int:
        """Queries per trial: one per group."""
        return len(self.groups)


def _name(text: str) -> str:
    return exp.to_identifier(text, quoted=True).sql(dialect="duckdb")


def _number(value: Fraction, what: str) -> str:
    text = decimal_text(value)
    if text is None:
        raise NotStaged(f"{what} {value} (more than 18 decimal places, or 10^15 or more)")
    return text


def _flat(name: str, value: object) -> LabResult:
    """A fact standing for an undated result of the lab ``name`` (the evaluator's
    ``_flat_result``)."""
    if isinstance(value, tuple):
        number, unit = value
        return LabResult(
            name=name, code=None, value=number, unit=unit, date=None, low=None, high=None,
            source=name,
        )  # fmt: skip
    if not isinstance(value, Fraction | str):
        raise NotStaged(f"{name}: a value that is neither a number nor a word")
    return LabResult(
        name=name, code=None, value=value, unit=None, date=None, low=None, high=None, source=name
    )


def _fact(name: str, value: object) -> dict[str, str]:
    """One fact as a row of the staged facts (its kind and value)."""
    if isinstance(value, bool):
        return {"kind": "boolean", "flag": "true" if value else "false"}
    if isinstance(value, Fraction):
        return {"kind": "number", "number": _number(value, f"{name}:")}
    if isinstance(value, tuple) and len(value) == 2:
        number, unit = value
        if not isinstance(number, Fraction) or not isinstance(unit, str) or _special(unit):
            raise NotStaged(f"{name}: a quantity in {unit} (not converted in SQL)")
        return {"kind": "quantity", "number": _number(number, f"{name}:"), "unit": unit}
    if isinstance(value, str):
        if not value:
            raise NotStaged(f"{name}: an empty word")
        return {"kind": "symbol", "symbol": value, "folded": value.casefold()}
    if isinstance(value, datetime.date):
        return {"kind": "date", "day": value.isoformat()}
    raise NotStaged(f"{name}: a value of a kind the staged facts do not hold")


# ---- the query over the staged facts ------------------------------------------------------------

_KINDS = {"quantity", "number", "symbol", "boolean", "date"}


class StagedGenerator(SqlGenerator):
    """The query over staged records: as over OMOP, but every fact (``sex`` included) is read
    from the staged facts of schema ``schema``, typed as the record gave it, and ``age`` falls
    back on an age the record gives without a birth date (the evaluator's reading of a record)."""

    def __init__(
        self,
        criteria: Sequence[ir.CheckedCriterion],
        dictionary: Dictionary,
        options: Options,
        schema: str,
    ) -> None:
        super().__init__(criteria, dictionary, options)
        self.schema = schema

    def _staged(self, kind: str, variable: str | None = None) -> str:
        """The relation of each person's staged fact ``variable`` (or age)."""

        def build() -> exp.Expr:
            table = exp.Table(
                this=exp.to_identifier(FACTS, quoted=True),
                db=exp.to_identifier(self.schema, quoted=True),
            )
            column = "variable" if variable is not None else "kind"
            wanted = sql.text(variable if variable is not None else kind)
            return (
                exp.select(*(sql.column(name, "f") for name in _FACT_COLUMNS), copy=False)
                .from_(exp.alias_(table, "f", table=True, copy=False), copy=False)
                .where(exp.EQ(this=sql.column(column, "f"), expression=wanted), copy=False)
            )

        return self._relation(("staged", kind, variable), build)

    def facttruth_sql(self, node: ir.FactTruth) -> str:
        row = self._staged("fact", node.variable.name)
        boolean = exp.EQ(this=sql.column("kind", row), expression=sql.text("boolean"))
        return self._truth(truth.case((boolean, sql.column("flag", row)), default=truth.unknown()))

    def factvalue_sql(self, node: ir.FactValue, question: Question) -> exp.Expr:
        """The planner's ``_value_factvalue`` over the staged fact, then ``question``."""
        kind = node.type.kind
        row = self._staged("fact", node.variable.name)
        if kind not in _KINDS:
            return exp.false() if isinstance(question, Known) else truth.unknown()
        readable: exp.Expr = exp.EQ(this=sql.column("kind", row), expression=sql.text(kind))
        number, symbol = sql.column("number", row), sql.column("symbol", row)
        if kind == "number" and node.type.integer:
            whole = exp.EQ(this=number.copy(), expression=exp.Floor(this=number.copy()))
            readable = truth.and_(readable, whole)
        if kind == "symbol" and node.variable.symbols:
            symbols = [sql.text(item) for item in sorted(node.variable.symbols)]
            readable = truth.and_(readable, exp.In(this=symbol.copy(), expressions=symbols))
        if isinstance(question, Known):
            return truth.is_true(readable)
        return truth.case((readable, self._fact_test(node, row, question)), default=truth.unknown())

    def _fact_test(self, node: ir.FactValue, row: str, question: Question) -> exp.Expr:
        kind = node.type.kind
        name = node.variable.name
        if isinstance(question, Members):
            if kind != "symbol":
                raise Unsupported(f"`in {{…}}` on the fact {name}")
            members = [sql.text(member) for member in sorted(question.members)]
            inside = exp.In(this=sql.column("folded", row), expressions=members)
            return truth.case(
                (inside, truth.decided(not question.negated)),
                default=truth.decided(question.negated),
            )
        if not isinstance(question, Compare):
            raise Unsupported(f"this use of the fact {name}")
        threshold = question.threshold
        if kind == "quantity":
            branches = [
                (
                    exp.EQ(this=sql.column("unit", row), expression=sql.text(reading.code)),
                    labs.quantity_test(sql.column("number", row), reading.unit, question),
                )
                for reading in fact_readings(self.options.units)
            ]
            return truth.case(*branches, default=truth.unknown())
        if kind == "number":
            return labs.number_test(sql.column("number", row), question)
        if kind == "symbol":
            if isinstance(threshold, str) and question.operator in ("=", "!="):
                return sql.compare(
                    sql.column("symbol", row), question.operator, sql.text(threshold)
                )
            raise Unsupported(f"this comparison of the fact {name}")
        if kind == "boolean" and isinstance(threshold, bool):
            return sql.compare(sql.column("flag", row), question.operator, truth.decided(threshold))
        if kind == "date" and isinstance(threshold, datetime.date):
            return sql.compare(sql.column("day", row), question.operator, sql.date(threshold))
        raise Unsupported(f"this comparison of the fact {name}")

    def age_sql(self, node: ir.Age, question: Question) -> exp.Expr:
        """Completed years from the birth date; without one, the age the record gives (for
        the age at screening only, as the evaluator reads it)."""
        from_birth = super().age_sql(node, question)
        if node.anchor != "screening":
            return from_birth
        age = sql.column("number", self._staged(_AGE))
        born = sql.not_null(sql.column("birth_date", "p"))
        if isinstance(question, Known):
            return truth.case((born, from_birth), default=sql.not_null(age))
        assert isinstance(question, Compare)  # the generator refuses the rest above
        given = truth.case(
            (sql.not_null(age.copy()), labs.quantity_test(age.copy(), _YEARS, question)),
            default=truth.unknown(),
        )
        return truth.case((born.copy(), from_birth), default=given)


__all__ = ["SYSTEM", "NotStaged", "StagedGenerator", "Staging", "Usage", "decimal_text"]
