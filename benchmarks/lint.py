"""Benchmark `critlang lint` against a plain parse of the same text, measured in the same run.

What it measures:

1. lint of all the examples (``examples/*.crit``, every rule selected), summed over the files,
   against parsing the same files (target: lint <= 1 s in total);
2. lint of one generated file of 10,000 lines (criteria, definitions, windows, units, branches;
   it checks), against parsing it (target: <= 5 s).

Times are warm (the parser and the standard dictionary are built before timing), the best of N
runs. The ratio lint/parse says how much the checker and the rules add to reading the text. It
is a benchmark, not a test: it prints what it measured and never fails on timing.

It also times each rule on the generated file and lists the slowest, so that a rule that does
not scale shows by name.

    python benchmarks/lint.py                 # full run
    python benchmarks/lint.py --quick         # fewer repeats
    python benchmarks/lint.py --ignore CL304  # leave rules out (codes or prefixes)
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import critlang
from critlang.lint.config import Selection
from critlang.lint.context import analyse
from critlang.lint.engine import lint_text
from critlang.lint.registry import all_rules
from critlang.syntax.parser import parse_program

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# Building blocks of the generated file: each criterion is two lines.
CRITERIA = [
    "ANC >= {a} x10^9/L and platelets >= {b} x10^9/L",
    "ECOG in 0..{e} and age in 18..{age} years",
    "creatinine <= {c} x ULN or creatinine_clearance >= {crcl} mL/min",
    "if liver_metastases then ALT <= 5 x ULN else ALT <= {u} x ULN",
    "max(bilirubin within {d} days before screening) <= 1.5 x ULN",
    "hemoglobin >= {h} g/dL within {d} days before treatment",
    "(chemotherapy or targeted_therapy) within {w} weeks before screening",
    "malignancy within {y} years before screening except basal_cell_carcinoma",
    "count(seizure within {y} years before screening) >= 2",
    "sex = female and childbearing_potential implies pregnancy_test = negative",
]


def generated(lines: int) -> str:
    """A trial of about ``lines`` lines that checks, with varied criteria."""
    out = ['trial BENCH "generated"', ""]
    out += [
        f"define marrow_{n} = ANC >= 1.{n} x10^9/L and platelets >= 7{n} x10^9/L" for n in range(10)
    ]
    out += ["", "inclusion"]
    index = 0
    while len(out) < lines - 4:
        template = CRITERIA[index % len(CRITERIA)]
        n = index % 7
        body = template.format(
            a=f"1.{n}",
            b=75 + n,
            e=n % 3 + 1,
            age=65 + n,
            c=1 + n,
            crcl=40 + n,
            u=2 + n,
            d=7 + n,
            h=8 + n % 3,
            w=2 + n,
            y=1 + n % 5,
        )
        out.append(f'  I{index} "Generated criterion {index}, protocol wording here":')
        out.append(f"      {body}")
        index += 1
    out += [
        '  I_marrow "Marrow": marrow_0 and marrow_1 and marrow_2 and marrow_3',
        "      and marrow_4 and marrow_5 and marrow_6 and marrow_7 and marrow_8 and marrow_9",
    ]
    out += ["exclusion", '  E1 "Pregnant": pregnant']
    return "\n".join(out) + "\n"


def best(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--ignore", default="", metavar="CODES", help="rules to leave out")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    ignored = tuple(code.strip() for code in args.ignore.split(",") if code.strip())
    selection = Selection(select=("ALL",), ignore=ignored)

    examples = [
        (path.name, path.read_text(encoding="utf-8")) for path in sorted(EXAMPLES.glob("*.crit"))
    ]
    big = generated(10_000)
    # Warm up: build the parser and load the standard dictionary before timing anything.
    lint_text(examples[0][1], examples[0][0], selection=selection)

    print(
        f"Python {platform.python_version()} on {platform.platform()}; critlang "
        f"{critlang.__version__}; {len(selection.rules())} of {len(all_rules())} rules; "
        f"best of {repeat}"
    )
    print()
    print(f"{'measure':<44}{'parse':>10}{'lint':>10}{'ratio':>8}   target")
    print("-" * 86)

    def all_examples_parse() -> None:
        for name, text in examples:
            parse_program(text, name)

    def all_examples_lint() -> None:
        for name, text in examples:
            lint_text(text, name, selection=selection)

    parse_seconds = best(all_examples_parse, repeat)
    lint_seconds = best(all_examples_lint, repeat)
    target = "ok" if lint_seconds <= 1 else "SLOW"
    label = f"all {len(examples)} examples ({sum(t.count(chr(10)) for _, t in examples)} lines)"
    print(
        f"{label:<44}{parse_seconds * 1000:>8.1f}ms{lint_seconds * 1000:>8.1f}ms"
        f"{lint_seconds / parse_seconds:>7.1f}x   <= 1 s  {target}"
    )

    result = lint_text(big, "generated.crit", selection=selection)
    if result.parse_failed or any(d.severity.value == "error" for d in result.diagnostics):
        print("the generated file does not check:", result.diagnostics[0].render(), file=sys.stderr)
    big_repeat = max(1, repeat // 2)
    parse_seconds = best(lambda: parse_program(big, "generated.crit"), big_repeat)
    lint_seconds = best(lambda: lint_text(big, "generated.crit", selection=selection), big_repeat)
    target = "ok" if lint_seconds <= 5 else "SLOW"
    label = f"generated file ({big.count(chr(10))} lines, {len(big) // 1000} kB)"
    print(
        f"{label:<44}{parse_seconds * 1000:>8.0f}ms{lint_seconds * 1000:>8.0f}ms"
        f"{lint_seconds / parse_seconds:>7.1f}x   <= 5 s  {target}"
    )
    print(f"\nfindings on the generated file: {len(result.diagnostics)}")
    context = analyse(big, "generated.crit")
    timings = []
    for rule in selection.rules():
        start = time.perf_counter()
        for _ in rule.check(context):
            pass
        timings.append((time.perf_counter() - start, rule.code, rule.name))
    print("slowest rules on the generated file (once each, on a shared analysis):")
    for seconds, code, name in sorted(timings, reverse=True)[:5]:
        print(f"  {code} {name:<32}{seconds * 1000:>9.0f} ms")


if __name__ == "__main__":
    main()
