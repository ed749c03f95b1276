"""SPEC §9 properties of the language: Kleene laws, monotonicity, missing data, robustness,
and the printer round trip."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from critlang import CritlangError, Outcome, Verdict
from critlang.eval.truth import (
    FALSE,
    TRUE,
    Judgement,
    Truth,
    kleene_and,
    kleene_not,
    kleene_or,
    unknown,
)
from critlang.syntax.parser import parse_expression
from critlang.syntax.printer import expression_text
from tests.dictionary import record, trial

judgements = st.sampled_from([TRUE, FALSE, unknown("a"), unknown("b")])


def truth(judgement: Judgement) -> Truth:
    return judgement[0]


@given(judgements, judgements)
def test_kleene_commutative(a: Judgement, b: Judgement) -> None:
    assert truth(kleene_and([a, b])) is truth(kleene_and([b, a]))
    assert truth(kleene_or([a, b])) is truth(kleene_or([b, a]))


@given(judgements, judgements, judgements)
def test_kleene_associative_and_absorption(a: Judgement, b: Judgement, c: Judgement) -> None:
    assert truth(kleene_and([kleene_and([a, b]), c])) is truth(kleene_and([a, kleene_and([b, c])]))
    assert truth(kleene_or([kleene_or([a, b]), c])) is truth(kleene_or([a, kleene_or([b, c])]))
    assert truth(kleene_and([a, kleene_or([a, b])])) is truth(a)
    assert truth(kleene_or([a, kleene_and([a, b])])) is truth(a)


@given(judgements, judgements)
def test_de_morgan(a: Judgement, b: Judgement) -> None:
    assert truth(kleene_not(kleene_and([a, b]))) is truth(kleene_or([kleene_not(a), kleene_not(b)]))
    assert truth(kleene_not(kleene_or([a, b]))) is truth(kleene_and([kleene_not(a), kleene_not(b)]))


def test_kleene_truth_tables() -> None:
    t, f, u = TRUE, FALSE, unknown("x")
    assert truth(kleene_and([f, u])) is Truth.FALSE
    assert truth(kleene_or([t, u])) is Truth.TRUE
    assert truth(kleene_and([t, u])) is Truth.UNKNOWN
    assert truth(kleene_not(u)) is Truth.UNKNOWN
    assert kleene_and([t, u])[1] == ("x",)


LOGIC = trial(
    "inclusion\n"
    "  A: ECOG <= 1 and ANC >= 1.5 x10^9/L\n"
    "  O: ECOG <= 1 or ANC >= 1.5 x10^9/L\n"
    "  N: not (ECOG <= 1)\n"
    "  I: ECOG <= 1 implies ANC >= 1.5 x10^9/L\n"
)
ecog = st.one_of(st.none(), st.integers(0, 5))
anc = st.one_of(st.none(), st.decimals(min_value=0, max_value=10, places=2))


def patient(ecog_value: int | None, anc_value: Decimal | None) -> dict[str, Any]:
    facts = {} if ecog_value is None else {"ECOG": ecog_value}
    labs = (
        []
        if anc_value is None
        else [{"name": "ANC", "value": str(anc_value), "unit": "10*9/L", "date": "2025-05-30"}]
    )
    return record(facts=facts, labs=labs)


OUTCOME_TRUTH = {Outcome.MET: TRUE, Outcome.NOT_MET: FALSE, Outcome.UNKNOWN: unknown("?")}


@given(ecog, anc)
def test_evaluator_follows_kleene_tables(ecog_value: int | None, anc_value: Decimal | None) -> None:
    result = LOGIC.evaluate(patient(ecog_value, anc_value))
    first = (
        TRUE
        if ecog_value is not None and ecog_value <= 1
        else (FALSE if ecog_value is not None else unknown("e"))
    )
    second = (
        TRUE
        if anc_value is not None and anc_value >= Decimal("1.5")
        else (FALSE if anc_value is not None else unknown("a"))
    )
    expected = {
        "A": kleene_and([first, second]),
        "O": kleene_or([first, second]),
        "N": kleene_not(first),
        "I": kleene_or([kleene_not(first), second]),
    }
    for identifier, judgement in expected.items():
        assert OUTCOME_TRUTH[result.criterion(identifier).outcome][0] is truth(judgement)


THRESHOLDS = trial(
    "inclusion\n  G: ANC >= 1.5 x10^9/L\n  L: ANC <= 1.5 x10^9/L\n  U: bilirubin <= 1.5 x ULN\n"
)


@given(
    st.decimals(min_value=0, max_value=5, places=3), st.decimals(min_value=0, max_value=2, places=3)
)
def test_monotonicity(value: Decimal, raise_by: Decimal) -> None:
    def outcomes(number: Decimal) -> tuple[Outcome, Outcome, Outcome]:
        labs = [
            {"name": "ANC", "value": str(number), "unit": "10*9/L", "date": "2025-05-30"},
            {
                "name": "bilirubin",
                "value": str(number),
                "unit": "mg/dL",
                "date": "2025-05-30",
                "high": "1.2",
            },
        ]
        result = THRESHOLDS.evaluate(record(labs=labs))
        return tuple(result.criterion(c).outcome for c in "GLU")  # type: ignore[return-value]

    low, high = outcomes(value), outcomes(value + raise_by)
    if low[0] is Outcome.MET:
        assert high[0] is Outcome.MET  # raising a value never turns >= MET into NOT MET
    if high[1] is Outcome.MET:
        assert low[1] is Outcome.MET
    if high[2] is Outcome.MET:
        assert low[2] is Outcome.MET


MISSING = trial(
    "inclusion\n  I1: ECOG <= 1\n  I2: ANC >= 1.5 x10^9/L\n"
    "exclusion\n  E1: live_vaccine within 4 weeks before screening\n"
)


@given(ecog, anc, st.booleans())
def test_missing_data_never_makes_eligible(
    ecog_value: int | None, anc_value: Decimal | None, events: bool
) -> None:
    data = patient(ecog_value, anc_value)
    if events:
        data["events"] = []
    result = MISSING.evaluate(data)
    if result.verdict is Verdict.ELIGIBLE:
        assert ecog_value is not None
        assert anc_value is not None
        assert events


_EXPRESSION_ALPHABET = 'ANCECOG()<>=!≤≥ .0123456789xULN/^*-+andornotinisknownwithinbefore{},:"#\n'


@given(st.one_of(st.text(max_size=60), st.text(alphabet=_EXPRESSION_ALPHABET, max_size=60)))
def test_any_text_gives_a_trial_or_a_critlang_error(text: str) -> None:
    with contextlib.suppress(CritlangError):
        trial("inclusion\n  I1: " + text + "\n")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
record_keys = st.sampled_from(
    [
        "id",
        "birth_date",
        "sex",
        "anchors",
        "facts",
        "labs",
        "events",
        "conditions",
        "ECOG",
        "ANC",
        "age",
    ]
)


@given(st.dictionaries(record_keys, json_values, max_size=6))
def test_any_record_gives_a_result_or_a_critlang_error(data: dict[str, Any]) -> None:
    try:
        result = MISSING.evaluate(json.loads(json.dumps(data)))
    except CritlangError:
        return
    assert result.verdict in Verdict


EXPRESSIONS = [
    "ANC >= 1.5 x10^9/L and ECOG in 0..2",
    "not (a or b) and c implies d",
    "if a then b <= 5 x ULN else b <= 3 x ULN",
    "(myocardial_infarction or CABG) within 6 months before screening",
    "x within 3 years before screening except (y or z)",
    "weight / (height / 100 cm)^2 < 25 kg - 1 kg",
    "count(seizure within 1 year before screening) >= 2",
    "sex not in {female, male} or ECOG is missing",
    "a - (b - c) > -d",
]


@given(st.sampled_from(EXPRESSIONS))
def test_printer_round_trip(text: str) -> None:
    parsed = parse_expression(text)
    printed = expression_text(parsed)
    assert parse_expression(printed) == parsed
    assert expression_text(parse_expression(printed)) == printed


@given(ecog, anc, st.booleans())
def test_evidence_does_not_change_outcomes(
    ecog_value: int | None, anc_value: Decimal | None, events: bool
) -> None:
    data = patient(ecog_value, anc_value)
    if events:
        data["events"] = []
    full, fast = MISSING.evaluate(data), MISSING.evaluate(data, evidence=False)
    assert fast.verdict is full.verdict
    assert [(c.id, c.outcome, c.reasons) for c in fast.criteria] == [
        (c.id, c.outcome, c.reasons) for c in full.criteria
    ]
    assert all(not c.evidence for c in fast.criteria)
