"""Interval analysis over checked conditions: the reasoning behind the logic lint rules (CL3xx).

A condition is read as a formula over *atoms*. An atom constrains one *value* — a :class:`ValueKey`
names the same quantity wherever it is read (the same lab with the same window and selector, age
at the same anchor, a fact, a count) — to a set of values: an :class:`IntervalSet` of exact
fractions in the value's own unit (thresholds are converted with the units engine, so
``ANC >= 1500 /uL`` and ``ANC >= 1.5 x10^9/L`` are the same atom), or a finite set of symbols
(``sex = female``; a boolean fact, an event, ``is known`` are two-symbol sets). ``ALT <= 3 x ULN``
constrains the ratio ALT/ULN of that selection, so ``ALT <= 3 x ULN and ALT > 5 x ULN`` is caught;
a ratio is never compared with an absolute threshold. Anything else (``ANC > WBC``, a formula,
``any(ALT) > 3``) is an *opaque* atom: a proposition of its own, true or false.

**Normal form.** A condition is put in disjunctive normal form: a list of terms, each a conjunction
holding one constraint per value (constraints on the same value intersect, and a term with an empty
constraint is dropped). Negations are pushed to the atoms, where they complement the constraint
within the value's domain. A conjunction of several conditions (a trial's inclusions) is split into
groups that share no value, each decided on its own. A normal form that would exceed ``max_terms``
terms is not built: the question answers ``None`` ("don't know"), never a guess — unless another
part already decides it (an unsatisfiable group makes the whole conjunction unsatisfiable).

**Three values.** critlang is three-valued: a missing value makes its atoms UNKNOWN. Kleene logic
(and critlang's ``if``, which is decided when both branches agree) is monotone: if a record makes a
condition MET while some atoms are UNKNOWN, any choice of true/false for those atoms consistent with
one value per key keeps it MET. Hence the analysis can reason classically over *complete* values
(one value per key, inside the key's domain), and:

- ``satisfiable(c) is False``: no record makes ``c`` MET (complete or not);
- ``valid(c) is True``: every record whose values ``c`` reads are known makes ``c`` MET;
- ``implies(a, b) is True``: no record makes ``a`` MET and ``b`` NOT MET.

Those are the answers findings are built on, and they hold for every record the evaluator can
read. The opposite answers (``satisfiable`` True, ``valid``/``implies`` False) hold in the model,
which treats different keys as independent: two opaque atoms (events in overlapping windows), and
also two keys of one variable (``ANC`` and ``min(ANC within 7 days before treatment)``, age at
screening and at treatment). For conditions over unrelated values (no opaque atom, one key per
variable) they are exact.

**Domains** are only what the evaluator enforces: a lab result outside the dictionary's plausible
range is UNKNOWN, so a lab's value lies in that range; integer facts and age at an anchor other
than screening are whole numbers (age at screening may come from a record's ``age``, which need not
be); a symbol fact is one of its declared symbols; a qualitative lab result is any text (``=`` is
exact, ``in`` ignores case). A fact's declared range (``ECOG: integer 0..5``) is not enforced, so it
is not assumed. ``x ULN`` atoms assume the reference limit is positive, as every lab's is; ``x LLN``
comparisons are opaque, because a lower limit is often 0. Where the evaluator converts without a
molar mass (the bounds of ``in a..b``), so does the analysis: the atom is then opaque.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from fractions import Fraction
from typing import TypeAlias

import attrs

from critlang.errors import UnitError
from critlang.semantics import ir
from critlang.semantics.dictionary import Variable
from critlang.units import Unit, conversion
from critlang.wording import UNIT_WORDS, number_text

DEFAULT_MAX_TERMS = 256
SINGLE_SELECTORS = frozenset({"latest", "earliest", "min", "max"})

# ---- exact interval sets ------------------------------------------------------------------------


@attrs.frozen(cache_hash=True)
class Interval:
    """Values between ``low`` and ``high`` (``None``: unbounded), each end open or closed."""

    low: Fraction | None
    high: Fraction | None
    low_closed: bool = True
    high_closed: bool = True

    @property
    def is_empty(self) -> bool:
        if self.low is None or self.high is None:
            return False
        return self.low > self.high or (
            self.low == self.high and not (self.low_closed and self.high_closed)
        )

    @property
    def is_point(self) -> bool:
        return self.low is not None and self.low == self.high and not self.is_empty

    def contains(self, value: Fraction) -> bool:
        if self.low is not None and (
            value < self.low or (value == self.low and not self.low_closed)
        ):
            return False
        return not (
            self.high is not None
            and (value > self.high or (value == self.high and not self.high_closed))
        )


def _snap(interval: Interval) -> Interval:
    """The same whole numbers, as a closed interval (empty when there are none)."""
    low = interval.low
    if low is not None:
        low = Fraction(math.ceil(low) if interval.low_closed else math.floor(low) + 1)
    high = interval.high
    if high is not None:
        high = Fraction(math.floor(high) if interval.high_closed else math.ceil(high) - 1)
    return Interval(low, high, low is not None, high is not None)


def _lower_key(interval: Interval) -> tuple[int, Fraction, int]:
    if interval.low is None:
        return (0, Fraction(0), 0)
    return (1, interval.low, 0 if interval.low_closed else 1)


def _joins(first: Interval, second: Interval, integer: bool) -> bool:
    """Whether ``second`` (which starts no earlier) overlaps or touches ``first``."""
    if first.high is None or second.low is None:
        return True
    if integer:
        return second.low <= first.high + 1
    return second.low < first.high or (
        second.low == first.high and (first.high_closed or second.low_closed)
    )


def _later_high(first: Interval, second: Interval) -> tuple[Fraction | None, bool]:
    if first.high is None or second.high is None:
        return None, False
    if first.high != second.high:
        return (
            (first.high, first.high_closed)
            if first.high > second.high
            else (
                second.high,
                second.high_closed,
            )
        )
    return first.high, first.high_closed or second.high_closed


@attrs.frozen(cache_hash=True)
class IntervalSet:
    """A finite union of disjoint intervals, kept sorted and merged; ``integer`` sets hold whole
    numbers only (each interval closed at whole ends)."""

    intervals: tuple[Interval, ...]
    integer: bool = False

    @staticmethod
    def of(intervals: Iterable[Interval], integer: bool = False) -> IntervalSet:
        items = [_snap(item) if integer else item for item in intervals]
        items = sorted((item for item in items if not item.is_empty), key=_lower_key)
        merged: list[Interval] = []
        for item in items:
            if merged and _joins(merged[-1], item, integer):
                high, closed = _later_high(merged[-1], item)
                merged[-1] = Interval(merged[-1].low, high, merged[-1].low_closed, closed)
            else:
                merged.append(item)
        return IntervalSet(tuple(merged), integer)

    @staticmethod
    def everything(integer: bool = False) -> IntervalSet:
        return IntervalSet((Interval(None, None, False, False),), integer)

    @property
    def is_empty(self) -> bool:
        return not self.intervals

    def __bool__(self) -> bool:
        return bool(self.intervals)

    def __and__(self, other: IntervalSet) -> IntervalSet:
        pieces = []
        for a in self.intervals:
            for b in other.intervals:
                if a.low is None or (b.low is not None and b.low > a.low):
                    low, low_closed = b.low, b.low_closed
                elif b.low is None or a.low > b.low:
                    low, low_closed = a.low, a.low_closed
                else:
                    low, low_closed = a.low, a.low_closed and b.low_closed
                if a.high is None or (b.high is not None and b.high < a.high):
                    high, high_closed = b.high, b.high_closed
                elif b.high is None or a.high < b.high:
                    high, high_closed = a.high, a.high_closed
                else:
                    high, high_closed = a.high, a.high_closed and b.high_closed
                pieces.append(Interval(low, high, low_closed, high_closed))
        return IntervalSet.of(pieces, self.integer or other.integer)

    def __or__(self, other: IntervalSet) -> IntervalSet:
        return IntervalSet.of(self.intervals + other.intervals, self.integer or other.integer)

    def complement(self) -> IntervalSet:
        """Every number (whole number, for an integer set) not in this set."""
        gaps = []
        low: Fraction | None = None
        low_closed = False
        for item in self.intervals:
            if item.low is not None:
                gaps.append(Interval(low, item.low, low_closed, not item.low_closed))
            if item.high is None:
                return IntervalSet.of(gaps, self.integer)
            low, low_closed = item.high, not item.high_closed
        gaps.append(Interval(low, None, low_closed, False))
        return IntervalSet.of(gaps, self.integer)

    def __le__(self, other: IntervalSet) -> bool:
        """Subset."""
        return (self & other.complement()).is_empty

    def contains(self, value: Fraction) -> bool:
        if self.integer and value.denominator != 1:
            return False
        return any(item.contains(value) for item in self.intervals)


def _half_line(operator: str, threshold: Fraction, integer: bool) -> IntervalSet:
    """The values ``v`` with ``v operator threshold``."""
    pieces = {
        "<": [Interval(None, threshold, False, False)],
        "<=": [Interval(None, threshold, False, True)],
        ">": [Interval(threshold, None, False, False)],
        ">=": [Interval(threshold, None, True, False)],
        "=": [Interval(threshold, threshold)],
        "!=": [Interval(None, threshold, False, False), Interval(threshold, None, False, False)],
    }[operator]
    return IntervalSet.of(pieces, integer)


_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}

# ---- values and their domains -------------------------------------------------------------------

# A qualitative lab result is free text: `=` compares exactly, `in {...}` ignores case. Its domain
# is each declared symbol, each symbol in other letter case ("~negative") and anything else ("~").
_VARIANT = "~"
_OTHER = "~"
_TRUE, _FALSE = "true", "false"
_BOOLEAN = frozenset({_TRUE, _FALSE})

Constraint: TypeAlias = IntervalSet | frozenset[str]


@attrs.frozen(kw_only=True, cache_hash=True)
class ValueKey:
    """One value a record supplies: atoms with equal keys constrain the same value.

    ``identity`` decides equality; the rest says how to read and show the value: ``label`` (as a
    message names it), the numeric domain (``integer``, ``low``/``high`` bounds, ``unit``, whether
    it is a ``date`` or an ``x ULN`` ``ratio``) or the finite ``universe`` of symbols.
    """

    identity: tuple[object, ...]
    label: str = attrs.field(eq=False)
    universe: frozenset[str] | None = attrs.field(default=None, eq=False)
    integer: bool = attrs.field(default=False, eq=False)
    low: Fraction | None = attrs.field(default=None, eq=False)
    high: Fraction | None = attrs.field(default=None, eq=False)
    unit: Unit | None = attrs.field(default=None, eq=False)
    date: bool = attrs.field(default=False, eq=False)
    ratio: str | None = attrs.field(default=None, eq=False)  # "ULN"
    opaque: bool = attrs.field(default=False, eq=False)

    @property
    def numeric(self) -> bool:
        return self.universe is None

    def domain(self) -> Constraint:
        """Every value the evaluator can read for this key."""
        if self.universe is not None:
            return self.universe
        return IntervalSet.of(
            [Interval(self.low, self.high, self.low is not None, self.high is not None)],
            self.integer,
        )

    def complement(self, constraint: Constraint) -> Constraint:
        if isinstance(constraint, frozenset):
            assert self.universe is not None
            return self.universe - constraint
        domain = self.domain()
        assert isinstance(domain, IntervalSet)
        return domain & constraint.complement()

    def restrict(self, constraint: Constraint) -> Constraint:
        domain = self.domain()
        if isinstance(constraint, frozenset):
            assert isinstance(domain, frozenset)
            return domain & constraint
        assert isinstance(domain, IntervalSet)
        return domain & constraint


def _unwrap(value: ir.Value) -> ir.Value:
    while isinstance(value, ir.DefinedValue):
        value = value.body
    return value


def _window_text(window: ir.WindowSpec | None) -> str:
    return f" {window.describe()}" if window is not None else ""


def _lab_label(node: ir.LabSelection) -> str:
    name = node.variable.name
    if node.selector != "latest":
        return f"{node.selector}({name}{_window_text(node.window)})"
    return name + _window_text(node.window)


def value_key(value: ir.Value) -> ValueKey | None:
    """The key of a value read from the record, or None for constants, formulas and values that
    hold several results (``any``/``all``)."""
    value = _unwrap(value)
    if isinstance(value, ir.LabSelection):
        if value.selector not in SINGLE_SELECTORS:
            return None
        return _lab_key(value)
    if isinstance(value, ir.FactValue):
        return _fact_key(value.variable)
    if isinstance(value, ir.Age):
        anchor = value.anchor
        label = "age" if anchor == "screening" else f"age at {_anchor_text(anchor)}"
        # Age at screening may come from the record's `age`, which need not be whole.
        return ValueKey(
            identity=("age", anchor),
            label=label,
            integer=anchor != "screening",
            unit=value.type.unit,
        )
    if isinstance(value, ir.AnchorDate):
        return ValueKey(
            identity=("anchor", value.anchor), label=value.anchor, integer=True, date=True
        )
    if isinstance(value, ir.Count):
        return ValueKey(
            identity=("count", _hashable(value)),
            label=_text(value.origin),
            integer=True,
            low=Fraction(0),
        )
    return None


def _anchor_text(anchor: str | datetime.date) -> str:
    return anchor.isoformat() if isinstance(anchor, datetime.date) else anchor


def _lab_key(node: ir.LabSelection) -> ValueKey | None:
    variable = node.variable
    identity = ("lab", variable.name, node.window, node.selector)
    label = _lab_label(node)
    if variable.value_type == "symbol":
        universe = frozenset(
            {*variable.symbols, *(_VARIANT + symbol for symbol in variable.symbols), _OTHER}
        )
        return ValueKey(identity=identity, label=label, universe=universe)
    if variable.value_type == "quantity" and variable.unit is not None:
        low = high = None
        if variable.plausible is not None:
            low, high = variable.plausible
        return ValueKey(identity=identity, label=label, low=low, high=high, unit=variable.unit)
    if variable.value_type in ("number", "integer") and variable.unit is None:
        return ValueKey(identity=identity, label=label)
    return None


def _fact_key(variable: Variable) -> ValueKey | None:
    identity = ("fact", variable.name)
    label = variable.name
    kind = variable.value_type
    if kind == "symbol":
        return ValueKey(identity=identity, label=label, universe=variable.symbols)
    if kind == "boolean":
        return ValueKey(identity=identity, label=label, universe=_BOOLEAN)
    if kind in ("integer", "number"):
        return ValueKey(identity=identity, label=label, integer=kind == "integer")
    if kind == "quantity" and variable.unit is not None:
        return ValueKey(identity=identity, label=label, unit=variable.unit)
    if kind == "date":
        return ValueKey(identity=identity, label=label, integer=True, date=True)
    return None


def _ratio_key(node: ir.LabSelection, limit: str) -> ValueKey | None:
    # Only ULN: a lower limit of normal is often 0 (ALT 0..40), where `ALT >= 1 x LLN` and
    # `ALT <= 0.5 x LLN` hold together, so its ratio does not order the atoms.
    if limit != "ULN" or node.selector not in SINGLE_SELECTORS:
        return None
    if node.variable.value_type != "quantity":
        return None
    plausible = node.variable.plausible
    nonnegative = plausible is not None and plausible[0] is not None and plausible[0] >= 0
    return ValueKey(
        identity=("ratio", node.variable.name, node.window, node.selector, limit),
        label=_lab_label(node),
        low=Fraction(0) if nonnegative else None,
        ratio=limit,
    )


def _hashable(node: object) -> object:
    try:
        hash(node)
    except TypeError:
        return id(node)
    return node


def _text(node: object) -> str:
    from critlang.syntax.printer import expression_text

    try:
        return expression_text(node)
    except Exception:  # a label is best effort; the analysis never depends on it
        return type(node).__name__


def _constant(value: ir.Value) -> ir.Literal | None:
    value = _unwrap(value)
    return value if isinstance(value, ir.Literal) else None


def _threshold(
    literal: ir.Literal, key: ValueKey, unit: Unit | None, molar_mass: Fraction | None
) -> Fraction | None:
    """The literal as the evaluator compares it, brought to the key's own unit; None when that
    cannot be done exactly by a positive scale factor."""
    number = literal.value
    if key.date:
        if isinstance(number, datetime.date) and not isinstance(number, datetime.datetime):
            return Fraction(number.toordinal())
        return None
    if not isinstance(number, Fraction) or isinstance(number, bool):
        return None
    try:
        if literal.type.kind == "quantity":
            if unit is None or literal.type.unit is None:
                return None
            number = _scale(number, literal.type.unit, unit, molar_mass)
        if key.unit is None:
            # The record's value is a plain number, compared as it is.
            return number
        if unit is None:
            return None
        return _scale(number, unit, key.unit, molar_mass)
    except (UnitError, _NotLinear):
        return None


class _NotLinear(Exception):
    pass


def _scale(number: Fraction, source: Unit, target: Unit, molar_mass: Fraction | None) -> Fraction:
    if source.code == target.code:
        return number
    found = conversion(source, target, molar_mass=molar_mass)
    if found.factor is None or found.factor <= 0:
        raise _NotLinear(source.code)
    return number * found.factor


# ---- atoms --------------------------------------------------------------------------------------


@attrs.frozen
class Atom:
    """A constraint on one value: ``key`` lies in ``constraint``; ``thresholds`` are the numbers
    it was built from, in the key's unit."""

    key: ValueKey
    constraint: Constraint
    thresholds: tuple[Fraction, ...] = attrs.field(default=(), eq=False)

    @property
    def beyond_domain(self) -> bool:
        """Whether a threshold lies outside the values the key can take (``ANC >= 1500
        x10^9/L``): the implausible-threshold rule's business, not logic's."""
        low, high = self.key.low, self.key.high
        return any(
            (low is not None and value < low) or (high is not None and value > high)
            for value in self.thresholds
        )


def _opaque(node: object, label: str, identity: object | None = None) -> Atom:
    key = ValueKey(
        identity=("opaque", _hashable(node) if identity is None else identity),
        label=label,
        universe=_BOOLEAN,
        opaque=True,
    )
    return Atom(key, frozenset({_TRUE}))


# Leaf atoms by the leaf and the text it was written as (the atom's labels are printed from it):
# an editor analyses a file again after each edit, and most leaves have not changed.
_ATOMS: dict[tuple[ir.Condition, object], Atom] = {}
_ATOMS_KEPT = 20_000


def _shared_atom(node: ir.Condition) -> Atom:
    """:func:`atom` of a leaf (an opaque atom for a kind it does not know), kept per process."""
    memo_key: tuple[ir.Condition, object] | None = (node, getattr(node, "origin", None))
    try:
        found = _ATOMS.get(memo_key)  # type: ignore[arg-type]
    except TypeError:  # something in the leaf is not hashable: not kept
        found, memo_key = None, None
    if found is None:
        found = atom(node)
        if found is None:  # a node kind this analysis does not know: an opaque proposition
            found = _opaque(node, _text(getattr(node, "origin", node)))
        if memo_key is not None:
            if len(_ATOMS) >= _ATOMS_KEPT:
                _ATOMS.clear()
            _ATOMS[memo_key] = found
    return found


def atom(node: ir.Condition) -> Atom | None:
    """A leaf condition as an atom (None for the connectives and constants)."""
    if isinstance(node, ir.Comparison):
        return _comparison_atom(node) or _opaque(node, _text(node.origin))
    if isinstance(node, ir.InRange):
        return _range_atom(node) or _opaque(node, _text(node.origin))
    if isinstance(node, ir.InSet):
        return _set_atom(node) or _opaque(node, _text(node.origin))
    if isinstance(node, ir.FactTruth):
        key = _fact_key(node.variable)
        assert key is not None and key.universe == _BOOLEAN
        return Atom(key, frozenset({_TRUE}))
    if isinstance(node, ir.Occurs):
        return _opaque(node, node.query.describe(), ("occurs", _hashable(node.query)))
    if isinstance(node, ir.Presence):
        target = node.value
        label = (
            target.describe() if isinstance(target, ir.OccurrenceQuery) else _text(target.origin)
        )
        found = _opaque(node, f"{label} is known", ("presence", _hashable(target)))
        return found if node.known else Atom(found.key, frozenset({_FALSE}))
    return None


def _comparison_atom(node: ir.Comparison) -> Atom | None:
    left, right = _unwrap(node.left), _unwrap(node.right)
    operator = node.operator
    if isinstance(left, ir.Limit) or isinstance(right, ir.Limit):
        if isinstance(left, ir.Limit):
            left, right, operator = right, left, _FLIPPED[operator]
        assert isinstance(right, ir.Limit)
        if not isinstance(left, ir.LabSelection):
            return None
        key = _ratio_key(left, right.limit)
        if key is None:
            return None
        constraint = key.restrict(_half_line(operator, right.factor, False))
        return Atom(key, constraint, (right.factor,))
    key = value_key(left)
    literal = _constant(right)
    if key is None or literal is None:
        key, literal = value_key(right), _constant(left)
        operator = _FLIPPED[operator]
        if key is None or literal is None:
            return None
    if key.universe is not None:
        element = _element(literal, key)
        if element is None or operator not in ("=", "!="):
            return None
        chosen = frozenset({element})
        return Atom(key, chosen if operator == "=" else key.universe - chosen)
    threshold = _threshold(literal, key, node.unit, node.molar_mass)
    if threshold is None:
        return None
    return Atom(key, key.restrict(_half_line(operator, threshold, key.integer)), (threshold,))


def _element(literal: ir.Literal, key: ValueKey) -> str | None:
    value = literal.value
    if isinstance(value, bool):
        if key.universe != _BOOLEAN:
            return None
        return _TRUE if value else _FALSE
    if isinstance(value, str) and key.universe is not None and value in key.universe:
        return value
    return None


def _range_atom(node: ir.InRange) -> Atom | None:
    bounds = [(">=", node.low), ("<=", node.high)]
    limits = [bound for _, bound in bounds if bound is not None and isinstance(bound, ir.Limit)]
    thresholds: list[Fraction] = []
    key: ValueKey | None
    if limits:
        subject = _unwrap(node.value)
        if len(limits) != sum(bound is not None for _, bound in bounds):
            return None  # `ALT in 10 U/L..3 x ULN` mixes a ratio and an absolute bound
        if not isinstance(subject, ir.LabSelection):
            return None
        names = {limit.limit for limit in limits}
        key = _ratio_key(subject, limits[0].limit) if len(names) == 1 else None
        if key is None:
            return None
        constraint: Constraint = key.domain()
        for operator, bound in bounds:
            if isinstance(bound, ir.Limit):
                constraint = constraint & _half_line(operator, bound.factor, False)  # type: ignore[operator]
                thresholds.append(bound.factor)
    else:
        key = value_key(node.value)
        if key is None or key.universe is not None:
            return None
        constraint = key.domain()
        for operator, bound in bounds:
            if bound is None:
                continue
            literal = _constant(bound)
            threshold = (
                # The evaluator converts a range's bounds without a molar mass: so do we.
                _threshold(literal, key, node.unit, None) if literal is not None else None
            )
            if threshold is None:
                return None
            assert isinstance(constraint, IntervalSet)
            constraint = constraint & _half_line(operator, threshold, key.integer)
            thresholds.append(threshold)
    if node.negated:
        constraint = key.complement(constraint)
    return Atom(key, constraint, tuple(thresholds))


def _set_atom(node: ir.InSet) -> Atom | None:
    key = value_key(node.value)
    if key is None or key.universe is None:
        return None
    chosen = frozenset(
        element
        for element in key.universe
        if element.removeprefix(_VARIANT) in node.members and element != _OTHER
    )
    return Atom(key, key.universe - chosen if node.negated else chosen)


# ---- disjunctive normal form --------------------------------------------------------------------

Term: TypeAlias = dict[ValueKey, Constraint]


class TooComplex(Exception):
    """The normal form would exceed the size cap: the answer is "don't know"."""


def _conjoin(first: Term, second: Term) -> Term | None:
    """Both terms at once, or None when they contradict each other."""
    if len(second) > len(first):
        first, second = second, first
    merged = dict(first)
    for key, constraint in second.items():
        if key in merged:
            both: Constraint = merged[key] & constraint  # type: ignore[operator]
            if not both:
                return None
            merged[key] = both
        else:
            merged[key] = constraint
    return merged


def _term_id(term: Term) -> frozenset[tuple[ValueKey, Constraint]]:
    return frozenset(term.items())


class Analysis:
    """Normal forms and the questions asked of them, for one file: normal forms are computed
    once per node and kept (the analysis holds the nodes, so ``id`` stays theirs).

    Conjunctions are split into *components* that share no value (``age >= 18 years`` and
    ``ECOG <= 1`` are decided apart), so a trial's twenty inclusions cost twenty small normal
    forms, not one product of all of them; only a component larger than ``max_terms`` terms
    makes an answer "don't know".
    """

    def __init__(self, max_terms: int = DEFAULT_MAX_TERMS) -> None:
        self.max_terms = max_terms
        # None: the normal form exceeds the cap (that too is computed once).
        self._memo: dict[tuple[int, bool], tuple[ir.Condition, list[Term] | None]] = {}
        # One key object per value, so that terms compare keys by identity first.
        self._keys: dict[ValueKey, ValueKey] = {}
        # Each leaf's atom, read once for both polarities, and each atom's complement (files
        # repeat thresholds).
        self._atoms: dict[int, tuple[ir.Condition, Atom]] = {}
        self._complements: dict[tuple[ValueKey, Constraint], Constraint] = {}

    # ---- questions -----------------------------------------------------------------------------

    def satisfiable(self, conditions: Conditions) -> bool | None:
        """Whether some record can make every condition MET at once.

        False is sound for every record; True is exact over numbers and symbols (see the module
        docs); None when a part is too large to analyse.
        """
        forms = self._forms(_as_list(conditions), positive=True)
        return None if forms is None else self._satisfiable(forms)

    def valid(self, conditions: Conditions) -> bool | None:
        """Whether every record whose values the conditions read makes all of them MET."""
        try:
            negation = self._union(self.dnf(node, False) for node in _as_list(conditions))
        except TooComplex:
            return None
        found = self._satisfiable([negation])
        return None if found is None else not found

    def implies(self, premises: Conditions, conclusion: ir.Condition) -> bool | None:
        """True when no record makes every premise MET and ``conclusion`` NOT MET."""
        forms = self._forms(_as_list(premises), positive=True)
        negated = self._forms([conclusion], positive=False)
        if forms is None or negated is None:
            return None
        found = self._satisfiable([*forms, *negated])
        return None if found is None else not found

    def equivalent(self, first: ir.Condition, second: ir.Condition) -> bool | None:
        forward = self.implies(first, second)
        backward = self.implies(second, first)
        if forward is False or backward is False:
            return False
        return True if forward and backward else None

    def unsatisfiable_core(self, conditions: Sequence[ir.Condition]) -> list[int] | None:
        """The positions of a minimal subset of ``conditions`` that cannot all be MET together
        (dropping any one of them makes the rest satisfiable, in the model), or None when they
        can be met together or it is not known."""
        if self.satisfiable(conditions) is not False:
            return None
        kept = list(range(len(conditions)))
        for index in list(kept):
            trial = [position for position in kept if position != index]
            if self.satisfiable([conditions[p] for p in trial]) is False:
                kept = trial
        return kept

    def implying_core(
        self, premises: Sequence[ir.Condition], conclusion: ir.Condition
    ) -> list[int] | None:
        """The positions of a minimal subset of ``premises`` that still implies ``conclusion``,
        or None when the premises do not (or it is not known)."""
        if self.implies(premises, conclusion) is not True:
            return None
        kept = list(range(len(premises)))
        for index in list(kept):
            trial = [position for position in kept if position != index]
            if self.implies([premises[p] for p in trial], conclusion) is True:
                kept = trial
        return kept

    def region(self, node: ir.Condition) -> Atom | None:
        """The condition as one constraint on one value, when it is one (``age >= 18 years``,
        ``not (sex = female)``, ``age < 18 years or age > 65 years``); None otherwise."""
        try:
            terms = self.dnf(node)
        except TooComplex:
            return None
        keys = {key for term in terms for key in term}
        if len(keys) != 1 or any(not term for term in terms):
            return None
        (key,) = keys
        if key.opaque:
            return None
        constraint: Constraint | None = None
        for term in terms:
            part = term[key]
            constraint = part if constraint is None else constraint | part  # type: ignore[operator]
        assert constraint is not None
        return Atom(key, constraint)

    # ---- normal forms --------------------------------------------------------------------------

    def dnf(self, node: ir.Condition, positive: bool = True) -> list[Term]:
        """The terms of ``node`` (of its negation when ``positive`` is false); raises
        :class:`TooComplex`. The list is shared: do not change it."""
        try:
            return self._dnf(node, positive)
        except RecursionError:
            raise TooComplex("nested too deeply") from None

    def form(self, node: ir.Condition, positive: bool = True) -> list[Term] | None:
        """:meth:`dnf`, or None when the normal form is too large. Computed once per node: the
        normal form of a criterion is reused by every question asked about it."""
        try:
            return self.dnf(node, positive)
        except TooComplex:
            return None

    def _forms(self, nodes: Sequence[ir.Condition], positive: bool) -> list[list[Term]] | None:
        """Each node's normal form; None when one is too large, unless another one shows the
        conjunction unsatisfiable on its own (then that one alone is returned)."""
        forms = []
        too_complex = False
        for node in nodes:
            try:
                form = self.dnf(node, positive)
            except TooComplex:
                too_complex = True
                continue
            if not form:
                return [form]
            forms.append(form)
        return None if too_complex else forms

    def _satisfiable(self, forms: list[list[Term]]) -> bool | None:
        """Whether the conjunction of these normal forms has a term, deciding each group of
        forms that share values on its own."""
        groups = _components([form for form in forms if not any(not term for term in form)])
        unknown = False
        for group in groups:
            try:
                if not self._product(group):
                    return False
            except TooComplex:
                unknown = True
        return None if unknown else True

    def _dnf(self, node: ir.Condition, positive: bool) -> list[Term]:
        memo_key = (id(node), positive)
        found = self._memo.get(memo_key)
        if found is not None and found[0] is node:
            if found[1] is None:
                raise TooComplex(f"more than {self.max_terms} terms")
            return found[1]
        try:
            terms = self._compute(node, positive)
        except TooComplex:
            self._memo[memo_key] = (node, None)
            raise
        self._memo[memo_key] = (node, terms)
        return terms

    def _compute(self, node: ir.Condition, positive: bool) -> list[Term]:
        if isinstance(node, ir.Constant):
            return [{}] if node.value == positive else []
        if isinstance(node, ir.DefinedCondition):
            return self._dnf(node.body, positive)
        if isinstance(node, ir.Negation):
            return self._dnf(node.item, not positive)
        if isinstance(node, ir.All | ir.Any_):
            parts = [self._dnf(item, positive) for item in node.items]
            conjunctive = isinstance(node, ir.All) == positive
            return self._product(parts) if conjunctive else self._union(parts)
        if isinstance(node, ir.Implication):
            if positive:
                return self._union(
                    [self._dnf(node.premise, False), self._dnf(node.conclusion, True)]
                )
            return self._product([self._dnf(node.premise, True), self._dnf(node.conclusion, False)])
        if isinstance(node, ir.Branch):
            then = self._product([self._dnf(node.condition, True), self._dnf(node.then, positive)])
            otherwise = self._product(
                [self._dnf(node.condition, False), self._dnf(node.otherwise, positive)]
            )
            return self._union([then, otherwise])
        found = self._atom(node)
        if positive:
            constraint = found.constraint
        else:
            pair = (found.key, found.constraint)
            if pair not in self._complements:
                self._complements[pair] = found.key.complement(found.constraint)
            constraint = self._complements[pair]
        return [{found.key: constraint}] if constraint else []

    def _atom(self, node: ir.Condition) -> Atom:
        kept = self._atoms.get(id(node))
        if kept is not None and kept[0] is node:
            return kept[1]
        found = _shared_atom(node)
        key = self._keys.setdefault(found.key, found.key)
        if key is not found.key:
            found = attrs.evolve(found, key=key)
        self._atoms[id(node)] = (node, found)
        return found

    def _union(self, parts: Iterable[list[Term]]) -> list[Term]:
        seen: set[frozenset[tuple[ValueKey, Constraint]]] = set()
        terms: list[Term] = []
        for part in parts:
            for term in part:
                identity = _term_id(term)
                if identity in seen:
                    continue
                seen.add(identity)
                terms.append(term)
                if len(terms) > self.max_terms:
                    raise TooComplex(f"more than {self.max_terms} terms")
        return terms

    def _product(self, parts: Sequence[list[Term]]) -> list[Term]:
        return multiply([{}], parts, self.max_terms)


def multiply(
    terms: list[Term],
    forms: Iterable[list[Term]],
    max_terms: int,
    spend: Callable[[int], None] | None = None,
) -> list[Term]:
    """The product of ``terms`` with each form: the terms of their conjunction, empty when it
    cannot be met; :class:`TooComplex` past ``max_terms``. Forms with few terms go first, so that
    contradictions show early and the product stays small. ``spend`` is told the work each step
    will take (a caller's budget)."""
    for form in sorted(forms, key=len):
        if not terms:
            break
        if spend is not None:
            spend(len(terms) * len(form))
        seen: set[frozenset[tuple[ValueKey, Constraint]]] = set()
        combined: list[Term] = []
        for first in terms:
            for second in form:
                both = _conjoin(first, second)
                if both is None:
                    continue
                identity = _term_id(both)
                if identity in seen:
                    continue
                seen.add(identity)
                combined.append(both)
                if len(combined) > max_terms:
                    raise TooComplex(f"more than {max_terms} terms")
        terms = combined
    return terms


def sharing_groups(keys: Sequence[Iterable[ValueKey]]) -> list[list[int]]:
    """The indexes of ``keys`` grouped so that items sharing a value are in one group (union
    find), groups in order of their first item, items in order."""
    parent = list(range(len(keys)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    owner: dict[ValueKey, int] = {}
    for index, item in enumerate(keys):
        for key in item:
            if key in owner:
                parent[root(index)] = root(owner[key])
            else:
                owner[key] = index
    groups: dict[int, list[int]] = {}
    for index in range(len(keys)):
        groups.setdefault(root(index), []).append(index)
    return list(groups.values())


def _components(forms: list[list[Term]]) -> list[list[list[Term]]]:
    """The forms grouped so that forms sharing a value are in one group."""
    keys = [[key for term in form for key in term] for form in forms]
    return [[forms[index] for index in group] for group in sharing_groups(keys)]


Conditions: TypeAlias = ir.Condition | Sequence[ir.Condition]


def _as_list(conditions: Conditions) -> list[ir.Condition]:
    return list(conditions) if isinstance(conditions, Sequence) else [conditions]


def satisfiable(conditions: Conditions, *, max_terms: int = DEFAULT_MAX_TERMS) -> bool | None:
    """Whether some record can make the condition MET (a sequence: all of them at once).

    False is sound for every record; True is exact over numbers and symbols (see the module
    docs); None when the condition is too large to analyse.
    """
    return Analysis(max_terms).satisfiable(conditions)


def valid(conditions: Conditions, *, max_terms: int = DEFAULT_MAX_TERMS) -> bool | None:
    """Whether every record whose values the condition reads makes it MET."""
    return Analysis(max_terms).valid(conditions)


def implies(
    premises: Conditions, conclusion: ir.Condition, *, max_terms: int = DEFAULT_MAX_TERMS
) -> bool | None:
    """True when no record makes every premise MET and ``conclusion`` NOT MET."""
    return Analysis(max_terms).implies(premises, conclusion)


def equivalent(
    first: ir.Condition, second: ir.Condition, *, max_terms: int = DEFAULT_MAX_TERMS
) -> bool | None:
    """True when the two conditions are MET for the same complete records."""
    return Analysis(max_terms).equivalent(first, second)


# ---- redundancy ---------------------------------------------------------------------------------


@attrs.frozen
class Redundancy:
    """``item`` (a direct part of ``parent``) adds nothing, given ``because`` (other parts)."""

    parent: ir.All | ir.Any_
    item: ir.Condition
    because: tuple[ir.Condition, ...]
    bound: str | None = None  # "lower"/"upper" when only that end of a range is redundant


def _flatten(node: ir.All | ir.Any_, through_defines: bool) -> Iterator[ir.Condition]:
    """The parts of an ``and`` (``or``), with nested ``and``s (``or``s) opened."""
    for item in node.items:
        inner = item
        while through_defines and isinstance(inner, ir.DefinedCondition):
            inner = inner.body
        if isinstance(inner, ir.All | ir.Any_) and type(inner) is type(node):
            yield from _flatten(inner, through_defines)
        else:
            yield item


def redundant_atoms(node: ir.Condition, analysis: Analysis | None = None) -> list[Redundancy]:
    """Bounds that add nothing to their conjunction (``age >= 18 years and age >= 21 years``:
    the first) or disjunction (``age >= 18 years or age >= 21 years``: the second).

    Only parts written in the condition itself are reported (not those inside a ``define``),
    but a definition's parts count among the reasons. Parts whose siblings on the same value
    contradict each other are left to the satisfiability check.
    """
    analysis = analysis or Analysis()
    found: list[Redundancy] = []
    for parent in _connectives(node):
        written = list(_flatten(parent, through_defines=False))
        every = list(_flatten(parent, through_defines=True))
        regions = {id(item): analysis.region(item) for item in every}
        dropped: set[int] = set()
        for item in written:
            mine = regions.get(id(item))
            if mine is None:
                continue
            others = [
                other
                for other in every
                if other is not item
                and id(other) not in dropped
                and (theirs := regions.get(id(other))) is not None
                and theirs.key == mine.key
            ]
            if not others:
                continue
            combined: Constraint | None = None
            for other in others:
                part = regions[id(other)]
                assert part is not None
                if combined is None:
                    combined = part.constraint
                elif isinstance(parent, ir.All):
                    combined = combined & part.constraint  # type: ignore[operator]
                else:
                    combined = combined | part.constraint  # type: ignore[operator]
            assert combined is not None
            if isinstance(parent, ir.All):
                if not combined:
                    continue  # contradictory siblings: CL301's business
                if _subset(combined, mine.constraint):
                    found.append(Redundancy(parent, item, tuple(others)))
                    dropped.add(id(item))
                else:
                    bound = _redundant_end(item, mine, combined, analysis)
                    if bound is not None:
                        found.append(Redundancy(parent, item, tuple(others), bound))
            elif _subset(mine.constraint, combined) and combined != mine.key.domain():
                found.append(Redundancy(parent, item, tuple(others)))
                dropped.add(id(item))
    return found


def _subset(first: Constraint, second: Constraint) -> bool:
    if isinstance(first, frozenset):
        assert isinstance(second, frozenset)
        return first <= second
    assert isinstance(second, IntervalSet)
    return first <= second


def _redundant_end(
    item: ir.Condition, mine: Atom, others: Constraint, analysis: Analysis
) -> str | None:
    """For ``x in a..b``: the end that the other parts already enforce."""
    if not isinstance(item, ir.InRange) or item.negated or item.low is None or item.high is None:
        return None
    assert isinstance(others, IntervalSet)
    half = ir.InRange(
        value=item.value, low=item.low, high=None, unit=item.unit, negated=False, origin=item.origin
    )
    lower = analysis.region(half)
    if lower is not None and lower.key == mine.key and others <= lower.constraint:  # type: ignore[operator]
        return "lower"
    half = attrs.evolve(half, low=None, high=item.high)
    upper = analysis.region(half)
    if upper is not None and upper.key == mine.key and others <= upper.constraint:  # type: ignore[operator]
        return "upper"
    return None


def _connectives(node: ir.Condition) -> Iterator[ir.All | ir.Any_]:
    """Every maximal ``and``/``or`` written in the condition (not inside definitions)."""
    stack: list[tuple[ir.Condition, type | None]] = [(node, None)]
    while stack:
        current, parent_kind = stack.pop()
        if isinstance(current, ir.All | ir.Any_):
            if type(current) is not parent_kind:
                yield current
            stack.extend((item, type(current)) for item in reversed(current.items))
        elif isinstance(current, ir.Negation):
            stack.append((current.item, None))
        elif isinstance(current, ir.Implication):
            stack.extend([(current.premise, None), (current.conclusion, None)])
        elif isinstance(current, ir.Branch):
            stack.extend(
                [(current.condition, None), (current.then, None), (current.otherwise, None)]
            )


def walk(node: ir.Condition, through_defines: bool = False) -> Iterator[ir.Condition]:
    """Every condition node in ``node``, parents first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, ir.All | ir.Any_):
            stack.extend(reversed(current.items))
        elif isinstance(current, ir.Negation):
            stack.append(current.item)
        elif isinstance(current, ir.Implication):
            stack.extend([current.conclusion, current.premise])
        elif isinstance(current, ir.Branch):
            stack.extend([current.otherwise, current.then, current.condition])
        elif isinstance(current, ir.DefinedCondition) and through_defines:
            stack.append(current.body)


# ---- describing constraints ---------------------------------------------------------------------


def _amount(key: ValueKey, value: Fraction) -> str:
    if key.date:
        try:
            return datetime.date.fromordinal(int(value)).isoformat()
        except (ValueError, OverflowError):
            return number_text(value)
    if key.ratio:
        return f"{number_text(value)} x {key.ratio}"
    if key.unit is not None and key.unit.code not in ("1", ""):
        return f"{number_text(value)} {UNIT_WORDS.get(key.unit.code, key.unit.code)}"
    return number_text(value)


def describe(key: ValueKey, constraint: Constraint) -> str:
    """The constraint as critlang reads: ``age >= 18 years``, ``sex in {other, unknown}``,
    ``ALT in 3..5 x ULN``, ``age = 65 years``."""
    if isinstance(constraint, frozenset):
        return _describe_symbols(key, constraint)
    if constraint.is_empty:
        return f"no value of {key.label}"
    domain = key.domain()
    if constraint == domain:
        return f"any {key.label}"
    parts = []
    for item in constraint.intervals:
        low = item.low if item.low is not None and (key.low is None or item.low > key.low) else None
        high = (
            item.high
            if item.high is not None and (key.high is None or item.high < key.high)
            else None
        )
        if item.is_point:
            assert item.low is not None
            parts.append(f"{key.label} = {_amount(key, item.low)}")
        elif low is not None and high is not None:
            if item.low_closed and item.high_closed:
                start = _amount(key, low) if key.date else number_text(low)
                parts.append(f"{key.label} in {start}..{_amount(key, high)}")
            else:
                first = "<=" if item.low_closed else "<"
                second = "<=" if item.high_closed else "<"
                parts.append(
                    f"{_amount(key, low)} {first} {key.label} {second} {_amount(key, high)}"
                )
        elif low is not None:
            parts.append(f"{key.label} {'>=' if item.low_closed else '>'} {_amount(key, low)}")
        elif high is not None:
            parts.append(f"{key.label} {'<=' if item.high_closed else '<'} {_amount(key, high)}")
        else:
            parts.append(f"any {key.label}")
    return " or ".join(parts)


def _describe_symbols(key: ValueKey, constraint: frozenset[str]) -> str:
    if key.universe == _BOOLEAN:
        if constraint == _BOOLEAN:
            return f"any {key.label}"
        if not constraint:
            return f"no value of {key.label}"
        return key.label if _TRUE in constraint else f"not {key.label}"
    names = sorted({item.removeprefix(_VARIANT) for item in constraint if item != _OTHER})
    other = " or another value" if _OTHER in constraint else ""
    if not names:
        return f"{key.label} not one of its declared values" if other else f"no {key.label}"
    if len(names) == 1 and not other:
        return f"{key.label} = {names[0]}"
    return f"{key.label} in {{{', '.join(names)}}}{other}"


def sample(key: ValueKey, constraint: Constraint) -> str | None:
    """One value in the constraint, as text (``65 years``), or None if it is empty."""
    if isinstance(constraint, frozenset):
        names = sorted(item for item in constraint if not item.startswith(_VARIANT))
        return names[0] if names else None
    for item in constraint.intervals:
        value: Fraction | None
        if item.is_point or (item.low is not None and item.low_closed):
            value = item.low
        elif item.high is not None and item.high_closed:
            value = item.high
        elif item.low is not None and item.high is not None:
            value = (item.low + item.high) / 2
        elif item.low is not None:
            value = item.low + 1
        elif item.high is not None:
            value = item.high - 1
        else:
            value = Fraction(0)
        if value is not None:
            return _amount(key, value)
    return None


__all__ = [
    "DEFAULT_MAX_TERMS",
    "Analysis",
    "Atom",
    "Interval",
    "IntervalSet",
    "Redundancy",
    "TooComplex",
    "ValueKey",
    "atom",
    "describe",
    "equivalent",
    "implies",
    "number_text",
    "redundant_atoms",
    "sample",
    "satisfiable",
    "valid",
    "value_key",
    "walk",
]
