"""One diagnostic type for parse errors, check errors and lint findings, and one renderer.

A diagnostic has a stable code, a severity, a message, a span in a source, optional help and,
for lint findings, the rule's name and an optional fix (text edits with an applicability).
Rendered like ruff and rustc::

    trial.crit:12:14: E301 `ANC` is a count per volume; `9 g/dL` is a mass per volume
       |
    12 |   I10.1: ANC >= 9 g/dL
       |                 ^^^^^^
    help: write the threshold in a unit of number/volume, such as 10*9/L
"""

from __future__ import annotations

import enum

import attrs

from critlang.source import NO_SPAN, Source, Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Applicability(enum.Enum):
    """Whether a fix can be applied without a person reading it (``--fix`` applies safe ones)."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@attrs.frozen(kw_only=True)
class Edit:
    """Replace the text in ``span`` (half-open character offsets) with ``text``."""

    span: Span
    text: str


@attrs.frozen(kw_only=True)
class Fix:
    """What a fix does (``message``) and its edits, which never overlap."""

    message: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE


@attrs.frozen(kw_only=True)
class Diagnostic:
    code: str
    message: str
    span: Span = NO_SPAN
    source: Source | None = attrs.field(default=None, eq=False, repr=False)
    severity: Severity = Severity.ERROR
    help: str | None = None
    # Lint findings only: the rule's kebab-case name, rendered as `CL201 [unit-mismatch]`.
    name: str | None = None
    fix: Fix | None = None

    @property
    def location(self) -> tuple[int, int]:
        """1-based (line, column), or (0, 0) when there is no source."""
        return self.source.location(self.span.start) if self.source else (0, 0)

    def to_dict(self) -> dict[str, object]:
        line, column = self.location
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.source.name if self.source else None,
            "line": line,
            "column": column,
            "help": self.help,
        }

    @property
    def headline(self) -> str:
        """``CODE message``, or ``CODE [name] message`` for a lint finding."""
        named = f" [{self.name}]" if self.name else ""
        return f"{self.code}{named} {self.message}"

    def render(self) -> str:
        """``file:line:col: CODE message``, the source line with a caret, and the help line."""
        if self.source is None:
            return self.headline + (f"\nhelp: {self.help}" if self.help else "")
        line, column = self.location
        lines = [f"{self.source.name}:{line}:{column}: {self.headline}"]
        source_line = self.source.line_text(line)
        if source_line:
            gutter = " " * len(str(line))
            end_line, end_column = self.source.location(max(self.span.end, self.span.start + 1))
            width = end_column - column if end_line == line else len(source_line) - column + 1
            caret = " " * _display_width(source_line[: column - 1]) + "^" * max(1, width)
            lines += [f"{gutter} |", f"{line} | {source_line}", f"{gutter} | {caret}"]
        if self.help:
            lines.append(f"help: {self.help}")
        if self.fix:
            lines.append(f"fix: {self.fix.message} ({self.fix.applicability.value})")
        return "\n".join(lines)


def _display_width(text: str) -> int:
    """Columns taken by ``text`` before the caret (tabs kept as tabs would misalign)."""
    return len(text.expandtabs(1))


def render_all(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> str:
    return "\n\n".join(diagnostic.render() for diagnostic in diagnostics)
