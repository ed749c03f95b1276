"""Formatting files in place, checking them (``--check``) or showing the change (``--diff``)."""

from __future__ import annotations

import difflib
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from critlang.errors import CritlangError, DiagnosticError
from critlang.fmt.printer import format_program
from critlang.syntax import ast
from critlang.syntax.parser import MAX_SOURCE_CHARS, parse_program, read_file

STDIN = "-"


def format_checked(text: str, name: str = "<string>") -> str:
    """:func:`~critlang.fmt.printer.format_source`, and proof that the result means the same.

    When formatting changes the text, the result is parsed again and must give an equal program
    with the same comments; otherwise a :class:`CritlangError` says so (and ``critlang fmt``
    leaves the file alone). The tests hold the formatter to this; the check is there so that a
    file is never rewritten on the strength of the tests alone.
    """
    program = parse_program(text, name)
    formatted = format_program(text, program)
    if len(formatted) > MAX_SOURCE_CHARS:
        raise CritlangError(
            f"{name}: formatted, the text would be longer than {MAX_SOURCE_CHARS:,} characters, "
            "more than critlang reads; the file is left as it is"
        )
    if formatted != text and not _same_program(program, formatted):
        raise CritlangError(
            f"{name}: formatting would change the program or its comments, so the file is left "
            "as it is; this is a bug in critlang fmt, please report it"
        )
    return formatted


def _same_program(program: ast.Program, formatted: str) -> bool:
    try:
        again = parse_program(formatted)
    except CritlangError:
        return False
    return again == program and _comments(again) == _comments(program)


def _comments(program: ast.Program) -> Counter[str]:
    return Counter(comment.text.rstrip() for comment in program.comments)


def unified_diff(before: str, after: str, name: str) -> str:
    """The change formatting makes, as a unified diff (``--- name`` / ``+++ name``)."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=name,
            tofile=f"{name} (formatted)",
        )
    )


def format_paths(
    paths: Sequence[Path | str],
    *,
    check: bool = False,
    diff: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Format each file; ``-`` reads standard input and writes the result to ``out``.

    Writes a file only when formatting changes it, and never with ``check`` or ``diff``:
    ``check`` names each file that would change, ``diff`` prints the change. Returns the exit
    status: 2 when a file cannot be read or parsed (its errors rendered on ``err``), else 1 when
    ``check`` or ``diff`` found a file to change, else 0.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    failed = changed = unchanged = 0
    for path in paths:
        name = str(path)
        try:
            text = sys.stdin.read() if name == STDIN else read_file(Path(path))
            formatted = format_checked(text, "<stdin>" if name == STDIN else name)
        except DiagnosticError as error:
            print(error, file=err)
            failed += 1
            continue
        except CritlangError as error:
            print(f"critlang: error: {error}", file=err)
            failed += 1
            continue
        if name == STDIN and not (check or diff):
            out.write(formatted)
        if formatted == text:
            unchanged += 1
            continue
        changed += 1
        if diff:
            out.write(unified_diff(text, formatted, name))
        if check:
            print(f"would reformat {name}", file=err)
        elif not diff and name != STDIN:
            Path(path).write_text(formatted, encoding="utf-8")
            print(f"reformatted {name}", file=err)
    if list(map(str, paths)) != [STDIN]:
        print(_summary(changed, unchanged, failed, check or diff), file=err)
    if failed:
        return 2
    return 1 if changed and (check or diff) else 0


def _summary(changed: int, unchanged: int, failed: int, dry_run: bool) -> str:
    def files(count: int) -> str:
        return f"{count} file{'s' if count != 1 else ''}"

    if dry_run:
        parts = [f"{files(changed)} would be reformatted", f"{unchanged} already formatted"]
    else:
        parts = [f"{files(changed)} reformatted", f"{unchanged} left unchanged"]
    if failed:
        parts.append(f"{files(failed)} with errors")
    return ", ".join(parts)
