"""The checked program: a small typed representation that the checker builds from the AST.

Every name is resolved (to a dictionary variable, a definition, a built-in or an anchor), every
literal is exact (:class:`fractions.Fraction`), every unit is parsed, and every time window and
``except`` is attached to the lab selection or occurrence query it restricts. The planner compiles
these nodes into closures; lint rules can reason over them. Each node keeps the AST node it came
from (``origin``) for explanations and locations.
"""

from __future__ import annotations

import datetime
from fractions import Fraction
from typing import TypeAlias

import attrs

from critlang.semantics.dictionary import Variable
from critlang.syntax import ast
from critlang.units import Unit


@attrs.frozen(kw_only=True)
class VType:
    """A value's static type: ``number``, ``quantity`` (with ``unit``), ``date``, ``symbol``
    (with the allowed ``symbols``), ``code``, ``boolean``, ``limit`` (``x ULN``) or ``string``."""

    kind: str
    unit: Unit | None = None
    symbols: frozenset[str] | None = None
    integer: bool = False

    def describe(self) -> str:
        if self.kind == "quantity" and self.unit is not None:
            return f"a quantity of {self.unit.dimension.describe()} ({self.unit.code})"
        if self.kind == "symbol" and self.symbols:
            return f"one of {{{', '.join(sorted(self.symbols))}}}"
        return {"number": "a number", "date": "a date", "boolean": "true/false"}.get(
            self.kind, f"a {self.kind}"
        )


NUMBER = VType(kind="number")
DATE = VType(kind="date")
BOOLEAN = VType(kind="boolean")


@attrs.frozen(kw_only=True)
class WindowSpec:
    """``within 3 months before screening`` and the rest; ``duration`` is exact, in ``unit``."""

    kind: str  # within, before, after, at_least_before
    side: str | None  # before, after, of (for `within`)
    duration: Fraction | None
    unit: str | None  # UCUM code of the duration: mo and a are calendar months and years
    anchor: str | datetime.date
    origin: ast.Window = attrs.field(eq=False, repr=False)

    def describe(self) -> str:
        """The window as written: ``within 3 weeks before treatment``."""
        from critlang.syntax.printer import expression_text

        return expression_text(self.origin)


# ---- values -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Literal:
    value: Fraction | str | datetime.date | bool
    type: VType
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class LabSelection:
    """A lab's results, restricted to ``window``, reduced by ``selector``.

    ``latest`` (the default), ``earliest``, ``min``, ``max`` give one result; ``any`` and ``all``
    keep every result for a quantified comparison; ``count`` counts them.
    """

    variable: Variable
    window: WindowSpec | None
    selector: str
    type: VType
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class FactValue:
    variable: Variable
    type: VType
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Age:
    """Completed years of age at ``anchor`` (screening unless said otherwise)."""

    anchor: str | datetime.date
    type: VType
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class AnchorDate:
    anchor: str
    type: VType
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Limit:
    """``factor x ULN`` or ``x LLN``: taken from the lab result it is compared with."""

    factor: Fraction
    limit: str
    type: VType
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Count:
    query: OccurrenceQuery | LabSelection
    type: VType
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Arithmetic:
    operator: str  # + - * / neg ^
    operands: tuple[Value, ...]
    type: VType
    exponent: int = 1
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class FunctionCall:
    function: str
    args: tuple[Value, ...]
    type: VType
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class DefinedValue:
    """A reference to a ``define`` whose body is a value."""

    name: str
    body: Value
    type: VType
    origin: ast.Expr = attrs.field(eq=False, repr=False)


Value: TypeAlias = (
    Literal
    | LabSelection
    | FactValue
    | Age
    | AnchorDate
    | Limit
    | Count
    | Arithmetic
    | FunctionCall
    | DefinedValue
)

VALUE_NODES = (
    Literal,
    LabSelection,
    FactValue,
    Age,
    AnchorDate,
    Limit,
    Count,
    Arithmetic,
    FunctionCall,
    DefinedValue,
)

# ---- conditions (three-valued) ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Constant:
    value: bool
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Comparison:
    """``left operator right`` after both sides are brought to ``unit`` (for quantities).

    A side that is a lab selection with ``any``/``all`` quantifies over its results.
    """

    operator: str
    left: Value
    right: Value
    unit: Unit | None
    molar_mass: Fraction | None
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class InRange:
    value: Value
    low: Value | None
    high: Value | None
    unit: Unit | None
    negated: bool
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class InSet:
    value: Value
    members: frozenset[str]
    negated: bool
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Presence:
    value: Value | OccurrenceQuery
    known: bool
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class OccurrenceQuery:
    """Occurrences of ``variables`` (conditions, treatments, events), or of any condition whose
    code matches ``codes`` (``diagnosis in {...}``), within ``window``, minus those that are also
    one of ``excluded``."""

    variables: tuple[Variable, ...]
    codes: tuple[str, ...]
    window: WindowSpec | None
    excluded: tuple[Variable, ...]
    conditions_only: bool
    origin: ast.Expr = attrs.field(eq=False, repr=False)

    def describe(self) -> str:
        names = " or ".join(variable.name for variable in self.variables) or "diagnosis"
        if self.codes:
            names += " in {" + ", ".join(self.codes) + "}"
        if self.excluded:
            names += " except " + ", ".join(variable.name for variable in self.excluded)
        return names + (f" {self.window.describe()}" if self.window else "")


@attrs.frozen(kw_only=True)
class Occurs:
    query: OccurrenceQuery
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class FactTruth:
    """A boolean fact used as a condition: ``childbearing_potential``."""

    variable: Variable
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class All:
    items: tuple[Condition, ...]
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Any_:
    items: tuple[Condition, ...]
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Negation:
    item: Condition
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Implication:
    premise: Condition
    conclusion: Condition
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Branch:
    condition: Condition
    then: Condition
    otherwise: Condition
    origin: ast.Expr = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class DefinedCondition:
    name: str
    body: Condition
    origin: ast.Expr = attrs.field(eq=False, repr=False)


Condition: TypeAlias = (
    Constant
    | Comparison
    | InRange
    | InSet
    | Presence
    | Occurs
    | FactTruth
    | All
    | Any_
    | Negation
    | Implication
    | Branch
    | DefinedCondition
)


@attrs.frozen(kw_only=True)
class CheckedCriterion:
    id: str
    section: str
    text: str | None
    condition: Condition | None  # None for a review item
    review: str | None
    origin: ast.Criterion = attrs.field(eq=False, repr=False)
