"""The exception hierarchy: every error critlang raises on bad input is a ``CritlangError``."""

from __future__ import annotations


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
