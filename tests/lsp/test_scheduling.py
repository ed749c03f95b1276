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
    state = DocumentState(cost=0.05, edited_at=0.0, pending=True)
    assert documents().pause(state, now=100.0) == 0.05


def test_an_edit_is_pending_until_its_diagnostics_are_out() -> None:
    published: list[int | None] = []

    async def edit() -> list[bool]:
        found = Documents(
            text=lambda uri: ('trial T "t"\ninclusion\n  I1 "x": age >= 18 years\n', 2),
            publish=lambda analysis: published.append(analysis.version),
            encoding=lambda: "utf-16",
        )
        found.changed("untitled:a")
        state = found.states["untitled:a"]
        seen = [state.pending]
        assert state.task is not None
        await state.task
        seen.append(state.pending)
        return seen

    assert asyncio.run(edit()) == [True, False]
    assert published == [2]


def test_a_configured_debounce_is_always_waited() -> None:
    state = DocumentState(cost=0.4, edited_at=0.0)
    assert documents(debounce=0.2).pause(state, now=100.0) == 0.2
