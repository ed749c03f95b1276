"""``critlang test``: sidecar test files, their checking, the runner and its pytest-like output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import critlang
from critlang.cli import main
from critlang.testing import Status, render_text, run_tests
from tests.conftest import ROOT

CRITERIA = """\
trial DEMO "demo"
inclusion
  I1 "ECOG 0-1":  ECOG in 0..1
  I2.1 "ANC":     ANC >= 1.5 x10^9/L
  I3 "Consent":   review "consent signed"
exclusion
  E1 "Live vaccine": live_vaccine within 4 weeks before treatment
"""
# ECOG 2: I1 is NOT MET, so the patient is ineligible.
RECORD = {
    "id": "p1",
    "anchors": {"screening": "2025-06-02", "treatment": "2025-06-20"},
    "facts": {"ECOG": 2},
    "labs": [{"name": "ANC", "value": 1.8, "unit": "10*9/L", "date": "2025-05-30"}],
    "events": [],
}
ACTUAL = {"I1": "not_met", "I2.1": "met", "I3": "review", "E1": "not_met"}

PASSING = """\
[[case]]
record = "p1.json"
verdict = "ineligible"
[case.criteria]
I1 = "not_met"
"I2.1" = "met"
"""

FAILING = """\
[[case]]
name = "wrong"
record = "p1.json"
verdict = "eligible"
[case.criteria]
I1 = "met"
I3 = "review"
"""

SUMMARY = re.compile(
    r"^(\d+) passed, (\d+) failed(, \d+ errors?)?(, \d+ deselected)? in \d+\.\d\ds$"
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with demo.crit and p1.json, made the working directory so paths print short."""
    (tmp_path / "demo.crit").write_text(CRITERIA, encoding="utf-8")
    (tmp_path / "p1.json").write_text(json.dumps(RECORD), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sidecar(folder: Path, text: str, name: str = "demo.tests.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["test", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- passing and failing -------------------------------------------------------------------------


def test_passing_case(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sidecar(folder, PASSING)
    code, out, err = run(["demo.crit"], capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "demo.tests.toml ."
    assert SUMMARY.match(lines[-1])
    assert lines[-1].startswith("1 passed, 0 failed in ")


def test_failing_case_one_line_per_failure(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sidecar(folder, PASSING + "\n" + FAILING)
    code, out, _ = run(["demo.tests.toml"], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "demo.tests.toml .F"
    assert lines[1] == ""
    assert lines[2:4] == [
        "FAILED demo.tests.toml::wrong — verdict: expected eligible, got ineligible"
        " — decided by I1 not_met",
        "FAILED demo.tests.toml::wrong — I1: expected met, got not_met"
        ' — I1 NOT MET "ECOG 0-1" — ECOG 2 is not in 0..1',
    ]
    assert lines[4].startswith("1 passed, 1 failed in ")
    assert len(lines) == 5


def test_verdict_failure_explains_the_deciding_criterion(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sidecar(folder, '[[case]]\nrecord = "p1.json"\nverdict = "eligible"\n')
    code, out, _ = run(["-q", "demo.crit"], capsys)
    assert code == 1
    assert out.splitlines()[0] == (
        "FAILED demo.tests.toml::p1 — verdict: expected eligible, got ineligible"
        ' — decided by I1 not_met — I1 NOT MET "ECOG 0-1" — ECOG 2 is not in 0..1'
    )


def test_verbose_lists_every_case_and_quiet_none(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sidecar(folder, PASSING + "\n" + FAILING)
    _, out, _ = run(["-v", "."], capsys)
    assert out.splitlines()[:2] == ["demo.tests.toml::p1 PASSED", "demo.tests.toml::wrong FAILED"]
    _, out, _ = run(["-q", "."], capsys)
    lines = out.splitlines()
    assert [line.split(" ")[0] for line in lines[:-1]] == ["FAILED", "FAILED"]
    assert SUMMARY.match(lines[-1])


def test_json_format(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sidecar(folder, PASSING + "\n" + FAILING)
    code, out, _ = run(["--format", "json", "demo.crit"], capsys)
    assert code == 1
    report = json.loads(out)
    assert (report["passed"], report["failed"], report["errors"]) == (1, 1, 0)
    assert report["files"] == [{"file": "demo.tests.toml", "criteria": "demo.crit", "error": None}]
    wrong = report["cases"][1]
    assert (wrong["id"], wrong["line"]) == ("demo.tests.toml::wrong", 8)
    assert (wrong["status"], wrong["expected_verdict"], wrong["verdict"]) == (
        "failed",
        "eligible",
        "ineligible",
    )
    assert [
        (item["criterion"], item["expected"], item["actual"]) for item in wrong["failures"]
    ] == [
        (None, "eligible", "ineligible"),
        ("I1", "met", "not_met"),
    ]
    assert wrong["failures"][1]["explanation"].startswith("I1 NOT MET")


def test_python_api(folder: Path) -> None:
    sidecar(folder, PASSING + "\n" + FAILING)
    report = run_tests(folder / "demo.crit")
    assert (report.passed, report.failed, report.errors, report.exit_code) == (1, 1, 0, 1)
    wrong = report.results[1]
    assert wrong.status is Status.FAILED
    assert wrong.result is not None
    assert wrong.result.verdict is critlang.Verdict.INELIGIBLE
    assert [str(mismatch).split(" — ")[0] for mismatch in wrong.mismatches] == [
        "verdict: expected eligible, got ineligible",
        "I1: expected met, got not_met",
    ]
    assert render_text(report).splitlines()[-1] == report.summary()


# --- the file format ---------------------------------------------------------------------------


def test_inline_record_with_toml_dates_and_exact_numbers(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ANC exactly 1.5 is >= 1.5 (a TOML float read exactly); TOML dates work as record dates.
    sidecar(
        folder,
        """\
[[case]]
name = "inline"
verdict = "eligible"
[case.criteria]
I1 = "met"
I2.1 = "met"
E1 = "not_met"
[case.record]
facts = {ECOG = 1}
events = [{name = "live_vaccine", start = 2025-04-01}]
[case.record.anchors]
screening = 2025-06-02
treatment = 2025-06-20
[[case.record.labs]]
name = "ANC"
value = 1.5
unit = "10*9/L"
date = 2025-05-30
""",
    )
    code, out, _ = run(["-v", "demo.crit"], capsys)
    assert out.splitlines()[0] == "demo.tests.toml::inline PASSED"
    assert code == 0


def test_as_of_and_anchors_supply_missing_dates(folder: Path) -> None:
    record = {"facts": {"ECOG": 0}, "events": [{"name": "live_vaccine", "start": "2025-06-01"}]}
    (folder / "no-dates.json").write_text(json.dumps(record), encoding="utf-8")
    sidecar(
        folder,
        """\
[[case]]
record = "no-dates.json"
verdict = "undetermined"
criteria = {E1 = "unknown"}

[[case]]
name = "with-dates"
record = "no-dates.json"
as_of = 2025-06-02
anchors = {treatment = "2025-06-20"}
verdict = "ineligible"
criteria = {E1 = "met"}
""",
    )
    report = run_tests(folder)
    assert [result.status for result in report.results] == [Status.PASSED, Status.PASSED]


def test_dotted_ids_bare_or_quoted_and_any_case(folder: Path) -> None:
    sidecar(
        folder,
        """\
[[case]]
record = "p1.json"
verdict = "ineligible"
[case.criteria]
I2.1 = "met"
i1 = "not_met"
"e1" = "not_met"
""",
    )
    report = run_tests(folder)
    assert report.exit_code == 0
    assert dict(report.files[0].cases[0].criteria) == {
        "I1": critlang.Outcome.NOT_MET,
        "I2.1": critlang.Outcome.MET,
        "E1": critlang.Outcome.NOT_MET,
    }


def test_criteria_key_names_another_file(folder: Path) -> None:
    (folder / "tests").mkdir()
    (folder / "tests" / "p2.json").write_text(json.dumps(RECORD), encoding="utf-8")
    sidecar(
        folder / "tests",
        'criteria = "../demo.crit"\n[[case]]\nrecord = "p2.json"\nverdict = "ineligible"\n',
        "edge.tests.toml",
    )
    report = run_tests(folder / "tests")
    assert (report.passed, report.exit_code) == (1, 0)
    assert report.files[0].criteria.resolve() == (folder / "demo.crit").resolve()


def test_the_readme_example_runs(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("## Test cases: `critlang test`", 1)[1].split("```toml\n", 1)[1]
    (tmp_path / "NCT06945523.tests.toml").write_text(example.split("```", 1)[0], encoding="utf-8")
    trial = ROOT / "examples" / "NCT06945523.crit"
    (tmp_path / trial.name).write_text(trial.read_text(encoding="utf-8"), encoding="utf-8")
    records = tmp_path / "NCT06945523" / "records"
    records.mkdir(parents=True)
    record = ROOT / "examples" / "NCT06945523" / "records" / "ineligible-anc.json"
    (records / record.name).write_text(record.read_text(encoding="utf-8"), encoding="utf-8")
    report = run_tests(tmp_path / "NCT06945523.crit")
    assert [str(problem) for problem in report.problems] == []
    assert [(result.case.name, result.status) for result in report.results] == [
        ("ineligible-anc", Status.PASSED),
        ("ecog-3", Status.PASSED),
    ]


# --- -k ----------------------------------------------------------------------------------------


def test_keyword_selects_by_substring(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sidecar(folder, PASSING + "\n" + FAILING)
    code, out, _ = run(["-v", "-k", "WRO", "demo.crit"], capsys)
    lines = out.splitlines()
    assert lines[0] == "demo.tests.toml::wrong FAILED"
    assert lines[-1].startswith("0 passed, 1 failed, 1 deselected in ")
    assert code == 1
    code, out, _ = run(["-k", "p1", "demo.crit"], capsys)
    assert (code, out.splitlines()[-1].split(" in ")[0]) == (0, "1 passed, 0 failed, 1 deselected")
    code, out, _ = run(["-k", "p1", "-k", "wrong", "demo.crit"], capsys)
    assert out.splitlines()[-1].startswith("1 passed, 1 failed in ")


def test_keyword_matching_nothing_is_a_usage_error(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sidecar(folder, PASSING)
    code, out, err = run(["-k", "nothing", "demo.crit"], capsys)
    assert (code, out) == (2, "")
    assert err == "critlang: no test case matches -k 'nothing' (1 case)\n"


# --- errors while running (exit 1) -------------------------------------------------------------


def test_criteria_that_do_not_check(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "demo.crit").write_text("inclusion\n  I1: ECGO in 0..1\n", encoding="utf-8")
    sidecar(folder, '[[case]]\nrecord = "p1.json"\nverdict = "ineligible"\n')
    code, out, _ = run(["demo.crit"], capsys)
    assert code == 1
    assert "ERROR demo.tests.toml — demo.crit does not check:" in out
    assert "demo.crit:2:7: E201 unknown name `ECGO`" in out
    assert "ERROR demo.tests.toml::p1 — demo.crit does not check" in out
    assert out.splitlines()[-1].startswith("0 passed, 0 failed, 1 error in ")


def test_records_the_reader_rejects(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "broken.json").write_text("[1,", encoding="utf-8")
    sidecar(
        folder,
        """\
[[case]]
record = "broken.json"
verdict = "eligible"

[[case]]
name = "labs-not-a-list"
verdict = "eligible"
record = {labs = 3}
""",
    )
    code, out, _ = run(["demo.crit"], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "demo.tests.toml EE"
    assert lines[2].startswith("ERROR demo.tests.toml::broken — record: not valid JSON")
    assert (
        lines[3]
        == "ERROR demo.tests.toml::labs-not-a-list — record: `labs` must be a list, not int"
    )
    assert lines[4].startswith("0 passed, 0 failed, 2 errors in ")


# --- problems in the test files (exit 2, nothing runs) -----------------------------------------

PROBLEMS = [
    ('colour = "blue"\n' + PASSING, 1, "unknown key `colour`; a test file has `criteria` and"),
    (
        '[[case]]\nrecord = "p1.json"\nverdict = "eligible"\nverdit = "eligible"\n',
        4,
        "unknown key `verdit` in a case (did you mean verdict?)",
    ),
    ('[[case]]\nrecord = "p1.json"\n', 1, 'a case needs a `verdict`: "eligible", "ineligible"'),
    (
        '[[case]]\nrecord = "p1.json"\nverdict = "elegible"\n',
        3,
        'verdict "elegible" is not a verdict (did you mean eligible?)',
    ),
    (
        '[[case]]\nrecord = "p1.json"\nverdict = "eligible"\n[case.criteria]\nI1 = "not met"\n',
        5,
        'I1: "not met" is not an outcome (did you mean not_met?); write met, not_met, unknown or review',
    ),
    (
        '[[case]]\nrecord = "p1.json"\nverdict = "eligible"\ncriteria = {I1 = true}\n',
        4,
        "I1: true is not an outcome",
    ),
    (
        '[[case]]\nrecord = "p1.json"\nverdict = "eligible"\n\n[case.criteria]\nI2.2 = "met"\n',
        6,
        "unknown criterion I2.2 (did you mean I2.1?): demo.crit has no such criterion",
    ),
    (
        '[[case]]\nrecord = "p1.json"\nverdict = "eligible"\ncriteria = "all met"\n',
        4,
        "`criteria` must be a table of outcomes",
    ),
    ('[[case]]\nverdict = "eligible"\n', 1, "a case needs a `record`: a path to a JSON file"),
    ('[[case]]\nrecord = "p9.json"\nverdict = "eligible"\n', 2, 'record "p9.json": no such file'),
    ('[[case]]\nrecord = 3\nverdict = "eligible"\n', 2, "`record` must be a path to a JSON file"),
    (
        '[[case]]\nverdict = "eligible"\n[case.record]\nfacts = {ECOG = 1}\n',
        1,
        "a case with an inline record needs a `name`",
    ),
    ('[[case]]\nname = ""\nrecord = "p1.json"\nverdict = "eligible"\n', 2, "`name` must be a"),
    (
        PASSING + '\n[[case]]\nname = "p1"\nrecord = "p1.json"\nverdict = "eligible"\n',
        9,
        'two cases are named "p1" (the first is on line 1)',
    ),
    (
        '[[case]]\nrecord = "p1.json"\nverdict = "eligible"\nas_of = "2025-13-01"\n',
        4,
        '`as_of`: "2025-13-01" is not a date (write 2025-06-02)',
    ),
    (
        '[[case]]\nrecord = "p1.json"\nverdict = "eligible"\nanchors = "2025-06-02"\n',
        4,
        "`anchors` must be a table of dates",
    ),
    (
        '[[case]]\nrecord = "p1.json"\nverdict = "eligible"\nanchors = {treatment = 2025-06-20T10:00:00}\n',
        4,
        "`anchors.treatment`: write a date (2025-06-02), not a date-time",
    ),
    ("", None, "no test cases: add a [[case]] table"),
    ('case = "x"\n', 1, "`case` must be [[case]] tables"),
    ('criteria = 3\n[[case]]\nrecord = "p1.json"\nverdict = "eligible"\n', 1, "`criteria` must"),
    (
        'criteria = "other.crit"\n' + PASSING,
        1,
        'criteria "other.crit": no such file',
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), PROBLEMS, ids=[p[2][:40] for p in PROBLEMS])
def test_problem_in_a_test_file(
    folder: Path, capsys: pytest.CaptureFixture[str], text: str, line: int | None, message: str
) -> None:
    sidecar(folder, text)
    code, out, err = run(["demo.crit"], capsys)
    assert (code, out) == (2, "")
    where = f"demo.tests.toml:{line}: " if line is not None else "demo.tests.toml: "
    first, *rest = err.splitlines()
    assert first.startswith(where + message), err
    assert rest == ["critlang: 1 problem in the test files; no case was run"]


def test_toml_syntax_error_has_line_and_column(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sidecar(folder, '[[case]]\nrecord = "p1.json"\nverdict = eligible\n')
    code, _, err = run(["demo.crit"], capsys)
    assert code == 2
    assert err.splitlines()[0] == "demo.tests.toml:3:11: not valid TOML: Invalid value"


def test_every_problem_is_reported_at_once(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sidecar(
        folder,
        'colour = 1\n[[case]]\nrecord = "p9.json"\nverdict = "x"\n[case.criteria]\nZ1 = "met"\n',
    )
    sidecar(folder, PASSING, "good.tests.toml")  # its criteria file is missing
    code, _, err = run(["."], capsys)
    assert code == 2
    assert [line.split(": ")[0] for line in err.splitlines()] == [
        "demo.tests.toml:1",
        "demo.tests.toml:3",
        "demo.tests.toml:4",
        "demo.tests.toml:6",
        "good.tests.toml",
        "critlang",
    ]
    assert "good.tests.toml: no criteria file good.crit" in err
    assert err.splitlines()[-1] == "critlang: 5 problems in the test files; no case was run"


def test_a_missing_criteria_file(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sidecar(folder, PASSING, "other.tests.toml")
    code, _, err = run(["other.tests.toml"], capsys)
    assert code == 2
    assert err.splitlines()[0] == (
        'other.tests.toml: no criteria file other.crit (name it with `criteria = "FILE.crit"`)'
    )


# --- finding the test files --------------------------------------------------------------------


def test_finding_test_files(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sidecar(folder, PASSING)
    for paths in (["demo.crit"], ["demo.tests.toml"], ["."], ["demo.crit", "demo.tests.toml"]):
        code, out, _ = run(paths, capsys)
        assert (code, out.splitlines()[-1].split(" in ")[0]) == (0, "1 passed, 0 failed"), paths


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("missing.crit", "critlang: missing.crit: no such file"),
        ("missing.tests.toml", "critlang: missing.tests.toml: no such file"),
        ("missing", "critlang: missing: no such file or folder"),
        ("p1.json", "critlang: p1.json: not a .crit file, a *.tests.toml file or a folder"),
        ("demo.crit", "critlang: demo.crit: no test file (looked for demo.tests.toml)"),
        ("empty", "critlang: no test files (*.tests.toml) in empty"),
    ],
)
def test_usage_errors(
    folder: Path, capsys: pytest.CaptureFixture[str], given: str, message: str
) -> None:
    (folder / "empty").mkdir()
    code, out, err = run([given], capsys)
    assert (code, out, err) == (2, "", message + "\n")


def test_quiet_and_verbose_do_not_mix(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["test", "-q", "-v", "."])
    assert stopped.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


# --- property: exactly the mismatching criteria are reported ------------------------------------

OUTCOMES = ["met", "not_met", "unknown", "review"]
VERDICTS = ["eligible", "ineligible", "undetermined"]


@given(
    table=st.dictionaries(st.sampled_from(sorted(ACTUAL)), st.sampled_from(OUTCOMES)),
    verdict=st.sampled_from(VERDICTS),
    quoted=st.booleans(),
)
def test_the_runner_reports_exactly_the_mismatches(
    tmp_path_factory: pytest.TempPathFactory,
    table: dict[str, str],
    verdict: str,
    quoted: bool,
) -> None:
    folder = tmp_path_factory.mktemp("property")
    (folder / "demo.crit").write_text(CRITERIA, encoding="utf-8")
    (folder / "p1.json").write_text(json.dumps(RECORD), encoding="utf-8")
    keys = [f'"{key}"' if quoted else key for key in table]
    lines = [f'{key} = "{outcome}"' for key, outcome in zip(keys, table.values(), strict=True)]
    text = f'[[case]]\nrecord = "p1.json"\nverdict = "{verdict}"\n[case.criteria]\n'
    (folder / "demo.tests.toml").write_text(text + "\n".join(lines) + "\n", encoding="utf-8")

    report = run_tests(folder / "demo.crit")

    order = list(ACTUAL)  # the trial's order
    wrong = [key for key in order if key in table and table[key] != ACTUAL[key]]
    (result,) = report.results
    reported = [mismatch.criterion for mismatch in result.mismatches]
    verdict_wrong = verdict != "ineligible"
    assert reported == [None] * verdict_wrong + wrong
    assert [(m.expected, m.actual) for m in result.mismatches if m.criterion] == [
        (table[key], ACTUAL[key]) for key in wrong
    ]
    assert result.status is (Status.FAILED if reported else Status.PASSED)
    assert report.exit_code == (1 if reported else 0)
