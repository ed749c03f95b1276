"""Completion: what may be typed at the cursor, judged from the text before it on its line.

- after a number compared with a variable (``ANC >= 1.5 ``): the units of the variable's kind,
  its own unit first, each as ``critlang fmt`` spells it;
- after ``before``/``after``/``of``: the anchors;
- after ``=`` or inside ``in {...}`` with a variable of categories (``sex = ``): its categories;
- after ``k x``: ``ULN`` and ``LLN``;
- elsewhere: the dictionary's variables (with kind and unit), the definitions, the built-ins and
  functions, the keywords, and snippets for a criterion and for ``if … then … else``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from fractions import Fraction

from lsprotocol import types

from critlang.errors import CritlangError
from critlang.fmt.units import canonical_unit
from critlang.lint.context import LintContext
from critlang.lsp.index import BUILTINS, DocumentIndex
from critlang.lsp.positions import LineIndex
from critlang.semantics.checker import FUNCTIONS, SELECTORS
from critlang.semantics.dictionary import Dictionary, Variable, standard
from critlang.source import Span
from critlang.syntax.parser import grammar_text
from critlang.units import convert_exact, display_name, same_kind
from critlang.wording import number_text

_OPERATOR = r"(?:<=|>=|!=|==|<|>|=|≤|≥|≠|\bnot\s+in\b|\bin\b)"
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_UNIT_AFTER = re.compile(
    rf"(?P<subject>.*?){_OPERATOR}\s*(?:{_NUMBER}\s*\.\.\s*)?(?P<number>{_NUMBER})"
    r"(?:\s+(?P<partial>[^\s()]*)|(?P<glued>[^\s\d().][^\s()]*))$"
)
_ANCHOR_AFTER = re.compile(r"\b(?:before|after|of)\s+(?P<partial>\w*)$")
_CATEGORY_AFTER = re.compile(
    r"(?P<subject>\w+)\s*(?:(?:=|!=|≠)\s*|(?:not\s+)?in\s*\{[^}]*?)(?P<partial>\w*)$"
)
_LIMIT_AFTER = re.compile(rf"{_NUMBER}\s*[x×]\s+(?P<partial>\w*)$")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SECTION = re.compile(r"^\s*(inclusion|exclusion)\b", re.M)
# Units offered besides those of the standard dictionary: common alternatives in lab reports.
# fmt: off
_EXTRA_UNITS = (
    "10*9/L", "10*3/uL", "10*6/uL", "/uL", "/mm3", "/L", "g/dL", "g/L", "mg/dL", "mg/L", "ug/L",
    "ug/dL", "ng/mL", "ng/dL", "pg/mL", "umol/L", "mmol/L", "nmol/L", "pmol/L", "U/L", "[IU]/L",
    "U/mL", "[IU]/mL", "m[IU]/mL", "%", "mL/min", "mL/min/{1.73_m2}", "L/h", "mm[Hg]", "kPa",
    "ms", "s", "min", "h", "d", "wk", "mo", "a", "kg", "g", "cm", "m", "m2", "Gy", "cGy",
    "{copies}/mL", "[iU]/mL", "meq/L", "mg/g", "mg/mmol", "/min", "Cel",
)
# fmt: on


def complete(
    context: LintContext,
    index: DocumentIndex,
    text: str,
    offset: int,
    lines: LineIndex,
    snippets: bool,
) -> list[types.CompletionItem]:
    """The completion items at ``offset`` of ``text`` (the editor's current text)."""
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset]
    if _in_string_or_comment(before):
        return []
    dictionary = context.dictionary
    unit = _UNIT_AFTER.match(before)
    if unit is not None:
        variable = _subject(unit.group("subject"), dictionary, index)
        if variable is None:
            return []
        partial = (
            unit.group("partial") if unit.group("partial") is not None else unit.group("glued")
        )
        replace = lines.range(Span(offset - len(partial), offset))
        return list(unit_items(variable, Fraction(unit.group("number")), replace))
    if _ANCHOR_AFTER.search(before):
        return list(anchor_items(dictionary))
    if _LIMIT_AFTER.search(before):
        return list(limit_items())
    category = _CATEGORY_AFTER.search(before)
    found = list(category_items(category.group("subject"), dictionary)) if category else []
    return found or general_items(context, index, text, offset, snippets)


def _in_string_or_comment(before: str) -> bool:
    """True when the cursor is inside a quoted text or after ``#`` (outside quotes)."""
    quoted = False
    for char in before:
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return True
    return quoted


def _subject(text: str, dictionary: Dictionary, index: DocumentIndex) -> Variable | None:
    """The variable with a unit nearest before a comparison (``max(ALT within ...) <=``)."""
    for match in reversed(list(_IDENTIFIER.finditer(text))):
        name = match.group(0)
        if name.casefold() in index.defines:
            return None
        if name.casefold() == "age":
            return _AGE
        variable = dictionary.lookup(name)
        if variable is not None:
            return variable if variable.unit is not None else None
        if name in ("and", "or", "then", "else", "if", "not", "implies"):
            return None
    return None


def unit_items(
    variable: Variable, value: Fraction, replace: types.Range
) -> Iterator[types.CompletionItem]:
    """The units a threshold for ``variable`` may be written in: its own first, then the others
    by how close they are in size to it (``/uL`` and ``x10^3/uL`` before ``/L`` for ANC)."""
    assert variable.unit is not None
    target = variable.unit.code
    candidates = [
        (code, _factor(code, target, variable))
        for code in dict.fromkeys([target, *variable.accepts, *unit_codes()])
        if _converts(code, target, variable)
    ]
    candidates.sort(key=lambda pair: (pair[0] != target, _distance(pair[1])))
    for rank, (code, factor) in enumerate(candidates):
        spelling = unit_spelling(code, value)
        detail = f"{code}: {display_name(code)}"
        if code != target:
            detail += f"; 1 {code} = {number_text(factor)} {target}"
        yield types.CompletionItem(
            label=spelling,
            kind=types.CompletionItemKind.Unit,
            detail=detail,
            sort_text=f"{rank:03d}",
            filter_text=spelling,
            text_edit=types.TextEdit(range=replace, new_text=spelling),
        )


def _factor(code: str, target: str, variable: Variable) -> Fraction:
    """How many ``target`` units one ``code`` unit is (an accepted unit is read as the target)."""
    if code in variable.accepts:
        return Fraction(1)
    return convert_exact(1, code, target, molar_mass=variable.molar_mass)


def _distance(factor: Fraction) -> float:
    """How far a conversion factor is from 1, in orders of magnitude."""
    return abs(math.log10(factor)) if factor > 0 else math.inf


def _converts(code: str, target: str, variable: Variable) -> bool:
    if code == target or code in variable.accepts:
        return True
    try:
        if same_kind(code, target):
            return True
        if variable.molar_mass is None:
            return False
        convert_exact(1, code, target, molar_mass=variable.molar_mass)
    except CritlangError:
        return False
    return True


@functools.cache
def unit_codes() -> tuple[str, ...]:
    """Every unit of the standard dictionary, and common alternatives."""
    codes = [v.unit.code for v in standard().unique() if v.unit is not None]
    return tuple(dict.fromkeys([*_EXTRA_UNITS, *codes]))


@functools.lru_cache(maxsize=1024)
def unit_spelling(code: str, value: Fraction) -> str:
    """The unit as ``critlang fmt`` writes it after ``value`` (``x10^9/L``, ``years``)."""
    from decimal import Decimal

    number = Decimal(value.numerator) / Decimal(value.denominator)
    return canonical_unit(code, code, number)


def anchor_items(dictionary: Dictionary) -> Iterator[types.CompletionItem]:
    """The anchors windows may be measured from."""
    for name in sorted(dictionary.anchors):
        yield types.CompletionItem(
            label=name, kind=types.CompletionItemKind.Constant, detail="anchor (a date)"
        )


def limit_items() -> Iterator[types.CompletionItem]:
    """``ULN`` and ``LLN``, after ``k x``."""
    for limit, text in (("ULN", "upper"), ("LLN", "lower")):
        yield types.CompletionItem(
            label=limit,
            kind=types.CompletionItemKind.Keyword,
            detail=f"the result's {text} limit of normal",
        )


def category_items(subject: str, dictionary: Dictionary) -> Iterator[types.CompletionItem]:
    """The categories of a variable that takes words (``sex = female``)."""
    variable = dictionary.lookup(subject)
    if variable is None or not variable.symbols:
        return
    for symbol in sorted(variable.symbols):
        yield types.CompletionItem(
            label=symbol,
            kind=types.CompletionItemKind.EnumMember,
            detail=f"a category of {variable.name}",
        )


def general_items(
    context: LintContext, index: DocumentIndex, text: str, offset: int, snippets: bool
) -> list[types.CompletionItem]:
    """Names, keywords and snippets, where an expression or an item may start."""
    items = [*variable_items(context.dictionary), *define_items(index), *builtin_items()]
    items += keyword_items()
    items += snippet_items(text, offset, snippets)
    return items


def variable_items(dictionary: Dictionary) -> Iterator[types.CompletionItem]:
    """Every dictionary entry, with its kind, unit and label."""
    for variable in dictionary.unique():
        detail = variable.describe() + (f" — {variable.label}" if variable.label else "")
        yield types.CompletionItem(
            label=variable.name,
            kind=types.CompletionItemKind.Variable,
            detail=detail,
            sort_text="1" + variable.name.casefold(),
            data={"variable": variable.name},
        )


def define_items(index: DocumentIndex) -> Iterator[types.CompletionItem]:
    """The definitions the document can use."""
    for site in index.defines.values():
        yield types.CompletionItem(
            label=site.define.name,
            kind=types.CompletionItemKind.Function,
            detail="define",
            sort_text="0" + site.define.name.casefold(),
        )


def builtin_items() -> Iterator[types.CompletionItem]:
    """``age``, ``diagnosis``, the functions and the selectors."""
    for name in BUILTINS:
        yield types.CompletionItem(
            label=name,
            kind=types.CompletionItemKind.Variable,
            detail="built in",
            sort_text="1" + name,
        )
    for name in dict.fromkeys([*FUNCTIONS, *SELECTORS]):
        yield types.CompletionItem(
            label=name,
            kind=types.CompletionItemKind.Function,
            detail="function",
            sort_text="2" + name,
        )


@functools.cache
def keywords() -> tuple[str, ...]:
    """The grammar's keywords (its quoted words), and ``ULN``/``LLN``."""
    words = re.findall(r'"([a-z_]+)"i?', grammar_text())
    return tuple(sorted({*words, "ULN", "LLN"}))


def keyword_items() -> Iterator[types.CompletionItem]:
    """Every keyword."""
    for word in keywords():
        yield types.CompletionItem(
            label=word, kind=types.CompletionItemKind.Keyword, sort_text="3" + word
        )


def snippet_items(text: str, offset: int, snippets: bool) -> Iterator[types.CompletionItem]:
    """A criterion (at the start of a line, with the next free ID of its section) and
    ``if … then … else``."""
    line_start = text.rfind("\n", 0, offset) + 1
    at_line_start = not text[line_start:offset].strip(" \t") or bool(
        re.fullmatch(r"\s*\w*", text[line_start:offset])
    )
    if at_line_start:
        identifier = next_criterion_id(text, offset)
        body = f'${{1:{identifier}}} "${{2:protocol text}}": ${{0:expression}}'
        yield _snippet("criterion", body, f'{identifier} "protocol text": expression', snippets)
    body = "if ${1:condition} then ${2:expression} else ${0:expression}"
    yield _snippet(
        "if … then … else", body, "if condition then expression else expression", snippets
    )


def _snippet(label: str, body: str, plain: str, snippets: bool) -> types.CompletionItem:
    return types.CompletionItem(
        label=label,
        kind=types.CompletionItemKind.Snippet,
        detail=plain,
        sort_text="0~" + label,
        filter_text=label.split()[0],
        insert_text=body if snippets else plain,
        insert_text_format=(
            types.InsertTextFormat.Snippet if snippets else types.InsertTextFormat.PlainText
        ),
    )


def next_criterion_id(text: str, offset: int) -> str:
    """``I14`` after I1 … I13 in the inclusion section the cursor is in (``E…`` in exclusion)."""
    sections = list(_SECTION.finditer(text, 0, offset))
    prefix = "E" if sections and sections[-1].group(1) == "exclusion" else "I"
    numbers = [
        int(match.group(1)) for match in re.finditer(rf"^\s*{prefix}(\d+)[\w.]*\s", text, re.M)
    ]
    return f"{prefix}{max(numbers, default=0) + 1}"


def _age() -> Variable:
    from critlang.units import parse_unit

    return Variable(name="age", kind="fact", label="Age in completed years", unit=parse_unit("a"))


_AGE = _age()
