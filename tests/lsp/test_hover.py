"""Hover over the protocol: dictionary entries, definitions, criteria, quantities and x ULN."""

from __future__ import annotations

import pytest

pytest.importorskip("pytest_lsp", reason="needs pytest-lsp and pygls: pip install -e '.[dev]'")

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.support import SERVER, Document, start

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(lsp_client: LanguageClient):
    lsp_client.encoding = await start(lsp_client, editor="visual_studio_code")
    yield
    await lsp_client.shutdown_session()


async def hover_text(document: Document, position: types.Position) -> tuple[str, types.Range]:
    found = await document.client.text_document_hover_async(
        types.HoverParams(text_document=document.identifier, position=position)
    )
    assert found is not None
    assert isinstance(found.contents, types.MarkupContent)
    assert found.contents.kind == types.MarkupKind.Markdown
    return found.contents.value, found.range


async def test_a_variable_shows_its_dictionary_entry(document: Document) -> None:
    text, where = await hover_text(document, document.at("ANC > 1.0", shift=1))
    assert where == types.Range(
        start=document.at("ANC > 1.0"), end=document.at("ANC > 1.0", shift=3)
    )
    assert "**ANC** — Absolute neutrophil count" in text
    assert "*lab*, unit `10*9/L`" in text
    assert "`LOINC:751-8`" in text
    assert "plausible: 0..100 10*9/L" in text
    assert "aliases: neutrophils" in text
    assert "declared in `std/labs.crit`, line 24" in text


async def test_a_definition_shows_its_body(document: Document) -> None:
    text, _ = await hover_text(document, document.at("adequate_marrow", occurrence=1))
    assert "**define adequate_marrow**" in text
    assert "WBC > 2.0 x10^9/L and ANC > 1.0 x10^9/L" in text
    assert "declared on line 20" in text


async def test_a_criterion_id_shows_its_protocol_text(document: Document) -> None:
    text, _ = await hover_text(document, document.at("I10.4"))
    assert text.startswith("**I10.4** (inclusion)")
    assert "Hepatic function: ALT and AST ≤3.0×ULN" in text


async def test_a_quantity_shows_its_value_in_the_variables_unit(document: Document) -> None:
    text, _ = await hover_text(document, document.at("80 g/L"))
    assert "`80 g/L` = **8 g/dL**" in text
    assert "`hemoglobin` is in `g/dL`" in text


async def test_a_quantity_in_another_unit_is_converted(document: Document) -> None:
    document.replace("ANC > 1.0 x10^9/L", "ANC > 1500 /uL")
    await document.diagnostics()
    found, where = await hover_text(document, document.at("1500 /uL", shift=6))
    assert "`1500 /uL` = **1.5 10*9/L**" in found
    assert where == document.range_of("1500 /uL")
    document.replace("ANC > 1500 /uL", "ANC > 1.0 x10^9/L")
    await document.diagnostics()


async def test_x_uln_says_which_reference_range_it_uses(document: Document) -> None:
    text, _ = await hover_text(document, document.at("5.0 x ULN", shift=5))
    assert "5 × the upper limit of normal of `ALT`" in text
    assert "each ALT result's own reference range (its `high`)" in text
    assert "UNKNOWN" in text


async def test_nothing_to_show_in_a_comment(document: Document) -> None:
    found = await document.client.text_document_hover_async(
        types.HoverParams(text_document=document.identifier, position=document.at("Chongqing"))
    )
    assert found is None
