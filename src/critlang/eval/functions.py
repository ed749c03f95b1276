"""The function library: a small fixed set with documented formulas and units.

=================  ===========================================================  =====================
function           formula                                                      result
=================  ===========================================================  =====================
abs(x)             |x|                                                          as x
min(a, b, ...)     the smallest (numbers, or quantities of one dimension)       as the first
max(a, b, ...)     the largest                                                  as the first
days_between(a,b)  calendar days from date a to date b                          number
bmi(w, h)          w / h², in kg/m2                                             kg/m2
bsa_mosteller(w,h) √(height_cm × weight_kg / 3600) (Mosteller 1987)             m2
cockcroft_gault    (140 − age) × weight_kg / (72 × creatinine_mg/dL),           mL/min
 (age,w,sex,cr)    × 0.85 if female (Cockcroft & Gault 1976)
ckd_epi_2021       142 × min(Scr/κ,1)^α × max(Scr/κ,1)^−1.200 × 0.9938^age      mL/min/{1.73_m2}
 (age, sex, cr)    × 1.012 if female; κ 0.7 F / 0.9 M, α −0.241 F / −0.302 M
                   (CKD-EPI 2021, race-free; Inker et al., NEJM 2021)
=================  ===========================================================  =====================

Creatinine in molar units is converted with its molar mass, 113.12 g/mol.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from fractions import Fraction

from critlang.semantics.ir import VType
from critlang.units import Unit, convert_exact, parse_unit

CREATININE_MOLAR_MASS = Fraction("113.12")
FORMULAS = {
    "bmi": "BMI = weight / height^2",
    "bsa_mosteller": "BSA (Mosteller 1987) = sqrt(height_cm x weight_kg / 3600)",
    "cockcroft_gault": "Cockcroft-Gault 1976 = (140 - age) x weight_kg / (72 x Scr_mg/dL) x 0.85 if female",
    "ckd_epi_2021": "CKD-EPI 2021 (race-free) = 142 x min(Scr/k,1)^a x max(Scr/k,1)^-1.200 x 0.9938^age x 1.012 if female",
}


class Quantity:
    """A runtime quantity: an exact value in a unit, and where it came from."""

    __slots__ = ("source", "unit", "value")

    def __init__(self, value: Fraction, unit: Unit, source: object = None) -> None:
        self.value = value
        self.unit = unit
        self.source = source

    def to(self, unit: Unit | str, molar_mass: Fraction | None = None) -> Fraction:
        """The value in ``unit``, exactly; no arithmetic when it is already in that unit."""
        code = unit if isinstance(unit, str) else unit.code
        if code == self.unit.code:
            return self.value
        return convert_exact(self.value, self.unit, unit, molar_mass=molar_mass)

    def __repr__(self) -> str:
        return f"Quantity({self.value}, {self.unit.code!r})"


def _dimension(code: str) -> object:
    return parse_unit(code).dimension


_MASS, _LENGTH = _dimension("g"), _dimension("m")
_CREATININE = (_dimension("mg/dL"), _dimension("umol/L"))


def signature(function: str, args: Sequence[VType]) -> VType:
    """The result type of ``function`` applied to ``args``; ValueError says what is wrong."""

    def quantity_of(index: int, dimensions: Sequence[object], what: str) -> None:
        arg = args[index]
        if arg.kind != "quantity" or arg.unit is None or arg.unit.dimension not in dimensions:
            raise ValueError(
                f"`{function}` argument {index + 1} must be {what}, not {arg.describe()}"
            )

    def age(index: int) -> None:
        arg = args[index]
        if not (
            arg.kind == "number"
            or (
                arg.kind == "quantity"
                and arg.unit is not None
                and arg.unit.dimension == _dimension("a")
            )
        ):
            raise ValueError(
                f"`{function}` argument {index + 1} must be an age, not {arg.describe()}"
            )

    def sex(index: int) -> None:
        if args[index].kind != "symbol":
            raise ValueError(
                f"`{function}` argument {index + 1} must be sex, not {args[index].describe()}"
            )

    if function in ("abs", "min", "max"):
        kinds = {arg.kind for arg in args}
        if kinds - {"number", "quantity"} or len(kinds) > 1:
            raise ValueError(f"`{function}` takes numbers, or quantities of one kind")
        dims = {arg.unit.dimension for arg in args if arg.unit is not None}
        if len(dims) > 1:
            raise ValueError(f"`{function}` takes quantities of one dimension")
        return args[0]
    if function == "days_between":
        if any(arg.kind != "date" for arg in args):
            raise ValueError("`days_between` takes two dates")
        return VType(kind="number", integer=True)
    if function in ("bmi", "bsa_mosteller"):
        quantity_of(0, [_MASS], "a weight")
        quantity_of(1, [_LENGTH], "a height")
        return VType(kind="quantity", unit=parse_unit("kg/m2" if function == "bmi" else "m2"))
    if function == "cockcroft_gault":
        age(0)
        quantity_of(1, [_MASS], "a weight")
        sex(2)
        quantity_of(3, _CREATININE, "a creatinine concentration")
        return VType(kind="quantity", unit=parse_unit("mL/min"))
    if function == "ckd_epi_2021":
        age(0)
        sex(1)
        quantity_of(2, _CREATININE, "a creatinine concentration")
        return VType(kind="quantity", unit=parse_unit("mL/min/{1.73_m2}"))
    raise ValueError(f"unknown function `{function}`")


Runtime = Fraction | Quantity | datetime.date | str | bool


def _years(value: Runtime) -> Fraction:
    if isinstance(value, Quantity):
        return value.to("a")
    assert isinstance(value, Fraction)
    return value


def _creatinine_mg_dl(value: Runtime) -> Fraction:
    assert isinstance(value, Quantity)
    return value.to("mg/dL", molar_mass=CREATININE_MOLAR_MASS)


def _female(value: Runtime) -> bool:
    return str(value).casefold() in ("female", "f")


def call(function: str, args: Sequence[Runtime]) -> Runtime:
    """Apply a function to runtime values (the checker has already checked their types)."""
    if function == "abs":
        (value,) = args
        if isinstance(value, Quantity):
            return Quantity(abs(value.value), value.unit)
        assert isinstance(value, Fraction)
        return abs(value)
    if function in ("min", "max"):
        pick = min if function == "min" else max
        if isinstance(args[0], Quantity):
            unit = args[0].unit
            best = pick(args, key=lambda item: item.to(unit))  # type: ignore[union-attr]
            assert isinstance(best, Quantity)
            return Quantity(best.to(unit), unit)
        numbers = [arg for arg in args if isinstance(arg, Fraction)]
        return pick(numbers)
    if function == "days_between":
        first, second = args
        assert isinstance(first, datetime.date) and isinstance(second, datetime.date)
        return Fraction((second - first).days)
    if function == "bmi":
        weight, height = args
        assert isinstance(weight, Quantity) and isinstance(height, Quantity)
        meters = height.to("m")
        return Quantity(weight.to("kg") / (meters * meters), parse_unit("kg/m2"))
    if function == "bsa_mosteller":
        weight, height = args
        assert isinstance(weight, Quantity) and isinstance(height, Quantity)
        product = float(height.to("cm") * weight.to("kg") / 3600)
        return Quantity(Fraction(math.sqrt(product)), parse_unit("m2"))
    if function == "cockcroft_gault":
        age, weight, sex, creatinine = args
        clearance = (140 - _years(age)) * weight.to("kg") / (72 * _creatinine_mg_dl(creatinine))  # type: ignore[union-attr]
        if _female(sex):
            clearance *= Fraction("0.85")
        return Quantity(clearance, parse_unit("mL/min"))
    if function == "ckd_epi_2021":
        age, sex, creatinine = args
        female = _female(sex)
        kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
        ratio = float(_creatinine_mg_dl(creatinine)) / kappa
        gfr = 142 * min(ratio, 1) ** alpha * max(ratio, 1) ** -1.200 * 0.9938 ** float(_years(age))
        if female:
            gfr *= 1.012
        return Quantity(Fraction(gfr), parse_unit("mL/min/{1.73_m2}"))
    raise ValueError(f"unknown function `{function}`")
