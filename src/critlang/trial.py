"""The Python API: load and check a criteria file once, evaluate many patients against it."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from critlang.data.record import Record, loads, read_record
from critlang.diagnostics import Diagnostic
from critlang.errors import CheckError, CritlangError, ParseError, RecordError
from critlang.eval.compiled import Compiled, Fast, compile_criteria
from critlang.eval.plan import Condition, Context, Planner, Unknown, value_text
from critlang.eval.result import (
    CriterionResult,
    LazyResult,
    Outcome,
    Result,
    Verdict,
    verdict_of,
)
from critlang.eval.truth import Truth
from critlang.semantics import ir
from critlang.semantics.checker import Checker, Definition
from critlang.semantics.dictionary import Dictionary, standard, variables_from
from critlang.semantics.uses import use_target
from critlang.source import Source
from critlang.syntax import ast
from critlang.syntax.parser import parse_expression, parse_program, read_file

if TYPE_CHECKING:
    from critlang.screen import ScreenResult

_OUTCOMES = {Truth.TRUE: Outcome.MET, Truth.FALSE: Outcome.NOT_MET, Truth.UNKNOWN: Outcome.UNKNOWN}
_FAST_OUTCOMES = {True: Outcome.MET, False: Outcome.NOT_MET}


def _outcome_of(truth: Fast | None) -> Outcome:
    """A compiled truth's outcome: True, False, reasons (UNKNOWN) or None (a review item)."""
    if truth is None:
        return Outcome.REVIEW
    return Outcome.UNKNOWN if truth.__class__ is tuple else _FAST_OUTCOMES[truth]  # type: ignore[index]


@attrs.frozen(kw_only=True)
class _Loaded:
    program: ast.Program
    source: Source


class Trial:
    """A checked criteria file. Build with :func:`critlang.load` or :func:`critlang.parse`."""

    def __init__(
        self,
        program: ast.Program,
        source: Source,
        project: Path | None,
        dictionary: Dictionary | None = None,
    ) -> None:
        self.program = program
        self.source = source
        loaded = _resolve_uses(program, source, project)
        base = dictionary if dictionary is not None else standard()
        variables, anchors, problems = [], [], []
        definitions: dict[str, Definition] = {}
        for item in loaded:
            found, declared_anchors, errors = variables_from(item.program, item.source)
            variables += found
            anchors += declared_anchors
            problems += errors
            for define in item.program.definitions:
                key = define.name.casefold()
                if key in definitions and definitions[key].define is not define:
                    problems.append(
                        Diagnostic(
                            code="E211",
                            message=f"`{define.name}` is defined twice",
                            span=define.span,
                            source=item.source,
                        )
                    )
                definitions[key] = Definition(define=define, source=item.source)
            if item.source is not source and item.program.criteria:
                problems.append(
                    Diagnostic(
                        code="E252",
                        message="a file brought in with `use` may hold definitions and declarations, not criteria",
                        span=item.program.criteria[0].span,
                        source=item.source,
                    )
                )
        if problems:
            raise CheckError(problems)
        self.dictionary = base.extended(variables, anchors)
        checker = Checker(self.dictionary, definitions, source)
        self.criteria: list[ir.CheckedCriterion] = checker.criteria(program.criteria)
        checker.definitions_all()
        if checker.diagnostics:
            raise CheckError(checker.diagnostics)
        # Planned and compiled when first evaluated: checking a file needs neither.
        self._planner = Planner(self.dictionary)
        self._planned: list[tuple[ir.CheckedCriterion, Condition | None]] | None = None
        self._compiled: Compiled | bool | None = False
        self._lab_names: tuple[str, ...] | None = None  # the labs the criteria name
        self._id = program.trial.id if program.trial else None

    @property
    def _plans(self) -> list[tuple[ir.CheckedCriterion, Condition | None]]:
        """Each criterion's closure (``None`` for a review item)."""
        if self._planned is None:
            condition = self._planner.condition
            self._planned = [
                (item, condition(item.condition) if item.condition is not None else None)
                for item in self.criteria
            ]
        return self._planned

    @property
    def id(self) -> str | None:
        trial = self.program.trial
        return trial.id if trial else None

    @property
    def title(self) -> str | None:
        trial = self.program.trial
        return trial.title if trial else None

    def _closures(self, context: Context) -> tuple[CriterionResult, ...]:
        return tuple(self._explained(criterion, plan, context) for criterion, plan in self._plans)

    @staticmethod
    def _explained(
        criterion: ir.CheckedCriterion, plan: Condition | None, context: Context
    ) -> CriterionResult:
        if plan is None:
            return CriterionResult(
                id=criterion.id,
                section=criterion.section,
                text=criterion.text,
                outcome=Outcome.REVIEW,
                reasons=(criterion.review or "",),
            )
        context.evidence = []
        truth, reasons = plan(context)
        return CriterionResult(
            id=criterion.id,
            section=criterion.section,
            text=criterion.text,
            outcome=_OUTCOMES[truth],
            reasons=tuple(dict.fromkeys(reasons)) if truth is Truth.UNKNOWN else (),
            evidence=tuple(context.evidence),
        )

    def explain(
        self,
        record: Record | Mapping[str, Any] | str,
        criterion: str,
        as_of: datetime.date | str | None = None,
        *,
        anchors: Mapping[str, datetime.date | str] | None = None,
    ) -> CriterionResult:
        """One criterion of a record's evaluation, with its evidence: what
        ``evaluate(record, as_of, anchors=anchors).criterion(criterion)`` gives, without
        evaluating the others (a screen explains its near misses so)."""
        found = [index for index, item in enumerate(self.criteria) if item.id == criterion]
        if not found:
            known = ", ".join(item.id for item in self.criteria)
            raise CritlangError(f"no criterion {criterion!r} in the trial (it has {known})")
        patient = record if record.__class__ is Record else as_record(record)
        day_anchors = _anchors(patient, as_of, anchors)
        checked, plan = self._plans[found[0]]
        return self._explained(checked, plan, Context(patient, self.dictionary, day_anchors))

    def evaluate(
        self,
        record: Record | Mapping[str, Any] | str,
        as_of: datetime.date | str | None = None,
        *,
        anchors: Mapping[str, datetime.date | str] | None = None,
        evidence: bool = True,
    ) -> Result:
        """Evaluate one patient record (a :class:`Record`, a parsed JSON object or JSON text).

        ``as_of`` is the screening date and ``anchors`` other anchor dates, used where the record
        has none. ``evidence=False`` skips the per-criterion evidence (outcomes, reasons and the
        verdict are the same), for screening many records fast.
        """
        patient = record if record.__class__ is Record else as_record(record)
        if as_of is None and anchors is None:
            day_anchors = patient.anchors
            as_of_text = None
        else:
            day_anchors = _anchors(patient, as_of, anchors)
            as_of_text = as_of if as_of is None or isinstance(as_of, str) else as_of.isoformat()
        # Compiled when first asked for without evidence (the evidence path never uses it: a
        # near miss's one-criterion trial is not compiled).
        compiled = self._compiled if not evidence else None
        if compiled is False:
            compiled = self._compiled = compile_criteria(self._planner, self.criteria)
        if compiled is not None:
            verdict, truths = compiled(patient, self.dictionary, day_anchors)  # type: ignore[operator]
            if patient.pending_labs is not None:
                self._read_labs(patient)
            # Positional: this runs once per record screened.
            return LazyResult(
                self._id, patient.id, as_of_text, verdict, self, truths, patient.problems
            )
        context = Context(patient, self.dictionary, day_anchors, evidence)
        criteria = self._closures(context)
        if patient.pending_labs is not None:
            self._read_labs(patient)
        return Result(
            trial=self._id,
            record=patient.id,
            as_of=as_of_text,
            verdict=verdict_of(criteria),
            criteria=criteria,
            record_problems=patient.problems,
        )

    def _read_labs(self, record: Record) -> None:
        """A lazily read record: every entry of every lab the criteria name is read (its problems
        known), also those the evaluation did not need (``a and b`` with ``a`` false)."""
        pending = record.pending_labs
        assert pending is not None
        if pending.all_checked:
            return  # every entry read without a problem when the record was
        names = self._lab_names
        if names is None:
            from critlang.lint.walk import walk_ir

            names = self._lab_names = tuple(
                dict.fromkeys(
                    node.variable.name
                    for criterion in self.criteria
                    if criterion.condition is not None
                    for node in walk_ir(criterion.condition, into_definitions=True)
                    if isinstance(node, ir.LabSelection)
                )
            )
        pending.by_variable(self.dictionary).check(names)

    def screen(
        self,
        source: Any,
        as_of: datetime.date | str | None = None,
        anchors: Mapping[str, datetime.date | str] | None = None,
        *,
        jobs: int = 1,
        progress: Callable[[int], None] | None = None,
        relax: Mapping[str, str] | None = None,
        drop: Sequence[str] = (),
        format: str | None = None,
        engine: str = "memory",
        dsn: str | None = None,
        schema: str | None = None,
    ) -> ScreenResult:
        """Screen a cohort (a path, a ``PatientSource`` or records): one row per patient, the
        funnel, counts, near misses and what-ifs. ``engine="duckdb"`` screens it with the
        compiled SQL, ``"postgres"`` the database ``dsn``. See :func:`critlang.screen.screen`."""
        from critlang.screen import screen

        return screen(
            self,
            source,
            as_of,
            anchors,
            jobs=jobs,
            progress=progress,
            relax=relax,
            drop=drop,
            format=format,
            engine=engine,
            dsn=dsn,
            schema=schema,
        )

    def criterion_results(self, truths: tuple[Fast | None, ...]) -> tuple[CriterionResult, ...]:
        """The compiled function's truths as results (without evidence)."""
        return tuple(
            CriterionResult(
                id=criterion.id,
                section=criterion.section,
                text=criterion.text,
                outcome=_outcome_of(truth),
                # UNKNOWN's reasons are the truth itself; a review item's, its instruction.
                reasons=(criterion.review or "",)
                if truth is None
                else (truth if truth.__class__ is tuple else ()),
            )
            for criterion, truth in zip(self.criteria, truths, strict=True)
        )

    def outcomes_of(self, truths: tuple[Fast | None, ...]) -> tuple[Outcome, ...]:
        """The compiled function's truths as outcomes."""
        met, not_met, unknown, review = (
            Outcome.MET,
            Outcome.NOT_MET,
            Outcome.UNKNOWN,
            Outcome.REVIEW,
        )
        # _outcome_of, inlined: this runs once per record screened. (Not a dict look-up in C:
        # hashing an UNKNOWN truth, a tuple of reasons, costs more than these comparisons.)
        return tuple(
            [
                met
                if truth is True
                else not_met
                if truth is False
                else review
                if truth is None
                else unknown
                for truth in truths
            ]
        )


def as_record(record: Record | Mapping[str, Any] | str) -> Record:
    if isinstance(record, Record):
        return record
    if isinstance(record, str):
        try:
            parsed: object = loads(record)
        except (ValueError, RecursionError) as error:
            raise RecordError([f"not valid JSON: {error}"]) from None
        return read_record(parsed)
    return read_record(record)


def _anchors(
    record: Record,
    as_of: datetime.date | str | None,
    given: Mapping[str, datetime.date | str] | None = None,
) -> Mapping[str, datetime.date]:
    """The record's anchors (by lower-case name); ``as_of`` supplies screening and ``given``
    other anchors when the record has none of its own."""
    if as_of is None and not given:
        return record.anchors  # the record keeps anchor names in lower case
    anchors = dict(record.anchors)
    extra = dict(given or {})
    if as_of is not None:
        extra.setdefault("screening", as_of)
    for name, day in extra.items():
        anchors.setdefault(
            name.casefold(), day if isinstance(day, datetime.date) else _parse_date(day)
        )
    return anchors


def _parse_date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CritlangError(f"{text!r} is not a date (write YYYY-MM-DD)") from None


def _resolve_uses(program: ast.Program, source: Source, project: Path | None) -> list[_Loaded]:
    """The program and every file it brings in with ``use``, once each, inside ``project``."""
    loaded = [_Loaded(program=program, source=source)]
    seen: set[Path] = set()
    pending = [
        (program, source, Path(source.name).resolve().parent if project is not None else None)
    ]
    problems: list[Diagnostic] = []
    while pending:
        current, current_source, folder = pending.pop()
        for use in current.uses:
            target = use_target(
                use,
                current_source,
                folder,
                project,
                problems,
                without_file="load the criteria with critlang.load(path)",
            )
            if target is None or target in seen:
                continue
            seen.add(target)
            try:
                text = read_file(target)
                used = parse_program(text, str(target.relative_to(project) if project else target))
            except ParseError as error:
                problems.extend(error.diagnostics)
                continue
            except CritlangError as error:
                problems.append(
                    Diagnostic(
                        code="E250", message=str(error), span=use.span, source=current_source
                    )
                )
                continue
            used_source = Source(text, str(target.relative_to(project) if project else target))
            loaded.append(_Loaded(program=used, source=used_source))
            pending.append((used, used_source, target.parent))
    if problems:
        raise CheckError(problems)
    return loaded


def load(path: str | Path, project: str | Path | None = None) -> Trial:
    """Read, parse and check a criteria file; ``use`` may only reach files under ``project``
    (default: the file's own folder)."""
    file = Path(path)
    text = read_file(file)
    root = Path(project).resolve() if project is not None else file.resolve().parent
    source = Source(text, str(path))
    return Trial(parse_program(text, str(path)), source, root)


def parse(text: str, name: str = "<string>", dictionary: Dictionary | None = None) -> Trial:
    """Parse and check criteria text (no ``use``: there is no folder to resolve it in).

    ``dictionary`` replaces the standard dictionary (declarations in the text extend it).
    """
    source = Source(text, name)
    return Trial(parse_program(text, name), source, None, dictionary)


class Expression:
    """A single compiled expression (:func:`critlang.compile_expr`)."""

    def __init__(self, text: str, dictionary: Dictionary | None = None) -> None:
        self.text = text
        self.source = Source(text, "<expr>")
        node = parse_expression(text)
        self.dictionary = dictionary if dictionary is not None else standard()
        checker = Checker(self.dictionary, {}, self.source)
        checked = checker.expression(node)
        if checked is None or checker.diagnostics:
            raise CheckError(checker.diagnostics)
        self._condition: ir.Condition | None = None
        self._value: ir.Value | None = None
        if isinstance(checked, ir.VALUE_NODES):
            self._value = checked
        else:
            self._condition = checked
        planner = Planner(self.dictionary)
        self._plan = planner.condition(self._condition) if self._condition is not None else None
        self._value_plan = planner.value(self._value) if self._value is not None else None

    def evaluate(
        self, record: Record | Mapping[str, Any] | str, as_of: datetime.date | str | None = None
    ) -> Any:
        """An :class:`Outcome` for a condition (with ``.reasons`` on the result), or a value."""
        patient = as_record(record)
        context = Context(patient, self.dictionary, _anchors(patient, as_of))
        if self._plan is not None:
            truth, reasons = self._plan(context)
            return CriterionResult(
                id="expr",
                section="inclusion",
                text=self.text,
                outcome=_OUTCOMES[truth],
                reasons=reasons,
                evidence=tuple(context.evidence),
            )
        assert self._value_plan is not None
        value = self._value_plan(context)
        if isinstance(value, Unknown):
            return None
        return value_text(value)


def compile_expr(text: str) -> Expression:
    return Expression(text)


def result_json(result: Result) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False)


__all__ = ["Expression", "Outcome", "Result", "Trial", "Verdict", "compile_expr", "load", "parse"]
