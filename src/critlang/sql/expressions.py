"""Small sqlglot builders the SQL backend uses everywhere: literals, columns, comparisons, and the
"first row per person" pattern. A literal is always made by a constructor (its text escaped by
sqlglot), never pasted into SQL text."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction

from sqlglot import exp

from critlang.sql import truth
from critlang.sql.cells import DECIMAL, DECIMAL_LIMIT
from critlang.sql.units import SCALE, grid_test

_BUILDERS: dict[str, Callable[..., exp.Expr]] = {
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
    "=": exp.EQ,
    "!=": exp.NEQ,
}


@functools.cache
def _parsed_type(name: str) -> exp.DataType:
    return exp.DataType.build(name)


def sql_type(name: str) -> exp.DataType:
    """A SQL type (parsed once)."""
    return _parsed_type(name).copy()


def column(name: str, table: str | None = None) -> exp.Column:
    """``table.name`` (both the backend's own names)."""
    return exp.column(name, table=table)


def table(name: str, alias: str | None = None) -> exp.Expr:
    """One of the query's own relations, by its (generated) name, perhaps under an alias."""
    relation = exp.Table(this=exp.to_identifier(name))
    return relation if alias is None else exp.alias_(relation, alias, table=True, copy=False)


def number(value: int) -> exp.Expr:
    """A whole-number literal."""
    return exp.Literal.number(value)


def text(value: str) -> exp.Literal:
    """A string literal (escaped by sqlglot whatever it holds)."""
    return exp.Literal.string(value)


def decimal(value: Fraction) -> exp.Expr:
    """An exact DECIMAL(38, 18) literal (``value`` has at most 18 decimal places)."""
    if value.denominator == 1:
        written = str(value.numerator)
    else:
        digits = value * 10**SCALE
        assert digits.denominator == 1
        sign = "-" if digits < 0 else ""
        whole, fraction = divmod(abs(int(digits)), 10**SCALE)
        written = f"{sign}{whole}.{fraction:0{SCALE}d}".rstrip("0")
    return exp.cast(text(written), sql_type(DECIMAL), copy=False)


def date(day: datetime.date) -> exp.Expr:
    """``CAST('YYYY-MM-DD' AS DATE)``."""
    return exp.cast(text(day.isoformat()), sql_type("DATE"), copy=False)


def is_null(value: exp.Expr) -> exp.Expr:
    """``value IS NULL``."""
    return exp.Is(this=value, expression=exp.Null())


def not_null(value: exp.Expr) -> exp.Expr:
    """``NOT value IS NULL``."""
    return exp.Not(this=is_null(value))


def compare(left: exp.Expr, operator: str, right: exp.Expr) -> exp.Expr:
    """``left operator right`` for one of critlang's operators (``!=`` is ``<>``)."""
    return _BUILDERS[operator](this=left, expression=right)


def grid(value: exp.Expr, operator: str, threshold: Fraction) -> exp.Expr:
    """``value operator threshold`` exactly, for a DECIMAL(38, 18) (or whole-number) value:
    the threshold rounded onto the value's grid (:func:`critlang.sql.units.grid_test`)."""
    found = grid_test(operator, threshold)
    if isinstance(found, bool):
        return truth.decided(found)
    sql_operator, bound = found
    return compare(value, sql_operator, decimal(bound))


def any_of(tests: Sequence[exp.Expr]) -> exp.Expr:
    """``a OR b …`` (FALSE for none)."""
    if not tests:
        return exp.false()
    return truth.or_(*tests) if len(tests) > 1 else tests[0]


def all_of(tests: Sequence[exp.Expr]) -> exp.Expr:
    """``a AND b …`` (TRUE for none)."""
    if not tests:
        return exp.true()
    return truth.and_(*tests) if len(tests) > 1 else tests[0]


def flag(test: exp.Expr) -> exp.Expr:
    """1 when ``test`` holds, else 0 (for MAX, MIN and SUM over rows)."""
    return truth.case((test, number(1)), default=number(0))


def ordered(key: exp.Expr, descending: bool) -> exp.Ordered:
    """``key`` [DESC] NULLS LAST in an ORDER BY."""
    return exp.Ordered(this=key, desc=descending, nulls_first=False)


def first_per_person(
    source: str,
    where: exp.Expr,
    order: list[exp.Ordered],
    columns: Sequence[str | tuple[str, exp.Expr]],
    alias: str = "r",
) -> exp.Select:
    """Each person's first row of ``source`` (read as ``alias``) in ``order`` among those
    ``where`` holds: ``columns`` are its columns (a name) or expressions over it (a name and
    the expression)."""
    position = exp.Window(
        this=exp.RowNumber(),
        partition_by=[column("person_id", alias)],
        order=exp.Order(expressions=order),
    )
    items: list[exp.Expr] = [
        column(item, alias) if isinstance(item, str) else exp.alias_(item[1], item[0], copy=False)
        for item in ["person_id", *columns]
    ]
    ranked = (
        exp.select(*items, exp.alias_(position, "position", copy=False), copy=False)
        .from_(table(source, alias), copy=False)
        .where(where, copy=False)
    )
    names = ["person_id", *(item if isinstance(item, str) else item[0] for item in columns)]
    return (
        exp.select(*map(column, names), copy=False)
        .from_(exp.alias_(ranked.subquery(), "ranked", table=True, copy=False), copy=False)
        .where(exp.EQ(this=column("position"), expression=number(1)), copy=False)
    )


def per_person(
    source: str, alias: str, where: exp.Expr, aggregates: Mapping[str, exp.Expr]
) -> exp.Select:
    """``SELECT person_id, aggregates… FROM source AS alias WHERE … GROUP BY person_id``."""
    return (
        exp.select(
            column("person_id", alias),
            *(exp.alias_(value, name, copy=False) for name, value in aggregates.items()),
            copy=False,
        )
        .from_(table(source, alias), copy=False)
        .where(where, copy=False)
        .group_by(column("person_id", alias), copy=False)
    )


def scaled_compare(
    value: exp.Expr, operator: str, reference: exp.Expr, factor: Fraction
) -> exp.Expr:
    """``value operator factor * reference`` for two decimal columns: exactly, as
    ``value * q`` against ``reference * p`` (factor p/q), while both are small enough not to
    overflow DECIMAL(38, 18); in double precision beyond (where the two are far apart)."""
    p, q = factor.numerator, factor.denominator
    limit = number(DECIMAL_LIMIT // 10 // max(p, q, 1))
    small = truth.and_(
        exp.LT(this=exp.Abs(this=value.copy()), expression=limit),
        exp.LT(this=exp.Abs(this=reference.copy()), expression=limit.copy()),
    )
    exact = compare(
        exp.Mul(this=value.copy(), expression=number(q)),
        operator,
        exp.Mul(this=reference.copy(), expression=number(p)),
    )
    double = sql_type("DOUBLE")
    approximate = compare(
        exp.Mul(this=exp.cast(value.copy(), double, copy=False), expression=number(q)),
        operator,
        exp.Mul(this=exp.cast(reference.copy(), double.copy(), copy=False), expression=number(p)),
    )
    return truth.case((small, exact), default=approximate)


def completed_years(birth: exp.Expr, day: datetime.date) -> exp.Expr:
    """Completed years of age on ``day`` of someone born on ``birth`` (the planner's rule)."""
    year = exp.Extract(this=exp.var("YEAR"), expression=birth.copy())
    month = exp.Extract(this=exp.var("MONTH"), expression=birth.copy())
    day_of = exp.Extract(this=exp.var("DAY"), expression=birth.copy())
    later = truth.or_(
        exp.GT(this=month, expression=number(day.month)),
        truth.and_(
            exp.EQ(this=month.copy(), expression=number(day.month)),
            exp.GT(this=day_of, expression=number(day.day)),
        ),
    )
    return exp.Sub(
        this=exp.Sub(this=number(day.year), expression=year),
        expression=exp.paren(flag(later)),
    )


def record_order(row: str) -> exp.Expr:
    """A row's place among its person's rows in the record (``record_key``: by table, then by
    row id, ids that are not numbers first, then, when its id repeats, by its cells; the
    reader's ``_canonical``)."""
    return column("record_key", row)


# A lab result's record_key is below 2^41 (critlang.sql.source), and a day's number below
# 372 * 10000: the day in front of it fits a BIGINT.
_RECORD_LIMIT = 2**41


def dated_order(day: exp.Expr, row: str) -> exp.Expr:
    """One BIGINT ordering a person's lab results by ``day`` (not NULL), then in record order:
    the day as ``year * 372 + month * 31 + day`` (in calendar order, below 3,720,032) in front
    of the row's ``record_key``."""
    parts = [
        exp.Mul(this=exp.Extract(this=exp.var(unit), expression=day.copy()), expression=number(n))
        for unit, n in (("YEAR", 372), ("MONTH", 31))
    ]
    days = exp.Add(
        this=exp.Add(this=parts[0], expression=parts[1]),
        expression=exp.Extract(this=exp.var("DAY"), expression=day),
    )
    whole = exp.cast(exp.paren(days), sql_type("BIGINT"), copy=False)
    return exp.Add(
        this=exp.Mul(this=whole, expression=number(_RECORD_LIMIT)),
        expression=record_order(row),
    )


def by_code_point(value: exp.Expr) -> exp.Expr:
    """Text ``COLLATE "C"``: put in order by code point, as Python compares strings, whatever
    the database's collation (see :data:`critlang.sql.source._C`)."""
    return exp.Collate(this=value, expression=exp.to_identifier("C", quoted=True))
