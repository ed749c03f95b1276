"""Go to definition, find references and rename.

A name's definition is its ``define`` (in this file or a ``use``d one), its dictionary entry's
declaration (in this file, a ``use``d file or the shipped standard dictionary), its ``anchor``
declaration, or the file a ``use`` names. References are found in the document and in the other
criteria files of the workspace: for a definition, in the file that defines it and the files that
``use`` that file; for a standard dictionary entry or anchor, in every file that does not define a
name of its own with that spelling. Definitions and criterion IDs can be renamed; renaming a
criterion ID also renames it in the test cases beside the file (``NAME.tests.toml``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

from critlang.errors import CritlangError
from critlang.lint.spans import declaration_name_span, word_span
from critlang.lsp.analysis import Analysis
from critlang.lsp.completion import keywords
from critlang.lsp.index import (
    ANCHOR,
    CRITERION,
    DEFINE,
    USE,
    VARIABLE,
    Occurrence,
    Symbol,
    occurrences,
    resolver,
)
from critlang.lsp.locations import (
    ParsedFile,
    is_standard,
    parse_file,
    standard_files,
    variable_file,
)
from critlang.semantics.uses import use_target
from critlang.source import Source, Span
from critlang.syntax import ast
from critlang.syntax.parser import parse_program

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CRITERION_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[A-Za-z][A-Za-z0-9_]*(\.[0-9]+)+[a-z]?")
_SKIPPED_FOLDERS = frozenset(
    {"node_modules", "__pycache__", "venv", "build", "dist", "site-packages"}
)
MAX_WORKSPACE_FILES = 2000


class RenameError(ValueError):
    """A rename that cannot be made; the message says why."""


@attrs.frozen(kw_only=True)
class Place:
    """A span in a file: ``path`` None is the document itself; ``source`` holds the text the
    span is in."""

    path: Path | None
    span: Span
    source: Source


@attrs.frozen(kw_only=True)
class Workspace:
    """The folders to search for references, and the texts of the open documents by path."""

    roots: tuple[Path, ...] = ()
    open_texts: dict[Path, str] = attrs.field(factory=dict)


def symbol_at(analysis: Analysis, offset: int) -> Occurrence | None:
    """The name at ``offset``."""
    return analysis.index.occurrence_at(offset)


def definition(analysis: Analysis, occurrence: Occurrence) -> Place | None:
    """Where the name of ``occurrence`` is defined or declared."""
    kind, key = occurrence.symbol.kind, occurrence.symbol.key
    context = analysis.context
    if kind == DEFINE and key in analysis.index.defines:
        site = analysis.index.defines[key]
        return Place(path=site.path, span=site.name_span, source=site.source)
    if kind == VARIABLE:
        variable = context.dictionary.lookup(key)
        if variable is None or variable.declaration is None or variable.source is None:
            return None
        span = declaration_name_span(variable.source, variable.declaration)
        return Place(path=variable_file(variable, context), span=span, source=variable.source)
    if kind == USE:
        used = next((u for u in context.uses if u.use.path == key and u.path), None)
        if used is None or used.path is None:
            return None
        return Place(path=used.path, span=Span(0, 0), source=Source("", str(used.path)))
    local = [o for o in analysis.index.of(occurrence.symbol) if o.declaration]
    if local:
        return Place(path=None, span=local[0].span, source=context.source)
    if kind == ANCHOR:
        return anchor_declaration(key)
    return None


def anchor_declaration(key: str) -> Place | None:
    """Where the standard dictionary declares an anchor."""
    return _standard_anchors().get(key)


@functools.cache
def _standard_anchors() -> dict[str, Place]:
    found: dict[str, Place] = {}
    for path in standard_files():
        parsed = parse_file(path)
        if parsed is None:
            continue
        for item in parsed.program.declarations:
            if isinstance(item, ast.AnchorDeclaration):
                for name in item.names:
                    span = word_span(parsed.source, item.span, name) or item.span
                    found.setdefault(
                        name.casefold(), Place(path=path, span=span, source=parsed.source)
                    )
    return found


def references(
    analysis: Analysis, occurrence: Occurrence, workspace: Workspace, declaration: bool
) -> list[Place]:
    """Every place the name of ``occurrence`` is used (and declared, with ``declaration``)."""
    symbol = occurrence.symbol
    places = [
        Place(path=None, span=o.span, source=analysis.context.source)
        for o in analysis.index.of(symbol)
        if declaration or not o.declaration
    ]
    if symbol.kind not in (DEFINE, VARIABLE, ANCHOR):
        return places
    home = _home(analysis, occurrence)
    for parsed in _other_files(analysis, workspace, home):
        places += _places_in(parsed, analysis, symbol, declaration)
    if declaration and home is not None and is_standard(home):
        target = definition(analysis, occurrence)
        if target is not None:
            places.append(target)
    return places


def _home(analysis: Analysis, occurrence: Occurrence) -> Path | None:
    """The file that declares the symbol, if it is another file than the document."""
    target = definition(analysis, occurrence)
    if target is None or target.path is None:
        return analysis.path.resolve() if analysis.path is not None else None
    return target.path.resolve()


def _other_files(
    analysis: Analysis, workspace: Workspace, home: Path | None
) -> Iterator[ParsedFile]:
    """The workspace's criteria files other than the document that may refer to a symbol
    declared in ``home`` (every file when it is the standard dictionary or unknown)."""
    own = analysis.path.resolve() if analysis.path is not None else None
    everywhere = home is None or is_standard(home)
    for path in workspace_files(workspace.roots, home):
        if path == own:
            continue
        parsed = _parsed(path, workspace.open_texts)
        if parsed is None:
            continue
        if everywhere or path == home or home in _direct_uses(parsed):
            yield parsed


def _places_in(
    parsed: ParsedFile, analysis: Analysis, symbol: Symbol, declaration: bool
) -> list[Place]:
    defines = [define.name.casefold() for define in parsed.program.definitions]
    if symbol.kind != DEFINE and symbol.key in defines:
        return []  # the file's own definition of that name hides the entry
    # A definition's references are looked for only in its file and the files that use it.
    extra = [symbol.key] if symbol.kind == DEFINE else []
    resolve = resolver(analysis.context.dictionary, [*defines, *extra])
    return [
        Place(path=parsed.path, span=o.span, source=parsed.source)
        for o in occurrences(parsed.program, parsed.source, resolve)
        if o.symbol == symbol and (declaration or not o.declaration)
    ]


def _parsed(path: Path, open_texts: dict[Path, str]) -> ParsedFile | None:
    text = open_texts.get(path)
    if text is None:
        return parse_file(path)
    try:
        program = parse_program(text, str(path))
    except CritlangError:
        return None
    return ParsedFile(path=path, source=Source(text, str(path)), program=program)


def _direct_uses(parsed: ParsedFile) -> set[Path]:
    folder = parsed.path.parent
    found = set()
    for use in parsed.program.uses:
        target = use_target(use, parsed.source, folder, folder, [], without_file="")
        if target is not None:
            found.add(target)
    return found


def workspace_files(roots: Iterable[Path], home: Path | None = None) -> list[Path]:
    """The criteria files under ``roots`` (and ``home``), hidden and tool folders left out."""
    found: dict[Path, None] = {}
    if home is not None and not is_standard(home):
        found[home] = None
    for root in roots:
        for path in _walk(root):
            found.setdefault(path.resolve(), None)
            if len(found) >= MAX_WORKSPACE_FILES:
                return list(found)
    return list(found)


def _walk(root: Path) -> Iterator[Path]:
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name in _SKIPPED_FOLDERS:
            continue
        if entry.is_dir():
            yield from _walk(entry)
        elif entry.suffix == ".crit":
            yield entry


def check_rename(occurrence: Occurrence, new_name: str) -> None:
    """Raise :class:`RenameError` unless ``occurrence`` may be renamed to ``new_name``."""
    kind = occurrence.symbol.kind
    if kind not in (DEFINE, CRITERION):
        raise RenameError("only definitions and criterion IDs can be renamed")
    pattern = _IDENTIFIER if kind == DEFINE else _CRITERION_ID
    if not pattern.fullmatch(new_name) or new_name.casefold() in {w.casefold() for w in keywords()}:
        what = "a name" if kind == DEFINE else "a criterion ID"
        raise RenameError(f"`{new_name}` is not {what} (a keyword, or not letters, digits and _)")


def rename(
    analysis: Analysis, occurrence: Occurrence, new_name: str, workspace: Workspace
) -> dict[Path | None, list[tuple[Span, str]]]:
    """The edits, by file (None: the document), that rename ``occurrence`` to ``new_name``."""
    check_rename(occurrence, new_name)
    edits: dict[Path | None, list[tuple[Span, str]]] = {}
    if occurrence.symbol.kind == DEFINE:
        key = new_name.casefold()
        if key != occurrence.symbol.key and key in analysis.index.defines:
            raise RenameError(f"`{new_name}` is defined already")
        if analysis.context.dictionary.lookup(new_name) is not None:
            raise RenameError(f"`{new_name}` is a dictionary name; a definition would hide it")
        for place in references(analysis, occurrence, workspace, declaration=True):
            edits.setdefault(place.path, []).append((place.span, new_name))
        return edits
    if new_name != occurrence.symbol.key and new_name in analysis.index.criteria:
        raise RenameError(f"criterion `{new_name}` exists already")
    edits[None] = [(o.span, new_name) for o in analysis.index.of(occurrence.symbol)]
    tests = test_file(analysis.path)
    if tests is not None:
        found = criterion_keys(tests.read_text(encoding="utf-8"), occurrence.symbol.key)
        if found:
            edits[tests] = [(span, new_name) for span in found]
    return edits


def test_file(path: Path | None) -> Path | None:
    """The test cases beside a criteria file (``NAME.tests.toml``), if there are any."""
    if path is None:
        return None
    tests = path.with_name(path.name.removesuffix(".crit") + ".tests.toml")
    return tests if tests.is_file() else None


_TABLE = re.compile(r"^\s*\[")
_CRITERIA_TABLE = re.compile(r"^\s*\[\s*case\s*\.\s*criteria\s*\]")
_INLINE = re.compile(r"^\s*criteria\s*=\s*\{(?P<body>[^}]*)\}")


def criterion_keys(text: str, identifier: str) -> list[Span]:
    """Where the test cases name criterion ``identifier`` (``I1 = "met"``, ``"I10.1" = ...``,
    ``criteria = {I7 = "not_met"}``): the spans of the ID, quotes left out."""
    key = re.compile(r'(?:^|(?<=[\s{,]))"?(' + re.escape(identifier) + r')"?\s*=')
    found: list[Span] = []
    in_table = False
    offset = 0
    for line in text.splitlines(keepends=True):
        if _TABLE.match(line):
            in_table = bool(_CRITERIA_TABLE.match(line))
        elif in_table:
            found += _keys(key, line, offset, 0, len(line), first_only=True)
        else:
            inline = _INLINE.match(line)
            if inline is not None:
                body = inline.start("body"), inline.end("body")
                found += _keys(key, line, offset, *body, first_only=False)
        offset += len(line)
    return found


def _keys(
    key: re.Pattern[str], line: str, offset: int, start: int, end: int, *, first_only: bool
) -> list[Span]:
    """The keys ``key`` finds in ``line[start:end]``; ``first_only``: only at the line's start
    (a ``[case.criteria]`` table has one key a line)."""
    spans = []
    for match in key.finditer(line, start, end):
        if first_only and match.start() != len(line) - len(line.lstrip()):
            continue
        spans.append(Span(offset + match.start(1), offset + match.end(1)))
    return spans
