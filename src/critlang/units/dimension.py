"""Dimensions: products of powers of base quantities, named the way a clinician reads them."""

from __future__ import annotations

from critlang.units.table import ATOMS

# Base dimensions: the UCUM base units' letters, and N for amount of substance (kept apart from
# pure numbers for clinical safety). Arbitrary units are base dimensions named by their atom code.
BASE_NAMES = {
    "M": "mass",
    "L": "length",
    "T": "time",
    "N": "amount of substance",
    "C": "temperature",
    "Q": "electric charge",
    "F": "luminous intensity",
    "A": "plane angle",
}
_ORDER = {dim: index for index, dim in enumerate(BASE_NAMES)}

Exponents = tuple[tuple[str, int], ...]

# Names for products that read badly when spelt out.
_NAMED: dict[Exponents, str] = {
    (("L", 2),): "area",
    (("L", 3),): "volume",
    (("A", 2),): "solid angle",
    (("L", 1), ("M", 1), ("T", -2)): "force",
    (("L", -1), ("M", 1), ("T", -2)): "pressure",
    (("L", 2), ("M", 1), ("T", -2)): "energy",
    (("L", 2), ("M", 1), ("T", -3)): "power",
}


def _display_order(item: tuple[str, int]) -> tuple[int, str]:
    return (_ORDER.get(item[0], len(_ORDER)), item[0])


def _base_name(dim: str) -> str:
    if dim in BASE_NAMES:
        return BASE_NAMES[dim]
    atom = ATOMS.get(dim)
    return atom[4] if atom else dim


def _name_product(exponents: Exponents) -> str:
    """Name a product of positive powers: ``(("L", 3),)`` -> ``volume``."""
    key = tuple(sorted(exponents))
    if key in _NAMED:
        return _NAMED[key]
    parts = []
    for dim, exponent in sorted(exponents, key=_display_order):
        name = _base_name(dim)
        parts.append(name if exponent == 1 else f"{name}^{exponent}")
    return "·".join(parts)


class Dimension:
    """An immutable product of base dimensions, e.g. mass/volume.

    ``exponents`` is a sorted tuple of ``(base, exponent)`` pairs with no zero exponents; ``str()``
    gives a UCUM-like formula (``M.L-3``) and :meth:`describe` words (``mass/volume``).
    """

    __slots__ = ("_hash", "exponents")

    def __init__(self, exponents: Exponents) -> None:
        self.exponents = exponents
        self._hash = hash(exponents)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dimension) and self.exponents == other.exponents

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Dimension({str(self)!r})"

    def __str__(self) -> str:
        if not self.exponents:
            return "1"
        return ".".join(
            dim if exponent == 1 else f"{dim}{exponent}"
            for dim, exponent in sorted(self.exponents, key=_display_order)
        )

    @property
    def is_dimensionless(self) -> bool:
        return not self.exponents

    @property
    def is_arbitrary(self) -> bool:
        """True when an arbitrary unit (``[IU]``, ``[arb'U]`` ...) is part of it."""
        return any(dim.startswith("[") for dim, _ in self.exponents)

    def describe(self) -> str:
        """Words for the dimension: ``mass/volume``, ``volume/time``, ``number`` ..."""
        if not self.exponents:
            return "number"
        if self.exponents in _NAMED:
            return _NAMED[self.exponents]
        numerator = tuple((dim, exp) for dim, exp in self.exponents if exp > 0)
        denominator = tuple((dim, -exp) for dim, exp in self.exponents if exp < 0)
        top = _name_product(numerator) if numerator else "number"
        if not denominator:
            return top
        bottom = _name_product(denominator)
        if len(denominator) > 1 and bottom not in _NAMED.values():
            bottom = f"({bottom})"
        return f"{top}/{bottom}"

    def __mul__(self, other: Dimension) -> Dimension:
        return self._combine(other, 1)

    def __truediv__(self, other: Dimension) -> Dimension:
        return self._combine(other, -1)

    def __pow__(self, power: int) -> Dimension:
        return Dimension(tuple((dim, exp * power) for dim, exp in self.exponents if power))

    def _combine(self, other: Dimension, sign: int) -> Dimension:
        merged = dict(self.exponents)
        for dim, exponent in other.exponents:
            merged[dim] = merged.get(dim, 0) + sign * exponent
        return Dimension(tuple(sorted((d, e) for d, e in merged.items() if e)))


DIMENSIONLESS = Dimension(())
