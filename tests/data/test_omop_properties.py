"""Property: bad cells anywhere in a small valid OMOP export only ever give entries — one per
person_id in PERSON.csv, never an exception — and both engines read them alike."""

from __future__ import annotations

import csv
import re
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from critlang.data.omop import read_omop
from critlang.data.omop_tables import duckdb_available
from tests.conftest import FIXTURES

VALID = FIXTURES / "omop" / "valid"


def _load() -> dict[str, list[list[str]]]:
    tables = {}
    for path in sorted(VALID.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            tables[path.name] = list(csv.reader(handle))
    return tables


TABLES = _load()
NAMES = sorted(TABLES)
NASTY = [
    "",
    " ",
    "abc",
    "-1",
    "0",
    "007",
    "3",
    "9",
    "1.5",
    "1e999999",
    "-1e-999999",
    "NaN",
    "inf",
    "2020-02-30",
    "20200101",
    "2020-01-01T25:00",
    "99999-01-01",
    "1" * 30,
    '"',
    ",",
    "a\nb",
    "\x00",
    "\ufeff",
    "8713",
    "9191",
    "21603750",
    "C34.1",
    "2345-7",
]
CELLS = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r"), max_size=8),
)


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[str, int, int, str | None]]:
    """(file, row, column, new cell) — a cell of None removes the row's tail (a short row)."""
    changes = []
    for _ in range(draw(st.integers(1, 6))):
        name = draw(st.sampled_from(NAMES))
        rows = TABLES[name]
        row = draw(st.integers(0, len(rows) - 1))  # row 0 is the header: names break too
        column = draw(st.integers(0, len(rows[row]) - 1))
        cut = draw(st.integers(0, 9)) == 0
        changes.append((name, row, column, None if cut else draw(CELLS)))
    return changes


def _write(folder: Path, changes: list[tuple[str, int, int, str | None]], extra: bool) -> None:
    tables = {name: [list(row) for row in rows] for name, rows in TABLES.items()}
    for name, row, column, cell in changes:
        cells = tables[name][row]
        if cell is None:
            del cells[column:]
        elif column < len(cells):  # not cut off by an earlier change
            cells[column] = cell
    if extra:  # a person row repeated
        tables["PERSON.csv"].append(list(tables["PERSON.csv"][-1]))
    for name, rows in tables.items():
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)


def _expected_people(folder: Path) -> int | None:
    """How many distinct person_ids PERSON.csv holds, read independently; None when its header
    has lost the person_id column (the export cannot be opened then)."""
    with (folder / "PERSON.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(line.replace("\0", "") for line in handle))
    names = [name.strip().lower() for name in rows[0]] if rows else []
    if "person_id" not in names:
        return None
    position = names.index("person_id")
    keys = set()
    for row in rows[1:]:
        if not row:
            continue
        cell = row[position] if position < len(row) else ""
        if re.fullmatch(r"[0-9]{1,18}", cell):
            keys.add(int(cell))
        else:
            keys.add("" if not cell.strip() else cell)
    return len(keys)


@given(changes=mutations(), extra=st.booleans())
def test_bad_cells_only_ever_give_entries(
    changes: list[tuple[str, int, int, str | None]], extra: bool
) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _write(folder, changes, extra)
        expected = _expected_people(folder)
        if expected is None:
            return  # read_omop refuses it with an OmopError: tested in test_omop.py
        python = list(read_omop(folder, engine="python"))
        assert len(python) == expected
        assert not any((entry.error or "").startswith("internal error") for entry in python)
        if duckdb_available():
            duck = list(read_omop(folder, engine="duckdb"))
            assert [entry.id for entry in duck] == [entry.id for entry in python]
            assert [entry.record for entry in duck] == [entry.record for entry in python]
            assert [entry.error for entry in duck] == [entry.error for entry in python]
