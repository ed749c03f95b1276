"""Where a ``use "file.crit"`` leads: a file inside the project folder, or a problem (E251).

Shared by :mod:`critlang.trial` (checking) and the linter, so that both accept the same files.
"""

from __future__ import annotations

from pathlib import Path

from critlang.diagnostics import Diagnostic
from critlang.source import Source
from critlang.syntax import ast


def use_target(
    use: ast.Use,
    source: Source,
    folder: Path | None,
    project: Path | None,
    problems: list[Diagnostic],
    *,
    without_file: str,
    name_project: bool = True,
) -> Path | None:
    """The file ``use`` names, relative to ``folder``; ``None`` with a problem noted when it is
    absolute, outside ``project``, missing, or there is no file on disk (``without_file`` says
    what to do instead). ``name_project`` adds the project folder to the message."""

    def problem(message: str) -> None:
        problems.append(Diagnostic(code="E251", message=message, span=use.span, source=source))

    if project is None or folder is None:
        problem(f"`use` needs a file on disk: {without_file}")
        return None
    relative = Path(use.path)
    if relative.is_absolute() or use.path.startswith(("/", "\\")) or ":" in use.path:
        problem(f'`use "{use.path}"`: write a path relative to this file, not an absolute one')
        return None
    target = (folder / relative).resolve()
    if not target.is_relative_to(project):
        where = f" ({project})" if name_project else ""
        problem(f'`use "{use.path}"` leaves the project folder{where}')
        return None
    if not target.is_file():
        problem(f'`use "{use.path}"`: no such file')
        return None
    return target
