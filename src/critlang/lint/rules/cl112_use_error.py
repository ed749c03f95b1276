from __future__ import annotations

from collections.abc import Iterator

from critlang.diagnostics import Severity
from critlang.lint.checks import check_errors
from critlang.lint.context import LintContext
from critlang.lint.registry import Finding, rule


@rule("CL112", "use-error", severity=Severity.ERROR)
def use_error(context: LintContext) -> Iterator[Finding]:
    """`use` of a file that cannot be brought in (check errors E250, E251, E252).

    ## What it does
    Reports a `use` whose file is missing, unreadable, outside the folder of the linted file,
    written as an absolute path, holding criteria, or with errors of its own (the first is shown;
    lint that file on its own for the rest).

    ## Why is this bad?
    The definitions and declarations the file needs are missing, so it does not check; a `use`
    may only reach files under the project folder, so that a criteria file never reads anything
    else.

    ## Example
    ```
    use "/etc/site-labs.crit"
    ```

    ## Use instead
    ```
    use "site-labs.crit"
    ```
    """
    return check_errors(context, "E250", "E251", "E252")
