"""The example trials: each checks, and each example record gets its expected verdict and outcomes.

The expected results live in ``examples/<trial>.tests.toml`` (run by ``critlang test``); they were
derived by hand from the semantics of SPEC §4, then compared with the evaluator.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import critlang
from critlang.testing import Case, Status, TestFile, collect, run_case, run_tests
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
TRIALS = sorted(EXAMPLES.glob("*.crit"))
RECORDS = sorted(EXAMPLES.glob("*/records/*.json"))
FILES, PROBLEMS = collect([EXAMPLES])
CASES = [(file, case) for file in FILES for case in file.cases]


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
    records = [record for record in RECORDS if record.parent.parent.name == path.stem]
    assert len(records) >= 8


def test_the_test_files_are_valid() -> None:
    assert [str(problem) for problem in PROBLEMS] == []
    assert sorted(Path(file.path).name for file in FILES) == [
        f"{path.stem}.tests.toml" for path in TRIALS
    ]


def test_every_record_is_a_case_and_every_case_a_record() -> None:
    assert sorted(case.record for _, case in CASES if isinstance(case.record, Path)) == RECORDS
    assert len(CASES) == len(RECORDS)


@pytest.mark.parametrize(
    ("file", "case"), CASES, ids=[f"{Path(file.criteria).stem}/{case.name}" for file, case in CASES]
)
def test_example_record(file: TestFile, case: Case) -> None:
    assert file.trial is not None
    # Every outcome is asserted, not only those a case happens to list.
    assert list(case.criteria) == [criterion.id for criterion in file.trial.criteria]
    outcome = run_case(file, case)
    assert outcome.result is not None, outcome.error
    assert outcome.status is Status.PASSED, "\n".join(
        [*map(str, outcome.mismatches), outcome.result.explain()]
    )


def test_critlang_test_examples_passes() -> None:
    report = run_tests(EXAMPLES)
    assert (report.exit_code, report.passed, report.failed) == (0, len(RECORDS), 0)
