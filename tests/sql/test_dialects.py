"""The query printed in each dialect parses back with sqlglot in that dialect."""

from __future__ import annotations

import datetime

import pytest
import sqlglot

import critlang
from critlang.errors import CritlangError
from critlang.sql import DIALECTS, compile_query, render, to_sql
from tests.conftest import ROOT

# One criterion of each construct the SQL backend compiles.
EVERY_CONSTRUCT = """
trial ALL "every construct"
inclusion
  I1 "Adult": age in 18..75 years and sex in {female, male}
  I2 "Labs": hemoglobin >= 9 g/dL within 14 days before screening
      and max(platelets within 30 days before screening) >= 100 x10^9/L
      and any(ALT) <= 3 x ULN and creatinine in ..1.5 mg/dL
  I3 "Function": if liver_metastases then ALT <= 5 x ULN else ALT <= 3 x ULN
  I4 "ECOG": ECOG <= 1 and weight is known
  I5 "Consent": review "consent signed"
exclusion
  E1 "Cancer": malignancy within 3 years before screening except basal_cell_carcinoma
  E2 "Chemo": chemotherapy at least 2 weeks before screening implies not (surgery)
  E3 "Hep B": HBsAg = positive or count(myocardial_infarction within 1 year before screening) >= 1
"""


@pytest.fixture(scope="module")
def queries() -> dict[str, sqlglot.exp.Select]:
    trials = {
        "oncology": critlang.load(ROOT / "examples" / "synthea" / "oncology.crit"),
        "every construct": critlang.parse(EVERY_CONSTRUCT),
    }
    as_of = datetime.date(2025, 6, 2)
    # A few units keep the query (and the test) short: each unit adds a branch per lab test.
    units = ["g/dL", "g/L", "mg/dL", "umol/L", "10*3/uL", "U/L", "kg"]
    return {
        name: compile_query(trial, as_of=as_of, schema="cdm", units=units)
        for name, trial in trials.items()
    }


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_query_parses_back_in_its_dialect(
    queries: dict[str, sqlglot.exp.Select], dialect: str
) -> None:
    for name, query in queries.items():
        text = render(query, dialect)
        parsed = sqlglot.parse_one(text, read=dialect)
        assert parsed is not None, name
        # the criteria's ids are the result's columns, in order, after person_id and verdict
        names = [select.alias_or_name for select in parsed.selects]
        assert names[:2] == ["person_id", "verdict"], name


def test_every_table_is_in_the_schema(queries: dict[str, sqlglot.exp.Select]) -> None:
    from critlang.sql.source import TABLES

    for query in queries.values():
        read = {table.name for table in query.find_all(sqlglot.exp.Table) if table.name in TABLES}
        assert read
        for table in query.find_all(sqlglot.exp.Table):
            if table.name in TABLES:
                assert table.db == "cdm"


def test_an_unknown_dialect_is_refused() -> None:
    trial = critlang.parse('inclusion\n  I1 "adult": age >= 18 years\n')
    with pytest.raises(CritlangError, match="dialect 'oracle'"):
        to_sql(trial, dialect="oracle")
