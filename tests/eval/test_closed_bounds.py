"""A window's bounds as first and last day: the same days inside as the bounds themselves."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from critlang.eval.plan import _closed, _inside

days = st.one_of(
    st.dates(min_value=datetime.date(2020, 1, 1), max_value=datetime.date(2020, 3, 1)),
    st.sampled_from([datetime.date.min, datetime.date.max]),
)


@given(days, st.none() | days, st.none() | days, st.booleans())
def test_first_and_last_day_hold_the_same_days(
    day: datetime.date, low: datetime.date | None, high: datetime.date | None, strict: bool
) -> None:
    first, last = _closed((low, high, strict))
    assert (first <= day <= last) == _inside(day, (low, high, strict))
