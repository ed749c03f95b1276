"""What a lint rule sees of one file: its AST, the checker's errors, and the checked program.

Linting reports everything it can find, also on a file that does not check. So it runs the
pipeline itself, without stopping at the first failing stage: parse (a parse error leaves an
empty program), resolve ``use``, read the declarations that make sense, then check every criterion
and definition, keeping the checker's diagnostics (E-codes) for the rules that report them and the
checked IR of everything that did check for the rules that reason over it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import attrs

from critlang.diagnostics import Diagnostic
from critlang.errors import CritlangError, ParseError
from critlang.semantics import ir
from critlang.semantics.checker import Checker, Definition
from critlang.semantics.dictionary import Dictionary, Variable, standard, variables_from
from critlang.semantics.uses import use_target
from critlang.source import Source, Span
from critlang.syntax import ast
from critlang.syntax.parser import parse_program, read_file

T = TypeVar("T")

_LINT_A_FILE = "lint the file, not text"


@attrs.frozen(kw_only=True)
class UsedFile:
    """A file the linted file brings in with ``use`` (and, in ``provides``, every name that it
    and the files it uses in turn declare or define, casefolded)."""

    use: ast.Use
    path: Path | None
    provides: frozenset[str]
    # True when it, or a file it uses, could not be read or parsed (reported as E250).
    failed: bool = False


@attrs.frozen(kw_only=True)
class CheckedDefinition:
    """A ``define`` of the linted file and its checked body (None when it has errors)."""

    define: ast.Define
    body: ir.Condition | ir.Value | None


@attrs.frozen(kw_only=True)
class LintContext:
    """Everything the rules may read about one file. Rules must not change it.

    - ``program``: the AST (an empty program when the text does not parse);
    - ``parse_errors``: the parser's diagnostics (E1xx), at most one;
    - ``check_errors``: the errors ``critlang check`` would report (E2xx, E3xx), in this file;
      errors inside a ``use``d file are reported once, at its ``use``;
    - ``dictionary``: the standard dictionary extended by this file's declarations and its uses;
      ``standard`` the standard dictionary alone;
    - ``criteria``: the checked IR of every criterion that checks (others are left out);
    - ``definitions``: this file's definitions with their checked bodies;
    - ``uses``: the files brought in with ``use``;
    - ``declared``: the variables this file declares.

    :meth:`memo` keeps an analysis that several rules share, computed once per file.
    """

    source: Source
    path: Path | None
    program: ast.Program
    parse_errors: tuple[Diagnostic, ...] = ()
    check_errors: tuple[Diagnostic, ...] = ()
    dictionary: Dictionary
    standard: Dictionary
    criteria: tuple[ir.CheckedCriterion, ...] = ()
    definitions: tuple[CheckedDefinition, ...] = ()
    uses: tuple[UsedFile, ...] = ()
    declared: tuple[Variable, ...] = ()
    _memo: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False, alias="_memo")

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()``, once per file: for analyses that several rules share (the windows of
        the file, an interval analysis). ``key`` names the analysis, e.g. its module's name."""
        if key not in self._memo:
            self._memo[key] = compute()
        result: T = self._memo[key]
        return result

    @property
    def parsed(self) -> bool:
        return not self.parse_errors

    @property
    def checks(self) -> bool:
        """True when ``critlang check`` accepts the file."""
        return not self.parse_errors and not self.check_errors

    def errors(self, *codes: str) -> Iterator[Diagnostic]:
        """The check errors with one of these codes (``E301``)."""
        return (error for error in self.check_errors if error.code in codes)

    def text(self, span: Span) -> str:
        return self.source.text[span.start : span.end]

    def checked(self) -> Iterator[tuple[ast.Criterion | ast.Define, ir.Condition | ir.Value]]:
        """Every checked criterion condition and definition body of this file, with its owner.

        Definition bodies come once each, from the definition, so that a rule which walks these
        without entering :class:`~critlang.semantics.ir.DefinedCondition` bodies sees each node of
        the file once.
        """
        for criterion in self.criteria:
            if criterion.condition is not None:
                yield criterion.origin, criterion.condition
        for definition in self.definitions:
            if definition.body is not None:
                yield definition.define, definition.body


def analyse(
    text: str, name: str, path: Path | None = None, dictionary: Dictionary | None = None
) -> LintContext:
    """Parse and check ``text`` as far as it goes. ``path`` (the file on disk) lets ``use``
    resolve, inside the file's folder as ``critlang check`` does."""
    source = Source(text, name)
    base = dictionary if dictionary is not None else standard()
    try:
        program = parse_program(text, name)
    except ParseError as error:
        return LintContext(
            source=source,
            path=path,
            program=ast.Program(items=()),
            parse_errors=tuple(_here(d, source) for d in error.diagnostics),
            dictionary=base,
            standard=base,
        )
    problems: list[Diagnostic] = []
    uses, loaded = _resolve_uses(program, source, path, problems)
    variables: list[Variable] = []
    anchors: list[str] = []
    definitions: dict[str, Definition] = {}
    declared: list[Variable] = []
    for used_program, used_source, at in [(program, source, None), *loaded]:
        found, declared_anchors, errors = variables_from(used_program, used_source)
        variables += found
        anchors += declared_anchors
        if used_source is source:
            declared = found
        _report(problems, errors, source, at)
        for define in used_program.definitions:
            key = define.name.casefold()
            if key in definitions:
                duplicate = Diagnostic(
                    code="E211",
                    message=f"`{define.name}` is defined twice",
                    span=define.span,
                    source=used_source,
                )
                _report(problems, [duplicate], source, at)
            definitions[key] = Definition(define=define, source=used_source)
        if at is not None and used_program.criteria:
            problems.append(
                Diagnostic(
                    code="E252",
                    message="a file brought in with `use` may hold definitions and declarations, not criteria",
                    span=at.span,
                    source=source,
                )
            )
    extended = base.extended(variables, anchors)
    checker = Checker(extended, definitions, source)
    criteria = checker.criteria(program.criteria)
    checker.definitions_all()
    uses_by_source = {id(used_source): at for _, used_source, at in loaded}
    for diagnostic in checker.diagnostics:
        origin = diagnostic.source
        at = uses_by_source.get(id(origin)) if origin is not source else None
        _report(problems, [diagnostic], source, at)
    own = tuple(
        CheckedDefinition(define=define, body=checker.checked_definition(define.name.casefold()))
        for define in program.definitions
    )
    return LintContext(
        source=source,
        path=path,
        program=program,
        check_errors=_unique(problems),
        dictionary=extended,
        standard=base,
        criteria=tuple(criteria),
        definitions=own,
        uses=tuple(uses),
        declared=tuple(declared),
    )


def _here(diagnostic: Diagnostic, source: Source) -> Diagnostic:
    return attrs.evolve(diagnostic, source=source)


def _report(
    problems: list[Diagnostic],
    errors: Iterable[Diagnostic],
    source: Source,
    at: ast.Use | None,
) -> None:
    """Keep errors of the linted file; an error in a used file becomes one error at its ``use``."""
    for error in errors:
        if at is None:
            problems.append(_here(error, source))
            continue
        line, column = error.location
        where = f"{error.source.name}:{line}:{column}" if error.source else "it"
        problems.append(
            Diagnostic(
                code="E250",
                message=f'`use "{at.path}"`: {where}: {error.code} {error.message}',
                span=at.span,
                source=source,
                help="lint or check that file on its own",
            )
        )


def _unique(diagnostics: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    """Each error once: a definition used by several criteria is checked, and fails, each time."""
    seen: set[tuple[str, int, int, str]] = set()
    unique = []
    for diagnostic in diagnostics:
        key = (diagnostic.code, diagnostic.span.start, diagnostic.span.end, diagnostic.message)
        if key not in seen:
            seen.add(key)
            unique.append(diagnostic)
    return tuple(unique)


def _resolve_uses(
    program: ast.Program, source: Source, path: Path | None, problems: list[Diagnostic]
) -> tuple[list[UsedFile], list[tuple[ast.Program, Source, ast.Use]]]:
    """The linted file's uses, each with what it provides, and every program they bring in
    (transitively, once each) with the ``use`` of the linted file it came through.

    The rules are those of ``critlang check``: a relative path, inside the folder of the linted
    file (the project), to a file that exists and parses.
    """
    uses: list[UsedFile] = []
    loaded: list[tuple[ast.Program, Source, ast.Use]] = []
    project = path.resolve().parent if path is not None else None
    seen: set[Path] = set()
    for use in program.uses:
        target = use_target(
            use, source, project, project, problems, without_file=_LINT_A_FILE, name_project=False
        )
        provides: set[str] = set()
        failed = False
        pending = [] if target is None else [target]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            assert project is not None
            name = str(current.relative_to(project))
            try:
                text = read_file(current)
                used = parse_program(text, name)
            except ParseError as error:
                _report(problems, error.diagnostics, source, use)
                failed = True
                continue
            except CritlangError as error:
                problems.append(
                    Diagnostic(code="E250", message=str(error), span=use.span, source=source)
                )
                failed = True
                continue
            used_source = Source(text, name)
            loaded.append((used, used_source, use))
            provides.update(_provided(used))
            for inner in used.uses:
                inner_problems: list[Diagnostic] = []
                inner_target = use_target(
                    inner,
                    used_source,
                    current.parent,
                    project,
                    inner_problems,
                    without_file=_LINT_A_FILE,
                    name_project=False,
                )
                _report(problems, inner_problems, source, use)
                if inner_target is not None:
                    pending.append(inner_target)
        uses.append(UsedFile(use=use, path=target, provides=frozenset(provides), failed=failed))
    return uses, loaded


def _provided(program: ast.Program) -> Iterator[str]:
    for item in program.items:
        if isinstance(item, ast.Declaration):
            yield item.name.casefold()
            aliases = item.option("aliases")
            for alias in aliases.values if aliases else ():
                if isinstance(alias, ast.Symbol):
                    yield alias.name.casefold()
        elif isinstance(item, ast.AnchorDeclaration):
            yield from (name.casefold() for name in item.names)
        elif isinstance(item, ast.Define):
            yield item.name.casefold()
