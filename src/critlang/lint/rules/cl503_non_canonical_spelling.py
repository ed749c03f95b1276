from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Edit, Fix
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.spans import text_span
from critlang.lint.walk import ast_nodes, expressions
from critlang.semantics.checker import BUILTIN_NAMES, FUNCTIONS, SELECTORS
from critlang.source import Span
from critlang.syntax import ast

COMPARATORS = {"≥": ">=", "≤": "<=", "≠": "!=", "==": "="}


@rule("CL503", "non-canonical-spelling", fixable=True)
def non_canonical_spelling(context: LintContext) -> Iterator[Finding]:
    """Name or operator not written the way the dictionary and the formatter write it.

    ## What it does
    Reports a variable, alias, definition, anchor, function or built-in written in another
    case than its declaration (`anc`, `Ecog`, `Screening`, `MAX(...)`), and the protocol
    spellings of operators (`≥`, `≤`, `≠`, `==`, `×` in `2.5 × ULN`), and fixes them to the
    canonical spelling (`ANC`, `ECOG`, `screening`, `max(...)`, `>=`, `<=`, `!=`, `=`, `x`). The fix
    is safe: names resolve case-insensitively, so the meaning does not change.

    ## Why is this bad?
    One thing spelt several ways is harder to search for and to review; `critlang fmt` writes
    the canonical spelling, so a file that is not in it changes on the next format.

    ## Example
    ```
    inclusion
      I7 "ECOG 0-2": Ecog ≤ 2
      I10.5 "Bilirubin ≤1.5×ULN": Bilirubin <= 1.5 × ULN
    ```

    ## Use instead
    ```
    inclusion
      I7 "ECOG 0-2": ECOG <= 2
      I10.5 "Bilirubin ≤1.5×ULN": bilirubin <= 1.5 x ULN
    ```
    """
    anchors = {name: name for name in context.standard.anchors}
    for item in context.program.declarations:
        if isinstance(item, ast.AnchorDeclaration):
            anchors.update((name.casefold(), name) for name in item.names)
    definitions = {define.name.casefold(): define.name for define in context.program.definitions}
    for _owner, body in expressions(context.program):
        anchor_names: set[int] = set()
        for node in ast_nodes(context, body):
            if isinstance(node, ast.Window) and isinstance(node.anchor, ast.Name):
                anchor_names.add(id(node.anchor))
            elif isinstance(node, ast.Call) and node.function.casefold() == "age_at":
                anchor_names.update(id(arg) for arg in node.args if isinstance(arg, ast.Name))
            finding: Finding | None = None
            if isinstance(node, ast.Name):
                if id(node) in anchor_names:
                    canonical = anchors.get(node.name.casefold())
                else:
                    canonical = _name(context, node.name, definitions)
                if canonical is not None and canonical != node.name:
                    finding = _finding(node.span, node.name, canonical)
            elif isinstance(node, ast.Call):
                canonical = node.function.casefold()
                if canonical != node.function and (
                    canonical in FUNCTIONS or canonical in SELECTORS
                ):
                    span = Span(node.span.start, node.span.start + len(node.function))
                    finding = _finding(span, node.function, canonical)
            elif isinstance(node, ast.Compare):
                between = Span(node.left.span.end, node.right.span.start)
                for written, canonical in COMPARATORS.items():
                    found = text_span(context.source, between, written)
                    if found is not None:
                        finding = _finding(found, written, canonical)
                        break
            elif isinstance(node, ast.LimitMultiple):
                times = text_span(context.source, node.span, "×")
                if times is not None:
                    finding = _finding(times, "×", "x")
            if finding is not None:
                yield finding


def _name(context: LintContext, written: str, definitions: dict[str, str]) -> str | None:
    key = written.casefold()
    if key in definitions:
        return definitions[key]
    if key in BUILTIN_NAMES:
        return key
    variable = context.dictionary.lookup(written)
    if variable is None:
        return None
    if variable.name.casefold() == key:
        return variable.name
    return next((alias for alias in variable.aliases if alias.casefold() == key), None)


def _finding(span: Span, written: str, canonical: str) -> Finding:
    return Finding(
        span=span,
        message=f"`{written}` is not the canonical spelling `{canonical}`",
        help=None,
        fix=Fix(message=f"write `{canonical}`", edits=(Edit(span=span, text=canonical),)),
    )
