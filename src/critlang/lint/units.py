"""Unit helpers shared by the unit rules."""

from __future__ import annotations

import re

from critlang.diagnostics import Diagnostic
from critlang.errors import UnitError
from critlang.units import parse_unit

_UNITS_IN_MESSAGE = re.compile(r"`([^`]+)` and `([^`]+)` have different dimensions")


def involves_arbitrary_unit(error: Diagnostic) -> bool:
    """True when a dimension error (E301) is about an arbitrary unit (`[IU]`, `[arb'U]` ...)."""
    match = _UNITS_IN_MESSAGE.search(error.message)
    if match is None:
        return False
    try:
        return any(parse_unit(code).is_arbitrary for code in match.groups())
    except UnitError:
        return False
