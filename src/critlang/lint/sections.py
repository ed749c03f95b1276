"""A section's criteria taken together: which inclusions cannot be met together
(contradicting-inclusions, CL304) and which inclusions force an exclusion
(exclusion-excludes-everyone, CL305).

A file may hold thousands of criteria, so these questions are never put to all of them at once,
nor to every pair:

- Each criterion's normal form is computed once (:meth:`Analysis.form`), and criteria with the
  same normal form make one *class*, asked about once (a standard requirement or a ``define``
  repeated across cohorts).
- Two forms contradict each other exactly when every term of one clashes with every term of the
  other: constrains some value to a set disjoint from the other's. Then, in particular, their
  first terms clash; so candidates are looked up per value, among the distinct constraints that
  first terms put on it (:class:`_ValueIndex`: intervals sorted by their ends, so the earliest
  criterion whose interval lies wholly below or above another is found by bisection, not by a
  scan), and only candidates are compared in full, earliest first, until one clashes.
- Three or more criteria that cannot all be met, and the inclusions that force an exclusion, are
  looked for only among criteria *connected* by shared values (a contradiction needs every member
  to constrain something another member constrains; a set of inclusions that forces an exclusion
  is connected to it), in a running product of their normal forms bounded by a work
  :class:`Budget`; each connected group is a question of its own. The set named is minimal (QuickXplain: dropping any member
  leaves a satisfiable rest, in the model). Beyond the budget, or the analysis's term cap, the
  answer is "don't know" and nothing is reported.

Every answer is one of :class:`Analysis` (see :mod:`critlang.lint.intervals`): a contradiction
or an implication reported holds for every record. A criterion whose normal form is too large is
left out, which can only hide a finding, never make one.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from typing import TypeAlias

import attrs

from critlang.lint.intervals import (
    Analysis,
    Constraint,
    Interval,
    IntervalSet,
    Term,
    TooComplex,
    ValueKey,
    _term_id,
    multiply,
    sharing_groups,
)
from critlang.semantics import ir

# Work per question (a group of inclusions, an exclusion), in conjunctions of two terms, and for
# all the questions of one rule on one file.
DEFAULT_WORK = 50_000
DEFAULT_TOTAL_WORK = 500_000
# Work for all the pairs of a section: pairs of terms or constraints compared.
DEFAULT_PAIR_WORK = 500_000


class Budget:
    """Work left for one question; spending beyond it (or beyond the ``total`` it is part of)
    raises :class:`TooComplex`."""

    def __init__(self, work: int, total: Budget | None = None) -> None:
        self.left = work
        self.total = total

    def spend(self, amount: int) -> None:
        self.left -= amount
        if self.total is not None:
            self.total.spend(amount)
        if self.left < 0:
            raise TooComplex("over the work budget")


@attrs.define
class _Class:
    """Criteria with one normal form: ``members`` are their positions, ``first`` the earliest."""

    members: list[int]
    form: list[Term]
    keys: frozenset[ValueKey]

    @property
    def first(self) -> int:
        return self.members[0]


def _classes(forms: Sequence[list[Term] | None]) -> list[_Class]:
    """The forms that can take part in a contradiction, grouped by normal form, in order of
    their first member. Left out: forms too large to build (None), forms that are never met
    (no term: unsatisfiable-criterion's business) and forms met by any values (an empty term)."""
    by_form: dict[frozenset[frozenset[tuple[ValueKey, Constraint]]], _Class] = {}
    for position, form in enumerate(forms):
        if not form or any(not term for term in form):
            continue
        signature = frozenset(_term_id(term) for term in form)
        found = by_form.get(signature)
        if found is None:
            keys = frozenset(key for term in form for key in term)
            by_form[signature] = _Class([position], form, keys)
        else:
            found.members.append(position)
    return list(by_form.values())


def _components(classes: Sequence[_Class]) -> list[list[int]]:
    """The class numbers grouped so that classes sharing a value are in one group."""
    return sharing_groups([item.keys for item in classes])


# ---- pairs --------------------------------------------------------------------------------------


def _clash(first: Term, second: Term) -> bool:
    """Whether the two terms put disjoint constraints on some value."""
    if len(first) > len(second):
        first, second = second, first
    for key, constraint in first.items():
        other = second.get(key)
        if other is not None and other is not constraint and not (constraint & other):  # type: ignore[operator]
            return True
    return False


def _contradict(first: list[Term], second: list[Term], budget: Budget) -> bool:
    """Whether no record meets both forms: every term of one clashes with every term of the
    other."""
    budget.spend(len(first) * len(second))
    return all(_clash(one, other) for one in first for other in second)


def _ascending(lists: Iterable[list[int]]) -> Iterator[int]:
    """The numbers of several ascending lists, merged, each once."""
    previous = -1
    for number in heapq.merge(*lists):
        if number != previous:
            yield number
            previous = number


_Bound: TypeAlias = tuple[int, Fraction, int]
_NO_BOUND = Fraction(0)


def _high_end(interval: Interval) -> _Bound:
    """Orders upper ends: ``_high_end(a) < _low_start(b)`` exactly when all of ``a`` lies below
    all of ``b``."""
    if interval.high is None:
        return (2, _NO_BOUND, 0)
    return (1, interval.high, 1 if interval.high_closed else 0)


def _low_start(interval: Interval) -> _Bound:
    if interval.low is None:
        return (0, _NO_BOUND, 0)
    return (1, interval.low, 1 if interval.low_closed else 2)


class _ValueIndex:
    """The distinct constraints that first terms put on one value, each with the classes that
    put it (ascending), for finding the classes whose constraint is disjoint from a given one.

    Single intervals (nearly all of them) are sorted by their ends, so the classes wholly below
    or above an interval are a prefix or a suffix found by bisection, with the smallest class
    number of each prefix and suffix kept: the earliest disjoint class costs a logarithm, not a
    scan. Other constraints (several intervals, symbols) are compared one by one, within the
    budget.
    """

    def __init__(self, groups: dict[Constraint, list[int]], budget: Budget) -> None:
        self.groups = groups
        self.budget = budget
        simple: list[tuple[Interval, list[int]]] = []
        self.other: list[Constraint] = []
        for constraint, numbers in groups.items():
            if isinstance(constraint, IntervalSet) and len(constraint.intervals) == 1:
                simple.append((constraint.intervals[0], numbers))
            else:
                self.other.append(constraint)
        by_high = sorted(simple, key=lambda item: _high_end(item[0]))
        self.highs = [_high_end(interval) for interval, _ in by_high]
        self.below = [numbers for _, numbers in by_high]
        self.below_first = list(itertools.accumulate((n[0] for n in self.below), min))
        by_low = sorted(simple, key=lambda item: _low_start(item[0]))
        self.lows = [_low_start(interval) for interval, _ in by_low]
        self.above = [numbers for _, numbers in by_low]
        self.above_first = list(itertools.accumulate((n[0] for n in reversed(self.above)), min))[
            ::-1
        ]
        self._others: dict[Constraint, list[list[int]]] = {}

    def _disjoint_others(self, constraint: Constraint) -> list[list[int]]:
        """The classes of the other constraints disjoint from ``constraint``; for one of them,
        of every constraint."""
        if constraint not in self._others:
            compared = self.groups if constraint in self.other else self.other
            self.budget.spend(len(compared))
            self._others[constraint] = [
                self.groups[other]
                for other in compared
                if not (constraint & other)  # type: ignore[operator]
            ]
        return self._others[constraint]

    def _split(self, constraint: Constraint) -> tuple[int, int] | None:
        """For a single interval: how many sorted intervals lie wholly below it, and where
        those wholly above it start."""
        if not (isinstance(constraint, IntervalSet) and len(constraint.intervals) == 1):
            return None
        (interval,) = constraint.intervals
        return (
            bisect.bisect_left(self.highs, _low_start(interval)),
            bisect.bisect_right(self.lows, _high_end(interval)),
        )

    def earliest(self, constraint: Constraint) -> int | None:
        """The smallest class number whose constraint is disjoint from ``constraint``."""
        found = [numbers[0] for numbers in self._disjoint_others(constraint)]
        split = self._split(constraint)
        if split is not None:
            below, above = split
            if below:
                found.append(self.below_first[below - 1])
            if above < len(self.above):
                found.append(self.above_first[above])
        return min(found, default=None)

    def disjoint(self, constraint: Constraint) -> list[list[int]]:
        """The classes (ascending lists) whose constraint is disjoint from ``constraint``."""
        found = list(self._disjoint_others(constraint))
        split = self._split(constraint)
        if split is not None:
            below, above = split
            found += self.below[:below] + self.above[above:]
        self.budget.spend(len(found))
        return found


def contradicting_pairs(
    forms: Sequence[list[Term] | None], *, work: int = DEFAULT_PAIR_WORK
) -> dict[int, int]:
    """For each position whose form no record can meet together with an earlier form's: the
    earliest such position. ``forms`` are normal forms (:meth:`Analysis.form`); None (too large)
    is never paired. The same answer as asking :meth:`Analysis.satisfiable` of every pair, found
    among the pairs whose first terms clash; a pair beyond the work budget counts as not known
    to clash."""
    classes = _classes(forms)
    budget = Budget(work)
    # Each value's distinct constraints in first terms, with the classes that put them.
    by_value: dict[ValueKey, dict[Constraint, list[int]]] = {}
    for number, item in enumerate(classes):
        for key, constraint in item.form[0].items():
            by_value.setdefault(key, {}).setdefault(constraint, []).append(number)
    indexes = {
        key: _ValueIndex(groups, budget) for key, groups in by_value.items() if len(groups) > 1
    }
    known: dict[tuple[int, int], bool] = {}

    def contradict(number: int, other: int) -> bool:
        pair = (min(number, other), max(number, other))
        if pair not in known:
            try:
                known[pair] = _contradict(classes[number].form, classes[other].form, budget)
            except TooComplex:
                known[pair] = False  # don't know
        return known[pair]

    found: dict[int, int] = {}
    for number, item in enumerate(classes):
        last = item.members[-1]
        asked = [(indexes[key], c) for key, c in item.form[0].items() if key in indexes]
        try:
            # Nearly always the earliest candidate is the answer (single-term forms clash
            # whenever their terms do); otherwise the candidates are tried in order.
            candidates = [index.earliest(c) for index, c in asked]
            best = min((n for n in candidates if n is not None), default=None)
            if best is None or classes[best].first >= last:
                continue
            if not contradict(number, best):
                lists = [numbers for index, c in asked for numbers in index.disjoint(c)]
                best = None
                for other in _ascending(lists):
                    if classes[other].first >= last:
                        break
                    if contradict(number, other):
                        best = other
                        break
                if best is None:
                    continue
        except TooComplex:
            continue  # over the budget: not known
        earliest = classes[best].first
        for member in item.members:
            if member > earliest:
                found[member] = earliest
    return found


# ---- groups -------------------------------------------------------------------------------------


def _multiply(
    terms: list[Term], forms: Iterable[list[Term]], max_terms: int, budget: Budget
) -> list[Term]:
    """:func:`~critlang.lint.intervals.multiply`, within ``budget``."""
    return multiply(terms, forms, max_terms, budget.spend)


def _conflict(
    background: list[Term], candidates: Sequence[list[Term]], max_terms: int, budget: Budget
) -> list[int]:
    """The positions of a minimal subset of ``candidates`` that no record meets together with
    ``background`` (terms), which must hold for all of them (QuickXplain)."""

    def explain(base: list[Term], added: bool, items: list[int]) -> list[int]:
        if added and not base:
            return []
        if len(items) == 1:
            return items
        half = len(items) // 2
        first, second = items[:half], items[half:]
        with_first = _multiply(base, [candidates[i] for i in first], max_terms, budget)
        needed_second = explain(with_first, True, second)
        with_second = _multiply(base, [candidates[i] for i in needed_second], max_terms, budget)
        needed_first = explain(with_second, bool(needed_second), first)
        return needed_first + needed_second

    if not background or not candidates:
        return []
    return sorted(explain(background, False, list(range(len(candidates)))))


def contradicting_groups(
    forms: Sequence[list[Term] | None],
    max_terms: int,
    *,
    work: int = DEFAULT_WORK,
    total: int = DEFAULT_TOTAL_WORK,
) -> list[list[int]]:
    """Minimal sets of three or more positions whose forms no record meets together, at most one
    per group of forms connected by shared values, each as ascending positions (the earliest
    position of each normal form). Groups beyond the work budget (``work`` for each, ``total``
    for all) are left out."""
    classes = _classes(forms)
    overall = Budget(total)
    found: list[list[int]] = []
    for component in _components(classes):
        if len(component) < 3:
            continue
        members = [classes[number].form for number in component]
        budget = Budget(work, overall)
        try:
            if _multiply([{}], members, max_terms, budget):
                continue
            core = _conflict([{}], members, max_terms, budget)
        except TooComplex:
            continue
        if len(core) >= 3:
            found.append(sorted(classes[component[index]].first for index in core))
    return sorted(found)


class Premises:
    """Conditions that all hold (a trial's inclusions), indexed by the values they constrain,
    for asking which of them force another condition."""

    def __init__(
        self,
        analysis: Analysis,
        conditions: Sequence[ir.Condition],
        *,
        work: int = DEFAULT_WORK,
        total: int = DEFAULT_TOTAL_WORK,
    ) -> None:
        self.analysis = analysis
        self.work = work
        self._overall = Budget(total)
        self._classes = _classes([analysis.form(condition) for condition in conditions])
        self._groups = _components(self._classes)
        self._group_of: dict[ValueKey, int] = {}
        for group, numbers in enumerate(self._groups):
            for number in numbers:
                for key in self._classes[number].keys:
                    self._group_of[key] = group
        self._products: dict[int, list[Term] | None] = {}

    def _product(self, group: int) -> list[Term] | None:
        """The terms of the conjunction of one group of premises, computed once; None when too
        large."""
        if group not in self._products:
            forms = [self._classes[number].form for number in self._groups[group]]
            try:
                terms = _multiply(
                    [{}], forms, self.analysis.max_terms, Budget(self.work, self._overall)
                )
            except TooComplex:
                self._products[group] = None
            else:
                self._products[group] = terms
        return self._products[group]

    def implying_core(self, conclusion: ir.Condition) -> list[int] | None:
        """The positions of a minimal set of premises that implies ``conclusion`` (no record
        meets them all and not ``conclusion``), or None when there is none or it is not known.
        Only the premises connected to ``conclusion`` by shared values are asked about."""
        negated = self.analysis.form(conclusion, positive=False)
        if not negated or any(not term for term in negated):
            return None  # too large, always met, or never not met: not this question
        max_terms = self.analysis.max_terms
        touched = sorted(
            {self._group_of[key] for term in negated for key in term if key in self._group_of}
        )
        if not touched:
            return None
        budget = Budget(self.work, self._overall)
        products = [self._product(group) for group in touched]
        # In the order they are written (class numbers follow first positions).
        numbers = sorted(number for group in touched for number in self._groups[group])
        candidates = [self._classes[number].form for number in numbers]
        try:
            if any(product == [] for product in products):
                # These inclusions contradict each other (contradicting-inclusions): look for
                # a set of them that can be met and still forces the conclusion.
                core = _consistent_conflict(negated, candidates, max_terms, budget)
                if core is None:
                    return None
            else:
                if all(product is not None for product in products):
                    known = [product for product in products if product is not None]
                    rest = _multiply(negated, known, max_terms, budget)
                else:
                    rest = _multiply(negated, candidates, max_terms, budget)
                if rest:
                    return None
                # Every subset of these inclusions can be met: any minimal one will do.
                core = _conflict(negated, candidates, max_terms, budget)
        except TooComplex:
            return None
        return sorted(self._classes[numbers[index]].first for index in core)


def _consistent_conflict(
    background: list[Term], candidates: Sequence[list[Term]], max_terms: int, budget: Budget
) -> list[int] | None:
    """Among ``candidates`` that cannot all hold together: the positions of a minimal subset
    that cannot hold together with ``background`` and, if one is found, can hold on its own.

    Tried in turn: each candidate alone (the earliest that clashes with the background); the
    candidates less each one in order while the rest still clash with the background (what
    :meth:`Analysis.implying_core` does); the candidates in order, leaving out each one that
    contradicts those kept, up to the first whose addition clashes with the background."""
    for position, form in enumerate(candidates):
        if not _multiply(background, [form], max_terms, budget):
            return [position]
    kept = list(range(len(candidates)))
    for position in range(len(candidates)):
        trial = [other for other in kept if other != position]
        if not _multiply(background, [candidates[other] for other in trial], max_terms, budget):
            kept = trial
    if _multiply([{}], [candidates[other] for other in kept], max_terms, budget):
        return kept
    kept = []
    alone: list[Term] = [{}]
    together = background
    for position, form in enumerate(candidates):
        with_form = _multiply(alone, [form], max_terms, budget)
        if not with_form:
            continue  # contradicts the candidates kept
        kept.append(position)
        alone = with_form
        together = _multiply(together, [form], max_terms, budget)
        if not together:
            chosen = _conflict(background, [candidates[i] for i in kept], max_terms, budget)
            return sorted(kept[i] for i in chosen)
    return None


__all__ = [
    "DEFAULT_PAIR_WORK",
    "DEFAULT_TOTAL_WORK",
    "DEFAULT_WORK",
    "Budget",
    "Premises",
    "contradicting_groups",
    "contradicting_pairs",
]
