"""Formatting, code actions and document symbols over the protocol."""

from __future__ import annotations

import pytest

pytest.importorskip("pytest_lsp", reason="needs pytest-lsp and pygls: pip install -e '.[dev]'")

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.support import EXAMPLES, SERVER, Document, start

pytestmark = pytest.mark.asyncio(loop_scope="module")
TRIAL = EXAMPLES / "vegfr1-pdl1-cart.crit"
OPTIONS = types.FormattingOptions(tab_size=2, insert_spaces=True)


def messed_up(text: str) -> str:
    """The same program with its layout undone and protocol operators."""
    flat = "\n".join(line.strip() for line in text.splitlines()) + "\n"
    return flat.replace(" >= ", "≥").replace(" <= ", " ≤ ")


@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(lsp_client: LanguageClient):
    lsp_client.encoding = await start(lsp_client, editor="emacs")
    yield
    await lsp_client.shutdown_session()


async def test_formatting_gives_the_canonical_layout(client: LanguageClient) -> None:
    canonical = TRIAL.read_text(encoding="utf-8")
    document = Document(client, TRIAL, client.encoding, text=messed_up(canonical))
    await document.diagnostics()
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=document.identifier, options=OPTIONS)
    )
    assert edits
    assert document.applied(edits) == canonical
    document.close()


async def test_range_formatting_changes_only_the_lines_asked_for(client: LanguageClient) -> None:
    canonical = TRIAL.read_text(encoding="utf-8")
    document = Document(client, TRIAL, client.encoding, text=messed_up(canonical))
    await document.diagnostics()
    first = document.find("\ninclusion\n") + 1
    wanted = types.Range(start=document.position(first), end=document.position(first + 12))
    edits = await client.text_document_range_formatting_async(
        types.DocumentRangeFormattingParams(
            text_document=document.identifier, range=wanted, options=OPTIONS
        )
    )
    assert edits
    assert all(edit.range.start.line <= wanted.end.line + 1 for edit in edits)
    after = document.applied(edits)
    assert after != canonical
    assert after.splitlines()[-5:] == document.text.splitlines()[-5:]
    document.close()


async def test_a_file_with_a_syntax_error_is_not_formatted(client: LanguageClient) -> None:
    document = Document(client, TRIAL, client.encoding, text='inclusion\n  I1 "x": ANC >=\n')
    await document.diagnostics()
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=document.identifier, options=OPTIONS)
    )
    assert not edits
    document.close()


async def test_each_lint_fix_is_a_code_action(client: LanguageClient) -> None:
    text = TRIAL.read_text(encoding="utf-8").replace("ECOG in 0..2", "Ecog in 0..2")
    document = Document(client, TRIAL, client.encoding, text=text)
    (finding,) = await document.diagnostics(lambda found: bool(found))
    assert finding.code == "CL503"
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=document.identifier,
            range=finding.range,
            context=types.CodeActionContext(diagnostics=[finding]),
        )
    )
    assert actions is not None
    quick = [a for a in actions if isinstance(a, types.CodeAction) and a.kind == "quickfix"]
    (fix,) = quick
    assert fix.title == "write `ECOG`"
    assert fix.is_preferred
    assert fix.diagnostics is not None
    assert fix.diagnostics[0].code == "CL503"
    assert fix.edit is not None
    assert fix.edit.changes is not None
    fixed = document.applied(fix.edit.changes[document.uri])
    assert fixed == TRIAL.read_text(encoding="utf-8")
    everything = [
        a for a in actions if isinstance(a, types.CodeAction) and a.kind == "source.fixAll.critlang"
    ]
    assert len(everything) == 1
    document.close()


async def test_an_unsafe_fix_says_so(client: LanguageClient) -> None:
    text = TRIAL.read_text(encoding="utf-8").replace("ECOG in 0..2", "ECGO in 0..2")
    document = Document(client, TRIAL, client.encoding, text=text)
    (finding,) = await document.diagnostics(lambda found: bool(found))
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=document.identifier,
            range=finding.range,
            context=types.CodeActionContext(diagnostics=[finding], only=["quickfix"]),
        )
    )
    assert actions is not None
    (fix,) = actions
    assert isinstance(fix, types.CodeAction)
    assert fix.title == "replace with `ECOG` (check the result)"
    assert not fix.is_preferred
    document.close()


async def test_the_outline_has_the_trial_its_sections_and_criteria(client: LanguageClient) -> None:
    document = Document(client, EXAMPLES / "NCT06945523.crit", client.encoding)
    await document.diagnostics()
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=document.identifier)
    )
    assert symbols is not None
    (trial,) = symbols
    assert isinstance(trial, types.DocumentSymbol)
    assert trial.name == "trial NCT06945523"
    assert trial.kind == types.SymbolKind.Module
    names = [child.name for child in trial.children or ()]
    assert names == [
        "intrapleural_group",
        "pleural_effusion_cytology",
        "adequate_marrow",
        "inclusion",
        "exclusion",
    ]
    inclusion = trial.children[3]
    assert inclusion.kind == types.SymbolKind.Namespace
    criteria = [child.name for child in inclusion.children or ()]
    assert criteria[:4] == ["I1", "I2", "I3", "I4a"]
    assert len(criteria) == 20
    exclusion = trial.children[4]
    assert len(exclusion.children or ()) == 16
    keyword = document.find("\nexclusion\n") + 1
    assert exclusion.selection_range == types.Range(
        start=document.position(keyword), end=document.position(keyword + len("exclusion"))
    )
    document.close()
