"""The questions about many criteria at once behind CL304 and CL305 (critlang.lint.sections):
they give the answers of asking :class:`Analysis` about every pair and every set, and they
still find a contradiction between criteria far apart in a large file."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from critlang.lint import intervals as iv
from critlang.lint import sections
from critlang.lint.config import Selection
from critlang.lint.engine import lint_text
from critlang.semantics import ir
from tests.dictionary import trial
from tests.lint.test_intervals_soundness import FAMILIES, _combine

LOGIC = Selection(select=("CL3",))

# Criteria that read values of their own, or share them without clashing: what a large file
# holds between the two criteria that contradict each other.
FILLER = [
    "ANC >= 1.{n} x10^9/L and platelets >= 7{n} x10^9/L",
    "creatinine <= 1.{n} x ULN or creatinine_clearance >= 4{n} mL/min",
    "if liver_metastases then ALT <= 5 x ULN else ALT <= {u} x ULN",
    "hemoglobin >= 9 g/dL within {d} days before treatment",
    "(chemotherapy or targeted_therapy) within {d} weeks before screening",
    "count(seizure within {y} years before screening) >= 2",
    "sex = female and childbearing_potential implies pregnancy_test = negative",
    "age <= 8{n} years",
]


def _filler(count: int, prefix: str = "F") -> list[str]:
    lines = []
    for index in range(count):
        body = FILLER[index % len(FILLER)].format(
            n=index % 7, u=2 + index % 3, d=7 + index % 5, y=1 + index % 4
        )
        lines.append(f'  {prefix}{index} "Filler {index}": {body}\n')
    return lines


def _lint(text: str) -> list[tuple[str, str]]:
    result = lint_text(text, "large.crit", selection=LOGIC)
    return [(d.code, d.message) for d in result.diagnostics]


def test_contradicting_inclusions_are_found_far_apart_in_a_large_file() -> None:
    text = (
        'trial LARGE "many criteria"\ninclusion\n'
        '  I_first "Adults": age >= 18 years\n'
        + "".join(_filler(1500))
        + '  I_last "Adolescents": age < 16 years\n'
        # Three far apart that cannot all hold, each pair of which can.
        + '  I_ecog "ECOG 0-1 with liver metastases": liver_metastases implies ECOG <= 1\n'
        + "".join(_filler(600, "G"))
        + '  I_ecog2 "ECOG 2": ECOG = 2\n'
        + "".join(_filler(600, "H"))
        + '  I_liver "Liver metastases": liver_metastases\n'
    )
    started = time.perf_counter()
    found = _lint(text)
    assert time.perf_counter() - started < 30  # seconds (the old pairwise search: minutes)
    assert [code for code, _ in found] == ["CL304", "CL304"], found
    pair, group = (message for _, message in found)
    assert "inclusion `I_last` cannot be met together with inclusion `I_first`" in pair
    assert "`age >= 18 years` and `age < 16 years` cannot both hold" in pair
    assert "inclusions `I_ecog`, `I_ecog2` and `I_liver` cannot all be met together" in group


def test_an_exclusion_is_found_to_exclude_everyone_far_from_its_inclusion() -> None:
    text = (
        'trial LARGE "many criteria"\ninclusion\n'
        '  I_ecog "ECOG 0-1": ECOG in 0..1\n'
        + "".join(_filler(2000))
        + "exclusion\n"
        + '  E_pregnant "Pregnant": pregnant\n'
        + '  E_ecog "ECOG >=2": ECOG <= 2\n'
    )
    found = _lint(text)
    assert [code for code, _ in found] == ["CL305"], found
    assert "exclusion `E_ecog` excludes every patient who meets inclusion `I_ecog`" in found[0][1]


def test_identical_inclusions_are_asked_about_once_and_named_by_the_first() -> None:
    text = (
        "inclusion\n"
        + "".join(f'  I{n} "Adults": age >= 18 years\n' for n in range(300))
        + '  J "Children": age < 12 years\n'
        + "exclusion\n"
        + '  E "Over 16": age > 16 years\n'
    )
    found = _lint(text)
    assert [code for code, _ in found] == ["CL304", "CL305"], found
    assert "inclusion `J` cannot be met together with inclusion `I0`" in found[0][1]
    assert "exclusion `E` excludes every patient who meets inclusion `I0`" in found[1][1]


def test_an_exclusion_restating_an_inclusion_is_found_beside_contradicting_inclusions() -> None:
    # I1 and I2 contradict each other (CL304); E1 still restates I2, and a never-met inclusion
    # (CL301) does not hide that either.
    text = (
        "inclusion\n"
        '  I1 "ALT 1-2.5 x ULN": ALT in 1 x ULN..2.5 x ULN\n'
        '  I2 "ALT below ULN": ALT < 1 x ULN\n'
        '  I3 "Never": false\n'
        "exclusion\n"
        '  E1 "ALT below ULN": ALT < 1 x ULN\n'
    )
    found = _lint(text)
    assert sorted(code for code, _ in found) == ["CL301", "CL304", "CL305"], found
    (message,) = (message for code, message in found if code == "CL305")
    assert "exclusion `E1` excludes every patient who meets inclusion `I2`" in message


def test_a_group_beyond_the_budget_is_not_known() -> None:
    (a, b, c) = _conditions(["liver_metastases implies ECOG <= 1", "ECOG = 2", "liver_metastases"])
    analysis = iv.Analysis()
    forms = [analysis.form(condition) for condition in (a, b, c)]
    assert sections.contradicting_groups(forms, analysis.max_terms) == [[0, 1, 2]]
    assert sections.contradicting_groups(forms, analysis.max_terms, work=1) == []


# ---- the same answers as asking the analysis of every pair and every set ------------------------


def _conditions(texts: list[str]) -> list[ir.Condition]:
    body = "".join(f"  C{index}: {text}\n" for index, text in enumerate(texts))
    found = []
    for criterion in trial("inclusion\n" + body).criteria:
        assert criterion.condition is not None
        found.append(criterion.condition)
    return found


@st.composite
def criteria_lists(draw: st.DrawFn) -> list[str]:
    """Two to six conditions over one or two families of values (so they often share one)."""
    names = draw(st.lists(st.sampled_from(sorted(FAMILIES)), min_size=1, max_size=2, unique=True))
    atoms = st.one_of(*(FAMILIES[name][0] for name in names))
    expressions = st.recursive(atoms, _combine, max_leaves=3)
    return draw(st.lists(expressions, min_size=2, max_size=6))


@settings(max_examples=100, deadline=None)
@given(criteria_lists())
def test_pairs_are_those_the_analysis_finds_pair_by_pair(texts: list[str]) -> None:
    conditions = _conditions(texts)
    analysis = iv.Analysis()
    kept = [c for c in conditions if analysis.satisfiable(c) is not False]
    found = sections.contradicting_pairs([analysis.form(c) for c in kept])
    for index, condition in enumerate(kept):
        expected = next(
            (
                earlier
                for earlier in range(index)
                if analysis.satisfiable([kept[earlier], condition]) is False
            ),
            None,
        )
        assert found.get(index) == expected, (texts, index)


@settings(max_examples=100, deadline=None)
@given(criteria_lists())
def test_groups_are_minimal_and_found_when_no_pair_clashes(texts: list[str]) -> None:
    conditions = _conditions(texts)
    analysis = iv.Analysis()
    kept = [c for c in conditions if analysis.satisfiable(c) is not False]
    forms = [analysis.form(c) for c in kept]
    groups = sections.contradicting_groups(forms, analysis.max_terms)
    for group in groups:
        assert len(group) >= 3
        assert analysis.satisfiable([kept[i] for i in group]) is False
        for left_out in group:
            rest = [kept[i] for i in group if i != left_out]
            assert analysis.satisfiable(rest) is not False, (texts, group, left_out)
    no_pair = not sections.contradicting_pairs(forms)
    if no_pair and analysis.satisfiable(kept) is False:
        assert groups, texts


@settings(max_examples=100, deadline=None)
@given(criteria_lists())
def test_implying_cores_are_minimal_and_found_when_the_premises_imply(texts: list[str]) -> None:
    *premises, conclusion = _conditions(texts)
    analysis = iv.Analysis()
    core = sections.Premises(analysis, premises).implying_core(conclusion)
    if core is not None:
        assert core
        assert analysis.implies([premises[i] for i in core], conclusion) is True
        for left_out in core:
            rest = [premises[i] for i in core if i != left_out]
            assert analysis.implies(rest, conclusion) is not True, (texts, core, left_out)
    implied = (
        analysis.implies(premises, conclusion) is True
        and analysis.satisfiable(premises) is True
        and analysis.valid(conclusion) is False
    )
    if implied:
        assert core is not None, texts


AGE_BOUNDS = st.builds(
    lambda kind, low, high: {
        "at least": f"age >= {low} years",
        "over": f"age > {low} years",
        "under": f"age < {high} years",
        "at most": f"age <= {high} years",
        "range": f"age in {min(low, high)}..{max(low, high)} years",
        "outside": f"age not in {min(low, high)}..{max(low, high)} years",
        "not": f"age != {low} years",
        "with ECOG": f"age >= {low} years and ECOG <= {high % 4}",
        "or ECOG": f"age < {high} years or ECOG >= {low % 4}",
    }[kind],
    st.sampled_from(
        ["at least", "over", "under", "at most", "range", "outside", "not", "with ECOG", "or ECOG"]
    ),
    st.integers(10, 30),
    st.integers(10, 30),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(AGE_BOUNDS, min_size=2, max_size=30))
def test_many_bounds_on_one_value_pair_as_the_analysis_says(texts: list[str]) -> None:
    # Many distinct thresholds on one value: the sorted index of interval ends, not a scan.
    conditions = _conditions(texts)
    analysis = iv.Analysis()
    found = sections.contradicting_pairs([analysis.form(c) for c in conditions])
    for index, condition in enumerate(conditions):
        expected = next(
            (
                earlier
                for earlier in range(index)
                if analysis.satisfiable([conditions[earlier], condition]) is False
            ),
            None,
        )
        assert found.get(index) == expected, (texts, index)
