"""The UCUM engine: strict codes -> :class:`Unit` values, and conversions between them."""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

from critlang.errors import UnitError
from critlang.units.canonical import Dims, dims_key, reduce_term
from critlang.units.dimension import Dimension
from critlang.units.special import FUNCTIONS, SpecialFunction
from critlang.units.syntax import Annotation, Number, Symbol, Term, parse_term
from critlang.units.table import ATOMS, METRIC, PREFIXES, SPECIAL, SPECIAL_FUNCTIONS

Number_ = int | float | Decimal | Fraction

_METRIC = {code: bool(entry[3] & METRIC) for code, entry in ATOMS.items()}
_SPECIAL_ATOMS = frozenset(code for code, entry in ATOMS.items() if entry[3] & SPECIAL)
_atom_cache: dict[str, tuple[Fraction, Dims]] = {}
_prefix_cache: dict[str, Fraction] = {}

# Annotations that only name what is counted: `{cells}/uL` is the same kind as `10*9/L`. Every
# other annotation (`{1.73_m2}`, `{creat}`, `{rbc}` ...) makes a different kind in same_kind().
COUNT_LABELS = frozenset({"cells", "cell", "count", "#", "copies", "beats", "breaths"})

# Magnitudes a unit may have: floats hold about 1e-308 to 1.8e308 (d63 is 86400**63, ~1e311).
_FLOAT_RANGE = (Fraction(1, 10**300), Fraction(10**300))

# Integers up to 2**53 are exact as floats.
_EXACT_FLOAT_INTEGER = 2**53

# The base dimensions that a molar mass links: mass (grams) and amount of substance (moles).
_MASS, _AMOUNT = "M", "N"


def _atom(code: str) -> tuple[Fraction, Dims]:
    cached = _atom_cache.get(code)
    if cached is None:
        numerator, denominator, dims, _flags, _name = ATOMS[code]
        cached = (Fraction(numerator, denominator), dict(dims))
        _atom_cache[code] = cached
    return cached


def _prefix(code: str) -> Fraction:
    cached = _prefix_cache.get(code)
    if cached is None:
        numerator, denominator, _name = PREFIXES[code]
        cached = _prefix_cache[code] = Fraction(numerator, denominator)
    return cached


class Unit:
    """A parsed unit: its UCUM ``code``, ``dimension``, and exact ``factor`` to canonical units.

    Canonical units are the UCUM base units (m, s, g, rad, K, C, cd) plus mol for amount of
    substance and each arbitrary unit for itself. For a special unit (``Cel``, ``[pH]`` ...) the
    ``factor`` is the scale of its conversion function and ``is_special`` is true.
    ``annotations`` holds the ``{...}`` labels, which UCUM ignores in conversion and critlang
    compares in :func:`same_kind`.
    """

    __slots__ = (
        "_float_factor",
        "_prefix_scale",
        "_special",
        "annotations",
        "code",
        "dimension",
        "factor",
    )

    def __init__(
        self,
        code: str,
        dimension: Dimension,
        factor: Fraction,
        annotations: tuple[str, ...] = (),
        special: SpecialFunction | None = None,
        prefix_scale: Fraction = Fraction(1),
    ) -> None:
        self.code = code
        self.dimension = dimension
        self.factor = factor
        self.annotations = annotations
        self._special = special
        self._prefix_scale = prefix_scale
        self._float_factor = float(factor)

    @property
    def is_arbitrary(self) -> bool:
        """True for units built on an arbitrary unit such as ``[IU]`` or ``[arb'U]``."""
        return self.dimension.is_arbitrary

    @property
    def is_special(self) -> bool:
        """True for UCUM's non-ratio units (``Cel``, ``[degF]``, ``[pH]``, ``B[SPL]`` ...)."""
        return self._special is not None

    @property
    def kind_annotations(self) -> tuple[str, ...]:
        """The annotations as :func:`same_kind` compares them: sorted, case-folded, without the
        labels that only say what is counted (``{cells}``, ``{copies}`` ...)."""
        folded = (text.casefold() for text in self.annotations)
        return tuple(sorted(text for text in folded if text not in COUNT_LABELS))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Unit):
            return NotImplemented
        return (
            self.code == other.code
            and self.dimension == other.dimension
            and self.factor == other.factor
            and self.annotations == other.annotations
            and self._special is other._special
        )

    def __hash__(self) -> int:
        # Equal units have equal codes; hashing a Fraction would cost more than the parse.
        return hash(self.code)

    def __reduce__(self) -> tuple[object, tuple[str]]:
        # A unit pickles as its code (special units hold functions, which do not pickle).
        return (parse_ucum, (self.code,))

    def __repr__(self) -> str:
        return f"Unit({self.code!r})"

    def __str__(self) -> str:
        return self.code

    def __mul__(self, other: Unit) -> Unit:
        return _combine(self, other, ".")

    def __truediv__(self, other: Unit) -> Unit:
        return _combine(self, other, "/")

    def __pow__(self, power: int) -> Unit:
        if self._special is not None:
            raise UnitError(self.code, f"special unit `{self.code}` cannot be raised to a power")
        if power == 0:
            return parse_ucum("1")
        base = self
        result = base
        for _ in range(abs(power) - 1):
            result = result * base
        return parse_ucum("1") / result if power < 0 else result


def _operand(code: str) -> str:
    """Write a unit code so that it can follow ``.`` or ``/`` without changing meaning."""
    if code.startswith("/"):
        code = "1" + code
    return f"({code})" if "." in code or "/" in code else code


def _combine(left: Unit, right: Unit, operator: str) -> Unit:
    for unit in (left, right):
        if unit._special is not None:
            raise UnitError(
                unit.code, f"special unit `{unit.code}` cannot be multiplied or divided"
            )
    if operator == ".":
        code = f"{left.code}.{_operand(right.code)}"
        dimension = left.dimension * right.dimension
        factor = left.factor * right.factor
    else:
        code = f"{left.code}/{_operand(right.code)}"
        dimension = left.dimension / right.dimension
        factor = left.factor / right.factor
    return Unit(code, dimension, factor, left.annotations + right.annotations)


def _special_symbol(term: Term, code: str) -> Symbol | None:
    """The special atom of ``term``, if it has one; raises if it is used in a compound."""
    found: list[Symbol] = []
    _collect_special(term, found)
    if not found:
        return None
    symbol = found[0]
    alone = len(term.components) == 1 and term.components[0] is symbol and term.operators[0] == "."
    if not alone or symbol.exponent != 1:
        raise UnitError(
            code,
            f"special unit `{symbol.prefix}{symbol.atom}` cannot be combined with other units "
            "or raised to a power",
            symbol.position,
        )
    return symbol


def _collect_special(term: Term, found: list[Symbol]) -> None:
    for component in term.components:
        if isinstance(component, Term):
            _collect_special(component, found)
        elif isinstance(component, Symbol) and component.atom in _SPECIAL_ATOMS:
            found.append(component)


def parse_ucum(code: str) -> Unit:
    """Parse a strict, case-sensitive UCUM code (no clinical spellings); raises ``UnitError``."""
    term = parse_term(code, _METRIC, PREFIXES)
    special_symbol = _special_symbol(term, code)
    dims: Dims = {}
    annotations: list[str] = []
    factor = reduce_term(term, _atom, _prefix, dims, annotations)
    dimension = Dimension(dims_key(dims))
    if not _FLOAT_RANGE[0] <= abs(factor) <= _FLOAT_RANGE[1]:
        raise UnitError(code, "the unit's magnitude is outside the range a float can hold")
    if special_symbol is None:
        return Unit(code, dimension, factor, tuple(annotations))
    function_name, numerator, denominator = SPECIAL_FUNCTIONS[special_symbol.atom]
    prefix_scale = _prefix(special_symbol.prefix) if special_symbol.prefix else Fraction(1)
    return Unit(
        code,
        dimension,
        Fraction(numerator, denominator),
        tuple(annotations),
        FUNCTIONS[function_name],
        prefix_scale,
    )


def display_name(code: str) -> str:
    """The long form of a strict UCUM code: ``mm`` -> ``(millimeter)``; empty is ``(unity)``."""
    if not code:
        return "(unity)"
    return _display_term(parse_term(code, _METRIC, PREFIXES))


def _display_term(term: Term) -> str:
    parts: list[str] = []
    for index, (operator, component) in enumerate(
        zip(term.operators, term.components, strict=True)
    ):
        if index or operator == "/":
            parts.append(" * " if operator == "." else " / ")
        if isinstance(component, Symbol):
            name = ATOMS[component.atom][4]
            if component.prefix:
                name = PREFIXES[component.prefix][2] + name
            parts.append(
                f"({name})" if component.exponent == 1 else f"({name} ^ {component.exponent})"
            )
        elif isinstance(component, Number):
            parts.append(str(component.value))
        elif isinstance(component, Annotation):
            parts.append(f"{{{component.text}}}")
        else:
            parts.append(f"({_display_term(component)})")
    return "".join(parts).lstrip()


def kind_difference(source: Unit, target: Unit) -> str | None:
    """Why two units are not of the same kind, or ``None`` when they are.

    Differing dimensions (including mass vs amount of substance, and one arbitrary unit vs
    another) and differing annotations (``mL/min/{1.73_m2}`` vs ``mL/min``) both count.
    """
    if source.dimension != target.dimension:
        return (
            f"`{source.code}` and `{target.code}` have different dimensions: "
            f"{source.dimension.describe()} vs {target.dimension.describe()}"
        )
    if source.kind_annotations != target.kind_annotations:
        return (
            f"`{source.code}` and `{target.code}` differ in annotation: "
            f"{_annotation_text(source)} vs {_annotation_text(target)}"
        )
    return None


def _annotation_text(unit: Unit) -> str:
    return " ".join(f"{{{text}}}" for text in unit.annotations) or "none"


class Conversion:
    """A resolved conversion between two units, applied to many values without re-parsing.

    ``factor`` is the exact ratio for linear conversions and ``None`` when a special unit is
    involved.
    """

    __slots__ = ("_affine", "_denominator", "_numerator", "factor", "source", "target")

    def __init__(self, source: Unit, target: Unit, molar_mass: Fraction | None) -> None:
        self.source = source
        self.target = target
        if source.dimension != target.dimension:
            mass_power = molar_power(source, target)
            if mass_power is None:
                raise UnitError(source.code, kind_difference(source, target) or "units differ")
            if molar_mass is None:
                raise UnitError(
                    source.code,
                    f"{kind_difference(source, target)}; converting between mass and amount "
                    "of substance needs the analyte's molar mass",
                )
            scale: Fraction = molar_mass ** (-mass_power)
        else:
            scale = Fraction(1)
        self._affine = False
        if source._special is None and target._special is None:
            self.factor: Fraction | None = source.factor / target.factor * scale
            # value * numerator / denominator, when both are exact floats, rounds as a person
            # expects more often than value * float(factor): 60 mL/min is 3.6 L/h, not 3.5999...
            numerator, denominator = self.factor.numerator, self.factor.denominator
            if max(abs(numerator), denominator) <= _EXACT_FLOAT_INTEGER:
                self._numerator, self._denominator = float(numerator), float(denominator)
            elif self.factor <= _FLOAT_RANGE[1]:
                self._numerator, self._denominator = float(self.factor), 1.0
            else:
                raise UnitError(
                    source.code,
                    f"converting `{source.code}` to `{target.code}` multiplies by more than a "
                    "float can hold",
                )
        else:
            if molar_mass is not None and scale != 1:
                raise UnitError(source.code, "a molar mass cannot be applied to a special unit")
            self.factor = None
            self._numerator = self._denominator = 1.0
            self._affine = all(
                unit._special is None or unit._special.offset is not None
                for unit in (source, target)
            )

    def apply(self, value: float) -> float:
        """Convert one value (as a float)."""
        if self.factor is not None:
            return value * self._numerator / self._denominator
        return self._apply_special(float(value))

    def apply_many(self, values: Iterable[float]) -> list[float]:
        """Convert a sequence of values."""
        if self.factor is not None:
            numerator, denominator = self._numerator, self._denominator
            return [value * numerator / denominator for value in values]
        return [self._apply_special(float(value)) for value in values]

    def apply_exact(self, value: Number_ | str) -> Fraction:
        """Convert with exact rational arithmetic (temperatures included); logarithmic units
        are computed in floating point and returned as the fraction of that float."""
        exact = value if type(value) is Fraction else _exact_value(value, self.source.code)
        if self.factor is not None:
            return exact if self.factor == 1 else exact * self.factor
        if not self._affine:
            result = self._apply_special(float(exact))
            if not math.isfinite(result):
                raise UnitError(
                    self.source.code,
                    f"{value} {self.source.code} has no finite value in `{self.target.code}`",
                )
            return Fraction(result)
        source, target = self.source, self.target
        source_fn, target_fn = source._special, target._special
        canonical = exact * source.factor
        if source_fn is not None:
            assert source_fn.offset is not None
            canonical = (exact * source._prefix_scale + source_fn.offset) * source.factor
        if target_fn is None:
            return canonical / target.factor
        assert target_fn.offset is not None
        return (canonical / target.factor - target_fn.offset) / target._prefix_scale

    def _apply_special(self, value: float) -> float:
        source, target = self.source, self.target
        if self._affine:
            # Temperatures: exact, so 37 Cel is 98.6 [degF], not 98.59999999999997.
            if not math.isfinite(value):
                return value
            exact = self.apply_exact(value)
            try:
                return float(exact)
            except OverflowError:  # beyond float range, as float arithmetic would say
                return math.inf if exact > 0 else -math.inf
        try:
            if source._special is not None:
                scaled = source._special.to_scale(value * float(source._prefix_scale))
                canonical = scaled * source._float_factor
            else:
                canonical = value * source._float_factor
            if target._special is not None:
                magnitude = canonical / target._float_factor
                return target._special.from_scale(magnitude) / float(target._prefix_scale)
            return canonical / target._float_factor
        except (ValueError, OverflowError, ZeroDivisionError):
            raise UnitError(
                source.code,
                f"{value} {source.code} has no value in `{target.code}` "
                "(outside the range of a special unit's conversion)",
            ) from None


def molar_power(source: Unit, target: Unit) -> int | None:
    """k such that ``source`` = ``target`` × (mass/amount)^k, k ≠ 0: the units differ by mass
    against amount of substance, so a molar mass converts them (mg/dL vs umol/L is 1).
    None when they differ in any other way, or not at all."""
    ratio = dict((source.dimension / target.dimension).exponents)
    power = ratio.get(_MASS, 0)
    if power and ratio.get(_AMOUNT) == -power and len(ratio) == 2:
        return power
    return None


def _exact_value(value: Number_ | str, code: str) -> Fraction:
    try:
        return Fraction(value)
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        raise UnitError(code, f"{value!r} is not a number that can be converted") from None


def exact_molar_mass(molar_mass: Number_ | str) -> Fraction:
    """A molar mass in g/mol as an exact positive fraction."""
    try:
        value = Fraction(molar_mass)
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        raise UnitError(
            "", f"molar mass {molar_mass!r} is not a number (write it in g/mol)"
        ) from None
    if value <= 0:
        raise UnitError("", f"molar mass must be positive, got {molar_mass} g/mol")
    return value
