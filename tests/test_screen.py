"""Screening a cohort: a row per input patient always, the funnel's arithmetic, near misses,
what-ifs, worker processes, output files, the HTML report and the command line."""

from __future__ import annotations

import csv
import itertools
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import critlang
from critlang.cli import main
from critlang.errors import CheckError, ParseError
from critlang.eval.result import Outcome, Verdict
from critlang.report import render_html
from critlang.screen import ScreenResult, WhatIfError, screen, verdict_from
from critlang.trial import Trial, parse
from tests.conftest import ROOT
from tests.dictionary import DECLARATIONS

EXAMPLE = ROOT / "examples" / "NCT06945523.crit"
RECORDS = ROOT / "examples" / "NCT06945523" / "records"

CRITERIA = DECLARATIONS + (
    'trial DEMO "demo"\n'
    "inclusion\n"
    '  I1 "Adult": age >= 18 years\n'
    '  I2 "ANC": ANC >= 1.5 x10^9/L\n'
    '  I3 "ECOG 0-1": ECOG in 0..1\n'
    '  I4 "Consent": review "consent signed"\n'
    "exclusion\n"
    '  E1 "Live vaccine in 4 weeks": live_vaccine within 4 weeks before screening\n'
)


@pytest.fixture(scope="module")
def demo() -> Trial:
    return parse(CRITERIA, "demo.crit")


@pytest.fixture(scope="module")
def example() -> Trial:
    return critlang.load(EXAMPLE)


@pytest.fixture(scope="module")
def examples_screened(example: Trial) -> ScreenResult:
    return example.screen(RECORDS)


def patient(
    identifier: str, anc: object = 2.0, ecog: int = 1, unit: str = "10*9/L", **more: Any
) -> dict[str, Any]:
    return {
        "id": identifier,
        "birth_date": "1960-01-01",
        "anchors": {"screening": "2025-06-02"},
        "facts": {"ECOG": ecog},
        "labs": [{"name": "ANC", "value": anc, "unit": unit, "date": "2025-05-30"}],
        "events": [],
        **more,
    }


def check_funnel(result: ScreenResult) -> None:
    """The funnel's arithmetic (see critlang.screen's docstring)."""
    totals = result.totals
    start, *steps = result.funnel
    evaluated = totals["total"] - totals["error"]
    assert start.remaining == evaluated
    assert start.possibly == 0
    previous = start.remaining
    for step in steps:
        assert step.remaining == previous - step.excluded
        assert 0 <= step.possibly <= step.remaining
        previous = step.remaining
    assert sum(step.excluded for step in steps) == totals["ineligible"]
    if steps:
        assert steps[-1].remaining == totals["eligible"] + totals["undetermined"]
        assert steps[-1].possibly == totals["undetermined"]
        assert steps[-1].passed == totals["eligible"]


# ---- a row per patient, always -------------------------------------------------------------------


def test_rows_match_input_patients_with_broken_jsonl(demo: Trial, tmp_path: Path) -> None:
    lines = [
        json.dumps(patient("P1")),
        json.dumps(patient("P2", anc=1.0)),
        '{"id": "P3", "labs": [{"name": "ANC", "val',  # truncated
        json.dumps(patient("P4") | {"labs": [{"name": "ANC", "value": 2, "unit": "bananas"}]}),
        json.dumps(patient("P5") | {"anchors": {}}),  # no screening date
        json.dumps(patient("P1")),  # duplicate id
        json.dumps(patient("P6", ecog=3)),
    ]
    path = tmp_path / "cohort.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = demo.screen(path)
    assert [row.id for row in result.rows] == ["P1", "P2", "P3", "P4", "P5", "P1", "P6"]
    assert [row.status for row in result.rows] == [
        "eligible",
        "ineligible",
        "error",
        "undetermined",
        "undetermined",
        "error",
        "ineligible",
    ]
    truncated, unit = result.rows[2], result.rows[3]
    assert truncated.error is not None
    assert "not valid JSON" in truncated.error
    assert any("bananas" in problem for problem in unit.problems)
    assert unit.missing  # the ANC left out: what is missing is said
    assert result.totals == {
        "eligible": 1,
        "ineligible": 2,
        "undetermined": 2,
        "error": 2,
        "total": 7,
    }
    check_funnel(result)


def test_rows_match_input_patients_with_a_bad_csv(demo: Trial, tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text(
        "id,birth_date,screening,ANC [10*9/L],ECOG,live_vaccine\n"
        "C1,1960-01-01,2025-06-02,2.0,1,\n"
        "C2,1960-01-01,2025-06-02,2.0\n"  # too few cells
        "C3,1960-01-01,,2.0,1,2025-05-20\n"  # no screening date: the window is unknown
        "C4,not-a-date,2025-06-02,2.0,1,2025-05-20\n"
        "C1,1960-01-01,2025-06-02,2.0,1,\n",
        encoding="utf-8",
    )
    result = demo.screen(path)
    assert [(row.id, row.status) for row in result.rows] == [
        ("C1", "eligible"),
        ("C2", "error"),
        ("C3", "undetermined"),
        ("C4", "ineligible"),
        ("C1", "error"),
    ]
    check_funnel(result)


def test_records_in_memory_and_their_errors(demo: Trial) -> None:
    result = demo.screen([patient("M1"), "{not json", {"labs": "x"}, patient("M1")])
    assert [row.status for row in result.rows] == ["eligible", "error", "error", "error"]
    assert [row.id for row in result.rows] == ["M1", "record 1", "record 2", "M1"]
    assert "duplicate id 'M1'" in (result.rows[3].error or "")


def test_as_of_and_anchors_fill_in_what_records_lack(demo: Trial) -> None:
    record = patient("A1") | {"anchors": {}}
    assert demo.screen([record]).rows[0].verdict is Verdict.UNDETERMINED
    assert demo.screen([record], as_of="2025-06-02").rows[0].verdict is Verdict.ELIGIBLE
    with pytest.raises(critlang.CritlangError, match="not a date"):
        demo.screen([record], as_of="June")


def test_every_outcome_and_missing_input_is_in_the_row(demo: Trial) -> None:
    record = patient("U1")
    del record["facts"]
    (row,) = demo.screen([record]).rows
    assert row.outcomes == (
        Outcome.MET,
        Outcome.MET,
        Outcome.UNKNOWN,
        Outcome.REVIEW,
        Outcome.NOT_MET,
    )
    assert row.missing == demo.evaluate(record).missing != ()


# ---- funnel, counts, deciding criteria -----------------------------------------------------------


def test_funnel_on_the_examples(examples_screened: ScreenResult) -> None:
    result = examples_screened
    assert result.totals["total"] == len(list(RECORDS.glob("*.json")))
    check_funnel(result)
    ids = [step.id for step in result.funnel[1:]]
    assert "I13" not in ids
    assert "E12" not in ids
    assert ids[:3] == ["I1", "I2", "I3"]
    age = result.funnel[1]
    assert (age.excluded, age.remaining) == (1, result.totals["total"] - 1)


def test_funnel_counts_possibly_from_the_first_unknown_until_exclusion(demo: Trial) -> None:
    cohort = [
        patient("ok"),
        patient("no-ecog") | {"facts": {}},  # unknown at I3
        patient("no-ecog-vaccinated")
        | {"facts": {}, "events": [{"name": "live_vaccine", "start": "2025-05-25"}]},
        patient("low-anc", anc=1.0),
    ]
    result = demo.screen(cohort)
    steps = {step.id: step for step in result.funnel}
    assert (steps[None].remaining, steps["I1"].remaining) == (4, 4)
    assert (steps["I2"].remaining, steps["I2"].excluded, steps["I2"].possibly) == (3, 1, 0)
    assert (steps["I3"].remaining, steps["I3"].possibly) == (3, 2)
    assert (steps["E1"].remaining, steps["E1"].excluded, steps["E1"].possibly) == (2, 1, 1)
    check_funnel(result)


def test_per_criterion_counts_and_deciding(examples_screened: ScreenResult) -> None:
    counts = {count.id: count for count in examples_screened.counts}
    total = examples_screened.totals["total"]
    for count in counts.values():
        assert count.met + count.not_met + count.unknown + count.review == total
    assert counts["I13"].review == total
    assert counts["I10.1"].not_met == 2
    assert counts["I10.1"].excluding == 2
    deciding = examples_screened.deciding
    assert deciding[0].id == "I10.1"
    assert all(a.excluding >= b.excluding for a, b in itertools.pairwise(deciding))


_OUTCOMES = list(Outcome)


Pattern = tuple[tuple[Outcome, ...], int]


def _screened(size: int) -> st.SearchStrategy[tuple[list[Outcome], list[Pattern]]]:
    """Per criterion the outcome that fails it, and outcome patterns each with its patients."""
    return st.tuples(
        st.lists(st.sampled_from([Outcome.MET, Outcome.NOT_MET]), min_size=size, max_size=size),
        st.lists(
            st.tuples(
                st.lists(st.sampled_from(_OUTCOMES), min_size=size, max_size=size).map(tuple),
                st.integers(1, 5),
            ),
            max_size=12,
        ),
    )


@given(st.integers(1, 6).flatmap(_screened))
def test_per_criterion_counts_are_the_patients_counted_one_by_one(
    drawn: tuple[list[Outcome], list[Pattern]],
) -> None:
    # Counted once per outcome pattern, weighted by its patients: the same as counting each
    # patient's outcomes.
    from critlang import screen as screen_module

    failing, patterns = drawn
    infos = [
        screen_module.CriterionInfo(id=f"C{i}", section="inclusion", text="", review=False)
        for i in range(len(failing))
    ]
    patients = [outcomes for outcomes, count in patterns for _ in range(count)]
    counts = screen_module._counts(infos, failing, patterns)
    for index, count in enumerate(counts):
        column = [outcomes[index] for outcomes in patients]
        assert count.met == column.count(Outcome.MET)
        assert count.not_met == column.count(Outcome.NOT_MET)
        assert count.unknown == column.count(Outcome.UNKNOWN)
        assert count.review == column.count(Outcome.REVIEW)
        assert count.excluding == column.count(failing[index])
        assert count.only == sum(
            1
            for outcomes in patients
            if [o is f for o, f in zip(outcomes, failing, strict=True)].count(True) == 1
            and outcomes[index] is failing[index]
        )


@given(
    st.integers(1, 6).flatmap(
        lambda size: st.tuples(
            st.lists(st.booleans(), min_size=size, max_size=size), _screened(size)
        )
    )
)
def test_the_funnel_follows_each_patient_through_the_steps(
    drawn: tuple[list[bool], tuple[list[Outcome], list[Pattern]]],
) -> None:
    # Each patient leaves the funnel at the first step (in file order, review items left out)
    # it fails; "possibly" counts those still in it that met an UNKNOWN step on the way.
    from critlang import screen as screen_module

    reviews, (failing, patterns) = drawn
    infos = [
        screen_module.CriterionInfo(id=f"C{i}", section="inclusion", text="", review=review)
        for i, review in enumerate(reviews)
    ]
    steps = [index for index, review in enumerate(reviews) if not review]
    patients = [outcomes for outcomes, count in patterns for _ in range(count)]

    def first(outcomes: tuple[Outcome, ...], wanted: list[Outcome]) -> int:
        return next(
            (step for step, index in enumerate(steps) if outcomes[index] is wanted[index]),
            len(steps),
        )

    followed = [
        (first(outcomes, failing), first(outcomes, [Outcome.UNKNOWN] * len(reviews)))
        for outcomes in patients
    ]
    start, *funnel = screen_module._funnel(infos, failing, patterns, len(patients))
    assert (start.remaining, start.possibly, start.excluded) == (len(patients), 0, 0)
    assert [step.id for step in funnel] == [f"C{index}" for index in steps]
    for step, found in enumerate(funnel):
        assert found.excluded == sum(1 for failed, _ in followed if failed == step)
        assert found.remaining == sum(1 for failed, _ in followed if failed > step)
        assert found.possibly == sum(1 for failed, unknown in followed if unknown <= step < failed)


# ---- near misses ---------------------------------------------------------------------------------


def test_near_misses_with_how_far(examples_screened: ScreenResult) -> None:
    misses = {miss.id: miss for miss in examples_screened.near_misses}
    anc = misses["ineligible-anc"]
    assert (anc.criterion, anc.would_be) == ("I10.1", Verdict.ELIGIBLE)
    assert anc.gap is not None
    assert anc.gap.text() == "ANC 0.9 10*9/L: 0.1 10*9/L below > 1.0 x10^9/L (10%)"
    alt = misses["no-liver-mets-alt-4x"].gap
    assert alt is not None
    assert alt.text() == ("ALT 160 U/L: 40 U/L above <= 3 x ULN (120 U/L) (33%)")
    ecog = misses["ineligible-ecog-3"].gap
    assert ecog is not None
    assert ecog.difference == 1
    age = misses["ineligible-age-17"].gap
    assert age is not None
    assert age.text().startswith("age 17 years: 1 year below >= 18 years")
    hemoglobin = misses["ineligible-hb-8-g-dL"].gap
    assert hemoglobin is not None
    assert hemoglobin.difference == 0
    # An exclusion met by an event has no threshold: the explanation says why.
    vaccine = misses["vaccine-window-first-day"]
    assert vaccine.gap is None
    assert vaccine.explanation.startswith("live_vaccine within 4 weeks before screening: yes")
    rows = {row.id: row for row in examples_screened.rows}
    for miss in examples_screened.near_misses:
        failed = [
            info.id
            for info, outcome in zip(
                examples_screened.criteria, rows[miss.id].outcomes, strict=True
            )
            if outcome is (Outcome.NOT_MET if info.section == "inclusion" else Outcome.MET)
        ]
        assert failed == [miss.criterion]
    assert "ineligible-age-17" in misses
    assert len(misses) == sum(1 for row in examples_screened.rows if row.near_miss is not None)


def test_near_miss_of_an_undetermined_patient(demo: Trial) -> None:
    record = patient("N1", anc=1.4) | {"facts": {}}
    (miss,) = demo.screen([record]).near_misses
    assert miss.would_be is Verdict.UNDETERMINED
    assert miss.gap is not None
    assert miss.gap.text() == ("ANC 1.4 10*9/L: 0.1 10*9/L below >= 1.5 x10^9/L (6.7%)")


# ---- what-if -------------------------------------------------------------------------------------


def test_relax_and_drop_report_the_change_in_eligible(example: Trial) -> None:
    result = example.screen(RECORDS, relax={"I10.1": "ANC >= 0.8 x10^9/L"}, drop=["E3"])
    relax, drop, both = result.what_if
    before = result.totals["eligible"]
    assert relax.label == "relax I10.1 to `ANC >= 0.8 x10^9/L`"
    assert "ineligible-anc" in relax.newly_eligible
    assert relax.eligible == before + len(relax.newly_eligible) - len(relax.no_longer_eligible)
    assert drop.label == "drop E3"
    assert drop.newly_eligible == ("vaccine-window-first-day",)
    assert both.label == "all changes together"
    assert set(both.newly_eligible) == set(relax.newly_eligible) | set(drop.newly_eligible)
    # The same as screening a trial with the change written into it.
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "live_vaccine within 4 weeks before screening", "false"
    )
    edited = critlang.parse(text.replace('use "oncology.crit"', ""), "edited.crit")
    assert edited.screen(RECORDS).totals["eligible"] == drop.eligible


def test_what_if_errors(example: Trial) -> None:
    with pytest.raises(WhatIfError, match="no criterion 'I99'"):
        example.screen(RECORDS, drop=["I99"])
    with pytest.raises(ParseError):
        example.screen(RECORDS, relax={"I1": "age >="})
    with pytest.raises(CheckError, match="unknown_lab"):
        example.screen(RECORDS, relax={"I1": "unknown_lab > 1"})
    relaxed = example.screen(RECORDS, relax={"i10.1": "ANC >= 0.8 x10^9/L"})
    assert relaxed.what_if[0].label.startswith("relax I10.1")  # IDs match case-insensitively


def test_verdict_from_outcomes() -> None:
    failing = (Outcome.NOT_MET, Outcome.MET)
    assert verdict_from((Outcome.MET, Outcome.NOT_MET), failing) is Verdict.ELIGIBLE
    assert verdict_from((Outcome.UNKNOWN, Outcome.MET), failing) is Verdict.INELIGIBLE
    assert verdict_from((Outcome.UNKNOWN, Outcome.REVIEW), failing) is Verdict.UNDETERMINED


# ---- processes, progress, files ------------------------------------------------------------------


def test_jobs_two_gives_the_same_rows_in_the_same_order(example: Trial, tmp_path: Path) -> None:
    path = tmp_path / "cohort.jsonl"
    records = [json.loads(file.read_text()) for file in sorted(RECORDS.glob("*.json"))]
    lines = []
    for copy in range(12):  # several batches per worker
        for data in records:
            lines.append(json.dumps(data | {"id": f"{data['id']}-{copy}"}))
    lines.insert(5, '{"id": "broken"')
    path.write_text("\n".join(lines), encoding="utf-8")
    options = {"relax": {"I10.1": "ANC >= 0.8 x10^9/L"}, "drop": ["E3"]}
    one = example.screen(path, **options)  # type: ignore[arg-type]
    two = example.screen(path, jobs=2, **options)  # type: ignore[arg-type]
    assert len(one.rows) == len(lines)
    assert one.rows == two.rows
    assert one.funnel == two.funnel
    assert one.what_if == two.what_if
    assert one.near_misses == two.near_misses


def test_jobs_two_on_a_csv_and_the_tally(demo: Trial, tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    rows = [f"C{number},1960-01-01,2025-06-02,{number / 50},1,,2" for number in range(150)]
    rows.insert(7, "C7,1960-01-01")  # a row too short
    rows.append("C3,1960-01-01,2025-06-02,2,1,,1")  # a duplicate, in another batch
    path.write_text(
        "id,birth_date,screening,ANC [10*9/L],ECOG,live_vaccine,favourite_number\n"
        + "\n".join(rows),
        encoding="utf-8",
    )
    one, two = demo.screen(path), demo.screen(path, jobs=2)
    assert len(one.rows) == len(rows)
    assert one.rows == two.rows
    assert one.unmapped == two.unmapped
    assert one.rows[-1].error is not None
    assert "duplicate id 'C3'" in one.rows[-1].error
    jsonl = tmp_path / "cohort.jsonl"
    lines = [json.dumps(patient(f"J{number}", unit="furlongs")) for number in range(100)]
    jsonl.write_text("\n".join(lines), encoding="utf-8")
    assert (
        demo.screen(jsonl).unmapped == demo.screen(jsonl, jobs=2).unmapped == {"unit furlongs": 100}
    )


def test_a_source_that_fails_keeps_the_rows_before_it(demo: Trial) -> None:
    from critlang.data.record import read_record
    from critlang.data.sources import Entry, Tally

    class Failing:
        tally = Tally()

        def __iter__(self):  # type: ignore[no-untyped-def]
            yield Entry(id="F1", record=read_record(patient("F1")), where="here")
            raise OSError("the disk went away")

    result = demo.screen(Failing())
    assert [row.id for row in result.rows] == ["F1"]
    assert result.source_error is not None
    assert "the disk went away" in result.source_error
    assert "the disk went away" in result.summary()


def test_jobs_with_a_trial_parsed_from_text(demo: Trial) -> None:
    cohort = [patient(f"P{number}", anc=number / 10) for number in range(200)]
    assert demo.screen(cohort, jobs=2).rows == demo.screen(cohort).rows


def test_progress_is_called_with_the_count(demo: Trial) -> None:
    seen: list[int] = []
    demo.screen([patient(f"P{number}") for number in range(5)], progress=seen.append)
    assert seen == [1, 2, 3, 4, 5]


def test_output_files(examples_screened: ScreenResult, tmp_path: Path) -> None:
    table = tmp_path / "rows.csv"
    examples_screened.write(table)
    with table.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    ids = [info.id for info in examples_screened.criteria]
    assert rows[0] == ["id", "verdict", *ids, "missing", "error"]
    assert len(rows) == 1 + len(examples_screened.rows)
    anc = next(row for row in rows if row[0] == "ineligible-anc")
    assert anc[1] == "ineligible"
    assert anc[2 + ids.index("I10.1")] == "not_met"
    lines = tmp_path / "rows.jsonl"
    examples_screened.write(lines)
    parsed = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()]
    assert len(parsed) == len(examples_screened.rows)
    anc_row = next(row for row in parsed if row["id"] == "ineligible-anc")
    assert anc_row["failed"] == ["I10.1"]
    assert anc_row["outcomes"]["I1"] == "met"
    undetermined = next(row for row in parsed if row["verdict"] == "undetermined")
    assert undetermined["missing"]
    json.dumps(examples_screened.to_dict())  # the summary is JSON as it is


# ---- the HTML report -----------------------------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in ("meta", "br", "img", "link", "input"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open, f"</{tag}> closes nothing"
        assert self.open[-1] == tag, f"</{tag}> closes <{self.open[-1]}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_report_is_one_self_contained_html_file(example: Trial, tmp_path: Path) -> None:
    result = example.screen(RECORDS, relax={"I10.1": "ANC >= 0.8 x10^9/L"})
    page = render_html(result)
    collector = _Collector()
    collector.feed(page)
    collector.close()
    assert collector.open == []  # every element closed, in order
    assert {"svg", "rect", "table", "style"} <= set(collector.tags)
    assert not {"script", "link", "img", "iframe"} & set(collector.tags)
    assert re.search(r"https?://|//[a-z]", page) is None  # nothing fetched from anywhere
    assert "@media print" in page
    text = " ".join(collector.text)
    assert "ineligible-anc" in text
    assert "0.1 10*9/L below" in text
    assert "Hematologic: WBC" in text  # the criteria's own words
    assert "relax I10.1" in text


# ---- the command line ----------------------------------------------------------------------------


def test_cli_screen_prints_the_summary_and_writes_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, report = tmp_path / "rows.jsonl", tmp_path / "report.html"
    code = main(
        [
            "screen",
            str(EXAMPLE),
            str(RECORDS),
            "--out",
            str(out),
            "--report",
            str(report),
            "--relax",
            "I10.1=ANC >= 0.8 x10^9/L",
            "--drop",
            "E3",
            "--no-progress",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "patients screened" in captured.out
    assert "Attrition" in captured.out
    assert "Near misses" in captured.out
    assert "drop E3: eligible" in captured.out
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(list(RECORDS.glob("*.json")))
    assert "<svg" in report.read_text(encoding="utf-8")
    assert captured.err == ""  # no progress line when not on a terminal


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["no-such-folder"], "no such file"),
        ([str(RECORDS), "--relax", "I10.1"], "write ID=EXPRESSION"),
        ([str(RECORDS), "--drop", "I99"], "no criterion 'I99'"),
        ([str(RECORDS), "--as-of", "June"], "not a date"),
        ([str(RECORDS), "--jobs", "0"], "at least 1"),
        ([str(RECORDS), "--out", "rows.xlsx"], ".csv or a .jsonl"),
    ],
)
def test_cli_screen_usage_errors_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["screen", str(EXAMPLE), *arguments, "--no-progress"]) == 2
    assert message in capsys.readouterr().err


def test_cli_screen_criteria_errors_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.crit"
    bad.write_text("inclusion\n  I1: no_such_thing > 1\n", encoding="utf-8")
    assert main(["screen", str(bad), str(RECORDS), "--no-progress"]) == 1
    assert "no_such_thing" in capsys.readouterr().err
    assert main(["screen", str(EXAMPLE), str(RECORDS), "--relax", "I1=nope > 1"]) == 1


def test_cli_screen_csv_with_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    criteria = tmp_path / "demo.crit"
    criteria.write_text(CRITERIA, encoding="utf-8")
    data = tmp_path / "cohort.txt"
    data.write_text(
        "id,birth_date,screening,ANC [10*9/L],ECOG,live_vaccine\nC1,1960-01-01,2025-06-02,2,1,\n",
        encoding="utf-8",
    )
    assert main(["screen", str(criteria), str(data), "--format", "csv", "--no-progress"]) == 0
    assert "eligible 1 · ineligible 0" in capsys.readouterr().out


# ---- properties ----------------------------------------------------------------------------------

_ANC = st.one_of(
    st.none(),
    st.decimals(min_value=0, max_value=5, places=1).map(float),
)
_RECORDS = st.lists(
    st.fixed_dictionaries(
        {
            "anc": _ANC,
            "unit": st.sampled_from(["10*9/L", "/uL", "g/L"]),
            "ecog": st.one_of(st.none(), st.integers(min_value=0, max_value=4)),
            "born": st.sampled_from(["1950-03-01", "2010-01-01", None]),
            "vaccine": st.sampled_from([None, "2025-05-20", "2024-01-01", "unknown"]),
            "screening": st.sampled_from(["2025-06-02", None]),
        }
    ),
    max_size=12,
)


def _build(spec: dict[str, Any], number: int) -> dict[str, Any]:
    record: dict[str, Any] = {"id": f"H{number}", "facts": {}, "labs": []}
    if spec["born"]:
        record["birth_date"] = spec["born"]
    if spec["screening"]:
        record["anchors"] = {"screening": spec["screening"]}
    if spec["ecog"] is not None:
        record["facts"]["ECOG"] = spec["ecog"]
    if spec["anc"] is not None:
        value = spec["anc"] * 1000 if spec["unit"] == "/uL" else spec["anc"]
        record["labs"].append({"name": "ANC", "value": value, "unit": spec["unit"]})
    if spec["vaccine"] == "unknown":
        pass  # no events section: the exclusion is unknown
    elif spec["vaccine"]:
        record["events"] = [{"name": "live_vaccine", "start": spec["vaccine"]}]
    else:
        record["events"] = []
    return record


@given(_RECORDS)
def test_screen_agrees_with_evaluate_and_the_funnel_never_grows(
    specs: list[dict[str, Any]],
) -> None:
    trial = _property_trial()
    records = [_build(spec, number) for number, spec in enumerate(specs)]
    result = screen(trial, records)
    assert len(result.rows) == len(records)
    for row, record in zip(result.rows, records, strict=True):
        evaluated = trial.evaluate(record)
        assert row.verdict is evaluated.verdict
        assert row.outcomes == evaluated.outcomes
        assert row.missing == (evaluated.missing if Outcome.UNKNOWN in evaluated.outcomes else ())
    remaining = [step.remaining for step in result.funnel]
    assert remaining == sorted(remaining, reverse=True)
    check_funnel(result)


_TRIAL: list[Trial] = []


def _property_trial() -> Trial:
    if not _TRIAL:
        _TRIAL.append(parse(CRITERIA, "demo.crit"))
    return _TRIAL[0]
