"""The compiled query, run by DuckDB, against the in-memory evaluator over the records critlang's
OMOP reader reads from the same export: the real Synthea export with examples/synthea/oncology.crit,
the OMOP fixture with every example trial, the same fixture as a DuckDB database file, and an
export missing its conditions and events tables. The evaluator is the reference: no outcome is
written here."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import duckdb
import pytest

import critlang
from tests.conftest import FIXTURES, ROOT, extract_synthea_omop
from tests.sql.cohorts import reference_screen, sql_screen

SYNTHEA_AS_OF = datetime.date(2020, 1, 1)
FIXTURE = FIXTURES / "omop" / "valid"
EXAMPLES = [
    *sorted((ROOT / "examples").glob("*.crit")),
    ROOT / "examples" / "synthea" / "oncology.crit",
]


@pytest.fixture(scope="module")
def synthea_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_synthea_omop(tmp_path_factory.mktemp("synthea-sql"))


def test_synthea_oncology_agrees_person_by_person(synthea_folder: Path) -> None:
    trial = critlang.load(ROOT / "examples" / "synthea" / "oncology.crit")
    expected = reference_screen(trial, synthea_folder, SYNTHEA_AS_OF)
    assert len(expected) == 28
    got = sql_screen(trial, synthea_folder, SYNTHEA_AS_OF)
    assert got.keys() == expected.keys()
    for person, reference in expected.items():
        assert got[person] == reference, person


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
@pytest.mark.parametrize("as_of", [datetime.date(2025, 6, 2), datetime.date(2024, 3, 1), None])
def test_example_trials_agree_on_the_fixture(path: Path, as_of: datetime.date | None) -> None:
    trial = critlang.load(path)
    assert sql_screen(trial, FIXTURE, as_of) == reference_screen(trial, FIXTURE, as_of)


def test_a_duckdb_database_file_reads_as_its_csv(tmp_path: Path) -> None:
    database = tmp_path / "export.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE SCHEMA cdm")
        for file in sorted(FIXTURE.glob("*.csv")):
            # typed columns, as a real database has them (sniffed: BIGINT, DATE, DOUBLE …)
            name = file.stem.lower()
            connection.execute(
                f"CREATE TABLE cdm.{name} AS SELECT * FROM read_csv(?, header = true)", [str(file)]
            )
    trial = critlang.load(ROOT / "examples" / "NCT06945523.crit")
    as_of = datetime.date(2025, 6, 2)
    expected = reference_screen(trial, database, as_of)
    assert expected
    assert sql_screen(trial, database, as_of) == expected


def test_an_export_without_conditions_or_events(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(FIXTURE, folder)
    (folder / "CONDITION_OCCURRENCE.csv").unlink()
    (folder / "PROCEDURE_OCCURRENCE.csv").unlink()
    trial = critlang.parse(
        "inclusion\n"
        '  I1 "No cancer": not malignancy\n'
        '  I2 "No chemo": not (chemotherapy within 4 weeks before screening)\n'
        '  I3 "Known": chemotherapy is known\n'
        '  I4 "Either": lung_cancer or chemotherapy within 1 year before screening\n'
    )
    as_of = datetime.date(2025, 6, 2)
    expected = reference_screen(trial, folder, as_of)
    assert sql_screen(trial, folder, as_of) == expected


def test_repeated_and_conflicting_person_rows(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(FIXTURE, folder)
    person = folder / "PERSON.csv"
    lines = person.read_text(encoding="utf-8").splitlines()
    first = next(line for line in lines[1:] if line.startswith("1,"))
    second = next(line for line in lines[1:] if line.startswith("2,"))
    conflicting = second.replace(",8532,", ",8507,")  # person 2 again, with another sex
    person.write_text("\n".join([*lines, first, conflicting]) + "\n", encoding="utf-8")
    trial = critlang.load(ROOT / "examples" / "NCT07480213.crit")
    as_of = datetime.date(2025, 6, 2)
    expected = reference_screen(trial, folder, as_of)
    assert expected[2][0] == "error"  # the reader's own word for it, not this test's
    assert sql_screen(trial, folder, as_of) == expected


def _typed_database(path: Path) -> Path:
    """The fixture as a DuckDB database with typed columns, and measurements whose typed values
    sit at the readings' edges: doubles that are not exact decimals, too small, too large or
    not finite, a DECIMAL, dates out of the calendar's years, negative and repeated ids."""
    database = path / "typed.duckdb"
    with duckdb.connect(str(database)) as connection:
        for file in sorted(FIXTURE.glob("*.csv")):
            connection.execute(
                f"CREATE TABLE {file.stem.lower()} AS SELECT * FROM read_csv(?, header = true)",
                [str(file)],
            )
        connection.execute(
            "ALTER TABLE measurement ALTER value_as_number TYPE DOUBLE;"
            "ALTER TABLE measurement ALTER range_high TYPE DECIMAL(18, 3);"
            "ALTER TABLE measurement ALTER measurement_datetime TYPE TIMESTAMP"
            " USING TRY_CAST(measurement_datetime AS TIMESTAMP)"
        )
        template = connection.execute("SELECT * FROM measurement LIMIT 1").fetchone()
        names = [row[0] for row in connection.execute("DESCRIBE measurement").fetchall()]
        assert template is not None
        edges = [
            (1, 0.1, "2025-05-01"),
            (2, 1e-101, "2025-05-02"),
            (3, 1e-100, "2025-05-03"),
            (4, 1e101, "2025-05-04"),
            (5, float("nan"), "2025-05-05"),
            (6, float("inf"), "2025-05-06"),
            (7, 123456789.123456789, "2025-05-07"),
            (-8, 2.5e19, "2025-05-08"),
            (9, 0.30000000000000004, "-0005-05-09"),
            (9, 7.0, "2025-05-09"),
        ]
        for number, (row_id, value, day) in enumerate(edges):
            row = dict(zip(names, template, strict=True))
            row.update(
                {
                    names[0]: row_id,
                    "value_as_number": value,
                    "measurement_date": day,
                    "measurement_datetime": None,
                    "range_high": 10 + number,
                }
            )
            holes = ", ".join("?" for _ in names)
            connection.execute(f"INSERT INTO measurement VALUES ({holes})", list(row.values()))
    return database


@pytest.mark.parametrize("path", EXAMPLES[:3], ids=lambda path: path.stem)
def test_typed_database_columns_read_as_their_text(path: Path, tmp_path: Path) -> None:
    database = _typed_database(tmp_path)
    trial = critlang.load(path)
    as_of = datetime.date(2025, 6, 2)
    expected = reference_screen(trial, database, as_of)
    assert expected
    assert sql_screen(trial, database, as_of) == expected


def test_run_duckdb_memory_limit_and_spill_folder(tmp_path: Path) -> None:
    from critlang.sql import run_duckdb

    trial = critlang.load(EXAMPLES[0])
    as_of = datetime.date(2025, 6, 2)
    rows = run_duckdb(trial, FIXTURE, as_of, memory_limit="500MB", temp_directory=tmp_path)
    assert {row.person_id: (row.verdict, row.outcomes) for row in rows} == reference_screen(
        trial, FIXTURE, as_of
    )
    with pytest.raises(critlang.CritlangError):
        run_duckdb(trial, FIXTURE, as_of, memory_limit="lots")


# Results of one person on one day whose ids tie in the reader's order but for their text: one
# number written two ways, ids that are not numbers (words, negative, empty, too large), and
# repeated ids; as (id, value, upper limit), chosen so that ordering them by anything but the
# reader's order (by number, ids that are not numbers first, by text; then by cells) picks
# another row for some selector. ``min``/``max`` meet equal values, told apart by their limits.
_TEXT_IDS = [
    ("7", 15, 20),
    ("007", 19, 10),
    ("7", 11, 14),
    ("b", 10, 11),
    ("ab", 16, 12),
    ("-3", 13, 13),
    ("abc", 19, 25),
    ("1000000000000000000", 12, 18),
    ("2", 9, 5),
    ("5", 9, 30),
]
_TYPED_IDS = [
    ("7", 15, 20),
    ("7", 19, 10),
    ("7", 11, 14),
    ("-40", 16, 12),
    ("-3", 13, 13),
    ("-5", 19, 25),
    ("1000000000000000000", 10, 11),
    ("2", 9, 5),
    ("5", 9, 30),
]


def _tied_ids_trial() -> critlang.Trial:
    """Each selector's pick, seen through thresholds that tell every value apart."""
    lines = ["inclusion"]
    window = "hemoglobin within 3 days before screening"
    for selector in ("latest", "earliest", "min", "max"):
        for threshold in range(9, 21):
            name = f"{selector[:2].upper()}{threshold}"
            lines.append(f'  {name} "x": {selector}({window}) >= {threshold} g/dL')
        lines.append(f'  {selector[:2].upper()}U "x": {selector}({window}) <= 1 x ULN')
    return critlang.parse("\n".join(lines) + "\n")


def _with_results(
    tmp_path: Path,
    rows: list[tuple[str, str, str, int, int]],
    *,
    typed: bool,
    observations: tuple[tuple[str, str, str, int], ...] = (),
) -> Path:
    """The fixture with more hemoglobin results, as (person, id, date, value, upper limit),
    and in ``observation`` (person, id, date, value): CSV, or a DuckDB database of the types
    DuckDB reads the CSV with (ids as BIGINT)."""
    folder = tmp_path / "export"
    shutil.copytree(FIXTURE, folder)
    measurement = folder / "measurement.csv"
    lines = measurement.read_text(encoding="utf-8").splitlines()
    first = next(line for line in lines if line.startswith("10,1,"))
    for person, row_id, day, value, high in rows:
        cells = first.split(",")
        cells[:5] = [row_id, person, cells[2], day, ""]
        cells[8], cells[12] = str(value), str(high)
        lines.append(",".join(cells))
    measurement.write_text("\n".join(lines) + "\n", encoding="utf-8")
    observation = folder / "observation.csv"
    lines = observation.read_text(encoding="utf-8").splitlines()
    for person, row_id, day, value in observations:
        cells = [""] * len(lines[0].split(","))
        cells[:7] = [row_id, person, "3000963", day, "", "32817", str(value)]
        cells[10], cells[14], cells[15] = "8713", "718-7", "3000963"
        lines.append(",".join(cells))
    observation.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if not typed:
        return folder
    database = tmp_path / "typed.duckdb"
    with duckdb.connect(str(database)) as connection:
        for file in sorted(folder.glob("*.csv")):
            connection.execute(
                f"CREATE TABLE {file.stem.lower()} AS SELECT * FROM read_csv(?, header = true)",
                [str(file)],
            )
        kind = connection.execute(
            "SELECT data_type FROM information_schema.columns"
            " WHERE table_name = 'measurement' AND column_name = 'measurement_id'"
        ).fetchone()
    assert kind == ("BIGINT",)
    return database


@pytest.mark.parametrize("typed", [False, True], ids=["text", "typed"])
def test_results_whose_ids_tie_but_for_their_text(tmp_path: Path, typed: bool) -> None:
    """The reader's order of rows with the same date: by id (those that are not numbers first,
    by text), then by cells."""
    rows = [
        ("1", row_id, "2025-06-01", value, high)
        for row_id, value, high in (_TYPED_IDS if typed else _TEXT_IDS)
    ]
    source = _with_results(tmp_path, rows, typed=typed)
    trial = _tied_ids_trial()
    as_of = datetime.date(2025, 6, 2)
    assert sql_screen(trial, source, as_of) == reference_screen(trial, source, as_of)


@pytest.mark.parametrize("typed", [False, True], ids=["text", "typed"])
def test_results_with_large_ids(tmp_path: Path, typed: bool) -> None:
    """Ids up to the largest (10^18 - 1), on either side of 2^40 - 1, where the query stops
    working out a result's place from its id alone and ranks its person's results instead:
    person 1's largest id is below it, person 2's is not (no id repeats, which would rank them
    too); each has a large id on an earlier day and on the same day as a small one, and a
    result in ``observation`` (after those in ``measurement``) on that day."""
    rows = [
        ("1", str(2**40 - 2), "2025-05-31", 19, 10),
        ("1", "105", "2025-06-01", 15, 20),
        ("1", "106", "2025-06-01", 11, 14),
        ("1", str(2**40 - 3), "2025-06-01", 13, 16),
        ("1", "104", "2025-06-01", 9, 8),
        ("2", "999999999999999999", "2025-05-31", 19, 10),
        ("2", str(2**40 - 1), "2025-06-01", 15, 20),
        ("2", str(2**40 - 4), "2025-06-01", 11, 14),
        ("2", "205", "2025-06-01", 13, 16),
        ("2", "204", "2025-05-30", 9, 8),
    ]
    observations = (("1", "", "2025-06-01", 12), ("2", "7", "2025-06-01", 10))
    source = _with_results(tmp_path, rows, typed=typed, observations=observations)
    trial = _tied_ids_trial()
    as_of = datetime.date(2025, 6, 2)
    expected = reference_screen(trial, source, as_of)
    assert expected[1] != expected[2]
    assert sql_screen(trial, source, as_of) == expected


@pytest.mark.parametrize("typed", [False, True], ids=["text", "typed"])
def test_results_coded_by_their_source_value(tmp_path: Path, typed: bool) -> None:
    """Results without a concept, coded by their source value as the reader reads it (trimmed,
    in upper case; a value shaped like a LOINC code): values written differently that read
    the same, and values that are not codes (an empty or blank value is none), each row looked
    up by the value it has. (A tab is left out: the query trims spaces only, docs/sql.md.)"""
    folder = tmp_path / "export"
    shutil.copytree(FIXTURE, folder)
    measurement = folder / "measurement.csv"
    lines = measurement.read_text(encoding="utf-8").splitlines()
    first = next(line for line in lines if line.startswith("10,1,"))
    # (source value, value): those the reader codes as hemoglobin between 12 and 15, the others
    # around them
    sources = [
        ("718-7", 12),
        (" 718-7 ", 13),
        ("718-7", 14),
        ("718 -7", 19),
        ("", 10),
        ("  ", 18),
        ("718-7x", 11),
        (" 718-7", 15),
    ]
    for index, (source, value) in enumerate(sources):
        cells = first.split(",")
        cells[0], cells[2], cells[3], cells[4] = str(500 + index), "0", "2025-06-01", ""
        cells[8], cells[16], cells[17] = str(value), source, "0"
        lines.append(",".join(cells))
    measurement.write_text("\n".join(lines) + "\n", encoding="utf-8")
    source_path: Path = folder
    if typed:
        source_path = tmp_path / "typed.duckdb"
        with duckdb.connect(str(source_path)) as connection:
            for file in sorted(folder.glob("*.csv")):
                connection.execute(
                    f"CREATE TABLE {file.stem.lower()} AS SELECT * FROM read_csv(?, header = true)",
                    [str(file)],
                )
    trial = _tied_ids_trial()
    as_of = datetime.date(2025, 6, 2)
    expected = reference_screen(trial, source_path, as_of)
    assert sql_screen(trial, source_path, as_of) == expected
