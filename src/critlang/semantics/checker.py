"""The checker: AST -> checked program (:mod:`critlang.semantics.ir`) plus diagnostics.

It resolves names (case-insensitively, with did-you-mean), infers and checks types and unit
dimensions (``ANC >= 9 g/dL`` is an error), finds definition cycles, and attaches time windows and
``except`` to the lab selections and occurrence queries they restrict.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import TypeVar

import attrs

from critlang.diagnostics import Diagnostic
from critlang.errors import UnitError
from critlang.semantics import ir
from critlang.semantics.dictionary import FACT, LAB, Dictionary, Variable
from critlang.source import Source
from critlang.syntax import ast
from critlang.units import Unit, kind_difference, molar_power, parse_unit

T = TypeVar("T")

SELECTORS = ("latest", "earliest", "min", "max", "any", "all", "count")
# Functions with their argument count (None: any number >= 1).
FUNCTIONS: dict[str, int | None] = {
    "age_at": 1,
    "abs": 1,
    "min": None,
    "max": None,
    "days_between": 2,
    "bmi": 2,
    "bsa_mosteller": 2,
    "cockcroft_gault": 4,
    "ckd_epi_2021": 3,
}
BUILTIN_NAMES = ("age", "diagnosis")
_TIME = parse_unit("s").dimension
_YEARS = parse_unit("a")
_OPERATOR_WORDS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": "=", "!=": "!="}


@attrs.frozen(kw_only=True)
class Scope:
    window: ir.WindowSpec | None = None
    excluded: tuple[Variable, ...] = ()


@attrs.frozen(kw_only=True)
class Definition:
    define: ast.Define
    source: Source


class _Failed(Exception):
    """A sub-expression had an error (already reported); its parent gives up quietly."""


class Checker:
    def __init__(
        self, dictionary: Dictionary, definitions: dict[str, Definition], source: Source
    ) -> None:
        self.dictionary = dictionary
        self.definitions = definitions
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self._active: list[str] = []
        self._checked: dict[tuple[str, Scope], ir.Condition | ir.Value] = {}

    # ---- reporting -----------------------------------------------------------------------------

    def error(self, code: str, message: str, node: ast.Node, help: str | None = None) -> _Failed:
        self.diagnostics.append(
            Diagnostic(code=code, message=message, span=node.span, source=self.source, help=help)
        )
        return _Failed(message)

    def _did_you_mean(self, name: str, candidates: Iterable[str]) -> str | None:
        pool = {candidate.casefold(): candidate for candidate in candidates}
        import difflib  # only for a name not found

        close = difflib.get_close_matches(name.casefold(), list(pool), n=3, cutoff=0.75)
        if not close:
            return None
        return "did you mean " + " or ".join(f"`{pool[match]}`" for match in close) + "?"

    def _known_names(self) -> list[str]:
        return [
            *self.dictionary.names(),
            *(d.define.name for d in self.definitions.values()),
            *BUILTIN_NAMES,
        ]

    # ---- criteria ------------------------------------------------------------------------------

    def criteria(self, criteria: Iterable[ast.Criterion]) -> list[ir.CheckedCriterion]:
        checked: list[ir.CheckedCriterion] = []
        seen: dict[str, ast.Criterion] = {}
        for criterion in criteria:
            if criterion.id.casefold() in seen:
                self.error("E210", f"criterion ID `{criterion.id}` is used twice", criterion)
            seen[criterion.id.casefold()] = criterion
            condition: ir.Condition | None = None
            review: str | None = None
            if isinstance(criterion.body, ast.Review):
                review = (
                    criterion.body.text or criterion.text or "to be confirmed by the investigator"
                )
            else:
                try:
                    condition = self.condition(criterion.body, Scope())
                except _Failed:
                    continue
            checked.append(
                ir.CheckedCriterion(
                    id=criterion.id,
                    section=criterion.section,
                    text=criterion.text,
                    condition=condition,
                    review=review,
                    origin=criterion,
                )
            )
        return checked

    def expression(self, node: ast.Expr) -> ir.Condition | ir.Value | None:
        """Check a lone expression (a condition or a value); None when it has errors, which are
        then in ``diagnostics``."""
        try:
            if self._looks_boolean(node):
                return self.condition(node, Scope())
            return self.value(node, Scope())
        except _Failed:
            return None

    def definitions_all(self) -> None:
        """Check every definition once, so that unused ones are checked too."""
        for key, definition in self.definitions.items():
            if definition.source is not self.source:
                continue
            with contextlib.suppress(_Failed):
                self._definition(key, definition.define, Scope(), want=None)

    def checked_definition(self, key: str) -> ir.Condition | ir.Value | None:
        """The checked body of a definition (by casefolded name) as used outside any window, or
        None when it has errors or was never checked (see :meth:`definitions_all`)."""
        return self._checked.get((key, Scope()))

    # ---- conditions ----------------------------------------------------------------------------

    def condition(self, expr: ast.Expr, scope: Scope) -> ir.Condition:
        if isinstance(expr, ast.Boolean):
            return ir.Constant(value=expr.value, origin=expr)
        if isinstance(expr, ast.Logical):
            items = tuple(self._each(expr.operands, lambda item: self.condition(item, scope)))
            return (
                ir.All(items=items, origin=expr)
                if expr.operator == "and"
                else ir.Any_(items=items, origin=expr)
            )
        if isinstance(expr, ast.Not):
            return ir.Negation(item=self.condition(expr.operand, scope), origin=expr)
        if isinstance(expr, ast.Implies):
            premise, conclusion = self._each(
                [expr.left, expr.right], lambda item: self.condition(item, scope)
            )
            return ir.Implication(premise=premise, conclusion=conclusion, origin=expr)
        if isinstance(expr, ast.IfThenElse):
            condition, then, otherwise = self._each(
                [expr.condition, expr.then, expr.otherwise],
                lambda item: self.condition(item, scope),
            )
            return ir.Branch(condition=condition, then=then, otherwise=otherwise, origin=expr)
        if isinstance(expr, ast.Windowed):
            return self.condition(expr.expr, attrs.evolve(scope, window=self.window(expr.window)))
        if isinstance(expr, ast.Except):
            excluded = self._excluded(expr.excluded)
            return self.condition(
                expr.expr, attrs.evolve(scope, excluded=scope.excluded + excluded)
            )
        if isinstance(expr, ast.Compare):
            return self._comparison(expr, scope)
        if isinstance(expr, ast.Member):
            return self._membership(expr, scope)
        if isinstance(expr, ast.Presence):
            return self._presence(expr, scope)
        if isinstance(expr, ast.Name):
            return self._name_condition(expr, scope)
        what = self._what(expr)
        raise self.error(
            "E310", f"expected a condition (something true or false), found {what}", expr
        )

    def _each(self, items: Iterable[ast.Expr], check: Callable[[ast.Expr], T]) -> list[T]:
        """Check every item (reporting all errors), then fail if any failed."""
        results = []
        failed = False
        for item in items:
            try:
                results.append(check(item))
            except _Failed:
                failed = True
        if failed:
            raise _Failed("operand failed")
        return results

    def _what(self, expr: ast.Expr) -> str:
        if isinstance(expr, ast.Number):
            return f"the number `{expr.text or expr.value}`"
        if isinstance(expr, ast.Quantity):
            return f"the quantity `{expr.text}`"
        if isinstance(expr, ast.Name):
            return f"`{expr.name}`"
        return "a value"

    def _name_condition(self, expr: ast.Name, scope: Scope) -> ir.Condition:
        key = expr.name.casefold()
        if key in self.definitions:
            body = self._definition(key, self.definitions[key].define, scope, want="condition")
            if isinstance(body, ir.VALUE_NODES):
                raise self.error(
                    "E311",
                    f"`{expr.name}` is a value ({body.type.describe()}), not true or false",
                    expr,
                    help=f"compare it with something, e.g. `{expr.name} >= ...`",
                )
            return ir.DefinedCondition(
                name=self.definitions[key].define.name, body=body, origin=expr
            )
        variable = self._variable(expr)
        if variable.is_occurrence:
            return ir.Occurs(query=self._query((variable,), scope, expr), origin=expr)
        if variable.kind == FACT and variable.value_type == "boolean":
            return ir.FactTruth(variable=variable, origin=expr)
        raise self.error(
            "E311",
            f"`{variable.name}` is a {variable.describe()}, not true or false",
            expr,
            help=f"compare it with something, e.g. `{variable.name} >= ...`",
        )

    def _variable(self, expr: ast.Name) -> Variable:
        variable = self.dictionary.lookup(expr.name)
        if variable is not None:
            return variable
        if expr.name.casefold() in self.dictionary.anchors:
            raise self.error(
                "E212",
                f"`{expr.name}` is an anchor (a date), not a value",
                expr,
                help=f"use it in a window: `... within 7 days before {expr.name}`",
            )
        raise self.error(
            "E201",
            f"unknown name `{expr.name}`",
            expr,
            help=self._did_you_mean(expr.name, self._known_names()),
        )

    def _definition(
        self, key: str, define: ast.Define, scope: Scope, want: str | None
    ) -> ir.Condition | ir.Value:
        cache_key = (key, scope)
        if cache_key in self._checked:
            return self._checked[cache_key]
        if key in self._active:
            cycle = " -> ".join([*self._active[self._active.index(key) :], key])
            raise self.error("E230", f"definition cycle: {cycle}", define)
        self._active.append(key)
        # Errors in a definition are located in the file that defines it (maybe a `use`d one).
        outer = self.source
        definition = self.definitions.get(key)
        self.source = definition.source if definition is not None else outer
        try:
            if want == "condition" or (want is None and self._looks_boolean(define.expr)):
                result: ir.Condition | ir.Value = self.condition(define.expr, scope)
            else:
                result = self.value(define.expr, scope)
        finally:
            self._active.pop()
            self.source = outer
        self._checked[cache_key] = result
        return result

    def _looks_boolean(self, expr: ast.Expr) -> bool:
        return isinstance(
            expr,
            ast.Compare
            | ast.Member
            | ast.Presence
            | ast.Logical
            | ast.Not
            | ast.Implies
            | ast.IfThenElse
            | ast.Boolean
            | ast.Windowed
            | ast.Except,
        ) or (isinstance(expr, ast.Name) and self._name_is_condition(expr))

    def _name_is_condition(self, expr: ast.Name) -> bool:
        variable = self.dictionary.lookup(expr.name)
        return variable is not None and (
            variable.is_occurrence or (variable.kind == FACT and variable.value_type == "boolean")
        )

    def _excluded(self, expr: ast.Expr) -> tuple[Variable, ...]:
        if isinstance(expr, ast.Name):
            variable = self._variable(expr)
            if not variable.is_occurrence:
                raise self.error(
                    "E312",
                    f"`except` takes conditions or events; `{variable.name}` is a {variable.kind}",
                    expr,
                )
            return (variable,)
        if isinstance(expr, ast.Logical) and expr.operator == "or":
            return tuple(v for item in expr.operands for v in self._excluded(item))
        raise self.error(
            "E312", "`except` takes a condition or event name, or several joined by `or`", expr
        )

    def _query(
        self,
        variables: tuple[Variable, ...],
        scope: Scope,
        origin: ast.Expr,
        codes: tuple[str, ...] = (),
    ) -> ir.OccurrenceQuery:
        return ir.OccurrenceQuery(
            variables=variables,
            codes=codes,
            window=scope.window,
            excluded=scope.excluded,
            conditions_only=not variables,
            origin=origin,
        )

    def window(self, window: ast.Window) -> ir.WindowSpec:
        duration: Fraction | None = None
        unit: str | None = None
        if window.duration is not None:
            quantity = window.duration
            if parse_unit(quantity.unit).dimension != _TIME:
                raise self.error(
                    "E261",
                    f"`{quantity.text}` is not a duration",
                    quantity,
                    help="write days, weeks, months or years, e.g. `4 weeks`",
                )
            duration, unit = Fraction(quantity.value), quantity.unit
        anchor: str | datetime.date
        if isinstance(window.anchor, ast.Name):
            if window.anchor.name.casefold() not in self.dictionary.anchors:
                raise self.error(
                    "E220",
                    f"unknown anchor `{window.anchor.name}`",
                    window.anchor,
                    help=self._did_you_mean(window.anchor.name, sorted(self.dictionary.anchors))
                    or "declare it: `anchor " + window.anchor.name + "`",
                )
            anchor = window.anchor.name.casefold()
        else:
            anchor = window.anchor.value
        return ir.WindowSpec(
            kind=window.kind,
            side=window.side,
            duration=duration,
            unit=unit,
            anchor=anchor,
            origin=window,
        )

    # ---- comparisons ---------------------------------------------------------------------------

    def _comparison(self, expr: ast.Compare, scope: Scope) -> ir.Condition:
        left, right = self._each(
            [expr.left, expr.right],
            lambda item: self._operand(
                item, scope, other=expr.left if item is expr.right else expr.right
            ),
        )
        left, right = self._symbols(left, right, expr), self._symbols(right, left, expr)
        return self._compatible(expr.operator, left, right, expr)

    def _operand(self, expr: ast.Expr, scope: Scope, other: ast.Expr) -> ir.Value | ast.Name:
        # A bare word compared with a symbol-valued variable is a symbol (`sex = female`):
        # keep unresolvable names for _symbols to decide.
        if isinstance(expr, ast.Name) and self._unresolved(expr):
            return expr
        return self.value(expr, scope)

    def _unresolved(self, expr: ast.Name) -> bool:
        key = expr.name.casefold()
        return (
            key not in self.definitions
            and self.dictionary.lookup(expr.name) is None
            and key not in BUILTIN_NAMES
            and key not in self.dictionary.anchors
        )

    def _symbols(
        self, side: ir.Value | ast.Name, other: ir.Value | ast.Name, origin: ast.Expr
    ) -> ir.Value:
        if not isinstance(side, ast.Name):
            return side
        other_type = None if isinstance(other, ast.Name) else other.type
        if (
            other_type is not None
            and other_type.kind == "symbol"
            and other_type.symbols is not None
        ):
            symbol = side.name.casefold()
            if symbol not in other_type.symbols:
                raise self.error(
                    "E202",
                    f"`{side.name}` is not one of {{{', '.join(sorted(other_type.symbols))}}}",
                    side,
                    help=self._did_you_mean(side.name, other_type.symbols),
                )
            return ir.Literal(value=symbol, type=other_type, origin=side)
        raise self.error(
            "E201",
            f"unknown name `{side.name}`",
            side,
            help=self._did_you_mean(side.name, self._known_names()),
        )

    def _compatible(
        self, operator: str, left: ir.Value, right: ir.Value, expr: ast.Expr
    ) -> ir.Comparison:
        lt, rt = left.type, right.type
        if lt.kind == "limit" or rt.kind == "limit":
            lab = right if lt.kind == "limit" else left
            if not isinstance(lab, ir.LabSelection) or lab.type.kind != "quantity":
                raise self.error(
                    "E303",
                    "`x ULN` and `x LLN` compare with a lab result",
                    expr,
                    help="write e.g. `ALT <= 2.5 x ULN`",
                )
            return ir.Comparison(
                operator=operator,
                left=left,
                right=right,
                unit=lab.type.unit,
                molar_mass=None,
                origin=expr,
            )
        if lt.kind == "quantity" and rt.kind == "quantity":
            assert lt.unit is not None and rt.unit is not None
            molar_mass = self._molar_mass(left, right)
            difference = kind_difference(lt.unit, rt.unit)
            bridged = molar_mass is not None and molar_power(lt.unit, rt.unit) is not None
            if lt.unit.dimension != rt.unit.dimension and not bridged:
                subject = self._subject(left, right)
                raise self.error(
                    "E301",
                    f"{subject} cannot be compared: {difference}",
                    expr,
                    help=self._unit_help(left, right),
                )
            # Compare in the criterion's unit: the side that is not a patient value.
            unit = rt.unit if _is_patient_value(left) else lt.unit
            return ir.Comparison(
                operator=operator,
                left=left,
                right=right,
                unit=unit,
                molar_mass=molar_mass,
                origin=expr,
            )
        if {lt.kind, rt.kind} == {"quantity", "number"}:
            quantity, number = (left, right) if lt.kind == "quantity" else (right, left)
            assert quantity.type.unit is not None
            if _is_patient_value(number) and not _is_patient_value(quantity):
                raise self.error(
                    "E302",
                    f"{self._subject(number)} is a plain number; it cannot be compared with "
                    f"{quantity.type.describe()}",
                    expr,
                    help="drop the unit from the threshold",
                )
            if not quantity.type.unit.dimension.is_dimensionless or quantity.type.unit.code in (
                "%",
            ):
                raise self.error(
                    "E302",
                    f"{self._subject(quantity, number)}: a number without a unit cannot be compared with {quantity.type.describe()}",
                    expr,
                    help=f"write the unit, e.g. `{_number_of(number)} {quantity.type.unit.code}`",
                )
            return ir.Comparison(
                operator=operator,
                left=left,
                right=right,
                unit=quantity.type.unit,
                molar_mass=None,
                origin=expr,
            )
        if lt.kind == rt.kind and lt.kind in ("number", "date"):
            return ir.Comparison(
                operator=operator, left=left, right=right, unit=None, molar_mass=None, origin=expr
            )
        if lt.kind == rt.kind and lt.kind in ("symbol", "boolean", "code", "string"):
            if operator not in ("=", "!="):
                raise self.error(
                    "E304",
                    f"`{operator}` needs numbers, quantities or dates; {lt.describe()} can only be `=` or `!=`",
                    expr,
                )
            return ir.Comparison(
                operator=operator, left=left, right=right, unit=None, molar_mass=None, origin=expr
            )
        raise self.error("E305", f"cannot compare {lt.describe()} with {rt.describe()}", expr)

    def _subject(self, *values: ir.Value) -> str:
        for value in values:
            if isinstance(value, ir.LabSelection | ir.FactValue):
                return f"`{value.variable.name}` ({value.type.unit.code if value.type.unit else value.type.kind})"
        return "the two sides"

    def _unit_help(self, left: ir.Value, right: ir.Value) -> str | None:
        for value in (left, right):
            if isinstance(value, ir.LabSelection | ir.FactValue) and value.type.unit is not None:
                return f"write the threshold in a unit of {value.type.unit.dimension.describe()}, such as {value.type.unit.code}"
        return None

    def _molar_mass(self, left: ir.Value, right: ir.Value) -> Fraction | None:
        """The molar mass of the analyte compared, if it has one: a patient's result may come in
        mass units when the criterion is in molar units, or the other way round."""
        for value in (left, right):
            if isinstance(value, ir.LabSelection | ir.FactValue) and value.variable.molar_mass:
                return value.variable.molar_mass
        return None

    # ---- membership and presence ---------------------------------------------------------------

    def _membership(self, expr: ast.Member, scope: Scope) -> ir.Condition:
        target = expr.target
        if isinstance(expr.value, ast.Name) and expr.value.name.casefold() == "diagnosis":
            codes = self._codes(target)
            query = self._query((), scope, expr, codes=codes)
            occurs = ir.Occurs(query=query, origin=expr)
            return ir.Negation(item=occurs, origin=expr) if expr.negated else occurs
        value = self.value(expr.value, scope)
        if isinstance(target, ast.Range):
            return self._in_range(value, target, expr, scope)
        if isinstance(target, ast.SetLiteral):
            if value.type.kind != "symbol" or value.type.symbols is None:
                raise self.error(
                    "E306",
                    f"`in {{...}}` needs a value with named categories; this is {value.type.describe()}",
                    expr,
                )
            members = set()
            for item in target.items:
                if (
                    not isinstance(item, ast.Symbol)
                    or item.name.casefold() not in value.type.symbols
                ):
                    name = item.name if isinstance(item, ast.Symbol) else "this"
                    raise self.error(
                        "E202",
                        f"`{name}` is not one of {{{', '.join(sorted(value.type.symbols))}}}",
                        item,
                        help=self._did_you_mean(name, value.type.symbols),
                    )
                members.add(item.name.casefold())
            return ir.InSet(
                value=value, members=frozenset(members), negated=expr.negated, origin=expr
            )
        raise self.error(
            "E306", "`in` takes a range (`0..2`), a set (`{a, b}`) or, for diagnosis, codes", target
        )

    def _codes(self, target: ast.Expr) -> tuple[str, ...]:
        if isinstance(target, ast.Code):
            return (str(target),)
        if isinstance(target, ast.SetLiteral) and all(
            isinstance(item, ast.Code) for item in target.items
        ):
            return tuple(str(item) for item in target.items)
        raise self.error(
            "E306",
            "`diagnosis in` takes codes: `diagnosis in {ICD10:C34*, SNOMED:254637007}`",
            target,
        )

    def _in_range(
        self, value: ir.Value, target: ast.Range, expr: ast.Member, scope: Scope
    ) -> ir.InRange:
        bounds = [bound for bound in (target.low, target.high) if bound is not None]
        quantities = [bound for bound in bounds if isinstance(bound, ast.Quantity)]
        unit_code = quantities[0].unit if quantities else None
        checked: list[ir.Value | None] = []
        for bound in (target.low, target.high):
            if bound is None:
                checked.append(None)
            elif isinstance(bound, ast.Number) and unit_code is not None:
                # `18..65 years`: the unit written once applies to both bounds.
                checked.append(
                    ir.Literal(
                        value=Fraction(bound.value),
                        type=ir.VType(kind="quantity", unit=parse_unit(unit_code)),
                        origin=bound,
                    )
                )
            else:
                checked.append(self.value(bound, scope))
        low, high = checked
        unit: Unit | None = None
        for bound_value in (low, high):
            if bound_value is None:
                continue
            comparison = self._compatible("<=", value, bound_value, expr)
            unit = comparison.unit
        return ir.InRange(
            value=value, low=low, high=high, unit=unit, negated=expr.negated, origin=expr
        )

    def _presence(self, expr: ast.Presence, scope: Scope) -> ir.Presence:
        inner = expr.value
        if isinstance(inner, ast.Windowed):
            scope = attrs.evolve(scope, window=self.window(inner.window))
            inner = inner.expr
        if isinstance(inner, ast.Name):
            variable = self.dictionary.lookup(inner.name)
            if variable is not None and variable.is_occurrence:
                return ir.Presence(
                    value=self._query((variable,), scope, inner), known=expr.known, origin=expr
                )
        return ir.Presence(value=self.value(inner, scope), known=expr.known, origin=expr)

    # ---- values --------------------------------------------------------------------------------

    def value(self, expr: ast.Expr, scope: Scope) -> ir.Value:
        if isinstance(expr, ast.Number):
            integer = expr.value == expr.value.to_integral_value()
            return ir.Literal(
                value=Fraction(expr.value),
                type=ir.VType(kind="number", integer=integer),
                origin=expr,
            )
        if isinstance(expr, ast.Quantity):
            return ir.Literal(
                value=Fraction(expr.value),
                type=ir.VType(kind="quantity", unit=parse_unit(expr.unit)),
                origin=expr,
            )
        if isinstance(expr, ast.LimitMultiple):
            return ir.Limit(
                factor=Fraction(expr.factor),
                limit=expr.limit,
                type=ir.VType(kind="limit"),
                origin=expr,
            )
        if isinstance(expr, ast.DateLiteral):
            day = expr.value.date() if isinstance(expr.value, datetime.datetime) else expr.value
            return ir.Literal(value=day, type=ir.DATE, origin=expr)
        if isinstance(expr, ast.Code):
            return ir.Literal(value=str(expr), type=ir.VType(kind="code"), origin=expr)
        if isinstance(expr, ast.String):
            return ir.Literal(value=expr.value, type=ir.VType(kind="string"), origin=expr)
        if isinstance(expr, ast.Boolean):
            return ir.Literal(value=expr.value, type=ir.BOOLEAN, origin=expr)
        if isinstance(expr, ast.Name):
            return self._name_value(expr, scope)
        if isinstance(expr, ast.Windowed):
            return self.value(expr.expr, attrs.evolve(scope, window=self.window(expr.window)))
        if isinstance(expr, ast.Call):
            return self._call(expr, scope)
        if isinstance(expr, ast.Negate):
            operand = self.value(expr.operand, scope)
            if operand.type.kind not in ("number", "quantity"):
                raise self.error(
                    "E307", f"`-` needs a number or quantity, not {operand.type.describe()}", expr
                )
            return ir.Arithmetic(
                operator="neg", operands=(operand,), type=operand.type, origin=expr
            )
        if isinstance(expr, ast.Arithmetic):
            return self._arithmetic(expr, scope)
        if isinstance(expr, ast.Power):
            base = self.value(expr.base, scope)
            if base.type.kind == "quantity":
                assert base.type.unit is not None
                result_type = ir.VType(kind="quantity", unit=base.type.unit**expr.exponent)
            elif base.type.kind == "number":
                result_type = ir.NUMBER
            else:
                raise self.error(
                    "E307", f"`^` needs a number or quantity, not {base.type.describe()}", expr
                )
            return ir.Arithmetic(
                operator="^",
                operands=(base,),
                exponent=expr.exponent,
                type=result_type,
                origin=expr,
            )
        raise self.error(
            "E313", "expected a value (a number, quantity, date or name), found a condition", expr
        )

    def _name_value(self, expr: ast.Name, scope: Scope) -> ir.Value:
        key = expr.name.casefold()
        if key in self.definitions:
            body = self._definition(key, self.definitions[key].define, scope, want="value")
            if not isinstance(body, ir.VALUE_NODES):
                raise self.error("E313", f"`{expr.name}` is a condition, not a value", expr)
            return ir.DefinedValue(
                name=self.definitions[key].define.name, body=body, type=body.type, origin=expr
            )
        if key == "age":
            return ir.Age(
                anchor="screening",
                type=ir.VType(kind="quantity", unit=_YEARS, integer=True),
                origin=expr,
            )
        variable = self._variable(expr)
        if variable.is_occurrence:
            raise self.error(
                "E314",
                f"`{variable.name}` is a {variable.kind}: it is true or false, not a value",
                expr,
                help=f"count it with `count({variable.name} within ...)`",
            )
        value_type = _variable_type(variable)
        if variable.kind == LAB:
            return ir.LabSelection(
                variable=variable,
                window=scope.window,
                selector="latest",
                type=value_type,
                origin=expr,
            )
        return ir.FactValue(variable=variable, type=value_type, origin=expr)

    def _call(self, expr: ast.Call, scope: Scope) -> ir.Value:
        function = expr.function.casefold()
        if function in SELECTORS and len(expr.args) == 1:
            return self._selector(function, expr, scope)
        if function not in FUNCTIONS:
            raise self.error(
                "E203",
                f"unknown function `{expr.function}`",
                expr,
                help=self._did_you_mean(expr.function, [*FUNCTIONS, *SELECTORS]),
            )
        arity = FUNCTIONS[function]
        if (arity is None and not expr.args) or (arity is not None and len(expr.args) != arity):
            wanted = (
                "at least one argument"
                if arity is None
                else f"{arity} argument{'s' if arity != 1 else ''}"
            )
            raise self.error("E315", f"`{expr.function}` takes {wanted}", expr)
        if function == "age_at":
            (anchor,) = expr.args
            if not isinstance(anchor, ast.Name | ast.DateLiteral):
                raise self.error("E315", "`age_at` takes an anchor or a date", anchor)
            window = self.window(ast.Window(kind="before", anchor=anchor, span=anchor.span))
            return ir.Age(
                anchor=window.anchor,
                type=ir.VType(kind="quantity", unit=_YEARS, integer=True),
                origin=expr,
            )
        args = tuple(self._each(expr.args, lambda arg: self.value(arg, scope)))
        return ir.FunctionCall(
            function=function,
            args=args,
            type=self._function_type(function, args, expr),
            origin=expr,
        )

    def _function_type(self, function: str, args: tuple[ir.Value, ...], expr: ast.Call) -> ir.VType:
        from critlang.eval.functions import signature

        try:
            return signature(function, [arg.type for arg in args])
        except ValueError as error:
            raise self.error("E315", str(error), expr) from None

    def _selector(self, selector: str, expr: ast.Call, scope: Scope) -> ir.Value:
        (arg,) = expr.args
        inner_scope = scope
        while isinstance(arg, ast.Windowed):
            inner_scope = attrs.evolve(inner_scope, window=self.window(arg.window))
            arg = arg.expr
        while isinstance(arg, ast.Except):
            inner_scope = attrs.evolve(
                inner_scope, excluded=inner_scope.excluded + self._excluded(arg.excluded)
            )
            arg = arg.expr
            while isinstance(arg, ast.Windowed):
                inner_scope = attrs.evolve(inner_scope, window=self.window(arg.window))
                arg = arg.expr
        if not isinstance(arg, ast.Name):
            raise self.error(
                "E316",
                f"`{selector}(...)` takes a lab or event name, optionally with a window",
                expr,
            )
        variable = self._variable(arg)
        if selector == "count":
            if variable.is_occurrence:
                return ir.Count(
                    query=self._query((variable,), inner_scope, arg),
                    type=ir.VType(kind="number", integer=True),
                    origin=expr,
                )
            if variable.kind == LAB:
                selection = ir.LabSelection(
                    variable=variable,
                    window=inner_scope.window,
                    selector="all",
                    type=_variable_type(variable),
                    origin=arg,
                )
                return ir.Count(
                    query=selection, type=ir.VType(kind="number", integer=True), origin=expr
                )
        if variable.kind != LAB:
            raise self.error(
                "E316",
                f"`{selector}(...)` selects among lab results; `{variable.name}` is a {variable.kind}",
                arg,
            )
        return ir.LabSelection(
            variable=variable,
            window=inner_scope.window,
            selector=selector,
            type=_variable_type(variable),
            origin=expr,
        )

    def _arithmetic(self, expr: ast.Arithmetic, scope: Scope) -> ir.Value:
        left, right = self._each([expr.left, expr.right], lambda item: self.value(item, scope))
        lt, rt = left.type, right.type
        if lt.kind not in ("number", "quantity") or rt.kind not in ("number", "quantity"):
            raise self.error(
                "E307",
                f"`{expr.operator}` needs numbers or quantities, not {lt.describe()} and {rt.describe()}",
                expr,
            )
        unit = None
        if expr.operator in "+-":
            if lt.kind != rt.kind:
                raise self.error(
                    "E307", f"cannot add or subtract {lt.describe()} and {rt.describe()}", expr
                )
            if lt.kind == "quantity":
                assert lt.unit is not None and rt.unit is not None
                if lt.unit.dimension != rt.unit.dimension:
                    raise self.error(
                        "E301", f"cannot add or subtract: {kind_difference(lt.unit, rt.unit)}", expr
                    )
                unit = lt.unit
        else:
            one = parse_unit("1")
            left_unit = lt.unit if lt.kind == "quantity" else one
            right_unit = rt.unit if rt.kind == "quantity" else one
            assert left_unit is not None and right_unit is not None
            try:
                unit = left_unit * right_unit if expr.operator == "*" else left_unit / right_unit
            except UnitError as error:
                raise self.error("E301", error.reason, expr) from None
            if lt.kind == rt.kind == "number":
                unit = None
        result = ir.VType(kind="quantity", unit=unit) if unit is not None else ir.NUMBER
        return ir.Arithmetic(
            operator=expr.operator, operands=(left, right), type=result, origin=expr
        )


def _variable_type(variable: Variable) -> ir.VType:
    if variable.value_type == "quantity":
        return ir.VType(kind="quantity", unit=variable.unit)
    if variable.value_type == "symbol":
        return ir.VType(kind="symbol", symbols=variable.symbols)
    if variable.value_type in ("integer", "number"):
        return ir.VType(kind="number", integer=variable.value_type == "integer")
    return ir.VType(kind=variable.value_type)


def _is_patient_value(value: ir.Value) -> bool:
    return not isinstance(value, ir.Literal | ir.Limit)


def _number_of(value: ir.Value) -> str:
    if isinstance(value, ir.Literal) and isinstance(value.value, Fraction):
        number = value.value
        return str(number.numerator) if number.denominator == 1 else f"{float(number):g}"
    return "..."
