"""``critlang test``: test cases that live beside the criteria, in a sidecar TOML file.

A trial ``NAME.crit`` has its cases in ``NAME.tests.toml`` in the same folder::

    # criteria = "NAME.crit"              # optional: the criteria file, relative to this file

    [[case]]
    name = "ineligible-anc"               # optional with a record path: the file's stem
    record = "NAME/records/ineligible-anc.json"   # a JSON record, relative to this file
    as_of = 2025-06-02                    # optional: the screening date when the record has none
    anchors = {treatment = 2025-06-20}    # optional: other anchors the record lacks
    verdict = "ineligible"                # eligible, ineligible or undetermined

    [case.criteria]                       # optional: only the criteria listed are checked
    I1 = "met"                            # met, not_met, unknown or review
    "I10.1" = "not_met"                   # a bare I10.1 works too (TOML reads it as I10 -> 1)

    [[case]]
    name = "inline"
    verdict = "eligible"
    [case.record]                         # or the record itself, in the native form of SPEC §6
    birth_date = 1961-03-02
    anchors = {screening = 2025-06-02}
    facts = {ECOG = 1}

A test file is checked before anything runs: unknown keys, misspelt outcomes or verdicts,
criterion IDs the trial does not have, duplicate names and missing record files are
:class:`Problem` values with the file and line, and while there is one no case runs (the command
exits 2). A case then PASSES when the verdict and every listed outcome are as expected, FAILS with
one :class:`Mismatch` per difference, or is an ERROR when it cannot be evaluated (a record the
reader rejects, criteria that do not check).
"""

from __future__ import annotations

import datetime
import difflib
import enum
import json
import re
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs

from critlang.errors import CritlangError
from critlang.eval.result import Outcome, Result, Verdict

TYPE_CHECKING = False  # not typing's: see critlang/__init__.py
if TYPE_CHECKING:
    from critlang.trial import Trial

SUFFIX = ".tests.toml"
_FILE_KEYS = ("criteria", "case")
_CASE_KEYS = ("name", "record", "as_of", "anchors", "verdict", "criteria")
_OUTCOMES = {outcome.value: outcome for outcome in Outcome}
_VERDICTS = {verdict.value: verdict for verdict in Verdict}


@attrs.frozen(kw_only=True)
class Problem:
    """Something wrong with a test file or with the paths given; while there is one, nothing runs."""

    file: str | None
    line: int | None
    message: str
    column: int | None = None

    def __str__(self) -> str:
        if self.file is None:
            return f"critlang: {self.message}"
        where = self.file
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: {self.message}"


@attrs.frozen(kw_only=True)
class Case:
    """One test case: a record and the verdict and outcomes expected for it."""

    file: str  # the test file, as it was found
    name: str
    line: int | None
    record: Path | Mapping[str, Any]  # a JSON file, or the record itself
    as_of: str | None
    anchors: Mapping[str, str]
    verdict: Verdict
    criteria: Mapping[str, Outcome]  # by criterion ID as the trial spells it, in the trial's order

    @property
    def id(self) -> str:
        """``file::name``, as pytest names a test."""
        return f"{self.file}::{self.name}"


@attrs.frozen(kw_only=True)
class TestFile:
    """A test file with its criteria loaded; ``error`` says why the criteria could not be."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    path: str
    criteria: Path
    trial: Trial | None
    error: str | None
    cases: tuple[Case, ...]


@attrs.frozen(kw_only=True)
class Mismatch:
    """One difference between what a case expects and what the evaluation gave."""

    criterion: str | None  # None for the verdict
    expected: str
    actual: str
    explanation: str

    def __str__(self) -> str:
        return (
            f"{self.criterion or 'verdict'}: expected {self.expected}, got {self.actual}"
            f" — {self.explanation}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "expected": self.expected,
            "actual": self.actual,
            "explanation": self.explanation,
        }


class Status(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"


@attrs.frozen(kw_only=True)
class CaseResult:
    case: Case
    status: Status
    mismatches: tuple[Mismatch, ...] = ()
    error: str | None = None
    result: Result | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.case.id,
            "file": self.case.file,
            "name": self.case.name,
            "line": self.case.line,
            "status": self.status.value,
            "expected_verdict": self.case.verdict.value,
            "verdict": self.result.verdict.value if self.result else None,
            "failures": [mismatch.to_dict() for mismatch in self.mismatches],
            "error": self.error,
        }


@attrs.frozen(kw_only=True)
class TestReport:
    """What :func:`run_tests` found: the problems that stopped it, or every selected case's result."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    files: tuple[TestFile, ...] = ()
    results: tuple[CaseResult, ...] = ()
    problems: tuple[Problem, ...] = ()
    deselected: int = 0
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results if result.status is status)

    @property
    def passed(self) -> int:
        return self.count(Status.PASSED)

    @property
    def failed(self) -> int:
        return self.count(Status.FAILED)

    @property
    def errors(self) -> int:
        return self.count(Status.ERROR)

    @property
    def exit_code(self) -> int:
        """0 when every case passed, 1 when one failed or could not run, 2 on a problem."""
        if self.problems:
            return 2
        return 0 if self.passed == len(self.results) else 1

    def summary(self) -> str:
        """``20 passed, 1 failed in 0.12s`` (errors and deselected cases only when there are)."""
        parts = [f"{self.passed} passed", f"{self.failed} failed"]
        if self.errors:
            parts.append(f"{self.errors} error{'s' if self.errors != 1 else ''}")
        if self.deselected:
            parts.append(f"{self.deselected} deselected")
        return f"{', '.join(parts)} in {self.seconds:.2f}s"

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "deselected": self.deselected,
            "seconds": round(self.seconds, 3),
            "files": [
                {"file": file.path, "criteria": str(file.criteria), "error": file.error}
                for file in self.files
            ],
            "cases": [result.to_dict() for result in self.results],
        }


def run_tests(*paths: str | Path, keywords: Sequence[str] = ()) -> TestReport:
    """Find the test files under ``paths`` (``.crit`` files, test files or folders), check them,
    and run every case whose ``file::name`` contains one of ``keywords`` (all when none)."""
    start = time.perf_counter()
    files, problems = collect(paths)
    if problems:
        return TestReport(files=tuple(files), problems=tuple(problems))
    selected = [(file, case) for file in files for case in file.cases if _selected(case, keywords)]
    total = sum(len(file.cases) for file in files)
    if not selected:
        wanted = " or ".join(repr(keyword) for keyword in keywords)
        message = f"no test case matches -k {wanted} ({total} case{'s' * (total != 1)})"
        return TestReport(
            files=tuple(files), problems=(Problem(file=None, line=None, message=message),)
        )
    results = tuple(run_case(file, case) for file, case in selected)
    return TestReport(
        files=tuple(files),
        results=results,
        deselected=total - len(selected),
        seconds=time.perf_counter() - start,
    )


def _selected(case: Case, keywords: Sequence[str]) -> bool:
    return not keywords or any(keyword.casefold() in case.id.casefold() for keyword in keywords)


def find_test_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """The test files named by ``paths``: a test file itself, the sidecar of a ``.crit`` file, or
    every ``*.tests.toml`` under a folder."""
    found: list[Path] = []
    problems: list[Problem] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            inside = sorted(path.rglob(f"*{SUFFIX}"))
            if not inside:
                problems.append(_problem(None, f"no test files (*{SUFFIX}) in {path}"))
            found += inside
        elif path.name.endswith(SUFFIX):
            if path.is_file():
                found.append(path)
            else:
                problems.append(_problem(None, f"{path}: no such file"))
        elif path.suffix == ".crit":
            sidecar = path.with_name(path.stem + SUFFIX)
            if sidecar.is_file():
                found.append(sidecar)
            elif path.is_file():
                problems.append(_problem(None, f"{path}: no test file (looked for {sidecar})"))
            else:
                problems.append(_problem(None, f"{path}: no such file"))
        elif path.exists():
            problems.append(
                _problem(None, f"{path}: not a .crit file, a *{SUFFIX} file or a folder")
            )
        else:
            problems.append(_problem(None, f"{path}: no such file or folder"))
    return list(dict.fromkeys(found)), problems


def collect(paths: Iterable[str | Path]) -> tuple[list[TestFile], list[Problem]]:
    """Find, read and check the test files; load each criteria file once."""
    found, problems = find_test_files(paths)
    trials: dict[Path, tuple[Trial | None, str | None]] = {}
    files = []
    for path in found:
        file, file_problems = read_test_file(path, trials)
        problems += file_problems
        if file is not None:
            files.append(file)
    return files, problems


def read_test_file(
    path: Path, trials: dict[Path, tuple[Trial | None, str | None]] | None = None
) -> tuple[TestFile | None, list[Problem]]:
    """Read and check one test file. ``trials`` caches criteria files loaded already."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [_problem(name, f"cannot read: {error}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return None, [_toml_problem(name, error)]
    reader = _Reader(name, path.parent, _Lines(text))
    return reader.file(data, trials if trials is not None else {})


def run_case(file: TestFile, case: Case) -> CaseResult:
    """Evaluate the case's record against the file's trial and compare with what it expects."""
    if file.trial is None:
        return CaseResult(case=case, status=Status.ERROR, error=f"{file.criteria} does not check")
    try:
        if isinstance(case.record, Path):
            record: str | Mapping[str, Any] = case.record.read_text(encoding="utf-8")
        else:
            record = case.record
        result = file.trial.evaluate(record, as_of=case.as_of, anchors=case.anchors)
    except (OSError, UnicodeDecodeError) as error:
        return CaseResult(case=case, status=Status.ERROR, error=f"cannot read the record: {error}")
    except CritlangError as error:
        return CaseResult(case=case, status=Status.ERROR, error=str(error))
    mismatches = compare(case, result)
    status = Status.FAILED if mismatches else Status.PASSED
    return CaseResult(case=case, status=status, mismatches=mismatches, result=result)


def compare(case: Case, result: Result) -> tuple[Mismatch, ...]:
    """Every difference between the case's expectations and the result: the verdict first, then
    the criteria in the trial's order."""
    criteria = [
        Mismatch(
            criterion=criterion.id,
            expected=expected.value,
            actual=criterion.outcome.value,
            explanation=criterion.explain(),
        )
        for criterion in result.criteria
        if (expected := case.criteria.get(criterion.id)) is not None
        and criterion.outcome is not expected
    ]
    if result.verdict is case.verdict:
        return tuple(criteria)
    reported = {mismatch.criterion for mismatch in criteria}
    verdict = Mismatch(
        criterion=None,
        expected=case.verdict.value,
        actual=result.verdict.value,
        explanation=_verdict_explanation(result, reported),
    )
    return (verdict, *criteria)


def _verdict_explanation(result: Result, reported: set[str | None]) -> str:
    """The criteria that decided the verdict, and the first one's explanation unless a mismatch
    of its own already gives it: ``decided by I10.1 not_met — I10.1 NOT MET …``."""
    if result.verdict is Verdict.ELIGIBLE:
        return "no inclusion is not met, no exclusion is met and none is unknown"
    deciding = [
        criterion
        for criterion in result.criteria
        if (
            criterion.outcome is Outcome.UNKNOWN
            if result.verdict is Verdict.UNDETERMINED
            else criterion.outcome
            is (Outcome.NOT_MET if criterion.section == "inclusion" else Outcome.MET)
        )
    ]
    if not deciding:
        return result.headline()
    shown = ", ".join(f"{item.id} {item.outcome.value}" for item in deciding[:_DECIDING_SHOWN])
    if len(deciding) > _DECIDING_SHOWN:
        shown += f" and {len(deciding) - _DECIDING_SHOWN} more"
    first = deciding[0]
    return f"decided by {shown}" + ("" if first.id in reported else f" — {first.explain()}")


_DECIDING_SHOWN = 5


def render_text(report: TestReport, verbosity: int = 1) -> str:
    """pytest-like text: progress (``-q`` 0: none, 1: a line per file, 2 ``-v``: a line per
    case), then a line per failure or error, then the summary."""
    lines: list[str] = []
    if verbosity == 1:
        for file in report.files:
            marks = "".join(
                _MARKS[result.status] for result in report.results if result.case.file == file.path
            )
            if marks:
                lines.append(f"{file.path} {marks}")
    elif verbosity >= 2:
        lines += [f"{result.case.id} {result.status.name}" for result in report.results]
    details: list[str] = []
    broken = {result.case.file for result in report.results if result.status is Status.ERROR}
    for file in report.files:
        if file.error is not None and file.path in broken:
            details.append(f"ERROR {file.path} — {file.criteria} does not check:")
            details.append(file.error)
    for result in report.results:
        if result.status is Status.FAILED:
            details += [f"FAILED {result.case.id} — {mismatch}" for mismatch in result.mismatches]
        elif result.status is Status.ERROR and result.error is not None:
            details.append(f"ERROR {result.case.id} — {result.error}")
    if details:
        if lines:
            lines.append("")
        lines += details
    lines.append(report.summary())
    return "\n".join(lines)


_MARKS = {Status.PASSED: ".", Status.FAILED: "F", Status.ERROR: "E"}


def render_json(report: TestReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)


def _problem(file: str | None, message: str, line: int | None = None) -> Problem:
    return Problem(file=file, line=line, message=message)


def _toml_problem(name: str, error: tomllib.TOMLDecodeError) -> Problem:
    # tomllib puts the position in the message: "Invalid value (at line 3, column 9)".
    message = str(error)
    found = re.search(r" \(at line (\d+), column (\d+)\)$", message)
    if found is None:
        return _problem(name, f"not valid TOML: {message}")
    return Problem(
        file=name,
        line=int(found[1]),
        column=int(found[2]),
        message=f"not valid TOML: {message[: found.start()]}",
    )


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


_KEY_PART = r"\"(?:[^\"\\]|\\.)*\"|'[^']*'|[A-Za-z0-9_-]+"
_DOTTED_KEY = rf"(?:{_KEY_PART})(?:\s*\.\s*(?:{_KEY_PART}))*"
_TABLE_LINE = re.compile(rf"\s*(\[\[|\[)\s*({_DOTTED_KEY})\s*\]\]?\s*(?:#.*)?")
_KEY_LINE = re.compile(rf"\s*({_DOTTED_KEY})\s*=")


def _key_path(text: str) -> str:
    """A dotted TOML key as one string with its quotes taken off: ``case."I10.1"`` -> case.I10.1."""
    parts = re.findall(_KEY_PART, text)
    return ".".join(part[1:-1] if part[0] in "\"'" else part for part in parts)


class _Lines:
    """Where each key of a TOML file is written: tomllib gives values, not positions, so the
    lines are found by reading the table headers and ``key =`` lines (enough to point at a
    mistake; a line inside a multi-line string might mislead it, and then the case's own line is
    shown)."""

    def __init__(self, text: str) -> None:
        self.cases: list[int] = []  # the line of each [[case]]
        self.keys: dict[tuple[int, str], int] = {}  # (case index or -1, dotted key) -> line
        table = ""
        for number, line in enumerate(text.splitlines(), 1):
            header = _TABLE_LINE.fullmatch(line)
            if header is not None:
                table = _key_path(header[2])
                if header[1] == "[[" and table == "case":
                    self.cases.append(number)
                self._note(table, number)
                continue
            key = _KEY_LINE.match(line)
            if key is not None:
                self._note(f"{table}.{_key_path(key[1])}" if table else _key_path(key[1]), number)

    def _note(self, key: str, number: int) -> None:
        if (key == "case" or key.startswith("case.")) and self.cases:
            self.keys.setdefault(
                (len(self.cases) - 1, key.removeprefix("case").lstrip(".")), number
            )
        else:
            self.keys.setdefault((-1, key), number)

    def line(self, case: int, key: str = "") -> int | None:
        """The line of ``key`` in case number ``case`` (-1: outside the cases), else of the
        nearest enclosing key, else the case's ``[[case]]`` line."""
        while key:
            if (case, key) in self.keys:
                return self.keys[case, key]
            key = key.rpartition(".")[0]
        if 0 <= case < len(self.cases):
            return self.cases[case]
        return None


class _Reader:
    """Turns one parsed test file into a :class:`TestFile`, collecting every problem."""

    def __init__(self, name: str, folder: Path, lines: _Lines) -> None:
        self.name = name
        self.folder = folder
        self.lines = lines
        self.problems: list[Problem] = []
        self.names: dict[str, int] = {}  # case name -> index of the case

    def problem(self, message: str, case: int = -1, key: str = "") -> None:
        self.problems.append(_problem(self.name, message, self.lines.line(case, key)))

    def file(
        self, data: dict[str, Any], trials: dict[Path, tuple[Trial | None, str | None]]
    ) -> tuple[TestFile | None, list[Problem]]:
        for key in data:
            if key not in _FILE_KEYS:
                self.problem(
                    f"unknown key `{key}`{_suggest(key, _FILE_KEYS)}; a test file has "
                    "`criteria` and [[case]] tables",
                    key=key,
                )
        criteria = self.criteria_path(data.get("criteria"))
        trial, error = None, None
        if criteria is not None:
            resolved = criteria.resolve()
            if resolved not in trials:
                trials[resolved] = _load(criteria)
            trial, error = trials[resolved]
        raw_cases = data.get("case")
        if raw_cases is None or raw_cases == []:
            self.problem("no test cases: add a [[case]] table")
            raw_cases = []
        elif not isinstance(raw_cases, list) or not all(isinstance(c, dict) for c in raw_cases):
            self.problem("`case` must be [[case]] tables", key="case")
            raw_cases = []
        cases = [self.case(index, raw, trial) for index, raw in enumerate(raw_cases)]
        if criteria is None or self.problems:
            return None, self.problems
        test_file = TestFile(
            path=self.name,
            criteria=criteria,
            trial=trial,
            error=error,
            cases=tuple(case for case in cases if case is not None),
        )
        return test_file, self.problems

    def criteria_path(self, given: object) -> Path | None:
        if given is None:
            stem = Path(self.name).name.removesuffix(SUFFIX)
            path = self.folder / f"{stem}.crit"
            if not path.is_file():
                self.problem(f'no criteria file {path} (name it with `criteria = "FILE.crit"`)')
                return None
            return path
        if not isinstance(given, str):
            self.problem("`criteria` must be a path (a string)", key="criteria")
            return None
        path = self.folder / given
        if not path.is_file():
            self.problem(f'criteria "{given}": no such file ({path})', key="criteria")
            return None
        return path

    def case(self, index: int, raw: dict[str, Any], trial: Trial | None) -> Case | None:
        count = len(self.problems)
        for key in raw:
            if key not in _CASE_KEYS:
                self.problem(
                    f"unknown key `{key}` in a case{_suggest(key, _CASE_KEYS)}; a case has "
                    + ", ".join(f"`{known}`" for known in _CASE_KEYS),
                    index,
                    key,
                )
        record = self.record(index, raw.get("record"))
        name = raw.get("name")
        if name is None and isinstance(raw.get("record"), str):
            name = Path(raw["record"]).stem
        if name is None:
            # Without a record path there is no stem to name the case after.
            if isinstance(raw.get("record"), dict):
                self.problem("a case with an inline record needs a `name`", index)
        elif not isinstance(name, str) or not name.strip():
            self.problem("`name` must be a non-empty string", index, "name")
            name = None
        elif name in self.names:
            self.problem(
                f'two cases are named "{name}" (the first is on line {self.lines.line(self.names[name])})',
                index,
                "name",
            )
        else:
            self.names[name] = index
        verdict = self.verdict(index, raw.get("verdict"))
        as_of = self.date(index, "as_of", raw.get("as_of")) if "as_of" in raw else None
        anchors = self.anchors(index, raw.get("anchors", {}))
        criteria = self.outcomes(index, raw.get("criteria", {}), trial)
        if len(self.problems) > count or name is None or record is None or verdict is None:
            return None
        return Case(
            file=self.name,
            name=name,
            line=self.lines.line(index),
            record=record,
            as_of=as_of,
            anchors=anchors,
            verdict=verdict,
            criteria=criteria,
        )

    def record(self, index: int, given: object) -> Path | Mapping[str, Any] | None:
        if given is None:
            self.problem(
                "a case needs a `record`: a path to a JSON file, or a [case.record] table", index
            )
            return None
        if isinstance(given, str):
            path = self.folder / given
            if not path.is_file():
                where = f" ({path})" if str(path) != given else ""
                self.problem(f'record "{given}": no such file{where}', index, "record")
                return None
            return path
        if isinstance(given, dict):
            plain: dict[str, Any] = _plain(given)
            return plain
        self.problem(
            "`record` must be a path to a JSON file or a [case.record] table", index, "record"
        )
        return None

    def verdict(self, index: int, given: object) -> Verdict | None:
        if given is None:
            self.problem(
                'a case needs a `verdict`: "eligible", "ineligible" or "undetermined"', index
            )
            return None
        if isinstance(given, str) and given in _VERDICTS:
            return _VERDICTS[given]
        self.problem(
            f"verdict {_show(given)} is not a verdict{_suggest(str(given), _VERDICTS)}; "
            'write "eligible", "ineligible" or "undetermined"',
            index,
            "verdict",
        )
        return None

    def date(self, index: int, key: str, given: object) -> str | None:
        if isinstance(given, datetime.datetime):
            self.problem(f"`{key}`: write a date (2025-06-02), not a date-time", index, key)
            return None
        if isinstance(given, datetime.date):
            return given.isoformat()
        if isinstance(given, str):
            try:
                return datetime.date.fromisoformat(given).isoformat()
            except ValueError:
                pass
        self.problem(f"`{key}`: {_show(given)} is not a date (write 2025-06-02)", index, key)
        return None

    def anchors(self, index: int, given: object) -> dict[str, str]:
        if not isinstance(given, dict):
            self.problem(
                "`anchors` must be a table of dates, e.g. anchors = {treatment = 2025-06-20}",
                index,
                "anchors",
            )
            return {}
        dates = {name: self.date(index, f"anchors.{name}", day) for name, day in given.items()}
        return {name: day for name, day in dates.items() if day is not None}

    def outcomes(self, index: int, given: object, trial: Trial | None) -> dict[str, Outcome]:
        if not isinstance(given, dict):
            self.problem(
                '`criteria` must be a table of outcomes, e.g. [case.criteria] I1 = "met"',
                index,
                "criteria",
            )
            return {}
        known = (
            {criterion.id.casefold(): criterion.id for criterion in trial.criteria} if trial else {}
        )
        found: dict[str, Outcome] = {}
        for identifier, word in _flatten(given):
            key = f"criteria.{identifier}"
            if trial is not None and identifier.casefold() not in known:
                self.problem(
                    f"unknown criterion {identifier}{_suggest(identifier, known.values())}: "
                    f"{trial.source.name} has no such criterion",
                    index,
                    key,
                )
                continue
            if not isinstance(word, str) or word not in _OUTCOMES:
                self.problem(
                    f"{identifier}: {_show(word)} is not an outcome{_suggest(str(word), _OUTCOMES)}; "
                    "write met, not_met, unknown or review",
                    index,
                    key,
                )
                continue
            found[known.get(identifier.casefold(), identifier)] = _OUTCOMES[word]
        if trial is None:
            return found
        order = {criterion.id: number for number, criterion in enumerate(trial.criteria)}
        return dict(sorted(found.items(), key=lambda item: order[item[0]]))


def _flatten(table: Mapping[str, object], prefix: str = "") -> list[tuple[str, object]]:
    """Criterion IDs with dots come back from TOML as nested tables (``I10.1 = "met"`` is
    ``{"I10": {"1": "met"}}``): join them again."""
    pairs: list[tuple[str, object]] = []
    for key, value in table.items():
        if isinstance(value, dict):
            pairs += _flatten(value, f"{prefix}{key}.")
        else:
            pairs.append((f"{prefix}{key}", value))
    return pairs


def _plain(value: Any) -> Any:
    """An inline TOML record as JSON would give it: TOML dates and times become ISO text."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return value


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _load(path: Path) -> tuple[Trial | None, str | None]:
    from critlang.trial import load

    try:
        return load(path), None
    except CritlangError as error:
        return None, str(error)
