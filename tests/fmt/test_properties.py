"""Properties of the formatter on random programs (SPEC §9): formatting keeps the program and its
comments, and formatting twice changes nothing. ``--slow`` runs many more examples."""

from __future__ import annotations

from collections import Counter

from hypothesis import given

from critlang.fmt import format_source
from critlang.syntax.parser import parse_program
from tests.fmt.strategies import Source, sources


def comment_texts(text: str) -> Counter[str]:
    return Counter(comment.text.rstrip() for comment in parse_program(text).comments)


@given(sources())
def test_the_generator_writes_the_program_it_drew(source: Source) -> None:
    parsed = parse_program(source.text)
    assert parsed == source.program
    assert comment_texts(source.text) == Counter(source.comments)


@given(sources())
def test_formatting_keeps_the_program_and_its_comments(source: Source) -> None:
    formatted = format_source(source.text)
    assert parse_program(formatted) == parse_program(source.text)
    assert comment_texts(formatted) == Counter(source.comments)


@given(sources())
def test_formatting_is_idempotent(source: Source) -> None:
    formatted = format_source(source.text)
    assert format_source(formatted) == formatted
