"""What each piece of a document is: the names in it resolved, and the literals compared.

Built once per analysis (in the server's worker thread), so that hover, completion and navigation
answer from tables. Names resolve as the checker resolves them: a definition first (this file's
or a ``use``d file's), then ``age`` and ``diagnosis``, then the dictionary (names and aliases,
case-insensitively), then anchors. The checked IR of every criterion and definition that checks
says, for each literal quantity or ``x ULN``, what it is compared with.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import attrs

from critlang.lint.context import LintContext
from critlang.lint.spans import (
    criterion_id_span,
    declaration_name_span,
    define_name_span,
    text_span,
    word_span,
)
from critlang.lint.walk import ast_nodes, walk_ast, walk_ir
from critlang.lsp.locations import used_files
from critlang.semantics import ir
from critlang.semantics.dictionary import Dictionary
from critlang.source import Source, Span
from critlang.syntax import ast

BUILTINS = ("age", "diagnosis")
DEFINE, VARIABLE, ANCHOR, CRITERION, USE = "define", "variable", "anchor", "criterion", "use"
BUILTIN, FUNCTION, UNKNOWN = "builtin", "function", "unknown"


@attrs.frozen
class Symbol:
    """What a name stands for: ``kind`` (define, variable, anchor, criterion, use, builtin,
    function, unknown) and ``key`` (the casefolded name, a criterion ID or a ``use`` path)."""

    kind: str
    key: str


@attrs.frozen(kw_only=True)
class Occurrence:
    """A name in a text, what it stands for, and whether this is where it is declared."""

    span: Span
    symbol: Symbol
    text: str
    declaration: bool = False


@attrs.frozen(kw_only=True)
class DefineSite:
    """A ``define``: its node, the source it is in, and that file (None: this document)."""

    define: ast.Define
    source: Source
    path: Path | None

    @property
    def name_span(self) -> Span:
        """The span of the defined name."""
        return define_name_span(self.source, self.define)


@attrs.frozen(kw_only=True)
class Compared:
    """A literal (a quantity or ``k x ULN``) and the value it is compared with."""

    literal: ast.Quantity | ast.LimitMultiple
    other: ir.Value


Resolver = Callable[[str], Symbol]


@attrs.frozen(kw_only=True)
class DocumentIndex:
    """The resolved names of one document, in text order, and what its literals compare with."""

    occurrences: tuple[Occurrence, ...]
    literals: tuple[ast.Quantity | ast.LimitMultiple, ...]
    compared: dict[int, Compared] = attrs.field(eq=False)
    defines: dict[str, DefineSite] = attrs.field(eq=False)
    criteria: dict[str, ast.Criterion] = attrs.field(eq=False)
    resolve: Resolver = attrs.field(eq=False)
    starts: tuple[int, ...] = attrs.field(eq=False)

    def occurrence_at(self, offset: int) -> Occurrence | None:
        """The name that ``offset`` is in or just after."""
        position = bisect.bisect_right(self.starts, offset) - 1
        for candidate in self.occurrences[max(0, position - 1) : position + 1][::-1]:
            if candidate.span.start <= offset <= candidate.span.end:
                return candidate
        return None

    def literal_at(self, offset: int) -> ast.Quantity | ast.LimitMultiple | None:
        """The quantity or ``x ULN`` that ``offset`` is in."""
        inside = [node for node in self.literals if node.span.start <= offset <= node.span.end]
        return min(inside, key=lambda node: node.span.end - node.span.start) if inside else None

    def of(self, symbol: Symbol) -> list[Occurrence]:
        """Every occurrence of ``symbol`` in the document."""
        return [occurrence for occurrence in self.occurrences if occurrence.symbol == symbol]


def resolver(dictionary: Dictionary, defines: Iterable[str]) -> Resolver:
    """How names resolve against ``dictionary`` with these definitions (casefolded)."""
    defined = frozenset(defines)

    def resolve(name: str) -> Symbol:
        key = name.casefold()
        if key in defined:
            return Symbol(DEFINE, key)
        if key in BUILTINS:
            return Symbol(BUILTIN, key)
        variable = dictionary.lookup(name)
        if variable is not None:
            return Symbol(VARIABLE, variable.name.casefold())
        if key in dictionary.anchors:
            return Symbol(ANCHOR, key)
        return Symbol(UNKNOWN, key)

    return resolve


def build_index(context: LintContext) -> DocumentIndex:
    """The index of a linted document."""
    defines = _defines(context)
    resolve = resolver(context.dictionary, defines)
    found = sorted(
        occurrences(
            context.program,
            context.source,
            resolve,
            project=context.path,
            nodes=lambda item: ast_nodes(context, item),
        ),
        key=lambda occurrence: occurrence.span.start,
    )
    literals = tuple(
        node
        for item in context.program.items
        for node in ast_nodes(context, item)
        if isinstance(node, ast.Quantity | ast.LimitMultiple)
    )
    return DocumentIndex(
        occurrences=tuple(found),
        literals=literals,
        compared=_compared(context),
        defines=defines,
        criteria={criterion.id: criterion for criterion in context.program.criteria},
        resolve=resolve,
        starts=tuple(occurrence.span.start for occurrence in found),
    )


def _defines(context: LintContext) -> dict[str, DefineSite]:
    """Every definition the document can use: its own and its ``use``d files'."""
    found: dict[str, DefineSite] = {}
    for parsed in used_files(context):
        for define in parsed.program.definitions:
            site = DefineSite(define=define, source=parsed.source, path=parsed.path)
            found.setdefault(define.name.casefold(), site)
    for define in context.program.definitions:
        found[define.name.casefold()] = DefineSite(define=define, source=context.source, path=None)
    return found


def occurrences(
    program: ast.Program,
    source: Source,
    resolve: Resolver,
    project: Path | None = None,
    nodes: Callable[[object], Iterable[ast.Node]] = walk_ast,
) -> Iterator[Occurrence]:
    """Every name in ``program`` with what it stands for (not sorted); ``nodes`` walks an
    item (a file's node table, when there is one)."""
    for item in program.items:
        yield from _declared(item, source, project)
        for node in nodes(item):
            if isinstance(node, ast.Name):
                yield Occurrence(span=node.span, symbol=resolve(node.name), text=node.name)
            elif isinstance(node, ast.Call):
                span = Span(node.span.start, node.span.start + len(node.function))
                symbol = Symbol(FUNCTION, node.function.casefold())
                yield Occurrence(span=span, symbol=symbol, text=node.function)


def _declared(item: ast.Item, source: Source, project: Path | None) -> Iterator[Occurrence]:
    """The names that ``item`` declares, where it declares them."""
    if isinstance(item, ast.Define):
        symbol = Symbol(DEFINE, item.name.casefold())
        span = define_name_span(source, item)
        yield Occurrence(span=span, symbol=symbol, text=item.name, declaration=True)
    elif isinstance(item, ast.Criterion):
        span = criterion_id_span(source, item)
        yield Occurrence(
            span=span, symbol=Symbol(CRITERION, item.id), text=item.id, declaration=True
        )
    elif isinstance(item, ast.Declaration):
        symbol = Symbol(VARIABLE, item.name.casefold())
        span = declaration_name_span(source, item)
        yield Occurrence(span=span, symbol=symbol, text=item.name, declaration=True)
        aliases = item.option("aliases")
        for alias in aliases.values if aliases else ():
            if isinstance(alias, ast.Symbol):
                yield Occurrence(span=alias.span, symbol=symbol, text=alias.name, declaration=True)
    elif isinstance(item, ast.AnchorDeclaration):
        for name in item.names:
            span = word_span(source, item.span, name) or item.span
            symbol = Symbol(ANCHOR, name.casefold())
            yield Occurrence(span=span, symbol=symbol, text=name, declaration=True)
    elif isinstance(item, ast.Use):
        span = text_span(source, item.span, item.path) or item.span
        yield Occurrence(span=span, symbol=Symbol(USE, item.path), text=item.path)


def _compared(context: LintContext) -> dict[int, Compared]:
    """For each literal compared in a checked criterion or definition (by the identity of its
    AST node), the value on the other side."""
    found: dict[int, Compared] = {}
    for _, root in context.checked():
        for node in walk_ir(root):
            for literal, other in _literal_sides(node):
                origin = literal.origin
                if isinstance(origin, ast.Quantity | ast.LimitMultiple):
                    found[id(origin)] = Compared(literal=origin, other=other)
    return found


def _literal_sides(node: object) -> Iterator[tuple[ir.Literal | ir.Limit, ir.Value]]:
    if isinstance(node, ir.Comparison):
        for side, opposite in ((node.left, node.right), (node.right, node.left)):
            if isinstance(side, ir.Literal | ir.Limit):
                yield side, opposite
    elif isinstance(node, ir.InRange):
        for bound in (node.low, node.high):
            if isinstance(bound, ir.Literal | ir.Limit):
                yield bound, node.value
