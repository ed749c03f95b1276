"""Offsets and LSP positions in each encoding, offsets across an edit, and criterion IDs in test
files: the helpers of the language server, in-process."""

from __future__ import annotations

import pytest

pytest.importorskip("lsprotocol", reason="needs pygls: pip install -e '.[dev]'")

from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from critlang.lsp.navigation import criterion_keys
from critlang.lsp.positions import UTF8, UTF16, UTF32, LineIndex, OffsetMap
from critlang.source import Span

TEXT = 'trial T "😀 ≥"\ninclusion\n  I1 "x ≥ 1": ANC >= 1.5 x10^9/L\r\n  I2: ECOG in 0..2'


@pytest.mark.parametrize(
    ("encoding", "character"), [(UTF8, len('trial T "😀 ≥'.encode())), (UTF16, 13), (UTF32, 12)]
)
def test_columns_count_code_units_of_the_encoding(encoding: str, character: int) -> None:
    lines = LineIndex(TEXT, encoding)
    offset = TEXT.index('"\ninclusion')
    assert lines.position(offset) == types.Position(line=0, character=character)
    assert lines.offset(types.Position(line=0, character=character)) == offset


@given(st.integers(min_value=0, max_value=len(TEXT)), st.sampled_from([UTF8, UTF16, UTF32]))
def test_positions_round_trip(offset: int, encoding: str) -> None:
    lines = LineIndex(TEXT, encoding)
    if TEXT[offset - 1 : offset] == "\r":
        return  # the end of a line is before its \r\n
    assert lines.offset(lines.position(offset)) == offset


def test_a_position_past_the_end_of_a_line_is_its_end() -> None:
    lines = LineIndex(TEXT)
    end_of_line_two = TEXT.index("\r\n")
    assert lines.offset(types.Position(line=2, character=999)) == end_of_line_two
    assert lines.offset(types.Position(line=99, character=0)) == len(TEXT)


@given(st.text(max_size=30), st.text(max_size=30), st.text(max_size=10), st.text(max_size=10))
def test_offsets_outside_an_edit_are_carried_across_it(
    prefix: str, suffix: str, old: str, new: str
) -> None:
    before, after = prefix + old + suffix, prefix + new + suffix
    moved = OffsetMap(before, after)
    assert moved.to_new(0) == 0
    assert moved.to_new(len(before), after=True) == len(after)
    for offset in range(len(before) + 1):
        carried = moved.to_new(offset)
        if carried is not None:
            assert before[offset:] == after[carried:] or before[:offset] == after[:carried]
            assert moved.to_old(carried) == offset or before[offset:] == after[carried:]


def test_spans_move_with_an_edit_unless_it_cuts_them() -> None:
    typed = OffsetMap("ANC >= 1.5", "ANCC >= 1.5")
    assert typed.span_to_new(Span(7, 10)) == Span(8, 11)
    assert typed.span_to_new(Span(0, 3)) == Span(0, 3)
    assert typed.span_to_new(Span(3, 4)) == Span(4, 5)  # the text after an insertion
    replaced = OffsetMap("ANC >= 1.5", "WBC >= 1.5")
    assert replaced.span_to_new(Span(1, 3)) is None


def test_criterion_ids_are_found_as_keys_of_the_test_cases() -> None:
    toml = (
        '[[case]]\nname = "I1"\n[case.criteria]\nI1 = "met"\n"I1" = "met"\nI10 = "met"\n'
        '[[case]]\ncriteria = {I1 = "not_met", I2 = "met"}\n'
    )
    found = [toml[span.start : span.end] for span in criterion_keys(toml, "I1")]
    assert found == ["I1", "I1", "I1"]
    starts = [toml.count("\n", 0, span.start) for span in criterion_keys(toml, "I1")]
    assert starts == [3, 4, 7]
