"""Checked criteria -> one SQL query over the OMOP CDM, built as sqlglot expression trees.

:class:`SqlGenerator` has one method per IR node, named after it (``comparison_sql``,
``labselection_sql`` …) and found by the node's class name, as the planner
(:mod:`critlang.eval.plan`, the reference semantics) finds its own; a node without a method is
refused with a :class:`~critlang.errors.CritlangError` naming the construct and the criterion.

A condition becomes a column holding a nullable BOOLEAN (NULL: UNKNOWN). A leaf reads one row
per person from a common table expression of its own (the selected lab result, the occurrences
found) joined to ``persons``; connectives are columns of later layers (``truth_1``,
``truth_2`` …) that name their operands' columns, so nothing is repeated however deep the
nesting. Text from the criteria file never becomes SQL text: codes, units, thresholds and dates
are literals and criterion ids quoted identifiers, made by sqlglot's constructors; every
internal name is generated here.

Anchors are constants: the screening date (``as_of``) and any other anchor given are baked into
the query as date literals, and each window's dates are worked out here by the planner's own
function, so the calendar arithmetic is the evaluator's.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction

import attrs
from sqlglot import exp

from critlang.errors import CritlangError
from critlang.eval.plan import Unknown, _sections, _window_bounds, shift
from critlang.semantics import ir
from critlang.semantics.dictionary import FACT, Dictionary, Variable
from critlang.sql import expressions as sql
from critlang.sql import labs, occurrences, source, truth
from critlang.sql.questions import (
    AgainstLimit,
    Compare,
    Known,
    Members,
    Question,
    Unsupported,
    comparison,
)
from critlang.sql.units import FLIPPED, fact_readings, parses
from critlang.units import parse_unit

Bounds = occurrences.Bounds
_YEARS = parse_unit("a")
_DAY_ZERO = datetime.date(1, 1, 1)  # where the planner puts an undated result


@attrs.frozen
class Options:
    """What the query is compiled for: the anchor dates (lower-case names), the unit codes it
    knows, whether the export has a conditions and an events section, the types of its
    columns (``kinds``) and the tables whose ids it keeps unique (``unique``: see
    :func:`critlang.sql.compile_query`)."""

    anchors: Mapping[str, datetime.date]
    units: tuple[str, ...]
    conditions: bool = True
    events: bool = True
    kinds: source.Kinds = attrs.field(factory=dict)
    unique: frozenset[str] = frozenset()


class SqlGenerator:
    """Compiles a trial's checked criteria into one query (see the module docstring)."""

    def __init__(
        self, criteria: Sequence[ir.CheckedCriterion], dictionary: Dictionary, options: Options
    ) -> None:
        self.criteria = criteria
        self.dictionary = dictionary
        self.options = options
        self._ctes: list[tuple[str, exp.Expr]] = []
        self._layers: list[list[tuple[str, exp.Expr]]] = [[]]
        self._layer_of: dict[str, int] = {}
        self._relations: dict[object, str] = {}
        self._deaths = False

    # ---- the query -----------------------------------------------------------------------------

    def query(self) -> exp.Select:
        """The whole query: one row per person, ``person_id``, ``verdict``, an outcome column
        per criterion (named by its id)."""
        query, ctes = self._compiled()
        sources = source.source_ctes(
            self.dictionary,
            deaths=self._deaths,
            kinds=self.options.kinds,
            unique=self.options.unique,
        )
        return _with(query, [*sources, *ctes])

    def duckdb_text(self) -> str:
        """:meth:`query` as DuckDB SQL text, its OMOP tables unqualified: the source templates
        put in as written (see :func:`~critlang.sql.source.duckdb_source_ctes`), the rest
        printed by sqlglot."""
        query, ctes = self._compiled()
        sources = source.duckdb_source_ctes(
            self.dictionary,
            deaths=self._deaths,
            kinds=self.options.kinds,
            unique=self.options.unique,
        )
        compiled = _with(query, ctes).sql(dialect="duckdb", copy=False)
        head, _, rest = compiled.partition(" ")
        if head.upper() != "WITH":  # always: the layers are common table expressions
            raise AssertionError(f"the compiled query does not start with WITH: {head!r}")
        return f"WITH {sources},\n{rest}"

    def _compiled(self) -> tuple[exp.Select, list[tuple[str, exp.Expr]]]:
        """The final select and the common table expressions compiled for the criteria (the
        leaves and the truth layers), in order; they read the source ones."""
        truths = [(criterion, self._criterion_truth(criterion)) for criterion in self.criteria]
        layers = self._layer_ctes()
        final = layers[-1][0]
        decided = [(c, t) for c, t in truths if t is not None]
        inclusions = [t for c, t in decided if c.section == "inclusion"]
        exclusions = [t for c, t in decided if c.section != "inclusion"]
        error = sql.column("conflicting", final)
        projections: list[exp.Expr] = [
            sql.column("person_id", final),
            exp.alias_(truth.verdict(inclusions, exclusions, error), "verdict", copy=False),
        ]
        for criterion, value in truths:
            outcome = truth.case(
                (error.copy(), exp.Null()),
                default=sql.text("review") if value is None else truth.outcome(value),
            )
            column_name = exp.to_identifier(criterion.id, quoted=True)
            projections.append(exp.alias_(outcome, column_name, copy=False))
        query = (
            exp.select(*projections, copy=False)
            .from_(sql.table(final), copy=False)
            .order_by(sql.column("person_id", final), copy=False)
        )
        return query, [*self._ctes, *layers]

    def _criterion_truth(self, criterion: ir.CheckedCriterion) -> exp.Expr | None:
        if criterion.condition is None:
            return None
        try:
            return sql.column(self.condition_sql(criterion.condition))
        except Unsupported as error:
            raise CritlangError(
                f"criterion {criterion.id}: the SQL backend does not support {error} yet"
            ) from None

    def _layer_ctes(self) -> list[tuple[str, exp.Expr]]:
        """``truth_0``: each person with the leaves' columns, every leaf relation joined; then
        one CTE per later layer, each adding its columns to the previous one's."""
        base = exp.select(
            sql.column("person_id", "p"), sql.column("conflicting", "p"), copy=False
        ).from_(sql.table("persons", "p"), copy=False)
        for name in self._relations.values():
            on = exp.EQ(this=sql.column("person_id", name), expression=sql.column("person_id", "p"))
            base = base.join(sql.table(name), on=on, join_type="left", copy=False)
        layers = [base.select(*_aliased(self._layers[0]), copy=False)]
        for index, layer in enumerate(self._layers[1:], start=1):
            step = exp.select(exp.Star(), *_aliased(layer), copy=False)
            layers.append(step.from_(sql.table(f"truth_{index - 1}"), copy=False))
        return [(f"truth_{index}", layer) for index, layer in enumerate(layers)]

    # ---- truth columns and leaf relations ------------------------------------------------------

    def _truth(self, value: exp.Expr, operands: Sequence[str] = ()) -> str:
        """A new truth column, one layer above its operands' (a leaf: layer 0)."""
        layer = 1 + max((self._layer_of[name] for name in operands), default=-1)
        while len(self._layers) <= layer:
            self._layers.append([])
        name = f"t{len(self._layer_of) + 1}"
        self._layers[layer].append((name, value))
        self._layer_of[name] = layer
        return name

    def _relation(self, key: object, build: Callable[[], exp.Expr]) -> str:
        """A per-person CTE (``person_id`` and its columns), made once for ``key``."""
        name = self._relations.get(key)
        if name is None:
            name = self._relations[key] = f"leaf_{len(self._relations) + 1}"
            self._ctes.append((name, build()))
        return name

    # ---- conditions ----------------------------------------------------------------------------

    def condition_sql(self, node: ir.Condition) -> str:
        """The name of the truth column of ``node``."""
        method = getattr(self, f"{type(node).__name__.lower().rstrip('_')}_sql", None)
        if method is None:
            raise Unsupported(f"`{_describe(node)}`")
        name: str = method(node)
        return name

    def constant_sql(self, node: ir.Constant) -> str:
        return self._truth(truth.decided(node.value))

    def definedcondition_sql(self, node: ir.DefinedCondition) -> str:
        return self.condition_sql(node.body)

    def all_sql(self, node: ir.All) -> str:
        names = [self.condition_sql(item) for item in node.items]
        return self._truth(truth.kleene_and([sql.column(name) for name in names]), names)

    def any_sql(self, node: ir.Any_) -> str:
        names = [self.condition_sql(item) for item in node.items]
        return self._truth(truth.kleene_or([sql.column(name) for name in names]), names)

    def negation_sql(self, node: ir.Negation) -> str:
        name = self.condition_sql(node.item)
        return self._truth(truth.kleene_not(sql.column(name)), [name])

    def implication_sql(self, node: ir.Implication) -> str:
        names = [self.condition_sql(node.premise), self.condition_sql(node.conclusion)]
        premise, conclusion = (sql.column(name) for name in names)
        return self._truth(truth.implies(premise, conclusion), names)

    def branch_sql(self, node: ir.Branch) -> str:
        names = [self.condition_sql(item) for item in (node.condition, node.then, node.otherwise)]
        test, then, otherwise = (sql.column(name) for name in names)
        return self._truth(truth.branch(test, then, otherwise), names)

    def comparison_sql(self, node: ir.Comparison) -> str:
        left, right, operator = node.left, node.right, node.operator
        if isinstance(left, ir.Limit):  # `3 x ULN >= ALT` is `ALT <= 3 x ULN`
            left, right, operator = right, left, FLIPPED[operator]
        if isinstance(right, ir.Limit):
            limit = AgainstLimit(operator, right.factor, right.limit)
            return self._truth(self.value_sql(left, limit))
        if isinstance(left, ir.Literal) and not isinstance(right, ir.Literal):
            left, right, operator = right, left, FLIPPED[operator]
        if not isinstance(right, ir.Literal):
            raise Unsupported("a comparison between two values that are not literals")
        question = comparison(operator, right, node.unit, node.molar_mass)
        return self._truth(self.value_sql(left, question))

    def inrange_sql(self, node: ir.InRange) -> str:
        """Each bound checked as its own comparison (the planner's two ``_compare``); UNKNOWN
        when either is."""
        checks = []
        for operator, bound in ((">=", node.low), ("<=", node.high)):
            if bound is not None:
                check = ir.Comparison(
                    operator=operator,
                    left=node.value,
                    right=bound,
                    unit=node.unit,
                    molar_mass=None,
                    origin=node.origin,
                )
                checks.append(self.comparison_sql(check))
        columns = [sql.column(name) for name in checks]
        value = truth.case(
            (sql.any_of([truth.is_unknown(c) for c in columns]), truth.unknown()),
            (truth.is_true(truth.kleene_and(columns)), truth.decided(not node.negated)),
            default=truth.decided(node.negated),
        )
        return self._truth(value, checks)

    def inset_sql(self, node: ir.InSet) -> str:
        return self._truth(self.value_sql(node.value, Members(node.members, node.negated)))

    def presence_sql(self, node: ir.Presence) -> str:
        target = node.value
        if isinstance(target, ir.OccurrenceQuery):
            conditions_only = target.conditions_only or all(
                variable.kind == "condition" for variable in target.variables
            )
            present = self.options.conditions if conditions_only else self.options.events
            return self._truth(truth.decided(present == node.known))
        known = truth.is_true(self.value_sql(target, Known()))
        return self._truth(known if node.known else exp.Not(this=known))

    def occurs_sql(self, node: ir.Occurs) -> str:
        found = self._occurrences(node.query)
        return self._truth(truth.unknown() if found is None else found[0])

    def facttruth_sql(self, node: ir.FactTruth) -> str:
        if self._fact_source(node.variable) == "deceased":
            return self._truth(truth.known(self._deceased()))
        return self._truth(truth.unknown())  # no OMOP table gives it a true or false

    # ---- values --------------------------------------------------------------------------------

    def value_sql(self, node: ir.Value, question: Question) -> exp.Expr:
        """``question`` asked of the value ``node``: a nullable BOOLEAN."""
        method = getattr(self, f"{type(node).__name__.lower()}_sql", None)
        if method is None:
            raise Unsupported(f"`{_describe(node)}`")
        value: exp.Expr = method(node, question)
        return value

    def definedvalue_sql(self, node: ir.DefinedValue, question: Question) -> exp.Expr:
        return self.value_sql(node.body, question)

    def age_sql(self, node: ir.Age, question: Question) -> exp.Expr:
        """Completed years at the anchor, from ``person``'s birth date."""
        day = self._anchor(node.anchor)
        birth = sql.column("birth_date", "p")
        if isinstance(question, Known):
            return exp.false() if day is None else sql.not_null(birth)
        if not isinstance(question, Compare):
            raise Unsupported(f"`{_describe(node)}` used this way")
        if day is None:
            return truth.unknown()
        compared = labs.quantity_test(sql.completed_years(birth, day), _YEARS, question)
        return truth.case((sql.is_null(birth.copy()), truth.unknown()), default=compared)

    def count_sql(self, node: ir.Count, question: Question) -> exp.Expr:
        """``count(…)``: results in the window, or occurrences found (NULL when UNKNOWN)."""
        if isinstance(node.query, ir.LabSelection):
            count = self._lab_count(node.query)
        else:
            found = self._occurrences(node.query)
            count = None if found is None else found[1]
        if isinstance(question, Known):
            return exp.false() if count is None else sql.not_null(count)
        if not isinstance(question, Compare):
            raise Unsupported(f"`{_describe(node)}` used this way")
        if count is None:
            return truth.unknown()
        return truth.case(
            (sql.is_null(count.copy()), truth.unknown()), default=labs.number_test(count, question)
        )

    def labselection_sql(self, node: ir.LabSelection, question: Question) -> exp.Expr:
        """The selected result (``latest`` …), or every result (``any``, ``all``)."""
        if node.selector in ("any", "all"):
            return self._quantified(node, question)
        row = self._selection(node)
        if row is None:
            return exp.false() if isinstance(question, Known) else truth.unknown()
        found = labs.result_test(row, node.variable, question, self.options.units)
        missing = sql.is_null(sql.column("person_id", row))
        # No result, or (min, max) one that does not read: the selected value is not known.
        unknowns = [missing]
        if node.selector in ("min", "max"):
            unknowns.append(exp.EQ(this=sql.column("unreadable", row), expression=sql.number(1)))
        if isinstance(question, Known):
            return truth.case(
                *((test, exp.false()) for test in unknowns), default=truth.is_true(found)
            )
        return truth.case(*((test, truth.unknown()) for test in unknowns), default=found)

    def factvalue_sql(self, node: ir.FactValue, question: Question) -> exp.Expr:
        """A fact, from the table that gives it (None of them: UNKNOWN, as a missing fact)."""
        kind = node.type.kind
        match self._fact_source(node.variable):
            case "person":
                return self._sex_test(node.variable, kind, question)
            case "labs":
                return self._lab_fact_test(node, question)
            case "deceased" if kind == "boolean":
                return self._death_test(self._deceased(), question, node)
            case "death_date" if kind == "date":
                deaths = self._deaths_relation()
                return self._death_test(sql.column("death_date", deaths), question, node)
        return exp.false() if isinstance(question, Known) else truth.unknown()

    # ---- anchors and windows -------------------------------------------------------------------

    def _anchor(self, anchor: str | datetime.date) -> datetime.date | None:
        if isinstance(anchor, datetime.date):
            return anchor
        return self.options.anchors.get(anchor)

    def _bounds(self, window: ir.WindowSpec) -> Bounds | None:
        """The window's dates (the planner's own arithmetic), or None when UNKNOWN."""
        anchor = self._anchor(window.anchor)
        if anchor is None:
            return None
        bounds = _window_bounds(window, anchor)
        return None if isinstance(bounds, Unknown) else bounds

    # ---- labs ------------------------------------------------------------------------------------

    def _lab_filter(self, node: ir.LabSelection) -> exp.Expr | None:
        """The rows (``r``) of ``node``'s variable it may select: in its window, or on or before
        screening (within the variable's lookback); None when the window is UNKNOWN."""
        tests = [occurrences.code_matches("r", [node.variable])]
        day = sql.column("result_date", "r")
        if node.window is not None:
            bounds = self._bounds(node.window)
            if bounds is None:
                return None
            tests += [sql.not_null(day.copy()), occurrences.inside(day, bounds)]
            return sql.all_of(tests)
        screening = self.options.anchors.get("screening")
        if screening is not None:
            upper: exp.Expr = exp.LTE(this=day.copy(), expression=sql.date(screening))
            lookback = node.variable.lookback
            if lookback is not None:
                low = shift(screening, Fraction(lookback.value), lookback.unit, -1)
                upper = truth.and_(upper, exp.GTE(this=day.copy(), expression=sql.date(low)))
            tests.append(truth.or_(sql.is_null(day.copy()), exp.paren(upper)))
        return sql.all_of(tests)

    def _selection(self, node: ir.LabSelection) -> str | None:
        """The relation of each person's selected result (None: the window is UNKNOWN)."""
        where = self._lab_filter(node)
        if where is None:
            return None
        order = self._selection_order(node)
        columns: list[str | tuple[str, exp.Expr]]
        columns = ["value", "unit", "low", "high", "symbol", "is_number"]
        if node.selector in ("min", "max"):
            key = labs.size_key(node.variable, self.options.units)
            columns.append(("unreadable", labs.unreadable(key)))
        return self._relation(
            ("selection", node.variable.name, node.window, node.selector),
            lambda: sql.first_per_person("lab_rows", where, order, columns),
        )

    def _selection_order(self, node: ir.LabSelection) -> list[exp.Ordered]:
        """The selector as an ORDER BY whose first row is the one selected: ``latest`` is the
        last of the latest-dated results in record order (undated: the earliest), ``earliest``
        the first of the earliest, ``min`` the first smallest, ``max`` the last largest (the
        planner's ``_lab_results``)."""
        if node.selector in ("latest", "earliest"):
            return [sql.ordered(_dated("r"), node.selector == "latest")]
        if node.selector not in ("min", "max"):
            raise Unsupported(f"the selector `{node.selector}`")
        key = labs.size_key(node.variable, self.options.units)
        descending = node.selector == "max"
        return [sql.ordered(item, descending) for item in (key, sql.record_order("r"))]

    def _quantified(self, node: ir.LabSelection, question: Question) -> exp.Expr:
        """``any``/``all``: every result in the window is read (one that does not read makes
        it UNKNOWN, as does having none), then the question holds for one of them, or all."""
        where = self._lab_filter(node)
        if where is None:
            return exp.false() if isinstance(question, Known) else truth.unknown()
        row_test = labs.result_test("r", node.variable, question, self.options.units)
        aggregates = {
            "some_unknown": exp.Max(this=sql.flag(truth.is_unknown(row_test))),
            "some_true": exp.Max(this=sql.flag(truth.is_true(row_test))),
            "every_true": exp.Min(this=sql.flag(truth.is_true(row_test))),
        }
        name = self._relation(
            ("quantified", len(self._relations)),
            lambda: sql.per_person("lab_rows", "r", where, aggregates),
        )
        missing = sql.is_null(sql.column("person_id", name))
        unreadable = exp.EQ(this=sql.column("some_unknown", name), expression=sql.number(1))
        if isinstance(question, Known):
            return truth.case((missing, exp.false()), (unreadable, exp.false()), default=exp.true())
        holds = sql.column("some_true" if node.selector == "any" else "every_true", name)
        return truth.case(
            (missing, truth.unknown()),
            (unreadable, truth.unknown()),
            (exp.EQ(this=holds, expression=sql.number(1)), exp.true()),
            default=exp.false(),
        )

    def _lab_count(self, node: ir.LabSelection) -> exp.Expr | None:
        where = self._lab_filter(node)
        if where is None:
            return None
        name = self._relation(
            ("count", node.variable.name, node.window),
            lambda: sql.per_person("lab_rows", "r", where, {"found": exp.Count(this=exp.Star())}),
        )
        return exp.func("COALESCE", sql.column("found", name), sql.number(0))

    # ---- occurrences -----------------------------------------------------------------------------

    def _occurrences(self, query: ir.OccurrenceQuery) -> tuple[exp.Expr, exp.Expr] | None:
        """Whether ``query`` finds an occurrence (a truth) and how many it finds (NULL when
        UNKNOWN), as the planner's ``occurrences`` decides; None when UNKNOWN for everyone
        (its sections missing, or its window)."""
        conditions_only, events_only = _sections(query)
        wanted = []
        if not events_only:
            wanted.append(("conditions", self.options.conditions))
        if not conditions_only:
            wanted.append(("events", self.options.events))
        present = [name for name, has in wanted if has]
        if not present:
            return None
        bounds = None if query.window is None else self._bounds(query.window)
        if query.window is not None and bounds is None:
            return None
        if query.window is not None and query.window.kind == "at_least_before":
            assert bounds is not None
            found = self._at_least_before(query, present, bounds)
        else:
            found = self._found(query, present, bounds)
        if len(present) < len(wanted):
            return self._searched(present, found)
        return found

    def _occurrence_rows(self, query: ir.OccurrenceQuery, present: Sequence[str]) -> exp.Expr:
        """The rows (``o``) ``query`` looks at: of its variables (or codes), in the sections
        searched, not one of the excepted."""
        if query.variables:
            matched = occurrences.code_matches("o", query.variables)
        else:
            matched = occurrences.pattern_matches("o", query.codes)
        tests = [matched, occurrences.in_sections("o", present)]
        if query.excluded:
            tests.append(exp.Not(this=exp.paren(occurrences.code_matches("o", query.excluded))))
        return sql.all_of(tests)

    def _found(
        self, query: ir.OccurrenceQuery, present: Sequence[str], bounds: Bounds | None
    ) -> tuple[exp.Expr, exp.Expr]:
        flags = occurrences.flags("o", bounds, self.options.anchors.get("screening"))
        aggregates: dict[str, exp.Expr] = {name: exp.Max(this=flag) for name, flag in flags.items()}
        aggregates["found_count"] = exp.Sum(this=flags["found"].copy())
        where = self._occurrence_rows(query, present)
        name = self._relation(
            ("occurrences", id(query), bounds),
            lambda: sql.per_person("occurrence_rows", "o", where, aggregates),
        )
        found = exp.EQ(this=sql.column("found", name), expression=sql.number(1))
        doubtful = truth.or_(
            exp.EQ(this=sql.column("open_ended", name), expression=sql.number(1)),
            exp.EQ(this=sql.column("undated", name), expression=sql.number(1)),
        )
        occurs = truth.case((found, exp.true()), (doubtful, truth.unknown()), default=exp.false())
        count = truth.case(
            (found.copy(), sql.column("found_count", name)),
            (doubtful.copy(), exp.Null()),
            default=sql.number(0),
        )
        return occurs, count

    def _at_least_before(
        self, query: ir.OccurrenceQuery, present: Sequence[str], bounds: Bounds
    ) -> tuple[exp.Expr, exp.Expr]:
        """``X at least D before A``: the most recent X begun by A (the first in record order
        on a tie) ended on or before A - D (the planner's ``_at_least_before``)."""
        assert query.window is not None
        anchor = self._anchor(query.window.anchor)
        cutoff = bounds[1]
        assert anchor is not None and cutoff is not None
        end = occurrences.effective_end("o")
        where = truth.and_(
            self._occurrence_rows(query, present),
            exp.LTE(this=sql.column("start_date", "o"), expression=sql.date(anchor)),
        )
        key = exp.func("COALESCE", end, sql.date(anchor))
        order = [sql.ordered(key, True), sql.ordered(sql.record_order("o"), False)]
        name = self._relation(
            ("at_least_before", id(query), bounds),
            lambda: sql.first_per_person(
                "occurrence_rows", where, order, [("latest_end", end.copy())], alias="o"
            ),
        )
        ended = exp.LTE(this=sql.column("latest_end", name), expression=sql.date(cutoff))
        occurs = truth.case((ended, exp.true()), default=exp.false())
        count = truth.case((ended.copy(), sql.number(1)), default=sql.number(0))
        return occurs, count

    def _searched(
        self, present: Sequence[str], found: tuple[exp.Expr, exp.Expr]
    ) -> tuple[exp.Expr, exp.Expr]:
        """A section the query needs is missing: UNKNOWN unless the sections that are there
        hold at least one entry of the person's (the planner's ``searched``)."""
        name = self._relation(
            ("searched", tuple(present)),
            lambda: sql.per_person(
                "occurrence_rows",
                "o",
                occurrences.in_sections("o", present),
                {"entries": exp.Count(this=exp.Star())},
            ),
        )
        empty = sql.is_null(sql.column("entries", name))
        occurs, count = found
        return (
            truth.case((empty, truth.unknown()), default=occurs),
            truth.case((empty.copy(), exp.Null()), default=count),
        )

    # ---- facts -----------------------------------------------------------------------------------

    def _fact_source(self, variable: Variable) -> str | None:
        """Where an OMOP record's fact comes from: ``person`` (sex), ``labs`` (the latest
        result coded as the fact: ECOG, weight), ``deceased`` or ``death_date`` (``death``);
        None when no table gives it."""
        found = []
        if variable.name == "sex":
            found.append("person")
        if variable.kind == FACT and variable.codes:
            found.append("labs")
        found += [key for key in ("deceased", "death_date") if self._is_fact(key, variable)]
        if len(found) > 1:
            raise Unsupported(f"the fact {variable.name}, given by more than one OMOP table")
        return found[0] if found else None

    def _is_fact(self, key: str, variable: Variable) -> bool:
        return self.dictionary.fact_name(key) == variable.name

    def _sex_test(self, variable: Variable, kind: str, question: Question) -> exp.Expr:
        """``sex`` from ``person``: one of the variable's symbols, else UNKNOWN."""
        sex = sql.column("sex", "p")
        if kind != "symbol":
            return exp.false() if isinstance(question, Known) else truth.unknown()
        valid: exp.Expr = sql.not_null(sex)
        if variable.symbols:
            symbols = [sql.text(symbol) for symbol in sorted(variable.symbols)]
            valid = truth.and_(valid, exp.In(this=sex.copy(), expressions=symbols))
        if isinstance(question, Known):
            return valid
        if isinstance(question, Members):
            members = [sql.text(member) for member in sorted(question.members)]
            inside = exp.In(this=sex.copy(), expressions=members)
            result = truth.case(
                (inside, truth.decided(not question.negated)),
                default=truth.decided(question.negated),
            )
        elif (
            isinstance(question, Compare)
            and isinstance(question.threshold, str)
            and question.operator in ("=", "!=")
        ):
            result = sql.compare(sex.copy(), question.operator, sql.text(question.threshold))
        else:
            raise Unsupported(f"this comparison of {variable.name}")
        return truth.case((valid, result), default=truth.unknown())

    def _lab_fact_test(self, node: ir.FactValue, question: Question) -> exp.Expr:
        """A fact given by results (the latest, of any date): a quantity needs a unit, a
        number must have none, an integer be whole (the planner's ``_value_factvalue``)."""
        kind = node.type.kind
        if kind == "symbol":
            raise Unsupported(f"the qualitative fact {node.variable.name} from results")
        if kind not in ("quantity", "number"):
            return exp.false() if isinstance(question, Known) else truth.unknown()
        if not isinstance(question, Compare | Known):
            raise Unsupported(f"this use of the fact {node.variable.name}")
        row = self._latest_fact(node.variable)
        value, unit = sql.column("value", row), sql.column("unit", row)
        number = truth.and_(sql.column("is_number", row), sql.not_null(value))
        if kind == "quantity":
            branches = [
                (
                    truth.and_(
                        number.copy(), exp.EQ(this=unit.copy(), expression=sql.text(reading.code))
                    ),
                    exp.true()
                    if isinstance(question, Known)
                    else labs.quantity_test(value.copy(), reading.unit, question),
                )
                for reading in fact_readings(self.options.units)
            ]
            result = truth.case(*branches, default=truth.unknown())
        else:
            units = [sql.text(code) for code in self.options.units if parses(code)]
            # without a unit the query knows (an empty list: no IN, which PostgreSQL refuses)
            no_unit: exp.Expr = exp.true()
            if units:
                no_unit = truth.or_(
                    sql.is_null(unit.copy()),
                    exp.Not(this=exp.In(this=unit.copy(), expressions=units)),
                )
            readable = truth.and_(number, exp.paren(no_unit))
            if node.type.integer:
                whole = exp.EQ(this=value.copy(), expression=exp.Floor(this=value.copy()))
                readable = truth.and_(readable, whole)
            tested = (
                exp.true() if isinstance(question, Known) else labs.number_test(value, question)
            )
            result = truth.case((readable, tested), default=truth.unknown())
        missing = sql.is_null(sql.column("person_id", row))
        if isinstance(question, Known):
            return truth.case((missing, exp.false()), default=truth.is_true(result))
        return truth.case((missing, truth.unknown()), default=result)

    def _latest_fact(self, variable: Variable) -> str:
        order = [sql.ordered(_dated("r"), True)]
        return self._relation(
            ("fact", variable.name),
            lambda: sql.first_per_person(
                "lab_rows",
                occurrences.code_matches("r", [variable]),
                order,
                ["value", "unit", "is_number"],
            ),
        )

    def _deaths_relation(self) -> str:
        self._deaths = True
        return self._relation(
            ("deaths",),
            lambda: exp.select(sql.column("person_id"), sql.column("death_date"), copy=False).from_(
                sql.table("deaths"), copy=False
            ),
        )

    def _deceased(self) -> exp.Expr:
        """TRUE for a person with a ``death`` row; else not known (UNKNOWN)."""
        dead = sql.not_null(sql.column("person_id", self._deaths_relation()))
        return truth.case((dead, exp.true()), default=truth.unknown())

    def _death_test(self, value: exp.Expr, question: Question, node: ir.FactValue) -> exp.Expr:
        """``deceased`` or ``death_date`` compared with a literal."""
        if isinstance(question, Known):
            return sql.not_null(value)
        if not isinstance(question, Compare):
            raise Unsupported(f"this use of the fact {node.variable.name}")
        threshold = question.threshold
        if isinstance(threshold, bool):
            literal = truth.decided(threshold)
        elif isinstance(threshold, datetime.date):
            literal = sql.date(threshold)
        else:
            return truth.unknown()
        return truth.known(sql.compare(value, question.operator, literal))


def _dated(row: str) -> exp.Expr:
    """A result's date (an undated one: the first day, where the planner puts it), then its
    place in the record, as one key."""
    day = exp.func("COALESCE", sql.column("result_date", row), sql.date(_DAY_ZERO))
    return sql.dated_order(day, row)


def _with(query: exp.Select, ctes: Sequence[tuple[str, exp.Expr]]) -> exp.Select:
    for name, body in ctes:
        materialized = True if name in source.MATERIALIZED else None
        query = query.with_(name, as_=body, materialized=materialized, copy=False)
    return query


def _aliased(columns: Sequence[tuple[str, exp.Expr]]) -> list[exp.Expr]:
    return [exp.alias_(value, name, copy=False) for name, value in columns]


def _describe(node: object) -> str:
    """A node as the criteria file writes it (its kind, should the printer not know it)."""
    from critlang.syntax.printer import expression_text

    try:
        return expression_text(getattr(node, "origin", node))
    except Exception:
        return type(node).__name__
