"""Completion over the protocol: units for the variable compared, anchors, categories, names,
keywords and snippets."""

from __future__ import annotations

import pytest

pytest.importorskip("pytest_lsp", reason="needs pytest-lsp and pygls: pip install -e '.[dev]'")

from lsprotocol import types

from tests.lsp.support import Document

pytestmark = pytest.mark.asyncio(loop_scope="module")
END_OF_INCLUSIONS = "\nexclusion\n"


async def complete_after(document: Document, typed: str) -> list[types.CompletionItem]:
    """Type a new inclusion line ending in ``typed`` and ask for completions at its end."""
    line = f'  I99 "new": {typed}'
    document.replace(END_OF_INCLUSIONS, f"\n{line}{END_OF_INCLUSIONS}")
    position = document.at(line, shift=len(line))
    result = await document.client.text_document_completion_async(
        types.CompletionParams(text_document=document.identifier, position=position)
    )
    document.replace(f"\n{line}{END_OF_INCLUSIONS}", END_OF_INCLUSIONS)
    assert isinstance(result, types.CompletionList)
    return list(result.items)


async def test_units_of_the_compared_variable_come_first_in_its_own_unit(
    document: Document,
) -> None:
    items = await complete_after(document, "ANC >= 1500 ")
    labels = [item.label for item in items]
    assert labels[0] == "x10^9/L"
    assert "/uL" in labels
    assert "g/dL" not in labels
    per_microlitre = next(item for item in items if item.label == "/uL")
    assert per_microlitre.detail is not None
    assert "1 /uL = 0.001 10*9/L" in per_microlitre.detail
    assert per_microlitre.kind == types.CompletionItemKind.Unit


async def test_units_of_a_mass_concentration_convert_with_the_molar_mass(
    document: Document,
) -> None:
    labels = [item.label for item in await complete_after(document, "creatinine <= 1.5 ")]
    assert labels[0] == "mg/dL"
    assert "umol/L" in labels
    assert "x10^9/L" not in labels


async def test_a_partly_typed_unit_is_replaced(document: Document) -> None:
    items = await complete_after(document, "hemoglobin >= 9 g/")
    first = items[0]
    assert first.label == "g/dL"
    assert isinstance(first.text_edit, types.TextEdit)
    assert first.text_edit.range.end.character - first.text_edit.range.start.character == 2


async def test_anchors_after_before(document: Document) -> None:
    labels = [
        item.label for item in await complete_after(document, "surgery within 4 weeks before ")
    ]
    assert "screening" in labels
    assert "infusion" in labels
    assert "ANC" not in labels


async def test_categories_of_a_variable(document: Document) -> None:
    labels = [item.label for item in await complete_after(document, "sex = ")]
    assert labels == ["female", "male", "other", "unknown"]


async def test_names_keywords_and_snippets(document: Document) -> None:
    items = {item.label: item for item in await complete_after(document, "")}
    assert "10*9/L" in (items["ANC"].detail or "")
    assert items["ANC"].kind == types.CompletionItemKind.Variable
    assert items["adequate_marrow"].detail == "define"
    assert items["within"].kind == types.CompletionItemKind.Keyword
    assert "ULN" in items
    conditional = items["if … then … else"]
    assert conditional.insert_text_format == types.InsertTextFormat.Snippet
    assert conditional.insert_text == "if ${1:condition} then ${2:expression} else ${0:expression}"


async def test_the_criterion_snippet_offers_the_next_free_id(document: Document) -> None:
    line_start = document.find("  E1 ")
    result = await document.client.text_document_completion_async(
        types.CompletionParams(
            text_document=document.identifier, position=document.position(line_start)
        )
    )
    assert isinstance(result, types.CompletionList)
    snippet = next(item for item in result.items if item.label == "criterion")
    assert snippet.insert_text == '${1:E13} "${2:protocol text}": ${0:expression}'


async def test_resolving_a_variable_adds_its_entry(document: Document) -> None:
    items = await complete_after(document, "")
    platelets = next(item for item in items if item.label == "platelets")
    resolved = await document.client.completion_item_resolve_async(platelets)
    assert isinstance(resolved.documentation, types.MarkupContent)
    assert "**platelets** — Platelet count" in resolved.documentation.value
