"""The logic rules (CL3xx) on real trials and on near-misses: no false findings, and the analysis
behind them really decides (it does not stay quiet by answering "don't know")."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from critlang.lint.config import Selection
from critlang.lint.context import analyse
from critlang.lint.engine import lint_text
from critlang.lint.intervals import Analysis
from tests.conftest import ROOT
from tests.lint.helpers import LINT_FIXTURES, lint_fixture

LOGIC = Selection(select=("CL3",))
EXAMPLES = sorted((ROOT / "examples").glob("*.crit"))
CLEAN = sorted((LINT_FIXTURES / "clean").glob("logic-*.crit"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_the_examples_have_no_logic_findings(path: Path) -> None:
    result = lint_fixture(path, LOGIC)
    assert [d.code for d in result.diagnostics] == [], [d.message for d in result.diagnostics]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_the_analysis_decides_every_example_criterion(path: Path) -> None:
    context = analyse(path.read_text(encoding="utf-8"), path.name, path)
    assert context.checks
    analysis = Analysis()
    inclusions = []
    for criterion in context.criteria:
        if criterion.condition is None:
            continue
        assert analysis.satisfiable(criterion.condition) is True, criterion.id
        assert analysis.valid(criterion.condition) is False, criterion.id
        if criterion.section == "inclusion":
            inclusions.append(criterion.condition)
    assert analysis.satisfiable(inclusions) is True


@pytest.mark.parametrize("path", CLEAN, ids=lambda path: path.stem)
def test_near_misses_have_no_logic_findings(path: Path) -> None:
    context = analyse(path.read_text(encoding="utf-8"), path.name, path)
    assert context.checks, context.check_errors  # a file that does not check proves nothing
    result = lint_fixture(path, LOGIC)
    assert [d.code for d in result.diagnostics] == [], [d.message for d in result.diagnostics]


def test_there_are_near_misses() -> None:
    assert len(CLEAN) >= 3


def codes(text: str) -> list[str]:
    return [d.code for d in lint_text(text, "test.crit", selection=LOGIC).diagnostics]


def test_a_finding_can_be_suppressed_on_its_line() -> None:
    text = 'inclusion\n  I1 "Age": age >= 18 years and age < 16 years\n'
    assert codes(text) == ["CL301"]
    assert codes(text.rstrip("\n") + "  # critlang: ignore[CL301]\n") == []


def test_definitions_are_checked_once_where_they_are_written() -> None:
    text = (
        "define adult = age >= 18 years and age >= 21 years\n"
        'inclusion\n  I1 "Adult": adult\n  I2 "Adult, ECOG 0-1": adult and ECOG <= 1\n'
    )
    result = lint_text(text, "test.crit", selection=LOGIC)
    assert [(d.code, d.location[0]) for d in result.diagnostics] == [("CL303", 1)]


def test_no_findings_on_what_the_analysis_cannot_decide() -> None:
    # Far beyond the size cap: the analysis says "don't know", and the rules stay quiet.
    clauses = " and ".join(
        f"(live_vaccine within {n} weeks before screening or chemotherapy within {n} weeks "
        "before screening)"
        for n in range(1, 21)
    )
    text = f'inclusion\n  I1 "Many windows": {clauses}\n'
    started = time.perf_counter()
    assert codes(text) == []
    assert time.perf_counter() - started < 10


def test_unsatisfiable_inclusions_are_not_also_blamed_on_the_exclusions() -> None:
    text = (
        'inclusion\n  I1 "Age": age >= 18 years\n  I2 "Young": age < 16 years\n'
        'exclusion\n  E1 "ECOG": ECOG >= 2\n'
    )
    assert codes(text) == ["CL304"]


def test_an_exclusion_met_by_every_included_patient_names_the_inclusions() -> None:
    text = (
        'inclusion\n  I1 "Age": age >= 18 years\n  I2 "ECOG": ECOG <= 1\n'
        '  I3 "Women": sex = female\n'
        'exclusion\n  E1 "Adult with good status": age > 17 years and ECOG < 2\n'
    )
    (diagnostic,) = lint_text(text, "test.crit", selection=LOGIC).diagnostics
    assert diagnostic.code == "CL305"
    assert "inclusions `I1` and `I2`" in diagnostic.message
