"""Benchmark the FHIR R4 reader against plain ``json`` loading of the same files, in one run.

What it measures, on the 75 Synthea patients of ``../shared/data/fhir-synthea-r4`` (or a folder
of bundles given with ``--data``):

1. the Bundle files: ``json.loads`` of every file (the baseline), ``json.loads`` with exact
   decimals and with the cycle collector paused (how the reader parses: a parsed document has no
   cycles), and ``read_fhir`` iterated to the last patient, without and with the standard
   dictionary; MB/s of file bytes, and each one's time over the baseline's;
2. the same resources as a Bulk Data NDJSON export (one file per resource type), written twice:
   grouped by patient (as the bundles list them, and as most servers write) and shuffled (no two
   lines of a patient together): ``json.loads`` of every line against ``read_fhir`` (both passes:
   the index of runs of a patient's lines, then each patient's lines);
3. the peak memory Python allocates while reading the export (``tracemalloc``), against the
   export's size: the reader holds one patient's resources and an index of runs, not the file.

It is a benchmark, not a test: it prints what it measured and never fails on timing.

    python benchmarks/fhir.py            # full run
    python benchmarks/fhir.py --quick    # fewer repeats
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import sys
import tarfile
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import critlang
from critlang.data.fhir import fhir_files, read_fhir
from critlang.semantics.dictionary import Dictionary, standard

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CRITLANG_SHARED_DATA", ROOT.parent / "shared" / "data"))
ARCHIVE = SHARED / "fhir-synthea-r4" / "synthea-r4-75-patients.tgz"


def best_times(runs: list[Callable[[], object]], repeat: int) -> list[float]:
    """The best wall time of each run, in seconds, over ``repeat`` rounds that run each in turn,
    so that all see the same load on a shared machine and the ratios stay meaningful."""
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for index, run in enumerate(runs):
            start = time.perf_counter()
            run()
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def load_json(files: list[Path], **options: Any) -> int:
    """Every file parsed with ``json.loads``: the baseline. Returns the number of documents."""
    for path in files:
        json.loads(path.read_bytes(), **options)
    return len(files)


def load_json_paused(files: list[Path]) -> int:
    """The baseline with the cycle collector paused during each parse, as the reader does."""
    for path in files:
        data = path.read_bytes()
        gc.disable()
        try:
            json.loads(data, parse_float=Decimal)
        finally:
            gc.enable()
    return len(files)


def load_json_lines(files: list[Path]) -> int:
    count = 0
    for path in files:
        with path.open("rb") as handle:
            for line in handle:
                if line.strip():
                    json.loads(line)
                    count += 1
    return count


def read_all(path: Path, dictionary: Dictionary | None = None) -> int:
    """Every patient of ``path`` read with :func:`read_fhir`; returns how many entries."""
    return sum(1 for _ in read_fhir(path, dictionary))


def write_export(bundles: list[Path], folder: Path, shuffle: bool) -> None:
    """The bundles' resources as an NDJSON export, one file per type, references made relative;
    each file's lines in the bundles' order, or shuffled."""
    lines: dict[str, list[str]] = {}
    for path in bundles:
        entries = json.loads(path.read_bytes())["entry"]
        urls = {
            e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource'].get('id')}"
            for e in entries
        }
        for entry in entries:
            resource = entry["resource"]
            for field in ("subject", "patient", "medicationReference"):
                target = resource.get(field)
                if isinstance(target, dict) and target.get("reference") in urls:
                    target["reference"] = urls[target["reference"]]
            lines.setdefault(resource["resourceType"], []).append(json.dumps(resource))
    folder.mkdir(parents=True, exist_ok=True)
    for kind, texts in lines.items():
        if shuffle:
            random.Random(0).shuffle(texts)
        (folder / f"{kind}.ndjson").write_text("\n".join(texts) + "\n", encoding="utf-8")


def size_mb(files: list[Path]) -> float:
    return sum(path.stat().st_size for path in files) / 1e6


def row(name: str, seconds: float, megabytes: float, baseline: float | None) -> str:
    ratio = f"{seconds / baseline:6.2f}x" if baseline else ""
    return f"{name:<46} {seconds * 1000:9.0f} ms {megabytes / seconds:9.1f} MB/s   {ratio}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--data", type=Path, help="a folder of FHIR bundles (default: Synthea)")
    options = parser.parse_args()
    repeat = 2 if options.quick else 5

    with tempfile.TemporaryDirectory() as scratch:
        folder = options.data
        if folder is None:
            if not ARCHIVE.exists():
                sys.exit(f"no data: {ARCHIVE} is absent (give --data or CRITLANG_SHARED_DATA)")
            folder = Path(scratch) / "bundles"
            with tarfile.open(ARCHIVE) as archive:
                archive.extractall(folder, filter="data")
        bundles = fhir_files(folder)
        grouped, shuffled = Path(scratch) / "grouped", Path(scratch) / "shuffled"
        write_export(bundles, grouped, shuffle=False)
        write_export(bundles, shuffled, shuffle=True)
        exported = fhir_files(grouped)
        dictionary = standard()

        print(
            f"Python {platform.python_version()} on {platform.platform()}; "
            f"critlang {critlang.__version__}"
        )
        print(f"{'quick' if options.quick else 'full'} run: best of {repeat}\n")
        bundle_mb, export_mb = size_mb(bundles), size_mb(exported)
        patients = read_all(folder)
        print(f"bundles: {len(bundles)} files, {bundle_mb:.1f} MB, {patients} patients")
        print(f"{'measure':<46} {'time':>12} {'throughput':>14}   vs json\n{'-' * 86}")
        plain, exact, paused, reader, with_dictionary = best_times(
            [
                lambda: load_json(bundles),
                lambda: load_json(bundles, parse_float=Decimal),
                lambda: load_json_paused(bundles),
                lambda: read_all(folder),
                lambda: read_all(folder, dictionary),
            ],
            repeat,
        )
        print(row("json.loads, every bundle", plain, bundle_mb, None))
        print(row("json.loads, exact decimals", exact, bundle_mb, plain))
        print(row("json.loads, exact decimals, gc paused", paused, bundle_mb, plain))
        print(row("read_fhir, no dictionary", reader, bundle_mb, plain))
        print(row("read_fhir, standard dictionary", with_dictionary, bundle_mb, plain))

        print(f"\nNDJSON export: {len(exported)} files, {export_mb:.1f} MB")
        print(f"{'measure':<46} {'time':>12} {'throughput':>14}   vs json\n{'-' * 86}")
        lines, in_groups, in_any_order = best_times(
            [
                lambda: load_json_lines(exported),
                lambda: read_all(grouped),
                lambda: read_all(shuffled),
            ],
            repeat,
        )
        print(row("json.loads, every line", lines, export_mb, None))
        print(row("read_fhir, lines grouped by patient", in_groups, export_mb, lines))
        print(row("read_fhir, lines shuffled", in_any_order, export_mb, lines))

        print()
        for name, folder in (("grouped", grouped), ("shuffled", shuffled)):
            tracemalloc.start()
            read_all(folder)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(
                f"peak Python memory reading the {name} export: {peak / 1e6:.1f} MB "
                f"for {export_mb:.1f} MB of NDJSON"
            )


if __name__ == "__main__":
    main()
