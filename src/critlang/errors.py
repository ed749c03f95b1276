"""The exception hierarchy: every error critlang raises on bad input is a ``CritlangError``."""

from __future__ import annotations

from collections.abc import Sequence

TYPE_CHECKING = False  # not typing's: see critlang/__init__.py
if TYPE_CHECKING:
    from critlang.diagnostics import Diagnostic


class CritlangError(Exception):
    """Base class of every error critlang reports about its input (text, units, records, files)."""


class UnitError(CritlangError, ValueError):
    """A unit code that cannot be read, or a conversion that must not be made.

    ``code`` is the offending unit text as the caller wrote it, ``position`` the 0-based index in
    ``code`` where the problem starts (``None`` when the problem is not at one place, such as two
    units of different dimensions), and ``reason`` a sentence a clinician can act on.
    """

    def __init__(self, code: str, reason: str, position: int | None = None) -> None:
        self.code = code
        self.reason = reason
        self.position = position
        super().__init__(self._render())

    def _render(self) -> str:
        if self.position is None:
            return self.reason
        return f"{self.reason} (in `{self.code}` at position {self.position})"

    def __reduce__(self) -> tuple[type[UnitError], tuple[str, str, int | None]]:
        # Keeps the error picklable for worker processes (`screen --jobs`).
        return (type(self), (self.code, self.reason, self.position))


class DiagnosticError(CritlangError):
    """Errors found in a criteria file or expression, each a
    :class:`~critlang.diagnostics.Diagnostic` with a location; ``str()`` renders them with the
    source line and a caret."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        from critlang.diagnostics import render_all

        super().__init__(render_all(self.diagnostics))


class ParseError(DiagnosticError):
    """The text is not valid critlang syntax (or cannot be read as text at all)."""


class CheckError(DiagnosticError):
    """The text parses but does not check: unknown names, wrong types or units, cycles."""


class RecordError(CritlangError):
    """A patient record that cannot be read; ``problems`` lists each field and what is wrong."""

    def __init__(self, problems: Sequence[str], record_id: str | None = None) -> None:
        self.problems = tuple(problems)
        self.record_id = record_id
        who = f"record {record_id}" if record_id else "record"
        super().__init__(f"{who}: " + "; ".join(self.problems))
