"""The example trials: each checks, and each example record gets its expected verdict and outcomes.

The expected files (``examples/<trial>/records/<case>.expected.json``) were derived by hand from
the semantics of SPEC §4, then compared with the evaluator.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import critlang
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
TRIALS = sorted(EXAMPLES.glob("*.crit"))
CASES = sorted(
    path for path in EXAMPLES.glob("*/records/*.json") if not path.name.endswith(".expected.json")
)


def test_there_are_five_seed_trials() -> None:
    assert [path.stem for path in TRIALS] == [
        "NCT06945523",
        "NCT07480213",
        "c-car031-hcc",
        "th027-solid-tumors",
        "vegfr1-pdl1-cart",
    ]


@pytest.mark.parametrize("path", TRIALS, ids=lambda path: path.stem)
def test_trial_checks(path: Path) -> None:
    trial = critlang.load(path)
    assert trial.criteria


@pytest.mark.parametrize("path", TRIALS, ids=lambda path: path.stem)
def test_every_trial_has_at_least_eight_records(path: Path) -> None:
    records = [case for case in CASES if case.parent.parent.name == path.stem]
    assert len(records) >= 8


@pytest.mark.parametrize("case", CASES, ids=lambda path: f"{path.parent.parent.name}/{path.stem}")
def test_example_record(case: Path) -> None:
    trial = critlang.load(EXAMPLES / f"{case.parent.parent.name}.crit")
    expected = json.loads(case.with_name(case.stem + ".expected.json").read_text(encoding="utf-8"))
    result = trial.evaluate(case.read_text(encoding="utf-8"))
    outcomes = {criterion.id: criterion.outcome.value for criterion in result.criteria}
    assert outcomes == expected["criteria"], result.explain()
    assert result.verdict.value == expected["verdict"], result.explain()
