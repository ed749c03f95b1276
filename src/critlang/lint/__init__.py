"""``critlang lint``: rule-coded findings about criteria files (SPEC §8).

The pipeline of one file (:func:`critlang.lint.engine.lint_text`):

1. :func:`critlang.lint.context.analyse` parses and checks the text as far as it goes and builds a
   :class:`~critlang.lint.context.LintContext`: the AST (``program``), the parser's and checker's
   diagnostics (``parse_errors``, ``check_errors``: the E-codes of ``critlang check``), the
   dictionary, and the checked IR of every criterion and definition that checks (``criteria``,
   ``definitions``; :meth:`LintContext.checked` yields them with their owners).
2. Every selected rule (:mod:`critlang.lint.config`) runs on the context and yields
   :class:`~critlang.lint.registry.Finding` values.
3. The engine turns findings into :class:`~critlang.diagnostics.Diagnostic` values with the rule's
   code, name and severity, drops those a ``# critlang: ignore[CODE]`` comment on the line where
   they start suppresses, and sorts them; :mod:`critlang.lint.output` prints them as text, JSON, SARIF or
   GitHub annotations.

Writing a rule
--------------

One file in ``src/critlang/lint/rules/``, named ``cl<number>_<name>.py``, holding one function
decorated with :func:`critlang.lint.registry.rule`::

    from collections.abc import Iterator

    from critlang.lint.context import LintContext
    from critlang.lint.registry import Finding, rule


    @rule("CL301", "unsatisfiable-criterion")   # severity=..., fixable=..., default=...
    def unsatisfiable_criterion(context: LintContext) -> Iterator[Finding]:
        \"\"\"Criterion that no patient can meet.

        ## What it does
        ## Why is this bad?
        ## Example
        ## Use instead
        \"\"\"
        for criterion in context.criteria:          # checked IR (critlang.semantics.ir)
            ...
            yield Finding(span=criterion.origin.span, message="...", help="...")

- The docstring's first line is the summary; the four ``##`` sections are required (a test
  fails without them), with the examples in fenced blocks.
- A finding's ``span`` is in the linted file: use spans of ``context.program`` nodes or of IR
  nodes' ``origin`` reached without entering definition bodies (``walk_ir`` does not enter them by
  default; definitions come separately from ``context.definitions``/``context.checked()``).
- ``fix=Fix(message=..., edits=(Edit(span=..., text=...),), applicability=...)`` offers a fix
  (:mod:`critlang.diagnostics`); ``--fix`` applies the safe ones. Declare ``fixable=True``.
- ``default=False`` makes a rule opt-in (run only when selected); the severity is ``WARNING``
  unless given (rules that report what ``critlang check`` rejects are ``ERROR``).
- An analysis that several rules share is computed once per file with
  ``context.memo("critlang.lint.intervals", lambda: analyse(context))``.
- Add ``tests/fixtures/lint/rules/<CODE>.crit`` (the rule firing, and the "use instead" form not
  firing) and generate its snapshot and ``docs/rules.md``:
  ``CRITLANG_UPDATE_SNAPSHOTS=1 pytest tests/lint``; read the snapshot.
- Add at least one seeded defect ``tests/fixtures/lint/defects/<CODE>-<what>.crit`` with that one
  defect and nothing else the default rules report.
- Helpers: :mod:`critlang.lint.walk` (``walk_ast``, ``walk_ir``, ``expressions``),
  :mod:`critlang.lint.spans` (the span of a name or word inside a node).

Families: CL1xx syntax and names, CL2xx units, CL3xx logic, CL4xx time, CL5xx style.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from critlang.lint.config import Selection
    from critlang.lint.context import LintContext
    from critlang.lint.engine import FileResult, lint_file, lint_text
    from critlang.lint.registry import Finding, Rule, all_rules, rule

__all__ = [
    "FileResult",
    "Finding",
    "LintContext",
    "Rule",
    "Selection",
    "all_rules",
    "lint_file",
    "lint_text",
    "rule",
]

_LAZY = {
    "Selection": "critlang.lint.config",
    "LintContext": "critlang.lint.context",
    "FileResult": "critlang.lint.engine",
    "lint_file": "critlang.lint.engine",
    "lint_text": "critlang.lint.engine",
    "Finding": "critlang.lint.registry",
    "Rule": "critlang.lint.registry",
    "all_rules": "critlang.lint.registry",
    "rule": "critlang.lint.registry",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'critlang.lint' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
