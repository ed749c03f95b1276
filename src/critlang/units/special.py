"""UCUM's special (non-ratio) units: temperatures, logarithmic levels, pH, homeopathic potencies.

Each function maps a value of the special unit to a magnitude in units of the function's scale
(``to_scale``) and back (``from_scale``); the engine multiplies by the scale to reach canonical
units. The three temperature scales are affine with exact rational offsets, so they convert exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

Real = Callable[[float], float]


class SpecialFunction:
    """A named conversion pair; ``offset`` is set for the affine (exactly convertible) ones."""

    __slots__ = ("from_scale", "name", "offset", "to_scale")

    def __init__(
        self, name: str, to_scale: Real, from_scale: Real, offset: Fraction | None = None
    ) -> None:
        self.name = name
        self.to_scale = to_scale
        self.from_scale = from_scale
        self.offset = offset


def _affine(name: str, offset: str) -> SpecialFunction:
    exact = Fraction(offset)
    shift = float(exact)
    return SpecialFunction(name, lambda x: x + shift, lambda y: y - shift, exact)


def _power(name: str, base: float) -> SpecialFunction:
    """Homeopathic potencies and pH: the value is minus the logarithm of a dilution."""
    log_base = math.log(base)
    return SpecialFunction(name, lambda x: base ** (-x), lambda y: -math.log(y) / log_base)


FUNCTIONS: dict[str, SpecialFunction] = {
    # Kelvin = Celsius + 273.15; Rankine-scale Fahrenheit (5/9 K) = F + 459.67; Réaumur (5/4 K).
    "Cel": _affine("Cel", "273.15"),
    "degF": _affine("degF", "459.67"),
    "degRe": _affine("degRe", "218.52"),
    # Prism diopter: 100 tan(angle); the scale is the radian.
    "tanTimes100": SpecialFunction(
        "tanTimes100", lambda x: math.atan(x / 100), lambda y: 100 * math.tan(y)
    ),
    # Percent of slope: 100 tan(angle); the scale is the degree, so work in degrees.
    "100tan": SpecialFunction(
        "100tan",
        lambda x: math.degrees(math.atan(x / 100)),
        lambda y: 100 * math.tan(math.radians(y)),
    ),
    "hpX": _power("hpX", 10.0),
    "hpC": _power("hpC", 100.0),
    "hpM": _power("hpM", 1000.0),
    "hpQ": _power("hpQ", 50000.0),
    "pH": _power("pH", 10.0),
    "ln": SpecialFunction("ln", math.exp, math.log),
    "lg": SpecialFunction("lg", lambda x: 10.0**x, math.log10),
    "lgTimes2": SpecialFunction("lgTimes2", lambda x: 10.0 ** (x / 2), lambda y: 2 * math.log10(y)),
    "sqrt": SpecialFunction("sqrt", lambda x: x * x, math.sqrt),
    "ld": SpecialFunction("ld", lambda x: 2.0**x, math.log2),
}
