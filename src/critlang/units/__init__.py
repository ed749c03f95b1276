"""critlang's UCUM engine: parse unit codes, compare their kinds and convert values between them.

>>> convert(1.5, "x10^9/L", "/uL")
1500.0
>>> round(convert(1.5, "mg/dL", "umol/L", molar_mass=113.12), 1)
132.6
>>> same_kind("mL/min/1.73m2", "mL/min")
False
>>> parse_unit("×10⁹/L").code
'10*9/L'

Codes follow UCUM 2.2 (case-sensitive), and the clinical spellings of protocols and lab systems are
read too (``x10^9/L``, ``/µL``, ``mmHg``, ``mcg``, ``IU/L``, ``mL/min/1.73m2``, ``years``). Three
rules keep conversions clinically safe: mass and amount of substance convert only with an explicit
molar mass; an arbitrary unit (``[IU]``, ``[arb'U]`` ...) converts only to itself; and
:func:`same_kind` treats differing annotations (``{1.73_m2}``) as different kinds.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

from critlang.errors import CritlangError, UnitError
from critlang.units.clinical import normalise
from critlang.units.dimension import Dimension
from critlang.units.table import UCUM_REVISION_DATE, UCUM_VERSION
from critlang.units.ucum import (
    Conversion,
    Unit,
    display_name,
    exact_molar_mass,
    kind_difference,
    molar_power,
    parse_ucum,
)

__all__ = [
    "UCUM_REVISION_DATE",
    "UCUM_VERSION",
    "Conversion",
    "CritlangError",
    "Dimension",
    "Unit",
    "UnitError",
    "conversion",
    "convert",
    "convert_exact",
    "convert_many",
    "display_name",
    "kind_difference",
    "molar_power",
    "normalise",
    "parse_ucum",
    "parse_unit",
    "same_kind",
    "same_unit",
]

Value = int | float | Decimal | Fraction
UnitLike = str | Unit

# Bounded caches: a long-running screen sees a few hundred distinct codes; random input must not
# grow memory without limit.
_CACHE_LIMIT = 4096
_units: dict[str, Unit] = {}
_conversions: dict[tuple[UnitLike, UnitLike], Conversion] = {}


def parse_unit(code: str) -> Unit:
    """Parse a UCUM code or a clinical spelling; the result's ``code`` is normalised UCUM.

    Raises :class:`UnitError` with the position and a reason for an invalid or ambiguous code.
    """
    unit = _units.get(code)
    if unit is None:
        unit = _parse_uncached(code)
        if len(_units) >= _CACHE_LIMIT:
            _units.clear()
        _units[code] = unit
    return unit


def _parse_uncached(code: str) -> Unit:
    if not isinstance(code, str):
        raise UnitError(repr(code), f"a unit code must be text, not {type(code).__name__}")
    normalised = normalise(code)
    try:
        return parse_ucum(normalised)
    except UnitError as error:
        if normalised == code:
            raise
        position = error.position if code.startswith(normalised[: error.position or 0]) else None
        raise UnitError(
            code, f"{error.reason} (read `{code}` as `{normalised}`)", position
        ) from None


def _unit(unit: UnitLike) -> Unit:
    return unit if isinstance(unit, Unit) else parse_unit(unit)


def conversion(
    source: UnitLike, target: UnitLike, *, molar_mass: Value | str | None = None
) -> Conversion:
    """Resolve a conversion once, to apply to many values (:meth:`Conversion.apply`).

    ``molar_mass`` (g/mol) is needed, and only used, between mass and amount of substance.
    """
    if molar_mass is None:
        key = (source, target)
        found = _conversions.get(key)
        if found is None:
            found = Conversion(_unit(source), _unit(target), None)
            if len(_conversions) >= _CACHE_LIMIT:
                _conversions.clear()
            _conversions[key] = found
        return found
    return Conversion(_unit(source), _unit(target), exact_molar_mass(molar_mass))


def convert(
    value: Value, source: UnitLike, target: UnitLike, *, molar_mass: Value | str | None = None
) -> float:
    """Convert ``value`` from ``source`` to ``target`` units, as a float.

    Raises :class:`UnitError` when the units are invalid or of different kinds (different
    dimensions; mass vs amount of substance without ``molar_mass``; different arbitrary units).
    Annotations are ignored, as UCUM says; use :func:`same_kind` to compare them.
    """
    if molar_mass is None:
        found = _conversions.get((source, target))
        if found is not None and found.factor is not None:
            return float(value) * found._numerator / found._denominator
    return conversion(source, target, molar_mass=molar_mass).apply(float(value))


def convert_many(
    values: Iterable[Value],
    source: UnitLike,
    target: UnitLike,
    *,
    molar_mass: Value | str | None = None,
) -> list[float]:
    """Convert a sequence of values between the same two units (no NumPy needed)."""
    found = conversion(source, target, molar_mass=molar_mass)
    return found.apply_many(float(value) for value in values)


def convert_exact(
    value: Value | str,
    source: UnitLike,
    target: UnitLike,
    *,
    molar_mass: Value | str | None = None,
) -> Fraction:
    """Convert with exact rational arithmetic: ``convert_exact("1.5", "g/dL", "g/L") == 15``.

    Decimal inputs and UCUM's decimal factors are exact, so comparisons at a threshold are decided
    as a clinician reads them, not by binary rounding.
    """
    return conversion(source, target, molar_mass=molar_mass).apply_exact(value)


def same_unit(a: UnitLike, b: UnitLike) -> bool:
    """True when ``a`` and ``b`` are one unit under two codes: the same kind, and a factor of
    exactly 1 between them (UCUM's ``[iU]`` and ``[IU]``, ``[iU]/L`` and ``[IU]/L``)."""
    first, second = _unit(a), _unit(b)
    if first.code == second.code:
        return True
    if kind_difference(first, second) is not None or first.is_special or second.is_special:
        return False
    return conversion(first, second).apply_exact(1) == 1


def same_kind(a: UnitLike, b: UnitLike) -> bool:
    """True when ``a`` and ``b`` measure the same kind of thing and convert without more data.

    Different dimensions, mass vs amount of substance, different arbitrary units and different
    annotations (``mL/min/{1.73_m2}`` vs ``mL/min``) all make it false.
    """
    return kind_difference(_unit(a), _unit(b)) is None
