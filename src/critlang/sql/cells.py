"""SQL twins of the OMOP reader's cell rules (:mod:`critlang.data.omop`), as DuckDB SQL text.

Every cell is read as text first, whatever its column type, as the reader does, so that one rule
reads a CSV export (all text) and a typed database alike. Each function takes the SQL of a column
and returns the SQL of the reading; the column names are this package's constants, never text
from a criteria file (those go through sqlglot's constructors in :mod:`critlang.sql.generator`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

# A decimal number as Python's Decimal reads it once underscores are dropped (the reader strips
# the text first; Decimal drops underscores); NaN and infinities are refused by the reader.
_DECIMAL = r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$"
# What Decimal reads but the reader refuses as a value (looks_numeric still calls it a number).
_NOT_FINITE = r"^\s*[+-]?(s?nan[0-9]*|inf|infinity)\s*$"
# ISO 8601 as the reader's datetime.fromisoformat reads it: a date, or a date, one separator
# character, a time and an offset.
_TIME = r"([01][0-9]|2[0-3])(:?[0-5][0-9](:?[0-5][0-9]([.,][0-9]+)?)?)?"
_DATE = r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}(.TIME(\s*(Z|[+-]TIME))?)?\s*$".replace("TIME", _TIME)
# SNOMED CT's semantic tag at the end of a verbatim value ("Negative (qualifier value)").
_SEMANTIC_TAG = r"\s*\([a-z][a-z /-]*\)\s*$"

# Exact decimals: enough digits for any lab value, and portable (Postgres, Snowflake, Spark and
# T-SQL all have DECIMAL(38, 18)).
DECIMAL = "DECIMAL(38, 18)"
# The largest magnitude DECIMAL(38, 18) holds, and the reader's own limit on exponents.
DECIMAL_LIMIT = 10**20
_DECIMAL_DIGITS = 20  # before the point, in DECIMAL(38, 18)
_NUMBER_DIGITS = 100  # the reader's _NUMBER_DIGITS: the leading digit's exponent within ±100
# Longer number text is not converted: Postgres refuses exponents beyond ±1000, and a number of
# at most this many characters within DECIMAL(38, 18) never needs one.
_NUMBER_TEXT = 500
_BLANKS = r"^\s+|\s+$"
# Where a date's year, month and day are (start, length), once stripped.
_YMD = ((1, 4), (6, 2), (9, 2))


def text(column: str) -> str:
    """The cell as text; NULL for an empty or blank cell (the reader's ``_cell``)."""
    as_text = f"CAST({column} AS VARCHAR)"
    return f"CASE WHEN REGEXP_MATCHES({as_text}, '^\\s*$') THEN NULL ELSE {as_text} END"


def stripped(cell: str) -> str:
    """The cell without the white space at either end (Python's ``str.strip``; SQL's TRIM
    removes only spaces)."""
    return f"REGEXP_REPLACE({cell}, '{_BLANKS}', '', 'g')"


def identifier(cell: str) -> str:
    """An OMOP id: 1 to 18 ASCII digits and nothing else, else NULL (``identifier``)."""
    return f"CASE WHEN REGEXP_MATCHES({cell}, '^[0-9]{{1,18}}$') THEN CAST({cell} AS BIGINT) END"


class _Number(NamedTuple):
    """A cell of decimal syntax, read from its text so that no number is ever converted
    before it is known to fit (a conversion that overflows stops the query on most engines)."""

    text: str  # as Decimal reads it: stripped, without underscores
    digits: str  # the mantissa's digits, without sign, point or exponent
    zero: str  # whether it is zero
    adjusted: str  # the exponent of its leading digit (Decimal's ``adjusted()``)


def _number(cell: str) -> _Number:
    text = stripped(f"REPLACE({cell}, '_', '')")
    mantissa = f"REGEXP_REPLACE({text}, '^[+-]|[eE].*$', '', 'g')"
    digits = f"REPLACE({mantissa}, '.', '')"
    before_point = f"LENGTH(REGEXP_REPLACE({mantissa}, '\\..*$', ''))"
    leading_zeros = f"LENGTH(REGEXP_REPLACE({digits}, '[1-9].*$', ''))"
    exponent_digits = f"REGEXP_REPLACE({text}, '^[^eE]*([eE][+-]?)?0*', '')"
    size = (
        f"CASE WHEN {exponent_digits} = '' THEN 0 WHEN LENGTH({exponent_digits}) > 18"
        f" THEN {10**18} ELSE CAST({exponent_digits} AS BIGINT) END"
    )
    exponent = f"(CASE WHEN REGEXP_MATCHES({text}, '[eE]-') THEN -1 ELSE 1 END * {size})"
    return _Number(
        text=text,
        digits=digits,
        zero=f"NOT REGEXP_MATCHES({text}, '^[^eE]*[1-9]')",
        adjusted=f"({exponent} + {before_point} - 1 - {leading_zeros})",
    )


def _decimal_syntax(cell: str) -> str:
    cleaned = f"REPLACE({cell}, '_', '')"
    return f"REGEXP_MATCHES({cell}, '^\\s*\\S+\\s*$') AND REGEXP_MATCHES({cleaned}, '{_DECIMAL}')"


def is_number(cell: str) -> str:
    """Whether the cell is a number the reader keeps: decimal syntax, and zero or a magnitude
    between 10^-100 and 10^101 (the exponent of its leading digit within ±100)."""
    read = _number(cell)
    return (
        f"CASE WHEN {_decimal_syntax(cell)} THEN {read.zero}"
        f" OR {read.adjusted} BETWEEN -{_NUMBER_DIGITS} AND {_NUMBER_DIGITS} ELSE FALSE END"
    )


def number(cell: str) -> str:
    """The cell as an exact decimal when :func:`is_number`; NULL beyond DECIMAL(38, 18) (10^20
    or more, or 10^19 or more written with more than 38 significant digits) and when written
    in more than 500 characters."""
    read = _number(cell)
    significant = f"LENGTH(REGEXP_REPLACE({read.digits}, '^0+|0+$', '', 'g'))"
    fits = (
        f"LENGTH({read.text}) <= {_NUMBER_TEXT} AND ({read.adjusted} < {_DECIMAL_DIGITS - 1}"
        f" OR ({read.adjusted} = {_DECIMAL_DIGITS - 1} AND {significant} <= 38))"
    )
    return (
        f"CASE WHEN {is_number(cell)} THEN CASE WHEN {read.zero} THEN CAST(0 AS {DECIMAL})"
        f" WHEN {fits} THEN TRY_CAST({read.text} AS {DECIMAL}) END END"
    )


def looks_numeric(cell: str) -> str:
    """The record reader's ``looks_numeric``: text that Decimal reads, NaN and infinity too."""
    cleaned = f"REPLACE({cell}, '_', '')"
    return (
        f"(REGEXP_MATCHES({cell}, '^\\s*\\S+\\s*$') AND (REGEXP_MATCHES({cleaned}, '{_DECIMAL}')"
        f" OR REGEXP_MATCHES(LOWER({cleaned}), '{_NOT_FINITE}')))"
    )


def calendar(year: str, month: str, day: str) -> str:
    """Whether three whole numbers make a date of the (proleptic Gregorian) calendar."""
    leap = f"({year} % 4 = 0 AND {year} % 100 <> 0) OR {year} % 400 = 0"
    days = (
        f"CASE WHEN {month} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END"
        f" WHEN {month} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
    )
    return (
        f"({year} BETWEEN 1 AND 9999 AND {month} BETWEEN 1 AND 12 AND {day} BETWEEN 1 AND {days})"
    )


def date(cell: str) -> str:
    """The cell as a date (the reader's ``_date``), NULL when it is not one."""
    text = stripped(cell)
    parts = [f"CAST(SUBSTRING({text}, {start}, {size}) AS INTEGER)" for start, size in _YMD]
    return (
        f"CASE WHEN REGEXP_MATCHES({cell}, '{_DATE}') THEN CASE WHEN {calendar(*parts)}"
        f" THEN TRY_CAST(SUBSTRING({text}, 1, 10) AS DATE) END END"
    )


def first_date(cells: list[str]) -> str:
    """The first of ``cells`` that reads as a date."""
    readings = [date(cell) for cell in cells]
    return readings[0] if len(readings) == 1 else f"COALESCE({', '.join(readings)})"


def whole(cell: str) -> str:
    """A year, month or day: 1 to 4 digits, perhaps written ``1998.0`` (the reader's ``_whole``)."""
    return (
        f"CASE WHEN REGEXP_MATCHES({cell}, '^ *[0-9]{{1,4}}(\\.0*)? *$')"
        f" THEN CAST(TRY_CAST(TRIM({cell}) AS DECIMAL(10, 4)) AS INTEGER) END"
    )


def verbatim_words(cell: str) -> str:
    """Whether a verbatim value is words the reader keeps as a symbol: not a number, and not
    only a semantic tag."""
    stripped = f"REGEXP_REPLACE({cell}, '{_SEMANTIC_TAG}', '')"
    return f"(NOT {looks_numeric(cell)} AND REGEXP_MATCHES({stripped}, '\\S'))"


# ---- typed columns -------------------------------------------------------------------------------
#
# A column of a database whose type is known (``run_duckdb`` on a DuckDB file reads the types) is
# read without the round trip through text where its type decides the reading: the text DuckDB
# gives such a value (what the reader reads) is never blank, an integer's is an id when it has 1
# to 18 digits, a date's is a date within years 1 to 9999, a number's reads as the number itself.
# Each reading below equals the text reading of ``CAST(column AS VARCHAR)``; a kind of None is a
# text column (a CSV export), read as above.
INTEGER, EXACT, FLOAT = "integer", "exact", "float"  # EXACT: a DECIMAL that DECIMAL(38, 18) holds
DATE, TIMESTAMP, OTHER = "date", "timestamp", "other"
_LARGEST_ID = 10**18 - 1
_FIRST_DAY, _LAST_DAY = "DATE '0001-01-01'", "DATE '9999-12-31'"


def kind_of(database_type: str) -> str | None:
    """The kind of a column of this DuckDB type (``information_schema.columns.data_type``): None
    for text, and for types whose text the typed readings do not cover (read as text)."""
    name = database_type.strip().upper()
    if name in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"):
        return INTEGER
    if name in ("FLOAT", "DOUBLE", "REAL"):
        return FLOAT
    if name == "DATE":
        return DATE
    if name in ("TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE", "DATETIME"):
        return TIMESTAMP
    decimal = re.fullmatch(r"(?:DECIMAL|NUMERIC)\s*\(\s*([0-9]+)\s*,\s*([0-9]+)\s*\)", name)
    if decimal is not None:
        digits, scale = int(decimal[1]), int(decimal[2])
        # its text is then a number below 10^19 with at most 18 decimals, as exact in DECIMAL(38, 18)
        return EXACT if scale <= 18 and digits - scale < _DECIMAL_DIGITS else OTHER
    if name.startswith(("DECIMAL", "NUMERIC")) or name in ("BOOLEAN", "UBIGINT", "HUGEINT"):
        return OTHER
    return None


def cell(column: str, kind: str | None) -> str:
    """:func:`text` of a column of ``kind``."""
    return text(column) if kind is None else f"CAST({column} AS VARCHAR)"


def present(column: str, kind: str | None) -> str:
    """Whether the cell is not empty (:func:`text` is not NULL)."""
    return f"{text(column)} IS NOT NULL" if kind is None else f"{column} IS NOT NULL"


def identifier_of(column: str, kind: str | None) -> str:
    """:func:`identifier` of the cell."""
    if kind == INTEGER:
        return f"CASE WHEN {column} BETWEEN 0 AND {_LARGEST_ID} THEN CAST({column} AS BIGINT) END"
    return identifier(cell(column, kind))


def date_of(column: str, kind: str | None) -> str:
    """:func:`date` of the cell."""
    if kind in (DATE, TIMESTAMP):
        day = f"CAST({column} AS DATE)"
        return f"CASE WHEN {day} BETWEEN {_FIRST_DAY} AND {_LAST_DAY} THEN {day} END"
    return date(cell(column, kind))


def is_number_of(column: str, kind: str | None) -> str:
    """:func:`is_number` of the cell (which is not empty)."""
    if kind in (INTEGER, EXACT):
        return "TRUE"
    if kind == FLOAT:
        size = f"ABS({column})"
        return (
            f"(ISFINITE({column}) AND ({column} = 0"
            f" OR ({size} >= 1e-{_NUMBER_DIGITS} AND {size} < 1e{_NUMBER_DIGITS + 1})))"
        )
    return is_number(cell(column, kind))


def number_of(column: str, kind: str | None) -> str:
    """:func:`number` of the cell: an integer as it is; a float through its text (which is the
    exact decimal the reader reads), when it reads and fits."""
    if kind in (INTEGER, EXACT):
        return f"CAST({column} AS {DECIMAL})"
    if kind == FLOAT:
        fits = f"{is_number_of(column, kind)} AND ABS({column}) < 1e{_DECIMAL_DIGITS}"
        return f"CASE WHEN {fits} THEN TRY_CAST(CAST({column} AS VARCHAR) AS {DECIMAL}) END"
    return number(cell(column, kind))


def whole_of(column: str, kind: str | None) -> str:
    """:func:`whole` of the cell."""
    if kind == INTEGER:
        return f"CASE WHEN {column} BETWEEN 0 AND 9999 THEN CAST({column} AS INTEGER) END"
    return whole(cell(column, kind))
