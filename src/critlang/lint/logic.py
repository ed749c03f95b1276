"""What the logic rules (CL3xx) share: the file's analysis (:func:`file_analysis`), criteria and
conditions, and how findings quote them. The reasoning itself is in
:mod:`critlang.lint.intervals`, :mod:`critlang.lint.thresholds` and (for a section's criteria
taken together) :mod:`critlang.lint.sections`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from critlang.lint.context import LintContext
from critlang.lint.intervals import Analysis, atom
from critlang.semantics import ir
from critlang.source import Span
from critlang.syntax import ast
from critlang.syntax.printer import expression_text

MAX_QUOTE = 70


def file_analysis(context: LintContext) -> Analysis:
    """The file's interval analysis, shared by the logic rules: each condition's normal form is
    computed once per file, whichever rule asks first."""
    return context.memo("critlang.lint.intervals", Analysis)


def criteria(context: LintContext, section: str) -> list[tuple[ir.CheckedCriterion, ir.Condition]]:
    """The checked criteria of one section (``inclusion``/``exclusion``) that have a condition."""
    return [
        (criterion, criterion.condition)
        for criterion in context.criteria
        if criterion.section == section and criterion.condition is not None
    ]


def conditions(context: LintContext) -> Iterator[tuple[ast.Criterion | ast.Define, ir.Condition]]:
    """Every checked criterion condition and every condition definition of the file."""
    for owner, root in context.checked():
        if not isinstance(root, ir.VALUE_NODES):
            yield owner, root


def owner_text(owner: ast.Criterion | ast.Define) -> tuple[str, Span]:
    """How a finding names a criterion (``inclusion `I3` ``) or a definition, and the span of its
    expression."""
    if isinstance(owner, ast.Criterion):
        return f"{owner.section} `{owner.id}`", owner.body.span
    return f"definition `{owner.name}`", owner.expr.span


def body_span(criterion: ir.CheckedCriterion) -> Span:
    """The criterion's expression, where findings about the whole criterion point."""
    return criterion.origin.body.span


def quote(node: ir.Condition | ir.Value, limit: int = MAX_QUOTE) -> str:
    """The node as written, in backticks, shortened when long."""
    text = " ".join(expression_text(node.origin).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return f"`{text}`"


def quote_all(nodes: Sequence[ir.Condition], joiner: str = "and") -> str:
    quoted = [quote(node) for node in nodes]
    if len(quoted) <= 2:
        return f" {joiner} ".join(quoted)
    return ", ".join(quoted[:-1]) + f" {joiner} " + quoted[-1]


def contradiction(parts: Sequence[ir.Condition]) -> str:
    """``"`a` is never true"``, ``"`a` and `b` cannot both hold"``, ``"... cannot all hold"``."""
    if len(parts) == 1:
        return f"{quote(parts[0])} is never true"
    return f"{quote_all(parts)} cannot {'both' if len(parts) == 2 else 'all'} hold"


def conjuncts(node: ir.Condition) -> list[ir.Condition]:
    """The parts of a conjunction, with nested ``and``s and definitions opened: what a
    contradiction is explained with."""
    while isinstance(node, ir.DefinedCondition):
        node = node.body
    if isinstance(node, ir.All):
        return [part for item in node.items for part in conjuncts(item)]
    return [node]


def children(node: ir.Condition) -> list[ir.Condition]:
    """The conditions directly inside ``node`` as written (definitions are not entered)."""
    if isinstance(node, ir.All | ir.Any_):
        return list(node.items)
    if isinstance(node, ir.Negation):
        return [node.item]
    if isinstance(node, ir.Implication):
        return [node.premise, node.conclusion]
    if isinstance(node, ir.Branch):
        return [node.condition, node.then, node.otherwise]
    return []


def outermost(root: ir.Condition, found: Callable[[ir.Condition], bool]) -> Iterator[ir.Condition]:
    """The conditions inside ``root`` (not ``root`` itself), in text order, for which ``found``
    is true, without looking inside those."""
    stack = list(reversed(children(root)))
    while stack:
        node = stack.pop()
        if found(node):
            yield node
        else:
            stack.extend(reversed(children(node)))


def is_leaf(node: ir.Condition) -> bool:
    return isinstance(node, ir.Comparison | ir.InRange | ir.InSet)


def beyond_domain(node: ir.Condition) -> bool:
    """A comparison whose threshold no real value reaches (``ANC >= 1500 x10^9/L``): reported
    by implausible-threshold (CL203), so the logic rules keep quiet about it."""
    found = atom(node) if is_leaf(node) else None
    return found is not None and found.beyond_domain


def labels(node: ir.Condition, analysis: Analysis) -> list[str]:
    """The values a condition reads, as messages name them (``age``, ``ANC``)."""
    from critlang.lint.intervals import TooComplex

    try:
        terms = analysis.dnf(node) + analysis.dnf(node, positive=False)
    except TooComplex:
        return []
    found: list[str] = []
    for term in terms:
        for key in term:
            if not key.opaque and key.label not in found:
                found.append(key.label)
    return found


def known_phrase(node: ir.Condition, analysis: Analysis) -> str:
    """``whose age is known``, ``whose age and ECOG are known``: the patients a claim about
    complete values covers."""
    names = labels(node, analysis)
    if not names:
        return "whose data are complete"
    shown = [f"`{name}`" for name in names[:3]]
    if len(names) > 3:
        shown = [*shown[:2], "the other values it reads"]
    text = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return f"whose {text} {'is' if len(shown) == 1 else 'are'} known"
