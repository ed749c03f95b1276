"""Conditions, treatments and events in SQL: which rows a query names, and when a row counts,
as the planner's ``occurrences`` decides (a row of ``occurrence_rows``: ``table_order``,
``start_date``, ``end_date``, ``status``, the chosen code's ``system_key`` and ``code_key``)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from sqlglot import exp

from critlang.semantics.dictionary import CodePattern, Variable
from critlang.sql import expressions as sql
from critlang.sql import source, truth

Bounds = tuple[datetime.date | None, datetime.date | None, bool]


def code_matches(row: str, variables: Sequence[Variable]) -> exp.Expr:
    """Whether a row's chosen code names one of ``variables`` (matches one of their code
    patterns, compared as :class:`~critlang.semantics.dictionary.CodePattern` compares)."""
    tests = []
    system, code = sql.column("system_key", row), sql.column("code_key", row)
    for variable in variables:
        for pattern in variable.codes:
            literal = sql.text(pattern.code)
            if pattern.prefix:
                start = exp.Substring(
                    this=code.copy(), start=sql.number(1), length=sql.number(len(pattern.code))
                )
                matched: exp.Expr = exp.EQ(this=start, expression=literal)
            else:
                matched = exp.EQ(this=code.copy(), expression=literal)
            named = exp.EQ(this=system.copy(), expression=sql.text(pattern.system))
            tests.append(truth.and_(named, matched))
    return exp.paren(sql.any_of(tests)) if len(tests) > 1 else sql.any_of(tests)


def pattern_matches(row: str, codes: Sequence[str]) -> exp.Expr:
    """Whether a row's chosen code matches one of ``codes`` (``diagnosis in {…}``)."""
    patterns = [found for code in codes if (found := CodePattern.parse(code)) is not None]
    return code_matches(row, [Variable(name="diagnosis", kind="condition", codes=tuple(patterns))])


def in_sections(row: str, sections: Sequence[str]) -> exp.Expr:
    """Whether the row is in one of ``sections`` (``conditions``, ``events``)."""
    order = sql.column("table_order", row)
    tests: list[exp.Expr] = []
    if "conditions" in sections:
        tests.append(exp.EQ(this=order, expression=sql.number(source.CONDITION)))
    if "events" in sections:
        tests.append(exp.NEQ(this=order.copy(), expression=sql.number(source.CONDITION)))
    return exp.paren(sql.any_of(tests))


def inside(day: exp.Expr, bounds: Bounds) -> exp.Expr:
    """The planner's ``_inside``: a date within the window's bounds."""
    low, high, strict = bounds
    tests: list[exp.Expr] = []
    if low is not None:
        tests.append((exp.GT if strict else exp.GTE)(this=day.copy(), expression=sql.date(low)))
    if high is not None:
        tests.append((exp.LT if strict else exp.LTE)(this=day.copy(), expression=sql.date(high)))
    return sql.all_of(tests)


def effective_end(row: str) -> exp.Expr:
    """The planner's ``_end``: an event without an end lasts its day; a condition without an
    abatement is ongoing (NULL)."""
    condition = exp.EQ(this=sql.column("table_order", row), expression=sql.number(source.CONDITION))
    return truth.case(
        (condition, sql.column("end_date", row)),
        default=exp.func("COALESCE", sql.column("end_date", row), sql.column("start_date", row)),
    )


def _overlaps(start: exp.Expr, end: exp.Expr | None, bounds: Bounds) -> exp.Expr:
    """The planner's ``_overlaps`` (``end`` NULL or None: ongoing), two-valued."""
    low, high, strict = bounds
    tests: list[exp.Expr] = []
    if high is not None:
        tests.append((exp.LT if strict else exp.LTE)(this=start.copy(), expression=sql.date(high)))
    if low is not None and end is not None:
        after = (exp.GT if strict else exp.GTE)(this=end.copy(), expression=sql.date(low))
        tests.append(exp.paren(truth.or_(sql.is_null(end.copy()), after)))
    return sql.all_of(tests)


def flags(row: str, bounds: Bounds | None, screening: datetime.date | None) -> dict[str, exp.Expr]:
    """Per row, 1 or 0: ``found`` (it counts), ``open_ended`` (a condition resolved on a date
    not given, begun before the window: it may or may not reach into it) and ``undated``
    (the planner's ``find``; without a window, an event counts and a condition counts while
    active at screening)."""
    start = sql.column("start_date", row)
    condition = exp.EQ(this=sql.column("table_order", row), expression=sql.number(source.CONDITION))
    status = exp.func("COALESCE", sql.column("status", row), sql.text(""))
    inactive = exp.In(this=status, expressions=[sql.text(s) for s in source.INACTIVE])
    if bounds is None:
        active: exp.Expr = exp.Not(this=inactive)
        if screening is not None:
            begun = truth.or_(
                sql.is_null(start.copy()),
                exp.LTE(this=start.copy(), expression=sql.date(screening)),
            )
            ongoing = truth.or_(
                sql.is_null(sql.column("end_date", row)),
                exp.GTE(this=sql.column("end_date", row), expression=sql.date(screening)),
            )
            active = truth.and_(active, exp.paren(begun), exp.paren(ongoing))
        found = truth.or_(exp.Not(this=condition), exp.paren(active))
        return {"found": sql.flag(found), "open_ended": sql.number(0), "undated": sql.number(0)}
    low, _, strict = bounds
    ended_unknown = truth.and_(condition, sql.is_null(sql.column("end_date", row)), inactive)
    before_window = (
        exp.false()
        if low is None
        else (exp.LTE if strict else exp.LT)(this=start.copy(), expression=sql.date(low))
    )
    doubtful = truth.and_(ended_unknown, before_window)
    found = truth.and_(
        sql.not_null(start.copy()),
        exp.Not(this=exp.paren(doubtful.copy())),
        _overlaps(start, effective_end(row), bounds),
    )
    open_ended = truth.and_(sql.not_null(start.copy()), doubtful, _overlaps(start, None, bounds))
    return {
        "found": sql.flag(found),
        "open_ended": sql.flag(open_ended),
        "undated": sql.flag(sql.is_null(start.copy())),
    }
