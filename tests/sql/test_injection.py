"""Text from a criteria file, a dictionary or a path never becomes SQL text: identifiers are
quoted, literals escaped, by sqlglot's constructors. The query still parses, runs, and gives the
in-memory evaluator's rows."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import sqlglot

import critlang
from critlang.semantics.dictionary import CodePattern, Variable, standard
from critlang.sql import DIALECTS, compile_query, render
from tests.conftest import FIXTURES
from tests.sql.cohorts import reference_screen, sql_screen

AS_OF = datetime.date(2025, 6, 2)
HOSTILE = "x'); DROP TABLE person; --"

# Criterion ids that are SQL keywords or the result's own column names, and protocol texts
# holding quotes and SQL.
TRIAL = f"""
inclusion
  select "it's \\"quoted\\"; {HOSTILE}": age >= 18 years
  verdict "{HOSTILE}": hemoglobin >= 9 g/dL
  person_id "Robert'); DROP TABLE Students;--": sex = female
exclusion
  FROM "a \\\\ backslash and a ' quote": evil within 1 year before screening
  E2 "{HOSTILE}": review "it's for the investigator; {HOSTILE}"
"""


def _dictionary() -> critlang.semantics.dictionary.Dictionary:
    """The standard dictionary and a condition whose name and codes hold quotes and SQL."""
    evil = Variable(
        name="evil",
        kind="condition",
        value_type="occurrence",
        codes=(
            CodePattern(system="SNOMED", code="254637007"),
            CodePattern(system="ICD10", code=HOSTILE.upper(), prefix=True),
        ),
        aliases=(HOSTILE,),
    )
    other = Variable(
        name=HOSTILE,
        kind="condition",
        value_type="occurrence",
        codes=(CodePattern(system="SNOMED'--", code="1'; SELECT 1; --"),),
    )
    return standard().extended([evil, other], [])


def test_hostile_names_give_a_query_that_parses_and_runs(tmp_path: Path) -> None:
    trial = critlang.parse(TRIAL, dictionary=_dictionary())
    query = compile_query(trial, as_of=AS_OF, units=["g/dL", "g/L"])
    for dialect in DIALECTS:
        parsed = sqlglot.parse_one(render(query, dialect), read=dialect)
        names = [select.alias_or_name for select in parsed.selects]
        assert names == ["person_id", "verdict", "select", "verdict", "person_id", "FROM", "E2"]
    # a folder whose name is hostile too
    folder = tmp_path / HOSTILE.replace("/", "_")
    shutil.copytree(FIXTURES / "omop" / "valid", folder)
    expected = reference_screen(trial, folder, AS_OF)
    assert expected
    assert sql_screen(trial, folder, AS_OF) == expected
    assert sql_screen(trial, folder, AS_OF) == expected  # the tables are all still there
