"""JSON text to Python values with exact decimals: what every native and FHIR reader parses with.

A number with a fraction or an exponent is a :class:`~decimal.Decimal` of the digits as written
(``1.10`` is ``Decimal('1.10')``, never the nearest binary float); an integer is an ``int``.

msgspec decodes (about twice as fast as the standard library's ``json`` with
``parse_float=Decimal``, and a screen spends much of its time there). A text msgspec refuses is
decoded again by the standard library, so what is accepted and every error are the standard
library's: msgspec accepts nothing ``json`` refuses (``tests/data/test_jsontext.py`` checks it on
generated texts), and ``json`` alone accepts a few texts msgspec refuses (a lone surrogate escape
such as ``"\\ud800"``), which the second decoding reads as it always did. ``NaN`` and
``Infinity``, which ``json`` reads as floats, are refused with a ``ValueError`` (unless the
``exact`` decoder given reads them).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not a number")


# The buffer JSON Lines (and NDJSON) are read through: a record's line runs to kilobytes, and through the
# default 8 KiB most lines straddle a refill (reading 10,000 4 KB lines took 2.4 µs a line, not
# 0.5 µs).
LINE_BUFFER = 1 << 20


def exact_number(text: str) -> Decimal:
    """A JSON number's text as a Decimal. A ValueError when Decimal cannot hold it (an exponent
    of twenty digits), where ``Decimal`` raises ``InvalidOperation``, which readers of JSON do
    not expect: the record is then one that cannot be read, not a crash."""
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"the number {text} is too large to read") from None


_FAST = msgspec.json.Decoder(float_hook=exact_number)
EXACT = json.JSONDecoder(parse_float=exact_number, parse_constant=_refuse)
# What msgspec raises for a text it refuses (bytes that are not UTF-8, nesting too deep).
REFUSED = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError)


def decode(text: str | bytes, exact: json.JSONDecoder = EXACT) -> Any:
    """The value of the JSON ``text``. A text msgspec refuses is decoded by ``exact`` (bytes
    first decoded as ``json.loads`` decodes them: the encoding it detects, surrogates passed
    through), which raises ``json.JSONDecodeError`` (a ``ValueError``) or ``RecursionError``
    as ``json.loads`` would. ``exact`` must read floats as :class:`~decimal.Decimal`."""
    try:
        return _FAST.decode(text)
    except REFUSED:
        pass
    if isinstance(text, bytes):
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    elif text.startswith("\ufeff"):  # as json.loads says it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return exact.decode(text)
