"""Evaluation semantics (SPEC §4): outcomes, verdicts, exact boundaries, windows, missing data."""

from __future__ import annotations

import pytest

from critlang import Outcome, Verdict
from critlang.eval.plan import add_months
from tests.dictionary import record, trial


def outcome(criteria: str, **fields: object) -> Outcome:
    result = trial("inclusion\n  I1: " + criteria + "\n").evaluate(record(**fields))
    return result.criterion("I1").outcome


def lab(
    name: str, value: object, unit: str | None, date: str = "2025-05-30", **extra: object
) -> dict[str, object]:
    entry: dict[str, object] = {"name": name, "value": value, "date": date, **extra}
    if unit is not None:
        entry["unit"] = unit
    return entry


def test_exact_decimal_boundary_with_uln() -> None:
    # SPEC §4: 1.8 <= 1.5 x 1.2 is MET; binary floats say 1.7999999999999998.
    labs = [lab("bilirubin", 1.8, "mg/dL", high=1.2)]
    assert outcome("bilirubin <= 1.5 x ULN", labs=labs) is Outcome.MET
    assert outcome("bilirubin < 1.5 x ULN", labs=labs) is Outcome.NOT_MET


def test_unit_conversion_and_molar_mass() -> None:
    labs = [lab("ANC", 1500, "/uL"), lab("creatinine", 132.6, "umol/L")]
    assert outcome("ANC >= 1.5 x10^9/L", labs=labs) is Outcome.MET
    assert outcome("ANC > 1.5 x10^9/L", labs=labs) is Outcome.NOT_MET
    assert outcome("creatinine <= 1.5 mg/dL", labs=labs) is Outcome.MET
    assert outcome("creatinine <= 1.4 mg/dL", labs=labs) is Outcome.NOT_MET


def test_uln_from_dictionary_and_iu_as_u() -> None:
    labs = [lab("ALT", 100, "IU/L")]  # no reference range: the dictionary's normal 0..40
    assert outcome("ALT <= 2.5 x ULN", labs=labs) is Outcome.MET
    assert outcome("ALT <= 2 x ULN", labs=labs) is Outcome.NOT_MET


def test_no_uln_is_unknown_with_reason() -> None:
    result = trial("inclusion\n  I1: bilirubin <= 1.5 x ULN\n").evaluate(
        record(labs=[lab("bilirubin", 1, "mg/dL")])
    )
    criterion = result.criterion("I1")
    assert criterion.outcome is Outcome.UNKNOWN
    assert criterion.reasons == ("no ULN for bilirubin (labs[0], 2025-05-30)",)


def test_unconvertible_unit_is_unknown() -> None:
    result = trial("inclusion\n  I1: ANC >= 1.5 x10^9/L\n").evaluate(
        record(labs=[lab("ANC", 1.8, "g/dL")])
    )
    assert result.criterion("I1").outcome is Outcome.UNKNOWN
    assert "cannot be read as 10*9/L" in result.criterion("I1").reasons[0]


def test_latest_result_before_screening_is_used() -> None:
    labs = [
        lab("ANC", 0.9, "10*9/L", "2025-05-01"),
        lab("ANC", 2.0, "10*9/L", "2025-05-30"),
        lab("ANC", 0.1, "10*9/L", "2025-06-10"),
    ]
    assert outcome("ANC >= 1.5 x10^9/L", labs=labs) is Outcome.MET
    assert (
        outcome("min(ANC within 60 days before screening) >= 1.5 x10^9/L", labs=labs)
        is Outcome.NOT_MET
    )
    assert (
        outcome("max(ANC within 60 days before screening) >= 1.5 x10^9/L", labs=labs) is Outcome.MET
    )
    assert (
        outcome("all(ANC within 60 days before screening) >= 1.0 x10^9/L", labs=labs)
        is Outcome.NOT_MET
    )
    assert (
        outcome("any(ANC within 60 days before screening) >= 1.0 x10^9/L", labs=labs) is Outcome.MET
    )
    assert outcome("count(ANC within 60 days before screening) = 2", labs=labs) is Outcome.MET


def test_window_edges_are_inclusive_and_calendar_months() -> None:
    # within 1 month before 2025-06-02 is 2025-05-02..2025-06-02, both days included.
    assert (
        outcome(
            "ANC >= 1 x10^9/L within 1 month before screening",
            labs=[lab("ANC", 2, "10*9/L", "2025-05-02")],
        )
        is Outcome.MET
    )
    assert (
        outcome(
            "ANC >= 1 x10^9/L within 1 month before screening",
            labs=[lab("ANC", 2, "10*9/L", "2025-05-01")],
        )
        is Outcome.UNKNOWN
    )
    assert add_months(__import__("datetime").date(2025, 3, 31), -1) == __import__("datetime").date(
        2025, 2, 28
    )


def test_events_are_closed_world_within_a_section() -> None:
    # 3 weeks before treatment (2025-06-20) is 2025-05-30..2025-06-20
    chemo = [{"name": "chemotherapy", "start": "2025-05-20", "end": "2025-06-01"}]
    assert (
        outcome(
            "chemotherapy within 3 weeks before treatment",
            events=[{"name": "chemotherapy", "start": "2025-05-20", "end": "2025-05-29"}],
        )
        is Outcome.NOT_MET
    )
    assert outcome("chemotherapy within 3 weeks before treatment", events=chemo) is Outcome.MET
    assert outcome("chemotherapy within 3 weeks before treatment", events=[]) is Outcome.NOT_MET
    assert outcome("chemotherapy within 3 weeks before treatment") is Outcome.UNKNOWN
    coded = [{"code": "ATC:L01XA01", "start": "2025-06-10"}]
    assert outcome("chemotherapy within 3 weeks before treatment", events=coded) is Outcome.MET


def test_except_removes_sub_types() -> None:
    bcc = [{"code": "ICD10:C44.91", "onset": "2024-01-10"}]
    lung = [{"code": "ICD10:C34.1", "onset": "2024-01-10"}]
    text = "malignancy within 3 years before screening except basal_cell_carcinoma"
    assert outcome(text, conditions=bcc) is Outcome.NOT_MET
    assert outcome(text, conditions=lung) is Outcome.MET


def test_at_least_before() -> None:
    ended = [{"name": "chemotherapy", "start": "2025-04-01", "end": "2025-05-01"}]
    recent = [{"name": "chemotherapy", "start": "2025-06-01", "end": "2025-06-10"}]
    text = "chemotherapy at least 3 weeks before treatment"
    assert outcome(text, events=ended) is Outcome.MET
    assert outcome(text, events=recent) is Outcome.NOT_MET


def test_if_then_else_takes_the_branch() -> None:
    labs = [lab("ALT", 150, "U/L", high=40)]
    text = "if liver_metastases then ALT <= 5 x ULN else ALT <= 3 x ULN"
    assert (
        outcome(text, labs=labs, conditions=[{"name": "liver_metastases", "onset": "2025-01-01"}])
        is Outcome.MET
    )
    assert outcome(text, labs=labs, conditions=[]) is Outcome.NOT_MET
    # an unknown condition still decides when both branches agree
    assert outcome(text, labs=[lab("ALT", 50, "U/L", high=40)]) is Outcome.MET


def test_qualitative_lab_and_implies() -> None:
    text = (
        "childbearing_potential implies pregnancy_test = negative within 48 hours before treatment"
    )
    test = [lab("pregnancy_test", "negative", None, "2025-06-19")]
    assert outcome(text, facts={"childbearing_potential": True}, labs=test) is Outcome.MET
    assert outcome(text, facts={"childbearing_potential": False}) is Outcome.MET
    assert outcome(text, facts={"childbearing_potential": True}) is Outcome.UNKNOWN
    old = [lab("pregnancy_test", "negative", None, "2025-06-01")]
    assert outcome(text, facts={"childbearing_potential": True}, labs=old) is Outcome.UNKNOWN


def test_age_is_completed_years_at_screening() -> None:
    assert outcome("age >= 18 years", birth_date="2007-06-02") is Outcome.MET
    assert outcome("age >= 18 years", birth_date="2007-06-03") is Outcome.NOT_MET
    assert outcome("age in 18..65 years", birth_date="1960-06-02") is Outcome.MET


def test_arithmetic_and_functions() -> None:
    facts = {"weight": "80 kg", "height": "180 cm"}
    assert outcome("weight / (height / 100 cm)^2 < 25 kg", facts=facts) is Outcome.MET
    assert outcome("bmi(weight, height) < 25 kg/m2", facts=facts) is Outcome.MET
    assert outcome("bmi(weight, height) < 24 kg/m2", facts=facts) is Outcome.NOT_MET


def test_verdict_rules() -> None:
    text = (
        'inclusion\n  I1: ECOG <= 1\n  I2: review "consent"\n'
        "exclusion\n  E1: live_vaccine within 4 weeks before screening\n"
    )
    example = trial(text)
    eligible = example.evaluate(record(facts={"ECOG": 0}, events=[]))
    assert eligible.verdict is Verdict.ELIGIBLE
    assert eligible.headline() == "eligible — 1 item to confirm"
    assert [item.id for item in eligible.review] == ["I2"]
    excluded = example.evaluate(
        record(facts={"ECOG": 0}, events=[{"name": "live_vaccine", "start": "2025-05-20"}])
    )
    assert excluded.verdict is Verdict.INELIGIBLE
    unknown = example.evaluate(record(events=[]))
    assert unknown.verdict is Verdict.UNDETERMINED
    assert unknown.missing == ("ECOG is not in the record",)
    # a failed inclusion decides even when something else is unknown
    assert example.evaluate(record(facts={"ECOG": 3})).verdict is Verdict.INELIGIBLE


def test_explanation_quotes_protocol_text() -> None:
    example = trial(
        'inclusion\n  I10.1 "Hematologic": ANC > 1.0 x10^9/L and platelets > 50 x10^9/L\n'
    )
    result = example.evaluate(
        record(labs=[lab("ANC", 1.2, "10*9/L"), lab("platelets", 40, "10*9/L")])
    )
    assert result.criterion("I10.1").explain() == (
        'I10.1 NOT MET "Hematologic" — platelets 40 10*9/L (2025-05-30) is not > 50 x10^9/L'
    )
    payload = result.to_dict()
    assert payload["verdict"] == "ineligible"
    evidence = payload["criteria"][0]["evidence"]
    assert evidence[0] == {
        "text": "ANC 1.2 10*9/L (2025-05-30) is > 1.0 x10^9/L",
        "truth": "true",
        "variable": "ANC",
        "value": "1.2 10*9/L",
        "date": "2025-05-30",
        "source": "labs[0]",
    }


def test_as_of_supplies_screening() -> None:
    example = trial("inclusion\n  I1: age >= 18 years\n")
    result = example.evaluate({"birth_date": "2000-01-01"}, as_of="2025-01-01")
    assert result.criterion("I1").outcome is Outcome.MET
    assert example.evaluate({"birth_date": "2000-01-01"}).criterion("I1").outcome is Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("labs", "reason"),
    [
        ([lab("ANC", "abc", "10*9/L")], "ANC result 'abc' (labs[0]) is not a number"),
        ([lab("ANC", 1.8, "furlongs")], "no ANC result"),
        ([lab("ANC", 1.8, "10*9/L", "2025-02-30")], "no ANC result"),
        ([lab("ANC", 1.8, None)], "ANC result 1.8 (labs[0]) has no unit"),
        ([lab("ANC", 1500, "10*9/L")], "outside the plausible range 0..100 10*9/L"),
        ([lab("ANC", -2, "10*9/L")], "outside the plausible range 0..100 10*9/L"),
    ],
)
def test_malformed_record_entries_become_unknown(
    labs: list[dict[str, object]], reason: str
) -> None:
    result = trial("inclusion\n  I1: ANC >= 1.5 x10^9/L\n").evaluate(record(labs=labs))
    criterion = result.criterion("I1")
    assert criterion.outcome is Outcome.UNKNOWN
    assert reason in criterion.reasons[0]


def test_nan_and_bad_json_are_record_errors() -> None:
    from critlang import RecordError

    example = trial("inclusion\n  I1: ANC >= 1.5 x10^9/L\n")
    with pytest.raises(RecordError, match="not valid JSON"):
        example.evaluate('{"labs": [{"name": "ANC", "value": NaN, "unit": "10*9/L"}]}')
    with pytest.raises(RecordError, match="`labs` must be a list"):
        example.evaluate({"labs": {"name": "ANC"}})
    with pytest.raises(RecordError, match="must be a JSON object"):
        example.evaluate([1, 2])  # type: ignore[arg-type]
    floats = example.evaluate(record(labs=[lab("ANC", float("nan"), "10*9/L")]))
    assert floats.criterion("I1").outcome is Outcome.UNKNOWN
    assert "labs[0].value: nan is not a number" in floats.record_problems


def test_top_level_sex_is_the_sex_fact() -> None:
    # Found by the hand-derived example expectations: SPEC §6 puts sex beside birth_date.
    example = trial("inclusion\n  I1: sex = female implies pregnancy_test = negative\n")
    male = example.evaluate(record(sex="male"))
    assert male.criterion("I1").outcome is Outcome.MET
    female = example.evaluate(record(sex="Female", labs=[lab("pregnancy_test", "positive", None)]))
    assert female.criterion("I1").outcome is Outcome.NOT_MET


def test_a_null_section_is_not_an_empty_one() -> None:
    # null says "not known": it must not make events closed-world (found by the baselines).
    example = trial("exclusion\n  E1: live_vaccine within 4 weeks before screening\n")
    assert example.evaluate(record(events=None)).criterion("E1").outcome is Outcome.UNKNOWN
    assert example.evaluate(record(events=[])).criterion("E1").outcome is Outcome.NOT_MET


def test_is_known_on_events_asks_for_the_section() -> None:
    # Found by the grammatical fuzz after a refactor left a helper undefined on this path.
    assert outcome("chemotherapy is known", events=[]) is Outcome.MET
    assert outcome("chemotherapy is known") is Outcome.NOT_MET
    assert outcome("liver_metastases is missing") is Outcome.MET


def test_a_resolved_condition_without_abatement_date_is_unknown_before_the_window() -> None:
    text = "malignancy within 3 years before screening"
    old = [{"code": "ICD10:C34.1", "onset": "2015-01-01", "status": "resolved"}]
    recent = [{"code": "ICD10:C34.1", "onset": "2024-01-01", "status": "resolved"}]
    later = [
        {
            "code": "ICD10:C34.1",
            "onset": "2015-01-01",
            "status": "resolved",
            "abatement": "2016-01-01",
        }
    ]
    active = [{"code": "ICD10:C34.1", "onset": "2015-01-01", "status": "active"}]
    assert outcome(text, conditions=old) is Outcome.UNKNOWN  # may or may not reach the window
    assert outcome(text, conditions=recent) is Outcome.MET  # began inside the window
    assert outcome(text, conditions=later) is Outcome.NOT_MET  # ended before it
    assert outcome(text, conditions=active) is Outcome.MET  # ongoing


def test_clinical_formulas() -> None:
    # Cockcroft-Gault: (140 - 64) x 80 / (72 x 1.2) = 70.37 mL/min for a man.
    facts = {"weight": "80 kg", "height": "180 cm", "sex": "male"}
    labs = [lab("creatinine", 1.2, "mg/dL")]
    born = "1961-01-01"  # 64 at screening 2025-06-02
    assert (
        outcome(
            "cockcroft_gault(age, weight, sex, creatinine) >= 70 mL/min",
            facts=facts,
            labs=labs,
            birth_date=born,
        )
        is Outcome.MET
    )
    assert (
        outcome(
            "cockcroft_gault(age, weight, sex, creatinine) >= 71 mL/min",
            facts=facts,
            labs=labs,
            birth_date=born,
        )
        is Outcome.NOT_MET
    )
    # the same creatinine in umol/L (x 88.42) gives the same clearance
    umol = [lab("creatinine", 106.104, "umol/L")]
    assert (
        outcome(
            "cockcroft_gault(age, weight, sex, creatinine) >= 70 mL/min",
            facts=facts,
            labs=umol,
            birth_date=born,
        )
        is Outcome.MET
    )
    # CKD-EPI 2021, male, 64 years, Scr 1.2 mg/dL: 142 x (1.2/0.9)^-1.2 x 0.9938^64
    # = 142 x 0.7081 x 0.6716 = 67.5
    assert (
        outcome(
            "ckd_epi_2021(age, sex, creatinine) >= 67 mL/min/1.73m2",
            facts=facts,
            labs=labs,
            birth_date=born,
        )
        is Outcome.MET
    )
    assert (
        outcome(
            "ckd_epi_2021(age, sex, creatinine) >= 68 mL/min/1.73m2",
            facts=facts,
            labs=labs,
            birth_date=born,
        )
        is Outcome.NOT_MET
    )
    # Mosteller: sqrt(180 x 80 / 3600) = 2.0 m2
    assert outcome("bsa_mosteller(weight, height) = 2 m2", facts=facts) is Outcome.MET
    assert outcome("days_between(2025-01-01, 2025-03-01) = 59", facts=facts) is Outcome.MET
    assert outcome("age_at(treatment) >= 64 years", birth_date=born) is Outcome.MET
    assert outcome("max(1 kg, 900 g) = 1 kg") is Outcome.MET
    assert outcome("abs(-2) = 2") is Outcome.MET


def test_formula_appears_in_the_explanation() -> None:
    example = trial("inclusion\n  I1: bmi(weight, height) < 25 kg/m2\n")
    result = example.evaluate(record(facts={"weight": "80 kg", "height": "180 cm"}))
    explanation = result.criterion("I1").explain()
    assert "BMI = weight / height^2" in explanation


def test_a_bare_condition_that_begins_after_screening_is_not_active_at_screening() -> None:
    later = [{"code": "ICD10:C34.1", "onset": "2025-07-01", "status": "active"}]
    earlier = [{"code": "ICD10:C34.1", "onset": "2025-05-01", "status": "active"}]
    assert outcome("lung_cancer", conditions=later) is Outcome.NOT_MET
    assert outcome("lung_cancer", conditions=earlier) is Outcome.MET


def test_a_condition_is_one_by_its_section_not_by_its_source_text() -> None:
    # Records built in Python, by a reader or by hand: the section decides, whatever the maker set.
    import datetime

    import attrs

    from critlang.data.record import Occurrence, Record

    resolved = Occurrence(
        name="lung_cancer",
        code=None,
        start=datetime.date(2020, 1, 1),
        end=None,
        status="resolved",
        source="anything",
    )
    checked = trial("inclusion\n  I1: lung_cancer\nexclusion\n")

    def patient(**sections: tuple[Occurrence, ...] | None) -> Record:
        return Record(
            id="P",
            birth_date=None,
            sex=None,
            age=None,
            anchors={"screening": datetime.date(2025, 6, 2)},
            facts={},
            labs=(),
            events=sections.get("events"),
            conditions=sections.get("conditions"),
        )

    as_condition = patient(conditions=(resolved,))
    assert as_condition.conditions is not None
    assert as_condition.conditions[0].condition
    as_event = patient(events=(attrs.evolve(resolved, condition=True),))
    assert as_event.events is not None
    assert not as_event.events[0].condition
    for fast in (False, True):
        assert checked.evaluate(as_condition, evidence=fast).outcomes == (Outcome.NOT_MET,)


@pytest.mark.parametrize("unit", ["[IU]/L", "[iU]/L", "IU/L", "U/L"])
def test_an_accepted_unit_is_read_under_any_of_its_codes(unit: str) -> None:
    # OMOP writes international units as [iU]/L; ALT accepts "[IU]/L", the same unit.
    checked = trial("inclusion\n  I1: ALT <= 40 U/L\nexclusion\n")
    patient = record(labs=[{"name": "ALT", "value": 30, "unit": unit, "date": "2025-06-01"}])
    for evidence in (True, False):
        assert checked.evaluate(patient, evidence=evidence).outcomes == (Outcome.MET,)


def _criterion(criteria: str, labs: list[dict[str, object]]) -> tuple[Outcome, tuple[str, ...]]:
    found = trial("inclusion\n  I1: " + criteria + "\n").evaluate(record(labs=labs))
    criterion = found.criterion("I1")
    fast = trial("inclusion\n  I1: " + criteria + "\n").evaluate(record(labs=labs), evidence=False)
    assert (fast.criterion("I1").outcome, fast.criterion("I1").reasons) == (
        criterion.outcome,
        criterion.reasons,
    )
    return criterion.outcome, criterion.reasons


@pytest.mark.parametrize(
    ("odd", "reason"),
    [
        (lab("ANC", 0.1, "g/dL", "2025-05-20"), "ANC result in g/dL (labs[1]) cannot be read as"),
        (lab("ANC", 0.1, None, "2025-05-20"), "ANC result 0.1 (labs[1]) has no unit"),
        (lab("ANC", "high", "10*9/L", "2025-05-20"), "ANC result 'high' (labs[1]) is not a number"),
        (lab("ANC", 500, "10*9/L", "2025-05-20"), "ANC result 500 10*9/L (labs[1]) is outside"),
    ],
)
def test_min_and_max_are_unknown_when_a_result_cannot_be_read(
    odd: dict[str, object], reason: str
) -> None:
    # Regression: an unreadable result was ordered as 0, so min() picked it and max() ignored it.
    labs = [lab("ANC", 2.0, "10*9/L", "2025-05-10"), odd, lab("ANC", 3.0, "10*9/L", "2025-05-25")]
    for selector in ("min", "max"):
        outcome_, reasons = _criterion(
            f"{selector}(ANC within 60 days before screening) >= 1.5 x10^9/L", labs
        )
        assert outcome_ is Outcome.UNKNOWN, selector
        assert len(reasons) == 1
        assert reasons[0].startswith(reason), reasons
    assert _criterion("max(ANC within 60 days before screening) is known", labs)[0] is (
        Outcome.NOT_MET
    )
    # Outside the window it is not a candidate: the others decide.
    assert _criterion("max(ANC within 10 days before screening) >= 2.5 x10^9/L", labs) == (
        Outcome.MET,
        (),
    )


def test_min_and_max_of_readable_results_in_several_units() -> None:
    labs = [
        lab("ANC", 1800, "/uL", "2025-05-10"),
        lab("ANC", 1.7, "10*9/L", "2025-05-20"),
        lab("ANC", 2.1, "10*9/L", "2025-05-25"),
    ]
    assert _criterion("min(ANC) >= 1.7 x10^9/L", labs)[0] is Outcome.MET
    assert _criterion("min(ANC) > 1.7 x10^9/L", labs)[0] is Outcome.NOT_MET
    assert _criterion("max(ANC) >= 2.1 x10^9/L", labs)[0] is Outcome.MET
    assert _criterion("max(ANC) > 2.1 x10^9/L", labs)[0] is Outcome.NOT_MET


def test_a_lab_with_a_molar_mass_reads_only_mass_and_substance_concentrations() -> None:
    # Regression: with a molar mass, a result in a unit of any dimension was read (metres).
    for unit in ("m", "mg", "mmol", "g/mL/h"):
        labs = [lab("creatinine", 1.0, unit)]
        outcome_, reasons = _criterion("creatinine <= 1.5 mg/dL", labs)
        assert outcome_ is Outcome.UNKNOWN
        assert reasons == (f"creatinine result in {unit} (labs[0]) cannot be read as mg/dL",)
        assert _criterion("creatinine is known", labs)[0] is Outcome.NOT_MET
    # 0.1 mmol/L x 113.12 g/mol = 11.312 mg/L = 1.1312 mg/dL, exactly.
    for unit, value in (("mg/dL", "1.1312"), ("umol/L", "100"), ("mmol/L", "0.1")):
        labs = [lab("creatinine", value, unit)]
        assert _criterion("creatinine <= 1.1312 mg/dL", labs) == (Outcome.MET, ())
        assert _criterion("creatinine < 1.1312 mg/dL", labs) == (Outcome.NOT_MET, ())


def test_min_and_max_of_a_lab_without_a_unit_order_by_its_number() -> None:
    # Regression: results of a lab without a unit (INR) were all ordered as 0.
    import critlang

    labs = [lab("INR", 1.4, None, "2025-05-10"), lab("INR", 1.1, None, "2025-05-20")]
    for criteria, expected in (
        ("min(INR) <= 1.2", Outcome.MET),
        ("max(INR) <= 1.2", Outcome.NOT_MET),
        ("max(INR) >= 1.4", Outcome.MET),
    ):
        found = critlang.parse("inclusion\n  I1: " + criteria + "\n").evaluate(record(labs=labs))
        assert found.criterion("I1").outcome is expected, criteria
