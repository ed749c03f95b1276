"""critlang diagnostics as LSP diagnostics: range, severity, code, a link to the rule's docs.

The link (``codeDescription``) points at the rule's section of ``docs/rules.md``: under the URL
the client configures (``rulesUrl``), or else in a copy of that page that the server writes, from
the same source as the repository's (:func:`critlang.lint.docs.markdown`), to the user's cache
folder, so that the link works wherever critlang is installed.
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
from pathlib import Path

from lsprotocol import types

from critlang.diagnostics import Diagnostic, Severity
from critlang.lsp.positions import LineIndex

SOURCE = "critlang"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
# Findings about text that does nothing: editors grey it out.
_UNNECESSARY = frozenset({"CL104", "CL105"})


def to_lsp(diagnostic: Diagnostic, lines: LineIndex, rules_url: str | None) -> types.Diagnostic:
    """The LSP form of a critlang diagnostic of the document indexed by ``lines``."""
    message = diagnostic.message + (f"\nhelp: {diagnostic.help}" if diagnostic.help else "")
    description = None
    if rules_url and diagnostic.name:
        anchor = f"{diagnostic.code.lower()}-{diagnostic.name}"
        description = types.CodeDescription(href=f"{rules_url}#{anchor}")
    return types.Diagnostic(
        range=lines.range(diagnostic.span),
        message=message,
        severity=_SEVERITY[diagnostic.severity],
        code=diagnostic.code,
        code_description=description,
        source=SOURCE,
        tags=[types.DiagnosticTag.Unnecessary] if diagnostic.code in _UNNECESSARY else None,
    )


@functools.cache
def local_rules_url() -> str | None:
    """A ``file:`` URL of the rules' documentation, written to the cache folder (or the
    temporary folder when caching is off); None when it cannot be written."""
    from critlang.lint.docs import markdown
    from critlang.syntax.parser import cache_directory

    text = markdown()
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    folder = cache_directory() or Path(tempfile.gettempdir()) / "critlang"
    path = folder / f"docs-{digest}" / "rules.md"
    try:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(path)
    except OSError:
        return None
    return path.resolve().as_uri()
