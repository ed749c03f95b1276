"""Benchmark the language: parse+check per trial, per-record evaluation against hand-written Python,
and the command line's cold start.

What it measures, in one run, for each seed trial in ``examples/``:

1. parse + check of the file (``critlang.load``), warm (the parser and dictionary are built), best
   of N (target <= 20 ms);
2. evaluation of each example record (``Trial.evaluate`` on records read once), against the
   hand-written plain-Python function of the same criteria in ``benchmarks/baselines.py`` on the
   same records (target ratio <= 1.5). Before timing, every baseline is checked to give the same
   outcome as critlang for every criterion of every example record; a baseline that disagrees is
   reported and not timed;
3. the cold ``critlang check`` of one example in a fresh process (target <= 300 ms wall), with the
   user cache warm (as on a second run) and cold (first run after install).

It is a benchmark, not a test: it prints what it measured and never fails on timing.

    python benchmarks/evaluate.py           # full run
    python benchmarks/evaluate.py --quick   # fewer repeats
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import critlang
from critlang.trial import as_record

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _calls(timer: timeit.Timer, minimum_seconds: float) -> int:
    number = 1
    while timer.timeit(number) < minimum_seconds and number < 1_000_000:
        number *= 2
    return number


def best_of(statement: Any, repeat: int, minimum_seconds: float) -> float:
    """Seconds per call: the best of ``repeat`` runs of enough calls to last ``minimum_seconds``."""
    timer = timeit.Timer(statement)
    number = _calls(timer, minimum_seconds)
    return min(timer.repeat(repeat=repeat, number=number)) / number


def paired(first: Any, second: Any, repeat: int, minimum_seconds: float) -> tuple[float, float]:
    """Seconds per call of each, the best of ``repeat`` rounds that time one then the other, so
    that both see the same load on a shared machine and the ratio stays meaningful."""
    timers = [timeit.Timer(first), timeit.Timer(second)]
    numbers = [_calls(timer, minimum_seconds) for timer in timers]
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for index, (timer, number) in enumerate(zip(timers, numbers, strict=True)):
            best[index] = min(best[index], timer.timeit(number) / number)
    return best[0], best[1]


def cold_check(path: Path, runs: int, cache: str | None) -> float:
    """Best wall time of ``critlang check PATH`` in a fresh interpreter."""
    env = dict(os.environ)
    if cache is not None:
        env["CRITLANG_CACHE_DIR"] = cache
    command = [sys.executable, "-m", "critlang.cli", "check", str(path)]
    subprocess.run(command, env=env, capture_output=True, check=False)  # fills the cache
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def cold_check_without_cache(path: Path, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            env = dict(os.environ, CRITLANG_CACHE_DIR=folder)
            command = [sys.executable, "-m", "critlang.cli", "check", str(path)]
            start = time.perf_counter()
            subprocess.run(command, env=env, capture_output=True, check=False)
            best = min(best, time.perf_counter() - start)
    return best


def records_of(stem: str) -> list[tuple[str, Any]]:
    folder = EXAMPLES / stem / "records"
    return [
        (path.stem, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(folder.glob("*.json"))
    ]


def measure_trial(path: Path, baselines: Any, repeat: int, minimum: float, notes: list[str]) -> str:
    """One table row: parse+check, critlang and hand-written evaluation per record, ratio."""
    stem = path.stem
    load_seconds = best_of(lambda: critlang.load(path), repeat, minimum)
    trial = critlang.load(path)
    records = [(name, as_record(data), data) for name, data in records_of(stem)]
    baseline = getattr(baselines, baselines.FUNCTIONS.get(stem, ""), None) if baselines else None
    patients = [record for _, record, _ in records]
    count = max(len(records), 1)
    nan = float("nan")
    evaluate_seconds = objects_seconds = explain_seconds = hand_seconds = nan

    def ours() -> None:
        for record in patients:
            trial.evaluate(record, evidence=False)

    if records:
        # With the per-criterion result objects read, and with the evidence for explanations.
        objects_seconds = (
            best_of(
                lambda: [trial.evaluate(record, evidence=False).criteria for record in patients],
                repeat,
                minimum,
            )
            / count
        )
        explain_seconds = (
            best_of(lambda: [trial.evaluate(record) for record in patients], repeat, minimum)
            / count
        )
    if baseline is None:
        notes.append(f"{stem}: no hand-written baseline")
        if records:
            evaluate_seconds = best_of(ours, repeat, minimum) / count
    elif records:
        disagreements = []
        for name, record, data in records:
            theirs = baseline(data)
            for evidence in (True, False):
                result = trial.evaluate(record, evidence=evidence)
                outcomes = {c.id: c.outcome.value for c in result.criteria}
                differing = sorted(k for k in outcomes if theirs.get(k) != outcomes[k])
                if differing:
                    disagreements.append(f"{name} (evidence={evidence}): {', '.join(differing)}")
        if disagreements:
            notes.append(f"{stem}: baseline disagrees ({'; '.join(disagreements)}), not timed")
            evaluate_seconds = best_of(ours, repeat, minimum) / count
        else:
            datas = [data for _, _, data in records]

            def theirs_all() -> None:
                for data in datas:
                    baseline(data)

            evaluate_seconds, hand_seconds = paired(ours, theirs_all, repeat, minimum)
            evaluate_seconds /= count
            hand_seconds /= count
    ratio = evaluate_seconds / hand_seconds
    return (
        f"{stem:<22}{len(trial.criteria):>9}{len(records):>8}"
        f"{load_seconds * 1e3:>10.2f} ms{evaluate_seconds * 1e6:>11.1f} µs"
        f"{hand_seconds * 1e6:>11.1f} µs{ratio:>7.2f}x"
        f"{objects_seconds * 1e6:>11.1f} µs{explain_seconds * 1e6:>11.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat, minimum, runs = (3, 0.05, 3) if args.quick else (7, 0.2, 7)

    try:
        import baselines
    except ImportError:
        baselines = None  # type: ignore[assignment]

    print(
        f"Python {platform.python_version()} on {platform.platform()}; critlang {critlang.__version__}"
    )
    print(f"{'quick' if args.quick else 'full'} run: best of {repeat}")
    print()
    header = (
        f"{'trial':<22}{'criteria':>9}{'records':>8}{'parse+check':>13}{'critlang':>14}"
        f"{'hand-written':>14}{'ratio':>8}{'+objects':>14}{'+evidence':>14}"
    )
    print(header)
    print("-" * len(header))
    notes: list[str] = []
    for path in sorted(EXAMPLES.glob("*.crit")):
        print(measure_trial(path, baselines, repeat, minimum, notes))
    print()
    example = EXAMPLES / "NCT06945523.crit"
    warm = cold_check(example, runs, None)
    cold = cold_check_without_cache(example, max(2, runs // 2))
    print(
        f"cold `critlang check {example.relative_to(ROOT)}`: {warm * 1e3:.0f} ms with the user cache, "
        f"{cold * 1e3:.0f} ms without it (first run after install); target <= 300 ms"
    )
    print()
    print("targets: parse+check <= 20 ms warm; evaluation <= 1.5x the hand-written function")
    print("critlang = Trial.evaluate(record, evidence=False) per record: the verdict and every")
    print("criterion's outcome and reasons (what the hand-written function gives: each outcome).")
    print("Records are read once; the hand-written function reads the JSON dict directly. The two")
    print("are timed in alternating rounds (best of each); ratio = critlang / hand-written.")
    print("+objects = the same, with result.criteria (one object per criterion) built as well;")
    print("+evidence = Trial.evaluate(record) with the explanation evidence.")
    for note in notes:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
