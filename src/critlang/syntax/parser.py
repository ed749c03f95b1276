"""Text -> AST. The Lark parser is built once per process from ``grammar/critlang.lark``."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from pathlib import Path

import attrs
import lark
from lark import (
    Lark,
    Token,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

from critlang.allocation import collector_paused
from critlang.diagnostics import Diagnostic
from critlang.errors import CritlangError, ParseError
from critlang.source import Source, Span
from critlang.syntax import ast, comments
from critlang.syntax.build import AstBuilder, BuildError, install

# A criteria file is a few kilobytes; anything this large is not one.
MAX_SOURCE_CHARS = 1_000_000
# Deeper expressions than this are never written by hand; bounding them keeps every later stage
# (checker, planner, equality of trees) far from Python's recursion limit.
MAX_DEPTH = 100


def grammar_text() -> str:
    """The grammar, from the installed package or, in a source checkout, from ``grammar/``."""
    # The package's own folder, not importlib.resources: critlang is installed as files (it
    # writes caches beside nothing it ships), and the import costs a cold start ~10 ms.
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "grammar" / "critlang.lark"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (here.parents[3] / "grammar" / "critlang.lark").read_text(encoding="utf-8")


def cache_directory() -> Path | None:
    """Where the built parser is cached: ``$CRITLANG_CACHE_DIR``, else the user's cache folder.

    A per-user folder, never a shared temporary one: the cache is loaded with pickle.
    ``CRITLANG_CACHE_DIR=""`` turns the cache off.
    """
    configured = os.environ.get("CRITLANG_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "critlang"


def _parser() -> Lark:
    return _parsing()[0]


@functools.cache
def _parsing() -> tuple[Lark, AstBuilder]:
    """The parser, made to build the AST as it parses, and its builder."""
    text = grammar_text()
    options: dict[str, object] = {
        "parser": "lalr",
        "lexer": "contextual",
        "propagate_positions": True,
        "maybe_placeholders": True,
        "start": ["start", "expression"],
        # Not part of the cache key, and passed to a parser loaded from the cache.
        "lexer_callbacks": {"COMMENT": comments.on_comment},
    }
    folder = cache_directory()
    if folder is not None:
        # Lark checks the grammar's hash when it loads the cache and rebuilds when it differs;
        # a cache that cannot be written or read only costs the build time.
        try:
            folder.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256(f"{lark.__version__}\n{text}".encode()).hexdigest()[:16]
            options["cache"] = str(folder / f"parser-{digest}.lark")
        except OSError:
            pass
    parser = Lark(text, **options)
    return parser, install(parser)


# A criteria file on disk: larger than this is not one either.
MAX_FILE_BYTES = 1_000_000


def read_file(path: Path) -> str:
    """A criteria file's text: UTF-8, at most 1 MB; anything else is a :class:`ParseError` (E100)
    with a location, or a :class:`CritlangError` when the file cannot be read."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CritlangError(f"{name}: cannot read: {error.strerror or error}") from None
    if len(data) > MAX_FILE_BYTES:
        message = f"file is larger than {MAX_FILE_BYTES:,} bytes"
        raise ParseError([Diagnostic(code="E100", message=message, source=Source("", name))])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        text = data[: error.start].decode("utf-8", errors="replace")
        raise ParseError(
            [
                Diagnostic(
                    code="E100",
                    message=f"invalid UTF-8 (byte {error.start})",
                    span=Span(len(text), len(text) + 1),
                    source=Source(text + "\ufffd", name),
                )
            ]
        ) from None


def parse_program(text: str, name: str = "<string>") -> ast.Program:
    """Parse a criteria file (or dictionary); raises :class:`ParseError` with locations."""
    source = Source(text, name)
    with collector_paused(), comments.collecting() as found:
        program = _parse(source, "start")
    assert isinstance(program, ast.Program)
    return ast.Program(items=program.items, comments=tuple(found), span=program.span)


def parse_expression(text: str, name: str = "<expr>") -> ast.Expr:
    """Parse a single expression such as ``ANC >= 1.5 x10^9/L and ECOG in 0..2``."""
    return _parse(Source(text, name), "expression")  # type: ignore[return-value]


def _parse(source: Source, start: str) -> object:
    """The AST of ``source`` from the rule ``start``, its depth checked."""
    text = source.text
    if len(text) > MAX_SOURCE_CHARS:
        raise ParseError(
            [
                _diagnostic(
                    source, "E100", f"the text is longer than {MAX_SOURCE_CHARS:,} characters", 0
                )
            ]
        )
    depth = _bracket_depth(text)
    if depth is not None:
        raise ParseError(
            [_diagnostic(source, "E105", f"parentheses nested more than {MAX_DEPTH} deep", depth)]
        )
    parser, builder = _parsing()
    try:
        with builder.building(source):
            node = parser.parse(text, start=start)
    except UnexpectedInput as error:
        raise ParseError([_syntax_diagnostic(source, error)]) from None
    except BuildError as error:
        raise ParseError([error.diagnostic]) from None
    deep = _too_deep(node)
    if deep is not None:
        raise ParseError(
            [_diagnostic(source, "E105", f"expression nested more than {MAX_DEPTH} deep", deep)]
        )
    return node


# Quoted text and comments, whose brackets do not nest anything.
_NOT_CODE = re.compile(r'"(?:[^"\\]|\\.)*"?|#[^\n]*', re.DOTALL)
_BRACKETS = re.compile(r"[(){}]")


def _bracket_depth(text: str) -> int | None:
    """Offset where ``(``/``{`` nesting first exceeds MAX_DEPTH outside strings and comments."""
    if text.count("(") + text.count("{") <= MAX_DEPTH:
        return None
    # Strings and comments blanked out (same length, so offsets stay), then only brackets visited.
    code = _NOT_CODE.sub(lambda match: " " * len(match.group()), text)
    depth = 0
    for match in _BRACKETS.finditer(code):
        if match.group() in "({":
            depth += 1
            if depth > MAX_DEPTH:
                return match.start()
        else:
            depth -= 1
    return None


# Each AST class's fields that may hold nodes (all but the span), looked up once.
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(node_type: type) -> tuple[str, ...]:
    found = _CHILD_FIELDS.get(node_type)
    if found is None:
        found = _CHILD_FIELDS[node_type] = tuple(
            field.name for field in attrs.fields(node_type) if field.name != "span"
        )
    return found


def _too_deep(root: object) -> int | None:
    """Offset of the first node (in text order) deeper than MAX_DEPTH: long `+` chains nest
    without parentheses."""
    node_type = ast.Node
    stack: list[tuple[ast.Node, int]] = [(root, 0)] if isinstance(root, node_type) else []
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node.span.start
        span = node.span
        if depth + span.end - span.start <= MAX_DEPTH:
            continue  # every child is shorter than its parent: no deeper than it is long
        children: list[ast.Node] = []
        for name in _child_fields(node.__class__):
            value = getattr(node, name)
            if value.__class__ is tuple:
                children.extend(item for item in value if isinstance(item, node_type))
            elif isinstance(value, node_type):
                children.append(value)
        stack.extend((child, depth + 1) for child in reversed(children))  # the first on top
    return None


def _diagnostic(
    source: Source, code: str, message: str, offset: int, help: str | None = None
) -> Diagnostic:
    return Diagnostic(
        code=code, message=message, span=Span(offset, offset + 1), source=source, help=help
    )


# Words for the grammar's terminals, in the order they are worth offering.
_WORDS: dict[str, str] = {
    "QUANTITY": "a number with a unit",
    "NUMBER": "a number",
    "NAME": "a name",
    "COMPARATOR": "a comparison (`>=`, `<` ...)",
    "AND": "`and`",
    "OR": "`or`",
    "NOT": "`not`",
    "IN": "`in`",
    "IS": "`is`",
    "THEN": "`then`",
    "ELSE": "`else`",
    "WITHIN": "`within`",
    "BEFORE": "`before`",
    "AFTER": "`after`",
    "COLON": "`:`",
    "RPAR": "`)`",
    "LPAR": "`(`",
    "RBRACE": "`}`",
    "COMMA": "`,`",
    "STRING": 'quoted text ("...")',
    "DATE": "a date (YYYY-MM-DD)",
    "CODE": "a code such as ICD10:C34.1",
    "UNIT": "a unit",
    "DOTTED_ID": "a criterion ID",
    "TRIAL_ID": "a trial ID",
    "INCLUSION": "`inclusion`",
    "EXCLUSION": "`exclusion`",
    "DEFINE": "`define`",
    "$END": "the end of the text",
}
_MOST_WORDS = 6


def _expected_words(expected: set[str]) -> str:
    known = [word for terminal, word in _WORDS.items() if terminal in expected]
    parser = _parser()
    others = sorted(
        f"`{terminal_pattern}`"
        for terminal in expected - set(_WORDS)
        if (terminal_pattern := _literal(parser, terminal)) is not None
    )
    words = (known + others)[:_MOST_WORDS]
    if not words:
        return "something else"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _literal(parser: Lark, terminal: str) -> str | None:
    try:
        pattern = parser.get_terminal(terminal).pattern
    except KeyError:
        return None
    return pattern.value if type(pattern).__name__ == "PatternStr" else None


def _syntax_diagnostic(source: Source, error: UnexpectedInput) -> Diagnostic:
    if isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0
        char = source.text[position] if position < len(source.text) else ""
        return _diagnostic(
            source,
            "E110",
            f"unexpected character {char!r}; expected {_expected_words(set(error.allowed or ()))}",
            position,
        )
    if isinstance(error, UnexpectedEOF):
        return _diagnostic(
            source,
            "E111",
            f"the text ends too soon; expected {_expected_words(set(error.expected))}",
            len(source.text),
        )
    assert isinstance(error, UnexpectedToken)
    token = error.token
    expected = _expected_words(set(error.expected))
    previous = _previous_token_text(source, token)
    after = f" after `{previous}`" if previous else ""
    if token.type == "$END":
        return _diagnostic(
            source, "E111", f"the text ends too soon; expected {expected}{after}", len(source.text)
        )
    start = token.start_pos or 0
    return Diagnostic(
        code="E112",
        message=f"expected {expected}{after}, found `{token}`",
        span=Span(start, token.end_pos or start + len(token)),
        source=source,
    )


def _previous_token_text(source: Source, token: Token) -> str:
    start = token.start_pos or 0
    before = source.text[:start].rstrip()
    if not before:
        return ""
    words = before.split()
    return words[-1][-30:] if words else ""
