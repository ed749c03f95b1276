"""Every error code the checker and parser can raise is documented in docs/language.md."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def test_every_error_code_is_documented() -> None:
    used = set()
    for path in (ROOT / "src" / "critlang").rglob("*.py"):
        used.update(re.findall(r'"(E\d{3})"', path.read_text(encoding="utf-8")))
    documented = set(
        re.findall(
            r"^\| (E\d{3}) \|", (ROOT / "docs" / "language.md").read_text(encoding="utf-8"), re.M
        )
    )
    assert used, "no error codes found"
    assert sorted(used - documented) == []
    assert sorted(documented - used) == []


def test_the_readme_tour_checks() -> None:
    import critlang

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## A tour of the language", 1)[1].split("```", 2)[1]
    trial = critlang.parse(tour, "README tour")
    assert [criterion.id for criterion in trial.criteria] == [
        "I1",
        "I7",
        "I10.1",
        "I10.4",
        "I13",
        "E3",
        "E9",
    ]
