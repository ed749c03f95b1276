"""Layout details of the formatter that the golden files do not show one at a time."""

from __future__ import annotations

import pytest

from critlang.errors import ParseError
from critlang.fmt import format_source
from critlang.syntax.parser import parse_program


@pytest.mark.parametrize("text", ["", "\n", "  \n\n\t\n"])
def test_an_empty_file_stays_empty(text: str) -> None:
    assert format_source(text) == ""


def test_a_file_of_comments_keeps_them_and_their_blank_lines() -> None:
    assert format_source("\n# a   \n\n\n   # b") == "# a\n\n# b\n"


def test_windows_line_ends_become_unix_ones() -> None:
    text = 'inclusion\r\n  I1 "x # y": a and  # c  \r\n  b\r\n'
    formatted = format_source(text)
    assert formatted == 'inclusion\n  I1 "x # y":\n      a  # c\n      and b\n'
    assert parse_program(formatted) == parse_program(text)


def test_a_hash_in_quoted_text_is_not_a_comment() -> None:
    text = 'inclusion\n  I1 "ECOG # 1": review "see # 3"\n'
    assert format_source(text) == text
    assert parse_program(text).comments == ()


def test_a_parse_error_is_raised_with_its_location() -> None:
    with pytest.raises(ParseError) as raised:
        format_source("inclusion\n  I1: age >=\n", "trial.crit")
    assert str(raised.value).startswith("trial.crit:3:1: E111")


def test_a_one_line_criterion_fits_in_100_columns_exactly() -> None:
    name = "n" * (100 - len("  I1: "))
    assert format_source(f"inclusion I1: {name}") == f"inclusion\n  I1: {name}\n"
    longer = name + "n"
    assert format_source(f"inclusion I1: {longer}") == f"inclusion\n  I1:\n      {longer}\n"


def test_names_keep_their_spelling() -> None:
    # The formatter reads no dictionary: `anc` is not rewritten `ANC` (that is lint's to fix).
    assert format_source("inclusion I1: anc >= 1.5 x10^9/L") == (
        "inclusion\n  I1: anc >= 1.5 x10^9/L\n"
    )
