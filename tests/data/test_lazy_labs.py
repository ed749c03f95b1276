"""Records read lazily (``read_record(data, lazy=True)``, what ``critlang screen`` reads) evaluate
exactly as records read whole: the same verdict, outcomes, reasons and evidence, on the examples
and on generated records. Their problems are the whole record's, less those of lab entries no
criterion reads; once every result is asked for (``record.labs``), all of them."""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

import critlang
import critlang.data.record as record_module
from critlang.data.jsontext import decode
from critlang.data.record import Record, decode_plain, read_record
from critlang.errors import RecordError
from critlang.lint.walk import walk_ir
from critlang.semantics import ir
from tests.conftest import ROOT
from tests.dictionary import trial as make_trial

CRITERIA = """\
inclusion
  I1: ANC >= 1.5 x10^9/L
  I2: hemoglobin > 9 g/dL within 30 days before screening and ANC < 20 x10^9/L
  I3: max(ANC within 60 days before screening) >= 1 x10^9/L
  I4: count(hemoglobin) >= 2 or earliest(hemoglobin) < 12 g/dL
  I5: pregnancy_test = negative
  I6: creatinine <= 1.5 mg/dL or ALT <= 3 x ULN
  I7: any(ANC) < 1 x10^9/L or all(hemoglobin within 1 year before screening) > 8 g/dL
  I8: min(creatinine) < 2 mg/dL and latest(hemoglobin) is known
  I9: earliest(ANC within 2 weeks before treatment) > 1 x10^9/L
exclusion
  E1: ANC is missing
"""
TRIAL = make_trial(CRITERIA)

_FIELDS: dict[str, list[Any]] = {
    "name": ["ANC", "ANC", "hemoglobin", "creatinine", "ALT", "pregnancy_test", "platelets",
             "bilirubin", "unknown_lab", " ANC", "", 3, None],
    "code": [None, None, None, "LOINC:751-8", "LOINC:777-3", "LOINC:718-7", "LOINC:0000-0", ""],
    "value": [1, 2, 0, 1500, 12, 250, Decimal("1.8"), Decimal("0.9"), Decimal("13.5"), "negative",
              "positive", "1.8", " 2", "nan", True, None, 1.5, Decimal("NaN"), [], "Negative"],
    "unit": [None, "10*9/L", "10*9/L", "/uL", "g/dL", "g/L", "mg/dL", "umol/L", "U/L", "IU/L",
             "m", " g/dL", "", "bananas", 5],
    "date": ["2025-05-30", "2025-05-20", "2025-06-10", "2025-03-01", "2024-01-01", None, None,
             "0001-01-01",
             "2025-02-30", "2025-05-30T10:00:00Z", "30/05/2025", 20250530, ""],
    "low": [None, None, 1, Decimal("0.5"), "x"],
    "high": [None, None, 40, Decimal("1.2"), "40", Decimal("NaN")],
}  # fmt: skip
_LAB = st.fixed_dictionaries(
    {}, optional={key: st.sampled_from(values) for key, values in _FIELDS.items()}
)
_ENTRY = st.one_of(_LAB, _LAB, _LAB, st.sampled_from(["ANC", None, [], 4]))


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "P",
        "anchors": {"screening": "2025-06-02", "treatment": "2025-06-20"},
        "labs": draw(st.lists(_ENTRY, max_size=10)),
    }
    if draw(st.booleans()):  # problems before and after the labs' in the record's order
        data["birth_date"] = draw(st.sampled_from(["1960-01-01", "1960-02-30"]))
        data["facts"] = {"ECOG": draw(st.sampled_from([1, "one"]))}
        data["events"] = [{"name": "live_vaccine", "start": "2025-13-01"}]
    if draw(st.integers(0, 5)) == 0:  # a fact of a lab's name: an undated result
        data.setdefault("facts", {})["ANC"] = draw(st.sampled_from(["1.8 10*9/L", "2"]))
    return data


def _lab_names(trial: critlang.Trial) -> set[str]:
    return {
        node.variable.name
        for criterion in trial.criteria
        if criterion.condition is not None
        for node in walk_ir(criterion.condition, into_definitions=True)
        if isinstance(node, ir.LabSelection)
    }


def _read(data: object, lazy: bool) -> Record | str:
    try:
        return read_record(data, lazy=lazy)
    except RecordError as error:
        return str(error)


def _criteria(result: Any) -> list[tuple[Any, ...]]:
    return [(c.id, c.outcome, c.reasons, c.evidence) for c in result.criteria]


def _read_problems(trial: critlang.Trial, data: dict[str, Any], eager: Record) -> list[str]:
    """The whole record's problems that a lazy reader must give: all but those of lab entries
    that stand for none of the labs ``trial`` names."""
    named = _lab_names(trial)
    entries = data.get("labs") or []
    kept = []
    for problem in eager.problems:
        match = re.match(r"labs\[(\d+)\]", problem)
        if match is not None:
            entry = entries[int(match.group(1))]
            if not isinstance(entry, dict):
                continue  # no name, no code: no lab reads it
            name, code = (
                value.strip() or None if isinstance(value, str) else None
                for value in (entry.get("name"), entry.get("code"))
            )
            if named.isdisjoint(trial.dictionary.entry_names(name, code)):
                continue  # an entry no criterion reads: its problems may go unreported
        kept.append(problem)
    return kept


def _is_subsequence(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    items = iter(long)
    return all(any(item == wanted for item in items) for wanted in short)


def assert_same(trial: critlang.Trial, data: dict[str, Any]) -> None:
    eager, lazy = _read(data, False), _read(data, True)
    if isinstance(eager, str) or isinstance(lazy, str):
        assert lazy == eager  # a record that cannot be read: the same error
        return
    for evidence in (False, True):
        found = trial.evaluate(lazy, evidence=evidence)
        expected = trial.evaluate(eager, evidence=evidence)
        assert found.verdict is expected.verdict
        assert _criteria(found) == _criteria(expected)
        # Nothing lost for what the criteria read; nothing else but what the whole record has.
        assert _is_subsequence(found.record_problems, expected.record_problems)
        for problem in _read_problems(trial, data, eager):
            assert problem in found.record_problems, (problem, found.record_problems)
    assert lazy.labs == eager.labs  # asked for them all: all read, with all their problems
    assert lazy.problems == eager.problems


@settings(max_examples=150)
@given(records())
def test_lazy_records_evaluate_as_whole_ones(data: dict[str, Any]) -> None:
    assert_same(TRIAL, data)


EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.crit")), ids=lambda path: path.stem)
def test_the_examples_evaluate_alike_read_lazily(path: Path) -> None:
    trial = critlang.load(path)
    for records_path in sorted((EXAMPLES / path.stem / "records").glob("*.json")):
        data = json.loads(records_path.read_text(encoding="utf-8"))
        assert_same(trial, data)
        # ... and under the other example trials, which read other labs
        assert_same(TRIAL, data)


def test_a_lab_entry_no_criterion_reads_is_not_checked() -> None:
    data = {
        "id": "P",
        "anchors": {"screening": "2025-06-02"},
        "labs": [
            {"name": "ANC", "value": 2, "unit": "10*9/L", "date": "2025-05-30"},
            {"name": "platelets", "value": None, "unit": "10*9/L", "date": "2025-05-30"},
            {"name": "ANC", "value": 1, "unit": "bananas", "date": "2025-05-01"},
        ],
    }
    record = read_record(data, lazy=True)
    assert record.problems == ()
    result = make_trial("inclusion\n  I1: ANC >= 1.5 x10^9/L\n").evaluate(record, evidence=False)
    assert result.criterion("I1").outcome is critlang.Outcome.MET
    # Every ANC entry is read, the one not chosen too; platelets are never asked for.
    assert result.record_problems == (
        "labs[2].unit: unit 'bananas' cannot be read (unknown unit `bananas`)",
    )
    assert len(record.labs) == 1  # all asked for: all read
    assert record.problems == read_record(data).problems
    assert len(record.problems) == 2


def test_the_labs_of_a_criterion_not_needed_are_read_all_the_same() -> None:
    # `a and b` with a false: b's lab is not evaluated, but its entries' problems are known.
    data = {
        "id": "P",
        "anchors": {"screening": "2025-06-02"},
        "labs": [
            {"name": "ANC", "value": 1, "unit": "10*9/L", "date": "2025-05-30"},
            {"name": "hemoglobin", "value": 10, "unit": "bananas", "date": "2025-05-30"},
        ],
    }
    trial = make_trial("inclusion\n  I1: ANC >= 1.5 x10^9/L and hemoglobin > 9 g/dL\n")
    result = trial.evaluate(read_record(data, lazy=True), evidence=False)
    assert result.criterion("I1").outcome is critlang.Outcome.NOT_MET
    assert result.record_problems == read_record(data).problems != ()


@settings(max_examples=25)
@given(st.lists(records(), min_size=1, max_size=6))
def test_a_screen_reads_lazily_and_loses_nothing_it_reads(cohort: list[dict[str, Any]]) -> None:
    import tempfile

    lines = [
        json.dumps(data | {"id": f"P{n}"}, default=_json_number) for n, data in enumerate(cohort)
    ]
    # Records that cannot be read at all stay rows, with the reason.
    lines += ['"not an object"', '{"id": "B", "labs": {"ANC": 1}}', '{"id": "T", "labs": [']
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cohort.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        screened = TRIAL.screen(path)
    assert len(screened.rows) == len(lines)
    assert [row.status for row in screened.rows[len(cohort) :]] == ["error"] * 3
    for line, row in zip(lines[: len(cohort)], screened.rows, strict=False):
        data = json.loads(line, parse_float=Decimal)
        eager = _read(data, False)
        if isinstance(eager, str):
            assert row.status == "error"
            continue
        expected = TRIAL.evaluate(eager, evidence=False)
        assert row.verdict is expected.verdict
        assert row.outcomes == expected.outcomes
        assert row.missing == expected.missing
        assert _is_subsequence(row.problems, eager.problems)
        for problem in _read_problems(TRIAL, data, eager):
            assert problem in row.problems


def _json_number(value: Any) -> Any:  # as JSON text: 1.8 is read back as Decimal("1.8")
    return float(value) if value.is_finite() else str(value)


def _typed_entry(entry: object) -> bool:
    """Whether decode_plain takes a lab entry: an object _plain_lab takes, its date (if any)
    written YYYY-MM-DD."""
    return (
        isinstance(entry, dict)
        and record_module._plain_lab(entry, "labs[0]") is not None
        and (
            entry.get("date") is None
            or re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["date"]) is not None
        )
    )


def _takes_typed(data: dict[str, Any]) -> bool:
    """Whether decode_plain should take the record: only known fields, every lab entry typed."""
    labs = data.get("labs")
    return set(data) <= record_module._RECORD_KEYS and (
        labs is None or (isinstance(labs, list) and all(_typed_entry(entry) for entry in labs))
    )


_EVERY_FIELD = {
    "id": "P",
    "anchors": {"screening": "2025-06-02"},
    "labs": [
        {"name": "creatinine", "code": "LOINC:2160-0", "value": Decimal("1.1"), "unit": "mg/dL",
         "date": "2025-05-30", "low": Decimal("0.6"), "high": Decimal("1.2")},
        {"name": "pregnancy_test", "value": "negative", "date": "2025-05-31"},
    ],
}  # fmt: skip


@settings(max_examples=150)
@given(records(), st.integers(0, 3), st.booleans(), st.integers(0, 4))
@example(_EVERY_FIELD, 1, False, 1)
def test_records_decoded_typed_read_as_records_decoded_whole(
    data: dict[str, Any], plain_only: int, extra_entry_field: bool, extra_record_field: int
) -> None:
    # The screen's reader decodes a plain record's labs into typed entries (decode_plain): what
    # it reads must be what the record decoded whole reads, lazily, to the last problem.
    data = copy.deepcopy(data)  # an @example's is shared between runs
    if plain_only:  # most records of a real cohort: three times in four
        data["labs"] = [entry for entry in data["labs"] if _typed_entry(entry)]
    if extra_entry_field and data["labs"] and isinstance(data["labs"][0], dict):
        data["labs"][0]["comment"] = "ignored, as by the general path"
    if extra_record_field == 0:
        data["nickname"] = "an unknown field: reported, so decoded whole"
    text = json.dumps(data, default=_json_number)
    typed, whole = decode_plain(text), decode(text)
    assert (typed is not None) == _takes_typed(whole)
    event("decoded typed" if typed is not None else "decoded whole")
    if typed is None:
        return
    fast, expected = read_record(typed, lazy=True), read_record(whole, lazy=True)
    if fast.pending_labs is not None:  # grouped alike; each group's dates alike
        groups, wanted_groups = fast.pending_labs.groups, expected.pending_labs.groups
        assert list(groups) == list(wanted_groups)
        for key in groups:
            assert len(groups[key]) == len(wanted_groups[key])
            assert fast.pending_labs.dated([key]) == expected.pending_labs.dated([key])
        assert fast.pending_labs.dated(list(groups)) == expected.pending_labs.dated(list(groups))
    for evidence in (False, True):
        found = TRIAL.evaluate(fast, evidence=evidence)
        wanted = TRIAL.evaluate(expected, evidence=evidence)
        assert (found.verdict, _criteria(found)) == (wanted.verdict, _criteria(wanted))
        assert found.record_problems == wanted.record_problems
    assert fast.labs == expected.labs == read_record(whole).labs
    assert fast.problems == expected.problems


def test_a_screen_tallies_the_units_it_reads(tmp_path: Path) -> None:
    path = tmp_path / "cohort.jsonl"
    labs = [
        {"name": "ANC", "value": 2, "unit": "bananas", "date": "2025-05-30"},
        {"name": "platelets", "value": 200, "unit": "apples", "date": "2025-05-30"},
    ]
    path.write_text(
        json.dumps({"id": "P", "anchors": {"screening": "2025-06-02"}, "labs": labs}) + "\n",
        encoding="utf-8",
    )
    screened = make_trial("inclusion\n  I1: ANC >= 1.5 x10^9/L\n").screen(path)
    assert screened.unmapped.get("unit bananas") == 1
    assert "unit apples" not in screened.unmapped  # a lab no criterion reads


@pytest.mark.parametrize(
    "dates",
    [
        [None, None],
        [None, None, "2025-05-30"],
        ["2025-05-30", None, "2025-05-30", None],
        ["0001-01-01", None, "0001-01-01"],
        [None, "0001-01-01", None],
    ],
)
def test_ties_are_broken_as_a_whole_record_breaks_them(dates: list[str | None]) -> None:
    # latest: the last of the latest-dated; earliest: the first of the earliest (undated ones
    # count as the earliest of all), whichever way the record was read.
    labs = [
        {"name": "ANC", "value": number, "unit": "10*9/L", "date": day}
        for number, day in zip([1, 2, 3, 4], dates, strict=False)
    ]
    data = {"id": "P", "anchors": {"screening": "2025-06-02"}, "labs": labs}
    trial = make_trial(
        "inclusion\n  I1: ANC >= 2 x10^9/L\n  I2: earliest(ANC) >= 2 x10^9/L\n"
        "  I3: ANC <= 3 x10^9/L\n  I4: earliest(ANC) <= 1 x10^9/L\n"
    )
    assert_same(trial, data)


@settings(max_examples=60)
@given(records(), st.sampled_from([criterion.id for criterion in TRIAL.criteria]), st.booleans())
def test_one_criterion_explained_is_that_of_the_whole_evaluation(
    data: dict[str, Any], identifier: str, lazy: bool
) -> None:
    # What a screen explains its near misses with: one criterion, its evidence and all.
    record = _read(data, lazy)
    if isinstance(record, str):
        return  # a record that cannot be read has no criteria to explain
    expected = TRIAL.evaluate(record, "2025-06-02").criterion(identifier)
    assert TRIAL.explain(record, identifier, "2025-06-02") == expected


def test_explaining_a_criterion_the_trial_has_not_says_which_it_has() -> None:
    with pytest.raises(critlang.CritlangError, match=r"no criterion 'I99'.*I1, I2"):
        TRIAL.explain({"id": "P"}, "I99")


_PAIRS = st.tuples(
    st.sampled_from(["ANC", "hemoglobin", "creatinine", "unknown_lab", None]),
    st.sampled_from([None, "LOINC:751-8", "LOINC:718-7", "LOINC:0000-0"]),
).filter(lambda pair: pair != (None, None))


@given(st.lists(st.lists(_PAIRS, unique=True, max_size=6), min_size=1, max_size=4))
def test_a_records_entries_are_grouped_by_variable_once_per_set(
    records: list[list[tuple[str | None, str | None]]],
) -> None:
    # entries_by_name: each record's (name, code) pairs by the variables they stand for, as
    # entry_names says, in the record's order; the same answer for a set seen before.
    dictionary = TRIAL.dictionary
    for pairs in records + records:
        found = dictionary.entries_by_name(tuple(pairs))
        expected: dict[str, list[tuple[str | None, str | None]]] = {}
        for pair in pairs:
            for name in dictionary.entry_names(*pair):
                expected.setdefault(name, []).append(pair)
        assert found == expected


def test_a_lazily_read_record_pickles_with_what_it_has_read(tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "cohort.jsonl"
    labs = [
        {"name": "ANC", "value": 2, "unit": "bananas", "date": "2025-05-30"},
        {"name": "platelets", "value": None, "date": "2025-05-30"},
    ]
    path.write_text(json.dumps({"id": "P", "labs": labs}) + "\n", encoding="utf-8")
    from critlang.data.tabular import JsonLinesSource

    source = JsonLinesSource(path, TRIAL.dictionary, lazy=True)
    [entry] = list(source)
    assert entry.record is not None
    TRIAL.evaluate(entry.record, evidence=False)  # reads ANC: its unit is tallied
    copy = pickle.loads(pickle.dumps(entry.record))
    assert copy.problems == entry.record.problems != ()
    assert copy.labs == entry.record.labs
    assert copy.problems == read_record({"id": "P", "labs": labs}).problems
    assert source.tally.unmapped["unit bananas"] == 1


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.crit")), ids=lambda path: path.stem)
def test_screening_the_examples_lazily_gives_the_rows_of_whole_records(
    path: Path, tmp_path: Path
) -> None:
    trial = critlang.load(path)
    records = [
        json.loads(file.read_text(encoding="utf-8"))
        for file in sorted(EXAMPLES.glob("*/records/*.json"))
    ]
    for number, data in enumerate(records):
        data["id"] = f"R{number}"  # the examples of several trials may share ids
    cohort = tmp_path / "examples.jsonl"
    cohort.write_text("".join(json.dumps(data) + "\n" for data in records), encoding="utf-8")
    first = trial.criteria[0].id
    lazy = trial.screen(cohort, drop=[first])  # read lazily, from the file
    whole = trial.screen(records, drop=[first])  # dicts in memory: read whole
    assert len(lazy.rows) == len(whole.rows) == len(records)
    for found, expected in zip(lazy.rows, whole.rows, strict=True):
        assert (found.id, found.verdict, found.outcomes, found.missing) == (
            expected.id,
            expected.verdict,
            expected.outcomes,
            expected.missing,
        )
        assert (found.variants, found.near_miss) == (expected.variants, expected.near_miss)
        assert _is_subsequence(found.problems, expected.problems)
    assert lazy.totals == whole.totals
    assert lazy.funnel == whole.funnel
