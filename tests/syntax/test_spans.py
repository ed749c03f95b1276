"""Every node's span is its own text: the text under an expression's span parses back to an equal
expression, and each child's span lies strictly inside its parent's (spans are built while the
parser reduces, so this is what holds them right)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from hypothesis import given

from critlang.syntax import ast
from critlang.syntax.parser import parse_expression, parse_program
from tests.fmt.strategies import Source, sources

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "examples").glob("*.crit")) + sorted(
    (ROOT / "src" / "critlang" / "std").glob("*.crit")
)
# Expressions that stand alone; ranges, sets (and their symbols) and windows only follow `in`,
# a declaration or an expression.
_NOT_ALONE = (ast.Range, ast.SetLiteral, ast.Window, ast.Symbol)


def children(node: ast.Node) -> Iterator[ast.Node]:
    for field in attrs.fields(type(node)):
        value = getattr(node, field.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, ast.Node) and field.name != "span":
                yield item


def assert_spans_hold(text: str) -> None:
    program = parse_program(text)
    ends = 0
    pending: list[ast.Node] = list(program.items)
    while pending:
        node = pending.pop()
        span = node.span
        assert 0 <= span.start < span.end <= len(text), node
        ends = max(ends, span.end)
        own = text[span.start : span.end]
        if isinstance(node, ast.Criterion):
            assert own.startswith(node.id)
        elif isinstance(node, ast.Number) and node.text.startswith("-"):
            assert own == node.text  # a signed number in a range or a set
        elif isinstance(node, ast.Expr) and not isinstance(node, _NOT_ALONE):
            assert parse_expression(own) == node, own
        for child in children(node):
            assert span.start <= child.span.start <= child.span.end <= span.end
            # Strictly shorter than its parent: a node's depth is at most its length, which the
            # parser's depth check relies on.
            assert child.span.end - child.span.start < span.end - span.start
            pending.append(child)
    if program.items:
        # The program runs from its first item (or section keyword) to its last; after it, only
        # blanks and comments.
        assert program.span.start <= program.items[0].span.start
        assert program.span.end >= ends
        after = text[program.span.end :].splitlines()
        assert all(not line.strip() or line.strip().startswith("#") for line in after)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_spans_of_the_examples_and_the_standard_dictionary(path: Path) -> None:
    assert_spans_hold(path.read_text(encoding="utf-8"))


@given(sources())
def test_spans_of_generated_programs(source: Source) -> None:
    assert_spans_hold(source.text)


def test_spans_reach_brackets_and_keywords() -> None:
    text = "inclusion\n  I1: not (a or b) and x in {c, d}\n"
    (criterion,) = parse_program(text).items
    assert isinstance(criterion, ast.Criterion)
    body = criterion.body
    assert isinstance(body, ast.Logical)
    negation, member = body.operands
    assert text[negation.span.start : negation.span.end] == "not (a or b)"
    assert isinstance(negation, ast.Not)
    assert text[negation.operand.span.start : negation.operand.span.end] == "a or b"
    assert isinstance(member, ast.Member)
    assert text[member.target.span.start : member.target.span.end] == "{c, d}"
    assert text[body.span.start : body.span.end] == "not (a or b) and x in {c, d}"
