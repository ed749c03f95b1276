"""Checked criteria compiled to one Python function per trial, for outcomes without evidence.

:meth:`Trial.evaluate` with ``evidence=False`` (screening many records) runs this function; with
evidence it runs the planner's closures, which also describe every leaf. Both give the same outcomes
and reasons: the generated code inlines only the Kleene connectives, ``if``/``implies`` and the
commonest leaves (a lab result or a fact compared with a literal threshold, a boolean fact), and
hands every other leaf, and every unusual case of an inlined one (a result in a unit it has not
seen, a value that is not a number), to the planner's closure for that leaf.

Safety: no text from the criteria file reaches the generated source. Names in it are made up here
(``t3``, ``k12``); every constant (thresholds, units, variable names, closures) is passed in the
function's namespace, and numbers are compared as exact integers taken from those constants.

Inside the generated function a truth value is ``True``, ``False`` or, for UNKNOWN, the tuple of
its reasons (never empty).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from typing import Any

from critlang.data.record import Record
from critlang.errors import UnitError
from critlang.eval.functions import Quantity
from critlang.eval.plan import (
    UNSET,
    Condition,
    Context,
    Observed,
    Planner,
    Unknown,
    active_or_ever,
    context_with,
    fact_value,
    index_conditions,
    index_events,
    index_facts,
    no_section,
    not_in_record,
    single_section,
)
from critlang.eval.result import Verdict
from critlang.eval.truth import Truth
from critlang.semantics import ir
from critlang.semantics.dictionary import Dictionary
from critlang.units import Unit, conversion

# The truth of one criterion: True, False, or the reasons it is UNKNOWN.
Fast = bool | tuple[str, ...]
Compiled = Callable[
    [Record, Dictionary, Mapping[str, datetime.date]], tuple[Verdict, tuple[Fast | None, ...]]
]

_MAX_DEPTH = 60  # deeper conditions stay with the closures (Python limits indentation to 100)
_INLINE_SELECTORS = frozenset({"latest", "earliest", "min", "max"})
_COMPARE = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": "==", "!=": "!="}


class _TooDeep(Exception):
    pass


def adapt(condition: Condition) -> Callable[[Context], Fast]:
    """A planner closure as a leaf of the generated code."""

    def leaf(ctx: Context) -> Fast:
        truth, reasons = condition(ctx)
        if truth is Truth.UNKNOWN:
            return reasons or ("unknown",)
        return truth is Truth.TRUE

    return leaf


class _ScaledThreshold:
    """``value OP threshold`` for values in any unit convertible to the threshold's linearly:
    per unit code, the integers ``(a, b)`` with ``value OP threshold`` iff
    ``value.numerator * a OP b * value.denominator``."""

    def __init__(self, threshold: Fraction, unit: Unit | None, molar_mass: Fraction | None) -> None:
        self.threshold = threshold
        self.unit = unit
        self.molar_mass = molar_mass
        self.scales: dict[str, tuple[int, int] | None] = {}

    def scale(self, code: str, source: Unit) -> tuple[int, int] | None:
        found = self.scales.get(code, UNSET)
        if found is UNSET:
            found = None
            if self.unit is not None:
                try:
                    factor = conversion(source, self.unit, molar_mass=self.molar_mass).factor
                except UnitError:
                    factor = None
                if factor is not None and factor > 0:
                    # value × factor OP t  ⟺  value.n × factor.n × t.d OP t.n × factor.d × value.d
                    found = (
                        factor.numerator * self.threshold.denominator,
                        self.threshold.numerator * factor.denominator,
                    )
            if len(self.scales) < 1000:
                self.scales[code] = found
        return found  # type: ignore[return-value]


class _Emitter:
    """Writes the function's lines. ``direct`` names the record sections (``facts``,
    ``conditions``, ``events``) read in one place only: they are read there directly, without
    indexing the whole section first; ``uses`` counts the places each section is read."""

    def __init__(self, planner: Planner, direct: frozenset[str] = frozenset()) -> None:
        self.planner = planner
        self.direct = direct
        self.uses: dict[str, int] = {}
        self.namespace: dict[str, Any] = {
            "_UNSET": UNSET,
            "_context": context_with,
            "_facts": index_facts,
            "_fact": fact_value,
            "_conditions": index_conditions,
            "_events": index_events,
            "_Quantity": Quantity,
            "_Unknown": Unknown,
            "_Fraction": Fraction,
            "_Observed": Observed,
            "_active": active_or_ever,
            "_NO_REASON": ("unknown",),
            "_SCREENING": "screening",
        }
        self.constants: dict[int, str] = {}
        self.lines: list[str] = []
        self.temps = 0
        self.selections: dict[object, str] = {}

    def constant(self, value: object) -> str:
        name = f"k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def temp(self) -> str:
        self.temps += 1
        return f"t{self.temps}"

    def need_context(self, depth: int) -> None:
        """Make the record's :class:`Context` (for a planner closure) if it is not made yet."""
        self.emit(depth, "if ctx is None:")
        self.emit(
            depth + 1, "ctx = _context(record, dictionary, anchors, facts, conditions, events)"
        )

    def need(self, section: str, depth: int) -> None:
        """Index the record's ``facts``, ``conditions`` or ``events`` if not done yet (taken from
        the context when there is one, so that nothing is indexed twice)."""
        self.uses[section] = self.uses.get(section, 0) + 1
        self.emit(depth, f"if {section} is _UNSET:")
        self.emit(
            depth + 1,
            f"{section} = _{section}(record, dictionary) if ctx is None else ctx.{section}",
        )

    def emit(self, depth: int, line: str) -> None:
        if depth > _MAX_DEPTH:
            raise _TooDeep
        self.lines.append("    " * depth + line)

    # ---- conditions ----------------------------------------------------------------------------

    def condition(self, node: ir.Condition, target: str, depth: int, polarity: bool) -> None:
        """Emit statements that leave the truth of ``node`` in ``target``."""
        if isinstance(node, ir.DefinedCondition):
            self.condition(node.body, target, depth, polarity)
        elif isinstance(node, ir.Constant):
            self.emit(depth, f"{target} = {node.value!r}")
        elif isinstance(node, ir.All | ir.Any_):
            self.connective(node.items, isinstance(node, ir.All), target, depth, polarity)
        elif isinstance(node, ir.Negation):
            self.condition(node.item, target, depth, not polarity)
            self.negate(target, depth)
        elif isinstance(node, ir.Implication):
            self.condition(node.premise, target, depth, not polarity)
            self.negate(target, depth)
            self.merge_next(node.conclusion, False, target, depth, polarity)
        elif isinstance(node, ir.Branch):
            self.branch(node, target, depth, polarity)
        elif self.inline_leaf(node, target, depth):
            pass
        elif isinstance(node, ir.Occurs) and single_section(node.query) is not None:
            self.occurs_in(node, target, depth)
        elif isinstance(node, ir.Occurs):
            find = self.constant(self.planner.occurrences(node.query))
            self.need_context(depth)
            self.emit(depth, f"{target} = {find}(ctx)")
            self.emit(depth, f"if {target}.__class__ is list:")
            self.emit(depth + 1, f"{target} = len({target}) > 0")
            self.emit(depth, "else:")
            self.emit(depth + 1, f"{target} = {target}.reasons or _NO_REASON")
        elif isinstance(node, ir.FactTruth):
            name = self.constant(node.variable.name)
            slow = self.constant(adapt(self.planner.condition(node, polarity)))
            missing = self.constant((not_in_record(node.variable.name),))
            if "facts" in self.direct:
                self.emit(depth, f"{target} = _fact(record, dictionary, {name})")
            else:
                self.need("facts", depth)
                self.emit(depth, f"{target} = facts.get({name})")
            self.emit(depth, f"if {target} is None:")
            self.emit(depth + 1, f"{target} = {missing}")
            self.emit(depth, f"elif {target}.__class__ is not bool:")
            self.need_context(depth + 1)
            self.emit(depth + 1, f"{target} = {slow}(ctx)")
        else:
            leaf = self.constant(adapt(self.planner.condition(node, polarity)))
            self.need_context(depth)
            self.emit(depth, f"{target} = {leaf}(ctx)")

    def inline_leaf(self, node: ir.Condition, target: str, depth: int) -> bool:
        """A comparison or range over a value the generated code reads itself."""
        if isinstance(node, ir.Comparison):
            return self.inline_comparison(node, target, depth) or self.inline_limit(
                node, target, depth
            )
        return isinstance(node, ir.InRange) and self.inline_range(node, target, depth)

    def occurs_in(self, node: ir.Occurs, target: str, depth: int) -> None:
        """Named conditions (or events) without a window: any active one (any one) decides."""
        query = node.query
        section = single_section(query)
        assert section is not None
        names = self.constant(frozenset(variable.name for variable in query.variables))
        excluded = self.constant(frozenset(variable.name for variable in query.excluded))
        item, item_names = self.temp(), self.temp()
        missing = self.constant(
            (no_section(["conditions" if section == "conditions" else "events/treatments"]),)
        )
        if section in self.direct:
            self.emit(depth, f"{target} = record.{section}")
        else:
            self.need(section, depth)
            self.emit(depth, f"{target} = {section}")
        self.emit(depth, f"if {target} is None:")
        self.emit(depth + 1, f"{target} = {missing}")
        self.emit(depth, "else:")
        if section in self.direct:
            self.emit(depth + 1, f"for {item} in {target}:")
            self.emit(depth + 2, f"{item_names} = dictionary.entry_set({item}.name, {item}.code)")
        else:
            self.emit(depth + 1, f"for {item}, {item_names} in {target}:")
        test = f"not {item_names}.isdisjoint({names})"
        if query.excluded:
            test += f" and {item_names}.isdisjoint({excluded})"
        self.emit(depth + 2, f"if {test} and _active({item}, anchors.get(_SCREENING)):")
        self.emit(depth + 3, f"{target} = True")
        self.emit(depth + 3, "break")
        self.emit(depth + 1, "else:")
        self.emit(depth + 2, f"{target} = False")

    def negate(self, target: str, depth: int) -> None:
        self.emit(depth, f"if {target}.__class__ is bool:")
        self.emit(depth + 1, f"{target} = not {target}")

    def connective(
        self,
        items: Iterable[ir.Condition],
        conjunction: bool,
        target: str,
        depth: int,
        polarity: bool,
    ) -> None:
        first, *rest = items
        self.condition(first, target, depth, polarity)
        for item in rest:
            self.merge_next(item, conjunction, target, depth, polarity)

    def merge_next(
        self, item: ir.Condition, conjunction: bool, target: str, depth: int, polarity: bool
    ) -> None:
        """``target and item`` (or ``or``), Kleene: the decisive truth ends it (the item is not
        evaluated); otherwise UNKNOWN, with every term's reasons, wins over the other truth."""
        decisive, other = ("False", "True") if conjunction else ("True", "False")
        self.emit(depth, f"if {target} is not {decisive}:")
        value = self.temp()
        self.condition(item, value, depth + 1, polarity)
        self.emit(depth + 1, f"if {value} is {decisive}:")
        self.emit(depth + 2, f"{target} = {decisive}")
        self.emit(depth + 1, f"elif {value} is not {other}:")
        self.emit(depth + 2, f"{target} = {value} if {target} is {other} else {target} + {value}")

    def branch(self, node: ir.Branch, target: str, depth: int, polarity: bool) -> None:
        test, first, second = self.temp(), self.temp(), self.temp()
        self.condition(node.condition, test, depth, polarity)
        self.emit(depth, f"if {test} is True:")
        self.condition(node.then, target, depth + 1, polarity)
        self.emit(depth, f"elif {test} is False:")
        self.condition(node.otherwise, target, depth + 1, polarity)
        self.emit(depth, "else:")
        # Both branches agreeing decides it anyway; otherwise it stays UNKNOWN.
        self.condition(node.then, first, depth + 1, polarity)
        self.condition(node.otherwise, second, depth + 1, polarity)
        self.emit(depth + 1, f"if {first} is {second} and {first}.__class__ is bool:")
        self.emit(depth + 2, f"{target} = {first}")
        self.emit(depth + 1, "else:")
        self.emit(
            depth + 2,
            f"{target} = {test} + ({first} if {first}.__class__ is tuple else ())"
            f" + ({second} if {second}.__class__ is tuple else ())",
        )

    # ---- a value compared with a literal -------------------------------------------------------

    def inline_comparison(self, node: ir.Comparison, target: str, depth: int) -> bool:
        left, right = node.left, node.right
        if not isinstance(right, ir.Literal) or node.operator not in _COMPARE:
            return False
        if isinstance(right.value, str):
            value = self.value(left, depth)
            if value is None:
                return False
            slow = self.constant(adapt(self.planner.condition(node)))
            expected = self.constant(right.value)
            self.emit(depth, f"if {value}.__class__ is str or {value}.__class__ is _Observed:")
            self.emit(depth + 1, f"{target} = {value} {_COMPARE[node.operator]} {expected}")
            self.unusual(value, target, depth, slow)
            return True
        threshold = self.planner.threshold(right, node.unit, node.molar_mass)
        if threshold is None:
            return False
        return self.numeric(
            node,
            left,
            [(node.operator, threshold)],
            node.unit,
            node.molar_mass,
            False,
            target,
            depth,
        )

    def inline_limit(self, node: ir.Comparison, target: str, depth: int) -> bool:
        """``lab OP factor x ULN``: against the limit the result itself carries, in its unit."""
        left, limit = node.left, node.right
        if not isinstance(limit, ir.Limit) or node.operator not in _COMPARE:
            return False
        value = self.value(left, depth) if isinstance(left, ir.LabSelection) else None
        if value is None:
            return False
        slow = self.constant(adapt(self.planner.condition(node)))
        numerator = self.constant(limit.factor.numerator)
        denominator = self.constant(limit.factor.denominator)
        reference, number = self.temp(), self.temp()
        side = "high" if limit.limit == "ULN" else "low"
        self.emit(depth, f"if {value}.__class__ is _Quantity:")
        self.emit(depth + 1, f"{reference} = {value}.source.{side}")
        self.emit(depth + 1, f"if {reference} is None:")
        self.need_context(depth + 2)
        self.emit(depth + 2, f"{target} = {slow}(ctx)")
        self.emit(depth + 1, "else:")
        self.emit(depth + 2, f"{number} = {value}.value")
        self.emit(
            depth + 2,
            f"{target} = {number}.numerator * {reference}.denominator * {denominator} "
            f"{_COMPARE[node.operator]} {numerator} * {reference}.numerator * {number}.denominator",
        )
        self.unusual(value, target, depth, slow)
        return True

    def inline_range(self, node: ir.InRange, target: str, depth: int) -> bool:
        tests = []
        for operator, bound in ((">=", node.low), ("<=", node.high)):
            if bound is not None:
                threshold = self.planner.threshold(bound, node.unit, None)
                if threshold is None:
                    return False
                tests.append((operator, threshold))
        return self.numeric(node, node.value, tests, node.unit, None, node.negated, target, depth)

    def numeric(
        self,
        node: ir.Condition,
        left: ir.Value,
        tests: list[tuple[str, Fraction]],
        unit: Unit | None,
        molar_mass: Fraction | None,
        negated: bool,
        target: str,
        depth: int,
    ) -> bool:
        """``left OP threshold`` for every test (and their negation): a quantity in any unit that
        converts to ``unit`` linearly, a plain number as itself; anything else to the closure."""
        value = self.value(left, depth)
        if value is None:
            return False
        slow = self.constant(adapt(self.planner.condition(node)))
        code, number = self.temp(), self.temp()
        scaled = [(operator, _ScaledThreshold(t, unit, molar_mass)) for operator, t in tests]
        factors = [self.temp() for _ in tests]
        self.emit(depth, f"if {value}.__class__ is _Quantity:")
        self.emit(depth + 1, f"{code} = {value}.unit.code")
        for factor, (_, threshold) in zip(factors, scaled, strict=True):
            scales, scale = self.constant(threshold.scales), self.constant(threshold.scale)
            self.emit(depth + 1, f"{factor} = {scales}.get({code}, _UNSET)")
            self.emit(depth + 1, f"if {factor} is _UNSET:")
            self.emit(depth + 2, f"{factor} = {scale}({code}, {value}.unit)")
        self.emit(depth + 1, f"if {' or '.join(f'{f} is None' for f in factors)}:")
        self.need_context(depth + 2)
        self.emit(depth + 2, f"{target} = {slow}(ctx)")
        self.emit(depth + 1, "else:")
        self.emit(depth + 2, f"{number} = {value}.value")
        checks = " and ".join(
            f"{number}.numerator * {factor}[0] {_COMPARE[operator]} {factor}[1] * {number}.denominator"
            for factor, (operator, _) in zip(factors, scaled, strict=True)
        )
        self.emit(depth + 2, f"{target} = {'not ' if negated else ''}({checks})")
        if unit is None:
            plain = " and ".join(
                f"{value}.numerator * {self.constant(t.denominator)} {_COMPARE[operator]} "
                f"{self.constant(t.numerator)} * {value}.denominator"
                for operator, t in tests
            )
            self.emit(depth, f"elif {value}.__class__ is _Fraction:")
            self.emit(depth + 1, f"{target} = {'not ' if negated else ''}({plain})")
        self.unusual(value, target, depth, slow)
        return True

    def unusual(self, value: str, target: str, depth: int, slow: str) -> None:
        """The branches after an inlined comparison: UNKNOWN's reasons, else the closure."""
        self.emit(depth, f"elif {value}.__class__ is _Unknown:")
        self.emit(depth + 1, f"{target} = {value}.reasons or _NO_REASON")
        self.emit(depth, "else:")
        self.need_context(depth + 1)
        self.emit(depth + 1, f"{target} = {slow}(ctx)")

    def value(self, node: ir.Value, depth: int) -> str | None:
        """A local holding ``node``'s value for this record, or ``None`` when it is not one the
        generated code reads itself."""
        if isinstance(node, ir.DefinedValue):
            return self.value(node.body, depth)
        if isinstance(node, ir.LabSelection) and node.selector in _INLINE_SELECTORS:
            return self.selection(node, depth)
        if isinstance(node, ir.FactValue | ir.Age):
            value = self.temp()
            fetch = self.constant(self.planner.value(node))
            self.need_context(depth)
            self.emit(depth, f"{value} = {fetch}(ctx)")
            return value
        return None

    def selection(self, node: ir.LabSelection, depth: int) -> str:
        """A local holding the selected result, fetched on first use in this record."""
        key = (node.variable.name, node.window, node.selector)
        name = self.selections.get(key)
        if name is None:
            name = self.selections[key] = f"s{len(self.selections)}"
        fetch = self.constant(self.planner.lab_value(node))
        self.emit(depth, f"if {name} is _UNSET:")
        self.need_context(depth + 1)
        self.emit(depth + 1, f"{name} = {fetch}(ctx)")
        return name


def compile_criteria(planner: Planner, criteria: list[ir.CheckedCriterion]) -> Compiled | None:
    """One function giving the verdict and every criterion's truth for a record (``None`` for
    review items), or ``None`` when the criteria are too deeply nested to compile (the closures
    then serve)."""
    generated = generate(planner, criteria)
    if generated is None:
        return None
    source, constants = generated
    try:
        code = compile(source, "<critlang criteria>", "exec")
    except (SyntaxError, RecursionError, MemoryError):
        return None
    namespace = dict(constants)
    exec(code, namespace)  # the source is ours: no text from the criteria file
    compiled: Compiled = namespace["evaluate"]
    return compiled


def generate(
    planner: Planner, criteria: list[ir.CheckedCriterion]
) -> tuple[str, dict[str, Any]] | None:
    """The source of the function :func:`compile_criteria` compiles, and the constants it
    refers to by name; ``None`` when a condition nests too deeply."""
    # A section read in one place is read there directly (see _Emitter): a second pass.
    first = _generate(_Emitter(planner), criteria)
    if first is None:
        return None
    direct = frozenset(section for section, uses in first[2].items() if uses == 1)
    generated = _generate(_Emitter(planner, direct), criteria) if direct else first
    return None if generated is None else generated[:2]


def _generate(
    emitter: _Emitter, criteria: list[ir.CheckedCriterion]
) -> tuple[str, dict[str, Any], dict[str, int]] | None:
    results, failing, undecided = [], [], []
    try:
        for index, criterion in enumerate(criteria):
            if criterion.condition is None:
                results.append("None")
                continue
            target = f"r{index}"
            emitter.condition(criterion.condition, target, 1, True)
            emitter.emit(1, f"if {target}.__class__ is tuple:")
            emitter.emit(2, f"{target} = tuple(dict.fromkeys({target}))")
            results.append(target)
            # SPEC §4: an inclusion NOT MET or an exclusion MET makes the patient ineligible.
            failing.append(f"{target} is {criterion.section != 'inclusion'}")
            undecided.append(f"{target}.__class__ is tuple")
    except _TooDeep:
        return None
    ineligible = emitter.constant(Verdict.INELIGIBLE)
    undetermined = emitter.constant(Verdict.UNDETERMINED)
    eligible = emitter.constant(Verdict.ELIGIBLE)
    slots = list(emitter.selections.values())
    lines = ["def evaluate(record, dictionary, anchors):"]
    lines.append("    ctx = None")
    lines.append("    " + " = ".join(["facts", "conditions", "events", *slots]) + " = _UNSET")
    lines += emitter.lines
    lines.append(f"    if {' or '.join(failing) or 'False'}:")
    lines.append(f"        verdict = {ineligible}")
    lines.append(f"    elif {' or '.join(undecided) or 'False'}:")
    lines.append(f"        verdict = {undetermined}")
    lines.append("    else:")
    lines.append(f"        verdict = {eligible}")
    lines.append(f"    return verdict, ({', '.join(results)}{',' if results else ''})")
    return "\n".join(lines) + "\n", emitter.namespace, emitter.uses
