"""``duckdb_text`` (what ``run_duckdb`` runs: the source templates put in as written) against
``compile_query`` printed by sqlglot (what ``critlang sql`` prints): the same rows on the same
export, for every example trial on the OMOP fixture and its typed database, and for generated
criteria on generated exports."""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings

import critlang
from critlang.sql import compile_query, duckdb_text
from critlang.sql.runner import _CONFIG, _SCHEMA, _Export, configure
from tests.sql.cohorts import AS_OF, exports, write_export
from tests.sql.test_differential import trials
from tests.sql.test_omop_exports import EXAMPLES, FIXTURE, _typed_database


def _both(trial: critlang.Trial, export: Path, as_of: datetime.date | None) -> list[Any]:
    """The rows of the printed query and of the text, run on one connection over ``export``."""
    connection = duckdb.connect(config=_CONFIG)
    try:
        configure(connection)
        found = _Export(connection, export, None)
        options: dict[str, Any] = {
            "as_of": as_of,
            "units": found.unit_codes(),
            "conditions": found.has_section("condition_occurrence"),
            "events": found.has_section("drug_exposure", "procedure_occurrence"),
            "column_types": found.types,
        }
        printed = compile_query(trial, schema=_SCHEMA, **options).sql(dialect="duckdb")
        text = duckdb_text(trial, **options)
        assert "MATERIALIZED" in text
        assert text.startswith("WITH ")
        rows = connection.execute(printed).fetchall()
        connection.execute(f'USE memory."{_SCHEMA}"')
        assert connection.execute(text).fetchall() == rows
        return rows
    finally:
        connection.close()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_trials_on_the_fixture(path: Path) -> None:
    rows = _both(critlang.load(path), FIXTURE, datetime.date(2025, 6, 2))
    assert len(rows) > 1  # the fixture's persons, one row each


@pytest.mark.parametrize("path", EXAMPLES[:3], ids=lambda path: path.stem)
def test_example_trials_on_a_typed_database(path: Path, tmp_path: Path) -> None:
    rows = _both(critlang.load(path), _typed_database(tmp_path), datetime.date(2025, 6, 2))
    assert len(rows) > 1


def test_the_text_names_no_schema() -> None:
    """The OMOP tables are unqualified: the caller says where they are (``run_duckdb`` uses its
    views' schema), as the printed query without ``schema`` leaves them."""
    trial = critlang.load(EXAMPLES[0])
    text = duckdb_text(trial, as_of=datetime.date(2025, 6, 2))
    assert f'"{_SCHEMA}".' not in text
    assert f"{_SCHEMA}." not in text
    assert " FROM measurement" in text


@settings(max_examples=max(5, settings().max_examples // 6))
@given(tables=exports(), text=trials())
def test_generated_criteria_on_generated_exports(
    tables: dict[str, list[dict[str, str]]], text: str
) -> None:
    trial = critlang.parse(text)
    with tempfile.TemporaryDirectory(prefix="critlang-sql-") as folder:
        _both(trial, write_export(Path(folder), tables), AS_OF)
