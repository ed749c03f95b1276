"""The interval analysis behind the logic rules: interval sets, atoms, normal forms and the
questions asked of them, redundancy, and conditional thresholds."""

from __future__ import annotations

from fractions import Fraction

import pytest

from critlang.lint import intervals as iv
from critlang.lint import thresholds as th
from critlang.semantics import ir
from tests.dictionary import trial


def conditions(*texts: str) -> list[ir.Condition]:
    """The checked conditions of criteria with the given texts (test dictionary)."""
    body = "".join(f"  C{index}: {text}\n" for index, text in enumerate(texts))
    checked = trial("inclusion\n" + body).criteria
    found = []
    for criterion in checked:
        assert criterion.condition is not None
        found.append(criterion.condition)
    return found


def condition(text: str) -> ir.Condition:
    return conditions(text)[0]


def closed(low: int | None, high: int | None) -> iv.Interval:
    return iv.Interval(
        None if low is None else Fraction(low),
        None if high is None else Fraction(high),
        low is not None,
        high is not None,
    )


# ---- interval sets ------------------------------------------------------------------------------


def test_interval_sets_merge_touching_intervals() -> None:
    joined = iv.IntervalSet.of([iv.Interval(Fraction(0), Fraction(1), True, False), closed(1, 2)])
    assert joined == iv.IntervalSet.of([closed(0, 2)])
    apart = iv.IntervalSet.of(
        [iv.Interval(Fraction(0), Fraction(1), True, False), iv.Interval(Fraction(1), None, False)]
    )
    assert len(apart.intervals) == 2  # 1 itself is in neither
    assert not apart.contains(Fraction(1))


def test_integer_sets_hold_whole_numbers_only() -> None:
    between = iv.IntervalSet.of([iv.Interval(Fraction(1), Fraction(2), False, False)], integer=True)
    assert between.is_empty
    assert iv.IntervalSet.of([closed(0, 1), closed(2, 3)], integer=True) == iv.IntervalSet.of(
        [closed(0, 3)], integer=True
    )
    assert iv.IntervalSet.of([closed(0, 1)], integer=True).complement() == iv.IntervalSet.of(
        [closed(None, -1), closed(2, None)], integer=True
    )


def test_complement_intersection_and_subset() -> None:
    low = iv.IntervalSet.of([iv.Interval(None, Fraction(18), False, False)])
    assert low.complement() == iv.IntervalSet.of([closed(18, None)])
    assert (low & low.complement()).is_empty
    assert (low | low.complement()) == iv.IntervalSet.everything()
    assert iv.IntervalSet.of([closed(19, 20)]) <= low.complement()
    assert not low <= low.complement()


# ---- satisfiable, valid, implies ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "age >= 18 years and age < 16 years",
        "ALT <= 3 x ULN and ALT > 5 x ULN",
        "ECOG > 1 and ECOG < 2",  # integers
        "sex = female and sex in {male, other}",
        "childbearing_potential and not childbearing_potential",
        "creatinine <= 1.5 mg/dL and creatinine > 200 umol/L",  # 1.5 mg/dL is 132.6 umol/L
        "ANC >= 1.5 x10^9/L and ANC < 1500 /uL",
        "ANC > 150 x10^9/L",  # beyond the plausible range 0..100
        "ECOG in 3..2",
        "if sex = female then age < 10 years and age > 20 years else false",
        "not (age >= 18 years or age < 18 years)",
        "(age >= 18 years implies ECOG <= 1) and age >= 21 years and ECOG >= 2",
        "live_vaccine within 4 weeks before screening and not live_vaccine within 4 weeks before screening",
    ],
)
def test_unsatisfiable(text: str) -> None:
    assert iv.satisfiable(condition(text)) is False


@pytest.mark.parametrize(
    "text",
    [
        "age >= 18 years and age <= 18 years",
        "ALT <= 3 x ULN and ALT >= 3 x ULN",
        "pregnancy_test != negative and pregnancy_test in {negative}",  # `Negative`
        "age > 17 years and age < 18 years",  # a record's `age` need not be whole
        "age_at(treatment) > 17 years and age_at(treatment) <= 18 years",
        "ALT <= 3 x ULN and ALT > 100 U/L",  # a ULN is never compared with U/L
        "ANC > platelets and platelets > ANC",  # two values: opaque atoms, independent
    ],
)
def test_satisfiable(text: str) -> None:
    assert iv.satisfiable(condition(text)) is True


def test_whole_ages_at_an_anchor_other_than_screening() -> None:
    assert (
        iv.satisfiable(condition("age_at(treatment) > 17 years and age_at(treatment) < 18 years"))
        is False
    )


@pytest.mark.parametrize(
    "text",
    [
        "age >= 18 years or age < 18 years",
        "ANC >= 1.5 x10^9/L or ANC < 1500 /uL",
        "ANC >= 0 x10^9/L",  # the plausible range starts at 0
        "ECOG <= 1 or ECOG >= 2",
        "sex in {female, male} or sex in {other, unknown}",
        "childbearing_potential implies childbearing_potential",
        "ANC is known or ANC is missing",
        "if age >= 18 years then age > 10 years else age < 20 years",
    ],
)
def test_valid(text: str) -> None:
    assert iv.valid(condition(text)) is True


@pytest.mark.parametrize(
    "text",
    [
        "ECOG in 0..5",  # the declared range of a fact is not enforced by the evaluator
        "pregnancy_test = negative or pregnancy_test = positive",  # any text is a result
        "ALT >= 0 x ULN",  # ALT has no plausible range in the test dictionary
        "age >= 0 years",
    ],
)
def test_not_valid(text: str) -> None:
    assert iv.valid(condition(text)) is False


def test_implies() -> None:
    adult, older, female, not_male = conditions(
        "age >= 18 years", "age >= 21 years", "sex = female", "sex != male"
    )
    assert iv.implies(older, adult) is True
    assert iv.implies(adult, older) is False
    assert iv.implies(female, not_male) is True
    assert iv.implies([adult, female], not_male) is True
    assert iv.equivalent(*conditions("ANC >= 1.5 x10^9/L", "ANC >= 1500 /uL")) is True


def test_units_convert_exactly() -> None:
    assert iv.equivalent(*conditions("hemoglobin >= 10 g/dL", "hemoglobin >= 100 g/L")) is True
    assert iv.equivalent(*conditions("age >= 18 years", "age >= 216 months")) is True
    assert iv.implies(*conditions("creatinine <= 1.5 mg/dL", "creatinine <= 133 umol/L")) is True
    assert iv.implies(*conditions("creatinine <= 1.5 mg/dL", "creatinine <= 132 umol/L")) is False


def test_the_size_cap_means_dont_know() -> None:
    # 2^12 terms once multiplied out: each window is a proposition of its own.
    many = " and ".join(
        f"(live_vaccine within {n} weeks before screening"
        f" or chemotherapy within {n} weeks before screening)"
        for n in range(1, 13)
    )
    assert iv.satisfiable(condition(many), max_terms=64) is None
    assert iv.valid(condition(f"not ({many})"), max_terms=64) is None
    # A contradiction found before the cap is reached is still reported.
    clash = condition(many + " and age < 10 years and age > 20 years")
    assert iv.satisfiable(clash, max_terms=64) is False


def test_independent_parts_are_decided_apart() -> None:
    # Sixteen two-way choices on different values: 65536 terms if multiplied out.
    parts = conditions(*(f"sex = female or ECOG <= {n}" for n in range(1)), "age < 10 years")
    many = [condition(f"(ANC > {n} x10^9/L or platelets > {n} x10^9/L)") for n in range(16)]
    assert iv.satisfiable([*parts, *many], max_terms=64) is True
    clash = conditions("age >= 18 years")
    assert iv.satisfiable([*parts, *many, *clash], max_terms=64) is False


def test_cores() -> None:
    analysis = iv.Analysis()
    items = conditions("ECOG <= 1", "age >= 18 years", "sex = female", "age < 16 years")
    assert analysis.unsatisfiable_core(items) == [1, 3]
    assert analysis.unsatisfiable_core(items[:3]) is None
    premises = conditions("ECOG <= 1", "age >= 18 years", "sex = female")
    assert analysis.implying_core(premises, condition("age > 16 years or ECOG > 3")) == [1]


def test_describe() -> None:
    analysis = iv.Analysis()
    found = analysis.region(condition("age >= 18 years and age < 65 years"))
    assert found is not None
    assert iv.describe(found.key, found.constraint) == "18 years <= age < 65 years"
    found = analysis.region(condition("ANC < 1.5 x10^9/L"))
    assert found is not None
    assert iv.describe(found.key, found.constraint) == "ANC < 1.5 10*9/L"
    found = analysis.region(condition("ALT in 1 x ULN..3 x ULN"))
    assert found is not None
    assert iv.describe(found.key, found.constraint) == "ALT in 1..3 x ULN"
    found = analysis.region(condition("sex not in {female}"))
    assert found is not None
    assert iv.describe(found.key, found.constraint) == "sex in {male, other, unknown}"


# ---- redundancy ---------------------------------------------------------------------------------


def redundant(text: str) -> list[tuple[str, str | None]]:
    from critlang.syntax.printer import expression_text

    return [
        (expression_text(found.item.origin), found.bound)
        for found in iv.redundant_atoms(condition(text))
    ]


def test_redundant_bounds() -> None:
    assert redundant("age >= 18 years and age >= 21 years") == [("age >= 18 years", None)]
    assert redundant("age >= 21 years or age >= 18 years") == [("age >= 21 years", None)]
    assert redundant("ANC >= 1500 /uL and ANC >= 1.0 x10^9/L") == [("ANC >= 1.0 x10^9/L", None)]
    assert redundant("ANC in 1..2 x10^9/L and ANC >= 1.5 x10^9/L") == [
        ("ANC in 1..2 x10^9/L", "lower")
    ]
    assert redundant("ECOG <= 2 and ECOG < 3") == [("ECOG <= 2", None)]  # the same, for integers
    assert redundant("age >= 18 years and age >= 18 years") == [("age >= 18 years", None)]


def test_bounds_that_each_count_are_not_redundant() -> None:
    assert redundant("age >= 18 years and age <= 75 years") == []
    assert redundant("age >= 18 years and ECOG <= 1 and ANC >= 1.5 x10^9/L") == []
    assert redundant("age >= 18 years and age < 16 years") == []  # a contradiction, not redundancy
    assert redundant("age < 18 years or age > 65 years") == []


# ---- conditional thresholds ---------------------------------------------------------------------


def threshold(text: str) -> th.ConditionalThreshold:
    found = th.conditional_thresholds(condition(text))
    assert len(found) == 1, found
    return found[0]


def gap_texts(text: str) -> list[str]:
    found = threshold(text)
    return [iv.describe(found.key, gap.constraint) for gap in th.gaps(found)]


def overlap_texts(text: str) -> list[tuple[str, str]]:
    found = threshold(text)
    return [
        (overlap.kind, iv.describe(found.key, overlap.constraint)) for overlap in th.overlaps(found)
    ]


def test_gaps() -> None:
    assert gap_texts(
        "if sex = female then hemoglobin >= 10 g/dL else if sex = male then hemoglobin >= 12 g/dL else false"
    ) == ["sex in {other, unknown}"]
    assert gap_texts(
        "(age < 65 years implies creatinine <= 1.5 mg/dL) and (age > 65 years implies creatinine <= 2 mg/dL)"
    ) == ["age = 65 years"]
    assert gap_texts(
        "(age < 65 years and creatinine <= 1.5 mg/dL) or (age > 65 years and creatinine <= 2 mg/dL)"
    ) == ["age = 65 years"]


def test_no_gaps() -> None:
    # The final else covers the rest.
    assert (
        gap_texts(
            "if sex = female then hemoglobin >= 10 g/dL else if sex = male then hemoglobin >= 12 g/dL else hemoglobin >= 11 g/dL"
        )
        == []
    )
    # A wide stretch between the guards means "no extra requirement".
    assert (
        gap_texts(
            "(age < 18 years implies creatinine <= 1 mg/dL) and (age > 75 years implies creatinine <= 2 mg/dL)"
        )
        == []
    )
    assert (
        gap_texts(
            "(age < 65 years implies creatinine <= 1.5 mg/dL) and (age >= 65 years implies creatinine <= 2 mg/dL)"
        )
        == []
    )


def test_overlaps() -> None:
    assert overlap_texts(
        "(age <= 65 years and creatinine <= 1.5 mg/dL) or (age >= 65 years and creatinine <= 2 mg/dL)"
    ) == [("partial", "age = 65 years")]
    assert overlap_texts(
        "(age >= 18 years implies creatinine <= 1.5 mg/dL) and (age >= 65 years implies creatinine <= 2 mg/dL)"
    ) == [("dead", "age >= 65 years")]
    assert overlap_texts(
        "if age < 70 years then ANC >= 1 x10^9/L else if age >= 65 years then ANC >= 2 x10^9/L else false"
    ) == [("partial", "65 years <= age < 70 years")]


def test_no_overlaps() -> None:
    # A stricter threshold for a subgroup, with `and`: both count.
    assert (
        overlap_texts(
            "(age >= 18 years implies creatinine <= 2 mg/dL) and (age >= 65 years implies creatinine <= 1.5 mg/dL)"
        )
        == []
    )
    # A more lenient one for a subgroup, with `or`: the usual exception.
    found = th.conditional_thresholds(
        condition(
            "(age >= 18 years and creatinine <= 1.5 mg/dL) or (age >= 65 years and creatinine <= 2 mg/dL)"
        )
    )
    assert found == []  # both values are one-sided: which is the guard is not written
    # A widening chain.
    assert (
        overlap_texts(
            "if age >= 65 years then ANC >= 1 x10^9/L else if age >= 18 years then ANC >= 2 x10^9/L else false"
        )
        == []
    )


def test_or_form_finds_the_guard_whatever_the_order() -> None:
    found = threshold(
        "(hemoglobin >= 10 g/dL and sex = female) or (hemoglobin >= 12 g/dL and sex = male)"
    )
    assert found.key.label == "sex"
    assert found.threshold.label == "hemoglobin"


def test_not_conditional_thresholds() -> None:
    assert (
        th.conditional_thresholds(
            condition("if liver_metastases then ALT <= 5 x ULN else ALT <= 3 x ULN")
        )
        == []
    )
    assert (
        th.conditional_thresholds(
            condition("(sex = female implies ECOG <= 1) and (sex = male implies age >= 18 years)")
        )
        == []
    )


def unreachable(text: str) -> list[tuple[str | None, int]]:
    from critlang.syntax.printer import expression_text

    return [
        (
            None if found.condition is None else expression_text(found.condition.origin),
            len(found.covering),
        )
        for found in th.unreachable_branches(condition(text))
    ]


def test_unreachable_branches() -> None:
    assert unreachable(
        "if age >= 18 years then ANC >= 1 x10^9/L else if age >= 65 years then ANC >= 2 x10^9/L else false"
    ) == [("age >= 65 years", 1)]
    assert unreachable(
        "if age < 70 years then ANC >= 1 x10^9/L else if age >= 65 years then ANC >= 2 x10^9/L else ANC >= 3 x10^9/L"
    ) == [(None, 2)]
    assert unreachable("if ECOG > 1 and ECOG < 2 then ANC >= 1 x10^9/L else ANC >= 2 x10^9/L") == [
        ("ECOG > 1 and ECOG < 2", 0)
    ]
    # A constant final else is how a chain is closed: never reported.
    assert (
        unreachable(
            "if age >= 18 years then ECOG <= 1 else if age < 18 years then ECOG <= 2 else false"
        )
        == []
    )
    assert unreachable("if liver_metastases then ALT <= 5 x ULN else ALT <= 3 x ULN") == []
