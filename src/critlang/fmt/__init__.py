"""``critlang fmt``: the canonical layout of criteria files (see :mod:`critlang.fmt.printer`)."""

from __future__ import annotations

from critlang.fmt.printer import format_program, format_source

__all__ = ["format_program", "format_source"]
