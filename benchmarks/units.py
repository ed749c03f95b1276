"""Benchmark critlang's UCUM unit engine against pint and ucumvert, when they are installed.

What it measures (best of N repeats, minimum time per call, ``time.perf_counter_ns``):

1. cached ``parse_unit`` (a dict lookup after the first call), mean over typical clinical codes;
2. uncached parsing of the same codes (``critlang.units._parse_uncached``), mean per code;
3. scalar ``convert`` between a few unit pairs, with the units and the conversion already cached;
4. cold ``import critlang.units`` in a fresh interpreter (``-X importtime``), and the cold import
   plus the setup each library needs before it can parse anything (wall time in a fresh
   interpreter): ``pint.UnitRegistry()``, ``ucumvert.PintUcumRegistry()``;
5. a correctness check: ``1.5 10*9/L -> /uL`` (should be 1500) and ``[IU]/L -> /L`` (should be
   rejected: international units are arbitrary and convert only to themselves).

For pint and ucumvert the equivalent calls are timed: ``ureg.parse_units`` and
``Quantity(value, unit).to(unit)`` for pint, ``PintUcumRegistry.from_ucum`` and pint conversion of
the resulting quantity for ucumvert. "Uncached" means the code-level caches are emptied; the
per-atom tables (critlang's atom cache, pint's registry of prefixed units) stay warm in all of them.
Ratios are other / critlang: how many times faster critlang is. Targets are critlang's own; this
is a benchmark, not a test, and it never fails on timing.

Run it from the repository root::

    pip install -e '.[bench]'
    python benchmarks/units.py           # full run, about half a minute
    python benchmarks/units.py --quick   # fewer repeats, a smoke run
"""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import os
import platform
import re
import subprocess
import sys
import textwrap
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import critlang
from critlang.units import _parse_uncached, convert, parse_unit

# Typical clinical UCUM codes: counts, concentrations, pressure, arbitrary units, annotations.
CODES = (
    "mg/dL",
    "10*9/L",
    "10*3/uL",
    "umol/L",
    "mL/min/{1.73_m2}",
    "mm[Hg]",
    "[IU]/L",
    "%",
)

# Conversions timed with cached units: (value, from, to).
CONVERSIONS = (
    (1.5, "mg/dL", "g/L"),
    (1.5, "10*9/L", "/uL"),
    (1.5, "mm[Hg]", "kPa"),
)

# pint's nearest spelling, used only when pint cannot read the UCUM code (None: no equivalent).
PINT_SPELLINGS: dict[str, str | None] = {
    "10*9/L": "1/nL",
    "10*3/uL": "1/nL",
    "/uL": "1/uL",
    "mm[Hg]": "mmHg",
    "mL/min/{1.73_m2}": "mL/min",
    "[IU]/L": None,
}

# critlang's targets: nanoseconds and how they are printed.
TARGETS = {
    "cached": (1_000.0, "<= 1 µs"),
    "uncached": (30_000.0, "<= 30 µs"),
    "convert": (2_000.0, "<= 2 µs"),
    "import": (30_000_000.0, "<= 30 ms"),
}

LIBRARIES = ("pint", "ucumvert")


@dataclass
class Settings:
    repeat: int
    min_time_ns: int
    import_runs: int


@dataclass
class Row:
    measure: str
    critlang: float | None  # nanoseconds per call
    others: dict[str, float | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # library -> footnote marker
    target: str = ""


@dataclass
class Check:
    """A call, what it should give (None: it should be rejected), and what it gives."""

    call: str
    run: Callable[[], float]
    expected: float | None = 1500.0

    def outcome(self) -> str:
        try:
            value = self.run()
        except Exception as error:
            verdict = "rejected, ok" if self.expected is None else "not read"
            return f"raises {type(error).__name__:<22}{verdict}"
        if self.expected is None:
            verdict = "accepted, WRONG"
        else:
            verdict = "ok" if math.isclose(value, self.expected, rel_tol=1e-9) else "WRONG"
        return f"{value!r:<29}{verdict}"


def time_per_call(stmt: str, namespace: dict[str, Any], settings: Settings, per: int = 1) -> float:
    """Best-of-N time of ``stmt`` in nanoseconds, divided by ``per`` (calls per statement)."""
    timer = timeit.Timer(stmt, globals=namespace, timer=time.perf_counter_ns)
    number = 1
    while timer.timeit(number) < settings.min_time_ns and number < 10_000_000:
        number *= 2
    best = min(timer.repeat(repeat=settings.repeat, number=number))
    return best / number / per


def attempt(stmt: str, namespace: dict[str, Any], settings: Settings, per: int = 1) -> float | None:
    """:func:`time_per_call`, or None (printed as n/a) when the library cannot run ``stmt``."""
    try:
        return time_per_call(stmt, namespace, settings, per)
    except Exception:
        return None


def version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


# --- critlang -------------------------------------------------------------------------------


def bench_critlang(settings: Settings) -> dict[str, float]:
    for code in CODES:
        parse_unit(code)
    results = {
        "cached": time_per_call(
            "for c in codes: parse(c)",
            {"codes": CODES, "parse": parse_unit},
            settings,
            per=len(CODES),
        ),
        "uncached": time_per_call(
            "for c in codes: parse(c)",
            {"codes": CODES, "parse": _parse_uncached},
            settings,
            per=len(CODES),
        ),
    }
    for value, source, target in CONVERSIONS:
        convert(value, source, target)
        results[f"convert {source}"] = time_per_call(
            "convert(value, source, target)",
            {"convert": convert, "value": value, "source": source, "target": target},
            settings,
        )
    return results


# --- pint -----------------------------------------------------------------------------------


def pint_spelling(ureg: Any, code: str) -> str | None:
    """The UCUM code if pint reads it as a unit, else pint's nearest spelling (or None)."""
    try:
        ureg.parse_units(code)
    except Exception:
        return PINT_SPELLINGS.get(code)
    return code


def bench_pint(settings: Settings, footnotes: list[str]) -> dict[str, float | None]:
    import pint
    import pint.util

    ureg: Any = pint.UnitRegistry()
    spellings = {
        code: pint_spelling(ureg, code)
        for code in (*CODES, *(unit for _, *pair in CONVERSIONS for unit in pair))
    }
    substituted = [
        f"{code} -> {spelling or 'n/a, left out'}"
        for code, spelling in spellings.items()
        if spelling != code
    ]
    codes = [spelling for code in CODES if (spelling := spellings[code]) is not None]
    footnotes.append(
        "[p] pint cannot read these UCUM codes; its nearest spelling is timed instead: "
        f"{', '.join(substituted)}. The parse rows are a mean over {len(codes)} codes, "
        f"not {len(CODES)}."
    )
    for code in codes:
        ureg.parse_units(code)
    # pint keeps a parse cache but returns from it only when the string is itself a unit name.
    hits = [code for code in codes if code in ureg._cache.parse_unit and code in ureg._units]
    footnotes.append(
        f"[p] pint's parse_units returns from its cache only for a plain unit name; "
        f"{len(hits)} of {len(codes)} codes ({', '.join(hits) or 'none'}) hit it, the others are "
        "resolved again on every call."
    )

    def clear() -> None:
        ureg._cache.parse_unit.clear()
        pint.util.ParserHelper.from_string.cache_clear()

    parse = {"codes": codes, "parse": ureg.parse_units, "clear": clear}
    results: dict[str, float | None] = {
        "cached": attempt("for c in codes: parse(c)", parse, settings, per=len(codes)),
        "uncached": attempt(
            "for c in codes:\n    clear()\n    parse(c)", parse, settings, per=len(codes)
        ),
    }
    for value, source, target in CONVERSIONS:
        src, dst = spellings[source], spellings[target]
        if src is None or dst is None:
            results[f"convert {source}"] = None
            continue
        namespace = {
            "Q_": ureg.Quantity,
            "value": value,
            "src": ureg.parse_units(src),
            "dst": ureg.parse_units(dst),
        }
        results[f"convert {source}"] = attempt(
            "Q_(value, src).to(dst).magnitude", namespace, settings
        )
    return results


def check_pint() -> list[Check]:
    import pint

    ureg: Any = pint.UnitRegistry()
    q_ = ureg.Quantity
    return [
        Check("Q_(1.5, '10*9/L').to('1/uL')", lambda: q_(1.5, "10*9/L").to("1/uL").magnitude),
        Check(
            "(1.5 * ureg('10*9/L')).to('1/uL')",
            lambda: (1.5 * ureg("10*9/L")).to("1/uL").magnitude,
        ),
        Check("Q_(1.5, '1/nL').to('1/uL')", lambda: q_(1.5, "1/nL").to("1/uL").magnitude),
        Check("Q_(1.5, '[IU]/L').to('1/L')", lambda: q_(1.5, "[IU]/L").to("1/L").magnitude, None),
    ]


# --- ucumvert -------------------------------------------------------------------------------


def ucumvert_convert(value: float, source: Any, target: Any) -> float:
    """Convert with quantities from ``PintUcumRegistry.from_ucum`` (magnitude usually 1)."""
    magnitude: float = (value * source).to(target.units).magnitude / target.magnitude
    return magnitude


def bench_ucumvert(settings: Settings, footnotes: list[str]) -> dict[str, float | None]:
    from ucumvert import PintUcumRegistry

    ureg: Any = PintUcumRegistry()
    for code in CODES:
        ureg.from_ucum(code)
    footnotes.append(
        "[u] ucumvert has no parse cache: every from_ucum() call runs the Lark parser and builds "
        "the pint quantity again (see the uncached row)."
    )
    results: dict[str, float | None] = {
        "cached": None,
        "uncached": attempt(
            "for c in codes: parse(c)",
            {"codes": CODES, "parse": ureg.from_ucum},
            settings,
            per=len(CODES),
        ),
    }
    for value, source, target in CONVERSIONS:
        namespace = {
            "convert": ucumvert_convert,
            "value": value,
            "src": ureg.from_ucum(source),
            "dst": ureg.from_ucum(target),
        }
        results[f"convert {source}"] = attempt("convert(value, src, dst)", namespace, settings)
    return results


def check_ucumvert() -> list[Check]:
    from ucumvert import PintUcumRegistry

    ureg: Any = PintUcumRegistry()

    def run(source: str, target: str) -> float:
        return ucumvert_convert(1.5, ureg.from_ucum(source), ureg.from_ucum(target))

    return [
        Check("from_ucum: 1.5 10*9/L -> /uL", lambda: run("10*9/L", "/uL")),
        Check("from_ucum: 1.5 [IU]/L -> /L", lambda: run("[IU]/L", "/L"), None),
    ]


def check_critlang() -> list[Check]:
    return [
        Check("convert(1.5, '10*9/L', '/uL')", lambda: convert(1.5, "10*9/L", "/uL")),
        Check("convert(1.5, '[IU]/L', '/L')", lambda: convert(1.5, "[IU]/L", "/L"), None),
    ]


# --- cold imports ---------------------------------------------------------------------------

IMPORTTIME_LINE = re.compile(r"^import time:\s*\d+\s*\|\s*(\d+)\s*\|\s*critlang\.units\s*$")

SETUP_CODE = {
    "critlang": "import critlang.units",
    "pint": "import pint\npint.UnitRegistry()",
    "ucumvert": "from ucumvert import PintUcumRegistry\nPintUcumRegistry()",
}


def compile_critlang() -> None:
    """Write critlang's bytecode, as ``pip install`` does (an editable install does not)."""
    package = Path(critlang.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=False)


def critlang_importtime(settings: Settings) -> float | None:
    """Min over fresh interpreters of the cumulative ``-X importtime`` of critlang.units, in ns."""
    best: float | None = None
    for _ in range(settings.import_runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import critlang.units"],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
            check=False,
        )
        for line in done.stderr.splitlines():
            match = IMPORTTIME_LINE.match(line)
            if match:
                micros = float(match.group(1)) * 1_000
                best = micros if best is None else min(best, micros)
    return best


def cold_setup(library: str, settings: Settings) -> float | None:
    """Min over fresh interpreters of the wall time of import plus setup, in ns."""
    code = (
        "import time\n"
        "start = time.perf_counter_ns()\n"
        f"{SETUP_CODE[library]}\n"
        "print(time.perf_counter_ns() - start)\n"
    )
    best: float | None = None
    for _ in range(settings.import_runs):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
            check=False,
        )
        if done.returncode != 0:
            return None
        elapsed = float(done.stdout.strip().splitlines()[-1])
        best = elapsed if best is None else min(best, elapsed)
    return best


# --- output ---------------------------------------------------------------------------------


def format_time(ns: float | None) -> str:
    if ns is None:
        return "n/a"
    if ns < 1_000_000:
        micros = ns / 1_000
        return f"{micros:.2f} µs" if micros < 10 else f"{micros:.1f} µs"
    if ns < 1_000_000_000:
        return f"{ns / 1_000_000:.1f} ms"
    return f"{ns / 1_000_000_000:.2f} s"


def format_ratio(other: float | None, ours: float | None) -> str:
    if other is None or ours is None or ours <= 0:
        return ""
    ratio = other / ours
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def format_target(key: str, ours: float | None) -> str:
    limit, label = TARGETS[key]
    if ours is None:
        return label
    return f"{label}  {'ok' if ours <= limit else 'OVER'}"


def print_table(rows: list[Row], libraries: list[str]) -> None:
    header = f"{'measure':<34}{'critlang':<12}"
    for library in libraries:
        header += f"{library:<15}{'ratio':<8}"
    print(header + "target")
    print("-" * (len(header) + 16))
    for row in rows:
        line = f"{row.measure:<34}{format_time(row.critlang):<12}"
        for library in libraries:
            other = row.others.get(library)
            cell = format_time(other) + row.notes.get(library, "") if library in row.others else ""
            line += f"{cell:<15}{format_ratio(other, row.critlang):<8}"
        print((line + row.target).rstrip())


def build_rows(
    ours: dict[str, float],
    theirs: dict[str, dict[str, float | None]],
    importtime: float | None,
    cold: dict[str, float | None],
) -> list[Row]:
    rows = [
        Row(
            "cached parse_unit (mean/code)",
            ours["cached"],
            notes={"pint": " [p]", "ucumvert": " [u]"},
            target=format_target("cached", ours["cached"]),
        ),
        Row(
            "uncached parse (mean/code)",
            ours["uncached"],
            notes={"pint": " [p]"},
            target=format_target("uncached", ours["uncached"]),
        ),
    ]
    for _, source, target in CONVERSIONS:
        needs_spelling = source in PINT_SPELLINGS or target in PINT_SPELLINGS
        rows.append(
            Row(
                f"convert {source} -> {target}",
                ours[f"convert {source}"],
                notes={"pint": " [p]"} if needs_spelling else {},
                target=format_target("convert", ours[f"convert {source}"]),
            )
        )
    keys = ["cached", "uncached", *(f"convert {source}" for _, source, _ in CONVERSIONS)]
    for row, key in zip(rows, keys, strict=True):
        row.others = {library: results.get(key) for library, results in theirs.items()}
    rows.append(
        Row(
            "cold import critlang.units [i]", importtime, target=format_target("import", importtime)
        )
    )
    others = {library: found for library, found in cold.items() if library != "critlang"}
    rows.append(Row("cold import + setup, wall [s]", cold["critlang"], others))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    args = parser.parse_args()
    settings = (
        Settings(repeat=3, min_time_ns=10_000_000, import_runs=2)
        if args.quick
        else Settings(repeat=7, min_time_ns=100_000_000, import_runs=5)
    )

    installed = {library: version(library) for library in LIBRARIES}
    available = [library for library, found in installed.items() if found]
    versions = ", ".join(
        [f"critlang {critlang.__version__}"]
        + [f"{library} {found or 'not installed'}" for library, found in installed.items()]
    )
    print(f"Python {platform.python_version()} on {platform.platform()}; {versions}")
    print(f"{'quick' if args.quick else 'full'} run: best of {settings.repeat} repeats per measure")
    print()

    footnotes: list[str] = []
    ours = bench_critlang(settings)
    theirs: dict[str, dict[str, float | None]] = {}
    if "pint" in available:
        theirs["pint"] = bench_pint(settings, footnotes)
    if "ucumvert" in available:
        theirs["ucumvert"] = bench_ucumvert(settings, footnotes)

    compile_critlang()
    importtime = critlang_importtime(settings)
    setups = ["critlang", *available]
    cold = {library: cold_setup(library, settings) for library in setups}

    print_table(build_rows(ours, theirs, importtime, cold), available)
    for library, found in installed.items():
        if not found:
            print(f"{library}: not installed (pip install -e '.[bench]')")
    print()
    footnotes.append(
        "[i] min over fresh interpreters of the cumulative `python -X importtime` time. Imports "
        "are measured with compiled bytecode, as after pip install (critlang is byte-compiled "
        "first)."
    )
    setup = "; ".join(f"{lib}: {SETUP_CODE[lib].replace(chr(10), '; ')}" for lib in setups)
    footnotes.append(
        f"[s] min wall time in a fresh interpreter of import + setup before a parse: {setup}"
    )
    for note in footnotes:
        print(textwrap.fill(note, width=100, subsequent_indent="    "))
    print()

    print("correctness: 1.5 10*9/L -> /uL should be 1500; [IU]/L -> /L should be rejected")
    checks: dict[str, Callable[[], list[Check]]] = {"critlang": check_critlang}
    if "pint" in available:
        checks["pint"] = check_pint
    if "ucumvert" in available:
        checks["ucumvert"] = check_ucumvert
    for library, check in checks.items():
        for item in check():
            print(f"  {library:<9} {item.call:<38} {item.outcome()}")


if __name__ == "__main__":
    main()
