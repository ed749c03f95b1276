"""The checker: names, types, units, cycles and `use` resolution give located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import critlang
from critlang.errors import CheckError
from tests.dictionary import trial


def errors(criteria: str) -> list[tuple[str, str]]:
    with pytest.raises(CheckError) as caught:
        trial(criteria)
    return [(d.code, d.message) for d in caught.value.diagnostics]


@pytest.mark.parametrize(
    ("criteria", "code", "message"),
    [
        (
            "inclusion\n I1: ANC >= 9 g/dL\n",
            "E301",
            "`10*9/L` and `g/dL` have different dimensions: number/volume vs mass/volume",
        ),
        ("inclusion\n I1: ANC >= 1.5\n", "E302", "a number without a unit"),
        ("inclusion\n I1: ECOG <= 1 mg\n", "E302", "`ECOG` (number) is a plain number"),
        ("inclusion\n I1: AMC >= 1.5 x10^9/L\n", "E201", "unknown name `AMC`"),
        (
            "inclusion\n I1: sex = femal\n",
            "E202",
            "`femal` is not one of {female, male, other, unknown}",
        ),
        (
            "inclusion\n I1: live_vaccine within 4 weeks before screenig\n",
            "E220",
            "unknown anchor `screenig`",
        ),
        (
            "inclusion\n I1: live_vaccine within 4 mg before screening\n",
            "E261",
            "`4 mg` is not a duration",
        ),
        ("inclusion\n I1: ECOG\n", "E311", "`ECOG` is a fact (integer), not true or false"),
        ("inclusion\n I1: 3\n", "E310", "expected a condition"),
        ("inclusion\n I1: sex < female\n", "E304", "`<` needs numbers, quantities or dates"),
        (
            "inclusion\n I1: ECOG <= 3 x ULN\n",
            "E303",
            "`x ULN` and `x LLN` compare with a lab result",
        ),
        ("inclusion\n I1: ECOG <= 1\n I1: ECOG <= 2\n", "E210", "criterion ID `I1` is used twice"),
        (
            "define a = b\ndefine b = a\ninclusion\n I1: a\n",
            "E230",
            "definition cycle: a -> b -> a",
        ),
        ("inclusion\n I1: frobnicate(ANC) > 1\n", "E203", "unknown function `frobnicate`"),
    ],
)
def test_check_errors(criteria: str, code: str, message: str) -> None:
    found = errors(criteria)
    assert any(c == code and message in m for c, m in found), found


def test_names_are_case_insensitive() -> None:
    checked = trial("inclusion\n I1: anc >= 1.5 x10^9/L and ecog in 0..2\n")
    assert [criterion.id for criterion in checked.criteria] == ["I1"]


def test_did_you_mean() -> None:
    with pytest.raises(CheckError) as caught:
        trial("inclusion\n I1: platelet >= 100 x10^9/L\n")
    assert caught.value.diagnostics[0].help == "did you mean `platelets`?"


def test_all_errors_are_reported_at_once() -> None:
    found = errors("inclusion\n I1: AMC > 1 and ECOG <= 1 mg\n I2: XYZ\n")
    assert [code for code, _ in found] == ["E201", "E302", "E201"]


def test_use_resolves_inside_the_project(tmp_path: Path) -> None:
    (tmp_path / "shared.crit").write_text(
        "fact karnofsky: integer 0..100\ndefine fit = karnofsky >= 70\n"
    )
    (tmp_path / "trial.crit").write_text('use "shared.crit"\ninclusion\n I1: fit\n')
    loaded = critlang.load(tmp_path / "trial.crit")
    assert loaded.evaluate({"facts": {"karnofsky": 80}}).criterion("I1").outcome.value == "met"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/etc/passwd", "not an absolute one"),
        ("../outside.crit", "leaves the project folder"),
        ("missing.crit", "no such file"),
    ],
)
def test_use_outside_the_project_is_refused(tmp_path: Path, path: str, message: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "outside.crit").write_text("fact x: integer\n")
    (project / "trial.crit").write_text(f'use "{path}"\ninclusion\n I1: review\n')
    with pytest.raises(CheckError) as caught:
        critlang.load(project / "trial.crit")
    assert message in caught.value.diagnostics[0].message


def test_invalid_utf8_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.crit"
    path.write_bytes(b'inclusion\n I1: review "caf\xe9"\n')
    with pytest.raises(critlang.ParseError) as caught:
        critlang.load(path)
    assert "invalid UTF-8" in str(caught.value)
    assert caught.value.diagnostics[0].location == (2, 17)  # the byte after `caf`


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.crit"
    path.write_text("# padding\n" * 600_000)
    with pytest.raises(critlang.ParseError, match="larger than"):
        critlang.load(path)


def test_a_stale_dictionary_cache_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found when a cache written before Dictionary gained a field crashed `critlang eval --expr`.
    import pickle

    from critlang.semantics import dictionary

    monkeypatch.setenv("CRITLANG_CACHE_DIR", str(tmp_path))
    (tmp_path / "std-0000.pickle").write_bytes(pickle.dumps(dictionary.EMPTY))
    assert dictionary._read_cache("0000") == dictionary.EMPTY

    def stale(self: object, code: str) -> tuple[()]:
        raise AttributeError("'Dictionary' object has no attribute '_by_code'")

    monkeypatch.setattr(dictionary.Dictionary, "by_code", stale)
    assert dictionary._read_cache("0000") is None
    (tmp_path / "std-0001.pickle").write_bytes(b"not a pickle")
    assert dictionary._read_cache("0001") is None


def test_a_definition_used_as_value_and_condition() -> None:
    found = errors("define x = ANC\ninclusion\n I1: x >= 1.5 x10^9/L\n I2: x\n")
    assert found == [
        ("E311", "`x` is a value (a quantity of number/volume (10*9/L)), not true or false")
    ]


def test_compile_expr_reports_check_errors() -> None:
    with pytest.raises(CheckError, match="unknown name `AMC`"):
        critlang.compile_expr("AMC >= 1.5 x10^9/L")
    assert (
        critlang.compile_expr("ECOG in 0..1").evaluate({"facts": {"ECOG": 1}}).outcome.value
        == "met"
    )
    assert critlang.compile_expr("ECOG + 1").evaluate({"facts": {"ECOG": 1}}) == "2"
