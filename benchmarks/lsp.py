"""Benchmark the language server (`critlang lsp`) through the real protocol, over stdio.

What it measures, with pygls' client driving a server started as an editor starts it:

1. from a `didChange` to the `publishDiagnostics` for that version, on the largest example and on
   a generated file of 2,000 lines (targets: 100 ms and 500 ms). The server waits for a pause in
   typing before it analyses (the debounce, by default as long as the document's last analysis,
   between 25 and 150 ms), so each file is measured twice: with the server's adaptive debounce,
   and with `debounceMs: 0` (the analysis alone); the difference is the debounce. A file whose
   analysis takes over 100 ms gets its errors first and its other findings when the rules finish:
   both are shown;
2. the round trip of hover (on a variable, a quantity) and of completion (names, units), on both
   files (target: 30 ms).

Each edit changes a threshold and is undone by the next, so every analysis is of a new text. The
numbers are medians (and the worst) over the repeats. It is a benchmark, not a test: it prints what
it measured and never fails on timing.

    python benchmarks/lsp.py            # full run
    python benchmarks/lsp.py --quick    # fewer repeats
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

import critlang
from lint import generated

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "NCT06945523.crit"
SERVER = [sys.executable, "-m", "critlang.cli", "lsp"]
# How long to wait for a second publication of the same version (errors first, then the rest).
SECOND_PHASE_WAIT = 2.0


class Session:
    """A client connected to a fresh server, recording when diagnostics arrive."""

    def __init__(self) -> None:
        self.client = LanguageClient("critlang-benchmark", "1")
        self.arrivals: dict[tuple[str, int | None], list[float]] = {}
        self.changed = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            key = (params.uri, params.version)
            self.arrivals.setdefault(key, []).append(time.perf_counter())
            self.changed.set()

    async def start(self, debounce_ms: float | None) -> None:
        await self.client.start_io(*SERVER)
        options: dict[str, Any] = {} if debounce_ms is None else {"debounceMs": debounce_ms}
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=EXAMPLE.parent.as_uri(),
                initialization_options=options,
            )
        )
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    async def published(self, uri: str, version: int, count: int, timeout: float) -> list[float]:
        """The arrival times of the publications of ``version`` once there are ``count`` of
        them, or those that came within ``timeout``."""
        deadline = time.perf_counter() + timeout
        while len(self.arrivals.get((uri, version), [])) < count:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                break
        return self.arrivals.get((uri, version), [])


class Document:
    """An open document whose text the benchmark edits."""

    def __init__(self, session: Session, path: Path, text: str) -> None:
        self.session = session
        self.uri = path.resolve().as_uri()
        self.text = text
        self.version = 1
        session.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=self.uri, language_id="critlang", version=1, text=text
                )
            )
        )

    def position(self, needle: str, shift: int = 0) -> types.Position:
        offset = self.text.index(needle) + shift
        line = self.text.count("\n", 0, offset)
        return types.Position(line=line, character=offset - self.text.rfind("\n", 0, offset) - 1)

    async def edit(self, old: str, new: str) -> tuple[float, list[float]]:
        """Replace ``old`` by ``new`` (an incremental change); returns when it was sent and when
        its diagnostics arrived."""
        start = self.text.index(old)
        where = types.Range(start=self.position(old), end=self.position(old, len(old)))
        self.text = self.text[:start] + new + self.text[start + len(old) :]
        self.version += 1
        sent = time.perf_counter()
        self.session.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[types.TextDocumentContentChangePartial(range=where, text=new)],
            )
        )
        arrived = await self.session.published(self.uri, self.version, 1, 30.0)
        if arrived:
            arrived = await self.session.published(
                self.uri, self.version, 2, min(SECOND_PHASE_WAIT, 4 * (arrived[0] - sent) + 0.2)
            )
        return sent, arrived


async def edit_latencies(
    document: Document, old: str, new: str, repeat: int
) -> tuple[list[float], list[float]]:
    """Seconds from each change to its first and to its last publication."""
    first, last = [], []
    for index in range(repeat * 2):
        before, after = (old, new) if index % 2 == 0 else (new, old)
        sent, arrived = await document.edit(before, after)
        if arrived:
            first.append(arrived[0] - sent)
            last.append(arrived[-1] - sent)
    return first, last


async def request_latencies(request: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await request()
        times.append(time.perf_counter() - start)
    return times


def hover(document: Document, needle: str, shift: int) -> Callable[[], Awaitable[object]]:
    params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=document.uri),
        position=document.position(needle, shift),
    )
    return lambda: document.session.client.text_document_hover_async(params)


def completion(document: Document, needle: str, shift: int) -> Callable[[], Awaitable[object]]:
    params = types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=document.uri),
        position=document.position(needle, shift),
    )
    return lambda: document.session.client.text_document_completion_async(params)


def row(label: str, times: list[float], target_ms: float | None) -> None:
    if not times:
        print(f"{label:<68}{'no answer':>12}")
        return
    median = statistics.median(times) * 1000
    worst = max(times) * 1000
    verdict = ""
    if target_ms is not None:
        verdict = f"<= {target_ms:.0f} ms  " + ("ok" if median <= target_ms else "OVER")
    print(f"{label:<68}{median:>9.1f} ms{worst:>10.1f} ms   {verdict}")


async def measure_file(
    name: str, path: Path, text: str, edit: tuple[str, str], target_ms: float, repeat: int
) -> None:
    for debounce, label in ((None, "adaptive debounce"), (0.0, "no debounce")):
        session = Session()
        await session.start(debounce)
        document = Document(session, path, text)
        await session.published(document.uri, 1, 1, 60.0)
        await document.edit(*edit)  # the first analysis after opening sets the debounce
        await document.edit(edit[1], edit[0])
        first, last = await edit_latencies(document, edit[0], edit[1], repeat)
        two_phases = any(b - a > 1e-6 for a, b in zip(first, last, strict=True))
        if two_phases:
            row(f"{name}: change -> errors ({label})", first, target_ms)
            row(f"{name}: change -> all findings ({label})", last, target_ms)
        else:
            row(f"{name}: change -> diagnostics ({label})", last, target_ms)
        if debounce is None:
            for kind, request, needle, shift in (
                ("hover on a variable", hover, "ANC", 1),
                ("hover on a quantity", hover, "1.0 x10^9/L", 1),
                ("completion of names", completion, "\nexclusion", 1),
                ("completion of units", completion, "ANC > 1.0 ", 10),
            ):
                times = await request_latencies(request(document, needle, shift), repeat * 5)
                row(f"{name}: {kind}", times, 30.0)
        await session.stop()


def generated_trial(lines: int) -> str:
    """The lint benchmark's generated trial, with the example's definition of adequate marrow
    (so that the same hover and completion positions exist in it)."""
    marrow = "define adequate_marrow =\n    WBC > 2.0 x10^9/L\n    and ANC > 1.0 x10^9/L\n\n"
    return marrow + generated(lines - 4)


async def run(repeat: int) -> None:
    example = EXAMPLE.read_text(encoding="utf-8")
    big = generated_trial(2000)
    print(
        f"Python {platform.python_version()} on {platform.platform()}; critlang "
        f"{critlang.__version__}; medians of {repeat * 2} edits, {repeat * 5} requests"
    )
    print()
    print(f"{'measure':<68}{'median':>12}{'worst':>13}   target")
    print("-" * 110)
    name = f"{EXAMPLE.name} ({example.count(chr(10))} lines)"
    await measure_file(name, EXAMPLE, example, ("ECOG in 0..2", "ECOG in 0..1"), 100, repeat)
    name = f"generated ({big.count(chr(10))} lines)"
    path = ROOT / "benchmarks" / "generated.crit"  # never written: the text is sent
    await measure_file(name, path, big, ("ANC >= 1.3 x10^9/L", "ANC >= 1.4 x10^9/L"), 500, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    asyncio.run(run(3 if args.quick else 10))


if __name__ == "__main__":
    main()
