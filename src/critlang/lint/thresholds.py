"""Conditional thresholds: one requirement per group of patients, and what falls between groups.

Protocols set a threshold that depends on who the patient is ("Hb >= 10 g/dL for women, >= 12 g/dL
for men"; "CrCl >= 60 mL/min, >= 50 mL/min from age 65"). critlang writes that in three forms, each
made of *arms*: a *guard* that tests one value (the *guard value*: sex, age) and a *body* that sets
a threshold on another value, the same in every arm (Hb, CrCl):

- an ``if`` chain: ``if g1 then t1 else if g2 then t2 else e``;
- implications joined by ``and``: ``(g1 implies t1) and (g2 implies t2)`` (``if g then t else
  true`` is the same); in the overlap of two guards both thresholds apply, so the stricter wins;
- alternatives joined by ``or``: ``(g1 and t1) or (g2 and t2)``; in an overlap the more lenient
  wins. In this form which conjunct is the guard is not written, so the guard value is the one
  value every arm tests that is not a one-sided threshold in every arm (``Hb >= ...`` is a
  threshold, ``sex = female`` and ``age <= 65 years`` are guards); when that is not exactly one
  value the ``or`` is not read as a conditional threshold.

Guards must each be one constraint on the same value (:meth:`Analysis.region`); the analysis is then
exact set arithmetic on the guard value, and what it reports is what counts as a defect:

**Gaps** — values of the guard value that no guard covers. For a chain this only matters when the
final ``else`` is a constant (``else false``: those patients can never be eligible; ``else true``:
no threshold applies to them); for ``and`` no threshold applies; for ``or`` the criterion can never
be met. Reported: every declared symbol left out (``sex`` other/unknown when the arms cover female
and male), and a single number left out between two guards (``age < 65 years`` / ``age > 65
years`` leave out 65, a boundary slip). A wider stretch between guards (``age < 18`` / ``age >
75``) usually means "no extra requirement in between" and is not reported.

**Overlaps** — values two guards both cover. In a chain the earlier branch takes them, which is the
usual way to write a chain when the later guard widens the earlier one (``if age >= 65 years ...
else if age >= 18 years``); reported are *partial* overlaps, where neither guard contains the other
(``if age < 70 years ... else if age >= 65 years``). For ``and``/``or``, partial overlaps are
reported when the bodies differ, and nested guards when the inner arm can never make a difference
(``(age >= 18 years implies CrCl >= 60 mL/min) and (age >= 65 years implies CrCl >= 50 mL/min)``:
the second threshold never decides anything, since the first, stricter one applies too).

**Unreachable branches** — in any ``if`` chain, a branch whose condition is covered by the
conditions before it (:meth:`Analysis.implies`), so it is never taken for a patient whose values
are known; a final non-constant ``else`` when the conditions cover every case.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs

from critlang.lint.intervals import (
    Analysis,
    Atom,
    Constraint,
    IntervalSet,
    ValueKey,
    atom,
    walk,
)
from critlang.semantics import ir


@attrs.frozen
class Arm:
    """One group's requirement: ``guard`` covers ``region`` of the guard value; ``body`` (a
    conjunction) applies there. ``node`` is the arm as written."""

    guard: ir.Condition
    body: tuple[ir.Condition, ...]
    region: Constraint
    node: ir.Condition


@attrs.frozen
class ConditionalThreshold:
    """Arms over one guard value (``key``) whose bodies all constrain ``threshold``."""

    node: ir.Condition
    form: str  # "if", "and", "or"
    key: ValueKey
    arms: tuple[Arm, ...]
    fallback: ir.Condition | None  # an if chain's final else
    threshold: ValueKey


@attrs.frozen
class Gap:
    """Values of the guard value (``constraint``) that no arm covers."""

    threshold: ConditionalThreshold
    constraint: Constraint


@attrs.frozen
class Overlap:
    """Values (``constraint``) that arms ``first`` and ``second`` both cover; ``kind`` is
    ``partial`` (neither guard contains the other) or ``dead`` (arm ``second``, inside arm
    ``first``, never makes a difference)."""

    threshold: ConditionalThreshold
    first: int
    second: int
    constraint: Constraint
    kind: str


@attrs.frozen
class Unreachable:
    """In the chain starting at ``chain``, the branch taken when ``condition`` holds (None: the
    final else) is never taken; ``covering`` are the conditions before it that take its
    patients (none when ``condition`` never holds at all)."""

    chain: ir.Branch
    condition: ir.Condition | None
    body: ir.Condition
    covering: tuple[ir.Condition, ...]


# ---- finding the forms --------------------------------------------------------------------------


def chains(node: ir.Condition) -> Iterator[ir.Branch]:
    """Every ``if`` chain written in ``node`` (not inside definitions), by its first ``if``."""
    inner: set[int] = set()
    for current in walk(node):
        if isinstance(current, ir.Branch):
            if id(current) not in inner:
                yield current
            if isinstance(current.otherwise, ir.Branch):
                inner.add(id(current.otherwise))


def _chain_arms(chain: ir.Branch) -> tuple[list[tuple[ir.Condition, ir.Condition]], ir.Condition]:
    arms = []
    current: ir.Condition = chain
    while isinstance(current, ir.Branch):
        arms.append((current.condition, current.then))
        current = current.otherwise
    return arms, current


def conditional_thresholds(
    node: ir.Condition, analysis: Analysis | None = None
) -> list[ConditionalThreshold]:
    """Every conditional threshold written in ``node`` (not inside definitions)."""
    analysis = analysis or Analysis()
    found: list[ConditionalThreshold] = []
    for chain in chains(node):
        arms, fallback = _chain_arms(chain)
        if len(arms) < 2:
            continue
        regions = [analysis.region(condition) for condition, _ in arms]
        guarded = _same_key(regions)
        if guarded is None:
            continue
        key, constraints = guarded
        bodies = [(then,) for _, then in arms]
        if not isinstance(fallback, ir.Constant):
            bodies.append((fallback,))
        threshold = _common_key(bodies, key)
        if threshold is None:
            continue
        made = tuple(
            Arm(guard=condition, body=(then,), region=constraint, node=condition)
            for (condition, then), constraint in zip(arms, constraints, strict=True)
        )
        found.append(ConditionalThreshold(chain, "if", key, made, fallback, threshold))
    for group in _groups(node):
        if isinstance(group, ir.All):
            found.extend(_implications(group, analysis))
        else:
            alternative = _alternatives(group, analysis)
            if alternative is not None:
                found.append(alternative)
    return found


def _groups(node: ir.Condition) -> Iterator[ir.All | ir.Any_]:
    """Every maximal ``and`` and ``or`` written in ``node``."""
    nested: set[int] = set()
    for current in walk(node):
        if isinstance(current, ir.All | ir.Any_):
            if id(current) not in nested:
                yield current
            nested.update(id(item) for item in current.items if type(item) is type(current))


def _parts(group: ir.All | ir.Any_) -> list[ir.Condition]:
    """The parts of an ``and`` (``or``), with nested ``and``s (``or``s) written inside opened."""
    parts: list[ir.Condition] = []
    for item in group.items:
        if type(item) is type(group):
            assert isinstance(item, ir.All | ir.Any_)
            parts.extend(_parts(item))
        else:
            parts.append(item)
    return parts


def _same_key(regions: Sequence[Atom | None]) -> tuple[ValueKey, list[Constraint]] | None:
    keys = {region.key for region in regions if region is not None}
    if len(keys) != 1 or any(region is None for region in regions):
        return None
    (key,) = keys
    return key, [region.constraint for region in regions if region is not None]


def _keys(conditions: Sequence[ir.Condition]) -> set[ValueKey]:
    found = set()
    for condition in conditions:
        for node in walk(condition, through_defines=True):
            leaf = atom(node)
            if leaf is not None and not leaf.key.opaque:
                found.add(leaf.key)
    return found


def _common_key(bodies: Sequence[Sequence[ir.Condition]], guard: ValueKey) -> ValueKey | None:
    """A value every body constrains (other than the guard value)."""
    common: set[ValueKey] | None = None
    first: list[ValueKey] = []
    for body in bodies:
        keys = _keys(body) - {guard}
        if common is None:
            common = keys
            first = [key for key in _ordered_keys(body) if key in keys]
        else:
            common &= keys
    if not common:
        return None
    return next(key for key in first if key in common)


def _ordered_keys(conditions: Sequence[ir.Condition]) -> list[ValueKey]:
    ordered: list[ValueKey] = []
    for condition in conditions:
        for node in walk(condition, through_defines=True):
            leaf = atom(node)
            if leaf is not None and not leaf.key.opaque and leaf.key not in ordered:
                ordered.append(leaf.key)
    return ordered


def _implications(group: ir.All, analysis: Analysis) -> list[ConditionalThreshold]:
    """``(g1 implies t1) and (g2 implies t2) ...``, one per guard value with two arms or more."""
    by_key: dict[ValueKey, list[Arm]] = {}
    for part in _parts(group):
        if isinstance(part, ir.Implication):
            guard, body = part.premise, part.conclusion
        elif (
            isinstance(part, ir.Branch)
            and isinstance(part.otherwise, ir.Constant)
            and part.otherwise.value
        ):
            guard, body = part.condition, part.then
        else:
            continue
        found = analysis.region(guard)
        if found is None:
            continue
        arm = Arm(guard=guard, body=(body,), region=found.constraint, node=part)
        by_key.setdefault(found.key, []).append(arm)
    made = []
    for key, arms in by_key.items():
        if len(arms) < 2:
            continue
        threshold = _common_key([arm.body for arm in arms], key)
        if threshold is not None:
            made.append(ConditionalThreshold(group, "and", key, tuple(arms), None, threshold))
    return made


def _direction(key: ValueKey, constraint: Constraint) -> str | None:
    """``up`` for ``x >= a`` (``x > a``), ``down`` for ``x <= b``, within the value's domain."""
    if not isinstance(constraint, IntervalSet) or len(constraint.intervals) != 1:
        return None
    (item,) = constraint.intervals
    open_below = item.low is None or (key.low is not None and item.low <= key.low)
    open_above = item.high is None or (key.high is not None and item.high >= key.high)
    if open_above and not open_below:
        return "up"
    if open_below and not open_above:
        return "down"
    return None


def _alternatives(group: ir.Any_, analysis: Analysis) -> ConditionalThreshold | None:
    """``(g1 and t1) or (g2 and t2) ...`` with every part such an alternative."""
    parts = _parts(group)
    if len(parts) < 2 or not all(isinstance(part, ir.All) for part in parts):
        return None
    arms: list[list[tuple[ir.Condition, Atom | None]]] = []
    for part in parts:
        assert isinstance(part, ir.All)
        arms.append([(item, analysis.region(item)) for item in _parts(part)])
    per_arm: list[dict[ValueKey, Constraint]] = []
    for arm in arms:
        constraints: dict[ValueKey, Constraint] = {}
        for _, found in arm:
            if found is None:
                continue
            previous = constraints.get(found.key)
            constraints[found.key] = (
                found.constraint if previous is None else previous & found.constraint  # type: ignore[operator]
            )
        per_arm.append(constraints)
    shared = set(per_arm[0]).intersection(*per_arm[1:])
    thresholds = set()
    for key in shared:
        directions = {_direction(key, constraints[key]) for constraints in per_arm}
        if len(directions) == 1 and None not in directions:
            thresholds.add(key)
    guards = shared - thresholds
    if len(guards) != 1 or not thresholds:
        return None
    (key,) = guards
    made = []
    for part, arm, constraints in zip(parts, arms, per_arm, strict=True):
        guard_items = [item for item, found in arm if found is not None and found.key == key]
        body = tuple(item for item, found in arm if found is None or found.key != key)
        if not body:
            return None
        made.append(Arm(guard=guard_items[0], body=body, region=constraints[key], node=part))
    threshold = next(iter(sorted(thresholds, key=lambda item: item.label)))
    return ConditionalThreshold(group, "or", key, tuple(made), None, threshold)


# ---- gaps, overlaps, unreachable branches -------------------------------------------------------


def _union(constraints: Sequence[Constraint], key: ValueKey) -> Constraint:
    total: Constraint = frozenset() if key.universe is not None else IntervalSet(())
    for constraint in constraints:
        total = total | constraint  # type: ignore[operator]
    return total


def _subset(first: Constraint, second: Constraint) -> bool:
    return first <= second  # type: ignore[operator]


def gaps(threshold: ConditionalThreshold) -> list[Gap]:
    """The values of the guard value no arm covers, as reported (see the module docs)."""
    if threshold.form == "if" and not isinstance(threshold.fallback, ir.Constant):
        return []
    key = threshold.key
    uncovered = key.complement(_union([arm.region for arm in threshold.arms], key))
    if isinstance(uncovered, frozenset):
        declared = frozenset(symbol for symbol in uncovered if not symbol.startswith("~"))
        return [Gap(threshold, declared)] if declared else []
    found = []
    for item in uncovered.intervals:
        inside = (key.low is None or (item.low is not None and item.low > key.low)) and (
            key.high is None or (item.high is not None and item.high < key.high)
        )
        if item.is_point and inside:
            found.append(Gap(threshold, IntervalSet((item,), uncovered.integer)))
    return found


def overlaps(threshold: ConditionalThreshold, analysis: Analysis | None = None) -> list[Overlap]:
    """Values two arms both cover, as reported (see the module docs): at most one per arm."""
    analysis = analysis or Analysis()
    arms = threshold.arms
    found: list[Overlap] = []
    for second in range(1, len(arms)):
        later = arms[second].region
        if threshold.form == "if" and _subset(
            later, _union([arm.region for arm in arms[:second]], threshold.key)
        ):
            continue  # never taken: an unreachable branch
        for first in range(second):
            earlier = arms[first].region
            both: Constraint = earlier & later  # type: ignore[operator]
            if not both:
                continue
            inner_first, inner_second = _subset(earlier, later), _subset(later, earlier)
            if threshold.form == "if":
                if not inner_first and not inner_second:
                    found.append(Overlap(threshold, first, second, both, "partial"))
                    break
                continue
            outer, inner = (second, first) if inner_first and not inner_second else (first, second)
            if not inner_first and not inner_second:
                if not _same_bodies(analysis, arms[first].body, arms[second].body):
                    found.append(Overlap(threshold, first, second, both, "partial"))
                    break
                continue
            stricter, looser = (
                (arms[outer].body, arms[inner].body)
                if threshold.form == "and"
                else (arms[inner].body, arms[outer].body)
            )
            if _implies_all(analysis, stricter, looser):
                found.append(Overlap(threshold, outer, inner, both, "dead"))
                break
    return found


def _implies_all(
    analysis: Analysis, premises: Sequence[ir.Condition], conclusions: Sequence[ir.Condition]
) -> bool:
    return all(analysis.implies(premises, conclusion) is True for conclusion in conclusions)


def _same_bodies(
    analysis: Analysis, first: Sequence[ir.Condition], second: Sequence[ir.Condition]
) -> bool:
    return _implies_all(analysis, first, second) and _implies_all(analysis, second, first)


def unreachable_branches(node: ir.Condition, analysis: Analysis | None = None) -> list[Unreachable]:
    """Branches of the ``if`` chains in ``node`` that are never taken when the values their
    conditions read are known."""
    analysis = analysis or Analysis()
    found = []
    for chain in chains(node):
        arms, fallback = _chain_arms(chain)
        conditions = [condition for condition, _ in arms]
        for index, (condition, then) in enumerate(arms):
            if analysis.satisfiable(condition) is False:
                found.append(Unreachable(chain, condition, then, ()))
            elif _covered(analysis, condition, conditions[:index], chain):
                found.append(Unreachable(chain, condition, then, tuple(conditions[:index])))
        if not isinstance(fallback, ir.Constant) and analysis.valid(
            ir.Any_(items=tuple(conditions), origin=chain.origin)
        ):
            found.append(Unreachable(chain, None, fallback, tuple(conditions)))
    return found


def _covered(
    analysis: Analysis, condition: ir.Condition, earlier: Sequence[ir.Condition], chain: ir.Branch
) -> bool:
    if not earlier:
        return False
    return analysis.implies(condition, ir.Any_(items=tuple(earlier), origin=chain.origin)) is True


__all__ = [
    "Arm",
    "ConditionalThreshold",
    "Gap",
    "Overlap",
    "Unreachable",
    "chains",
    "conditional_thresholds",
    "gaps",
    "overlaps",
    "unreachable_branches",
]
