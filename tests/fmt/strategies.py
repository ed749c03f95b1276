"""Random programs for the formatter's properties: an AST, and a source text that parses to it.

:func:`sources` draws a program as an AST (trial header, uses, definitions, declarations, inclusion
and exclusion criteria with every expression construct of the grammar), then writes it with a
random layout: random spacing, line breaks and indentation, redundant parentheses, every
spelling of units and operators, and comments at random token boundaries, on their own lines or
at the ends of lines. It returns the text, the AST it must parse to and the comments it holds.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

import attrs
from hypothesis import strategies as st

from critlang.syntax import ast
from critlang.syntax.printer import (
    LEVEL_COMPARE,
    LEVEL_IF,
    LEVEL_IMPLIES,
    LEVEL_NOT,
    LEVEL_OR,
    LEVEL_POSTFIX,
    LEVEL_SUM,
    LEVEL_UNARY,
    binding_level,
)
from critlang.units import parse_unit

NAMES = [
    "age",
    "ANC",
    "ECOG",
    "sex",
    "weight",
    "female",
    "positive",
    "liver_metastases",
    "chemotherapy",
    "cervical_carcinoma_in_situ",
    "chronic_immunosuppression_required",
    "pregnancy_test",
]
ANCHORS = ["screening", "treatment", "consent"]
FUNCTIONS = ["max", "count", "abs", "age_at", "bmi", "cockcroft_gault"]
NUMBERS = ["0", "1", "2", "2.5", "18", "1.50", "10", "100", "1e3", "0.75"]
UNITS = [
    "x10^9/L",
    "×10⁹/L",
    "10^9/L",
    "10*9/L",
    "x10*9/L",
    "x10^8/L",
    "10*3/uL",
    "K/uL",
    "/uL",
    "/µL",
    "g/dL",
    "g/L",
    "mg/dL",
    "umol/L",
    "µmol/L",
    "ng/mL",
    "%",
    "mmHg",
    "mm[Hg]",
    "mL/min",
    "mL/min/1.73m2",
    "mL/min/{1.73_m2}",
    "IU/L",
    "[IU]/L",
    "mIU/mL",
    "U/L",
    "kg",
    "kg/m2",
    "mcg",
    "mEq/L",
    "Cel",
    "°C",
]
DURATIONS = [
    "years",
    "year",
    "a",
    "yr",
    "months",
    "month",
    "mo",
    "weeks",
    "wk",
    "days",
    "day",
    "d",
    "hours",
    "h",
    "hr",
    "minutes",
]
CODES = ["ICD10:C34.1", "ICD10:C34*", "SNOMED:254637007", "LOINC:751-8", "ATC:L01*", "RXNORM:42"]
DATES = ["2025-04-18", "2024-12-31", "2025-06-02T08:30"]
TEXTS = [
    "",
    "Age ≥18 years",
    'quoted "word" inside',
    "hash # is not a comment",
    "back\\slash",
    "ECOG 0-2; (see protocol)",
]
COMMENTS = [
    "#",
    "# note",
    "# ≥ unicode: 1.5×10⁹/L",
    "## two hashes",
    '# "quoted" and ) paren',
    "#x",
]
COMPARATORS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": "=", "!=": "!="}
COMPARATOR_SPELLINGS = {"<=": ["<=", "≤"], ">=": [">=", "≥"], "!=": ["!=", "≠"], "=": ["=", "=="]}


# ---- the AST ------------------------------------------------------------------------------------


def _number(text: str) -> ast.Number:
    return ast.Number(value=Decimal(text), text=text)


def _signed_number(text: str, negative: bool) -> ast.Number:
    return ast.Number(value=-Decimal(text), text=f"-{text}") if negative else _number(text)


def _quantity(number: str, unit: str) -> ast.Quantity:
    return ast.Quantity(
        value=Decimal(number), unit=parse_unit(unit).code, unit_text=unit, text=f"{number} {unit}"
    )


def _code(text: str) -> ast.Code:
    system, _, code = text.partition(":")
    return ast.Code(system="RxNorm" if system == "RXNORM" else system, code=code)


def _date(text: str) -> ast.DateLiteral:
    value = (
        datetime.datetime.fromisoformat(text) if "T" in text else datetime.date.fromisoformat(text)
    )
    return ast.DateLiteral(value=value, text=text)


names = st.sampled_from(NAMES).map(lambda name: ast.Name(name=name))
numbers = st.sampled_from(NUMBERS).map(_number)
signed_numbers = st.builds(_signed_number, st.sampled_from(NUMBERS), st.booleans())
quantities = st.builds(_quantity, st.sampled_from(NUMBERS), st.sampled_from(UNITS))
durations = st.builds(_quantity, st.sampled_from(NUMBERS), st.sampled_from(DURATIONS))
limit_multiples = st.builds(
    lambda factor, limit: ast.LimitMultiple(factor=Decimal(factor), limit=limit),
    st.sampled_from(NUMBERS),
    st.sampled_from(["ULN", "LLN"]),
)
dates = st.sampled_from(DATES).map(_date)
codes = st.sampled_from(CODES).map(_code)
strings = st.sampled_from(TEXTS).map(lambda text: ast.String(value=text))
booleans = st.booleans().map(lambda value: ast.Boolean(value=value))

bounds = st.one_of(signed_numbers, quantities, limit_multiples, dates)
ranges = st.one_of(
    st.builds(lambda low, high: ast.Range(low=low, high=high), bounds, bounds),
    st.builds(lambda high: ast.Range(low=None, high=high), bounds),
    st.builds(lambda low: ast.Range(low=low, high=None), bounds),
)
set_items = st.one_of(
    st.sampled_from(NAMES).map(lambda name: ast.Symbol(name=name)), codes, strings, signed_numbers
)
sets = st.lists(set_items, max_size=12).map(lambda items: ast.SetLiteral(items=tuple(items)))
anchors = st.one_of(st.sampled_from(ANCHORS).map(lambda name: ast.Name(name=name)), dates)
windows = st.one_of(
    st.builds(
        lambda duration, side, anchor: ast.Window(
            kind="within", side=side, duration=duration, anchor=anchor
        ),
        durations,
        st.sampled_from(["before", "after", "of"]),
        anchors,
    ),
    st.builds(
        lambda kind, anchor: ast.Window(kind=kind, anchor=anchor),
        st.sampled_from(["before", "after"]),
        anchors,
    ),
    st.builds(
        lambda duration, anchor: ast.Window(
            kind="at_least_before", duration=duration, anchor=anchor
        ),
        durations,
        anchors,
    ),
)


def _logical(operator: str, operands: list[ast.Expr]) -> ast.Logical:
    # The parser flattens a chain of one operator, however it is parenthesised.
    flat: list[ast.Expr] = []
    for operand in operands:
        if isinstance(operand, ast.Logical) and operand.operator == operator:
            flat.extend(operand.operands)
        else:
            flat.append(operand)
    return ast.Logical(operator=operator, operands=tuple(flat))


def _extend(inner: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
    return st.one_of(
        st.builds(
            lambda operator, left, right: ast.Compare(operator=operator, left=left, right=right),
            st.sampled_from(sorted(COMPARATORS)),
            inner,
            inner,
        ),
        st.builds(
            _logical, st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=5)
        ),
        st.builds(lambda operand: ast.Not(operand=operand), inner),
        st.builds(lambda left, right: ast.Implies(left=left, right=right), inner, inner),
        st.builds(
            lambda condition, then, otherwise: ast.IfThenElse(
                condition=condition, then=then, otherwise=otherwise
            ),
            inner,
            inner,
            inner,
        ),
        st.builds(lambda expr, window: ast.Windowed(expr=expr, window=window), inner, windows),
        st.builds(lambda expr, excluded: ast.Except(expr=expr, excluded=excluded), inner, inner),
        st.builds(
            lambda value, target, negated: ast.Member(value=value, target=target, negated=negated),
            inner,
            st.one_of(ranges, sets, names, codes),
            st.booleans(),
        ),
        st.builds(
            lambda value, known: ast.Presence(value=value, known=known), inner, st.booleans()
        ),
        st.builds(
            lambda operator, left, right: ast.Arithmetic(operator=operator, left=left, right=right),
            st.sampled_from(["+", "-", "*", "/"]),
            inner,
            inner,
        ),
        st.builds(
            lambda base, exponent: ast.Power(base=base, exponent=exponent),
            inner,
            st.integers(0, 99),
        ),
        st.builds(lambda operand: ast.Negate(operand=operand), inner),
        st.builds(
            lambda function, args: ast.Call(function=function, args=tuple(args)),
            st.sampled_from(FUNCTIONS),
            st.lists(inner, max_size=3),
        ),
    )


_expressions: st.SearchStrategy[ast.Expr] = st.recursive(
    st.one_of(names, numbers, quantities, limit_multiples, dates, codes, strings, booleans),
    _extend,
    max_leaves=14,
)


@st.composite
def _expression(draw: st.DrawFn) -> ast.Expr:
    # A named strategy: the repr of the recursive one is megabytes, computed in every report.
    return draw(_expressions)


expressions = _expression()

criterion_ids = st.sampled_from(["I1", "I2", "I10.1", "I10.2a", "E7.3b", "E2", "crit_x"])
texts = st.one_of(st.none(), st.sampled_from(TEXTS))
reviews = st.builds(lambda text: ast.Review(text=text), texts)
criteria = st.builds(
    lambda identifier, text, body: ast.Criterion(id=identifier, section="", text=text, body=body),
    criterion_ids,
    texts,
    st.one_of(expressions, reviews),
)
trials = st.builds(
    lambda identifier, title, version: ast.Trial(id=identifier, title=title, version=version),
    st.sampled_from(["NCT06945523", "c-car031-hcc", "2025.1"]),
    texts,
    st.one_of(st.none(), st.sampled_from(["1.0", "2025-06"])),
)
uses = st.sampled_from(["oncology.crit", "site/labs.crit"]).map(lambda path: ast.Use(path=path))
defines = st.builds(
    lambda name, expr: ast.Define(name=name, expr=expr),
    st.sampled_from(["adequate_marrow", "serosal_metastases", "d"]),
    expressions,
)
option_values: dict[str, st.SearchStrategy[ast.Expr]] = {
    "codes": codes,
    "plausible": ranges,
    "normal": ranges,
    "molar_mass": st.builds(_quantity, st.sampled_from(NUMBERS), st.just("g/mol")),
    "lookback": durations,
    "accepts": st.sampled_from(["[IU]/L", "IU/L"]).map(lambda text: ast.String(value=text)),
    "aliases": st.sampled_from(NAMES).map(lambda name: ast.Symbol(name=name)),
}
options = st.sampled_from(sorted(option_values)).flatmap(
    lambda name: st.lists(option_values[name], min_size=1, max_size=10).map(
        lambda values: ast.Option(name=name, values=tuple(values))
    )
)
specs = st.one_of(
    st.none(),
    st.sampled_from(UNITS).map(
        lambda unit: ast.UnitSpec(unit=parse_unit(unit).code, unit_text=unit)
    ),
    st.builds(
        lambda kind, bound: ast.TypeSpec(type=kind, range=bound),
        st.sampled_from(["boolean", "integer", "number", "date"]),
        st.one_of(st.none(), ranges),
    ),
    st.lists(st.sampled_from(NAMES).map(lambda name: ast.Symbol(name=name)), max_size=4).map(
        lambda items: ast.SetLiteral(items=tuple(items))
    ),
)
declarations = st.one_of(
    st.builds(
        lambda kind, name, label, spec, chosen: ast.Declaration(
            kind=kind, name=name, label=label, spec=spec, options=tuple(chosen)
        ),
        st.sampled_from(["lab", "fact", "treatment", "condition", "event", "procedure"]),
        st.sampled_from(["ANC", "study_arm", "site_lab"]),
        st.one_of(st.none(), st.sampled_from(TEXTS[1:])),
        specs,
        st.lists(options, max_size=3),
    ),
    st.lists(st.sampled_from(ANCHORS), min_size=1, max_size=8).map(
        lambda chosen: ast.AnchorDeclaration(names=tuple(chosen))
    ),
)
sections = st.tuples(
    st.sampled_from(["inclusion", "exclusion"]), st.lists(criteria, max_size=5)
).map(
    lambda section: (
        section[0],
        [attrs.evolve(criterion, section=section[0]) for criterion in section[1]],
    )
)

# A block is an item, or a section: its keyword and its criteria (maybe none).
Block = ast.Item | tuple[str, list[ast.Criterion]]
programs: st.SearchStrategy[list[Block]] = st.builds(
    lambda header, blocks: header + blocks,
    st.lists(st.one_of(trials, uses), max_size=2),
    st.lists(st.one_of(defines, declarations, sections), max_size=5),
)


# ---- the text -----------------------------------------------------------------------------------


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Writer:
    """Writes a program's tokens; a random generator chooses the spellings and parentheses."""

    def __init__(self, chooser: random.Random) -> None:
        self.random = chooser

    def choice(self, options: list[str]) -> str:
        return options[self.random.randrange(len(options))]

    def wrapped(self, node: ast.Expr, minimum: int, *, must: bool = False) -> list[str]:
        tokens = self.expr(node)
        if must or binding_level(node) < minimum or self.random.random() < 0.08:
            return ["(", *tokens, ")"]
        return tokens

    def expr(self, node: ast.Expr) -> list[str]:
        if isinstance(node, ast.Number):
            return [node.text]
        if isinstance(node, ast.Quantity):
            return [node.text]  # a number and its unit never part
        if isinstance(node, ast.LimitMultiple):
            # One token: `2 x` at the end of a line would read as a quantity in unit `x`.
            return [f"{node.factor} {self.choice(['x', '×'])} {node.limit}"]
        if isinstance(node, ast.DateLiteral):
            return [node.text]
        if isinstance(node, ast.Code):
            system = self.choice(["RxNorm", "RXNORM"]) if node.system == "RxNorm" else node.system
            return [f"{system}:{node.code}"]
        if isinstance(node, ast.String):
            return [_quote(node.value)]
        if isinstance(node, ast.Boolean):
            return ["true" if node.value else "false"]
        if isinstance(node, ast.Name | ast.Symbol):
            return [node.name]
        if isinstance(node, ast.Range):
            low = self.expr(node.low) if node.low is not None else []
            high = self.expr(node.high) if node.high is not None else []
            return [*low, "..", *high]
        if isinstance(node, ast.SetLiteral):
            return ["{", *self.listed(node.items), "}"]
        if isinstance(node, ast.Call):
            return [node.function, "(", *self.listed(node.args), ")"]
        if isinstance(node, ast.Negate):
            return ["-", *self.wrapped(node.operand, LEVEL_UNARY)]
        if isinstance(node, ast.Power):
            # `-3 mg^2`: the power would be read as part of the unit.
            innermost = node.base
            while isinstance(innermost, ast.Negate):
                innermost = innermost.operand
            base = self.wrapped(node.base, LEVEL_UNARY, must=isinstance(innermost, ast.Quantity))
            return [*base, "^", str(node.exponent)]
        if isinstance(node, ast.Arithmetic):
            level = binding_level(node)
            right = self.wrapped(node.right, level + 1)
            if node.operator == "*" and right[0].startswith("10"):
                right = ["(", *right, ")"]  # `2 * 10` is a quantity
            return [*self.wrapped(node.left, level), node.operator, *right]
        if isinstance(node, ast.Compare):
            operator = self.choice(COMPARATOR_SPELLINGS.get(node.operator, [node.operator]))
            return [
                *self.wrapped(node.left, LEVEL_SUM),
                operator,
                *self.wrapped(node.right, LEVEL_SUM),
            ]
        if isinstance(node, ast.Member):
            word = ["not", "in"] if node.negated else ["in"]
            return [*self.wrapped(node.value, LEVEL_SUM), *word, *self.expr(node.target)]
        if isinstance(node, ast.Presence):
            return [
                *self.wrapped(node.value, LEVEL_SUM),
                "is",
                "known" if node.known else "missing",
            ]
        if isinstance(node, ast.Not):
            return ["not", *self.wrapped(node.operand, LEVEL_NOT)]
        if isinstance(node, ast.Logical):
            tokens: list[str] = []
            for index, operand in enumerate(node.operands):
                if index:
                    tokens.append(node.operator)
                # A same-operator operand needs parentheses to stay one operand.
                tokens += self.wrapped(operand, binding_level(node) + 1)
            return tokens
        if isinstance(node, ast.Implies):
            return [
                *self.wrapped(node.left, LEVEL_OR),
                "implies",
                *self.wrapped(node.right, LEVEL_IMPLIES),
            ]
        if isinstance(node, ast.IfThenElse):
            return [
                "if",
                *self.wrapped(node.condition, LEVEL_IF),
                "then",
                *self.wrapped(node.then, LEVEL_IMPLIES),
                "else",
                *self.wrapped(node.otherwise, LEVEL_IF),
            ]
        if isinstance(node, ast.Windowed):
            return [*self.wrapped(node.expr, LEVEL_POSTFIX), *self.window(node.window)]
        if isinstance(node, ast.Except):
            return [
                *self.wrapped(node.expr, LEVEL_POSTFIX),
                "except",
                *self.wrapped(node.excluded, LEVEL_COMPARE),
            ]
        raise AssertionError(type(node).__name__)

    def window(self, window: ast.Window) -> list[str]:
        anchor = self.expr(window.anchor)
        if window.kind == "within":
            assert window.duration is not None
            assert window.side is not None
            return ["within", *self.expr(window.duration), window.side, *anchor]
        if window.kind == "at_least_before":
            assert window.duration is not None
            return ["at", "least", *self.expr(window.duration), "before", *anchor]
        return [window.kind, *anchor]

    def listed(self, nodes: tuple[ast.Expr, ...]) -> list[str]:
        tokens: list[str] = []
        for index, node in enumerate(nodes):
            if index:
                tokens.append(",")
            tokens += self.expr(node)
        return tokens

    def item(self, item: ast.Item) -> list[list[str]]:
        """The item's tokens, in runs that must each start on a new line."""
        if isinstance(item, ast.Trial):
            tokens = ["trial", item.id]
            if item.title is not None:
                tokens.append(_quote(item.title))
            if item.version is not None:
                tokens += ["version", _quote(item.version)]
            return [tokens]
        if isinstance(item, ast.Use):
            return [["use", _quote(item.path)]]
        if isinstance(item, ast.Define):
            return [["define", item.name, "=", *self.expr(item.expr)]]
        if isinstance(item, ast.Criterion):
            head = [item.id, *([_quote(item.text)] if item.text is not None else []), ":"]
            if isinstance(item.body, ast.Review):
                text = [_quote(item.body.text)] if item.body.text is not None else []
                return [[*head, "review", *text]]
            return [[*head, *self.expr(item.body)]]
        if isinstance(item, ast.AnchorDeclaration):
            return [["anchor", *self.listed(tuple(ast.Name(name=n) for n in item.names))]]
        assert isinstance(item, ast.Declaration)
        head = [item.kind, item.name, *([_quote(item.label)] if item.label else [])]
        if item.spec is not None:
            head += [":", *self.spec(item.spec)]
        elif self.random.random() < 0.5:
            head.append(":")
        # An option starts a line: `0..100 aliases` on one line would read as a quantity.
        return [head] + [[option.name, *self.listed(option.values)] for option in item.options]

    def spec(self, spec: ast.UnitSpec | ast.TypeSpec | ast.SetLiteral) -> list[str]:
        if isinstance(spec, ast.UnitSpec):
            return [spec.unit_text]
        if isinstance(spec, ast.TypeSpec):
            return [spec.type, *(self.expr(spec.range) if spec.range is not None else [])]
        return self.expr(spec)


@attrs.frozen
class Source:
    """A random program's text, the program it must parse to and the comments written in it."""

    text: str
    program: ast.Program
    comments: list[str]


@st.composite
def sources(draw: st.DrawFn) -> Source:
    blocks = draw(programs)
    chooser = draw(st.randoms(use_true_random=False))
    comment_rate = draw(st.sampled_from([0.0, 0.05, 0.2, 0.5]))
    writer = Writer(chooser)
    runs: list[list[str]] = []
    items: list[ast.Item] = []
    for block in blocks:
        if isinstance(block, tuple):
            keyword, section_criteria = block
            runs.append([keyword])
            for criterion in section_criteria:
                runs.extend(writer.item(criterion))
                items.append(criterion)
        else:
            runs.extend(writer.item(block))
            items.append(block)
    comments: list[str] = []

    def comment() -> str:
        text = chooser.choice(COMMENTS)
        comments.append(text)
        return text

    def indent() -> str:
        return " " * chooser.choice([0, 0, 2, 4, 6, 9])

    out: list[str] = []
    for run_index, run in enumerate(runs):
        if run_index:
            out.append("\n" * chooser.choice([1, 1, 1, 2, 3]))
        while chooser.random() < comment_rate:
            out.append(indent() + comment() + "\n" * chooser.choice([1, 1, 2]))
        out.append(indent())
        for index, token in enumerate(run):
            if index:
                roll = chooser.random()
                if roll < comment_rate / 2:
                    out.append("  " + comment() + "\n" + indent())
                elif roll < comment_rate:
                    out.append("\n" + indent() + comment() + "\n" + indent())
                elif roll < comment_rate + 0.1:
                    out.append("\n" * chooser.choice([1, 1, 2]) + indent())
                else:
                    out.append(chooser.choice([" ", " ", " ", "  ", "\t"]))
            out.append(token)
        if chooser.random() < comment_rate:
            out.append(" " + comment())
    while chooser.random() < comment_rate:
        out.append("\n" + indent() + comment())
    text = "".join(out) + chooser.choice(["", "\n", "\n\n"])
    return Source(text=text, program=ast.Program(items=tuple(items)), comments=comments)
