"""The compiled evaluator (``evidence=False``): the same outcomes, reasons and verdicts as the
closures, and no text from the criteria file in the code it generates."""

from __future__ import annotations

import io
import json
import keyword
import re
import tokenize
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import critlang
from critlang.eval.compiled import generate
from critlang.eval.result import Outcome, Verdict
from critlang.trial import Trial, as_record
from tests.dictionary import record, trial

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# The only names the generated source may use besides its own made-up locals and constants.
_ALLOWED = {
    "ctx",
    "record",
    "dictionary",
    "_context",
    "_facts",
    "_fact",
    "entry_set",
    "name",
    "_conditions",
    "evaluate",
    "verdict",
    "tuple",
    "dict",
    "fromkeys",
    "len",
    "list",
    "bool",
    "str",
    "isdisjoint",
    "get",
    "reasons",
    "unit",
    "code",
    "value",
    "numerator",
    "denominator",
    "source",
    "high",
    "low",
    "facts",
    "conditions",
    "events",
    "_events",
    "__class__",
    "_UNSET",
    "_Quantity",
    "_Unknown",
    "_Fraction",
    "_Observed",
    "_NO_REASON",
    "_active",
    "_SCREENING",
    "anchors",
}
_MADE_UP = re.compile(r"[kstr][0-9]+")


def assert_same(checked: Trial, patient: object) -> None:
    slow = checked.evaluate(patient)  # type: ignore[arg-type]
    fast = checked.evaluate(patient, evidence=False)  # type: ignore[arg-type]
    assert fast.verdict == slow.verdict
    assert [(c.id, c.outcome, c.reasons) for c in fast.criteria] == [
        (c.id, c.outcome, c.reasons) for c in slow.criteria
    ]
    assert fast.outcomes == tuple(c.outcome for c in slow.criteria)
    assert fast.to_dict()["missing"] == slow.to_dict()["missing"]


def test_examples_agree_with_the_closures() -> None:
    count = 0
    for path in sorted(EXAMPLES.glob("*.crit")):
        checked = critlang.load(path)
        for file in sorted((EXAMPLES / path.stem / "records").glob("*.json")):
            assert_same(checked, as_record(json.loads(file.read_text(encoding="utf-8"))))
            count += 1
    assert count >= 80


def source_names(source: str) -> tuple[set[str], list[str]]:
    names, strings = set(), []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and not keyword.iskeyword(token.string):
            names.add(token.string)
        elif token.type == tokenize.STRING:
            strings.append(token.string)
        elif token.type == tokenize.NUMBER:
            assert token.string in ("0", "1"), token.string  # indexes into constant pairs
    return names, strings


def test_no_text_from_the_criteria_reaches_the_generated_source() -> None:
    hostile = "__import__('os').system('echo owned')"
    checked = trial(
        'lab evil_lab "x": {' + "positive, negative} codes LOINC:1\n"
        'fact evil_fact "' + hostile + '": boolean\n'
        "inclusion\n"
        '  I1 "' + hostile + '": evil_lab = positive and evil_fact\n'
        "  I2: ANC >= 1.5 x10^9/L and ALT <= 3 x ULN and ECOG in 0..2\n"
        "  I3: liver_metastases or chemotherapy within 4 weeks before screening\n"
        "  I4: if sex = female then pregnancy_test = negative else true\n"
        "exclusion\n"
        "  E1: not (bilirubin > 2 mg/dL) implies seizure\n"
    )
    generated = generate(checked._planner, checked.criteria)
    assert generated is not None
    source, constants = generated
    names, strings = source_names(source)
    assert strings == []
    assert {name for name in names if not _MADE_UP.fullmatch(name)} <= _ALLOWED
    assert "evil" not in source
    assert "positive" not in source
    # Every constant the source names is given to it.
    assert {name for name in names if name.startswith("k")} <= set(constants)


def test_deep_nesting_falls_back_to_the_closures() -> None:
    deep = "ANC >= 1 x10^9/L"
    for level in range(70):
        deep = f"ANC >= 1 x10^9/L {'and' if level % 2 else 'or'} ({deep})"
    checked = trial(f"inclusion\n  I1: {deep}\nexclusion\n")
    assert generate(checked._planner, checked.criteria) is None
    result = checked.evaluate(
        record(labs=[{"name": "ANC", "value": 2, "unit": "10*9/L", "date": "2025-06-01"}]),
        evidence=False,
    )
    assert result.criteria[0].outcome is Outcome.MET


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("1500", "/uL", Outcome.MET),  # converted: 1.5 x10^9/L, at the threshold
        ("1499", "/uL", Outcome.NOT_MET),
        ("1.5", "10*9/L", Outcome.MET),
        ("1.49", "10*9/L", Outcome.NOT_MET),
        ("150", "g/dL", Outcome.UNKNOWN),  # not a count: cannot be read as 10*9/L
    ],
)
def test_inlined_comparisons_convert_units_exactly(
    value: str, unit: str, expected: Outcome
) -> None:
    checked = trial("inclusion\n  I1: ANC >= 1.5 x10^9/L\nexclusion\n")
    patient = record(labs=[{"name": "ANC", "value": value, "unit": unit, "date": "2025-06-01"}])
    assert checked.evaluate(patient, evidence=False).criteria[0].outcome is expected
    assert_same(checked, patient)


def test_uln_boundary_is_exact() -> None:
    # SPEC §4: bilirubin <= 1.5 x ULN with 1.8 and ULN 1.2 is MET (binary floats say otherwise).
    checked = trial("inclusion\n  I1: bilirubin <= 1.5 x ULN\nexclusion\n")
    patient = record(
        labs=[
            {"name": "bilirubin", "value": 1.8, "unit": "mg/dL", "high": 1.2, "date": "2025-06-01"}
        ]
    )
    fast = checked.evaluate(patient, evidence=False)
    assert fast.criteria[0].outcome is Outcome.MET
    assert fast.verdict is Verdict.ELIGIBLE
    assert_same(checked, patient)


def test_result_outcomes_need_no_criterion_objects() -> None:
    checked = trial('inclusion\n  I1: ANC >= 1.5 x10^9/L\n  I2: review "consent"\nexclusion\n')
    fast = checked.evaluate(record(), evidence=False)
    assert fast.outcomes == (Outcome.UNKNOWN, Outcome.REVIEW)
    assert fast.verdict is Verdict.UNDETERMINED
    assert fast.criteria[1].reasons == ("consent",)


labs = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(["ANC", "ALT", "bilirubin", "creatinine"]),
            "value": st.decimals(min_value=0, max_value=3000, places=3).map(str),
            "unit": st.sampled_from(["10*9/L", "/uL", "U/L", "[IU]/L", "mg/dL", "umol/L", "%"]),
            "date": st.sampled_from(["2025-05-01", "2025-06-02", "2025-06-03", "2024-01-01"]),
        },
        optional={"high": st.sampled_from([None, 40, "1.2", "0.9"])},
    ),
    max_size=5,
)
thresholds = st.sampled_from(
    [
        "ANC >= 1.5 x10^9/L",
        "ANC > 1500 /uL",
        "ANC in 1..3 x10^9/L",
        "ANC not in 1..3 x10^9/L",
        "ALT <= 3 x ULN",
        "ALT > 2.5 x ULN",
        "bilirubin <= 1.5 x ULN",
        "creatinine <= 1.5 mg/dL",
        "creatinine < 133 umol/L",
        "max(ANC within 2 weeks before screening) >= 2 x10^9/L",
        "earliest(ALT) <= 40 U/L",
        "ECOG in 0..1",
        "sex = female",
    ]
)


@given(
    st.lists(thresholds, min_size=1, max_size=4),
    st.sampled_from([" and ", " or "]),
    labs,
    st.one_of(st.none(), st.integers(-1, 6)),
)
def test_compiled_and_closures_agree(
    tests: list[str], joiner: str, entries: list[dict[str, object]], ecog: int | None
) -> None:
    expression = joiner.join(f"({item})" for item in tests)
    checked = trial(
        f"inclusion\n  I1: {expression}\n  I2: if {tests[0]} then {tests[-1]} else not ({tests[0]})"
        f"\nexclusion\n  E1: {tests[-1]} implies ({tests[0]})\n"
    )
    facts = {} if ecog is None else {"ECOG": ecog}
    assert_same(checked, record(labs=entries, facts=facts, sex="female"))


def test_a_unit_no_one_can_read_is_unknown_with_its_reason() -> None:
    # Records built in Python (or by a reader) are not checked like JSON ones: never a crash.
    from critlang.data.record import LabResult, Record

    checked = trial("inclusion\n  I1: ANC >= 1.5 x10^9/L\nexclusion\n")
    result = LabResult(
        name="ANC",
        code=None,
        value=Fraction(2),
        unit="furlongs/fortnight!",
        date=None,
        low=None,
        high=None,
        source="labs[0]",
    )
    patient = Record(
        id="P",
        birth_date=None,
        sex=None,
        age=None,
        anchors={},
        facts={},
        labs=(result,),
        events=None,
        conditions=None,
    )
    for evidence in (True, False):
        outcome = checked.evaluate(patient, evidence=evidence).criteria[0]
        assert outcome.outcome is Outcome.UNKNOWN
        assert "furlongs/fortnight!" in outcome.reasons[0]
    assert_same(checked, patient)


truth_leaves = st.sampled_from(
    [
        "childbearing_potential",
        "not childbearing_potential",
        "malignancy except basal_cell_carcinoma",
        "lung_cancer",
        "liver_metastases",
        "chemotherapy",
        "live_vaccine",
    ]
)
conditions = st.lists(
    st.fixed_dictionaries(
        {"code": st.sampled_from(["ICD10:C34.1", "ICD10:C44.91", "ICD10:C78.7", "ICD10:I10"])},
        optional={
            "status": st.sampled_from(["active", "resolved"]),
            "onset": st.sampled_from(["2020-01-01", "2025-06-02", "2025-07-01"]),
        },
    ),
    max_size=3,
)


@given(
    st.lists(truth_leaves, min_size=1, max_size=3),
    st.one_of(st.none(), conditions),
    st.one_of(st.none(), st.booleans(), st.just("yes")),
    st.sampled_from(["childbearing_potential", "Childbearing_Potential", "other"]),
)
def test_sections_read_once_or_many_times_agree(
    leaves: list[str], found: list[dict[str, str]] | None, flag: object, key: str
) -> None:
    # A section read in one place is read directly, one read in several is indexed once.
    once = trial(f"inclusion\n  I1: {' and '.join(leaves)}\nexclusion\n")
    many = trial(
        f"inclusion\n  I1: {' and '.join(leaves)}\nexclusion\n  E1: {' or '.join(leaves)}\n"
    )
    events = [{"name": "chemotherapy", "date": "2025-05-01"}] if "chemo" in "".join(leaves) else []
    facts = {} if flag is None else {key: flag}
    patient = record(conditions=found, facts=facts, events=events)
    if found is None:
        del patient["conditions"]
    for checked in (once, many):
        assert_same(checked, patient)


def test_a_section_read_once_is_read_directly() -> None:
    once = trial("inclusion\n  I1: lung_cancer and childbearing_potential\nexclusion\n")
    many = trial(
        "inclusion\n  I1: lung_cancer and childbearing_potential\n"
        "exclusion\n  E1: lung_cancer or childbearing_potential\n"
    )
    direct = generate(once._planner, once.criteria)
    indexed = generate(many._planner, many.criteria)
    assert direct is not None
    assert indexed is not None
    assert "record.conditions" in direct[0]
    assert "_fact(" in direct[0]
    assert "_conditions(" in indexed[0]
    assert "facts.get(" in indexed[0]
