"""The canonical spelling of a unit in a criteria file, as ``critlang fmt`` writes it.

One spelling per unit, chosen so that it reads as a protocol writes it and the unit engine reads it
back as the same UCUM code:

- a duration is an English word: ``18 years``, ``1 month``, ``48 hours`` (UCUM ``a``, ``mo``,
  ``h``; also ``week``, ``day``, ``minute``, ``second``), singular for exactly one;
- a power of ten is the clinician's ``x10^9/L`` (UCUM ``10*9/L``; ``×10⁹/L``, ``10^9/L`` and
  ``x10*9/L`` are the same unit);
- the lab-report spellings ``mmHg``, ``cmH2O``, ``IU`` (``IU/L``, ``mIU/mL``), ``mEq``, ``mOsm``
  and ``mL/min/1.73m2`` stand for UCUM ``mm[Hg]``, ``cm[H2O]``, ``[IU]``, ``meq``, ``mosm`` and
  ``/{1.73_m2}``: the forms the clinical reader (:mod:`critlang.units.clinical`) maps to them;
- every other unit is written as its UCUM code: ``/uL`` (not ``/µL``), ``ug`` (not ``mcg``),
  ``umol/L``, ``g/dL``, ``%``.

A spelling is used only after the parser has read it back, in a quantity (or after ``:`` in a
declaration), as the same UCUM code; otherwise the unit keeps its UCUM code, and failing that the
spelling it was written in. Formatting therefore never changes what a unit means.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal

from critlang.errors import CritlangError
from critlang.syntax import ast
from critlang.syntax.parser import parse_expression, parse_program

# UCUM time atoms -> the word a protocol uses.
_DURATION_WORDS = {
    "a": "year",
    "mo": "month",
    "wk": "week",
    "d": "day",
    "h": "hour",
    "min": "minute",
    "s": "second",
}
# `10*9/L`: a power of ten in front of a division (or alone).
_TEN_POWER = re.compile(r"10\*([+-]?[0-9]+)(?=/|$)")
# One unit symbol between operators, or an annotation (as in critlang.units.clinical).
_TOKEN = re.compile(r"[^./(){}\s]+|\{[^}]*\}")
_CLINICAL_TOKENS = {
    "mm[Hg]": "mmHg",
    "cm[H2O]": "cmH2O",
    "meq": "mEq",
    "mosm": "mOsm",
}
# `[IU]` with an optional metric prefix: `m[IU]` -> `mIU`.
_INTERNATIONAL_UNIT = re.compile(r"^(da|[YZEPTGMkhdcmunpfazy])?\[IU\]$")


def preferred_spelling(code: str, value: Decimal | None = None) -> str:
    """The spelling the formatter prefers for the UCUM ``code`` (not yet checked by the parser).

    ``value`` chooses between a duration's singular and plural (``1 month``, ``3 months``).
    """
    word = _DURATION_WORDS.get(code)
    if word is not None:
        return word if value is not None and value == 1 else word + "s"
    power = _TEN_POWER.match(code)
    text = f"x10^{power.group(1)}{code[power.end() :]}" if power else code
    text = text.replace("/{1.73_m2}", "/1.73m2")
    return _TOKEN.sub(lambda match: _clinical_token(match.group(0)), text)


def _clinical_token(token: str) -> str:
    spelled = _CLINICAL_TOKENS.get(token)
    if spelled is not None:
        return spelled
    international = _INTERNATIONAL_UNIT.match(token)
    if international is not None:
        return f"{international.group(1) or ''}IU"
    return token


def canonical_unit(written: str, code: str, value: Decimal | None = None) -> str:
    """The spelling to write for a quantity's unit: ``written`` as the author spelled it, ``code``
    the UCUM code it was read as, ``value`` the number in front of it."""
    for spelling in (preferred_spelling(code, value), code):
        if spelling == written or _reads_as(spelling, code, in_declaration=False):
            return spelling
    return written


def canonical_unit_spec(written: str, code: str) -> str:
    """The spelling to write for a declaration's unit (``lab ANC: x10^9/L``)."""
    for spelling in (preferred_spelling(code), code):
        if spelling == written or _reads_as(spelling, code, in_declaration=True):
            return spelling
    return written


@functools.lru_cache(maxsize=1024)
def _reads_as(spelling: str, code: str, *, in_declaration: bool) -> bool:
    """Whether the parser reads ``spelling``, where a unit stands, as the UCUM ``code``."""
    try:
        if in_declaration:
            (item,) = parse_program(f"lab x: {spelling}").items
            return (
                isinstance(item, ast.Declaration)
                and isinstance(item.spec, ast.UnitSpec)
                and item.spec.unit == code
            )
        node = parse_expression(f"1 {spelling}")
    except (CritlangError, ValueError):
        return False
    return isinstance(node, ast.Quantity) and node.unit == code
