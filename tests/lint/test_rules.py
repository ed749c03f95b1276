"""Every rule has a unique code and name, its four doc sections, a fixture and a snapshot of its
output on the fixture; the snapshot matches. ``CRITLANG_UPDATE_SNAPSHOTS=1`` rewrites the
snapshots (then read every changed one)."""

from __future__ import annotations

import os
import re

import pytest

from critlang.lint.registry import DOC_SECTIONS, Rule, all_rules
from tests.lint.helpers import RULE_FIXTURES, rule_output

RULES = all_rules()
UPDATE = os.environ.get("CRITLANG_UPDATE_SNAPSHOTS") == "1"


def test_there_are_rules_in_every_family() -> None:
    families = {rule.code[:3] for rule in RULES}
    assert {"CL1", "CL2", "CL4", "CL5"} <= families


def test_codes_and_names_are_unique() -> None:
    codes = [rule.code for rule in RULES]
    names = [rule.name for rule in RULES]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_is_one_file_named_after_it(rule: Rule) -> None:
    module = rule.module.rsplit(".", 1)[-1]
    assert module == f"{rule.code.lower()}_{rule.name.replace('-', '_')}"
    assert sum(1 for other in RULES if other.module == rule.module) == 1


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_has_docs(rule: Rule) -> None:
    assert rule.summary, f"{rule.code} has no summary line"
    assert rule.summary.endswith("."), rule.summary
    sections = rule.sections()
    for title in DOC_SECTIONS:
        assert sections.get(title), f"{rule.code} lacks the section `## {title}`"
    for title in ("Example", "Use instead"):
        assert re.search(r"```\n.+?\n```", sections[title], re.S), (
            f"{rule.code}: `## {title}` needs an example in a fenced block"
        )


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_has_fixture_and_snapshot(rule: Rule) -> None:
    assert (RULE_FIXTURES / f"{rule.code}.crit").is_file(), f"no fixture for {rule.code}"
    if not UPDATE:
        assert (RULE_FIXTURES / f"{rule.code}.snapshot").is_file(), f"no snapshot for {rule.code}"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_snapshot(rule: Rule) -> None:
    fixture = RULE_FIXTURES / f"{rule.code}.crit"
    if not fixture.is_file():
        pytest.fail(f"no fixture for {rule.code}")
    actual = rule_output(rule.code)
    snapshot = RULE_FIXTURES / f"{rule.code}.snapshot"
    if UPDATE:
        snapshot.write_text(actual, encoding="utf-8")
    assert f": {rule.code} [{rule.name}] " in actual, f"{rule.code} does not fire on its fixture"
    assert actual == snapshot.read_text(encoding="utf-8")


def test_docs_rules_md_is_up_to_date() -> None:
    from critlang.lint.docs import markdown
    from tests.conftest import ROOT

    path = ROOT / "docs" / "rules.md"
    expected = markdown()
    if UPDATE:
        path.write_text(expected, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == expected, (
        "docs/rules.md is out of date: python -m critlang.lint.docs > docs/rules.md"
    )
