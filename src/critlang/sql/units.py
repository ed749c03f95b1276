"""Units and exact thresholds for the SQL backend, worked out when the query is compiled.

A lab value is compared in its own unit: rather than converting every value in SQL (which would
round, or overflow a decimal type), the threshold is converted into each unit a result may come
in, exactly (:class:`fractions.Fraction`), and rounded onto the decimal grid of the value column,
which is exact for every value that column can hold (:func:`grid_test`). The units a query knows
are by default a catalogue of common clinical spellings and the dictionary's units;
:func:`critlang.sql.run_duckdb` gives it exactly the units the export uses. A result in a unit
outside them is UNKNOWN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

import attrs

from critlang.errors import UnitError
from critlang.semantics.dictionary import Variable
from critlang.sql.cells import DECIMAL_LIMIT
from critlang.units import Unit, conversion, molar_power, parse_unit, same_unit

# Decimal places of the value column (DECIMAL(38, 18)).
SCALE = 18

# UCUM codes as OMOP's UCUM vocabulary and lab systems write them, for the units of the
# standard dictionary's labs and facts.
CATALOGUE = (
    "%",
    "/L",
    "/mm3",
    "/uL",
    "10*3/L",
    "10*3/mm3",
    "10*3/uL",
    "10*6/L",
    "10*6/mm3",
    "10*6/uL",
    "10*9/L",
    "10*12/L",
    "K/uL",
    "M/uL",
    "g/dL",
    "g/L",
    "g/mL",
    "mg/dL",
    "mg/L",
    "mg/mL",
    "ug/dL",
    "ug/L",
    "ug/mL",
    "ng/dL",
    "ng/L",
    "ng/mL",
    "pg/mL",
    "mol/L",
    "mmol/L",
    "umol/L",
    "nmol/L",
    "pmol/L",
    "meq/L",
    "U/L",
    "U/mL",
    "kU/L",
    "[IU]/L",
    "[iU]/L",
    "[IU]/mL",
    "[iU]/mL",
    "m[IU]/L",
    "m[iU]/L",
    "m[IU]/mL",
    "m[iU]/mL",
    "u[IU]/mL",
    "u[iU]/mL",
    "ukat/L",
    "{copies}/mL",
    "10*3.{copies}/mL",
    "mL/min",
    "mL/min/{1.73_m2}",
    "mL/min/1.73.m2",
    "mL/min/(173.10*-2.m2)",
    "mm[Hg]",
    "kPa",
    "/min",
    "s",
    "ms",
    "min",
    "h",
    "d",
    "wk",
    "mo",
    "a",
    "kg",
    "g",
    "[lb_av]",
    "cm",
    "m",
    "mm",
    "[in_i]",
    "kg/m2",
    "m2",
    "fL",
    "pg",
    "{score}",
    "{ratio}",
    "1",
)


@attrs.frozen
class Reading:
    """How the reader takes a result in one unit: ``code`` as the export writes it, ``unit``
    as read (an accepted spelling is the variable's own unit), and the plausible range in that
    unit (``None``: not checked)."""

    code: str
    unit: Unit
    plausible: tuple[Fraction | None, Fraction | None] | None


def known_units(variables: Iterable[Variable]) -> tuple[str, ...]:
    """The unit codes a query knows by default: the catalogue and the variables' units."""
    codes = list(CATALOGUE)
    for variable in variables:
        if variable.unit is not None:
            codes.append(variable.unit.code)
        codes.extend(variable.accepts)
    return tuple(dict.fromkeys(codes))


def _parsed(code: str) -> Unit | None:
    try:
        unit = parse_unit(code)
    except UnitError:
        return None
    return None if unit.is_special else unit


def lab_readings(variable: Variable, codes: Iterable[str]) -> list[Reading]:
    """The units of ``codes`` that the record reader reads as results of ``variable`` (the
    variable has a unit). Special units (temperatures, pH) are left out: the SQL backend does not
    convert them."""
    target = variable.unit
    assert target is not None
    accepts = {_normalised(code) for code in variable.accepts}
    readings = []
    for code in codes:
        parsed = _parsed(code)
        if parsed is None or target.is_special:
            continue
        accepted = parsed.code in accepts or any(same_unit(parsed, other) for other in accepts)
        unit = target if accepted else parsed
        # Another kind, unless the molar mass converts it (mass <-> substance), as the reader.
        if unit.dimension != target.dimension and (
            variable.molar_mass is None or molar_power(unit, target) is None
        ):
            continue
        readings.append(Reading(code, unit, _plausible_in(variable, unit)))
    return readings


def fact_readings(codes: Iterable[str]) -> list[Reading]:
    """The units a fact given by a result may come in (read as they are, never checked)."""
    return [Reading(code, unit, None) for code in codes if (unit := _parsed(code)) is not None]


def parses(code: str) -> bool:
    """Whether the OMOP reader reads ``code`` as a unit."""
    try:
        parse_unit(code)
    except UnitError:
        return False
    return True


def _normalised(code: str) -> str:
    try:
        return parse_unit(code).code
    except UnitError:
        return code


def _plausible_in(variable: Variable, unit: Unit) -> tuple[Fraction | None, Fraction | None] | None:
    """The variable's plausible range expressed in ``unit``; None when the reader does not check
    it (no range, or no conversion to the variable's unit)."""
    if variable.plausible is None or variable.unit is None:
        return None
    factor = factor_between(unit, variable.unit, variable.molar_mass)
    if factor is None:
        return None
    low, high = variable.plausible
    return (
        None if low is None else low / factor,
        None if high is None else high / factor,
    )


def factor_between(source: Unit, target: Unit, molar_mass: Fraction | None) -> Fraction | None:
    """The exact factor from ``source`` to ``target`` (a value in ``source`` times it is the
    value in ``target``), or None when they do not convert linearly."""
    if source.code == target.code:
        return Fraction(1)
    try:
        factor = conversion(source, target, molar_mass=molar_mass).factor
    except UnitError:
        return None
    return factor if factor is not None and factor > 0 else None


def grid_test(operator: str, threshold: Fraction) -> tuple[str, Fraction] | bool:
    """``value operator threshold`` for any value of the DECIMAL(38, 18) column, as an
    equivalent test against a threshold on that column's grid, or a constant when every value
    gives the same answer (a threshold beyond the column's range, an ``=`` off the grid)."""
    step = Fraction(1, 10**SCALE)
    lower = Fraction(math.floor(threshold / step)) * step
    upper = Fraction(math.ceil(threshold / step)) * step
    if operator in ("=", "!="):
        if lower != threshold or abs(threshold) >= DECIMAL_LIMIT:
            return operator == "!="
        return (operator, threshold)
    bound = upper if operator in (">=", "<") else lower
    if bound >= DECIMAL_LIMIT:
        return operator in ("<", "<=")
    if bound <= -DECIMAL_LIMIT:
        return operator in (">", ">=")
    return (operator, bound)


FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
