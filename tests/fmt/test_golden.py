"""Golden files: each ``tests/fixtures/fmt/NAME.crit`` formats to ``NAME.formatted``, checked three
ways (the output matches, it parses to the same program with the same comments, and formatting it
again changes nothing). The example trials and the standard dictionary are held to the last two.

After a deliberate change of layout, rewrite a twin with ``critlang fmt - < NAME.crit >
NAME.formatted`` and read the diff before committing it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from critlang.fmt import format_source
from critlang.syntax.parser import parse_program
from tests.conftest import FIXTURES, ROOT

GOLDEN = sorted((FIXTURES / "fmt").glob("*.crit"))
EXAMPLES = sorted((ROOT / "examples").glob("*.crit"))
STANDARD = sorted((ROOT / "src" / "critlang" / "std").glob("*.crit"))


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def comments(text: str) -> Counter[str]:
    return Counter(comment.text.rstrip() for comment in parse_program(text).comments)


def test_every_input_has_its_formatted_twin() -> None:
    assert len(GOLDEN) >= 10
    assert sorted(path.stem for path in GOLDEN) == sorted(
        path.stem for path in (FIXTURES / "fmt").glob("*.formatted")
    )


@pytest.mark.parametrize("path", GOLDEN, ids=lambda path: path.stem)
def test_output_matches_the_twin(path: Path) -> None:
    assert format_source(read(path), str(path)) == read(path.with_suffix(".formatted"))


@pytest.mark.parametrize("path", GOLDEN, ids=lambda path: path.stem)
def test_output_parses_to_the_same_program_and_comments(path: Path) -> None:
    source, formatted = read(path), read(path.with_suffix(".formatted"))
    assert parse_program(formatted) == parse_program(source)
    assert comments(formatted) == comments(source)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda path: path.stem)
def test_formatting_the_output_changes_nothing(path: Path) -> None:
    formatted = read(path.with_suffix(".formatted"))
    assert format_source(formatted) == formatted


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_the_examples_are_formatted(path: Path) -> None:
    assert format_source(read(path), str(path)) == read(path)


@pytest.mark.parametrize("path", STANDARD, ids=lambda path: path.stem)
def test_the_standard_dictionary_keeps_its_meaning(path: Path) -> None:
    source = read(path)
    formatted = format_source(source, str(path))
    assert parse_program(formatted) == parse_program(source)
    assert comments(formatted) == comments(source)
    assert format_source(formatted) == formatted


def test_the_layout_shown_in_the_language_reference_is_the_formatters() -> None:
    reference = read(ROOT / "docs" / "language.md")
    example = reference.split("## Canonical layout", 1)[1].split("```", 2)[1].lstrip("\n")
    assert format_source(example) == example
