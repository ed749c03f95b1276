"""Benchmark the authoring tools on criteria files, against a plain parse of the same files.

What it measures (best of N repeats of the wall time, ``time.perf_counter``), each by one function
below so that more tools can be added the same way:

1. ``parse_program`` of every example trial (``examples/*.crit``): the baseline;
2. ``critlang fmt`` of the same files: ``format_source`` (parse and layout) and
   ``format_checked`` (that, plus the safety re-parse the command line makes before it writes a
   changed file; the examples are formatted already, so they need none, and a messy copy of them
   is timed too);
3. the same on a generated criteria file of 10,000 lines with its layout undone (the criteria of
   NCT06945523 repeated with fresh IDs and shorter protocol texts, comments included); critlang's
   target: fmt under 2 s, safety re-parse included;
4. ``critlang lint`` (every rule) of the examples (target: under 1 s in total) and of a generated
   file of 10,000 lines that checks (``benchmarks/lint.py``'s, varied criteria; target: under
   5 s), against parsing the same text. ``benchmarks/lint.py`` also times each rule alone.

Ratios are the tool's time over the parse time of the same files in the same run. This is a
benchmark, not a test: it never fails on timing.

Run it from the repository root::

    python benchmarks/authoring.py           # full run, about half a minute
    python benchmarks/authoring.py --quick   # fewer repeats, a smoke run
"""

from __future__ import annotations

import argparse
import platform
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import critlang
from critlang.fmt import format_source
from critlang.fmt.files import format_checked
from critlang.lint.config import Selection
from critlang.lint.engine import lint_text
from critlang.syntax.parser import parse_program

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.crit"))
GENERATED_LINES = 10_000
FMT_TARGET_SECONDS = 2.0
LINT_EXAMPLES_TARGET_SECONDS = 1.0
LINT_TARGET_SECONDS = 5.0
EVERY_RULE = Selection(select=("ALL",))

Sources = list[tuple[str, str]]  # (name, text)


@dataclass
class Row:
    measure: str
    seconds: float
    baseline: float | None = None  # the plain parse of the same files
    target: float | None = None


def example_sources() -> Sources:
    return [(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")) for path in EXAMPLES]


def undo_layout(text: str) -> str:
    """The text with its layout undone, its lines kept: no indentation, and every run of blanks
    one space (in quoted text too, which does not matter here), so that formatting has work on
    every line."""
    return re.sub(r"[ \t]+", " ", re.sub(r"(?m)^[ \t]+", "", text))


def generated_source(lines: int = GENERATED_LINES) -> Sources:
    """A criteria file of ``lines`` lines or a few more, its layout undone: NCT06945523's
    criteria (with their comments), repeated with new IDs."""
    text = (ROOT / "examples" / "NCT06945523.crit").read_text(encoding="utf-8")
    sections = undo_layout(text[text.index("\ninclusion\n") + 1 :])
    # Protocol texts cut to 60 characters: the seed's are whole paragraphs, and 10,000 lines of
    # them would pass the parser's limit of a million characters.
    sections = re.sub(r'"([^"\\\n]{60})[^"\\\n]+"', r'"\1..."', sections)
    identifier = re.compile(r"^( ?)([IE][0-9][0-9.]*[a-z]?)\b", re.MULTILINE)
    parts = ['trial BENCH "Generated criteria"\n']
    count = 1
    while count < lines:
        prefix = f"R{len(parts)}_"

        def renamed(match: re.Match[str], prefix: str = prefix) -> str:
            return f"{match[1]}{prefix}{match[2]}"

        parts.append(identifier.sub(renamed, sections))
        count += sections.count("\n")
    return [(f"generated, {count:,} lines", "".join(parts))]


# One function per measurement: it does the work once, on all the sources.
Measurement = Callable[[Sources], object]


def parse(sources: Sources) -> object:
    return [parse_program(text, name) for name, text in sources]


def fmt(sources: Sources) -> object:
    return [format_source(text, name) for name, text in sources]


def fmt_checked(sources: Sources) -> object:
    return [format_checked(text, name) for name, text in sources]


def lint(sources: Sources) -> object:
    return [lint_text(text, name, selection=EVERY_RULE) for name, text in sources]


def lint_rows(label: str, sources: Sources, repeats: int, target: float | None) -> list[Row]:
    parsed, linted = best_times([parse, lint], sources, repeats)
    return [Row(f"parse {label}", parsed), Row(f"lint {label}", linted, parsed, target)]


def best_times(measurements: list[Measurement], sources: Sources, repeats: int) -> list[float]:
    """The best time of each measurement over ``repeats`` rounds; each round runs them all in
    turn, so that a slow moment of a shared machine does not fall on one measurement only."""
    best = [float("inf")] * len(measurements)
    for _ in range(repeats):
        for index, measurement in enumerate(measurements):
            start = time.perf_counter()
            measurement(sources)
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def fmt_rows(label: str, sources: Sources, repeats: int, target: float | None) -> list[Row]:
    parsed, formatted, checked = best_times([parse, fmt, fmt_checked], sources, repeats)
    return [
        Row(f"parse {label}", parsed),
        Row(f"fmt {label}", formatted, parsed, target),
        Row(f"fmt + safety re-parse {label}", checked, parsed, target),
    ]


def render(rows: list[Row]) -> str:
    lines = [f"{'measure':<52}{'time':>10}{'ratio to parse':>16}   target"]
    lines.append("-" * len(lines[0] + " " * 12))
    for row in rows:
        ratio = f"{row.seconds / row.baseline:.2f}x" if row.baseline else ""
        target = ""
        if row.target is not None:
            verdict = "ok" if row.seconds < row.target else "MISSED"
            target = f"< {row.target:g} s  {verdict}"
        line = f"{row.measure:<52}{_duration(row.seconds):>10}{ratio:>16}   {target}"
        lines.append(line.rstrip())
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, a smoke run")
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else 7
    parse_program("inclusion\n  I1: a\n")  # builds (or loads) the parser outside the timings
    examples = example_sources()
    generated = generated_source()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from lint import generated as generated_for_lint  # benchmarks/lint.py

    lint_source = generated_for_lint(GENERATED_LINES)
    print(
        f"Python {platform.python_version()} on {platform.platform()}; critlang {critlang.__version__}"
    )
    print(f"best of {repeats} repeats per measure; {len(examples)} example files\n")
    rows = [
        *fmt_rows(f"examples ({len(examples)} files)", examples, repeats * 5, None),
        *fmt_rows(
            "examples, layout undone",
            [(name, undo_layout(text)) for name, text in examples],
            repeats * 5,
            None,
        ),
        *fmt_rows(generated[0][0], generated, repeats, FMT_TARGET_SECONDS),
        *lint_rows(
            f"examples ({len(examples)} files)", examples, repeats * 5, LINT_EXAMPLES_TARGET_SECONDS
        ),
        *lint_rows(
            f"generated for lint, {lint_source.count(chr(10)):,} lines",
            [("generated.crit", lint_source)],
            max(1, repeats // 3),
            LINT_TARGET_SECONDS,
        ),
    ]
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
