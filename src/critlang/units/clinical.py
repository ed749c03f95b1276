"""Clinical unit spellings -> UCUM codes.

Protocols and lab systems write ``x10^9/L``, ``×10⁹/L``, ``/µL``, ``mmHg``, ``mcg``, ``IU/L``,
``mL/min/1.73m2``, ``years``. This module rewrites such spellings into the UCUM codes they mean.
It never guesses: a spelling that could mean two different units (``ft`` is femtotonne in UCUM
and foot on a chart; ``oz`` is a mass or a volume) is rejected with a message that names the
readings, and the caller writes the UCUM code it means.
"""

from __future__ import annotations

import re

from critlang.errors import UnitError
from critlang.units.table import ATOMS, PREFIXES

# Whole codes that lab systems send and that are valid UCUM with a meaning nobody intends in a
# clinic (kelvin per microlitre, picohenry), or that need more than a token rewrite.
WHOLE_CODES: dict[str, str] = {
    "K/uL": "10*3/uL",
    "K/µL": "10*3/uL",
    "K/mm3": "10*3/mm3",
    "M/uL": "10*6/uL",
    "M/µL": "10*6/uL",
    "M/mm3": "10*6/mm3",
    "pH": "[pH]",
}

# Token rewrites inside a code (a token is a unit symbol between operators).
TOKENS: dict[str, str] = {
    "mcg": "ug",
    "mcL": "uL",
    "mcl": "uL",
    "mcmol": "umol",
    "mmHg": "mm[Hg]",
    "cmH2O": "cm[H2O]",
    "mEq": "meq",
    "Eq": "eq",
    "mOsm": "mosm",
    "IU": "[IU]",
    "cc": "cm3",
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
    "mins": "min",
    "minute": "min",
    "minutes": "min",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
    "week": "wk",
    "weeks": "wk",
    "wks": "wk",
    "month": "mo",
    "months": "mo",
    "mos": "mo",
    "y": "a",
    "yr": "a",
    "yrs": "a",
    "year": "a",
    "years": "a",
    "lb": "[lb_av]",
    "lbs": "[lb_av]",
    "in": "[in_i]",
    "inch": "[in_i]",
    "inches": "[in_i]",
    "ppm": "[ppm]",
    "ppb": "[ppb]",
    "msec": "ms",
    "HPF": "[HPF]",
    "hpf": "[HPF]",
    "LPF": "[LPF]",
    "lpf": "[LPF]",
    "cells": "{cells}",
    "cell": "{cells}",
    "copies": "{copies}",
    "bpm": "{beats}/min",
    "beats": "{beats}",
    "breaths": "{breaths}",
    "°C": "Cel",
    "℃": "Cel",
    "degC": "Cel",
    "°F": "[degF]",
    "℉": "[degF]",
    "degF": "[degF]",
}

# Prefixed international units: mIU -> m[IU], µIU -> u[IU], kIU -> k[IU].
_PREFIXED_IU = re.compile(r"^(da|[YZEPTGMkhdcmunpfazy])IU$")

# Spellings that name two different units; each maps to the readings offered in the message.
AMBIGUOUS: dict[str, str] = {
    "ft": "UCUM reads `ft` as femtotonne; write `[ft_i]` for the international foot",
    "pt": "UCUM reads `pt` as picotonne; write `[pt_us]` or `[pt_br]` for a pint",
    "gal": "a gallon is US or British: write `[gal_us]` or `[gal_br]`",
    "oz": "an ounce is a mass or a volume: write `[oz_av]` (mass) or `[foz_us]` (fluid ounce)",
    "units": "`units` may be enzyme units or international units: write `U` or `[IU]`",
    "unit": "`unit` may be an enzyme unit or an international unit: write `U` or `[IU]`",
    "M": "`M` (molar) is not a UCUM unit: write `mol/L`",
    "mM": "`mM` (millimolar) is not a UCUM unit: write `mmol/L`",
    "uM": "`uM` (micromolar) is not a UCUM unit: write `umol/L`",
    "nM": "`nM` (nanomolar) is not a UCUM unit: write `nmol/L`",
    "pM": "`pM` (picomolar) is not a UCUM unit: write `pmol/L`",
}

# Tokens that normalise() must look at; a code with none of them (and no `IU`) is left as it is.
_REWRITTEN = frozenset(TOKENS) | frozenset(AMBIGUOUS)

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
# `x10^9`, `× 10^9`, `10^9`, `10E9`, `x10*9`: a power of ten written in front of a unit. A strict
# UCUM `10*9` with no multiplication sign is left as it is.
_MULTIPLIER = re.compile(
    r"^(?:[xX*]\s*10\s*(?:\^|\*\*|\*|[eE])|10\s*(?:\^|\*\*|[eE]))\s*([+-]?\d+)(?![0-9])"
)
_BSA = re.compile(r"/\s*1[.,]73\s*m(?:\^?2|²)(?![0-9])")
_PAREN_WORD = re.compile(r"^\(([A-Za-z][A-Za-z0-9_ -]*)\)$")
_TOKEN = re.compile(r"[^./(){}\s]+|\{[^}]*\}")
# `g/24h`, `mL/12 hr`: a collection period, which UCUM writes `g/(24.h)`.
_PERIOD = re.compile(r"/(\d+)\s*(h|hr|hrs|hour|hours|d|day|days|min|mins|minutes|wk|week|weeks)\b")
# `1.73` inside a unit: UCUM reads it as 1 x 73, which is never what a protocol means.
_DECIMAL = re.compile(r"(?<![\w\[{.*^+-])\d+[.,]\d+")
# Annotations and bracket atoms, whose digits are not numbers (`{1.73_m2}`, `B[10.nV]`).
_BRACED = re.compile(r"\{[^}]*\}|\[[^\]]*\]")
_SPACED_OPERATOR = re.compile(r"\s*([./])\s*")
_CARET_EXPONENT = re.compile(r"(?<=[A-Za-z\]])\^([+-]?\d+)")


def normalise(code: str) -> str:
    """Rewrite a clinical spelling as a UCUM code; UCUM codes come back unchanged.

    Raises ``UnitError`` for an ambiguous spelling. The result is not yet validated: the engine
    parses it strictly.
    """
    text = code.strip()
    whole = WHOLE_CODES.get(text)
    if whole is not None:
        return whole
    if not text.isascii():
        text = text.replace("µ", "u").replace("μ", "u").replace("×", "x")
        text = text.replace("·", ".").replace("−", "-")
        text = _SUPERSCRIPT_RUN.sub(
            lambda match: "^" + match.group(0).translate(_SUPERSCRIPTS), text
        )
    if text.startswith("("):
        paren = _PAREN_WORD.match(text)
        if paren and not _is_unit_symbol(paren.group(1)):
            # `(score)`: a label written in parentheses, as some lab systems do.
            return "{" + paren.group(1).strip().replace(" ", "_") + "}"
    if "73" in text:
        text = _BSA.sub("/{1.73_m2}", text)
    if text[:1] in ("x", "X", "*", "1"):
        text = _rewrite_multiplier(text)
    if any(char.isdigit() for char in text):
        if "/" in text:
            text = _PERIOD.sub(lambda match: f"/({match.group(1)}.{match.group(2)})", text)
        decimal = _DECIMAL.search(_BRACED.sub(_blank, text))
        if decimal:
            raise UnitError(
                code,
                f"`{decimal.group(0)}` inside a unit is ambiguous: UCUM reads it as "
                f"{decimal.group(0).replace(',', '.').replace('.', ' x ')}; "
                "put a label in braces (`{1.73_m2}`) or write the factor as a whole number",
                max(code.find(decimal.group(0)), 0),
            )
    if "^" in text:
        text = text.replace("10^", "10*")
        text = _CARET_EXPONENT.sub(r"\1", text)
    if " " in text:
        text = _SPACED_OPERATOR.sub(r"\1", text)
        if " " in text:
            position = code.find(" ", len(code) - len(code.lstrip()))
            raise UnitError(
                code,
                "a space inside a unit is ambiguous: join units with `.` (multiply) or `/` "
                "(divide)",
                max(position, 0),
            )
    if "IU" not in text and _REWRITTEN.isdisjoint(_TOKEN.findall(text)):
        return text
    return _TOKEN.sub(lambda match: _rewrite_token(match.group(0), code), text)


def _blank(match: re.Match[str]) -> str:
    """Blank out an annotation or bracket atom so that its digits are not read as a number."""
    return "_" * len(match.group(0))


def _rewrite_multiplier(text: str) -> str:
    multiplier = _MULTIPLIER.match(text)
    if not multiplier:
        return text
    rest = text[multiplier.end() :].strip()
    power = multiplier.group(1)
    if not rest:
        return f"10*{power}"
    if rest[0] in "/.{":
        return f"10*{power}{rest}"
    return f"10*{power}.{rest}"


def _is_unit_symbol(word: str) -> bool:
    """True when ``word`` is a UCUM atom, with or without a prefix (so `(min)` stays a unit)."""
    if word in ATOMS:
        return True
    return any(word[:n] in PREFIXES and word[n:] in ATOMS for n in (1, 2))


def _rewrite_token(token: str, code: str) -> str:
    if token.startswith("{"):
        return token
    reason = AMBIGUOUS.get(token)
    if reason:
        raise UnitError(code, reason, max(code.find(token), 0))
    if token in TOKENS:
        return TOKENS[token]
    prefixed = _PREFIXED_IU.match(token)
    if prefixed:
        return f"{prefixed.group(1)}[IU]"
    return token
