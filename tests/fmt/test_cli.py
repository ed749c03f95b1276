"""``critlang fmt``: writes only what changes; ``--check`` and ``--diff`` write nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from critlang.cli import main
from tests.conftest import ROOT

MESSY = 'inclusion\n  I1 "Age":age>=18 years # adult\n'
TIDY = 'inclusion\n  I1 "Age": age >= 18 years  # adult\n'


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    messy, tidy = tmp_path / "messy.crit", tmp_path / "tidy.crit"
    messy.write_text(MESSY, encoding="utf-8")
    tidy.write_text(TIDY, encoding="utf-8")
    return messy, tidy


def test_formats_in_place_and_writes_only_what_changes(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    messy, tidy = files
    tidy_stat = tidy.stat()
    assert main(["fmt", str(messy), str(tidy)]) == 0
    assert messy.read_text(encoding="utf-8") == TIDY
    assert tidy.stat().st_mtime_ns == tidy_stat.st_mtime_ns
    err = capsys.readouterr().err
    assert f"reformatted {messy}" in err
    assert str(tidy) not in err
    assert "1 file reformatted, 1 left unchanged" in err


def test_check_names_the_files_that_would_change_and_writes_nothing(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    messy, tidy = files
    assert main(["fmt", "--check", str(messy), str(tidy)]) == 1
    assert messy.read_text(encoding="utf-8") == MESSY
    err = capsys.readouterr().err
    assert f"would reformat {messy}" in err
    assert f"would reformat {tidy}" not in err
    assert main(["fmt", "--check", str(tidy)]) == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    messy, _ = files
    assert main(["fmt", "--diff", str(messy)]) == 1
    assert messy.read_text(encoding="utf-8") == MESSY
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"--- {messy}",
        f"+++ {messy} (formatted)",
        "@@ -1,2 +1,2 @@",
        " inclusion",
        '-  I1 "Age":age>=18 years # adult',
        '+  I1 "Age": age >= 18 years  # adult',
    ]


def test_a_folder_is_searched_for_criteria_files(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    messy, _ = files
    assert main(["fmt", "--check", str(messy.parent)]) == 1
    assert "1 file would be reformatted, 1 already formatted" in capsys.readouterr().err


def test_a_parse_error_exits_2_with_the_rendered_diagnostic(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messy, _ = files
    broken = tmp_path / "broken.crit"
    broken.write_text("inclusion\n  I1: age >=\n", encoding="utf-8")
    assert main(["fmt", str(broken), str(messy)]) == 2
    assert broken.read_text(encoding="utf-8") == "inclusion\n  I1: age >=\n"
    assert messy.read_text(encoding="utf-8") == TIDY  # the other files are still formatted
    err = capsys.readouterr().err
    assert f"{broken}:3:1: E111 the text ends too soon" in err
    assert "1 file with errors" in err


def test_a_file_that_is_not_utf8_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin = tmp_path / "latin.crit"
    latin.write_bytes('inclusion\n  I1 "Âge": age >= 18 years\n'.encode("latin-1"))
    assert main(["fmt", str(latin)]) == 2
    assert "E100 invalid UTF-8" in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", str(tmp_path / "missing.crit")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_standard_input_to_standard_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(MESSY))
    assert main(["fmt", "-"]) == 0
    assert capsys.readouterr().out == TIDY
    monkeypatch.setattr("sys.stdin", io.StringIO(MESSY))
    assert main(["fmt", "--check", "-"]) == 1


def test_the_examples_pass_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", "--check", str(ROOT / "examples")]) == 0
    count = len(list((ROOT / "examples").rglob("*.crit")))
    assert f"0 files would be reformatted, {count} already formatted" in capsys.readouterr().err


@pytest.mark.parametrize(
    "wrong",
    [
        'inclusion\n  I1 "Age": age >= 21 years  # adult\n',  # another threshold
        'inclusion\n  I1 "Age": age >= 18 years\n',  # the comment lost
        'inclusion\n  I1 "Age": age >=\n',  # no longer parses
    ],
    ids=["program", "comment", "syntax"],
)
def test_a_result_that_would_change_the_meaning_is_not_written(
    wrong: str,
    files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    messy, _ = files
    # Stands for a formatter bug: the safety check parses the result again before writing.
    monkeypatch.setattr("critlang.fmt.files.format_program", lambda text, program: wrong)
    assert main(["fmt", str(messy)]) == 2
    assert messy.read_text(encoding="utf-8") == MESSY
    assert "formatting would change the program or its comments" in capsys.readouterr().err
