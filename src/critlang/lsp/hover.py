"""Hover text: what a name, a criterion ID, a quantity or an ``x ULN`` means here.

Each function returns Markdown, or None when there is nothing to say. The texts come from the
dictionary entry, the definition, the criterion and the checked IR, with units read and converted
by :mod:`critlang.units`.
"""

from __future__ import annotations

from fractions import Fraction

import attrs

from critlang.errors import UnitError
from critlang.lint.context import LintContext
from critlang.lsp.index import (
    ANCHOR,
    BUILTIN,
    CRITERION,
    DEFINE,
    FUNCTION,
    USE,
    VARIABLE,
    Compared,
    DocumentIndex,
    Occurrence,
)
from critlang.semantics import ir
from critlang.semantics.checker import FUNCTIONS, SELECTORS
from critlang.semantics.dictionary import Variable
from critlang.source import Source, Span
from critlang.syntax import ast
from critlang.syntax.printer import expression_text
from critlang.units import convert_exact, display_name
from critlang.wording import number_text

_BUILTINS = {
    "age": "completed years of age at `screening`, from the record's `birth_date` "
    "(`age_at(A)` gives the age at another anchor)",
    "diagnosis": "any condition of the record, filtered by code: `diagnosis in {ICD10:C34*}`",
}


@attrs.frozen(kw_only=True)
class HoverText:
    """Markdown, and the span of the text it is about."""

    markdown: str
    span: Span


def hover(context: LintContext, index: DocumentIndex, offset: int) -> HoverText | None:
    """What to show for the text at ``offset``."""
    literal = index.literal_at(offset)
    if literal is not None:
        return HoverText(markdown=literal_markdown(literal, index.compared), span=literal.span)
    occurrence = index.occurrence_at(offset)
    if occurrence is None:
        return None
    text = occurrence_markdown(context, index, occurrence)
    return HoverText(markdown=text, span=occurrence.span) if text else None


def occurrence_markdown(
    context: LintContext, index: DocumentIndex, occurrence: Occurrence
) -> str | None:
    """The hover text of a name."""
    kind, key = occurrence.symbol.kind, occurrence.symbol.key
    if kind == VARIABLE:
        variable = context.dictionary.lookup(key)
        return variable_markdown(variable, context) if variable is not None else None
    if kind == DEFINE and key in index.defines:
        site = index.defines[key]
        where = _where(site.source, site.define.span.start, site.path is None)
        body = expression_text(site.define.expr)
        return f"**define {site.define.name}**\n\n```critlang\n{body}\n```\n\n{where}"
    if kind == CRITERION and key in index.criteria:
        return criterion_markdown(index.criteria[key])
    if kind == ANCHOR:
        return f"**anchor {occurrence.text}**: a date each record gives under `anchors`"
    if kind == BUILTIN:
        return f"**{key}** (built in): {_BUILTINS[key]}"
    if kind == FUNCTION:
        return _function_markdown(key)
    if kind == USE:
        used = next((u for u in context.uses if u.use.path == key), None)
        target = used.path if used is not None and used.path is not None else None
        return f"**use** `{key}`" + (f": `{target}`" if target else " (not found)")
    return None


def variable_markdown(variable: Variable, context: LintContext) -> str:
    """A dictionary entry: kind, unit, codes, ranges, aliases, and where it is declared."""
    title = f"**{variable.name}**" + (f" — {variable.label}" if variable.label else "")
    lines = [title, "", f"*{variable.kind}*, {_value_type(variable)}"]
    if variable.codes:
        lines.append("codes: " + ", ".join(f"`{code}`" for code in variable.codes))
    unit = f" {variable.unit.code}" if variable.unit is not None else ""
    for label, bounds in (("plausible", variable.plausible), ("normal", variable.normal)):
        if bounds is not None:
            lines.append(f"{label}: {_bounds(bounds)}{unit}")
    if variable.molar_mass is not None:
        lines.append(f"molar mass: {number_text(variable.molar_mass)} g/mol")
    if variable.accepts:
        lines.append("accepts: " + ", ".join(f"`{code}`" for code in variable.accepts))
    if variable.aliases:
        lines.append("aliases: " + ", ".join(variable.aliases))
    lines.append(_declared_in(variable, context))
    return "  \n".join(lines[:2]) + "\n" + "  \n".join(lines[2:])


def criterion_markdown(criterion: ast.Criterion) -> str:
    """A criterion's ID, section and protocol text (and what a reviewer decides)."""
    text = criterion.text if criterion.text is not None else "*(no protocol text)*"
    lines = [f"**{criterion.id}** ({criterion.section})", "", text]
    if isinstance(criterion.body, ast.Review):
        lines += ["", f"review: {criterion.body.text or '(by the investigator)'}"]
    return "\n".join(lines)


def literal_markdown(
    literal: ast.Quantity | ast.LimitMultiple, compared: dict[int, Compared]
) -> str:
    """A quantity in the compared value's unit, or which reference range an ``x ULN`` uses."""
    found = compared.get(id(literal))
    if isinstance(literal, ast.LimitMultiple):
        return _limit_markdown(literal, found.other if found else None)
    written = f"{literal.text or number_text(Fraction(literal.value))}"
    reading = f"`{literal.unit}`: {display_name(literal.unit)}"
    if found is None:
        return f"`{written}`  \n{reading}"
    target, molar_mass, subject = _target(found.other)
    if target is None or target == literal.unit:
        return f"`{written}`  \n{reading}" + (f"  \nthe unit of {subject}" if subject else "")
    try:
        value = convert_exact(literal.value, literal.unit, target, molar_mass=molar_mass)
    except UnitError as error:
        return f"`{written}`  \n{reading}  \ncannot be compared with {subject}: {error.reason}"
    converted = f"{number_text(value)} {target}"
    return f"`{written}` = **{converted}**  \n{reading}  \n{subject} is in `{target}`"


def _target(other: ir.Value) -> tuple[str | None, Fraction | None, str]:
    """The unit a literal compared with ``other`` is best shown in, the molar mass, and what
    ``other`` is."""
    variable = getattr(other, "variable", None)
    if isinstance(variable, Variable) and variable.unit is not None:
        return variable.unit.code, variable.molar_mass, f"`{variable.name}`"
    unit = other.type.unit
    return (unit.code if unit is not None else None), None, f"`{expression_text(other.origin)}`"


def _limit_markdown(limit: ast.LimitMultiple, other: ir.Value | None) -> str:
    factor = number_text(Fraction(limit.factor))
    name = "upper" if limit.limit == "ULN" else "lower"
    side = "high" if limit.limit == "ULN" else "low"
    head = f"**{factor} x {limit.limit}**: {factor} × the {name} limit of normal"
    variable = getattr(other, "variable", None)
    if not isinstance(variable, Variable):
        return head + " of the lab result it is compared with"
    lines = [
        head + f" of `{variable.name}`",
        "",
        f"uses each {variable.name} result's own reference range (its `{side}`)",
    ]
    bounds = variable.normal
    limit_value = None if bounds is None else bounds[1 if limit.limit == "ULN" else 0]
    unit = variable.unit.code if variable.unit is not None else ""
    if limit_value is not None:
        bound = Fraction(limit.factor) * limit_value
        lines.append(
            f"when a result has none: the dictionary's normal range, {limit.limit} "
            f"{number_text(limit_value)} {unit} ({factor} × {number_text(limit_value)} = "
            f"{number_text(bound)} {unit})"
        )
    else:
        lines.append(
            f"when a result has none, the comparison is UNKNOWN (no default {limit.limit})"
        )
    return "  \n".join(lines)


def _function_markdown(key: str) -> str | None:
    if key in SELECTORS:
        return (
            f"**{key}(...)**: a selector: which of a lab's results (or how many occurrences) "
            "the comparison uses"
        )
    if key in FUNCTIONS:
        arity = FUNCTIONS[key]
        takes = (
            "one or more arguments" if arity is None else f"{arity} argument{'s' * (arity != 1)}"
        )
        return f"**{key}(...)**: built-in function, {takes}"
    return None


def _value_type(variable: Variable) -> str:
    if variable.value_type == "quantity" and variable.unit is not None:
        code = variable.unit.code
        return f"unit `{code}` ({display_name(code)})"
    if variable.value_type == "symbol":
        return "one of {" + ", ".join(sorted(variable.symbols)) + "}"
    return variable.value_type


def _bounds(bounds: tuple[Fraction | None, Fraction | None]) -> str:
    low, high = bounds
    return f"{number_text(low) if low is not None else ''}..{number_text(high) if high is not None else ''}"


def _declared_in(variable: Variable, context: LintContext) -> str:
    source = variable.source
    if source is None or variable.declaration is None:
        return "built in"
    return _where(source, variable.declaration.span.start, source is context.source)


def _where(source: Source, offset: int, here: bool) -> str:
    line, _ = source.location(offset)
    return f"declared on line {line}" if here else f"declared in `{source.name}`, line {line}"
