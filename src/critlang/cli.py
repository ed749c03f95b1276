"""The ``critlang`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from critlang.errors import CritlangError

if TYPE_CHECKING:
    from critlang.trial import Trial


def _units_convert(args: argparse.Namespace) -> int:
    from critlang.units import convert_exact, parse_unit

    source, target = parse_unit(args.source), parse_unit(args.target)
    value = convert_exact(args.value, source, target, molar_mass=args.molar_mass)
    print(f"{args.value} {source.code} = {_decimal_text(value)} {target.code}")
    return 0


def _units_show(args: argparse.Namespace) -> int:
    from critlang.units import display_name, parse_unit

    for code in args.codes:
        unit = parse_unit(code)
        print(f"{code}")
        print(f"  UCUM code : {unit.code}")
        print(f"  reads as  : {display_name(unit.code)}")
        print(f"  dimension : {unit.dimension.describe()} ({unit.dimension})")
        print(f"  factor    : {_decimal_text(unit.factor)} (to canonical units)")
        flags = [
            name
            for name, on in (("arbitrary", unit.is_arbitrary), ("special", unit.is_special))
            if on
        ]
        if unit.annotations:
            flags.append("annotated " + " ".join(f"{{{text}}}" for text in unit.annotations))
        if flags:
            print(f"  note      : {', '.join(flags)}")
    return 0


def _decimal_text(value: object) -> str:
    """A fraction as a short decimal: exact when it terminates, else 12 significant digits."""
    from fractions import Fraction

    assert isinstance(value, Fraction)
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator == 1:
        from decimal import Decimal, localcontext

        with localcontext() as context:
            context.prec = 60
            text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{float(value):.12g}"


def _check(args: argparse.Namespace) -> int:
    from critlang.errors import DiagnosticError
    from critlang.trial import load

    failed = 0
    for path in _criteria_files(args.files):
        try:
            trial = load(path)
        except DiagnosticError as error:
            print(error, file=sys.stderr)
            failed += 1
            continue
        checked = len(trial.criteria)
        print(f"{path}: ok ({checked} criteria)")
    return 1 if failed else 0


def _fmt(args: argparse.Namespace) -> int:
    from critlang.fmt.files import STDIN, format_paths

    paths = [STDIN] if args.files == [STDIN] else _criteria_files(args.files)
    return format_paths(paths, check=args.check, diff=args.diff)


def _criteria_files(names: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            files.extend(sorted(path.rglob("*.crit")))
        elif path.exists():
            files.append(path)
        else:
            raise _UsageError(f"{name}: no such file or folder")
    if not files:
        raise _UsageError(f"no criteria files (*.crit) in {', '.join(names)}")
    return files


def _eval(args: argparse.Namespace) -> int:
    import json

    from critlang.errors import DiagnosticError
    from critlang.trial import Expression, as_record, load, result_json

    if args.expr is not None:
        if len(args.paths) != 1:
            raise _UsageError("with --expr, give one record: critlang eval --expr EXPR RECORD")
        record_path = Path(args.paths[0])
    else:
        if len(args.paths) != 2:
            raise _UsageError("usage: critlang eval FILE RECORD (or --expr EXPR RECORD)")
        record_path = Path(args.paths[1])
    try:
        record = as_record(_read_record(record_path))
        if args.expr is not None:
            expression = Expression(args.expr)
            outcome = expression.evaluate(record, as_of=args.as_of)
            if args.format == "json":
                value = outcome.to_dict() if hasattr(outcome, "to_dict") else {"value": outcome}
                print(json.dumps(value, indent=2, ensure_ascii=False))
            else:
                print(outcome.explain() if hasattr(outcome, "explain") else outcome)
            return 0
        trial = load(args.paths[0])
    except DiagnosticError as error:
        print(error, file=sys.stderr)
        return 1
    result = trial.evaluate(record, as_of=args.as_of, anchors=_anchor_options(args.anchor))
    print(result_json(result) if args.format == "json" else result.explain())
    return 0


def _screen(args: argparse.Namespace) -> int:
    import datetime
    import os

    from critlang.data import DataFormatError
    from critlang.errors import DiagnosticError
    from critlang.screen import ProgressLine, WhatIfError, screen

    relax: dict[str, str] = {}
    for value in args.relax or ():
        identifier, equals, expression = value.partition("=")
        if not equals or not identifier.strip() or not expression.strip():
            raise _UsageError(
                f"--relax {value!r}: write ID=EXPRESSION, e.g. 'I10.1=ANC >= 1.0 x10^9/L'"
            )
        relax[identifier.strip()] = expression.strip()
    for name, value in [
        ("--as-of", args.as_of),
        *(("--anchor", day) for day in _anchor_options(args.anchor).values()),
    ]:
        try:
            if value is not None:
                datetime.date.fromisoformat(value)
        except ValueError:
            raise _UsageError(f"{name} {value!r} is not a date (write YYYY-MM-DD)") from None
    if args.jobs < 1:
        raise _UsageError("--jobs must be at least 1")
    from critlang.screen_sql import check_engine

    check_engine(args.engine, args.dsn, args.schema, args.jobs)
    if args.data is None and args.engine != "postgres":
        raise _UsageError("give the DATA to screen (only --engine postgres reads --dsn instead)")
    if args.out is not None and Path(args.out).suffix.casefold() not in (
        ".csv",
        ".jsonl",
        ".ndjson",
    ):
        raise _UsageError(f"--out {args.out}: write rows to a .csv or a .jsonl file")
    trial = _criteria(args.criteria)
    if trial is None:
        return 1
    show = not args.no_progress and sys.stderr.isatty() and not os.environ.get("CI")
    progress = ProgressLine(sys.stderr) if show else None
    try:
        result = screen(
            trial,
            args.data,
            args.as_of,
            _anchor_options(args.anchor) or None,
            jobs=args.jobs,
            progress=progress,
            relax=relax,
            drop=args.drop or (),
            format=args.format,
            engine=args.engine,
            dsn=args.dsn,
            schema=args.schema,
        )
    except (DataFormatError, WhatIfError) as error:
        raise _UsageError(str(error)) from None
    except DiagnosticError as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        if progress is not None:
            progress.close()
    print(result.summary())
    if args.out is not None:
        result.write(args.out)
        print(f"\nrows: {args.out}")
    if args.report is not None:
        from critlang.report import write_report

        write_report(result, args.report)
        print(f"report: {args.report}")
    return 0


def _anchor_options(values: Sequence[str] | None) -> dict[str, str]:
    anchors: dict[str, str] = {}
    for value in values or ():
        name, equals, day = value.partition("=")
        if not equals or not name.strip() or not day.strip():
            raise _UsageError(f"--anchor {value!r}: write NAME=YYYY-MM-DD")
        anchors[name.strip()] = day.strip()
    return anchors


def _read_record(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CritlangError(f"{path}: cannot read: {error}") from None


def _criteria(name: str) -> Trial | None:
    """The criteria file a command works on, checked; ``None`` (its errors printed) when it does
    not check; a usage error when there is no such file."""
    from critlang.errors import DiagnosticError
    from critlang.trial import load

    path = Path(name)
    if not path.is_file():
        raise _UsageError(f"{path}: no such file")
    try:
        return load(path)
    except DiagnosticError as error:
        print(error, file=sys.stderr)
        return None


def _sql(args: argparse.Namespace) -> int:
    import datetime

    try:
        from critlang.sql import to_sql
    except ImportError:
        raise CritlangError("critlang sql needs sqlglot: pip install 'critlang[sql]'") from None
    if args.as_of is not None:
        try:
            datetime.date.fromisoformat(args.as_of)
        except ValueError:
            raise _UsageError(f"--as-of {args.as_of!r} is not a date (write YYYY-MM-DD)") from None
    trial = _criteria(args.criteria)
    if trial is None:
        return 1
    print(to_sql(trial, dialect=args.dialect, as_of=args.as_of, schema=args.schema) + ";")
    return 0


def _test(args: argparse.Namespace) -> int:
    from critlang.testing import render_json, render_text, run_tests

    report = run_tests(*args.paths, keywords=args.keyword or ())
    if report.problems:
        for problem in report.problems:
            print(problem, file=sys.stderr)
        if any(problem.file for problem in report.problems):
            count = len(report.problems)
            print(
                f"critlang: {count} problem{'s' * (count != 1)} in the test files; no case was run",
                file=sys.stderr,
            )
        return report.exit_code
    verbosity = 0 if args.quiet else 2 if args.verbose else 1
    print(render_json(report) if args.format == "json" else render_text(report, verbosity))
    return report.exit_code


def _lint(args: argparse.Namespace) -> int:
    from critlang import __version__
    from critlang.lint.cli import UsageError, run

    if args.files:
        args.files = _criteria_files(args.files)
    try:
        return run(args, __version__)
    except UsageError as error:
        raise _UsageError(str(error)) from None


def _lsp(args: argparse.Namespace) -> int:
    try:
        from critlang.lsp.server import serve
    except ImportError as error:
        if (error.name or "").split(".")[0] not in ("pygls", "lsprotocol"):
            raise
        raise _UsageError(
            "the language server needs pygls: install critlang[lsp] (pip install 'critlang[lsp]')"
        ) from None
    serve()
    return 0


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="critlang", description="Clinical-trial eligibility criteria: check, evaluate, screen."
    )
    from critlang import __version__

    parser.add_argument("--version", action="version", version=f"critlang {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    units = commands.add_parser("units", help="read and convert UCUM units")
    unit_commands = units.add_subparsers(dest="units_command", required=True)
    convert = unit_commands.add_parser("convert", help="convert a value between two units")
    convert.add_argument("value", help="the number to convert, e.g. 1.5")
    convert.add_argument("source", help="its unit, e.g. 'x10^9/L' or mg/dL")
    convert.add_argument("target", help="the unit wanted, e.g. /uL or umol/L")
    convert.add_argument(
        "--molar-mass", metavar="G_PER_MOL", help="the analyte's molar mass, for mass <-> mol"
    )
    convert.set_defaults(handler=_units_convert)
    show = unit_commands.add_parser("show", help="show how unit codes are read")
    show.add_argument("codes", nargs="+", metavar="CODE")
    show.set_defaults(handler=_units_show)

    check = commands.add_parser("check", help="parse and check criteria files")
    check.add_argument("files", nargs="+", metavar="FILE", help="a .crit file or a folder of them")
    check.set_defaults(handler=_check)

    fmt = commands.add_parser("fmt", help="format criteria files in the canonical layout")
    fmt.add_argument(
        "files", nargs="+", metavar="FILE", help="a .crit file or a folder of them; - for stdin"
    )
    fmt.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any would change"
    )
    fmt.add_argument(
        "--diff", action="store_true", help="write nothing; print the changes as a diff"
    )
    fmt.set_defaults(handler=_fmt)

    evaluate = commands.add_parser(
        "eval", help="evaluate one patient record against a criteria file"
    )
    evaluate.add_argument(
        "paths", nargs="+", metavar="FILE RECORD", help="the criteria file and the record (JSON)"
    )
    evaluate.add_argument("--expr", help="evaluate this expression instead of a criteria file")
    evaluate.add_argument(
        "--as-of", metavar="DATE", help="the screening date when the record has none (YYYY-MM-DD)"
    )
    evaluate.add_argument(
        "--anchor",
        action="append",
        metavar="NAME=DATE",
        help="an anchor date the record lacks, e.g. treatment=2025-06-20 (repeatable)",
    )
    evaluate.add_argument("--format", choices=("text", "json"), default="text")
    evaluate.set_defaults(handler=_eval)

    screen = commands.add_parser(
        "screen", help="screen a cohort: a row per patient, the funnel, near misses, a report"
    )
    screen.add_argument("criteria", metavar="CRITERIA", help="the criteria file (.crit)")
    screen.add_argument(
        "data",
        metavar="DATA",
        nargs="?",
        help="the patients: a JSON, JSONL or CSV file, a folder of JSON files, FHIR or OMOP "
        "(none with --engine postgres)",
    )
    screen.add_argument(
        "--format",
        choices=("native", "jsonl", "csv", "fhir", "omop"),
        help="the data's format (default: told from the name and content)",
    )
    screen.add_argument(
        "--as-of", metavar="DATE", help="the screening date for records without one (YYYY-MM-DD)"
    )
    screen.add_argument(
        "--anchor",
        action="append",
        metavar="NAME=DATE",
        help="an anchor date for records without one, e.g. treatment=2025-06-20 (repeatable)",
    )
    screen.add_argument("--out", metavar="FILE", help="write the rows to FILE (.csv or .jsonl)")
    screen.add_argument("--report", metavar="FILE", help="write an HTML report to FILE")
    screen.add_argument(
        "--relax",
        action="append",
        metavar="ID=EXPR",
        help="what if criterion ID were EXPR, e.g. 'I10.1=ANC >= 1.0 x10^9/L' (repeatable)",
    )
    screen.add_argument(
        "--drop", action="append", metavar="ID", help="what if criterion ID were left out"
    )
    screen.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="evaluate in N processes (default 1)"
    )
    screen.add_argument(
        "--no-progress", action="store_true", help="no progress line on standard error"
    )
    screen.add_argument(
        "--engine",
        default="memory",
        metavar="ENGINE",
        help="memory (the default: the evaluator), duckdb (the compiled SQL in DuckDB: OMOP "
        "directly, other data staged into DuckDB first) or postgres (the SQL on --dsn)",
    )
    screen.add_argument(
        "--dsn", metavar="DSN", help="the PostgreSQL database for --engine postgres"
    )
    screen.add_argument(
        "--schema",
        metavar="NAME",
        help="the schema holding the OMOP tables (--engine postgres, or an OMOP DuckDB file)",
    )
    screen.set_defaults(handler=_screen)

    sql = commands.add_parser("sql", help="print the criteria as one SQL query over the OMOP CDM")
    sql.add_argument("criteria", metavar="CRITERIA", help="the criteria file (.crit)")
    sql.add_argument(
        "--dialect",
        choices=("duckdb", "postgres", "spark", "databricks", "bigquery", "snowflake", "tsql"),
        default="duckdb",
        help="the SQL dialect to print (default duckdb)",
    )
    sql.add_argument("--schema", metavar="NAME", help="the schema that holds the OMOP tables")
    sql.add_argument(
        "--as-of", metavar="DATE", help="the screening date, baked into the query (YYYY-MM-DD)"
    )
    sql.set_defaults(handler=_sql)

    test = commands.add_parser("test", help="run the test cases written next to the criteria")
    test.add_argument(
        "paths",
        nargs="+",
        metavar="FILE",
        help="a .crit file (its NAME.tests.toml), a *.tests.toml file or a folder of them",
    )
    test.add_argument(
        "-k",
        dest="keyword",
        action="append",
        metavar="TEXT",
        help="only cases whose FILE::NAME contains TEXT (repeatable)",
    )
    loudness = test.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="store_true", help="only failures and the summary"
    )
    loudness.add_argument("-v", "--verbose", action="store_true", help="a line for every case")
    test.add_argument("--format", choices=("text", "json"), default="text")
    test.set_defaults(handler=_test)

    lint = commands.add_parser("lint", help="rule-coded findings about criteria files")
    from critlang.lint.arguments import add_arguments as add_lint_arguments

    add_lint_arguments(lint)
    lint.set_defaults(handler=_lint)

    lsp = commands.add_parser(
        "lsp", help="run the language server on standard input and output (for editors)"
    )
    # Editors' LSP clients often pass --stdio; it is the only transport, so it is accepted.
    lsp.add_argument("--stdio", action="store_true", help="talk over stdio (the default)")
    lsp.set_defaults(handler=_lsp)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when all is well, 1 when the criteria or a record have errors, 2 on usage errors."""
    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except _UsageError as error:
        print(f"critlang: {error}", file=sys.stderr)
        return 2
    except CritlangError as error:
        print(f"critlang: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`critlang screen ... | head`): stop quietly, as Unix tools do.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
