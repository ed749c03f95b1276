"""Reduce a parsed UCUM term to canonical form: an exact factor times powers of base dimensions.

Shared by the run-time engine and the table generator, which differ only in how they look an atom
up (a resolved table at run time, a recursive walk of the XML definitions when generating).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from critlang.units.syntax import Annotation, Number, Symbol, Term

Dims = dict[str, int]
AtomLookup = Callable[[str], tuple[Fraction, Dims]]
PrefixLookup = Callable[[str], Fraction]


def reduce_term(
    term: Term,
    atom: AtomLookup,
    prefix: PrefixLookup,
    dims: Dims,
    annotations: list[str],
) -> Fraction:
    """Return the factor of ``term``; add its dimensions and annotations to ``dims`` and
    ``annotations`` (filled in place, so that nested terms share them)."""
    numerator, denominator = _reduce(term, atom, prefix, dims, annotations, 1)
    return Fraction(numerator, denominator)


def _reduce(
    term: Term,
    atom: AtomLookup,
    prefix: PrefixLookup,
    dims: Dims,
    annotations: list[str],
    sign: int,
) -> tuple[int, int]:
    # Integer numerator and denominator, normalised once by the caller: a Fraction operation per
    # component would compute a gcd each time.
    numerator = denominator = 1
    for operator, component in zip(term.operators, term.components, strict=True):
        direction = sign if operator == "." else -sign
        if isinstance(component, Symbol):
            factor, atom_dims = atom(component.atom)
            if component.prefix:
                factor *= prefix(component.prefix)
            power = component.exponent * direction
            top, bottom = (
                (factor.numerator, factor.denominator)
                if power > 0
                else (factor.denominator, factor.numerator)
            )
            if power in (1, -1):
                numerator *= top
                denominator *= bottom
            else:
                numerator *= top ** abs(power)
                denominator *= bottom ** abs(power)
            for dim, exponent in atom_dims.items():
                dims[dim] = dims.get(dim, 0) + exponent * power
            if component.annotation is not None:
                annotations.append(component.annotation)
        elif isinstance(component, Number):
            if direction > 0:
                numerator *= component.value
            else:
                denominator *= component.value
            if component.annotation is not None:
                annotations.append(component.annotation)
        elif isinstance(component, Annotation):
            annotations.append(component.text)
        else:
            inner_numerator, inner_denominator = _reduce(
                component, atom, prefix, dims, annotations, direction
            )
            numerator *= inner_numerator
            denominator *= inner_denominator
    return numerator, denominator


def dims_key(dims: Dims) -> tuple[tuple[str, int], ...]:
    """The hashable, order-independent form of a dimension map (zero exponents dropped)."""
    return tuple(sorted((dim, exponent) for dim, exponent in dims.items() if exponent))
