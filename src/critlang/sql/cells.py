"""SQL twins of the OMOP reader's cell rules (:mod:`critlang.data.omop`), as DuckDB SQL text.

Every cell is read as text first, whatever its column type, as the reader does, so that one rule
reads a CSV export (all text) and a typed database alike. Each function takes the SQL of a column
and returns the SQL of the reading; the column names are this package's constants, never text
from a criteria file (those go through sqlglot's constructors in :mod:`critlang.sql.generator`).
"""

from __future__ import annotations

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


def text(column: str) -> str:
    """The cell as text; NULL for an empty or blank cell (the reader's ``_cell``)."""
    as_text = f"CAST({column} AS VARCHAR)"
    return f"CASE WHEN REGEXP_MATCHES({as_text}, '^\\s*$') THEN NULL ELSE {as_text} END"


def identifier(cell: str) -> str:
    """An OMOP id: 1 to 18 ASCII digits and nothing else, else NULL (``identifier``)."""
    return f"CASE WHEN REGEXP_MATCHES({cell}, '^[0-9]{{1,18}}$') THEN CAST({cell} AS BIGINT) END"


def is_number(cell: str) -> str:
    """Whether the cell is a number the reader keeps: decimal syntax, and a magnitude between
    10^-100 and 10^101 (or zero)."""
    cleaned = f"REPLACE({cell}, '_', '')"
    magnitude = f"ABS(TRY_CAST(TRIM({cleaned}) AS DOUBLE))"
    return (
        f"(REGEXP_MATCHES({cell}, '^\\s*\\S+\\s*$') AND REGEXP_MATCHES({cleaned}, '{_DECIMAL}')"
        f" AND ({magnitude} = 0 OR ({magnitude} >= 1e-100 AND {magnitude} < 1e101)))"
    )


def number(cell: str) -> str:
    """The cell as an exact decimal when :func:`is_number`; NULL beyond DECIMAL(38, 18)."""
    return f"CASE WHEN {is_number(cell)} THEN TRY_CAST(TRIM(REPLACE({cell}, '_', '')) AS {DECIMAL}) END"


def looks_numeric(cell: str) -> str:
    """The record reader's ``looks_numeric``: text that Decimal reads, NaN and infinity too."""
    cleaned = f"REPLACE({cell}, '_', '')"
    return (
        f"(REGEXP_MATCHES({cell}, '^\\s*\\S+\\s*$') AND (REGEXP_MATCHES({cleaned}, '{_DECIMAL}')"
        f" OR REGEXP_MATCHES(LOWER({cleaned}), '{_NOT_FINITE}')))"
    )


def date(cell: str) -> str:
    """The cell as a date (the reader's ``_date``), NULL when it is not one."""
    trimmed = f"TRIM({cell})"
    return (
        f"CASE WHEN REGEXP_MATCHES({cell}, '{_DATE}') AND SUBSTRING({trimmed}, 1, 4) <> '0000'"
        f" THEN TRY_CAST(SUBSTRING({trimmed}, 1, 10) AS DATE) END"
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
