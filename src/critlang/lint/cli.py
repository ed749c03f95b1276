"""``critlang lint``: the command line's options and the run over files and folders."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from critlang.lint import output
from critlang.lint.config import Config, ConfigError, check_selectors, find_config, read_config
from critlang.lint.engine import FileResult, lint_file


class UsageError(Exception):
    """A command-line mistake: exit status 2."""


def _selectors(values: Sequence[str] | None, option: str) -> list[str] | None:
    if values is None:
        return None
    found = [part.strip() for value in values for part in value.split(",") if part.strip()]
    try:
        check_selectors(found, option)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    return found


def run(args: argparse.Namespace, version: str) -> int:
    """Lint ``args.files`` (criteria files; the command line has resolved folders). Exit 0 when
    there are no findings, 1 when there are, 2 on a usage or parse error."""
    if args.list:
        sys.stdout.write(output.rule_list())
        return 0
    if args.explain is not None:
        explained = output.explain(args.explain)
        if explained is None:
            raise UsageError(f"--explain {args.explain}: no such rule (see critlang lint --list)")
        sys.stdout.write(explained)
        return 0
    if not args.files:
        raise UsageError("give the files or folders to lint: critlang lint FILE|DIR...")
    select = _selectors(args.select, "--select")
    extend = _selectors(args.extend_select, "--extend-select") or []
    ignore = _selectors(args.ignore, "--ignore") or []
    try:
        fixed_config = read_config(Path(args.config)) if args.config else None
        configs: dict[Path, Config] = {}
        results: list[FileResult] = []
        for path in args.files:
            config = fixed_config
            if config is None:
                folder = path.parent
                if folder not in configs:
                    configs[folder] = find_config(folder)
                config = configs[folder]
            selection = config.selection(path, select, extend, ignore)
            results.append(lint_file(path, selection=selection, fix=args.fix))
    except ConfigError as error:
        raise UsageError(str(error)) from None
    if args.format == "json":
        print(output.json_text(results))
    elif args.format == "sarif":
        print(output.sarif(results, version))
    elif args.format == "github":
        sys.stdout.write(output.github(results))
    else:
        sys.stdout.write(output.text(results))
    if any(result.parse_failed for result in results):
        return 2
    return 1 if any(result.diagnostics for result in results) else 0
