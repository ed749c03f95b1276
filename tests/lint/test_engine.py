"""The lint pipeline: it checks exactly what `critlang check` checks, reports every check error
under a rule, keeps going past errors, and never fails with an internal exception."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critlang import CritlangError, load
from critlang.errors import DiagnosticError
from critlang.lint.config import Selection
from critlang.lint.context import analyse
from critlang.lint.engine import apply_fixes, lint_text
from critlang.lint.registry import all_rules, rule_for
from tests.conftest import ROOT
from tests.eval.test_fuzz import conditions_typed, expressions
from tests.lint.helpers import DEFECTS, RULE_FIXTURES

EVERYTHING = Selection(select=("ALL",))
FILES = sorted(
    [*RULE_FIXTURES.glob("*.crit"), *DEFECTS.glob("*.crit"), *(ROOT / "examples").glob("*.crit")]
)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_lint_checks_what_check_checks(path: Path) -> None:
    """Lint runs its own pipeline, to keep going past errors; it must agree with `check`."""
    context = analyse(path.read_text(encoding="utf-8"), str(path), path)
    try:
        load(path)
        checks = True
    except DiagnosticError:
        checks = False
    assert context.checks == checks, [d.render() for d in context.check_errors]


def test_every_error_code_is_reported_by_a_rule() -> None:
    documented = re.findall(
        r"^\| (E\d{3}) \|", (ROOT / "docs" / "language.md").read_text(encoding="utf-8"), re.M
    )
    covered: set[str] = set()
    for rule in all_rules():
        summary = rule.summary
        for low, high in re.findall(r"E(\d{3})-E?(\d{3})", summary):
            covered.update(f"E{number}" for number in range(int(low), int(high) + 1))
        covered.update(re.findall(r"E\d{3}", summary))
    assert sorted(set(documented) - covered) == []


def test_lint_keeps_going_after_errors() -> None:
    text = (
        "lab ctDNA: copies/mL plausible 0 copies/mL..1 copies/mL\n"
        "define unused = ECOG <= 1\n"
        "inclusion\n"
        "  I1: ANCC >= 1.5 x10^9/L\n"
        '  I2 "ANC": ANC >= 1500 x10^9/L\n'
        '  I3 "ECOG": ECOG <= 9 kg\n'
    )
    found = [d.code for d in lint_text(text, selection=EVERYTHING).diagnostics]
    assert found == ["CL113", "CL104", "CL501", "CL101", "CL203", "CL206"]


def test_use_needs_a_file_on_disk() -> None:
    result = lint_text('use "labs.crit"\ninclusion\n  I1 "Age": age >= 18 years\n')
    assert [d.code for d in result.diagnostics] == ["CL112"]


def test_errors_in_a_used_file_are_reported_at_its_use(tmp_path: Path) -> None:
    (tmp_path / "labs.crit").write_text("define broken = ANCC >= 1\n", encoding="utf-8")
    main = tmp_path / "trial.crit"
    main.write_text('use "labs.crit"\ninclusion\n  I1 "B": broken\n', encoding="utf-8")
    result = lint_text(main.read_text(encoding="utf-8"), str(main), path=main)
    ((code, location, message),) = [(d.code, d.location, d.message) for d in result.diagnostics]
    assert (code, location) == ("CL112", (1, 1))
    assert message == '`use "labs.crit"`: labs.crit:1:17: E201 unknown name `ANCC`'
    # `critlang check` locates it in the used file too.
    with pytest.raises(DiagnosticError) as raised:
        load(main)
    (error,) = raised.value.diagnostics
    assert error.source is not None
    assert (error.source.name, error.location) == ("labs.crit", (1, 17))
    (tmp_path / "labs.crit").write_text("define broken = (\n", encoding="utf-8")
    result = lint_text(main.read_text(encoding="utf-8"), str(main), path=main)
    assert [d.code for d in result.diagnostics] == ["CL112", "CL101"]
    assert "labs.crit:2:1: E111" in result.diagnostics[0].message


def test_selection_specificity() -> None:
    rule = rule_for("CL201")
    assert rule is not None
    assert Selection().enabled(rule)
    assert not Selection(ignore=("CL2",)).enabled(rule)
    assert Selection(ignore=("CL2",), extend_select=("CL201",)).enabled(rule)
    assert not Selection(select=("CL20",), ignore=("CL201",)).enabled(rule)
    assert Selection(select=("CL201",), ignore=("CL2",)).enabled(rule)
    assert not Selection(select=("CL2",), ignore=("CL2",)).enabled(rule)
    assert not Selection(select=("CL5",)).enabled(rule)
    assert Selection(select=("unit-mismatch",), ignore=("CL201",)).enabled(rule) is False


def _lint_and_fix(text: str) -> None:
    try:
        result = lint_text(text, selection=EVERYTHING)
    except CritlangError:
        return
    for diagnostic in result.diagnostics:
        assert diagnostic.code.startswith("CL")
        diagnostic.render()
    fixed, applied = apply_fixes(text, result.diagnostics)
    if applied:
        after = lint_text(fixed, selection=EVERYTHING)
        # A safe fix never breaks a file that parsed or checked.
        assert after.parse_failed <= result.parse_failed
        before_errors = {d.code for d in result.diagnostics if d.severity.value == "error"}
        after_errors = {d.code for d in after.diagnostics if d.severity.value == "error"}
        assert after_errors <= before_errors, (text, fixed)


@settings(max_examples=settings.default.max_examples * 2)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_random_text_gives_findings_not_exceptions(text: str) -> None:
    _lint_and_fix(text)


@settings(max_examples=settings.default.max_examples * 3)
@given(
    st.one_of(conditions_typed(), expressions()),
    st.one_of(conditions_typed(), expressions()),
    st.sampled_from(["", '"protocol text" ', '"within 3 months" ']),
    st.sampled_from(["inclusion", "exclusion"]),
)
def test_random_programs_give_findings_not_exceptions(
    first: str, second: str, text: str, section: str
) -> None:
    program = (
        f"define helper = {second}\n"
        f"{section}\n  I1 {text}: {first}\n  I2 {text}: helper\n  I3: {first}\n"
    )
    _lint_and_fix(program)


def test_run_rules_stops_before_the_next_rule_when_asked() -> None:
    from critlang.lint.engine import Stopped, run_rules

    context = analyse((ROOT / "examples" / "NCT06945523.crit").read_text(), "x.crit", None)
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 3  # three rules run, the fourth is not

    with pytest.raises(Stopped):
        run_rules(context, all_rules(), stop=stop)
    assert len(asked) == 4
    assert run_rules(context, all_rules(), stop=lambda: False) == run_rules(context, all_rules())


def test_node_table_walks_as_walk_ast_does() -> None:
    from critlang.lint.walk import NodeTable, ast_nodes, walk_ast

    context = analyse((ROOT / "examples" / "NCT06945523.crit").read_text(), "x.crit", None)
    table = NodeTable(context.program)
    assert table.nodes == list(walk_ast(context.program))
    for node in table.nodes:
        assert list(ast_nodes(context, node)) == list(walk_ast(node))


def test_leaf_atoms_kept_between_files_do_not_leak_one_file_into_another() -> None:
    from critlang.lint import intervals

    # The same leaves written differently (labels are printed from the text as written): each
    # file's findings are the same whether the other was linted first or not.
    header = 'trial T "t"\ninclusion\n'
    body = (
        "(count(chemotherapy within 90 days before screening) < 2 implies ANC >= 2 x10^9/L)"
        " and (count(chemotherapy within 90 days before screening) > 2 implies ANC >= 1 x10^9/L)"
    )
    first = header + f'  I1 "x": {body}\n'
    second = header + f'  I1 "x": {body.replace("chemotherapy", "Chemotherapy")}\n'

    def messages(text: str) -> list[str]:
        return [d.message for d in lint_text(text, "t.crit").diagnostics]

    for one, other in ((first, second), (second, first)):
        intervals._ATOMS.clear()
        alone = messages(one)
        intervals._ATOMS.clear()
        messages(other)
        assert intervals._ATOMS  # the other file's leaves are kept
        assert messages(one) == alone
    assert any("count(" in message for message in messages(first))
