"""When the server analyses an edit (the debounce), and how an edit stops a stale analysis."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("pygls", reason="needs pygls: pip install -e '.[dev]'")

from critlang.lsp.documents import MAX_DEBOUNCE, MIN_DEBOUNCE, Documents, DocumentState


def documents(debounce: float | None = None) -> Documents:
    found = Documents(
        text=lambda uri: ("", 1), publish=lambda analysis: None, encoding=lambda: "utf-16"
    )
    found.debounce = debounce
    return found


def test_an_edit_after_a_quiet_spell_is_analysed_at_once() -> None:
    state = DocumentState(cost=0.4, edited_at=10.0)
    assert documents().pause(state, now=10.0 + MAX_DEBOUNCE + 0.01) == 0.0


def test_an_edit_that_follows_another_closely_waits_for_the_debounce() -> None:
    state = DocumentState(cost=0.4, edited_at=10.0)
    assert documents().pause(state, now=10.05) == MAX_DEBOUNCE
    small = DocumentState(cost=0.001, edited_at=10.0)
    assert documents().pause(small, now=10.01) == MIN_DEBOUNCE


def test_an_edit_while_an_analysis_is_pending_waits_for_the_debounce() -> None:
    async def pending() -> float:
        state = DocumentState(cost=0.05, edited_at=0.0)
        state.task = asyncio.ensure_future(asyncio.sleep(1))
        try:
            return documents().pause(state, now=100.0)
        finally:
            state.task.cancel()

    assert asyncio.run(pending()) == 0.05


def test_a_configured_debounce_is_always_waited() -> None:
    state = DocumentState(cost=0.4, edited_at=0.0)
    assert documents(debounce=0.2).pause(state, now=100.0) == 0.2
