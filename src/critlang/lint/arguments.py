"""The command line's options for `critlang lint`, apart from the linter so that building the
command line parser does not import it (every `critlang` command builds the whole parser)."""

from __future__ import annotations

import argparse

FORMATS = ("text", "json", "sarif", "github")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE", help="a .crit file or a folder of them")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    selectors = "comma-separated codes, prefixes (CL2) or names"
    parser.add_argument(
        "--select", action="append", metavar="CODES", help=f"run only these rules ({selectors})"
    )
    parser.add_argument(
        "--extend-select", action="append", metavar="CODES", help="run these rules as well"
    )
    parser.add_argument("--ignore", action="append", metavar="CODES", help="do not run these")
    parser.add_argument(
        "--fix", action="store_true", help="apply the safe fixes and write the files back"
    )
    parser.add_argument(
        "--config", metavar="FILE", help="a critlang.toml or pyproject.toml to use instead"
    )
    parser.add_argument("--explain", metavar="CODE", help="print a rule's documentation")
    parser.add_argument("--list", action="store_true", help="list the rules")
