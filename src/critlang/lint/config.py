"""Which rules run: ``--select``/``--ignore``/``--extend-select`` and the configuration files.

Configuration lives in ``critlang.toml`` (keys at the top level) or in ``pyproject.toml`` under
``[tool.critlang]``, in the linted file's folder or the nearest folder above it (a
``critlang.toml`` wins over a ``pyproject.toml`` in the same folder)::

    [tool.critlang]
    select = ["CL"]                  # rules to run (default: every default rule)
    extend-select = ["CL5"]          # more rules on top of `select`
    ignore = ["CL501", "CL2"]        # rules not to run
    per-file-ignores = { "drafts/*.crit" = ["CL5"] }   # glob relative to the config's folder

A selector is a code (``CL201``), a code prefix (``CL2``, ``CL20``), ``ALL``, or a rule name
(``unit-mismatch``). As in ruff, the most specific selector wins, and ``ignore`` wins a tie: with
``select = ["CL2"]`` and ``ignore = ["CL20"]``, CL210 runs and CL201 does not.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from critlang.errors import CritlangError
from critlang.lint.registry import Rule, all_rules

CONFIG_KEYS = ("select", "extend-select", "ignore", "per-file-ignores")


class ConfigError(CritlangError):
    """A selector that matches no rule, or a configuration file that cannot be read."""


def specificity(selector: str, rule: Rule) -> int:
    """How specifically ``selector`` names ``rule``: 0 when it does not match it at all."""
    text = selector.strip()
    if text.upper() == "ALL":
        return 1
    if text.casefold() == rule.name:
        return len(rule.code)
    upper = text.upper()
    return len(upper) if upper.startswith("CL") and rule.code.startswith(upper) else 0


def check_selectors(selectors: Iterable[str], where: str) -> None:
    """Raise :class:`ConfigError` for a selector that matches no rule."""
    rules = all_rules()
    for selector in selectors:
        if not any(specificity(selector, rule) for rule in rules):
            raise ConfigError(f"{where}: `{selector}` matches no rule (see critlang lint --list)")


@attrs.frozen(kw_only=True)
class Selection:
    """The rule selection for one file: ``select`` None means the default rules."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def enabled(self, rule: Rule) -> bool:
        if self.select is None:
            on = 1 if rule.default else 0
        else:
            on = max((specificity(s, rule) for s in self.select), default=0)
        on = max([on, *(specificity(s, rule) for s in self.extend_select)])
        off = max((specificity(s, rule) for s in self.ignore), default=0)
        return on > 0 and on > off

    def rules(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in all_rules() if self.enabled(rule))


@attrs.frozen(kw_only=True)
class Config:
    """A configuration file's lint settings; ``folder`` anchors ``per-file-ignores`` globs."""

    path: Path | None = None
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def selection(
        self,
        file: Path | None,
        select: Sequence[str] | None = None,
        extend_select: Sequence[str] = (),
        ignore: Sequence[str] = (),
    ) -> Selection:
        """The selection for ``file``, with the command line's options on top: ``--select``
        replaces the configured ``select``; ``--extend-select`` and ``--ignore`` add to them."""
        ignored = [*self.ignore, *ignore]
        if file is not None and self.path is not None and self.per_file_ignores:
            relative = _relative(file, self.path.parent)
            for pattern, codes in self.per_file_ignores:
                if relative is not None and fnmatch.fnmatch(relative, pattern):
                    ignored.extend(codes)
        return Selection(
            select=tuple(select) if select is not None else self.select,
            extend_select=(*self.extend_select, *extend_select),
            ignore=tuple(ignored),
        )


def _relative(file: Path, folder: Path) -> str | None:
    try:
        return file.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return None


def find_config(start: Path) -> Config:
    """The configuration that applies to files in ``start`` (a folder), or the empty one."""
    folder = start.resolve()
    for candidate in (folder, *folder.parents):
        own = candidate / "critlang.toml"
        if own.is_file():
            return read_config(own)
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            config = read_config(pyproject)
            if config.path is not None:
                return config
    return Config()


def read_config(path: Path) -> Config:
    """Read ``critlang.toml`` or the ``[tool.critlang]`` table of ``pyproject.toml``; a
    ``pyproject.toml`` without that table gives a Config whose ``path`` is None."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error}") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("critlang") if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            return Config()
    else:
        table = data
    where = f"{path}"

    def selectors(key: str) -> tuple[str, ...] | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f'{where}: `{key}` must be a list of rule codes, e.g. ["CL2"]')
        check_selectors(value, f"{where}: {key}")
        return tuple(value)

    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{where}: `per-file-ignores` must be a table of glob = [codes]")
    pairs = []
    for pattern, codes in per_file.items():
        if not isinstance(codes, list) or not all(isinstance(item, str) for item in codes):
            raise ConfigError(f"{where}: per-file-ignores `{pattern}` must be a list of codes")
        check_selectors(codes, f"{where}: per-file-ignores")
        pairs.append((str(pattern), tuple(codes)))
    return Config(
        path=path,
        select=selectors("select"),
        extend_select=selectors("extend-select") or (),
        ignore=selectors("ignore") or (),
        per_file_ignores=tuple(pairs),
    )
