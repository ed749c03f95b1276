"""The compiled query, run by DuckDB, against the in-memory evaluator over the records critlang's
OMOP reader reads from the same export: the real Synthea export with examples/synthea/oncology.crit,
the OMOP fixture with every example trial, the same fixture as a DuckDB database file, and an
export missing its conditions and events tables. The evaluator is the reference: no outcome is
written here."""

from __future__ import annotations

import datetime
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest

import critlang
from tests.conftest import FIXTURES, ROOT, shared_data
from tests.sql.cohorts import reference_screen, sql_screen

SYNTHEA_AS_OF = datetime.date(2020, 1, 1)
FIXTURE = FIXTURES / "omop" / "valid"
EXAMPLES = [
    *sorted((ROOT / "examples").glob("*.crit")),
    ROOT / "examples" / "synthea" / "oncology.crit",
]


@pytest.fixture(scope="module")
def synthea_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = shared_data("omop-synthea27nj", "synthea27nj-omop54-csv.zip")
    target = tmp_path_factory.mktemp("synthea-sql")
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(target)
    [tables] = {path.parent for path in target.rglob("PERSON.csv")}
    return tables


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
