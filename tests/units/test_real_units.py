"""Every unit code found in the real Synthea exports (FHIR R4 and OMOP CDM) is read correctly.

`tests/fixtures/units/real_units.tsv` lists the distinct codes with the UCUM code critlang reads
them as (or `ERROR`), derived from the Synthea data in ../shared/data (Apache-2.0; see the README in
that folder). The second test re-derives the list from the data itself when it is present.
"""

from __future__ import annotations

import csv
import io
import json
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from critlang.units import UnitError, parse_unit
from tests.conftest import FIXTURES, shared_data

TABLE = FIXTURES / "units" / "real_units.tsv"
# Codes that are not units, which the data adapters will treat as "no unit given".
NOT_UNITS = {"", "n/a"}


def read_table() -> dict[str, str]:
    with TABLE.open(encoding="utf-8") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return {row["source"]: row["reading"] for row in rows}


def reading(code: str) -> str:
    try:
        return parse_unit(code).code
    except UnitError:
        return "ERROR"


@pytest.mark.parametrize(("source", "expected"), sorted(read_table().items()))
def test_real_unit_code_is_read_as_recorded(source: str, expected: str) -> None:
    assert reading(source) == expected
    assert (expected == "ERROR") == (source in NOT_UNITS)


def test_lab_system_spellings_are_read_as_meant() -> None:
    table = read_table()
    assert table["K/uL"] == "10*3/uL"
    assert table["M/uL"] == "10*6/uL"
    assert table["pH"] == "[pH]"
    assert table["(score)"] == "{score}"
    assert table["IU/L"] == "[IU]/L"


def fhir_units(archive: Path) -> Iterator[str]:
    with tarfile.open(archive) as tar:
        for member in tar:
            handle = tar.extractfile(member) if member.name.endswith(".json") else None
            if handle is None:
                continue
            for entry in json.load(handle).get("entry", []):
                resource = entry.get("resource", {})
                if resource.get("resourceType") != "Observation":
                    continue
                quantities = [resource.get("valueQuantity")] + [
                    component.get("valueQuantity") for component in resource.get("component", [])
                ]
                for quantity in quantities:
                    if quantity:
                        yield from (quantity.get("code", ""), quantity.get("unit", ""))


def omop_units(archive: Path) -> Iterator[str]:
    with zipfile.ZipFile(archive) as bundle:
        name = next(name for name in bundle.namelist() if name.endswith("MEASUREMENT.csv"))
        with bundle.open(name) as raw:
            for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")):
                yield row["unit_source_value"]


def test_fixture_matches_the_real_data() -> None:
    fhir = shared_data("fhir-synthea-r4", "synthea-r4-75-patients.tgz")
    omop = shared_data("omop-synthea27nj", "synthea27nj-omop54-csv.zip")
    found = set(fhir_units(fhir)) | set(omop_units(omop))
    assert found == set(read_table())
