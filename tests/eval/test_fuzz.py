"""Grammatical random criteria: checking gives a trial or a CritlangError, and evaluating a checked
trial on random records gives a result. Never an internal exception (SPEC §9)."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from critlang import CritlangError
from tests.dictionary import record, trial

NAMES = [
    "ANC",
    "ECOG",
    "sex",
    "age",
    "ALT",
    "bilirubin",
    "creatinine",
    "pregnancy_test",
    "childbearing_potential",
    "weight",
    "height",
    "chemotherapy",
    "liver_metastases",
    "malignancy",
    "live_vaccine",
    "seizure",
    "female",
    "negative",
    "screening",
    "nonsense",
]
VALUES = [
    "1.5 x10^9/L",
    "1500 /uL",
    "9 g/dL",
    "3 x ULN",
    "1.5",
    "2",
    "18 years",
    "60 kg",
    "92 %",
    "1.2 mg/dL",
    "100 umol/L",
    "2025-01-01",
    "true",
    "{female, male}",
    "ICD10:C34*",
]
WINDOWS = [
    "within 3 weeks before screening",
    "within 1 month after treatment",
    "within 48 hours of treatment",
    "before screening",
    "after 2025-01-01",
    "at least 2 weeks before treatment",
]
COMPARATORS = ["<", "<=", ">", ">=", "=", "!=", "≤"]


def expressions() -> st.SearchStrategy[str]:
    atoms = st.one_of(st.sampled_from(NAMES), st.sampled_from(VALUES))
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from(COMPARATORS), inner),
            st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
            st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
            st.builds(lambda a: f"not ({a})", inner),
            st.builds(lambda a, b: f"({a}) implies ({b})", inner, inner),
            st.builds(lambda c, a, b: f"if {c} then {a} else {b}", inner, inner, inner),
            st.builds(lambda a, w: f"({a}) {w}", inner, st.sampled_from(WINDOWS)),
            st.builds(lambda a, b: f"({a}) except {b}", inner, st.sampled_from(NAMES)),
            st.builds(
                lambda a, r: f"{a} in {r}",
                inner,
                st.sampled_from(["0..2", "18..65 years", "..3 x ULN", "{female}", "1 x10^9/L.."]),
            ),
            st.builds(lambda a, k: f"{a} is {k}", inner, st.sampled_from(["known", "missing"])),
            st.builds(
                lambda f, a: f"{f}({a})",
                st.sampled_from(["count", "max", "min", "latest", "any", "all", "abs", "age_at"]),
                inner,
            ),
            st.builds(
                lambda a, op, b: f"({a}) {op} ({b})",
                inner,
                st.sampled_from(["+", "-", "*", "/"]),
                inner,
            ),
        ),
        max_leaves=8,
    )


LAB_THRESHOLDS = {
    "ANC": ["1.5 x10^9/L", "1500 /uL", "1 x10^9/L"],
    "ALT": ["40 U/L", "2.5 x ULN", "3 x ULN"],
    "bilirubin": ["1.5 x ULN", "1.2 mg/dL", "20 umol/L"],
    "creatinine": ["1.5 mg/dL", "132.6 umol/L", "2 x ULN"],
}
FACT_TESTS = [
    "ECOG <= 1",
    "ECOG in 0..2",
    "sex = female",
    "sex in {female, male}",
    "childbearing_potential",
    "age >= 18 years",
    "age in 18..75 years",
    "bmi(weight, height) < 30 kg/m2",
    "ECOG is known",
    "pregnancy_test = negative",
]
EVENTS = ["chemotherapy", "live_vaccine", "seizure", "liver_metastases", "malignancy"]


def conditions_typed() -> st.SearchStrategy[str]:
    """Well-typed conditions by construction, so that the evaluator, not the checker, is fuzzed."""
    lab_test = st.sampled_from(sorted(LAB_THRESHOLDS)).flatmap(
        lambda lab: st.builds(
            lambda op, threshold, selector: f"{selector.format(lab)} {op} {threshold}",
            st.sampled_from(COMPARATORS),
            st.sampled_from(LAB_THRESHOLDS[lab]),
            st.sampled_from(
                [
                    "{}",
                    "max({} within 60 days before screening)",
                    "any({} within 30 days of screening)",
                    "all({} before screening)",
                ]
            ),
        )
    )
    event_test = st.one_of(
        st.builds(
            lambda e, w: f"{e} {w}", st.sampled_from(EVENTS), st.sampled_from(["", *WINDOWS])
        ),
        st.builds(
            lambda e, w: f"count({e} {w}) >= 1",
            st.sampled_from(EVENTS),
            st.sampled_from(WINDOWS[:3]),
        ),
        st.builds(
            lambda w: f"malignancy {w} except basal_cell_carcinoma", st.sampled_from(WINDOWS[:3])
        ),
        st.just("diagnosis in {ICD10:C34*, ICD10:C78.7}"),
    )
    leaf = st.one_of(lab_test, st.sampled_from(FACT_TESTS), event_test)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
            st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
            st.builds(lambda a: f"not ({a})", inner),
            st.builds(lambda a, b: f"({a}) implies ({b})", inner, inner),
            st.builds(lambda c, a, b: f"if {c} then {a} else {b}", inner, inner, inner),
            st.builds(lambda a, w: f"({a}) {w}", inner, st.sampled_from(WINDOWS[:3])),
        ),
        max_leaves=6,
    )


lab_entries = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["ANC", "ALT", "bilirubin", "creatinine", "pregnancy_test"]),
        "value": st.one_of(
            st.decimals(min_value=-5, max_value=2000, places=2).map(str),
            st.sampled_from(["negative", "positive", "abc"]),
        ),
        "unit": st.sampled_from(["10*9/L", "/uL", "U/L", "mg/dL", "umol/L", "g/dL", "%"]),
        "date": st.sampled_from(["2025-05-01", "2025-05-30", "2025-06-02", "2025-06-30"]),
    },
    optional={"high": st.sampled_from([None, 40, "1.2", 0])},
)
events = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(["chemotherapy", "live_vaccine", "seizure", "unknown_thing"]),
            "start": st.sampled_from(["2025-05-20", "2025-06-10", "2024-01-01"]),
        },
        optional={"end": st.sampled_from(["2025-05-25", "2025-06-15", None])},
    ),
    max_size=3,
)
conditions = st.lists(
    st.fixed_dictionaries(
        {
            "code": st.sampled_from(["ICD10:C34.1", "ICD10:C78.7", "ICD10:C44.91", "SNOMED:1"]),
            "onset": st.sampled_from(["2023-01-01", "2025-05-01"]),
        },
        optional={
            "status": st.sampled_from(["active", "resolved"]),
            "abatement": st.sampled_from(["2024-01-01", None]),
        },
    ),
    max_size=3,
)
records = st.builds(
    lambda labs, ev, cond, facts, birth: record(
        labs=labs, events=ev, conditions=cond, facts=facts, birth_date=birth
    ),
    st.lists(lab_entries, max_size=4),
    st.one_of(st.none(), events),
    st.one_of(st.none(), conditions),
    st.fixed_dictionaries(
        {},
        optional={
            "ECOG": st.integers(-1, 6),
            "childbearing_potential": st.booleans(),
            "weight": st.just("70 kg"),
            "height": st.just("170 cm"),
            "sex": st.sampled_from(["female", "male", "x"]),
        },
    ),
    st.sampled_from(["1960-05-05", "2010-01-01", "not a date"]),
)


@settings(max_examples=settings.default.max_examples * 3)
@given(st.one_of(conditions_typed(), expressions()), st.lists(records, min_size=1, max_size=3))
def test_random_criteria_check_and_evaluate(
    expression: str, patients: list[dict[str, Any]]
) -> None:
    try:
        checked = trial(f"inclusion\n  I1: {expression}\nexclusion\n  E1: {expression}\n")
    except CritlangError:
        return
    for patient in patients:
        with contextlib.suppress(CritlangError):
            result = checked.evaluate(patient)
            assert result.to_dict()["verdict"] in ("eligible", "ineligible", "undetermined")
            result.explain()
            fast = checked.evaluate(patient, evidence=False)
            assert fast.verdict == result.verdict
            assert [(c.outcome, c.reasons) for c in fast.criteria] == [
                (c.outcome, c.reasons) for c in result.criteria
            ]


@settings(max_examples=settings.default.max_examples * 3)
@given(st.one_of(conditions_typed(), expressions()))
def test_printer_round_trip_on_generated_expressions(text: str) -> None:
    from critlang.syntax.parser import parse_expression
    from critlang.syntax.printer import expression_text

    try:
        parsed = parse_expression(text)
    except CritlangError:
        return
    printed = expression_text(parsed)
    assert parse_expression(printed) == parsed, printed
    assert expression_text(parse_expression(printed)) == printed
