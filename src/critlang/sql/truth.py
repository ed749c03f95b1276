"""Kleene logic in SQL: a condition is a nullable BOOLEAN, NULL standing for UNKNOWN.

SQL's own AND, OR and NOT are Kleene on NULL, but a WHERE or a CASE treats NULL as false, NOT IN
over a list with a NULL is never true, and aggregates skip NULLs. So every connective here is
written out with CASE over tests that are themselves two-valued (:func:`is_true`,
:func:`is_false`, ``IS NULL``), and each CASE has its ELSE: the same truth table on every engine.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp


def and_(*items: exp.Expr) -> exp.Expr:
    """``a AND b …`` of expressions built for it (not copied)."""
    return exp.and_(*items, copy=False)


def or_(*items: exp.Expr) -> exp.Expr:
    """``a OR b …`` of expressions built for it (not copied)."""
    return exp.or_(*items, copy=False)


def unknown() -> exp.Expr:
    """UNKNOWN: a NULL typed BOOLEAN."""
    return exp.cast(exp.Null(), exp.DataType(this=exp.DataType.Type.BOOLEAN), copy=False)


def true() -> exp.Expr:
    """TRUE."""
    return exp.true()


def false() -> exp.Expr:
    """FALSE."""
    return exp.false()


def is_true(truth: exp.Expr) -> exp.Expr:
    """TRUE when ``truth`` is TRUE, else FALSE (never NULL)."""
    return exp.func("COALESCE", truth.copy(), exp.false())


def is_false(truth: exp.Expr) -> exp.Expr:
    """TRUE when ``truth`` is FALSE, else FALSE (never NULL)."""
    return exp.not_(exp.func("COALESCE", truth.copy(), exp.true()))


def is_unknown(truth: exp.Expr) -> exp.Expr:
    """TRUE when ``truth`` is UNKNOWN (NULL)."""
    return exp.Is(this=truth.copy(), expression=exp.Null())


def _any(tests: Sequence[exp.Expr]) -> exp.Expr:
    return or_(*tests) if len(tests) > 1 else tests[0]


def case(*branches: tuple[exp.Expr, exp.Expr], default: exp.Expr) -> exp.Expr:
    """``CASE WHEN test THEN value ... ELSE default END``, without the branches that cannot
    matter (a test that is the literal FALSE, those after a literal TRUE, trailing ones giving
    the default anyway): ``default`` alone when none is left."""
    kept: list[tuple[exp.Expr, exp.Expr]] = []
    for test, value in branches:
        if isinstance(test, exp.Boolean):
            if test.this:
                default = value
                break
            continue
        kept.append((test, value))
    while kept and kept[-1][1] == default:
        kept.pop()
    if not kept:
        return default
    return exp.Case(ifs=[exp.If(this=test, true=value) for test, value in kept], default=default)


def kleene_and(items: Sequence[exp.Expr]) -> exp.Expr:
    """FALSE if any item is FALSE; else UNKNOWN if any is UNKNOWN; else TRUE."""
    return case(
        (_any([is_false(item) for item in items]), false()),
        (_any([is_unknown(item) for item in items]), unknown()),
        default=true(),
    )


def kleene_or(items: Sequence[exp.Expr]) -> exp.Expr:
    """TRUE if any item is TRUE; else UNKNOWN if any is UNKNOWN; else FALSE."""
    return case(
        (_any([is_true(item) for item in items]), true()),
        (_any([is_unknown(item) for item in items]), unknown()),
        default=false(),
    )


def kleene_not(item: exp.Expr) -> exp.Expr:
    """FALSE for TRUE, TRUE for FALSE, UNKNOWN for UNKNOWN."""
    return case((is_true(item), false()), (is_false(item), true()), default=unknown())


def implies(premise: exp.Expr, conclusion: exp.Expr) -> exp.Expr:
    """``not premise or conclusion``."""
    return case(
        (or_(is_false(premise), is_true(conclusion)), true()),
        (or_(is_unknown(premise), is_unknown(conclusion)), unknown()),
        default=false(),
    )


def branch(test: exp.Expr, then: exp.Expr, otherwise: exp.Expr) -> exp.Expr:
    """``if test then … else …``: with an UNKNOWN test, the branches decide it only when they
    agree (the evaluator's rule)."""
    return case(
        (is_true(test), then.copy()),
        (is_false(test), otherwise.copy()),
        (and_(is_true(then), is_true(otherwise)), true()),
        (and_(is_false(then), is_false(otherwise)), false()),
        default=unknown(),
    )


def known(test: exp.Expr) -> exp.Expr:
    """A SQL test as a truth, explicitly: UNKNOWN when ``test`` is NULL."""
    return case((is_unknown(test), unknown()), (test.copy(), true()), default=false())


def decided(value: bool | None) -> exp.Expr:
    """A constant truth."""
    return unknown() if value is None else (exp.true() if value else exp.false())


def outcome(truth: exp.Expr) -> exp.Expr:
    """The criterion's outcome text: ``met``, ``not_met`` or ``unknown``."""
    return case(
        (is_true(truth), exp.Literal.string("met")),
        (is_false(truth), exp.Literal.string("not_met")),
        default=exp.Literal.string("unknown"),
    )


def verdict(
    inclusions: Sequence[exp.Expr],
    exclusions: Sequence[exp.Expr],
    error: exp.Expr,
) -> exp.Expr:
    """SPEC §4: ineligible if an inclusion is NOT MET or an exclusion MET; else undetermined if
    any is UNKNOWN; else eligible. ``error`` marks a person the reader gives no record for."""
    failing = [is_false(item) for item in inclusions] + [is_true(item) for item in exclusions]
    undecided = [is_unknown(item) for item in (*inclusions, *exclusions)]
    branches = [(error, exp.Literal.string("error"))]
    if failing:
        branches.append((_any(failing), exp.Literal.string("ineligible")))
    if undecided:
        branches.append((_any(undecided), exp.Literal.string("undetermined")))
    return case(*branches, default=exp.Literal.string("eligible"))


__all__ = [
    "and_",
    "branch",
    "case",
    "decided",
    "false",
    "implies",
    "is_false",
    "is_true",
    "is_unknown",
    "kleene_and",
    "kleene_not",
    "kleene_or",
    "known",
    "or_",
    "outcome",
    "true",
    "unknown",
    "verdict",
]
