"""The SQL connectives are Kleene's, on every combination of TRUE, FALSE and UNKNOWN (NULL),
checked by running them in DuckDB against critlang's own three-valued logic (eval.truth)."""

from __future__ import annotations

import itertools

import duckdb
from sqlglot import exp

from critlang.eval.truth import FALSE, TRUE, Truth, kleene_and, kleene_not, kleene_or, unknown
from critlang.sql import truth

VALUES = {Truth.TRUE: exp.true(), Truth.FALSE: exp.false(), Truth.UNKNOWN: truth.unknown()}
JUDGEMENTS = {Truth.TRUE: TRUE, Truth.FALSE: FALSE, Truth.UNKNOWN: unknown("missing")}


_DUCKDB = duckdb.connect()


def _value(expression: exp.Expression) -> object:
    """The expression's value, computed by DuckDB."""
    [(value,)] = _DUCKDB.execute(exp.select(expression).sql(dialect="duckdb")).fetchall()
    return value


def _run(expression: exp.Expression) -> Truth:
    value = _value(expression)
    return Truth.UNKNOWN if value is None else Truth.of(bool(value))


def test_and_or_not() -> None:
    for size in (1, 2, 3):
        for truths in itertools.product(list(Truth), repeat=size):
            items = [VALUES[t].copy() for t in truths]
            judgements = [JUDGEMENTS[t] for t in truths]
            assert _run(truth.kleene_and(items)) is kleene_and(judgements)[0], truths
            assert _run(truth.kleene_or([i.copy() for i in items])) is kleene_or(judgements)[0]
    for value in Truth:
        assert _run(truth.kleene_not(VALUES[value].copy())) is kleene_not(JUDGEMENTS[value])[0]


def test_implies_is_not_premise_or_conclusion() -> None:
    for premise, conclusion in itertools.product(list(Truth), repeat=2):
        expected = kleene_or([kleene_not(JUDGEMENTS[premise]), JUDGEMENTS[conclusion]])[0]
        got = _run(truth.implies(VALUES[premise].copy(), VALUES[conclusion].copy()))
        assert got is expected, (premise, conclusion)


def test_branch_decides_an_unknown_test_only_when_both_branches_agree() -> None:
    for test, then, otherwise in itertools.product(list(Truth), repeat=3):
        if test is Truth.TRUE:
            expected = then
        elif test is Truth.FALSE:
            expected = otherwise
        else:
            expected = then if then is otherwise else Truth.UNKNOWN
        got = _run(truth.branch(VALUES[test].copy(), VALUES[then].copy(), VALUES[otherwise].copy()))
        assert got is expected, (test, then, otherwise)


def test_outcome_and_verdict_words() -> None:
    words = {Truth.TRUE: "met", Truth.FALSE: "not_met", Truth.UNKNOWN: "unknown"}
    for value in Truth:
        assert _value(truth.outcome(VALUES[value].copy())) == words[value]
    for inclusion, exclusion in itertools.product(list(Truth), repeat=2):
        verdict = truth.verdict([VALUES[inclusion].copy()], [VALUES[exclusion].copy()], exp.false())
        word = _value(verdict)
        if inclusion is Truth.FALSE or exclusion is Truth.TRUE:
            assert word == "ineligible"
        elif Truth.UNKNOWN in (inclusion, exclusion):
            assert word == "undetermined"
        else:
            assert word == "eligible"
