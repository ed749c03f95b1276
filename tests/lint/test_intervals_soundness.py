"""The interval analysis is sound with respect to the evaluator (hypothesis).

Conditions are generated over one or two *families* of values, each a kind the analysis reasons
about: an integer fact (ECOG), a lab with a plausible range and two units (ANC in x10^9/L and
/uL), x ULN limits (ALT, with the record's ULN or the dictionary's), age in years and months (at
screening, where a record's ``age`` need not be whole, and at treatment, from the birth date), a
symbol fact (sex), a qualitative lab whose results are free text (pregnancy_test), and opaque
propositions (a boolean fact, an event in a window, a comparison of two labs, ``is known``).
Atoms are joined with and/or/not/implies/if. Each example is evaluated on every record of a grid
of complete records (every value present and readable) whose values for the drawn families sit
on and around the thresholds. Then:

- ``satisfiable(a) is False``: no record makes ``a`` MET;
- ``valid(a) is True``: every complete record makes ``a`` MET;
- ``implies(a, b) is True``: no record makes ``a`` MET and ``b`` NOT MET.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from critlang import Outcome
from critlang.lint import intervals as iv
from tests.dictionary import record, trial

OPERATORS = ["<", "<=", ">", ">=", "=", "!="]
SEXES = ["female", "male", "other", "unknown"]
Patch = dict[str, Any]


def _number(value: float) -> str:
    return f"{value:g}"


def _ranges(subject: str, bounds: list[str], unit: str = "") -> st.SearchStrategy[str]:
    return st.builds(
        lambda negated, low, high: f"{subject} {'not in' if negated else 'in'} {low}..{high}{unit}",
        st.booleans(),
        st.sampled_from(bounds),
        st.sampled_from(bounds),
    )


def _compare(subject: str, values: list[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda op, value: f"{subject} {op} {value}",
        st.sampled_from(OPERATORS),
        st.sampled_from(values),
    )


# ---- families: atoms, and the values a record takes for them ------------------------------------

ECOG_ATOMS = _compare("ECOG", ["0", "1", "2", "1.5"]) | _ranges("ECOG", ["0", "1", "2"])
ECOG_VALUES: list[Patch] = [{"facts.ECOG": n} for n in (-1, 0, 1, 2, 3)]

ANC_ATOMS = _compare(
    "ANC", ["1 x10^9/L", "1.5 x10^9/L", "1500 /uL", "0 x10^9/L", "100 x10^9/L"]
) | _ranges("ANC", ["1", "1.5", "2"], " x10^9/L")
ANC_VALUES: list[Patch] = [
    {"labs.ANC": (_number(value * factor), unit)}
    for value in (0, 0.9, 1, 1.2, 1.5, 1.7, 2, 100)
    for factor, unit in ((1, "10*9/L"), (1000, "/uL"))
]

ALT_ATOMS = _compare("ALT", ["1 x ULN", "2.5 x ULN", "3 x ULN"]) | st.builds(
    lambda low, high: f"ALT in {low} x ULN..{high} x ULN",
    st.sampled_from(["1", "2.5"]),
    st.sampled_from(["2.5", "3"]),
)
ALT_VALUES: list[Patch] = [
    {"labs.ALT": (value, high)}
    for value, high in itertools.product(("40", "100", "120", "125", "150"), (None, "40", "50"))
]

AGE_ATOMS = _compare("age", ["17 years", "18 years", "216 months", "210 months"]) | _compare(
    "age_at(treatment)", ["17 years", "18 years"]
)
AGE_VALUES: list[Patch] = [
    *({"birth_date": day} for day in ("2008-06-03", "2007-06-02", "2007-06-21", "2006-01-01")),
    *({"age": age} for age in ("17", "17.5", "18", "18.5")),
]

SEX_ATOMS = st.builds(
    lambda op, symbol: f"sex {op} {symbol}", st.sampled_from(["=", "!="]), st.sampled_from(SEXES)
) | st.builds(
    lambda negated, members: f"sex {'not in' if negated else 'in'} {{{', '.join(members)}}}",
    st.booleans(),
    st.lists(st.sampled_from(SEXES), min_size=1, max_size=3, unique=True),
)
SEX_VALUES: list[Patch] = [{"sex": symbol} for symbol in SEXES]

PREGNANCY_ATOMS = st.builds(
    lambda op, symbol: f"pregnancy_test {op} {symbol}",
    st.sampled_from(["=", "!="]),
    st.sampled_from(["negative", "positive"]),
) | st.builds(
    lambda negated, symbol: f"pregnancy_test {'not in' if negated else 'in'} {{{symbol}}}",
    st.booleans(),
    st.sampled_from(["negative", "positive"]),
)
PREGNANCY_VALUES: list[Patch] = [
    {"labs.pregnancy_test": text} for text in ("negative", "positive", "Negative", "equivocal")
]

OTHER_ATOMS = st.sampled_from(
    [
        "childbearing_potential",
        "childbearing_potential = false",
        "live_vaccine within 4 weeks before screening",
        "ANC > platelets",
        "ANC is known",
        "true",
        "false",
    ]
)
OTHER_VALUES: list[Patch] = [
    {"facts.childbearing_potential": potential, "events": events, "labs.platelets": platelets}
    for potential, events, platelets in itertools.product(
        (True, False),
        ([], [{"name": "live_vaccine", "start": "2025-05-20"}]),
        ("0.5", "150"),
    )
]

FAMILIES: dict[str, tuple[st.SearchStrategy[str], list[Patch]]] = {
    "ECOG": (ECOG_ATOMS, ECOG_VALUES),
    "ANC": (ANC_ATOMS, ANC_VALUES),
    "ALT": (ALT_ATOMS, ALT_VALUES),
    "age": (AGE_ATOMS, AGE_VALUES),
    "sex": (SEX_ATOMS, SEX_VALUES),
    "pregnancy": (PREGNANCY_ATOMS, PREGNANCY_VALUES),
    "other": (OTHER_ATOMS, OTHER_VALUES),
}


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return (
        st.builds(lambda a, b: f"({a} and {b})", children, children)
        | st.builds(lambda a, b: f"({a} or {b})", children, children)
        | st.builds(lambda a: f"not ({a})", children)
        | st.builds(lambda a, b: f"({a} implies {b})", children, children)
        | st.builds(lambda c, a, b: f"(if {c} then {a} else {b})", children, children, children)
    )


@st.composite
def examples(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    """Two conditions over one or two families, and the families."""
    names = draw(st.lists(st.sampled_from(sorted(FAMILIES)), min_size=1, max_size=2, unique=True))
    atoms = st.one_of(*(FAMILIES[name][0] for name in names))
    expressions = st.recursive(atoms, _combine, max_leaves=5)
    return draw(expressions), draw(expressions), names


# ---- records ------------------------------------------------------------------------------------

BASE_LABS = {
    "ANC": ("1.5", "10*9/L"),
    "platelets": "150",
    "ALT": ("40", None),
    "pregnancy_test": "negative",
}


def _record(patches: list[Patch]) -> dict[str, Any]:
    """A complete record: the base values, changed by ``patches``."""
    labs: dict[str, Any] = dict(BASE_LABS)
    facts: dict[str, Any] = {"ECOG": 1, "childbearing_potential": False}
    data: dict[str, Any] = {"sex": "female", "birth_date": "1980-01-01", "events": []}
    for patch in patches:
        for key, value in patch.items():
            section, _, name = key.partition(".")
            if section == "labs":
                labs[name] = value
            elif section == "facts":
                facts[name] = value
            elif key == "age":
                data.pop("birth_date", None)
                data["age"] = value
            else:
                data[key] = copy.deepcopy(value)
    anc_value, anc_unit = labs["ANC"]
    alt_value, alt_high = labs["ALT"]
    results = [
        {"name": "ANC", "value": anc_value, "unit": anc_unit, "date": "2025-05-30"},
        {"name": "platelets", "value": labs["platelets"], "unit": "10*9/L", "date": "2025-05-30"},
        {"name": "ALT", "value": alt_value, "unit": "U/L", "date": "2025-05-30", "high": alt_high},
        {"name": "pregnancy_test", "value": labs["pregnancy_test"], "date": "2025-05-30"},
    ]
    return record(labs=results, facts=facts, **data)


def _grid(names: list[str]) -> list[dict[str, Any]]:
    return [
        _record(list(patches))
        for patches in itertools.product(*(FAMILIES[name][1] for name in names))
    ]


def _complete(data: dict[str, Any]) -> bool:
    # Age at treatment needs a birth date: a record with only `age` leaves it UNKNOWN.
    return "birth_date" in data


# ---- properties ---------------------------------------------------------------------------------


@given(examples())
def test_the_analysis_is_sound(example: tuple[str, str, list[str]]) -> None:
    first, second, names = example
    checked = trial(f"inclusion\n  A: {first}\n  B: {second}\n")
    a, b = (criterion.condition for criterion in checked.criteria)
    assert a is not None
    assert b is not None
    analysis = iv.Analysis()
    satisfiable, valid, implies = (
        analysis.satisfiable(a),
        analysis.valid(a),
        analysis.implies(a, b),
    )
    for data in _grid(names):
        result = checked.evaluate(data)
        outcome_a = result.criterion("A").outcome
        outcome_b = result.criterion("B").outcome
        if satisfiable is False:
            assert outcome_a is not Outcome.MET, (first, data)
        if valid is True and (_complete(data) or "age_at" not in first):
            assert outcome_a is Outcome.MET, (first, data, result.criterion("A").reasons)
        if implies is True:
            assert not (outcome_a is Outcome.MET and outcome_b is Outcome.NOT_MET), (
                first,
                second,
                data,
            )


@given(examples())
def test_the_analysis_never_fails_and_the_cap_never_flips_an_answer(
    example: tuple[str, str, list[str]],
) -> None:
    first, second, _ = example
    checked = trial(f"inclusion\n  A: {first}\n  B: {second}\n")
    a, b = (criterion.condition for criterion in checked.criteria)
    assert a is not None
    assert b is not None
    full, small = iv.Analysis(), iv.Analysis(max_terms=2)
    for analysis in (full, small):
        analysis.satisfiable([a, b])
        iv.redundant_atoms(a, analysis)
    # A valid condition can be met; one that cannot be met is not valid.
    assert not (full.valid(a) is True and full.satisfiable(a) is False)
    # A tiny cap never turns a definite answer into the opposite one.
    assert small.satisfiable(a) in (None, full.satisfiable(a))
    assert small.valid(a) in (None, full.valid(a))
    assert small.implies(a, b) in (None, full.implies(a, b))


@given(examples())
def test_the_logic_rules_never_fail(example: tuple[str, str, list[str]]) -> None:
    from critlang.lint.config import Selection
    from critlang.lint.engine import lint_text

    first, second, _ = example
    text = (
        f'inclusion\n  I1 "first": {first}\n  I2 "second": {second}\n'
        f'exclusion\n  E1 "either": {first} or {second}\n  E2 "second": {second}\n'
    )
    result = lint_text(text, "generated.crit", selection=Selection(select=("CL3",)))
    for diagnostic in result.diagnostics:
        assert diagnostic.code.startswith("CL3")
        assert diagnostic.message
