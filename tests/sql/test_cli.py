"""``critlang sql``: the query on standard output, exit 2 on usage errors, 1 when a construct
is not supported yet."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot

from critlang.cli import main

TRIAL = (
    'trial T1 "demo"\ninclusion\n  I1 "Adult": age >= 18 years\n  I2 "Hb": hemoglobin >= 9 g/dL\n'
)


@pytest.fixture
def criteria(tmp_path: Path) -> Path:
    path = tmp_path / "demo.crit"
    path.write_text(TRIAL, encoding="utf-8")
    return path


def test_prints_a_query_in_the_dialect(criteria: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["sql", str(criteria), "--dialect", "postgres", "--schema", "cdm", "--as-of", "2025-06-02"]
    )
    assert code == 0
    text = capsys.readouterr().out
    query = sqlglot.parse_one(text.rstrip().rstrip(";"), read="postgres")
    assert [select.alias_or_name for select in query.selects] == [
        "person_id",
        "verdict",
        "I1",
        "I2",
    ]
    assert "'2025-06-02'" in text
    assert '"cdm".person' in text


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.crit"], "no such file"),
        (["{criteria}", "--as-of", "2025-13-01"], "is not a date"),
    ],
)
def test_usage_errors_exit_2(
    criteria: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    argv = ["sql", *(item.replace("{criteria}", str(criteria)) for item in arguments)]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_an_unsupported_construct_exits_1_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bmi.crit"
    path.write_text(
        'inclusion\n  I1 "Adult": age >= 18 years\n  I7 "BMI": bmi(weight, height) >= 30 kg/m2\n'
    )
    assert main(["sql", str(path)]) == 1
    error = capsys.readouterr().err
    assert "criterion I7" in error
    assert "does not support `bmi(weight, height)`" in error


def test_criteria_that_do_not_check_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.crit"
    path.write_text('inclusion\n  I1 "x": ANC >= 9 g/dL\n')
    assert main(["sql", str(path)]) == 1
    assert "bad.crit:2" in capsys.readouterr().err
