"""The planner: checked program -> closures, compiled once and applied to many records.

Units, code sets and windows are resolved when planning; evaluating a record does no parsing and
no dictionary look-ups beyond one pass that indexes the record by variable. Conditions return a
:data:`~critlang.eval.truth.Judgement` (a truth value and, when UNKNOWN, its reasons); values
return a runtime value or :class:`Unknown`. Leaves record :class:`Evidence` as they go.

Time: whole months and years in a window are calendar months and years (``add_months`` clamps to
the month's last day); other durations are exact days, rounded up to whole days because records
are dated by day. Nothing reads the clock: anchors come from the record or from ``as_of``.
"""

from __future__ import annotations

import calendar
import datetime
import math
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any, Generic, TypeVar, overload

from critlang.data.record import LabIndex, LabResult, Occurrence, Record
from critlang.errors import UnitError
from critlang.eval import functions
from critlang.eval.functions import Quantity
from critlang.eval.result import Evidence
from critlang.eval.truth import (
    FALSE,
    TRUE,
    Judgement,
    Truth,
    kleene,
    kleene_not,
    kleene_or,
    unknown,
)
from critlang.memo import Memo
from critlang.semantics import ir
from critlang.semantics.dictionary import (
    CONDITION,
    EVENT_KINDS,
    CodePattern,
    Dictionary,
    Variable,
)
from critlang.units import Unit, conversion, molar_power, parse_unit, same_unit
from critlang.wording import UNIT_WORDS, number_text

_INACTIVE = frozenset({"inactive", "resolved", "remission", "refuted", "entered-in-error"})
_DAYS = parse_unit("d")
# "Not computed yet", where None is a value (a section the record does not have).
UNSET = object()
_DAY_ZERO = datetime.date.min
_DAY_LAST = datetime.date.max


class Unknown:
    """A value that could not be obtained, and why."""

    __slots__ = ("reasons",)

    def __init__(self, *reasons: str) -> None:
        self.reasons = reasons


RValue = Fraction | Quantity | datetime.date | str | bool | list[Quantity] | list[str]
_new_quantity = Quantity.__new__
_T = TypeVar("_T")


class _Made(Generic[_T]):
    """An attribute made by ``make`` when first read, then kept as an ordinary attribute of the
    instance (``functools.cached_property`` without its lock: an index is one evaluation's)."""

    def __init__(self, make: Callable[[Any], _T]) -> None:
        self.make = make
        self.name = make.__name__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _Made[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object, owner: type | None = None) -> _T | _Made[_T]:
        if instance is None:
            return self
        made = self.make(instance)
        setattr(instance, self.name, made)  # not through __dict__, which would make one
        return made


class RecordIndex:
    """One record, indexed by dictionary variable (by name, alias or code).

    Each section is indexed when a criterion first asks for it, so a trial that reads only facts
    never indexes the labs. A record read lazily has its labs indexed by the record itself
    (:class:`~critlang.data.record.LabIndex`): a variable's entries are read when first asked
    for, and ``latest``/``earliest`` choose among the entries' dates before any result is made.
    """

    # Each section is made when first read, then kept as an ordinary attribute of the instance
    # (_Made): read per lab, fact and search of every record screened, it costs no call after.

    def __init__(self, record: Record, dictionary: Dictionary) -> None:
        self.record = record
        self.dictionary = dictionary

    @_Made
    def labs(self) -> dict[str, list[LabResult]] | LabIndex:
        pending = self.record.pending_labs
        if pending is not None:  # read lazily: each variable's entries when first asked for
            return pending.by_variable(self.dictionary)
        labs: dict[str, list[LabResult]] = {}
        entry_names = self.dictionary.entry_names
        for result in self.record.labs:
            for name in entry_names(result.name, result.code):
                found = labs.get(name)
                if found is None:
                    labs[name] = [result]
                else:
                    found.append(result)
        return labs

    @_Made
    def facts(self) -> dict[str, Any]:
        return index_facts(self.record, self.dictionary)

    @_Made
    def events(self) -> list[tuple[Occurrence, frozenset[str]]] | None:
        return index_occurrences(self.record.events, self.dictionary)

    @_Made
    def conditions(self) -> list[tuple[Occurrence, frozenset[str]]] | None:
        return index_occurrences(self.record.conditions, self.dictionary)


def index_facts(record: Record, dictionary: Dictionary) -> dict[str, Any]:
    """The record's facts by variable name (a fact given by an alias is the variable's)."""
    facts: dict[str, Any] = {}
    # The record's top-level sex is the `sex` fact (SPEC §6 puts it beside birth_date).
    if record.sex is not None:
        facts["sex"] = record.sex.casefold()
    known = dictionary.fact_names  # the cache behind fact_name, read first: this runs per record
    for key, value in record.facts.items():
        facts[known.get(key) or dictionary.fact_name(key)] = value
    return facts


def fact_value(record: Record, dictionary: Dictionary, name: str) -> Any:
    """The record's value of one fact: ``index_facts(record, dictionary).get(name)`` without
    indexing the others."""
    value: Any = record.sex.casefold() if name == "sex" and record.sex is not None else None
    known = dictionary.fact_names
    for key, given in record.facts.items():
        if (known.get(key) or dictionary.fact_name(key)) == name:
            value = given
    return value


def index_conditions(record: Record, dictionary: Dictionary) -> IndexedOccurrences | None:
    """The record's conditions section, indexed (``None``: the record has none)."""
    return index_occurrences(record.conditions, dictionary)


def index_events(record: Record, dictionary: Dictionary) -> IndexedOccurrences | None:
    """The record's events section, indexed (``None``: the record has none)."""
    return index_occurrences(record.events, dictionary)


IndexedOccurrences = list[tuple[Occurrence, frozenset[str]]]


def index_occurrences(
    items: tuple[Occurrence, ...] | None, dictionary: Dictionary
) -> IndexedOccurrences | None:
    """Each occurrence with the names of the variables it stands for; ``None`` for a section
    the record does not have."""
    if items is None:
        return None
    entry_set = dictionary.entry_set
    return [(item, entry_set(item.name, item.code)) for item in items]


class Context(RecordIndex):
    """One record being evaluated, and its index; ``explain`` says whether leaves note their
    evidence."""

    memo: dict[object, object] | None = None  # values used twice, made when first needed

    def __init__(
        self,
        record: Record,
        dictionary: Dictionary,
        anchors: Mapping[str, datetime.date],
        explain: bool = True,
    ) -> None:
        # RecordIndex.__init__, inlined: this runs once per record evaluated.
        self.record = record
        self.dictionary = dictionary
        self.anchors = anchors
        self.explain = explain
        self.evidence: list[Evidence] = []


def context_with(
    record: Record,
    dictionary: Dictionary,
    anchors: Mapping[str, datetime.date],
    facts: object,
    conditions: object,
    events: object,
) -> Context:
    """A context (without evidence) that takes over the sections already indexed (``UNSET``
    for those that are not): compiled code makes one only when a planner closure needs it."""
    ctx = Context(record, dictionary, anchors, False)
    # Kept where a section made is kept: the instance's own attribute (see RecordIndex).
    if facts is not UNSET:
        ctx.facts = facts  # type: ignore[assignment]
    if conditions is not UNSET:
        ctx.conditions = conditions  # type: ignore[assignment]
    if events is not UNSET:
        ctx.events = events  # type: ignore[assignment]
    return ctx


Condition = Callable[[Context], Judgement]
# A deferred description of a leaf's result: its text and structured facts.
Describe = Callable[[], tuple[str, dict[str, Any]]]
Compared = tuple[bool, Describe]
ValueFn = Callable[[Context], "RValue | Unknown"]


# ---- dates and windows --------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Calendar arithmetic: 31 January + 1 month is the last day of February."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(day.day, last))


def shift(day: datetime.date, amount: Fraction, unit: str, sign: int) -> datetime.date:
    if unit in ("mo", "a") and amount.denominator == 1:
        months = int(amount) * (12 if unit == "a" else 1)
        return add_months(day, sign * months)
    days = conversion(unit, _DAYS).apply_exact(amount)
    return day + sign * datetime.timedelta(days=math.ceil(days))


def _anchor_date(anchor: str | datetime.date, ctx: Context) -> datetime.date | Unknown:
    if isinstance(anchor, datetime.date):
        return anchor
    day = ctx.anchors.get(anchor)
    return day if day is not None else Unknown(f"no {anchor} date in the record")


Bounds = tuple[datetime.date | None, datetime.date | None, bool]  # low, high, strict


def window_bounds(window: ir.WindowSpec) -> Callable[[Context], Bounds | Unknown]:
    """The window's dates for a record: they depend only on its anchor's date, so each anchor
    date is worked out once."""
    known: Memo[datetime.date, Bounds | Unknown] = Memo(
        lambda anchor: _window_bounds(window, anchor), 10_000
    )
    fixed, name = (
        (window.anchor, "") if isinstance(window.anchor, datetime.date) else (None, window.anchor)
    )

    def bounds(ctx: Context) -> Bounds | Unknown:
        anchor = fixed or ctx.anchors.get(name)  # as _anchor_date, without a call per record
        if anchor is None:
            return Unknown(f"no {name} date in the record")
        return known[anchor]

    return bounds


def _window_bounds(window: ir.WindowSpec, anchor: datetime.date) -> Bounds | Unknown:
    try:
        if window.kind == "before":
            return (None, anchor, True)
        if window.kind == "after":
            return (anchor, None, True)
        assert window.duration is not None and window.unit is not None
        if window.kind == "at_least_before":
            return (None, shift(anchor, window.duration, window.unit, -1), False)
        if window.side == "before":
            return (shift(anchor, window.duration, window.unit, -1), anchor, False)
        if window.side == "after":
            return (anchor, shift(anchor, window.duration, window.unit, 1), False)
        return (
            shift(anchor, window.duration, window.unit, -1),
            shift(anchor, window.duration, window.unit, 1),
            False,
        )
    except (OverflowError, ValueError):
        return Unknown(f"the window {window.describe()} falls outside the calendar")


def _inside(day: datetime.date, bounds: Bounds) -> bool:
    low, high, strict = bounds
    if strict:
        return (low is None or day > low) and (high is None or day < high)
    return (low is None or day >= low) and (high is None or day <= high)


_ONE_DAY = datetime.timedelta(days=1)
_CLOSED: dict[Bounds, tuple[datetime.date, datetime.date]] = {}


def _closed(bounds: Bounds) -> tuple[datetime.date, datetime.date]:
    """The first and last day inside ``bounds`` (``_inside(day, bounds)`` is
    ``first <= day <= last``); an empty window has its first day after its last."""
    found = _CLOSED.get(bounds)
    if found is None:
        low, high, strict = bounds
        try:
            first = datetime.date.min if low is None else low + _ONE_DAY if strict else low
            last = datetime.date.max if high is None else high - _ONE_DAY if strict else high
        except OverflowError:  # strictly after the last date there is, or before the first
            first, last = datetime.date.max, datetime.date.min
        found = (first, last)
        if len(_CLOSED) < 10_000:
            _CLOSED[bounds] = found
    return found


def _overlaps(start: datetime.date, end: datetime.date | None, bounds: Bounds) -> bool:
    low, high, strict = bounds
    if strict:
        return (high is None or start < high) and (low is None or end is None or end > low)
    return (high is None or start <= high) and (low is None or end is None or end >= low)


def _bounds_text(bounds: Bounds) -> str:
    low, high, _ = bounds
    return f"{low.isoformat() if low else '…'}..{high.isoformat() if high else '…'}"


# ---- formatting ---------------------------------------------------------------------------------


class Observed(str):
    """A qualitative lab result (``negative``) that remembers the result it came from."""

    source: LabResult | None = None


def value_text(value: object) -> str:
    if isinstance(value, Fraction):
        return number_text(value)
    if isinstance(value, Quantity):
        unit = UNIT_WORDS.get(value.unit.code, value.unit.code)
        return f"{number_text(value.value)} {unit}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(value_text(item) for item in value) + "]"
    return str(value)


class Planner:
    """Compiles checked criteria into closures."""

    def __init__(self, dictionary: Dictionary) -> None:
        self.dictionary = dictionary
        self._readers: dict[str, Callable[[LabResult], Quantity | str | Unknown]] = {}
        self._selection_keys: dict[object, int] = {}

    # ---- conditions ----------------------------------------------------------------------------

    def condition(self, node: ir.Condition, polarity: bool = True) -> Condition:
        method = getattr(self, f"_condition_{type(node).__name__.lower().rstrip('_')}")
        compiled: Condition = method(node, polarity)
        return compiled

    def _condition_constant(self, node: ir.Constant, polarity: bool) -> Condition:
        result = TRUE if node.value else FALSE
        return lambda ctx: result

    def _condition_all(self, node: ir.All, polarity: bool) -> Condition:
        items = [self.condition(item, polarity) for item in node.items]
        return lambda ctx: kleene((item(ctx) for item in items), Truth.FALSE)

    def _condition_any(self, node: ir.Any_, polarity: bool) -> Condition:
        items = [self.condition(item, polarity) for item in node.items]
        return lambda ctx: kleene((item(ctx) for item in items), Truth.TRUE)

    def _condition_negation(self, node: ir.Negation, polarity: bool) -> Condition:
        item = self.condition(node.item, not polarity)
        return lambda ctx: kleene_not(item(ctx))

    def _condition_implication(self, node: ir.Implication, polarity: bool) -> Condition:
        premise = self.condition(node.premise, not polarity)
        conclusion = self.condition(node.conclusion, polarity)
        return lambda ctx: kleene_or((kleene_not(premise(ctx)), conclusion(ctx)))

    def _condition_branch(self, node: ir.Branch, polarity: bool) -> Condition:
        test = self.condition(node.condition, polarity)
        then = self.condition(node.then, polarity)
        otherwise = self.condition(node.otherwise, polarity)
        text = _source_text(node.condition.origin)

        def branch(ctx: Context) -> Judgement:
            before = len(ctx.evidence)
            truth, reasons = test(ctx)
            # The condition's own evidence is folded into the branch's, so it is not shown twice.
            tested = [item.text for item in ctx.evidence[before:]]
            del ctx.evidence[before:]
            if truth is Truth.UNKNOWN:
                # Both branches agreeing decides it anyway; otherwise it stays UNKNOWN.
                first, second = then(ctx), otherwise(ctx)
                if first[0] is second[0] and first[0] is not Truth.UNKNOWN:
                    return first
                return unknown(*dict.fromkeys((*reasons, *first[1], *second[1])))
            taken = "then" if truth is Truth.TRUE else "else"
            if ctx.explain:
                ctx.evidence.append(
                    Evidence(
                        text=f"{text}: {'yes' if truth is Truth.TRUE else 'no'}, so the {taken} branch",
                        truth=truth.value,
                        effective="branch",
                        facts={"branch": taken, "condition": tested},
                    )
                )
            return then(ctx) if truth is Truth.TRUE else otherwise(ctx)

        return branch

    def _condition_definedcondition(self, node: ir.DefinedCondition, polarity: bool) -> Condition:
        return self.condition(node.body, polarity)

    def _record(
        self,
        ctx: Context,
        judgement: Judgement,
        polarity: bool,
        text: str | Describe,
        **facts: Any,
    ) -> Judgement:
        """Note a leaf's result when the context collects evidence; ``effective`` is its truth
        after the negations around it. ``text`` may be a function giving ``(text, facts)``, so
        that nothing is formatted when no evidence is wanted."""
        if not ctx.explain:
            return judgement
        if callable(text):
            text, more = text()
            facts = {**facts, **more}
        truth = judgement[0]
        effective = truth if polarity else ~truth
        ctx.evidence.append(
            Evidence(text=text, truth=truth.value, effective=effective.value, facts=facts)
        )
        return judgement

    def _condition_facttruth(self, node: ir.FactTruth, polarity: bool) -> Condition:
        name = node.variable.name

        def fact(ctx: Context) -> Judgement:
            value = ctx.facts.get(name)
            if value is None:
                return self._record(
                    ctx,
                    unknown(not_in_record(name)),
                    polarity,
                    f"{name}: not in the record",
                )
            if not isinstance(value, bool):
                return self._record(
                    ctx,
                    unknown(f"{name} is {value_text(value)}, not true/false"),
                    polarity,
                    f"{name}: {value_text(value)}",
                )
            return self._record(
                ctx,
                TRUE if value else FALSE,
                polarity,
                f"{name} is {value_text(value)}",
                variable=name,
                value=value,
            )

        return fact

    def _condition_occurs(self, node: ir.Occurs, polarity: bool) -> Condition:
        query = self.occurrences(node.query)
        description = node.query.describe()

        def occurs(ctx: Context) -> Judgement:
            found = query(ctx)
            if isinstance(found, Unknown):
                return self._record(
                    ctx, unknown(*found.reasons), polarity, f"{description}: unknown"
                )
            if found:
                first = found[0]
                when = first.start.isoformat() if first.start else "undated"
                return self._record(
                    ctx,
                    TRUE,
                    polarity,
                    f"{description}: yes ({first.name or first.code}, {when})",
                    found=[item.source for item in found],
                )
            return self._record(ctx, FALSE, polarity, f"{description}: none found")

        return occurs

    def _condition_presence(self, node: ir.Presence, polarity: bool) -> Condition:
        target = node.value
        text = _source_text(node.origin)

        def answer(ctx: Context, known: bool) -> Judgement:
            holds = known == node.known
            return self._record(
                ctx, TRUE if holds else FALSE, polarity, f"{text}: {'yes' if holds else 'no'}"
            )

        if isinstance(target, ir.OccurrenceQuery):
            conditions_only = target.conditions_only or all(
                v.kind == CONDITION for v in target.variables
            )

            def present_section(ctx: Context) -> Judgement:
                section = ctx.conditions if conditions_only else ctx.events
                return answer(ctx, section is not None)

            return present_section
        value = self.value(target)

        def present(ctx: Context) -> Judgement:
            return answer(ctx, not isinstance(value(ctx), Unknown))

        return present

    def _condition_inset(self, node: ir.InSet, polarity: bool) -> Condition:
        value = self.value(node.value)
        members = node.members
        label = _label(node.value)

        def in_set(ctx: Context) -> Judgement:
            found = value(ctx)
            if isinstance(found, Unknown):
                return self._record(ctx, unknown(*found.reasons), polarity, f"{label}: unknown")
            inside = str(found).casefold() in members
            result = inside != node.negated
            words = "is" if inside else "is not"
            return self._record(
                ctx,
                TRUE if result else FALSE,
                polarity,
                f"{label} {value_text(found)} {words} in {{{', '.join(sorted(members))}}}",
            )

        return in_set

    def _condition_inrange(self, node: ir.InRange, polarity: bool) -> Condition:
        checks = []
        if node.low is not None:
            checks.append(self._compare(">=", node.value, node.low, node.unit, None))
        if node.high is not None:
            checks.append(self._compare("<=", node.value, node.high, node.unit, None))
        label = _label(node.value)
        range_text = (
            _source_text(node.origin).split(" in ", 1)[-1]
            if " in " in _source_text(node.origin)
            else "the range"
        )

        def in_range(ctx: Context) -> Judgement:
            outcomes = [check(ctx) for check in checks]
            inside = True
            describe: Describe = lambda: (label, {})  # noqa: E731
            for outcome in outcomes:
                if isinstance(outcome, Unknown):
                    return self._record(
                        ctx, unknown(*outcome.reasons), polarity, f"{label}: unknown"
                    )
                result, describe = outcome
                inside = inside and result
            judgement = TRUE if inside != node.negated else FALSE
            last = describe

            def text() -> tuple[str, dict[str, Any]]:
                shown, facts = last()
                facts.pop("_suffix", None)
                return f"{shown} is {'' if inside else 'not '}in {range_text}", facts

            return self._record(ctx, judgement, polarity, text)

        return in_range

    def _condition_comparison(self, node: ir.Comparison, polarity: bool) -> Condition:
        compare = self._compare(node.operator, node.left, node.right, node.unit, node.molar_mass)
        right_text = _source_text(node.right.origin)
        left_text = _source_text(node.left.origin)

        def comparison(ctx: Context) -> Judgement:
            outcome = compare(ctx)
            if isinstance(outcome, Unknown):
                return self._record(
                    ctx,
                    unknown(*outcome.reasons),
                    polarity,
                    f"{left_text} {node.operator} {right_text}: unknown",
                )
            result, describe = outcome

            def text() -> tuple[str, dict[str, Any]]:
                shown, facts = describe()
                suffix = facts.pop("_suffix", "")
                words = comparison_words(node.operator, result)
                if formulas:
                    facts["formula"] = formulas
                    suffix += f" ({'; '.join(formulas)})"
                return f"{shown} {words} {right_text}{suffix}", facts

            return self._record(ctx, TRUE if result else FALSE, polarity, text)

        # A computed value names the formula (and its version) it was computed by.
        formulas = [
            functions.FORMULAS[side.function]
            for side in (node.left, node.right)
            if isinstance(side, ir.FunctionCall) and side.function in functions.FORMULAS
        ]
        return comparison

    # ---- comparing values ----------------------------------------------------------------------

    @staticmethod
    def threshold(
        right: ir.Value, unit: Unit | None, molar_mass: Fraction | None
    ) -> Fraction | None:
        """A literal number or quantity, in the comparison's unit (as ``_compare`` brings it), or
        ``None`` when ``right`` is not such a literal or does not convert."""
        if not isinstance(right, ir.Literal) or type(right.value) is not Fraction:
            return None
        if right.type.kind == "quantity" and unit is not None:
            assert right.type.unit is not None
            try:
                return Quantity(right.value, right.type.unit).to(unit, molar_mass=molar_mass)
            except UnitError:
                return None
        return right.value

    def _compare(
        self,
        operator: str,
        left: ir.Value,
        right: ir.Value,
        unit: Unit | None,
        molar_mass: Fraction | None,
    ) -> Callable[[Context], Compared | Unknown]:
        test = _OPERATORS[operator]
        if isinstance(right, ir.Limit) or isinstance(left, ir.Limit):
            return self._compare_limit(test, left, right)
        quantified = (
            left if isinstance(left, ir.LabSelection) and left.selector in ("any", "all") else None
        )
        left_fn, right_fn = self.value(left), self.value(right)
        label = _label(left)

        def normalise(
            found: object, what: ir.Value
        ) -> Fraction | datetime.date | str | bool | Unknown:
            if isinstance(found, Quantity):
                if unit is None:
                    return found.value
                try:
                    return found.to(unit, molar_mass=molar_mass)
                except UnitError as error:
                    return Unknown(
                        f"{_label(what)} {value_text(found)} cannot be compared in {unit.code}: {error.reason}"
                    )
            return found  # type: ignore[return-value]

        # A literal threshold is brought to the comparison's unit once, here, not per record.
        constant: object = None
        if isinstance(right, ir.Literal):
            literal = right_fn(None)  # type: ignore[arg-type]
            constant = normalise(literal, right)

        def compare(ctx: Context) -> Compared | Unknown:
            first = left_fn(ctx)
            if isinstance(first, Unknown):
                return first
            if constant is not None:
                second: object = literal
                threshold = constant
            else:
                second = right_fn(ctx)
                if isinstance(second, Unknown):
                    return second
                threshold = normalise(second, right)
            if isinstance(threshold, Unknown):
                return threshold
            if quantified is not None:
                assert isinstance(first, list)
                values = [normalise(item, left) for item in first]
                for item in values:
                    if isinstance(item, Unknown):
                        return item
                outcomes = [test(item, threshold) for item in values]
                result = any(outcomes) if quantified.selector == "any" else all(outcomes)
                selector = quantified.selector
                texts = [value_text(item) for item in first]
                return result, lambda: (
                    f"{selector} of {len(texts)} {label} results [{', '.join(texts)}]",
                    {"variable": label, "values": texts},
                )
            value = normalise(first, left)
            if isinstance(value, Unknown):
                return value
            try:
                result = test(value, threshold)
            except TypeError:
                return Unknown(
                    f"{label} {value_text(first)} cannot be compared with {value_text(second)}"
                )
            return result, lambda: (_shown(label, first), _facts(label, first, value, unit))

        return compare

    def _compare_limit(
        self, test: Callable[[Any, Any], bool], left: ir.Value, right: ir.Value
    ) -> Callable[[Context], Compared | Unknown]:
        swapped = isinstance(left, ir.Limit)
        limit, lab = (left, right) if swapped else (right, left)
        assert isinstance(limit, ir.Limit) and isinstance(lab, ir.LabSelection)
        select = self._lab_results(lab)
        read = self._reader(lab.variable)
        variable = lab.variable
        default = (
            variable.normal[1]
            if (variable.normal and limit.limit == "ULN")
            else (variable.normal[0] if variable.normal else None)
        )

        def describe_limit(
            quantity: Quantity, value: Fraction, reference: Fraction, unit: Unit, source: str
        ) -> Describe:
            def describe() -> tuple[str, dict[str, Any]]:
                bound = limit.factor * reference
                return _shown(variable.name, quantity), {
                    **_facts(variable.name, quantity, value, unit),
                    limit.limit.lower(): number_text(reference),
                    "limit_source": source,
                    "_suffix": f" ({number_text(limit.factor)} × {number_text(reference)} = {number_text(bound)} {unit.code})",
                }

            return describe

        def compare(ctx: Context) -> Compared | Unknown:
            found = select(ctx)
            if isinstance(found, Unknown):
                return found
            results = found if lab.selector in ("any", "all") else found[:1]
            outcomes = []
            describe: Describe = lambda: ("", {})  # noqa: E731
            for result in results:
                quantity = read(result)
                if isinstance(quantity, Unknown):
                    return quantity
                if not isinstance(quantity, Quantity):
                    return Unknown(f"{variable.name} {value_text(quantity)} has no {limit.limit}")
                reference = result.high if limit.limit == "ULN" else result.low
                reference_unit = quantity.unit
                source = "the result's reference range"
                if reference is None and default is not None and variable.unit is not None:
                    reference, reference_unit, source = (
                        default,
                        variable.unit,
                        "the dictionary's normal range",
                    )
                if reference is None:
                    return Unknown(
                        f"no {limit.limit} for {variable.name} ({result.source}, {_date_text(result)})"
                    )
                try:
                    value = quantity.to(reference_unit)
                except UnitError as error:
                    return Unknown(f"{variable.name} {value_text(quantity)}: {error.reason}")
                bound = limit.factor * reference
                outcomes.append(test(bound, value) if swapped else test(value, bound))
                describe = describe_limit(quantity, value, reference, reference_unit, source)
            result_value = any(outcomes) if lab.selector == "any" else all(outcomes)
            return result_value, describe

        return compare

    # ---- values --------------------------------------------------------------------------------

    def value(self, node: ir.Value) -> ValueFn:
        method = getattr(self, f"_value_{type(node).__name__.lower()}")
        compiled: ValueFn = method(node)
        return compiled

    def _value_literal(self, node: ir.Literal) -> ValueFn:
        value: RValue = node.value
        if node.type.kind == "quantity":
            assert node.type.unit is not None and isinstance(node.value, Fraction)
            value = Quantity(node.value, node.type.unit)
        return lambda ctx: value

    def _value_definedvalue(self, node: ir.DefinedValue) -> ValueFn:
        return self.value(node.body)

    def _value_factvalue(self, node: ir.FactValue) -> ValueFn:
        variable = node.variable
        name = variable.name

        kind = node.type.kind
        integer = node.type.integer

        def fact(ctx: Context) -> RValue | Unknown:
            value = ctx.facts.get(name)
            if value is None:
                return Unknown(not_in_record(name))
            if kind == "quantity":
                if isinstance(value, tuple):
                    number, unit = value
                    return Quantity(number, parse_unit(unit), source=f"facts.{name}")
                return Unknown(f"{name} {value_text(value)} has no unit")
            if kind == "number" and isinstance(value, Fraction):
                if integer and value.denominator != 1:
                    return Unknown(f"{name} {value_text(value)} is not a whole number")
                return value
            if kind == "symbol" and isinstance(value, str):
                if variable.symbols and value not in variable.symbols:
                    return Unknown(
                        f"{name} {value!r} is not one of {{{', '.join(sorted(variable.symbols))}}}"
                    )
                return value
            if kind == "boolean" and isinstance(value, bool):
                return value
            if kind == "date" and isinstance(value, datetime.date):
                return value
            return Unknown(f"{name} is {value_text(value)}, not {node.type.describe()}")

        return fact

    def _value_age(self, node: ir.Age) -> ValueFn:
        anchor = node.anchor
        years = parse_unit("a")
        # Made once, not per record: the ages as Fractions, the birth dates' texts.
        exact: Memo[int, Fraction] = Memo(Fraction, 1000)
        sources: Memo[datetime.date, str] = Memo(
            lambda born: f"birth_date {born.isoformat()}", 10_000
        )

        def age(ctx: Context) -> RValue | Unknown:
            record = ctx.record
            born = record.birth_date
            if born is None:
                if record.age is not None and anchor == "screening":
                    return Quantity(record.age, years, source="age")
                return Unknown("no birth date in the record")
            day = _anchor_date(anchor, ctx)
            if isinstance(day, Unknown):
                return day
            completed = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
            return Quantity(exact[completed], years, sources[born])

        return age

    def _value_anchordate(self, node: ir.AnchorDate) -> ValueFn:
        return lambda ctx: _anchor_date(node.anchor, ctx)

    def _value_limit(self, node: ir.Limit) -> ValueFn:  # only reached through _compare_limit
        return lambda ctx: Unknown("x ULN outside a comparison")

    def _value_count(self, node: ir.Count) -> ValueFn:
        if isinstance(node.query, ir.LabSelection):
            results = self._lab_results(node.query, allow_empty=True)
        else:
            results = self.occurrences(node.query)  # type: ignore[assignment]

        def count(ctx: Context) -> RValue | Unknown:
            found = results(ctx)
            return found if isinstance(found, Unknown) else Fraction(len(found))

        return count

    def _value_arithmetic(self, node: ir.Arithmetic) -> ValueFn:
        operands = [self.value(item) for item in node.operands]
        operator = node.operator
        result_type = node.type

        def arithmetic(ctx: Context) -> RValue | Unknown:
            values = [operand(ctx) for operand in operands]
            for value in values:
                if isinstance(value, Unknown):
                    return value
            return _arithmetic(operator, values, result_type, node.exponent)  # type: ignore[arg-type]

        return arithmetic

    def _value_functioncall(self, node: ir.FunctionCall) -> ValueFn:
        args = [self.value(arg) for arg in node.args]
        function = node.function

        def call(ctx: Context) -> RValue | Unknown:
            values = [arg(ctx) for arg in args]
            for value in values:
                if isinstance(value, Unknown):
                    return value
            try:
                return functions.call(function, values)  # type: ignore[arg-type]
            except (ValueError, ZeroDivisionError, OverflowError, UnitError) as error:
                return Unknown(f"{function}: {error}")

        return call

    def _value_labselection(self, node: ir.LabSelection) -> ValueFn:
        select_value = self.lab_value(node)
        # One record often asks for the same selection twice (ALT in both branches of an `if`).
        key = self._selection_keys.setdefault(
            (node.variable.name, node.window, node.selector), len(self._selection_keys)
        )

        def selection(ctx: Context) -> RValue | Unknown:
            memo = ctx.memo
            if memo is None:
                memo = ctx.memo = {}
            value = memo.get(key, UNSET)
            if value is UNSET:
                value = memo[key] = select_value(ctx)
            return value  # type: ignore[return-value]

        return selection

    def lab_value(self, node: ir.LabSelection) -> ValueFn:
        """The selected result read as a quantity (or symbol), or the list of them for ``any``
        and ``all``; not remembered between calls (:meth:`value` remembers it per record)."""
        select, select_dated = self._lab_selection(node)
        read = self._reader(node.variable)
        quantified = node.selector in ("any", "all")
        name = node.variable.name

        def select_value(ctx: Context) -> RValue | Unknown:
            if select_dated is not None:
                labs = ctx.labs
                if labs.__class__ is LabIndex and ctx.facts.get(name) is None:
                    chosen = select_dated(ctx, labs)
                    return chosen if chosen.__class__ is Unknown else read(chosen)  # type: ignore[arg-type]
            found = select(ctx)
            if found.__class__ is Unknown:
                return found
            if not quantified:
                return read(found[0])  # type: ignore[index]
            values = []
            for result in found:  # type: ignore[union-attr]
                quantity = read(result)
                if quantity.__class__ is Unknown:
                    return quantity
                values.append(quantity)
            return values  # type: ignore[return-value]

        return select_value

    def _reader(self, variable: Variable) -> Callable[[LabResult], Quantity | str | Unknown]:
        """How a result of ``variable`` is read: a quantity in the result's unit (an accepted
        spelling read as the variable's unit), a symbol, or UNKNOWN with the reason."""
        found = self._readers.get(variable.name)
        if found is None:
            found = self._readers[variable.name] = _reader(variable)
        return found

    def _lab_results(
        self, node: ir.LabSelection, allow_empty: bool = False
    ) -> Callable[[Context], list[LabResult] | Unknown]:
        return self._lab_selection(node, allow_empty)[0]

    def _lab_selection(
        self, node: ir.LabSelection, allow_empty: bool = False
    ) -> tuple[
        Callable[[Context], list[LabResult] | Unknown],
        Callable[[Context, LabIndex], LabResult | Unknown] | None,
    ]:
        """How ``node`` selects the results it reads; and for ``latest`` and ``earliest``, how
        it chooses from a lazily read record's entries (without reading the others) the one
        result the first would select, when the record gives no fact of that name."""
        variable = node.variable
        name = variable.name
        window = node.window
        selector = node.selector
        lookback = variable.lookback
        read = self._reader(variable)
        bounds_of = window_bounds(window) if window is not None else None
        # screening date -> the earliest result date the lookback allows
        earliest: Memo[datetime.date, datetime.date] | None = None
        if lookback is not None:
            back = lookback
            earliest = Memo(lambda day: shift(day, Fraction(back.value), back.unit, -1), 10_000)

        target = variable.unit

        def size(result: LabResult) -> Fraction | Unknown:
            """What ``min`` and ``max`` compare: the value in the variable's unit (a plain
            number as it is; a symbol, 0), or why the result cannot be read."""
            quantity = read(result)
            if isinstance(quantity, Unknown):
                return quantity
            if isinstance(quantity, Quantity) and target is not None:
                try:
                    return quantity.to(target, molar_mass=variable.molar_mass)
                except UnitError as error:
                    return Unknown(
                        f"{name} result {value_text(quantity)} ({result.source}) cannot be read "
                        f"as {target.code}: {error.reason}"
                    )
            return quantity if isinstance(quantity, Fraction) else Fraction(0)

        def lookback_start(screening: datetime.date) -> datetime.date | None:
            """The earliest result date the lookback allows."""
            return None if earliest is None else earliest[screening]

        window_text = "" if window is None else window.describe()

        def none_in_window(bounds: Bounds) -> Unknown:
            return Unknown(f"no {name} result {window_text} ({_bounds_text(bounds)})")

        def reason_by_screening(screening: datetime.date) -> str:
            where = f" on or before screening ({screening.isoformat()})" + (
                f", within {lookback.text}" if lookback else ""
            )
            return f"no {name} result{where}"

        said = Memo(reason_by_screening, 10_000)  # screening date -> the reason (said once)

        def none_by_screening(screening: datetime.date) -> Unknown:
            return Unknown(said[screening])

        by_date = selector in ("latest", "earliest")
        latest = selector == "latest"

        def select_dated(ctx: Context, labs: LabIndex) -> LabResult | Unknown:
            """``latest`` or ``earliest`` of a lazily read record: chosen among the entries'
            dates, and only the result chosen made (as :func:`select` chooses)."""
            dated = labs.dated(name)
            undated = True  # undated results count (as the earliest) when there is no window
            first, last = _DAY_ZERO, _DAY_LAST
            bounds: Bounds | None = None
            if window is not None:
                assert bounds_of is not None
                found = bounds_of(ctx)
                if isinstance(found, Unknown):
                    return found
                bounds = found
                first, last = _closed(bounds)
                undated = False
            else:
                screening = ctx.anchors.get("screening")
                if screening is not None:
                    last = screening
                    if lookback is not None:
                        first = lookback_start(screening) or _DAY_ZERO
            # The last of the latest-dated (the first of the earliest-dated), undated ones
            # counting as the earliest: as select() chooses. Mostly the latest (earliest) of
            # all is inside the bounds, and found in C: (date, index) pairs compare as that.
            if dated:
                try:
                    best = max(dated) if latest else min(dated)
                except TypeError:  # an undated entry among them: chosen below
                    best = None
                if best is not None and best[0] is not None and first <= best[0] <= last:
                    return labs.result(best[1])
            chosen, chosen_day = -1, _DAY_ZERO
            if latest:
                for day, position in dated:
                    if day is None:
                        if undated and chosen_day == _DAY_ZERO:
                            chosen = position
                    elif first <= day <= last and day >= chosen_day:
                        chosen, chosen_day = position, day
            else:
                for day, position in dated:
                    if day is None:
                        if undated and (chosen < 0 or chosen_day != _DAY_ZERO):
                            chosen, chosen_day = position, _DAY_ZERO
                    elif first <= day <= last and (chosen < 0 or day < chosen_day):
                        chosen, chosen_day = position, day
            if chosen < 0:
                if bounds is not None:
                    return none_in_window(bounds)
                screening = ctx.anchors.get("screening")
                if screening is not None:
                    return none_by_screening(screening)
                return Unknown(f"no {name} result")
            return labs.result(chosen)

        def select(ctx: Context) -> list[LabResult] | Unknown:
            index = ctx
            labs = index.labs
            flat = index.facts.get(name)
            if by_date and flat is None and labs.__class__ is LabIndex:
                chosen = select_dated(ctx, labs)
                return chosen if isinstance(chosen, Unknown) else [chosen]
            results: list[LabResult] = labs.get(name) or []
            if flat is not None:
                results = [*results, _flat_result(variable, flat)]
            if window is not None:
                assert bounds_of is not None
                bounds = bounds_of(ctx)
                if isinstance(bounds, Unknown):
                    return bounds
                first, last = _closed(bounds)
                results = [
                    r for r in results if (day := r.date) is not None and first <= day <= last
                ]
                if not results and not allow_empty:
                    return none_in_window(bounds)
            else:
                screening = ctx.anchors.get("screening")
                if screening is not None:
                    low = lookback_start(screening)
                    results = [
                        r
                        for r in results
                        if r.date is None
                        or (r.date <= screening and (low is None or r.date >= low))
                    ]
                    if not results and not allow_empty:
                        return none_by_screening(screening)
            if not results:
                return [] if allow_empty else Unknown(f"no {name} result")
            if selector == "latest":
                # The last of the latest-dated results (undated ones count as the earliest).
                best, best_day = results[0], results[0].date or _DAY_ZERO
                for result in results:
                    day = result.date or _DAY_ZERO
                    if day >= best_day:
                        best, best_day = result, day
                return [best]
            if selector == "earliest":
                best, best_day = results[0], results[0].date or _DAY_ZERO
                for result in results:
                    day = result.date or _DAY_ZERO
                    if day < best_day:
                        best, best_day = result, day
                return [best]
            if selector in ("min", "max"):
                # The first smallest, or the last largest; any result that cannot be read makes
                # the smallest (largest) one not known.
                chosen, chosen_size = results[0], size(results[0])
                if isinstance(chosen_size, Unknown):
                    return chosen_size
                smallest = selector == "min"
                for result in results[1:]:
                    found = size(result)
                    if isinstance(found, Unknown):
                        return found
                    if (found < chosen_size) if smallest else (found >= chosen_size):
                        chosen, chosen_size = result, found
                return [chosen]
            return list(results)

        return select, select_dated if by_date else None

    def occurrences(
        self, query: ir.OccurrenceQuery
    ) -> Callable[[Context], list[Occurrence] | Unknown]:
        names = frozenset(variable.name for variable in query.variables)
        excluded = query.excluded
        codes = list(query.codes)
        conditions_only, events_only = _sections(query)
        patterns = [
            ir_pattern
            for ir_pattern in (_pattern(code) for code in codes)
            if ir_pattern is not None
        ]
        window = query.window
        bounds_of = window_bounds(window) if window is not None else None

        excluded_names = frozenset(variable.name for variable in excluded)

        by_variable = bool(query.variables)

        def scan(section: list[tuple[Occurrence, frozenset[str]]], into: list[Occurrence]) -> None:
            # Each entry's names already hold every variable its name or code stands for.
            for item, item_names in section:
                if by_variable:
                    if item_names.isdisjoint(names):
                        continue
                elif item.code is None or not any(p.matches(*_split(item.code)) for p in patterns):
                    continue
                if excluded_names and not item_names.isdisjoint(excluded_names):
                    continue
                into.append(item)

        def find(ctx: Context) -> list[Occurrence] | Unknown:
            index = ctx
            missing = []
            searched = 0
            candidates: list[Occurrence] = []
            if not events_only:
                conditions = index.conditions
                if conditions is None:
                    missing.append("conditions")
                else:
                    searched += len(conditions)
                    scan(conditions, candidates)
            if not conditions_only:
                events = index.events
                if events is None:
                    missing.append("events/treatments")
                else:
                    searched += len(events)
                    scan(events, candidates)
            if missing and not searched:
                return Unknown(no_section(missing))
            if window is None:
                if not candidates:
                    return candidates
                screening = ctx.anchors.get("screening")
                return [item for item in candidates if active_or_ever(item, screening)]
            assert bounds_of is not None
            bounds = bounds_of(ctx)
            if isinstance(bounds, Unknown):
                return bounds
            undated = [item for item in candidates if item.start is None]
            if window.kind == "at_least_before":
                return _at_least_before(candidates, bounds, window, ctx)
            found = []
            open_ended = []  # resolved, but when is not known
            for item in candidates:
                if item.start is None:
                    continue
                if _ended_on_unknown_date(item) and not _inside_or_after(item.start, bounds):
                    # Began before the window and ended some time later: it may or may not
                    # reach into the window.
                    if _overlaps(item.start, None, bounds):
                        open_ended.append(item)
                    continue
                if _overlaps(item.start, _end(item), bounds):
                    found.append(item)
            if found:
                return found
            if open_ended:
                first = open_ended[0]
                return Unknown(
                    f"{first.name or first.code} ({first.source}) is {first.status} with no "
                    "abatement date, so whether it reached into the window is not known"
                )
            if undated:
                return Unknown(
                    f"{undated[0].name or undated[0].code} ({undated[0].source}) has no date"
                )
            return found

        return find


def _plausible(quantity: Quantity, variable: Variable, result: LabResult) -> Unknown | None:
    """A result outside the dictionary's plausible range (a unit slip, a typing error, a
    negative count) decides nothing: it is UNKNOWN with the reason."""
    if variable.plausible is None or variable.unit is None:
        return None
    low, high = variable.plausible
    try:
        value = quantity.to(variable.unit, molar_mass=variable.molar_mass)
    except UnitError:
        return None
    # Compared as integers: Fraction's comparison operators cost ten times more.
    numerator, denominator = value.numerator, value.denominator
    if (low is None or low.numerator * denominator <= numerator * low.denominator) and (
        high is None or numerator * high.denominator <= high.numerator * denominator
    ):
        return None
    bounds = f"{number_text(low) if low is not None else ''}..{number_text(high) if high is not None else ''}"
    return Unknown(
        f"{variable.name} result {value_text(quantity)} ({result.source}) is outside the "
        f"plausible range {bounds} {variable.unit.code}"
    )


_Limit = tuple[int, int] | None  # a bound as (numerator, denominator), or none


def _reader(variable: Variable) -> Callable[[LabResult], Quantity | str | Unknown]:
    name = variable.name
    symbolic = variable.value_type == "symbol"
    target = variable.unit
    accepts = frozenset(variable.accepts)
    molar_mass = variable.molar_mass
    checked = variable.plausible is not None and target is not None
    low_bound, high_bound = variable.plausible or (None, None)
    low = None if low_bound is None else (low_bound.numerator, low_bound.denominator)
    high = None if high_bound is None else (high_bound.numerator, high_bound.denominator)
    # unit code -> the plausible range in that unit, or None when it does not convert linearly
    limits: dict[str, tuple[_Limit, _Limit] | None] = {}
    if target is not None:
        limits[target.code] = (low, high)

    def _limits_in(unit: Unit) -> tuple[_Limit, _Limit] | None:
        assert target is not None
        try:
            factor = conversion(unit, target, molar_mass=molar_mass).factor
        except UnitError:
            return None
        if factor is None or factor <= 0:
            return None
        least = None if low_bound is None else low_bound / factor
        most = None if high_bound is None else high_bound / factor
        return (
            None if least is None else (least.numerator, least.denominator),
            None if most is None else (most.numerator, most.denominator),
        )

    units: dict[
        str, Unit | str | None
    ] = {}  # unit code -> its unit, None (other kind) or why not read

    def unit_of(code: str) -> Unit | str | None:
        """The result's unit; ``None`` when it is of another kind, or why it cannot be read (a
        record built in Python, not read by :func:`read_record`, may carry any text)."""
        unit = units.get(code, UNSET)
        if unit is UNSET:
            assert target is not None
            try:
                unit = parse_unit(code)
                # An accepted spelling (or another code for the same unit: [iU]/L for [IU]/L)
                # is read as the variable's unit.
                if code in accepts or any(same_unit(unit, other) for other in accepts):
                    unit = target
            except UnitError as error:
                unit = error.reason
            else:
                # Another kind, unless the molar mass converts it (mass <-> substance).
                if unit.dimension != target.dimension and (
                    molar_mass is None or molar_power(unit, target) is None
                ):
                    unit = None
            if len(units) < 1000:
                units[code] = unit
        return unit  # type: ignore[return-value]

    def read(result: LabResult) -> Quantity | str | Unknown:
        value = result.value
        if isinstance(value, str):
            if symbolic:
                observed = Observed(value)
                observed.source = result
                return observed
            return Unknown(f"{name} result {value!r} ({result.source}) is not a number")
        if symbolic:
            return Unknown(
                f"{name} result {value_text(value)} ({result.source}) is a number, expected one of {{{', '.join(sorted(variable.symbols))}}}"
            )
        if target is None:
            return value  # type: ignore[return-value]
        code = result.unit
        if code is None:
            return Unknown(f"{name} result {value_text(value)} ({result.source}) has no unit")
        unit: Any = units.get(code, UNSET)
        if unit is UNSET:
            unit = unit_of(code)
        if unit is None:
            return Unknown(
                f"{name} result in {result.unit} ({result.source}) cannot be read as {target.code}"
            )
        if unit.__class__ is str:  # why the unit cannot be read
            return Unknown(f"{name} result unit {result.unit!r} ({result.source}): {unit}")
        # Quantity(value, unit, result), without the call: this runs per lab per record.
        quantity = _new_quantity(Quantity)
        quantity.value, quantity.unit, quantity.source = value, unit, result
        if checked:
            # The plausible range in the result's unit, compared as integers; outside it (or in
            # a unit that does not convert linearly), _plausible says why.
            code = unit.code
            if code in limits:
                found = limits[code]
            else:
                found = _limits_in(unit)
                if len(limits) < 1000:
                    limits[code] = found
            if found is not None:
                numerator, denominator = value.numerator, value.denominator
                least, most = found
                if (least is None or least[0] * denominator <= numerator * least[1]) and (
                    most is None or numerator * most[1] <= most[0] * denominator
                ):
                    return quantity
            return _plausible(quantity, variable, result) or quantity
        return quantity

    return read


def _at_least_before(
    candidates: list[Occurrence],
    bounds: Bounds,
    window: ir.WindowSpec,
    ctx: Context,
) -> list[Occurrence] | Unknown:
    """``X at least D before A``: the most recent X before A ended on or before A - D."""
    anchor = _anchor_date(window.anchor, ctx)
    assert not isinstance(anchor, Unknown)
    _, cutoff, _ = bounds
    assert cutoff is not None
    before = [item for item in candidates if item.start is not None and item.start <= anchor]
    if not before:
        return []
    latest = max(before, key=lambda item: _end(item) or anchor)
    end = _end(latest)
    if end is not None and end <= cutoff:
        return [latest]
    return []


def _end(item: Occurrence) -> datetime.date | None:
    """When an occurrence ends: events without an end last one day; conditions without an
    abatement are ongoing (``None``)."""
    if item.end is not None:
        return item.end
    return None if item.condition else item.start


def _ended_on_unknown_date(item: Occurrence) -> bool:
    """A condition marked inactive or resolved whose abatement date the record does not give."""
    return (
        item.end is None
        and item.condition
        and item.status is not None
        and item.status.casefold() in _INACTIVE
    )


def _inside_or_after(day: datetime.date, bounds: Bounds) -> bool:
    """True when ``day`` is not before the window's start (an open start never is)."""
    low, _, strict = bounds
    return low is None or (day > low if strict else day >= low)


def not_in_record(name: str) -> str:
    """Why a fact is UNKNOWN when the record does not give it."""
    return f"{name} is not in the record"


def no_section(sections: Sequence[str]) -> str:
    """Why an occurrence is UNKNOWN when the record lacks the sections it would be in."""
    return f"the record has no {' or '.join(sections)} section"


def _sections(query: ir.OccurrenceQuery) -> tuple[bool, bool]:
    """Whether ``query`` searches only the conditions, or only the events and treatments."""
    conditions_only = query.conditions_only or all(v.kind == CONDITION for v in query.variables)
    events_only = bool(query.variables) and all(v.kind in EVENT_KINDS for v in query.variables)
    return conditions_only, events_only


def single_section(query: ir.OccurrenceQuery) -> str | None:
    """``conditions`` or ``events`` when ``query`` looks in that one section for named
    variables, with no window: whether one of them is active (or ever happened) decides it."""
    if query.window is not None or not query.variables:
        return None
    conditions_only, events_only = _sections(query)
    if conditions_only == events_only:
        return None
    return "conditions" if conditions_only else "events"


def active_or_ever(item: Occurrence, screening: datetime.date | None) -> bool:
    """An event counts whenever it was; a condition while active at screening: not inactive or
    resolved, begun on or before screening and not abated before it."""
    if not item.condition:
        return True
    if item.status is not None and item.status.casefold() in _INACTIVE:
        return False
    if screening is None:
        return True
    return (item.start is None or item.start <= screening) and (
        item.end is None or item.end >= screening
    )


def _split(code: str) -> tuple[str, str]:
    system, _, value = code.partition(":")
    return system, value


def _pattern(code: str) -> CodePattern | None:
    return CodePattern.parse(code)


def _flat_result(variable: Variable, value: Any) -> LabResult:
    if isinstance(value, tuple):
        number, unit = value
        return LabResult(
            name=variable.name,
            code=None,
            value=number,
            unit=unit,
            date=None,
            low=None,
            high=None,
            source=variable.name,
        )
    return LabResult(
        name=variable.name,
        code=None,
        value=value if isinstance(value, Fraction | str) else str(value),
        unit=None,
        date=None,
        low=None,
        high=None,
        source=variable.name,
    )


def _date_text(result: LabResult) -> str:
    return result.date.isoformat() if result.date else "undated"


def _shown(label: str, value: object) -> str:
    source = getattr(value, "source", None)
    if isinstance(source, LabResult):
        return f"{label} {value_text(value)} ({_date_text(source)})"
    return f"{label} {value_text(value)}"


def comparison_words(operator: str, result: bool) -> str:
    """``is >=``, ``is not >``; equality reads ``is`` / ``is not``."""
    if operator == "=":
        return "is" if result else "is not"
    if operator == "!=":
        return "is not" if result else "is"
    return f"is {operator}" if result else f"is not {operator}"


def _facts(label: str, original: object, converted: object, unit: Unit | None) -> dict[str, Any]:
    facts: dict[str, Any] = {"variable": label, "value": value_text(original)}
    if isinstance(original, Quantity):
        source = original.source
        if isinstance(source, LabResult):
            facts.update(date=_date_text(source), source=source.source)
        elif isinstance(source, str):
            facts["source"] = source
        if unit is not None and original.unit.code != unit.code and isinstance(converted, Fraction):
            facts["converted"] = f"{number_text(converted)} {unit.code}"
    return facts


def _label(node: ir.Value) -> str:
    if isinstance(node, ir.LabSelection | ir.FactValue):
        return node.variable.name
    if isinstance(node, ir.Age):
        return "age"
    return _source_text(node.origin)


def _source_text(node: object) -> str:
    from critlang.syntax.printer import expression_text

    return expression_text(node)


def _arithmetic(
    operator: str, values: Sequence[RValue], result_type: ir.VType, exponent: int
) -> RValue | Unknown:
    def magnitude(value: RValue) -> tuple[Fraction, Unit | None]:
        if isinstance(value, Quantity):
            return value.value, value.unit
        assert isinstance(value, Fraction)
        return value, None

    try:
        if operator == "neg":
            (value,) = values
            number, unit = magnitude(value)
            return Quantity(-number, unit) if unit else -number
        if operator == "^":
            (value,) = values
            number, unit = magnitude(value)
            powered = number**exponent
            return Quantity(powered, unit**exponent) if unit else powered
        (first, second), (a_unit, b_unit) = zip(*(magnitude(v) for v in values), strict=True)
        if operator in "+-":
            if a_unit is not None and b_unit is not None:
                second = conversion(b_unit, a_unit).apply_exact(second)
            total = first + second if operator == "+" else first - second
            return Quantity(total, a_unit) if a_unit else total
        one = parse_unit("1")
        unit = (
            (a_unit or one) * (b_unit or one)
            if operator == "*"
            else (a_unit or one) / (b_unit or one)
        )
        number = first * second if operator == "*" else first / second
        return Quantity(number, unit) if result_type.kind == "quantity" else number
    except ZeroDivisionError:
        return Unknown("division by zero")
    except UnitError as error:
        return Unknown(error.reason)


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
