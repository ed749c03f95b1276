"""Where things live on disk: the standard dictionary's files, and files brought in with ``use``.

Dictionary entries keep the :class:`~critlang.source.Source` they were declared in; its name is
``std/labs.crit`` for the standard dictionary and the path relative to the trial's folder for a
``use``d file. These functions turn that back into a file, and read the ``use``d files (parsed
once per modification time) for their definitions.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import attrs

from critlang.errors import CritlangError
from critlang.lint.context import LintContext
from critlang.semantics.dictionary import Variable
from critlang.semantics.uses import use_target
from critlang.source import Source
from critlang.syntax import ast
from critlang.syntax.parser import parse_program, read_file


@attrs.frozen(kw_only=True)
class ParsedFile:
    """A criteria file on disk, parsed."""

    path: Path
    source: Source
    program: ast.Program


@functools.cache
def standard_folder() -> Path | None:
    """The folder of the shipped standard dictionary (``critlang/std``), when it is on disk."""
    folder = resources.files("critlang").joinpath("std")
    path = Path(str(folder))
    return path if path.is_dir() else None


def standard_files() -> list[Path]:
    """The standard dictionary's files."""
    folder = standard_folder()
    return sorted(folder.glob("*.crit")) if folder is not None else []


def is_standard(path: Path) -> bool:
    """True for a file of the shipped standard dictionary (which must not be renamed into)."""
    folder = standard_folder()
    return folder is not None and path.resolve().parent == folder.resolve()


def variable_file(variable: Variable, context: LintContext) -> Path | None:
    """The file that declares ``variable``; None for the linted document itself (or unknown)."""
    source = variable.source
    if source is None or source is context.source:
        return None
    if context.standard.lookup(variable.name) is variable:
        folder = standard_folder()
        return folder / Path(source.name).name if folder is not None else None
    if context.path is None:
        return None
    return (context.path.resolve().parent / source.name).resolve()


def used_files(context: LintContext) -> list[ParsedFile]:
    """Every file the document brings in with ``use``, transitively, each once, parsed."""
    if context.path is None:
        return []
    project = context.path.resolve().parent
    pending = [used.path for used in context.uses if used.path is not None]
    found: list[ParsedFile] = []
    seen: set[Path] = set()
    while pending:
        path = pending.pop(0)
        if path in seen:
            continue
        seen.add(path)
        parsed = parse_file(path)
        if parsed is None:
            continue
        found.append(parsed)
        for use in parsed.program.uses:
            target = use_target(
                use, parsed.source, path.parent, project, [], without_file="", name_project=False
            )
            if target is not None:
                pending.append(target)
    return found


def parse_file(path: Path) -> ParsedFile | None:
    """The file parsed, or None when it cannot be read or parsed (cached per modification)."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    return _parse_file(path, stamp)


@functools.lru_cache(maxsize=512)
def _parse_file(path: Path, stamp: int) -> ParsedFile | None:
    try:
        text = read_file(path)
        program = parse_program(text, str(path))
    except CritlangError:
        return None
    return ParsedFile(path=path, source=Source(text, str(path)), program=program)
