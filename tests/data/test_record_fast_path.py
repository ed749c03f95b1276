"""The fast path for common lab results in ``data/record.py`` reads exactly what the general path
reads, and leaves every unusual entry (and its problems) to it."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import critlang.data.record as record_module
from critlang.data.record import read_record
from critlang.errors import RecordError

_FIELDS: dict[str, list[Any]] = {
    "name": ["ANC", " ANC", "", None, 3, "alt"],
    "code": [None, "LOINC:751-8", " LOINC:1", ""],
    "value": [1, 0, -3, True, None, "1.8", " 2", "negative", "Negative", "nan", "inf", "",
              Decimal("1.5"), Decimal("NaN"), Decimal("Infinity"), 1.5, [], "a1", "positive "],
    "unit": [None, "10*9/L", " 10*9/L", "", "bananas", "g/dL", 5, "x10^9/L", "/uL"],
    "date": [None, "2025-01-01", "2025-13-01", "2025-01-01T10:00:00Z", "", 20250101, "2025-W01-1"],
    "low": [None, 1, Decimal("0.5"), "x", True],
    "high": [None, 40, Decimal("1.2"), "40", Decimal("NaN")],
}  # fmt: skip
_LAB = st.fixed_dictionaries(
    {}, optional={key: st.sampled_from(values) for key, values in _FIELDS.items()}
)


def _read(data: dict[str, Any]) -> tuple[object, str | None]:
    try:
        return read_record(data), None
    except RecordError as error:
        return None, str(error)


@given(st.lists(_LAB, max_size=4))
def test_fast_path_reads_what_the_general_path_reads(labs: list[dict[str, Any]]) -> None:
    data = {"id": "P", "labs": labs}
    fast = _read(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(record_module, "_plain_lab", lambda entry, where: None)
        general = _read(data)
    assert fast == general


_OCCURRENCE_FIELDS: dict[str, list[Any]] = {
    "name": ["chemotherapy", " chemotherapy", "", None, 3],
    "code": [None, "ATC:L01XA02", " ICD10:C34.1", ""],
    "start": [None, "2025-01-01", "2025-13-01", "2025-01-01T10:00:00Z", "", 20250101],
    "onset": [None, "2024-12-01", "bad"],
    "date": [None, "2024-11-01"],
    "end": [None, "2025-02-01", "2024-01-01", "x"],
    "abatement": [None, "2025-03-01"],
    "status": [None, "active", " resolved", "", 4],
}
_OCCURRENCE = st.fixed_dictionaries(
    {}, optional={key: st.sampled_from(values) for key, values in _OCCURRENCE_FIELDS.items()}
)


@given(st.lists(_OCCURRENCE, max_size=4), st.lists(_OCCURRENCE, max_size=3))
def test_fast_path_reads_occurrences_as_the_general_path(
    events: list[dict[str, Any]], conditions: list[dict[str, Any]]
) -> None:
    data = {"id": "P", "events": events, "conditions": conditions}
    fast = _read(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(record_module, "_plain_occurrence", lambda entry, where, condition: None)
        general = _read(data)
    assert fast == general


_FACT_VALUES = [True, False, 0, 1, 7, Decimal("1.5"), Decimal("NaN"), 1.5, "2", "24 wk",
                "female", "2025-01-01", None, [], {"value": 62, "unit": "kg"}]  # fmt: skip
_ANCHORS = [None, "2025-06-02", " 2025-06-02", "2025-06-02T08:00:00Z", "2025-02-30", "", 5]


@given(
    st.dictionaries(
        st.sampled_from(["ECOG", "pregnant", "weight", "x"]), st.sampled_from(_FACT_VALUES)
    ),
    st.dictionaries(st.sampled_from(["screening", "Treatment"]), st.sampled_from(_ANCHORS)),
)
def test_facts_and_anchors_read_as_the_general_path(
    facts: dict[str, Any], anchors: dict[str, Any]
) -> None:
    found = _read({"id": "P", "facts": facts, "anchors": anchors})
    reader = record_module._Reader()
    expected_facts = {
        name: fact
        for name, value in facts.items()
        if (fact := record_module._fact(value, f"facts.{name}", reader)) is not None
    }
    expected_anchors = {
        name.casefold(): day
        for name, value in anchors.items()
        if (day := reader.date(value, f"anchors.{name}")) is not None
    }
    record, _ = found
    assert isinstance(record, record_module.Record)
    assert dict(record.facts) == expected_facts
    assert dict(record.anchors) == expected_anchors
    assert sorted(record.problems) == sorted(reader.problems)


_NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
    st.sampled_from(
        [Decimal("1.0"), Decimal("1.00"), Decimal("1"), Decimal("-0"), Decimal("1E+2")]
    ),
)


@given(st.lists(_NUMBERS, max_size=6))
def test_numbers_are_made_exact_once_and_alike(numbers: list[int | Decimal]) -> None:
    # The cache is keyed by a Decimal's text: equal numbers written differently (1.0, 1.00, 1)
    # are equal Fractions, and each number reads the same the second time.
    for number in numbers + numbers:
        assert record_module._exact(number) == Fraction(number)
