"""Diagnostics over the protocol: check errors and lint findings as the text changes."""

from __future__ import annotations

import pytest

pytest.importorskip("pytest_lsp", reason="needs pytest-lsp and pygls: pip install -e '.[dev]'")

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.support import EXAMPLE, Document

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_an_example_that_checks_has_no_diagnostics(client: LanguageClient) -> None:
    document = Document(client, EXAMPLE, client.encoding)
    assert list(await document.diagnostics()) == []
    document.close()


async def test_a_misspelt_name_and_a_unit_mismatch_are_reported_where_they_are(
    client: LanguageClient,
) -> None:
    document = Document(client, EXAMPLE, client.encoding)
    await document.diagnostics()
    document.replace("and ANC > 1.0 x10^9/L", "and ANCC > 1.0 x10^9/L")
    document.replace("      adequate_marrow\n", "      adequate_marrow and ANC >= 9 g/dL\n")
    codes = {"CL101", "CL201"}
    found = await document.diagnostics(lambda found: codes <= {d.code for d in found})

    by_code = {d.code: d for d in found}
    assert len(found) == 2
    typo, units = by_code["CL101"], by_code["CL201"]
    assert typo.range == document.range_of("ANCC")
    assert typo.message.startswith("unknown name `ANCC`")
    assert "did you mean `ANC`?" in typo.message
    assert units.range == document.range_of("ANC >= 9 g/dL")
    assert "different dimensions" in units.message
    for diagnostic in found:
        assert diagnostic.severity == types.DiagnosticSeverity.Error
        assert diagnostic.source == "critlang"
    assert typo.code_description is not None
    assert typo.code_description.href.endswith("rules.md#cl101-unknown-name")
    assert units.code_description.href.endswith("rules.md#cl201-unit-mismatch")

    document.replace("ANCC", "ANC")
    document.replace(" and ANC >= 9 g/dL", "")
    assert list(await document.diagnostics()) == []
    document.close()


async def test_warnings_come_with_the_rule_and_unused_code_is_marked(
    client: LanguageClient,
) -> None:
    document = Document(client, EXAMPLE, client.encoding)
    await document.diagnostics()
    document.replace("      adequate_marrow\n", "      ANC > 1.0 x10^9/L\n")
    found = await document.diagnostics(lambda found: bool(found))
    (unused,) = found
    assert unused.code == "CL104"
    assert unused.severity == types.DiagnosticSeverity.Warning
    assert unused.range == document.range_of("adequate_marrow")
    assert list(unused.tags or ()) == [types.DiagnosticTag.Unnecessary]
    document.close()


async def test_a_syntax_error_keeps_the_last_good_outline_and_hover(
    client: LanguageClient,
) -> None:
    document = Document(client, EXAMPLE, client.encoding)
    await document.diagnostics()
    document.replace('I7 "ECOG performance status score of 0-2.":', 'I7 "ECOG 0-2" ECOG')
    (error,) = await document.diagnostics(lambda found: bool(found))
    assert error.code == "CL100"
    assert error.severity == types.DiagnosticSeverity.Error

    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=document.identifier)
    )
    (trial,) = symbols
    sections = {child.name: child for child in trial.children}
    assert [c.name for c in sections["inclusion"].children][:3] == ["I1", "I2", "I3"]
    i8 = next(c for c in sections["inclusion"].children if c.name == "I8")
    assert i8.selection_range == document.range_of("I8")

    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=document.identifier, position=document.at("ANC > 1.0"))
    )
    assert hover is not None
    assert "Absolute neutrophil count" in hover.contents.value
    document.close()
