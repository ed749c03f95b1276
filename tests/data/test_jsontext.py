"""critlang.data.jsontext: msgspec's decoding, with the standard library's for what it refuses,
reads every text exactly as ``json.loads(text, parse_float=Decimal)`` with NaN refused."""

from __future__ import annotations

import gc
import json
import weakref
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from critlang.allocation import collected_in_batches
from critlang.data.jsontext import decode, exact_number
from critlang.data.record import _TEXT_FACTS, read_record
from critlang.data.tabular import JsonLinesSource


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not a number")


def _reference(text: str | bytes, **options: Any) -> Any:
    # json.loads with exact decimals; a number Decimal cannot hold is a ValueError (exact_number)
    # where Decimal itself raises InvalidOperation (see test_numbers_decimal_cannot_hold_are_errors).
    return json.loads(text, parse_float=exact_number, **options)


def _exact(value: Any) -> Any:
    """A value with every type and every decimal's digits visible (``Decimal('1.10')`` and
    ``Decimal('1.1')`` are equal but not the same reading)."""
    if isinstance(value, dict):
        return ("dict", [(key, _exact(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_exact(item) for item in value])
    return (type(value).__name__, repr(value))


def _outcome(read: Any, text: str | bytes) -> Any:
    try:
        return ("value", _exact(read(text)))
    except (ValueError, RecursionError) as error:
        return ("error", type(error).__name__, str(error))


numbers = st.one_of(
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["1.10", "-0.0", "1E5", "1e-7", "123.456e-2", "1E400", "0.000"]),
)
scalars = st.one_of(st.none(), st.booleans(), st.text(), numbers)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


def _text(value: Any) -> str:
    """JSON text of ``value``; a decimal given as a string is written as a number."""
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{json.dumps(key)}: {_text(item)}" for key, item in value.items())
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(_text(item) for item in value) + "]"
    if isinstance(value, str) and value and value[0] in "-0123456789" and value != "-":
        try:
            Decimal(value)
        except ArithmeticError:
            return json.dumps(value)
        return value
    return json.dumps(value)


@given(documents)
def test_valid_texts_read_as_json_reads_them(document: Any) -> None:
    text = _text(document)
    assert _outcome(decode, text) == _outcome(lambda t: _reference(t, parse_constant=_refuse), text)


# Mutations: a character dropped, doubled or replaced by one that JSON gives a meaning to.
_SPECIAL = [*'{}[]",:\\ \t\n\x00-+.eE0123456789', "NaN", "Infinity", "\\ud800", "\ufeff", "é"]


@given(documents, st.data())
def test_broken_texts_fail_or_read_as_json_does(document: Any, data: st.DataObject) -> None:
    text = _text(document)
    position = data.draw(st.integers(0, len(text)))
    how = data.draw(st.sampled_from(["drop", "double", "insert"]))
    if how == "drop":
        text = text[:position] + text[position + 1 :]
    elif how == "double":
        text = text[:position] + text[position : position + 1] * 2 + text[position + 1 :]
    else:
        text = text[:position] + data.draw(st.sampled_from(_SPECIAL)) + text[position:]
    assert _outcome(decode, text) == _outcome(lambda t: _reference(t, parse_constant=_refuse), text)


@pytest.mark.parametrize("text", ["[10e999999999999999999]", '{"value": -1E-9999999999999999999}'])
def test_numbers_decimal_cannot_hold_are_errors(text: str, tmp_path: Path) -> None:
    # Found by the test above: Decimal raises InvalidOperation for such an exponent, which no
    # reader caught. They are now a record that cannot be read, with the number named.
    with pytest.raises(InvalidOperation):
        json.loads(text, parse_float=Decimal)
    with pytest.raises(ValueError, match="is too large to read"):
        decode(text)
    path = tmp_path / "cohort.jsonl"
    path.write_text(f'{{"id": "P", "labs": [{{"name": "ANC", "value": {text}}}]}}\n', "utf-8")
    [entry] = JsonLinesSource(path, lazy=True)
    assert entry.record is None
    assert entry.error is not None
    assert "is too large to read" in entry.error


@pytest.mark.parametrize(
    "text",
    [
        '{"x": NaN}',
        '{"x": -Infinity}',
        '"\\ud800"',  # a lone surrogate: msgspec refuses it, json reads it
        "[" * 5000 + "]" * 5000,
        "1" * 5000,  # more digits than Python reads into an int
        '{"a": 1, "a": 2}',
        '{"a": 1}\n',
        "",
    ],
)
def test_edge_texts_read_as_json_reads_them(text: str) -> None:
    assert _outcome(decode, text) == _outcome(lambda t: _reference(t, parse_constant=_refuse), text)


@pytest.mark.parametrize(
    "data",
    [
        b'{"value": 1.50}',
        b'{"value": NaN}',  # the FHIR reader's own decoder reads NaN (as a float)
        '{"a": "\u00e9"}'.encode("utf-16"),  # not UTF-8: json detects the encoding
        b'\xef\xbb\xbf{"a": 1}',  # a byte order mark
        b'{"a": "\xff"}',  # not UTF-8 at all
        b'{"a": "\xed\xa0\x80"}',  # an encoded surrogate: passed through, as json does
    ],
)
def test_bytes_read_as_json_reads_them(data: bytes) -> None:
    exact = json.JSONDecoder(parse_float=Decimal)

    def reference(raw: bytes) -> Any:
        return exact.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))

    assert _outcome(lambda raw: decode(raw, exact), data) == _outcome(reference, data)


# ---- the screen's collector pacing and the text facts kept between records ------------------------


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cycle collector frees it


def test_batches_keep_items_and_restore_the_collector() -> None:
    assert gc.isenabled()
    seen = []
    for item in collected_in_batches(range(2500), every=100):
        assert not gc.isenabled()
        seen.append(item)
    assert seen == list(range(2500))
    assert gc.isenabled()
    batches = collected_in_batches(range(10))
    next(batches)
    assert not gc.isenabled()
    batches.close()  # a loop left early (break, an exception) closes its generator
    assert gc.isenabled()
    gc.disable()
    try:
        list(collected_in_batches(range(10)))
        assert not gc.isenabled()  # off it was, off it stays
    finally:
        gc.enable()


def test_cycles_made_during_batches_are_collected() -> None:
    references: list[weakref.ref[_Node]] = []
    for index in collected_in_batches(range(30), every=10):
        references.append(weakref.ref(_Node()))
        if index == 25:
            # Those made before the last batch's collection are gone already.
            assert all(reference() is None for reference in references[:19])
    gc.collect()
    assert all(reference() is None for reference in references)


def test_what_batches_keep_is_frozen_until_the_loop_ends() -> None:
    assert gc.get_freeze_count() == 0
    kept = []
    for index in collected_in_batches(range(30), every=10):
        kept.append([index])  # objects the collector tracks, kept by the loop
        if index == 25:
            assert gc.get_freeze_count() > 0  # the earlier batches' are not walked again
    assert gc.get_freeze_count() == 0  # unfrozen, into the oldest generation
    assert [item for [item] in kept] == list(range(30))


def test_an_applications_own_freeze_is_left_alone() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        references: list[weakref.ref[_Node]] = []
        for _ in collected_in_batches(range(30), every=10):
            references.append(weakref.ref(_Node()))
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen
        assert all(reference() is None for reference in references[:19])  # still collected
    finally:
        gc.unfreeze()


@given(st.text(max_size=12))
def test_text_facts_read_the_same_kept_or_not(text: str) -> None:
    first = read_record({"id": "a", "facts": {"f": text}})
    again = read_record({"id": "b", "facts": {"f": text}})  # now kept, if it read cleanly
    _TEXT_FACTS.pop(text, None)
    fresh = read_record({"id": "c", "facts": {"f": text}})
    assert first.facts == again.facts == fresh.facts
    assert first.problems == again.problems == fresh.problems


def test_a_text_fact_with_a_problem_reports_it_in_every_record() -> None:
    for identifier in ("a", "b"):
        record = read_record({"id": identifier, "facts": {"weight": "62 parsecs per kg"}})
        assert any("facts.weight" in problem for problem in record.problems)
