from __future__ import annotations

from collections.abc import Iterator

from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule
from critlang.lint.spans import declaration_name_span, define_name_span
from critlang.semantics.checker import BUILTIN_NAMES
from critlang.semantics.dictionary import Dictionary
from critlang.source import Span
from critlang.syntax import ast


@rule("CL106", "shadowed-name")
def shadowed_name(context: LintContext) -> Iterator[Finding]:
    """Declaration or definition that replaces a name of the standard dictionary.

    ## What it does
    Reports a `lab`, `fact`, `condition`, `treatment`, `event` or `procedure` declaration, an
    alias, or a `define` in this file whose name (case-insensitively) is already a name or alias
    of the standard dictionary, or a built-in (`age`, `diagnosis`).

    ## Why is this bad?
    The file's entry replaces the standard one for this trial: its unit, codes and plausible
    range change silently, and a reader who knows the standard `ANC` reads the criteria wrongly.
    When the replacement is deliberate (a site's own codes), say why in a suppression comment.

    ## Example
    ```
    lab ANC "Neutrophils": /uL codes LOINC:751-8

    inclusion
      I10.1 "ANC ≥1500/µL": ANC >= 1500 /uL
    ```

    ## Use instead
    ```
    inclusion
      I10.1 "ANC ≥1500/µL": ANC >= 1500 /uL
    ```
    (the standard `ANC` converts results and thresholds in `/uL`.)
    """
    standard = context.standard
    for item in context.program.items:
        if isinstance(item, ast.Declaration):
            names = [item.name]
            aliases = item.option("aliases")
            names += [
                v.name for v in (aliases.values if aliases else ()) if isinstance(v, ast.Symbol)
            ]
            for name in names:
                message = _shadows(name, standard)
                if message:
                    yield Finding(
                        span=declaration_name_span(context.source, item)
                        if name == item.name
                        else _alias_span(context, item, name),
                        message=f"`{name}` {message}",
                        help="rename it, or remove it to use the standard entry; if the "
                        "replacement is deliberate, suppress this with a comment that says why",
                    )
        elif isinstance(item, ast.Define):
            message = _shadows(item.name, standard)
            if message:
                yield Finding(
                    span=define_name_span(context.source, item),
                    message=f"the definition `{item.name}` {message}",
                    help="give the definition a name of its own",
                )


def _shadows(name: str, standard: Dictionary) -> str | None:
    if name.casefold() in BUILTIN_NAMES:
        return f"replaces the built-in `{name.casefold()}`"
    variable = standard.lookup(name)
    if variable is None:
        return None
    label = f", {variable.label}" if variable.label else ""
    return f"shadows the standard dictionary's {variable.kind} `{variable.name}` ({variable.describe()}{label})"


def _alias_span(context: LintContext, item: ast.Declaration, name: str) -> Span:
    option = item.option("aliases")
    assert option is not None
    for value in option.values:
        if isinstance(value, ast.Symbol) and value.name == name:
            return value.span
    return item.span
