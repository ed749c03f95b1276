"""One lab result, read and tested in SQL as the planner reads and tests it.

A row of ``lab_rows`` (or a person's selected result) has ``value`` (DECIMAL(38, 18)),
``is_number``, ``unit`` (the UCUM code as the export writes it), ``low``, ``high`` and
``symbol``. Reading it is the planner's ``_reader``: a number in a unit the variable reads
(an accepted spelling as the variable's own unit) and within the plausible range, else UNKNOWN;
a word for a qualitative lab. The test is then made in the result's own unit, with the
threshold converted exactly into that unit (one CASE branch per unit the query knows).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from sqlglot import exp

from critlang.semantics.dictionary import Variable
from critlang.sql import expressions as sql
from critlang.sql import truth
from critlang.sql.cells import DECIMAL_LIMIT
from critlang.sql.questions import AgainstLimit, Compare, Known, Members, Question, Unsupported
from critlang.sql.units import Reading, factor_between, lab_readings
from critlang.units import Unit


def result_test(row: str, variable: Variable, question: Question, units: Sequence[str]) -> exp.Expr:
    """``question`` asked of one result of ``variable``: a nullable BOOLEAN (for
    :class:`Known`, TRUE when the result reads, NULL when it does not)."""
    if variable.value_type == "symbol":
        return _symbol_test(row, question)
    if isinstance(question, Members):
        raise Unsupported(f"`in {{…}}` on the lab {variable.name}")
    value = sql.column("value", row)
    readable = truth.and_(sql.column("is_number", row), sql.not_null(value))
    if variable.unit is None:
        return truth.case((readable, _unitless_test(value, question)), default=truth.unknown())
    branches = []
    for reading in lab_readings(variable, units):
        tested = truth.case(
            (plausible(row, reading), _reading_test(row, variable, reading, question)),
            default=truth.unknown(),
        )
        if tested == truth.unknown():
            continue  # a unit the reader takes but the comparison cannot convert
        unit = exp.EQ(this=sql.column("unit", row), expression=sql.text(reading.code))
        branches.append((truth.and_(readable.copy(), unit), tested))
    return truth.case(*branches, default=truth.unknown())


def plausible(row: str, reading: Reading) -> exp.Expr:
    """Whether the row's value is within the variable's plausible range (in its unit)."""
    if reading.plausible is None:
        return exp.true()
    low, high = reading.plausible
    value = sql.column("value", row)
    tests = []
    if low is not None:
        tests.append(sql.grid(value, ">=", low))
    if high is not None:
        tests.append(sql.grid(value.copy(), "<=", high))
    return sql.all_of(tests)


def quantity_test(value: exp.Expr, unit: Unit, question: Compare) -> exp.Expr:
    """``value`` (in ``unit``) compared with the threshold, both in the question's unit."""
    if not isinstance(question.threshold, Fraction):
        return truth.unknown()
    factor = (
        Fraction(1)
        if question.unit is None
        else factor_between(unit, question.unit, question.molar_mass)
    )
    if factor is None:
        return truth.unknown()
    return sql.grid(value, question.operator, question.threshold / factor)


def number_test(value: exp.Expr, question: Question) -> exp.Expr:
    """A plain number (a count, a fact without a unit) compared with a number."""
    if not isinstance(question, Compare):
        raise Unsupported("this use of a number")
    if not isinstance(question.threshold, Fraction):
        return truth.unknown()
    return sql.grid(value, question.operator, question.threshold)


def size_key(variable: Variable, units: Sequence[str], row: str = "r") -> exp.Expr:
    """What ``min`` and ``max`` order by (the planner's ``size``): the value in the variable's
    unit, exactly (each unit's factor scaled to a whole number); a lab without a unit by its
    number, a qualitative lab's word as 0; NULL for a result that does not read, which makes the
    selection UNKNOWN (:func:`unreadable`). Refused for a lab with a unit but no plausible
    range, which bounds the scaled values."""
    value, is_number = sql.column("value", row), sql.column("is_number", row)
    if variable.value_type == "symbol":
        return truth.case((exp.Not(this=is_number), sql.number(0)), default=exp.Null())
    readable = truth.and_(is_number, sql.not_null(value))
    if variable.unit is None:
        return truth.case((readable, value.copy()), default=exp.Null())
    readings = lab_readings(variable, units)
    factors = {
        reading.code: factor
        for reading in readings
        if (factor := factor_between(reading.unit, variable.unit, variable.molar_mass)) is not None
    }
    scale = math.lcm(*(factor.denominator for factor in factors.values())) if factors else 1
    low, high = variable.plausible or (None, None)
    if low is None or high is None or max(abs(low), abs(high)) * scale >= DECIMAL_LIMIT // 10:
        raise Unsupported(
            f"`min`/`max` of {variable.name} (it needs a plausible range in the dictionary "
            "to be ordered exactly)"
        )
    branches = []
    for reading in readings:
        factor = factors.get(reading.code)
        if factor is None:
            continue
        scaled = exp.Mul(this=value.copy(), expression=sql.number(int(factor * scale)))
        unit = exp.EQ(this=sql.column("unit", row), expression=sql.text(reading.code))
        branches.append((truth.and_(readable.copy(), unit, plausible(row, reading)), scaled))
    return truth.case(*branches, default=exp.Null())


def unreadable(key: exp.Expr, row: str = "r") -> exp.Expr:
    """1 when one of the person's rows (those a ``min``/``max`` selects among) does not read
    (its :func:`size_key` is NULL), else 0: a window over the person's rows, so that the
    selected row carries it."""
    return exp.Window(
        this=exp.Max(this=sql.flag(sql.is_null(key))),
        partition_by=[sql.column("person_id", row)],
    )


def _unitless_test(value: exp.Expr, question: Question) -> exp.Expr:
    """A lab without a unit (INR): its number as it is; it has no ULN."""
    if isinstance(question, Known):
        return truth.true()
    if isinstance(question, Compare) and isinstance(question.threshold, Fraction):
        return sql.grid(value, question.operator, question.threshold)
    return truth.unknown()


def _reading_test(row: str, variable: Variable, reading: Reading, question: Question) -> exp.Expr:
    if isinstance(question, Known):
        return truth.true()
    if isinstance(question, Compare):
        return quantity_test(sql.column("value", row), reading.unit, question)
    assert isinstance(question, AgainstLimit)
    return _limit_test(row, variable, reading, question)


def _limit_test(row: str, variable: Variable, reading: Reading, question: AgainstLimit) -> exp.Expr:
    """``value operator factor x ULN``: the result's own limit when it has one, else the
    dictionary's normal range (the planner's ``_compare_limit``)."""
    reference = sql.column("high" if question.limit == "ULN" else "low", row)
    value = sql.column("value", row)
    normal = variable.normal
    default = (normal[1] if question.limit == "ULN" else normal[0]) if normal else None
    fallback = truth.unknown()
    if default is not None and variable.unit is not None:
        factor = factor_between(reading.unit, variable.unit, None)
        if factor is not None:
            fallback = sql.grid(value, question.operator, question.factor * default / factor)
    own = sql.scaled_compare(value, question.operator, reference, question.factor)
    return truth.case((sql.not_null(reference.copy()), own), default=fallback)


def _symbol_test(row: str, question: Question) -> exp.Expr:
    """A qualitative result (``negative``): compared as text; a number is UNKNOWN."""
    symbol = sql.column("symbol", row)
    if isinstance(question, AgainstLimit):
        return truth.unknown()  # a word has no ULN
    if isinstance(question, Known):
        result = truth.true()
    elif isinstance(question, Members):
        inside = exp.In(this=symbol, expressions=[sql.text(m) for m in sorted(question.members)])
        result = truth.case(
            (inside, truth.decided(not question.negated)), default=truth.decided(question.negated)
        )
    elif isinstance(question.threshold, str) and question.operator in ("=", "!="):
        result = sql.compare(symbol, question.operator, sql.text(question.threshold))
    else:
        raise Unsupported("this comparison of a qualitative lab result")
    return truth.case((exp.Not(this=sql.column("is_number", row)), result), default=truth.unknown())
