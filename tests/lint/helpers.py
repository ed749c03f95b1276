"""Linting fixture files the way the command line does, with paths relative to the repository."""

from __future__ import annotations

from pathlib import Path

from critlang.lint import output
from critlang.lint.config import Selection
from critlang.lint.engine import FileResult, lint_file
from tests.conftest import ROOT

LINT_FIXTURES = ROOT / "tests" / "fixtures" / "lint"
RULE_FIXTURES = LINT_FIXTURES / "rules"
DEFECTS = LINT_FIXTURES / "defects"


def lint_fixture(path: Path, selection: Selection | None = None) -> FileResult:
    """Lint a file under the repository, shown by its path relative to the repository root."""
    return lint_file(path, selection=selection, name=path.relative_to(ROOT).as_posix())


def rule_output(code: str) -> str:
    """The text output of one rule on its fixture: what the snapshot holds."""
    result = lint_fixture(RULE_FIXTURES / f"{code}.crit", Selection(select=(code,)))
    return output.text([result])
