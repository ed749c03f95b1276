"""The rule interface and the registry of every lint rule.

A rule is one module in :mod:`critlang.lint.rules` that defines one function decorated with
:func:`rule`. The function's docstring is the rule's documentation (``critlang lint --explain``,
``docs/rules.md``) and must have the four sections *What it does*, *Why is this bad?*, *Example*
and *Use instead*; its first line is the one-line summary. The function takes the
:class:`~critlang.lint.context.LintContext` of one file and yields :class:`Finding` values; the
engine turns them into diagnostics with the rule's code, name and severity, drops the ones a
suppression comment or the configuration turns off, and sorts them::

    # src/critlang/lint/rules/cl203_implausible_threshold.py
    @rule("CL203", "implausible-threshold")
    def implausible_threshold(context: LintContext) -> Iterator[Finding]:
        \"\"\"Threshold outside the plausible range of the variable it is compared with.

        ## What it does
        ...
        ## Why is this bad?
        ...
        ## Example
        ```
        ...
        ```
        ## Use instead
        ```
        ...
        ```
        \"\"\"
        for comparison in ...:
            yield Finding(span=comparison.origin.span, message="...", help="...")

Codes are ``CL`` and three digits, grouped by family: CL1xx syntax and names, CL2xx units, CL3xx
logic, CL4xx time, CL5xx style. Every rule has a fixture ``tests/fixtures/lint/rules/<CODE>.crit``
and the snapshot of its text output ``<CODE>.snapshot`` beside it (``tests/lint/test_rules.py``).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable

import attrs

from critlang.diagnostics import Fix, Severity
from critlang.source import Span

TYPE_CHECKING = False
if TYPE_CHECKING:
    from critlang.lint.context import LintContext

FAMILIES = {
    "CL1": "syntax and names",
    "CL2": "units",
    "CL3": "logic",
    "CL4": "time",
    "CL5": "style",
}
DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")
_CODE = re.compile(r"CL[1-9][0-9]{2}")
_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


@attrs.frozen(kw_only=True)
class Finding:
    """One problem a rule found: where (a span in the linted file), what, and how to fix it."""

    span: Span
    message: str
    help: str | None = None
    fix: Fix | None = None


Check = Callable[["LintContext"], Iterable[Finding]]


@attrs.frozen(kw_only=True)
class Rule:
    """A lint rule: a stable ``code``, a kebab-case ``name``, its docs and its check.

    ``default`` rules run unless the configuration selects otherwise; ``fixable`` rules offer
    fixes (``--fix`` applies the safe ones).
    """

    code: str
    name: str
    severity: Severity
    check: Check = attrs.field(repr=False)
    docs: str = attrs.field(repr=False)
    fixable: bool = False
    default: bool = True
    module: str = attrs.field(default="", repr=False)

    @property
    def summary(self) -> str:
        """The first line of the docs."""
        return self.docs.strip().splitlines()[0].strip() if self.docs.strip() else ""

    @property
    def family(self) -> str:
        return FAMILIES.get(self.code[:3], "other")

    def sections(self) -> dict[str, str]:
        """The docs' ``## Section`` bodies by title."""
        found: dict[str, str] = {}
        title: str | None = None
        lines: list[str] = []
        for line in self.docs.splitlines():
            heading = re.fullmatch(r"\s*##\s+(.+?)\s*", line)
            if heading:
                if title is not None:
                    found[title] = "\n".join(lines).strip()
                title, lines = heading.group(1), []
            elif title is not None:
                lines.append(line)
        if title is not None:
            found[title] = "\n".join(lines).strip()
        return found


def rule(
    code: str,
    name: str,
    *,
    severity: Severity = Severity.WARNING,
    fixable: bool = False,
    default: bool = True,
) -> Callable[[Check], Rule]:
    """Declare a lint rule; the decorated function's docstring is its documentation."""
    if not _CODE.fullmatch(code):
        raise ValueError(f"rule code {code!r} is not CL followed by three digits")
    if not _NAME.fullmatch(name):
        raise ValueError(f"rule name {name!r} is not kebab-case")

    def declare(check: Check) -> Rule:
        import inspect

        return Rule(
            code=code,
            name=name,
            severity=severity,
            check=check,
            docs=inspect.cleandoc(check.__doc__ or ""),
            fixable=fixable,
            default=default,
            module=getattr(check, "__module__", ""),
        )

    return declare


@functools.cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule in :mod:`critlang.lint.rules`, ordered by code."""
    from critlang.lint import rules as package

    found: list[Rule] = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        found.extend(value for value in vars(module).values() if isinstance(value, Rule))
    return tuple(sorted(found, key=lambda item: item.code))


def rule_for(code_or_name: str) -> Rule | None:
    """The rule with this code (``CL201``) or name (``unit-mismatch``), case-insensitively."""
    wanted = code_or_name.strip().casefold()
    return next((item for item in all_rules() if wanted in (item.code.casefold(), item.name)), None)
