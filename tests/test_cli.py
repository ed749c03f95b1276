"""The command line: exit codes, error rendering, eval output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from critlang.cli import main
from tests.dictionary import DECLARATIONS

CRITERIA = (
    DECLARATIONS
    + 'trial DEMO "demo"\ninclusion\n  I1 "ANC": ANC >= 1.5 x10^9/L\n  I2 "Consent": review\n'
)
RECORD = {
    "id": "P-1",
    "anchors": {"screening": "2025-06-02"},
    "labs": [{"name": "ANC", "value": 1.8, "unit": "10*9/L", "date": "2025-05-30"}],
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    criteria = tmp_path / "demo.crit"
    criteria.write_text(CRITERIA, encoding="utf-8")
    record = tmp_path / "p1.json"
    record.write_text(json.dumps(RECORD), encoding="utf-8")
    return criteria, record


def test_check_ok(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(files[0])]) == 0
    assert "ok (2 criteria)" in capsys.readouterr().out


def test_check_error_exit_1_with_caret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.crit"
    bad.write_text("inclusion\n  I1: ECOG >= 1.5 )\n")
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2:19: E112 expected" in err
    assert "  |                   ^" in err


def test_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "no-such-file.crit"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_eval_text_and_json(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    criteria, record = files
    assert main(["eval", str(criteria), str(record)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == "P-1: eligible — 1 item to confirm"
    assert main(["eval", str(criteria), str(record), "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["verdict"] == "eligible"
    assert payload["review"] == ["I2"]
    assert payload["criteria"][0]["outcome"] == "met"


def test_eval_expr(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import critlang.semantics.dictionary as dictionary
    from critlang.trial import parse

    monkeypatch.setattr(
        dictionary, "standard", lambda: parse(DECLARATIONS, dictionary=dictionary.EMPTY).dictionary
    )
    assert main(["eval", "--expr", "ANC >= 2 x10^9/L", str(files[1])]) == 0
    assert capsys.readouterr().out.startswith("expr NOT MET")


def test_bad_record_exit_1(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / "bad.json"
    record.write_text("[1, 2")
    assert main(["eval", str(files[0]), str(record)]) == 1
    assert "not valid JSON" in capsys.readouterr().err


def test_eval_anchor_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    criteria = tmp_path / "t.crit"
    criteria.write_text(
        DECLARATIONS + "exclusion\n  E1: live_vaccine within 4 weeks before treatment\n"
    )
    record = tmp_path / "r.json"
    record.write_text(json.dumps({"events": [{"name": "live_vaccine", "start": "2025-06-01"}]}))
    assert main(["eval", str(criteria), str(record)]) == 0
    assert "E1 UNKNOWN" in capsys.readouterr().out  # no treatment date
    assert main(["eval", str(criteria), str(record), "--anchor", "treatment=2025-06-20"]) == 0
    assert "E1 MET" in capsys.readouterr().out
    assert main(["eval", str(criteria), str(record), "--anchor", "treatment"]) == 2
    assert main(["eval", str(criteria), str(record), "--anchor", "treatment=2025-13-01"]) == 1


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.startswith("critlang 0.")


def test_check_a_folder_without_criteria(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path)]) == 2
    assert "no criteria files" in capsys.readouterr().err


def test_units_convert_bad_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["units", "convert", "abc", "mg/dL", "g/L"]) == 1
    assert "'abc' is not a number" in capsys.readouterr().err


def test_a_closed_pipe_is_not_a_traceback() -> None:
    # `critlang screen ... | head`: the reader goes away before the writer is done. Run in a
    # process of its own so that stdout is a real file the command can redirect.
    import subprocess
    import sys

    script = (
        "import sys, critlang.cli as cli\n"
        "def closed(args):\n"
        "    raise BrokenPipeError\n"
        "cli._check = closed\n"
        "sys.exit(cli.main(['check', 'x.crit']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
