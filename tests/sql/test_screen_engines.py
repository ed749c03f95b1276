"""``critlang screen --engine duckdb`` (and the plumbing of ``--engine postgres``) gives what the
in-memory engine gives: every row's verdict, every outcome and what-if verdict, the funnel, the
per-criterion counts, the deciding criteria and the what-ifs; over staged records also what is
missing and the near misses. The in-memory engine is the reference: no outcome is written here.

Inputs: the example trials over their example records, the Synthea FHIR and OMOP samples of the
shared data, the committed FHIR and OMOP fixtures (broken ones included), broken native inputs,
an OMOP DuckDB file, and generated cohorts (hypothesis)."""

from __future__ import annotations

import copy
import datetime
import json
import shutil
import tarfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import critlang
import critlang.sql
from critlang.cli import main
from critlang.screen import ScreenResult
from critlang.sql.runner import SqlRow
from critlang.sql.staging import Staging, decimal_text
from critlang.trial import Trial, as_record, parse
from tests.conftest import FIXTURES, ROOT, extract_synthea_omop, shared_data
from tests.test_differential import altered
from tests.test_screen import _RECORDS, CRITERIA, _build

EXAMPLES = sorted((ROOT / "examples").glob("*.crit"))
ONCOLOGY = ROOT / "examples" / "synthea" / "oncology.crit"
OMOP_VALID = FIXTURES / "omop" / "valid"
OMOP_BROKEN = FIXTURES / "omop" / "broken"


def assert_same(memory: ScreenResult, sql: ScreenResult) -> None:
    """The SQL engine's result is the in-memory engine's, up to what it says it does not give."""
    assert memory.engine == "memory"
    assert sql.engine in ("duckdb", "postgres")
    assert sql.notes
    assert [row.id for row in sql.rows] == [row.id for row in memory.rows]
    for ours, theirs in zip(sql.rows, memory.rows, strict=True):
        assert (ours.status, ours.outcomes, ours.variants) == (
            theirs.status,
            theirs.outcomes,
            theirs.variants,
        ), ours.id
        assert ours.where == theirs.where
        if sql.details_given:
            assert (ours.missing, ours.problems, ours.error) == (
                theirs.missing,
                theirs.problems,
                theirs.error,
            ), ours.id
            assert ours.near_miss == theirs.near_miss
        else:
            assert (ours.missing, ours.problems) == ((), ())
            assert (ours.error is None) == (theirs.error is None)
            if ours.near_miss is None:
                assert theirs.near_miss is None
            else:
                assert theirs.near_miss is not None
                assert (ours.near_miss.criterion, ours.near_miss.would_be) == (
                    theirs.near_miss.criterion,
                    theirs.near_miss.would_be,
                )
                assert (ours.near_miss.gap, ours.near_miss.explanation) == (None, "")
    assert sql.totals == memory.totals
    assert sql.funnel == memory.funnel
    assert sql.counts == memory.counts
    assert sql.deciding == memory.deciding
    assert sql.what_if == memory.what_if
    assert sql.criteria == memory.criteria
    if sql.details_given:
        assert sql.near_misses == memory.near_misses
        assert sql.unmapped == memory.unmapped
        assert sql.source_error == memory.source_error
    else:
        # without gaps, the near misses are in another order
        assert sorted((m.id, m.criterion, m.would_be.value) for m in sql.near_misses) == sorted(
            (m.id, m.criterion, m.would_be.value) for m in memory.near_misses
        )


def both(trial: Trial, source: Any, **options: Any) -> tuple[ScreenResult, ScreenResult]:
    """``source`` screened by both engines (a list of records is copied for each)."""
    again = copy.deepcopy(source) if isinstance(source, list) else source
    memory = trial.screen(source, **options)
    sql = trial.screen(again, engine="duckdb", **options)
    assert_same(memory, sql)
    return memory, sql


def what_ifs(trial: Trial) -> dict[str, Any]:
    """A relax (one query more) and a drop, on the trial's first inclusion and exclusion."""
    inclusion = next(c.id for c in trial.criteria if c.section == "inclusion" and c.condition)
    exclusions = [c.id for c in trial.criteria if c.section == "exclusion"]
    return {"relax": {inclusion: "age >= 40 years"}, "drop": exclusions[:1]}


# ---- the examples and the real data --------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_records_agree(path: Path) -> None:
    trial = critlang.load(path)
    memory, sql = both(trial, ROOT / "examples" / path.stem / "records", **what_ifs(trial))
    assert memory.totals["total"] >= 10
    assert sql.details_given
    assert "staged into an in-memory DuckDB database" in sql.notes[0]
    assert not any("screened in memory" in note for note in sql.notes)  # every record in SQL


@pytest.fixture(scope="module")
def synthea_fhir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = shared_data("fhir-synthea-r4", "synthea-r4-75-patients.tgz")
    target = tmp_path_factory.mktemp("engine-fhir")
    with tarfile.open(archive) as bundle:
        bundle.extractall(target, filter="data")
    folders = [item for item in target.iterdir() if item.is_dir()]
    return folders[0] if len(folders) == 1 else target


@pytest.fixture(scope="module")
def synthea_omop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_synthea_omop(tmp_path_factory.mktemp("engine-omop"))


SYNTHEA_WHAT_IF = {"relax": {"I3": "hemoglobin >= 11 g/dL"}, "drop": ["E1"]}


def test_synthea_fhir_agrees(synthea_fhir: Path) -> None:
    trial = critlang.load(ONCOLOGY)
    memory, _ = both(trial, synthea_fhir, as_of="2020-01-01", **SYNTHEA_WHAT_IF)
    assert memory.totals["total"] == 75
    assert memory.unmapped  # the FHIR reader's tally, the same on both
    assert {row.status for row in memory.rows} >= {"ineligible", "undetermined"}


def test_synthea_omop_agrees(synthea_omop: Path) -> None:
    trial = critlang.load(ONCOLOGY)
    memory, sql = both(trial, synthea_omop, as_of="2020-01-01", **SYNTHEA_WHAT_IF)
    assert memory.totals["total"] == 28
    assert not sql.details_given
    assert sql.unmapped == {}
    assert any("not given by the SQL engine" in note for note in sql.notes)
    assert any(row.missing for row in memory.rows)


# ---- the fixtures, broken ones included ----------------------------------------------------------


# (tests/sql/test_omop_exports.py compares every example trial's query on this fixture)
@pytest.mark.parametrize(
    "path", [ROOT / "examples" / "c-car031-hcc.crit", ONCOLOGY], ids=lambda path: path.stem
)
def test_omop_fixture_agrees(path: Path) -> None:
    trial = critlang.load(path)
    both(trial, OMOP_VALID, as_of="2025-06-02", **what_ifs(trial))


def test_broken_omop_fixture_agrees() -> None:
    memory, sql = both(critlang.load(ONCOLOGY), OMOP_BROKEN, as_of="2020-01-01")
    errors = [row for row in sql.rows if row.verdict is None]
    # person_ids that are not whole numbers (or empty), and one on rows that disagree
    assert {row.id for row in errors} == {"abc", "(no person_id)", "2"}
    assert sql.totals["error"] == memory.totals["error"] == len(errors)


def test_an_omop_duckdb_file_in_a_schema(tmp_path: Path) -> None:
    database = tmp_path / "export.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE SCHEMA cdm")
        for file in sorted(OMOP_VALID.glob("*.csv")):
            connection.execute(
                f"CREATE TABLE cdm.{file.stem.lower()} AS SELECT * FROM read_csv(?, header = true)",
                [str(file)],
            )
    trial = critlang.load(ROOT / "examples" / "th027-solid-tumors.crit")
    memory, sql = both(trial, database, as_of="2025-06-02", **what_ifs(trial))
    assert memory.totals["total"] == 4
    assert str(database) in sql.notes[0]
    named = trial.screen(database, as_of="2025-06-02", engine="duckdb", schema="cdm")
    assert [row.outcomes for row in named.rows] == [row.outcomes for row in sql.rows]


@pytest.mark.parametrize(
    "path",
    [FIXTURES / "fhir" / "valid.json", FIXTURES / "fhir" / "ndjson", FIXTURES / "fhir" / "broken"],
    ids=lambda path: path.name,
)
def test_fhir_fixtures_agree(path: Path) -> None:
    memory, _ = both(critlang.load(ONCOLOGY), path, as_of="2020-01-01")
    if path.name == "broken":
        assert memory.totals["error"] >= 5


@pytest.fixture(scope="module")
def demo() -> Trial:
    return parse(CRITERIA, "demo.crit")


def patient(identifier: str, **more: Any) -> dict[str, Any]:
    return {
        "id": identifier,
        "birth_date": "1960-01-01",
        "anchors": {"screening": "2025-06-02"},
        "facts": {"ECOG": 1},
        "labs": [{"name": "ANC", "value": 2.0, "unit": "10*9/L", "date": "2025-05-30"}],
        "events": [],
        **more,
    }


def test_broken_json_lines_agree(demo: Trial, tmp_path: Path) -> None:
    lines = [
        json.dumps(patient("P1")),
        '{"id": "P2", "labs": [{"name": "ANC", "val',  # truncated
        json.dumps(patient("P3", labs=[{"name": "ANC", "value": 2, "unit": "bananas"}])),
        json.dumps(patient("P4", labs="not a list")),
        json.dumps(patient("P1")),  # a duplicate id
        json.dumps(patient("P5", facts={"ECOG": 3})),
    ]
    path = tmp_path / "cohort.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    _, sql = both(demo, path, drop=["E1"])
    assert [row.status for row in sql.rows] == [
        "eligible",
        "error",
        "undetermined",
        "error",
        "error",
        "ineligible",
    ]
    assert sql.rows[2].problems  # the unit left out, said on the row
    assert "duplicate id 'P1'" in (sql.rows[4].error or "")


def test_broken_csv_agrees(demo: Trial, tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text(
        "id,birth_date,screening,ANC [10*9/L],ECOG,live_vaccine\n"
        "C1,1960-01-01,2025-06-02,2.0,1,\n"
        "C2,1960-01-01,2025-06-02,2.0\n"  # too few cells
        "C3,1960-01-01,,2.0,1,2025-05-20\n"
        "C4,not-a-date,2025-06-03,0.9,1,2025-05-20\n"
        "C1,1960-01-01,2025-06-02,2.0,1,\n",
        encoding="utf-8",
    )
    _, sql = both(demo, path)
    assert [row.status for row in sql.rows] == [
        "eligible",
        "error",
        "undetermined",
        "ineligible",
        "error",
    ]


def test_records_in_memory_with_errors_agree(demo: Trial) -> None:
    _, sql = both(demo, [patient("M1"), "{not json", {"labs": "x"}, patient("M2")])
    assert [row.status for row in sql.rows] == ["eligible", "error", "error", "eligible"]


def test_what_the_sql_cannot_screen_exactly_is_screened_in_memory(demo: Trial) -> None:
    precise = patient(
        "M2", labs=[{"name": "ANC", "value": "1.5000000000000000000001", "unit": "10*9/L"}]
    )
    _, sql = both(demo, [patient("M1"), precise], relax={"I2": "ANC >= 1.4 x10^9/L"})
    [note] = [note for note in sql.notes if "screened in memory" in note]
    assert note.startswith("1 patient screened in memory")
    assert "M2" in note
    assert "18 decimal places" in note


def test_staged_results_of_one_day_in_record_order() -> None:
    """Results of one lab on one day: the last in the record is the latest, the first the
    earliest, as the reader orders them (the staged query takes a row's place from its id)."""
    trial = parse(
        "inclusion\n"
        '  I1 "Latest": latest(hemoglobin) >= 12 g/dL\n'
        '  I2 "Earliest": earliest(hemoglobin) >= 12 g/dL\n'
        '  I3 "Latest platelets": latest(platelets) >= 100 x10^9/L\n',
        "ties.crit",
    )

    def record(identifier: str, values: list[int]) -> dict[str, Any]:
        labs = [
            {"name": "hemoglobin", "value": value, "unit": "g/dL", "date": "2025-05-20"}
            for value in values
        ]
        labs.insert(1, {"name": "platelets", "value": 150, "unit": "10*9/L", "date": "2025-05-20"})
        return {"id": identifier, "anchors": {"screening": "2025-06-02"}, "labs": labs}

    records = [record("A", [10, 13, 11]), record("B", [13, 10]), record("C", [11, 12, 13])]
    memory, _ = both(trial, records)
    outcomes = {row.id: [outcome.value for outcome in row.outcomes] for row in memory.rows}
    assert outcomes["A"][:2] == ["not_met", "not_met"]  # latest 11, earliest 10
    assert outcomes["B"][:2] == ["not_met", "met"]
    assert outcomes["C"][:2] == ["met", "not_met"]


def test_decimal_text() -> None:
    assert decimal_text(Fraction(3, 2)) == "1.5"
    assert decimal_text(Fraction(-1, 8)) == "-0.125"
    assert decimal_text(Fraction(42)) == "42"
    assert decimal_text(Fraction(1, 3)) is None
    assert decimal_text(Fraction(10**15)) is None
    assert decimal_text(Fraction(1, 10**18)) == "0.000000000000000001"


# ---- generated cohorts ---------------------------------------------------------------------------

_FEW = max(3, settings().max_examples // 15)


@settings(max_examples=_FEW)
@given(_RECORDS.filter(bool))
def test_generated_demo_cohorts_agree(specs: list[dict[str, Any]]) -> None:
    trial = _demo_trial()
    both(trial, [_build(spec, number) for number, spec in enumerate(specs)], drop=["E1"])


_TRIALS: dict[str, Trial] = {}


def _demo_trial() -> Trial:
    if "demo" not in _TRIALS:
        _TRIALS["demo"] = parse(CRITERIA, "demo.crit")
    return _TRIALS["demo"]


@settings(max_examples=_FEW)
@given(st.lists(altered("c-car031-hcc"), min_size=1, max_size=4))
def test_altered_example_records_agree(records: list[dict[str, Any]]) -> None:
    if "hcc" not in _TRIALS:
        _TRIALS["hcc"] = critlang.load(ROOT / "examples" / "c-car031-hcc.crit")
    for number, record in enumerate(records):
        record["id"] = f"A{number}"
    both(_TRIALS["hcc"], records)


# Leaves over every kind of fact, lab and occurrence a native record holds.
DECLARATIONS = """
fact deceased "Died": boolean
fact death_date "Date of death": date
fact prior_lines "Prior lines of therapy": integer
"""
LEAVES = [
    "age >= 50 years",
    "age in 18..75 years",
    "age_at(consent) < 70 years",
    "sex = female",
    "sex in {male, other}",
    "sex is known",
    "ECOG <= 1",
    "ECOG in 0..2",
    "ECOG is missing",
    "histologic_confirmation",
    "not histologic_confirmation",
    "sclc_stage = extensive",
    "sclc_stage in {limited}",
    "weight >= 60 kg",
    "weight is known",
    "life_expectancy >= 12 weeks",
    "prior_lines >= 2",
    "deceased",
    "death_date < 2024-06-01",
    "ANC >= 1.5 x10^9/L",
    "hemoglobin >= 9 g/dL within 30 days before screening",
    "hemoglobin > 95 g/L",
    "max(platelets) >= 100 x10^9/L",
    "any(hemoglobin) < 8 g/dL",
    "ALT <= 3 x ULN",
    "count(hemoglobin) >= 2",
    "HBsAg = negative",
    "HBsAg in {positive}",
    "lung_cancer",
    "lung_cancer within 1 year before screening",
    "malignancy within 3 years before screening except basal_cell_carcinoma",
    "diagnosis in {ICD10:C34*}",
    "lung_cancer is missing",
    "chemotherapy within 4 weeks before screening",
    "chemotherapy at least 2 weeks before screening",
    "chemotherapy is known",
    "count(chemotherapy) >= 1",
]
DAYS = ["2024-06-15", "2024-06-01", "2024-05-20", "2023-12-01", "2024-07-01", None]
FACT_VALUES: dict[str, list[Any]] = {
    "ECOG": [0, 1, 2, 3, 1.5, "1"],
    "performance_status": [0, 2],  # ECOG's alias
    "histologic_confirmation": [True, False, "yes"],
    "sclc_stage": ["extensive", "limited", "Extensive", "unknown"],
    "weight": ["70 kg", "150 [lb_av]", 55, "60.5 kg"],
    "life_expectancy": ["16 wk", "2 mo", "8 wk", 12],
    "prior_lines": [1, 2, 3, 2.5],
    "deceased": [True, False],
    "death_date": ["2024-01-01", "2024-07-01"],
    "ANC": ["1.8 10*9/L", "900 /uL", 2],
    "unlisted_fact": [1, "x"],
}
LABS: dict[str, list[tuple[Any, str | None]]] = {
    "hemoglobin": [(7.5, "g/dL"), (12, "g/dL"), (100, "g/L"), (85, "g/L"), (9, None)],
    "LOINC:718-7": [(8.5, "g/dL"), (130, "g/L")],
    "platelets": [(150, "10*9/L"), (80000, "/uL"), (90, "10*9/L")],
    "ALT": [(30, "U/L"), (130, "U/L"), (45, "[IU]/L")],
    "HBsAg": [("negative", None), ("positive", None)],
    "ANC": [(1.2, "10*9/L"), (2500, "/uL")],
}
CONDITIONS = [
    "lung_cancer",
    "ICD10:C34.1",
    "ICD10:C44.91",
    "basal_cell_carcinoma",
    "SNOMED:254637007",
]
STATUSES = [None, "active", "resolved", "Remission"]


@st.composite
def lab_entries(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(st.sampled_from(sorted(LABS)))
    value, unit = draw(st.sampled_from(LABS[key]))
    entry: dict[str, Any] = {"code" if ":" in key else "name": key, "value": value}
    if unit is not None:
        entry["unit"] = unit
    if (day := draw(st.sampled_from(DAYS))) is not None:
        entry["date"] = day
    if key == "ALT" and draw(st.booleans()):
        entry["high"] = draw(st.sampled_from([40, 35]))
    return entry


@st.composite
def occurrences(draw: st.DrawFn, names: list[str]) -> dict[str, Any]:
    key = draw(st.sampled_from(names))
    entry: dict[str, Any] = {"code" if ":" in key else "name": key}
    start, end = draw(st.sampled_from(DAYS)), draw(st.sampled_from([None, *DAYS]))
    if start is not None:
        entry["start"] = start
        if end is not None and end >= start:
            entry["end"] = end
    if (status := draw(st.sampled_from(STATUSES))) is not None:
        entry["status"] = status
    return entry


@st.composite
def native_records(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One to four records with any of the fields a native record has (few anchor dates, so
    that the records fall in few groups)."""
    records = []
    for number in range(draw(st.integers(1, 4))):
        record: dict[str, Any] = {"id": f"N{number}"}
        born = draw(st.sampled_from([None, "1950-03-01", "1990-07-15", "2010-01-01"]))
        if born is not None:
            record["birth_date"] = born
        elif draw(st.booleans()):
            record["age"] = draw(st.sampled_from([45, 70, 17.5]))
        if (
            sex := draw(st.sampled_from([None, "female", "male", "Female", "other", "x"]))
        ) is not None:
            record["sex"] = sex
        anchors = {}
        if draw(st.integers(0, 7)):
            anchors["screening"] = "2024-06-15"
        if draw(st.integers(0, 2)) == 0:
            anchors["consent"] = "2024-06-01"
        record["anchors"] = anchors
        record["facts"] = {
            name: draw(st.sampled_from(values))
            for name, values in FACT_VALUES.items()
            if draw(st.integers(0, 2)) == 0
        }
        record["labs"] = draw(st.lists(lab_entries(), max_size=5))
        if draw(st.integers(0, 7)):
            record["conditions"] = draw(st.lists(occurrences(CONDITIONS), max_size=3))
        if draw(st.integers(0, 7)):
            record["events"] = draw(
                st.lists(occurrences(["chemotherapy", "ATC:L01XA01", "live_vaccine"]), max_size=3)
            )
        records.append(record)
    return records


def expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, inner).map(lambda pair: f"({pair[0]}) and ({pair[1]})"),
            st.tuples(inner, inner).map(lambda pair: f"({pair[0]}) or ({pair[1]})"),
            inner.map(lambda item: f"not ({item})"),
        )

    return st.recursive(st.sampled_from(LEAVES), extend, max_leaves=3)


@st.composite
def trials(draw: st.DrawFn) -> str:
    inclusions = draw(st.lists(expressions(), min_size=1, max_size=3))
    exclusions = draw(st.lists(expressions(), max_size=2))
    lines = [DECLARATIONS, "inclusion"]
    lines += [f'  I{n} "inclusion {n}": {text}' for n, text in enumerate(inclusions, 1)]
    if exclusions:
        lines.append("exclusion")
        lines += [f'  E{n} "exclusion {n}": {text}' for n, text in enumerate(exclusions, 1)]
    return "\n".join(lines) + "\n"


def test_every_leaf_compiles_to_sql() -> None:
    criteria = "".join(f'  I{n} "leaf": {leaf}\n' for n, leaf in enumerate(LEAVES, 1))
    trial = parse(f"{DECLARATIONS}inclusion\n{criteria}")
    query = critlang.sql.compile_query(trial, as_of="2024-06-15")
    assert len(query.selects) == 2 + len(LEAVES)


@settings(max_examples=_FEW * 2)
@given(text=trials(), records=native_records(), relax=st.sampled_from([None, *LEAVES]))
def test_generated_native_cohorts_agree(
    text: str, records: list[dict[str, Any]], relax: str | None
) -> None:
    trial = parse(text)
    changes = {} if relax is None else {"relax": {"I1": relax}}
    both(trial, records, **changes)


# ---- staging -------------------------------------------------------------------------------------


def test_records_sharing_the_dates_the_criteria_use_share_a_query() -> None:
    trial = parse('inclusion\n  I1 "x": ANC >= 1.5 x10^9/L\n')
    record = as_record(patient("S1"))  # ANC 2.0 on 2025-05-30
    with Staging([trial], trial.dictionary) as staging:
        day = datetime.date(2025, 6, 2)
        for key, anchors in enumerate(
            [
                {"screening": day},
                {"screening": day, "treatment": datetime.date(2025, 7, 1)},  # not used
                {"screening": datetime.date(2025, 5, 1)},  # before the result
                {},  # no screening date: every result counts
            ]
        ):
            assert staging.add(key, record, anchors) is None
        assert staging.queries == 3
        rows = staging.run(trial)
    assert sorted(rows) == [0, 1, 2, 3]
    assert [rows[key].outcomes for key in range(4)] == [("met",), ("met",), ("unknown",), ("met",)]


# ---- the command line, and the engines' errors --------------------------------------------------


def test_cli_duckdb_engine_writes_what_the_memory_engine_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    criteria = ROOT / "examples" / "c-car031-hcc.crit"
    records = ROOT / "examples" / "c-car031-hcc" / "records"
    outputs = {}
    for engine in ("memory", "duckdb"):
        out = tmp_path / f"{engine}.jsonl"
        report = tmp_path / f"{engine}.html"
        code = main(
            ["screen", str(criteria), str(records), "--engine", engine, "--out", str(out),
             "--report", str(report), "--no-progress"]
        )  # fmt: skip
        assert code == 0
        outputs[engine] = [
            json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()
        ]
        printed = capsys.readouterr().out
        assert ("engine duckdb:" in printed) == (engine == "duckdb")
        assert ("Screened by the duckdb engine" in report.read_text(encoding="utf-8")) == (
            engine == "duckdb"
        )
    assert outputs["duckdb"] == outputs["memory"]


def test_cli_duckdb_engine_over_omop_says_what_it_does_not_give(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rows.csv"
    jsonl = tmp_path / "rows.jsonl"
    args = ["screen", str(ONCOLOGY), str(OMOP_VALID), "--as-of", "2025-06-02", "--no-progress"]
    assert main([*args, "--engine", "duckdb", "--out", str(out)]) == 0
    assert "not given by the SQL engine" in capsys.readouterr().out
    assert main([*args, "--engine", "duckdb", "--out", str(jsonl)]) == 0
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert rows
    assert all(row["missing"] is None and row["record_problems"] is None for row in rows)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",")[-2:] == ["missing", "error"]
    assert all(line.split(",")[-2] == "not given" for line in lines[1:])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--engine", "spark"], "engine 'spark': use one of memory, duckdb, postgres"),
        (["--dsn", "postgresql://db/cdm"], "--dsn is for --engine postgres"),
        (["--engine", "duckdb", "--dsn", "postgresql://db/cdm"], "--dsn is for --engine postgres"),
        (["--engine", "postgres"], "--engine postgres needs --dsn"),
        (["--schema", "cdm"], "--schema is for the SQL engines"),
        (["--engine", "duckdb", "--jobs", "2"], "--jobs is for the in-memory engine"),
        (["--engine", "duckdb", "--schema", "cdm"], "--schema is for a database"),
        (["--engine", "postgres", "--dsn", "postgresql://db/cdm"], "give no data path"),
    ],
)
def test_cli_engine_errors_exit_1(
    options: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    criteria = ROOT / "examples" / "c-car031-hcc.crit"
    records = ROOT / "examples" / "c-car031-hcc" / "records"
    assert main(["screen", str(criteria), str(records), *options, "--no-progress"]) == 1
    assert message in capsys.readouterr().err


def test_cli_unsupported_construct_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    criteria = tmp_path / "bmi.crit"
    criteria.write_text('inclusion\n  I1 "BMI": weight / height ^ 2 >= 18.5 kg/m2\n', "utf-8")
    records = tmp_path / "records.json"
    records.write_text(json.dumps([{"id": "x", "facts": {"weight": "70 kg"}}]), "utf-8")
    assert main(["screen", str(criteria), str(records), "--engine", "duckdb"]) == 1
    assert "criterion I1: the SQL backend does not support `weight / height^2`" in (
        capsys.readouterr().err
    )


def test_cli_without_duckdb_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "duckdb", None)
    criteria = ROOT / "examples" / "c-car031-hcc.crit"
    records = ROOT / "examples" / "c-car031-hcc" / "records"
    assert main(["screen", str(criteria), str(records), "--engine", "duckdb"]) == 1
    assert "needs duckdb: pip install 'critlang[sql]'" in capsys.readouterr().err


def test_cli_data_is_needed_but_for_postgres(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["screen", str(ONCOLOGY), "--engine", "duckdb"]) == 2
    assert "give the DATA to screen" in capsys.readouterr().err


# ---- --engine postgres: the plumbing, with a stand-in for critlang.sql.run_postgres ------------


class StandIn:
    """``run_postgres(trial, dsn, *, as_of, anchors, schema)``: the rows of the OMOP fixture
    (run by DuckDB), and the calls it had."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(
        self,
        trial: Trial,
        dsn: str,
        *,
        as_of: datetime.date | str | None = None,
        anchors: dict[str, Any] | None = None,
        schema: str | None = None,
    ) -> list[SqlRow]:
        self.calls.append((len(trial.criteria), dsn, as_of, anchors, schema))
        return critlang.sql.run_duckdb(trial, OMOP_VALID, as_of, anchors=anchors)


def test_postgres_engine_runs_run_postgres(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stand_in = StandIn()
    monkeypatch.setattr(critlang.sql, "run_postgres", stand_in, raising=False)
    trial = critlang.load(ONCOLOGY)
    options: dict[str, Any] = {
        "as_of": "2025-06-02",
        "anchors": {"treatment": "2025-07-01"},
        "relax": {"I3": "hemoglobin >= 11 g/dL"},
        "drop": ["E1"],
    }
    sql = trial.screen(None, engine="postgres", dsn="postgresql://db/cdm", schema="cdm", **options)
    assert_same(trial.screen(OMOP_VALID, **options), sql)
    assert sql.engine == "postgres"
    day, treatment = datetime.date(2025, 6, 2), {"treatment": datetime.date(2025, 7, 1)}
    # the trial, then the relaxed criterion alone (a dropped one needs no query)
    assert stand_in.calls == [
        (len(trial.criteria), "postgresql://db/cdm", day, treatment, "cdm"),
        (1, "postgresql://db/cdm", day, treatment, "cdm"),
    ]
    code = main(
        ["screen", str(ONCOLOGY), "--engine", "postgres", "--dsn", "postgresql://db/cdm",
         "--schema", "cdm", "--as-of", "2025-06-02", "--no-progress"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "engine postgres:" in printed
    assert "postgresql://db/cdm" not in printed  # a DSN may hold a password: never printed


def test_postgres_engine_without_run_postgres(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delattr(critlang.sql, "run_postgres", raising=False)
    code = main(["screen", str(ONCOLOGY), "--engine", "postgres", "--dsn", "postgresql://db/x"])
    assert code == 1
    assert "no PostgreSQL runner (critlang.sql.run_postgres)" in capsys.readouterr().err


def test_postgres_engine_without_psycopg(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def without_psycopg(*_: object, **__: object) -> list[SqlRow]:
        raise ModuleNotFoundError("No module named 'psycopg'")

    monkeypatch.setattr(critlang.sql, "run_postgres", without_psycopg, raising=False)
    code = main(["screen", str(ONCOLOGY), "--engine", "postgres", "--dsn", "postgresql://db/x"])
    assert code == 1
    assert "needs psycopg: pip install 'critlang[postgres]'" in capsys.readouterr().err


def test_engine_through_the_screen_function(tmp_path: Path) -> None:
    from critlang.screen import screen

    trial = critlang.load(ROOT / "examples" / "th027-solid-tumors.crit")
    folder = tmp_path / "records"
    shutil.copytree(ROOT / "examples" / "th027-solid-tumors" / "records", folder)
    assert_same(screen(trial, folder), screen(trial, folder, engine="duckdb"))
    with pytest.raises(critlang.CritlangError, match="no patients to screen"):
        screen(trial, None)
