"""The open documents: when each is analysed, and the analyses the features read.

Analyses run in one worker thread, one at a time (they parse, and the parser serves one parse at
a time), while the event loop keeps answering. The first edit after a quiet spell (nothing
pending, no edit for longer than the debounce) is analysed at once; an edit that follows others
closely is analysed after a pause in typing (the debounce): by default as long as the
document's last analysis took, between 25 and 150 ms, so that a large file is not analysed again
for every keystroke while its previous analysis still runs. A newer edit cancels the wait, and
stops an analysis under way at its next rule (its result is dropped). A document whose last
analysis took more than 100 ms has its errors published as soon as it has been checked, and the
other findings when the rules finish; the index the features read is built after that.
A configured debounce (``debounceMs``) is always waited.

Each document keeps its latest analysis and the last one whose text parsed, so that hover,
completion and the outline still answer (from the last good parse, with offsets carried across
the edit by :class:`~critlang.lsp.positions.OffsetMap`) while the text has a syntax error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import attrs
from lsprotocol import types

from critlang.lint.engine import Stopped
from critlang.lsp.analysis import Analysis, check_document, index_document, lint_document
from critlang.lsp.positions import LineIndex, OffsetMap
from critlang.source import Span

T = TypeVar("T")
logger = logging.getLogger(__name__)

MIN_DEBOUNCE = 0.025
MAX_DEBOUNCE = 0.150
# A document whose analysis takes longer than this shows its errors before its warnings.
TWO_PHASES_AFTER = 0.100


@attrs.define
class DocumentState:
    """One open document: its analyses, the pending analysis, its cost in seconds, how many
    edits it has had and when the last one came (the event loop's clock)."""

    latest: Analysis | None = None
    good: Analysis | None = None
    task: asyncio.Task[None] | None = None
    cost: float = 0.0
    edits: int = 0
    edited_at: float = float("-inf")
    # True while an edit waits for its diagnostics (from scheduling to the last publication).
    pending: bool = False


@attrs.frozen(kw_only=True)
class View:
    """An analysis seen from the editor's current text: ``lines`` indexes the current text and
    ``offsets`` carries offsets between the analysed text and the current one."""

    analysis: Analysis
    text: str
    lines: LineIndex
    offsets: OffsetMap

    @property
    def current(self) -> bool:
        """True when the analysis is of the current text."""
        return self.offsets.identical

    def offset(self, position: types.Position) -> int | None:
        """The analysed text's offset of a position in the current text (None: in an edit)."""
        return self.offsets.to_old(self.lines.offset(position))

    def range(self, span: Span) -> types.Range | None:
        """The current text's range of a span of the analysed text (None: cut by an edit)."""
        moved = self.offsets.span_to_new(span)
        return None if moved is None else self.lines.range(moved)


Publish = Callable[[Analysis], None]
Text = Callable[[str], tuple[str, int | None]]


class Documents:
    """The open documents' states; ``text(uri)`` reads a document's current text and version,
    ``publish`` sends an analysis's diagnostics."""

    def __init__(self, text: Text, publish: Publish, encoding: Callable[[], str]) -> None:
        self.states: dict[str, DocumentState] = {}
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="critlang-analysis")
        self.debounce: float | None = None  # seconds; None: adaptive
        self._text = text
        self._publish = publish
        self._encoding = encoding

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """``function(*args)`` in the worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.worker, function, *args)

    def opened(self, uri: str) -> None:
        """Analyse a document just opened, at once."""
        self._schedule(uri, 0.0)

    def changed(self, uri: str) -> None:
        """Analyse a changed document: at once after a quiet spell, else after the debounce."""
        state = self.states.setdefault(uri, DocumentState())
        now = asyncio.get_running_loop().time()
        delay = self.pause(state, now)
        state.edits += 1
        state.edited_at = now
        self._schedule(uri, delay)

    def pause(self, state: DocumentState, now: float) -> float:
        """How long to wait before analysing an edit made at ``now``: nothing after a quiet
        spell (no analysis pending and no edit for longer than the debounce), else the
        debounce; a configured debounce always."""
        delay = self.delay(state)
        if self.debounce is None and not state.pending and now - state.edited_at > delay:
            return 0.0
        return delay

    def closed(self, uri: str) -> None:
        """Forget a closed document."""
        state = self.states.pop(uri, None)
        if state is not None and state.task is not None:
            state.task.cancel()

    def delay(self, state: DocumentState) -> float:
        """The debounce for a document: the configured one, or its last analysis time."""
        if self.debounce is not None:
            return self.debounce
        return min(MAX_DEBOUNCE, max(MIN_DEBOUNCE, state.cost))

    def _schedule(self, uri: str, delay: float) -> None:
        state = self.states.setdefault(uri, DocumentState())
        if state.task is not None:
            state.task.cancel()
        state.pending = True
        state.task = asyncio.ensure_future(self._refresh(uri, delay))

    async def _refresh(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        state = self.states.get(uri)
        if state is None:
            return
        edits = state.edits

        def stale() -> bool:
            """True once the document has been edited again (asked from the worker)."""
            return state.edits != edits

        try:
            checked = await self.run(check_document, uri, *self._source(uri), stale)
            if self.states.get(uri) is not state:
                return
            self._store(uri, checked)
            if state.cost > TWO_PHASES_AFTER:
                self._publish(checked)
            analysis = await self.run(lint_document, checked, stale)
            state.cost = analysis.seconds
            self._store(uri, analysis)
            self._publish(analysis)
            state.pending = False
            # The features' index last (a feature asking before builds it itself).
            await self.run(index_document, analysis)
        except Stopped:
            return  # edited since: the newer edit's analysis is scheduled
        except asyncio.CancelledError:
            raise
        except Exception:
            state.pending = False
            logger.exception("analysing %s failed", uri)

    async def analyse(self, uri: str) -> Analysis:
        """Check and index the document's current text now, and keep the analysis."""
        analysis = await self.run(_checked, uri, *self._source(uri))
        self._store(uri, analysis)
        return analysis

    def _source(self, uri: str) -> tuple[int | None, str, Path | None, str]:
        """The version, text, file and position encoding to analyse a document with."""
        text, version = self._text(uri)
        return version, text, document_path(uri), self._encoding()

    def _store(self, uri: str, analysis: Analysis) -> None:
        state = self.states.get(uri)
        if state is None:
            return
        state.latest = analysis
        if analysis.parsed:
            state.good = analysis

    def view(self, uri: str) -> View | None:
        """The best analysis of a document for the features: the latest if it parsed, else the
        last that parsed (or the latest, with its syntax error, when none did)."""
        state = self.states.get(uri)
        if state is None or state.latest is None:
            return None
        analysis = state.latest if state.latest.parsed or state.good is None else state.good
        text, _ = self._text(uri)
        lines = analysis.lines if analysis.text == text else LineIndex(text, self._encoding())
        return View(
            analysis=analysis, text=text, lines=lines, offsets=OffsetMap(analysis.text, text)
        )

    async def current(self, uri: str, *, complete: bool = False) -> View | None:
        """A view whose analysis is of the current text, analysed now when it is not yet (with
        every rule run, when ``complete``)."""
        view = self.view(uri)
        if view is not None and view.current and (view.analysis.complete or not complete):
            return view
        if uri not in self.states:
            return None
        analysis = await self.analyse(uri)
        if complete:
            self._store(uri, await self.run(lint_document, analysis))
        return self.view(uri)


def _checked(
    uri: str, version: int | None, text: str, path: Path | None, encoding: str
) -> Analysis:
    """Steps one and two of an analysis: checked, with the errors, and indexed."""
    return index_document(check_document(uri, version, text, path, encoding))


def document_path(uri: str) -> Path | None:
    """The file of a ``file:`` URI (None for other schemes, such as ``untitled:``)."""
    from pygls.uris import to_fs_path

    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None
