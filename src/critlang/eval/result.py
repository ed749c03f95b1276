"""Outcomes, verdicts and explanations (SPEC §4)."""

from __future__ import annotations

import enum
from typing import Any, Protocol

import attrs


class Outcome(enum.Enum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"
    REVIEW = "review"

    @property
    def words(self) -> str:
        return self.value.replace("_", " ").upper()


class Verdict(enum.Enum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    UNDETERMINED = "undetermined"


@attrs.frozen(kw_only=True)
class Evidence:
    """One leaf of a criterion's evaluation: what was compared, with what, and how it came out.

    ``facts`` holds the structured details: the value used, its date and source in the record,
    the unit conversion, the window bounds, the branch taken.
    """

    text: str
    truth: str  # true, false, unknown
    effective: str  # the truth after the negations around it, or "branch" for a branch taken
    facts: dict[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "truth": self.truth, **self.facts}


_OUTCOME_TRUTH = {"met": "true", "not_met": "false", "unknown": "unknown"}


@attrs.frozen(kw_only=True)
class CriterionResult:
    id: str
    section: str  # inclusion or exclusion
    text: str | None
    outcome: Outcome
    reasons: tuple[str, ...] = ()  # why it is UNKNOWN (the missing inputs), or what to review
    evidence: tuple[Evidence, ...] = ()

    def explain(self) -> str:
        """One line: ``I10.1 NOT MET — ANC 1.2 10*9/L (2025-05-30) is not > 1.0 x10^9/L``."""
        head = f"{self.id} {self.outcome.words}"
        quoted = f' "{self.text}"' if self.text else ""
        if self.outcome is Outcome.REVIEW:
            return f"{head}{quoted} — to review: {'; '.join(self.reasons)}"
        wanted = _OUTCOME_TRUTH.get(self.outcome.value)
        decisive = [
            item.text for item in self.evidence if item.effective in (wanted, "branch")
        ] or [item.text for item in self.evidence]
        body = " … ".join(decisive) if decisive else "; ".join(self.reasons)
        if self.outcome is Outcome.UNKNOWN and self.reasons:
            body = "; ".join(self.reasons)
        return f"{head}{quoted} — {body}" if body else f"{head}{quoted}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": self.section,
            "text": self.text,
            "outcome": self.outcome.value,
            "reasons": list(self.reasons),
            "evidence": [item.to_dict() for item in self.evidence],
            "explanation": self.explain(),
        }


class Result:
    """The evaluation of one patient against one trial (read-only)."""

    __slots__ = ("_criteria", "_outcomes", "as_of", "record", "record_problems", "trial", "verdict")

    def __init__(
        self,
        trial: str | None,
        record: str | None,
        as_of: str | None,
        verdict: Verdict,
        criteria: tuple[CriterionResult, ...],
        record_problems: tuple[str, ...] = (),
    ) -> None:
        self.trial = trial
        self.record = record
        self.as_of = as_of
        self.verdict = verdict
        self._criteria = criteria
        self.record_problems = record_problems
        self._outcomes: tuple[Outcome, ...] | None = None

    @property
    def criteria(self) -> tuple[CriterionResult, ...]:
        return self._criteria

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        """Each criterion's outcome, in file order."""
        outcomes = self._outcomes
        if outcomes is None:
            outcomes = self._outcomes = tuple(item.outcome for item in self.criteria)
        return outcomes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Result):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def _fields(self) -> tuple[object, ...]:
        return (
            self.trial,
            self.record,
            self.as_of,
            self.verdict,
            self.criteria,
            self.record_problems,
        )

    def __repr__(self) -> str:
        return (
            f"Result(trial={self.trial!r}, record={self.record!r}, as_of={self.as_of!r}, "
            f"verdict={self.verdict}, criteria={self.criteria!r}, "
            f"record_problems={self.record_problems!r})"
        )

    @property
    def missing(self) -> tuple[str, ...]:
        """What is missing for the criteria that are UNKNOWN (what to collect to decide)."""
        reasons = [
            reason
            for criterion in self.criteria
            if criterion.outcome is Outcome.UNKNOWN
            for reason in criterion.reasons
        ]
        return tuple(dict.fromkeys(reasons))

    @property
    def review(self) -> tuple[CriterionResult, ...]:
        return tuple(item for item in self.criteria if item.outcome is Outcome.REVIEW)

    def criterion(self, identifier: str) -> CriterionResult:
        for item in self.criteria:
            if item.id.casefold() == identifier.casefold():
                return item
        raise KeyError(identifier)

    def headline(self) -> str:
        review = len(self.review)
        suffix = f" — {review} item{'s' if review != 1 else ''} to confirm" if review else ""
        return f"{self.verdict.value}{suffix}"

    def explain(self) -> str:
        who = f"{self.record}: " if self.record else ""
        lines = [f"{who}{self.headline()}"]
        lines += [f"  {criterion.explain()}" for criterion in self.criteria]
        if self.record_problems:
            lines.append("  record problems: " + "; ".join(self.record_problems))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trial": self.trial,
            "record": self.record,
            "as_of": self.as_of,
            "verdict": self.verdict.value,
            "summary": self.headline(),
            "missing": list(self.missing),
            "review": [item.id for item in self.review],
            "criteria": [item.to_dict() for item in self.criteria],
            "record_problems": list(self.record_problems),
        }


class Truths(Protocol):
    """What turns a compiled evaluation's per-criterion truths into results (the trial)."""

    def criterion_results(self, truths: tuple[Any, ...]) -> tuple[CriterionResult, ...]: ...

    def outcomes_of(self, truths: tuple[Any, ...]) -> tuple[Outcome, ...]: ...


class LazyResult(Result):
    """A :class:`Result` holding the compiled truths: its per-criterion objects (and outcomes)
    are built from them when first read. Screening makes one per record, so it is cheap to
    make: no functions made per record, only the fields."""

    __slots__ = ("_maker", "_truths")

    def __init__(
        self,
        trial: str | None,
        record: str | None,
        as_of: str | None,
        verdict: Verdict,
        maker: Truths,
        truths: tuple[Any, ...],
        record_problems: tuple[str, ...] = (),
    ) -> None:
        self.trial = trial
        self.record = record
        self.as_of = as_of
        self.verdict = verdict
        self._maker = maker
        self._truths = truths
        self.record_problems = record_problems
        self._criteria = self._outcomes = None  # type: ignore[assignment]

    @property
    def criteria(self) -> tuple[CriterionResult, ...]:
        criteria = self._criteria
        if criteria is None:
            criteria = self._criteria = self._maker.criterion_results(self._truths)
        return criteria

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        outcomes = self._outcomes
        if outcomes is None:
            outcomes = self._outcomes = self._maker.outcomes_of(self._truths)
        return outcomes

    @property
    def missing(self) -> tuple[str, ...]:
        # An UNKNOWN truth is the tuple of its reasons: no per-criterion objects needed.
        return tuple(
            dict.fromkeys(
                reason for truth in self._truths if truth.__class__ is tuple for reason in truth
            )
        )


def verdict_of(criteria: tuple[CriterionResult, ...]) -> Verdict:
    """INELIGIBLE if an inclusion is NOT MET or an exclusion is MET; else UNDETERMINED if any is
    UNKNOWN; else ELIGIBLE. REVIEW items never decide the verdict."""
    decided = [item for item in criteria if item.outcome is not Outcome.REVIEW]
    for item in decided:
        failing = Outcome.NOT_MET if item.section == "inclusion" else Outcome.MET
        if item.outcome is failing:
            return Verdict.INELIGIBLE
    if any(item.outcome is Outcome.UNKNOWN for item in decided):
        return Verdict.UNDETERMINED
    return Verdict.ELIGIBLE
