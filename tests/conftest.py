"""Shared test configuration: hypothesis profiles and the location of shared data."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
# Real data lives beside the repository; tests that need it skip when it is absent.
SHARED_DATA = Path(os.environ.get("CRITLANG_SHARED_DATA", ROOT.parent / "shared" / "data"))

settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile(
    "slow", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        help="run hypothesis with many more examples (also: CRITLANG_SLOW=1)",
    )


def pytest_configure(config: pytest.Config) -> None:
    slow = config.getoption("--slow") or os.environ.get("CRITLANG_SLOW") == "1"
    settings.load_profile("slow" if slow else "default")


def extract_synthea_omop(target: Path) -> Path:
    """The Synthea OMOP export (28 persons, CSV) extracted into ``target``: the folder of its
    tables; or skip the test when the shared data is absent."""
    archive = shared_data("omop-synthea27nj", "synthea27nj-omop54-csv.zip")
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(target)
    [tables] = {path.parent for path in target.rglob("PERSON.csv")}  # the archive holds one
    return tables


def shared_data(*parts: str) -> Path:
    """A path under the shared real-data folder, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path} (set CRITLANG_SHARED_DATA)")
    return path
