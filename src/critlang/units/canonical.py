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
    sign: int = 1,
) -> Fraction:
    """Return the factor of ``term`` raised to ``sign``; add its dimensions and annotations.

    ``dims`` and ``annotations`` are filled in place so that nested terms share them.
    """
    factor = Fraction(1)
    for operator, component in zip(term.operators, term.components, strict=True):
        direction = sign if operator == "." else -sign
        if isinstance(component, Symbol):
            atom_factor, atom_dims = atom(component.atom)
            if component.prefix:
                atom_factor *= prefix(component.prefix)
            power = component.exponent * direction
            if power == 1:
                factor *= atom_factor
            elif power == -1:
                factor /= atom_factor
            else:
                factor *= atom_factor**power
            for dim, exponent in atom_dims.items():
                dims[dim] = dims.get(dim, 0) + exponent * power
            if component.annotation is not None:
                annotations.append(component.annotation)
        elif isinstance(component, Number):
            factor *= Fraction(component.value) ** direction
            if component.annotation is not None:
                annotations.append(component.annotation)
        elif isinstance(component, Annotation):
            annotations.append(component.text)
        else:
            factor *= reduce_term(component, atom, prefix, dims, annotations, direction)
    return factor


def dims_key(dims: Dims) -> tuple[tuple[str, int], ...]:
    """The hashable, order-independent form of a dimension map (zero exponents dropped)."""
    return tuple(sorted((dim, exponent) for dim, exponent in dims.items() if exponent))
