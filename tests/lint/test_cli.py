"""`critlang lint` on the command line: output formats, exit codes, selection, configuration,
suppression comments and --fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from critlang.cli import main
from critlang.lint.registry import all_rules
from tests.conftest import ROOT, shared_data

UNIT_MISMATCH = 'inclusion\n  I10.1 "ANC ≥1.5×10⁹/L": ANC >= 9 g/dL\n'


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["lint", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_examples_lint_clean(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = lint(capsys, str(ROOT / "examples"))
    assert (status, out) == (0, "All checks passed.\n")


def test_text_output_like_ruff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "trial.crit", UNIT_MISMATCH)
    status, out, _ = lint(capsys, str(path))
    assert status == 1
    assert out.splitlines() == [
        f"{path}:2:27: CL201 [unit-mismatch] `ANC` (10*9/L) cannot be compared: `10*9/L` and "
        "`g/dL` have different dimensions: number/volume vs mass/volume",
        "  |",
        '2 |   I10.1 "ANC ≥1.5×10⁹/L": ANC >= 9 g/dL',
        "  |                           ^^^^^^^^^^^^^",
        "help: write the threshold in a unit of number/volume, such as 10*9/L",
        "",
        "Found 1 finding.",
    ]


def test_parse_error_exits_2_and_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "broken.crit", "inclusion\n  I1: (ECOG <= 1\n")
    status, out, _ = lint(capsys, str(path), "--ignore", "CL1")
    assert status == 2
    assert ": CL100 [syntax-error] " in out


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lint(capsys, str(tmp_path / "missing.crit"))[0] == 2
    assert lint(capsys)[0] == 2
    path = write(tmp_path, "trial.crit", UNIT_MISMATCH)
    status, _, err = lint(capsys, str(path), "--select", "CL999")
    assert status == 2
    assert "`CL999` matches no rule" in err
    assert lint(capsys, "--explain", "CL999")[0] == 2


def test_list_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = lint(capsys, "--list")
    assert status == 0
    listed = [line.split()[0] for line in out.splitlines()]
    assert listed == [rule.code for rule in all_rules()]
    status, out, _ = lint(capsys, "--explain", "CL201")
    assert status == 0
    assert out.startswith("# CL201 unit-mismatch (error, units)\n")
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert section in out
    assert lint(capsys, "--explain", "unit-mismatch")[1] == out


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "trial.crit", 'inclusion\n  I7 "ECOG 0-2": Ecog <= 2\n')
    status, out, _ = lint(capsys, str(path), "--format", "json")
    assert status == 1
    (finding,) = json.loads(out)
    assert finding == {
        "code": "CL503",
        "name": "non-canonical-spelling",
        "severity": "warning",
        "message": "`Ecog` is not the canonical spelling `ECOG`",
        "help": None,
        "file": str(path),
        "location": {"line": 2, "column": 18},
        "end_location": {"line": 2, "column": 22},
        "fix": {
            "message": "write `ECOG`",
            "applicability": "safe",
            "edits": [
                {
                    "content": "ECOG",
                    "location": {"line": 2, "column": 18},
                    "end_location": {"line": 2, "column": 22},
                }
            ],
        },
    }


def test_sarif_output_is_valid_sarif_2_1_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra")
    schema = json.loads(shared_data("sarif", "sarif-schema-2.1.0.json").read_text("utf-8"))
    path = write(
        tmp_path,
        "trial.crit",
        UNIT_MISMATCH + '  I7 "ECOG 0-2": Ecog <= 2\n  I8: not active_infection\n',
    )
    status, out, _ = lint(capsys, str(path), "--format", "sarif")
    assert status == 1
    log = json.loads(out)
    jsonschema.validate(log, schema)
    (run,) = log["runs"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [
        rule.code for rule in all_rules()
    ]
    results = run["results"]
    assert [result["ruleId"] for result in results] == [
        "CL201",
        "CL503",
        "CL501",
        "CL502",
    ]
    first = results[0]
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 2,
        "startColumn": 27,
        "endLine": 2,
        "endColumn": 40,
    }
    rules = run["tool"]["driver"]["rules"]
    assert rules[first["ruleIndex"]]["id"] == "CL201"
    assert results[1]["fixes"][0]["artifactChanges"][0]["replacements"][0] == {
        "deletedRegion": {"startLine": 3, "startColumn": 18, "endLine": 3, "endColumn": 22},
        "insertedContent": {"text": "ECOG"},
    }
    # A clean run is a valid log too.
    clean = write(tmp_path, "clean.crit", 'inclusion\n  I7 "ECOG 0-2": ECOG <= 2\n')
    status, out, _ = lint(capsys, str(clean), "--format", "sarif")
    assert status == 0
    jsonschema.validate(json.loads(out), schema)


def test_github_annotations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "trial.crit", UNIT_MISMATCH + "  I2: age >= 18 years\n")
    status, out, _ = lint(capsys, str(path), "--format", "github")
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == (
        f"::error file={path.as_posix()},line=2,col=27,endLine=2,endColumn=40,title=CL201::"
        "[unit-mismatch] `ANC` (10*9/L) cannot be compared: `10*9/L` and `g/dL` have different "
        "dimensions: number/volume vs mass/volume%0Ahelp: write the threshold in a unit of "
        "number/volume, such as 10*9/L"
    )
    assert lines[1].startswith(
        f"::warning file={path.as_posix()},line=3,col=3,endLine=3,endColumn=5,title=CL501::"
    )


SEVERAL = (
    "inclusion\n"
    '  I7 "ECOG 0-2": Ecog <= 2\n'  # CL503
    "  I8: ECOG <= 1\n"  # CL501
    '  I9 "ANC": ANC >= 9 g/dL\n'  # CL201
)


def codes(out: str) -> list[str]:
    return [finding["code"] for finding in json.loads(out)]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ((), ["CL503", "CL501", "CL201"]),
        (("--select", "CL5"), ["CL503", "CL501"]),
        (("--select", "CL2,CL501"), ["CL501", "CL201"]),
        (("--ignore", "CL5"), ["CL201"]),
        (("--select", "CL5", "--ignore", "CL501"), ["CL503"]),
        (("--select", "CL2", "--extend-select", "missing-protocol-text"), ["CL501", "CL201"]),
        (("--ignore", "CL5", "--extend-select", "CL503"), ["CL503", "CL201"]),
        (("--select", "ALL", "--ignore", "CL"), []),
    ],
)
def test_select_ignore_extend_select(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: tuple[str, ...],
    expected: list[str],
) -> None:
    path = write(tmp_path, "trial.crit", SEVERAL)
    status, out, _ = lint(capsys, str(path), "--format", "json", *options)
    assert codes(out) == expected
    assert status == (1 if expected else 0)


def test_suppression_comments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "inclusion\n"
        '  I7 "ECOG 0-2": Ecog <= 2  # critlang: ignore[CL503] spelt as the site writes it\n'
        '  I8 "ECOG 0-1": Ecog <= 1  # critlang: ignore[CL501]\n'
        '  I9 "ECOG 0-3": Ecog <= 3  # critlang: ignore[non-canonical-spelling]\n'
        "  I10: Ecog <= 4  # critlang: ignore\n"
        "  I11: Ecog <= 5  # critlang: ignore[CL5]\n"
        '  I12 "Comment in text # critlang: ignore": Ecog in 0..2\n'
    )
    path = write(tmp_path, "trial.crit", text)
    status, out, _ = lint(capsys, str(path), "--format", "json")
    findings = json.loads(out)
    assert [(f["code"], f["location"]["line"]) for f in findings] == [
        ("CL503", 3),
        ("CL503", 7),
    ]
    assert status == 1


def test_syntax_errors_cannot_be_suppressed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "trial.crit", "inclusion\n  I1: (ECOG  # critlang: ignore\n")
    status, out, _ = lint(capsys, str(path), "--select", "CL5")
    assert status == 2
    assert "CL100" in out


def test_configuration_in_pyproject_walking_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.critlang]\nignore = ["CL501"]\n'
        'per-file-ignores = { "drafts/*.crit" = ["CL5"] }\n',
    )
    trial = write(tmp_path, "trials/deep/trial.crit", SEVERAL)
    draft = write(tmp_path, "drafts/trial.crit", SEVERAL)
    status, out, _ = lint(capsys, str(trial), str(draft), "--format", "json")
    assert status == 1
    findings = json.loads(out)
    assert [(Path(f["file"]).parent.name, f["code"]) for f in findings] == [
        ("deep", "CL503"),
        ("deep", "CL201"),
        ("drafts", "CL201"),
    ]
    # The command line adds to the configuration; --select replaces its selection.
    _, out, _ = lint(capsys, str(trial), "--format", "json", "--select", "CL501,CL503")
    assert codes(out) == ["CL503"]


def test_critlang_toml_wins_over_pyproject(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "pyproject.toml", '[tool.critlang]\nselect = ["CL2"]\n')
    write(tmp_path, "critlang.toml", 'select = ["CL5"]\nextend-select = ["CL201"]\n')
    path = write(tmp_path, "trial.crit", SEVERAL)
    _, out, _ = lint(capsys, str(path), "--format", "json")
    assert codes(out) == ["CL503", "CL501", "CL201"]
    write(tmp_path, "critlang.toml", 'select = ["CL5"]\n')
    _, out, _ = lint(capsys, str(path), "--format", "json")
    assert codes(out) == ["CL503", "CL501"]


def test_a_pyproject_without_the_table_is_passed_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "critlang.toml", 'ignore = ["CL5"]\n')
    write(tmp_path, "inner/pyproject.toml", '[project]\nname = "x"\n')
    path = write(tmp_path, "inner/trial.crit", SEVERAL)
    _, out, _ = lint(capsys, str(path), "--format", "json")
    assert codes(out) == ["CL201"]


@pytest.mark.parametrize(
    "text",
    [
        'select = "CL2"\n',
        'select = ["CL9"]\n',
        "select = [\n",
        'per-file-ignores = { "*.crit" = "CL5" }\n',
    ],
)
def test_bad_configuration_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    write(tmp_path, "critlang.toml", text)
    path = write(tmp_path, "trial.crit", SEVERAL)
    status, _, err = lint(capsys, str(path))
    assert status == 2
    assert "critlang.toml" in err


def test_fix_applies_safe_fixes_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "inclusion\n"
        '  I7 "ECOG 0-2": Ecog ≤ 2\n'
        '  I10.1 "ANC ≥1.5×10⁹/L": anc >= 1.5 ×10⁹/L\n'
        '  I10.2 "Creatinine": creatinine <= 133 µmol/L\n'
        '  I1 "Age": age >= 18\n'  # CL202: an unsafe fix, not applied
    )
    path = write(tmp_path, "trial.crit", text)
    status, out, _ = lint(capsys, str(path), "--fix")
    assert status == 1
    assert path.read_text(encoding="utf-8") == (
        "inclusion\n"
        '  I7 "ECOG 0-2": ECOG <= 2\n'
        '  I10.1 "ANC ≥1.5×10⁹/L": ANC >= 1.5 x10^9/L\n'
        '  I10.2 "Creatinine": creatinine <= 133 umol/L\n'
        '  I1 "Age": age >= 18\n'
    )
    assert "Fixed 5 findings." in out
    assert "CL202 [missing-unit]" in out
    assert "Found 1 finding." in out
    status, out, _ = lint(capsys, str(path), "--fix")
    assert status == 1
    assert "Fixed" not in out


def test_fix_on_a_clean_result_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "trial.crit", 'inclusion\n  I7 "ECOG 0-2": Ecog <= 2\n')
    status, out, _ = lint(capsys, str(path), "--fix")
    assert status == 0
    assert out == "Fixed 1 finding.\nNo findings remain.\n"


def test_config_option_replaces_the_search(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "critlang.toml", 'ignore = ["CL5"]\n')
    other = write(tmp_path, "elsewhere/strict.toml", 'select = ["CL501"]\n')
    path = write(tmp_path, "trial.crit", SEVERAL)
    _, out, _ = lint(capsys, str(path), "--format", "json", "--config", str(other))
    assert codes(out) == ["CL501"]
