"""The seeded-defect corpus: each file under tests/fixtures/lint/defects/ has one known defect,
named by the rule that must report it (``CL201-anc-in-g-per-dl.crit``). Every one is detected."""

from __future__ import annotations

from pathlib import Path

import pytest

from critlang.lint.config import Selection
from critlang.lint.registry import rule_for
from tests.lint.helpers import DEFECTS, lint_fixture

FILES = sorted(DEFECTS.glob("*.crit"))


def test_the_corpus_is_large_enough() -> None:
    assert len(FILES) >= 30


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_defect_is_detected_by_its_rule(path: Path) -> None:
    code = path.name.split("-", 1)[0]
    assert rule_for(code) is not None, f"{path.name} names no rule"
    # The default rules plus the named one, as a user who selects it would run them.
    result = lint_fixture(path, Selection(extend_select=(code,)))
    codes = [diagnostic.code for diagnostic in result.diagnostics]
    assert code in codes, f"{path.name}: {code} not reported; found {codes}"
    # One known defect: nothing else is wrong with the file.
    assert set(codes) == {code}, f"{path.name}: more than one defect: {codes}"


def test_every_rule_of_these_families_has_a_seeded_defect() -> None:
    from critlang.lint.registry import all_rules

    seeded = {path.name.split("-", 1)[0] for path in FILES}
    missing = [
        rule.code for rule in all_rules() if rule.code[:3] != "CL3" and rule.code not in seeded
    ]
    assert missing == []
