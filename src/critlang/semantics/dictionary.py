"""The dictionary: variables declared in critlang syntax (SPEC §5), the standard one included.

A :class:`Variable` says what a name is (a lab, a fact, a condition, a treatment …), its unit or
value type, its codes (how records name it), and the ranges and constants the checker and the
evaluator need. Names and aliases resolve case-insensitively.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from collections.abc import Iterable, Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs

from critlang.diagnostics import Diagnostic
from critlang.errors import CheckError, UnitError
from critlang.source import Source, Span
from critlang.syntax import ast
from critlang.units import Unit, conversion, parse_unit

LAB, FACT = "lab", "fact"
EVENT_KINDS = frozenset({"treatment", "procedure", "event"})
CONDITION = "condition"
# Anchors every record may supply, known even without a declaration.
STANDARD_ANCHORS = ("screening", "enrollment", "treatment", "infusion", "lymphodepletion")


@attrs.frozen(kw_only=True)
class CodePattern:
    """``ICD10:C34.1`` or, with ``prefix``, every code starting with ``C34``."""

    system: str
    code: str
    prefix: bool = False

    @staticmethod
    def parse(text: str) -> CodePattern | None:
        system, colon, code = text.partition(":")
        if not colon or not system or not code:
            return None
        prefix = code.endswith("*")
        return CodePattern(system=_system(system), code=_code(code.rstrip("*")), prefix=prefix)

    def matches(self, system: str, code: str) -> bool:
        if _system(system) != self.system:
            return False
        code = _code(code)
        return code.startswith(self.code) if self.prefix else code == self.code

    def __str__(self) -> str:
        return f"{self.system}:{self.code}{'*' if self.prefix else ''}"


_SYSTEM_ALIASES = {"ICD10CM": "ICD10", "ICD9CM": "ICD9", "SCT": "SNOMED", "RXNORM": "RXNORM"}


def _system(system: str) -> str:
    upper = system.upper()
    return _SYSTEM_ALIASES.get(upper, upper)


def _code(code: str) -> str:
    # ICD codes are written with or without the dot (C34.1, C341): compare without it.
    return code.replace(".", "").upper()


@attrs.frozen(kw_only=True)
class Variable:
    """One dictionary entry.

    ``value_type`` is ``quantity`` (with ``unit``), ``number``, ``integer``, ``boolean``, ``date``,
    ``symbol`` (with ``symbols``) or ``occurrence`` for conditions, treatments and events.
    """

    name: str
    kind: str
    label: str | None = None
    value_type: str = "quantity"
    unit: Unit | None = None
    symbols: frozenset[str] = frozenset()
    codes: tuple[CodePattern, ...] = ()
    plausible: tuple[Fraction | None, Fraction | None] | None = None
    normal: tuple[Fraction | None, Fraction | None] | None = None
    molar_mass: Fraction | None = None
    accepts: tuple[str, ...] = ()
    lookback: ast.Quantity | None = None
    aliases: tuple[str, ...] = ()
    declaration: ast.Declaration | None = attrs.field(default=None, eq=False, repr=False)
    source: Source | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def is_occurrence(self) -> bool:
        return self.kind in EVENT_KINDS or self.kind == CONDITION

    def matches_code(self, code: str) -> bool:
        system, _, value = code.partition(":")
        return any(pattern.matches(system, value) for pattern in self.codes)

    def describe(self) -> str:
        if self.value_type == "quantity" and self.unit is not None:
            return f"{self.kind} in {self.unit.code}"
        if self.value_type == "symbol":
            return f"{self.kind}, one of {{{', '.join(sorted(self.symbols))}}}"
        return f"{self.kind} ({self.value_type})"


@attrs.frozen(kw_only=True)
class Dictionary:
    variables: dict[str, Variable]  # casefolded name or alias -> variable
    anchors: frozenset[str]  # casefolded
    # code -> the variables whose codes match it; records repeat their codes, so each code is
    # matched against the whole dictionary once.
    _by_code: dict[str, tuple[Variable, ...]] = attrs.field(
        factory=dict, eq=False, repr=False, alias="_by_code"
    )
    # (name, code) of a record entry -> the names of the variables it stands for.
    _entries: dict[tuple[str | None, str | None], tuple[str, ...]] = attrs.field(
        factory=dict, eq=False, repr=False, alias="_entries"
    )
    _entry_sets: dict[tuple[str | None, str | None], frozenset[str]] = attrs.field(
        factory=dict, eq=False, repr=False, alias="_entry_sets"
    )
    _fact_names: dict[str, str] = attrs.field(
        factory=dict, eq=False, repr=False, alias="_fact_names"
    )
    # The entries' (name, code) pairs of a record -> those pairs by variable name.
    _grouped: dict[
        tuple[tuple[str | None, str | None], ...], dict[str, list[tuple[str | None, str | None]]]
    ] = attrs.field(factory=dict, eq=False, repr=False, alias="_grouped")

    def lookup(self, name: str) -> Variable | None:
        return self.variables.get(name.casefold())

    def names(self) -> list[str]:
        return sorted({variable.name for variable in self.variables.values()})

    def by_code(self, code: str) -> tuple[Variable, ...]:
        found = self._by_code.get(code)
        if found is None:
            found = tuple(variable for variable in self.unique() if variable.matches_code(code))
            if len(self._by_code) < 100_000:
                self._by_code[code] = found
        return found

    def entry_names(self, name: str | None, code: str | None) -> tuple[str, ...]:
        """The names of the variables a record entry stands for: its name's (first), then every
        one its code matches. Records repeat their entries, so each is resolved once."""
        key = (name, code)
        found = self._entries.get(key)
        if found is None:
            named = self.lookup(name) if name is not None else None
            coded = self.by_code(code) if code is not None else ()
            variables = coded if named is None else (named, *(v for v in coded if v is not named))
            found = tuple(variable.name for variable in variables)
            if len(self._entries) < 100_000:
                self._entries[key] = found
        return found

    def entries_by_name(
        self, keys: tuple[tuple[str | None, str | None], ...]
    ) -> dict[str, list[tuple[str | None, str | None]]]:
        """A record's entries, given as their distinct ``(name, code)`` pairs, by the name of
        each variable they stand for (see :meth:`entry_names`), in the order given. Records
        repeat their sets of entries, so each set is resolved once; what it gives is shared,
        not to be changed."""
        found = self._grouped.get(keys)
        if found is None:
            found = {}
            entry_names, known = self.entry_names, self._entries
            for key in keys:
                names = known.get(key)
                for name in entry_names(*key) if names is None else names:
                    keys_of_name = found.get(name)
                    if keys_of_name is None:
                        found[name] = [key]
                    else:
                        keys_of_name.append(key)
            if len(self._grouped) < 4096:
                self._grouped[keys] = found
        return found

    @property
    def fact_names(self) -> dict[str, str]:
        """The facts' keys resolved so far (see :meth:`fact_name`)."""
        return self._fact_names

    def fact_name(self, key: str) -> str:
        """The variable a record's fact is about (by name or alias), or the key in lower case."""
        found = self._fact_names.get(key)
        if found is None:
            names = self.entry_names(key, None)
            found = names[0] if names else key.casefold()
            if len(self._fact_names) < 100_000:
                self._fact_names[key] = found
        return found

    def entry_set(self, name: str | None, code: str | None) -> frozenset[str]:
        """:meth:`entry_names` as a set."""
        key = (name, code)
        found = self._entry_sets.get(key)
        if found is None:
            found = frozenset(self.entry_names(name, code))
            if len(self._entry_sets) < 100_000:
                self._entry_sets[key] = found
        return found

    def unique(self) -> Iterator[Variable]:
        seen: set[str] = set()
        for variable in self.variables.values():
            if variable.name not in seen:
                seen.add(variable.name)
                yield variable

    def extended(self, variables: Iterable[Variable], anchors: Iterable[str]) -> Dictionary:
        merged = dict(self.variables)
        for variable in variables:
            for key in (variable.name, *variable.aliases):
                merged[key.casefold()] = variable
        all_anchors = self.anchors | {anchor.casefold() for anchor in anchors}
        if all_anchors == self.anchors and merged == self.variables:
            # Nothing new (a trial made again from its own dictionary, as a screen's near misses
            # and what-ifs are): the same dictionary, and what it has looked up already.
            return self
        return Dictionary(variables=merged, anchors=all_anchors)


EMPTY = Dictionary(
    variables={}, anchors=frozenset(anchor.casefold() for anchor in STANDARD_ANCHORS)
)


def variables_from(
    program: ast.Program, source: Source
) -> tuple[list[Variable], list[str], list[Diagnostic]]:
    """The variables and anchors a program declares, and the problems with its declarations."""
    variables: list[Variable] = []
    anchors: list[str] = []
    problems: list[Diagnostic] = []
    for item in program.declarations:
        if isinstance(item, ast.AnchorDeclaration):
            anchors.extend(item.names)
            continue
        try:
            variables.append(_variable(item, source))
        except _DeclarationError as error:
            problems.append(
                Diagnostic(
                    code="E240", message=error.message, span=error.span or item.span, source=source
                )
            )
    return variables, anchors, problems


class _DeclarationError(Exception):
    def __init__(self, message: str, span: Span | None = None) -> None:
        self.message = message
        self.span = span
        super().__init__(message)


def _number(expr: ast.Expr | None, what: str) -> Fraction | None:
    if expr is None:
        return None
    if isinstance(expr, ast.Number):
        return Fraction(expr.value)
    raise _DeclarationError(f"{what} must be a plain number", expr.span)


def _bounds(range_: ast.Expr, what: str) -> tuple[Fraction | None, Fraction | None]:
    if not isinstance(range_, ast.Range):
        raise _DeclarationError(f"{what} must be a range such as `0..100`", range_.span)
    return _number(range_.low, what), _number(range_.high, what)


def _variable(declaration: ast.Declaration, source: Source) -> Variable:
    kind = declaration.kind
    spec = declaration.spec
    fields: dict[str, object] = {}
    if isinstance(spec, ast.UnitSpec):
        fields.update(value_type="quantity", unit=parse_unit(spec.unit))
    elif isinstance(spec, ast.TypeSpec):
        fields["value_type"] = spec.type
        if spec.range is not None:
            fields["plausible"] = _bounds(spec.range, "the range")
    elif isinstance(spec, ast.SetLiteral):
        symbols = []
        for item in spec.items:
            if not isinstance(item, ast.Symbol):
                raise _DeclarationError("the values of a set must be plain words", item.span)
            symbols.append(item.name.casefold())
        fields.update(value_type="symbol", symbols=frozenset(symbols))
    elif kind in EVENT_KINDS or kind == CONDITION:
        fields["value_type"] = "occurrence"
    else:
        raise _DeclarationError(f"a {kind} needs a unit or a type after `:`", declaration.span)
    if (kind in EVENT_KINDS or kind == CONDITION) and spec is not None:
        raise _DeclarationError(
            f"a {kind} takes options (codes ...), not a unit or type", spec.span
        )
    for option in declaration.options:
        _apply_option(option, fields)
    molar_mass = fields.get("molar_mass")
    if molar_mass is not None and not isinstance(molar_mass, Fraction):
        raise _DeclarationError("molar_mass must be a quantity in g/mol", declaration.span)
    return Variable(
        name=declaration.name,
        kind=kind,
        label=declaration.label,
        declaration=declaration,
        source=source,
        **fields,  # type: ignore[arg-type]
    )


def _apply_option(option: ast.Option, fields: dict[str, object]) -> None:
    name, values = option.name, option.values
    if name == "codes":
        patterns = []
        for value in values:
            if not isinstance(value, ast.Code):
                raise _DeclarationError("codes are written SYSTEM:CODE", value.span)
            pattern = CodePattern.parse(str(value))
            assert pattern is not None
            patterns.append(pattern)
        fields["codes"] = tuple(patterns)
    elif name in ("plausible", "normal"):
        fields[name] = _bounds(values[0], f"`{name}`")
    elif name == "molar_mass":
        (value,) = values
        if not isinstance(value, ast.Quantity):
            raise _DeclarationError("molar_mass is a quantity such as `113.12 g/mol`", value.span)
        try:
            grams_per_mole = conversion(value.unit, "g/mol").apply_exact(Decimal(value.value))
        except UnitError as error:
            raise _DeclarationError(f"molar_mass: {error.reason}", value.span) from None
        fields["molar_mass"] = grams_per_mole
    elif name == "lookback":
        (value,) = values
        if not isinstance(value, ast.Quantity):
            raise _DeclarationError("lookback is a duration such as `28 days`", value.span)
        fields["lookback"] = value
    elif name == "accepts":
        units = []
        for value in values:
            if not isinstance(value, ast.String):
                raise _DeclarationError(
                    'accepts takes quoted unit codes: accepts "[IU]/L"', value.span
                )
            try:
                units.append(parse_unit(value.value).code)
            except UnitError as error:
                raise _DeclarationError(f"accepts: {error.reason}", value.span) from None
        fields["accepts"] = tuple(units)
    elif name == "aliases":
        aliases = []
        for value in values:
            if not isinstance(value, ast.Symbol):
                raise _DeclarationError("aliases are plain names", value.span)
            aliases.append(value.name)
        fields["aliases"] = tuple(aliases)


@functools.cache
def standard() -> Dictionary:
    """The standard dictionary shipped in ``critlang/std/*.crit``.

    Parsed once and kept in the user's cache folder (keyed by the files' contents), so that a
    cold ``critlang check`` does not parse the whole dictionary again.
    """
    folder = Path(__file__).resolve().parents[1] / "std"  # the package's files, as for the grammar
    texts = [
        (f"std/{entry.name}", entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.glob("*.crit"), key=lambda item: item.name)
    ]
    digest = hashlib.sha256(repr((critlang_version(), _code_fingerprint(), texts)).encode())
    digest_text = digest.hexdigest()[:16]
    cached = _read_cache(digest_text)
    if cached is not None:
        return cached
    dictionary = _build_standard(texts)
    _write_cache(digest_text, dictionary)
    return dictionary


def _code_fingerprint() -> str:
    """Sizes and times of the modules whose classes are pickled: a changed class makes a
    cache written by the old code unusable, so it must not be loaded."""
    from critlang import source
    from critlang.syntax import ast as syntax_ast
    from critlang.units import dimension, ucum

    parts = []
    for module in (source, syntax_ast, dimension, ucum):
        stat = Path(str(module.__file__)).stat()
        parts.append(f"{stat.st_size}:{stat.st_mtime_ns}")
    own = Path(__file__).stat()
    parts.append(f"{own.st_size}:{own.st_mtime_ns}")
    return "/".join(parts)


def _build_standard(texts: list[tuple[str, str]]) -> Dictionary:
    from critlang.syntax.parser import parse_program

    variables: list[Variable] = []
    anchors: list[str] = list(STANDARD_ANCHORS)
    problems: list[Diagnostic] = []
    for name, text in texts:
        program = parse_program(text, name)
        found, declared_anchors, errors = variables_from(program, Source(text, name))
        variables.extend(found)
        anchors.extend(declared_anchors)
        problems.extend(errors)
    if problems:
        raise CheckError(problems)
    return EMPTY.extended(variables, anchors)


def critlang_version() -> str:
    from critlang import __version__

    return __version__


def _cache_file(digest: str) -> Path | None:
    from critlang.syntax.parser import cache_directory

    folder = cache_directory()
    return None if folder is None else folder / f"std-{digest}.pickle"


def _read_cache(digest: str) -> Dictionary | None:
    path = _cache_file(digest)
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            loaded = pickle.load(handle)
    except (
        OSError,
        pickle.PickleError,
        EOFError,
        AttributeError,
        ImportError,
        TypeError,
        ValueError,
    ):
        return None
    if not isinstance(loaded, Dictionary):
        return None
    try:  # a smoke test: a cache from other code may lack an attribute
        loaded.lookup("age")
        loaded.by_code("LOINC:0-0")
    except Exception:
        return None
    return loaded


def _write_cache(digest: str, dictionary: Dictionary) -> None:
    path = _cache_file(digest)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            pickle.dump(dictionary, handle, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(path)
    except (OSError, pickle.PickleError, TypeError, AttributeError):
        return
