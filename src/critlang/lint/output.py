"""Lint findings as text (like ruff), JSON, SARIF 2.1.0 and GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePath

from critlang.diagnostics import Diagnostic, Severity
from critlang.lint.engine import FileResult
from critlang.lint.registry import Rule, all_rules, rule_for

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"


def _findings(results: Sequence[FileResult]) -> list[Diagnostic]:
    return [diagnostic for result in results for diagnostic in result.diagnostics]


def text(results: Sequence[FileResult]) -> str:
    """Each finding rendered with its source line and caret, then a summary line."""
    findings = _findings(results)
    parts = [diagnostic.render() for diagnostic in findings]
    fixed = sum(result.fixed for result in results)
    summary = []
    if fixed:
        summary.append(f"Fixed {fixed} finding{'s' if fixed != 1 else ''}.")
    if findings:
        fixable = sum(
            1 for d in findings if d.fix is not None and d.fix.applicability.value == "safe"
        )
        line = f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''}"
        line += f" ({fixable} fixable with `--fix`)." if fixable else "."
        summary.append(line)
    elif not fixed:
        summary.append("All checks passed.")
    else:
        summary.append("No findings remain.")
    return "\n\n".join([*parts, "\n".join(summary)]) + "\n"


def _end(diagnostic: Diagnostic) -> tuple[int, int]:
    if diagnostic.source is None:
        return (0, 0)
    return diagnostic.source.location(max(diagnostic.span.end, diagnostic.span.start))


def finding_dict(diagnostic: Diagnostic) -> dict[str, object]:
    line, column = diagnostic.location
    end_line, end_column = _end(diagnostic)
    fix: dict[str, object] | None = None
    if diagnostic.fix is not None and diagnostic.source is not None:
        source = diagnostic.source
        fix = {
            "message": diagnostic.fix.message,
            "applicability": diagnostic.fix.applicability.value,
            "edits": [
                {
                    "content": edit.text,
                    "location": dict(
                        zip(("line", "column"), source.location(edit.span.start), strict=True)
                    ),
                    "end_location": dict(
                        zip(("line", "column"), source.location(edit.span.end), strict=True)
                    ),
                }
                for edit in diagnostic.fix.edits
            ],
        }
    return {
        "code": diagnostic.code,
        "name": diagnostic.name,
        "severity": diagnostic.severity.value,
        "message": diagnostic.message,
        "help": diagnostic.help,
        "file": diagnostic.source.name if diagnostic.source else None,
        "location": {"line": line, "column": column},
        "end_location": {"line": end_line, "column": end_column},
        "fix": fix,
    }


def json_text(results: Sequence[FileResult]) -> str:
    """A JSON array of findings (code, name, severity, message, help, file, location,
    end_location and fix with its edits; lines and columns 1-based)."""
    return json.dumps([finding_dict(d) for d in _findings(results)], indent=2, ensure_ascii=False)


_SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _uri(name: str) -> str:
    return PurePath(name).as_posix()


def _rule_descriptor(rule: Rule) -> dict[str, object]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.sections().get("What it does") or rule.summary},
        "help": {"text": rule.docs, "markdown": rule.docs},
        "defaultConfiguration": {"level": _SARIF_LEVELS[rule.severity]},
        "properties": {"tags": [rule.family]},
    }


def _region(diagnostic: Diagnostic) -> dict[str, int]:
    line, column = diagnostic.location
    end_line, end_column = _end(diagnostic)
    region = {"startLine": max(line, 1), "startColumn": max(column, 1)}
    if end_line >= line and (end_line, end_column) > (line, column):
        region.update(endLine=end_line, endColumn=end_column)
    return region


def sarif(results: Sequence[FileResult], version: str) -> str:
    """A SARIF 2.1.0 log with one run: the rules in ``tool.driver.rules`` and one result per
    finding (columns count Unicode code points)."""
    rules = list(all_rules())
    index = {rule.code: position for position, rule in enumerate(rules)}
    sarif_results = []
    for diagnostic in _findings(results):
        result: dict[str, object] = {
            "ruleId": diagnostic.code,
            "level": _SARIF_LEVELS[diagnostic.severity],
            "message": {"text": diagnostic.message},
        }
        if diagnostic.code in index:
            result["ruleIndex"] = index[diagnostic.code]
        if diagnostic.source is not None:
            location = {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(diagnostic.source.name)},
                    "region": _region(diagnostic),
                }
            }
            result["locations"] = [location]
            if diagnostic.fix is not None:
                source = diagnostic.source
                replacements = []
                for edit in diagnostic.fix.edits:
                    start_line, start_column = source.location(edit.span.start)
                    end_line, end_column = source.location(edit.span.end)
                    replacements.append(
                        {
                            "deletedRegion": {
                                "startLine": start_line,
                                "startColumn": start_column,
                                "endLine": end_line,
                                "endColumn": end_column,
                            },
                            "insertedContent": {"text": edit.text},
                        }
                    )
                result["fixes"] = [
                    {
                        "description": {"text": diagnostic.fix.message},
                        "artifactChanges": [
                            {
                                "artifactLocation": {"uri": _uri(source.name)},
                                "replacements": replacements,
                            }
                        ],
                    }
                ]
        if diagnostic.help:
            result["properties"] = {"help": diagnostic.help}
        sarif_results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "critlang",
                        "version": version,
                        "rules": [_rule_descriptor(rule) for rule in rules],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": sarif_results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)


_GITHUB_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(results: Sequence[FileResult]) -> str:
    """One workflow command per finding:
    ``::warning file=F,line=L,col=C,endLine=..,endColumn=..,title=CL201::message``."""
    lines = []
    for diagnostic in _findings(results):
        line, column = diagnostic.location
        properties = []
        if diagnostic.source is not None:
            end_line, end_column = _end(diagnostic)
            properties += [
                f"file={_escape_property(_uri(diagnostic.source.name))}",
                f"line={line}",
                f"col={column}",
                f"endLine={end_line}",
                f"endColumn={end_column}",
            ]
        properties.append(f"title={_escape_property(diagnostic.code)}")
        message = (
            f"[{diagnostic.name}] {diagnostic.message}" if diagnostic.name else diagnostic.message
        )
        if diagnostic.help:
            message += f"\nhelp: {diagnostic.help}"
        lines.append(
            f"::{_GITHUB_LEVELS[diagnostic.severity]} {','.join(properties)}::{_escape_data(message)}"
        )
    return "\n".join(lines) + ("\n" if lines else "")


def explain(code: str) -> str | None:
    """A rule's documentation for ``--explain``, or None for an unknown code."""
    found = rule_for(code)
    if found is None:
        return None
    flags = [found.severity.value, found.family]
    if found.fixable:
        flags.append("fixable")
    if not found.default:
        flags.append("not on by default")
    return f"# {found.code} {found.name} ({', '.join(flags)})\n\n{found.docs}\n"


def rule_list() -> str:
    """One line per rule: code, name, summary; ``*`` marks fixable rules."""
    rules = all_rules()
    width = max((len(rule.name) for rule in rules), default=0)
    return (
        "\n".join(
            f"{rule.code}  {rule.name:<{width}}  {'*' if rule.fixable else ' '} {rule.summary}"
            for rule in rules
        )
        + "\n"
    )
