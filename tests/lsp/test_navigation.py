"""Definition, references and rename over the protocol, across files: the standard dictionary,
``use``d files and the other examples."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytest_lsp", reason="needs pytest-lsp and pygls: pip install -e '.[dev]'")

import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.support import EXAMPLE, EXAMPLES, Document

pytestmark = pytest.mark.asyncio(loop_scope="module")
SHARED = """define adult = age >= 18 years

lab site_anc "ANC measured at the site": 10*9/L
    codes OMOP:9999001
"""
TRIAL = """trial SHARED "uses a shared file"

use "shared.crit"

inclusion
  I1 "Adult":          adult
  I2 "Site ANC ≥1.5":  site_anc >= 1.5 x10^9/L
  I3 "Adult, again":   adult and ECOG in 0..1
"""


@pytest_asyncio.fixture(loop_scope="module")
async def project(client: LanguageClient, tmp_path: Path):
    (tmp_path / "shared.crit").write_text(SHARED, encoding="utf-8")
    path = tmp_path / "trial.crit"
    path.write_text(TRIAL, encoding="utf-8")
    opened = Document(client, path, client.encoding)
    assert list(await opened.diagnostics()) == []
    yield opened
    opened.close()


async def definition(document: Document, position: types.Position) -> types.Location:
    found = await document.client.text_document_definition_async(
        types.DefinitionParams(text_document=document.identifier, position=position)
    )
    assert isinstance(found, list)
    (location,) = found
    assert isinstance(location, types.Location)
    return location


def line_of(path: Path, needle: str) -> int:
    text = path.read_text(encoding="utf-8")
    return text.count("\n", 0, text.index(needle))


async def test_a_standard_variable_leads_to_the_standard_dictionary(document: Document) -> None:
    location = await definition(document, document.at("ANC > 1.0", shift=1))
    labs = Path(location.uri.removeprefix("file://"))
    assert labs.parts[-2:] == ("std", "labs.crit")
    assert location.range.start.line == line_of(labs, 'lab ANC "')
    assert location.range.start.character == len("lab ")


async def test_an_anchor_leads_to_its_standard_declaration(document: Document) -> None:
    location = await definition(document, document.at("before screening", shift=8))
    assert location.uri.endswith("/std/anchors.crit")


async def test_a_definition_is_found_from_its_use(document: Document) -> None:
    location = await definition(document, document.at("adequate_marrow", occurrence=1))
    assert location.uri == document.uri
    assert location.range == document.range_of("adequate_marrow")


async def test_names_from_a_used_file_lead_into_it(project: Document) -> None:
    shared = Path(project.uri.removeprefix("file://")).with_name("shared.crit")
    adult = await definition(project, project.at("adult", occurrence=1))
    assert adult.uri == shared.as_uri()
    assert adult.range.start == types.Position(line=0, character=len("define "))
    site = await definition(project, project.at("site_anc"))
    assert site.uri == shared.as_uri()
    assert site.range.start == types.Position(line=2, character=len("lab "))
    used = await definition(project, project.at("shared.crit"))
    assert used.uri == shared.as_uri()


async def test_references_of_a_definition_span_the_files_that_use_it(project: Document) -> None:
    found = await project.client.text_document_references_async(
        types.ReferenceParams(
            text_document=project.identifier,
            position=project.at("adult", occurrence=1),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert found is not None
    by_file = sorted((Path(loc.uri).name, loc.range.start.line) for loc in found)
    assert by_file == [("shared.crit", 0), ("trial.crit", 5), ("trial.crit", 7)]


async def test_references_of_a_dictionary_entry_cover_the_workspace(document: Document) -> None:
    found = await document.client.text_document_references_async(
        types.ReferenceParams(
            text_document=document.identifier,
            position=document.at("ANC > 1.0"),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert found is not None
    files = {Path(location.uri).name for location in found}
    assert {EXAMPLE.name, "NCT07480213.crit", "vegfr1-pdl1-cart.crit", "labs.crit"} <= files
    here = [location.range for location in found if location.uri == document.uri]
    start = document.find("ANC > 1.0")
    assert here == [types.Range(start=document.position(start), end=document.position(start + 3))]
    elsewhere = [Path(location.uri.removeprefix("file://")) for location in found]
    assert all(EXAMPLES in path.parents or path.name == "labs.crit" for path in elsewhere)


async def test_renaming_a_definition_edits_every_file_that_uses_it(project: Document) -> None:
    edit = await project.client.text_document_rename_async(
        types.RenameParams(
            text_document=project.identifier,
            position=project.at("adult", occurrence=1),
            new_name="grown_up",
        )
    )
    assert edit is not None
    assert edit.changes is not None
    shared = Path(project.uri.removeprefix("file://")).with_name("shared.crit")
    assert project.applied(edit.changes[project.uri]) == TRIAL.replace("adult", "grown_up")
    (in_shared,) = edit.changes[shared.as_uri()]
    assert in_shared.new_text == "grown_up"
    assert in_shared.range.start == types.Position(line=0, character=len("define "))


async def test_renaming_a_criterion_renames_it_in_its_test_cases(document: Document) -> None:
    prepared = await document.client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=document.identifier, position=document.at("I10.4"))
    )
    assert isinstance(prepared, types.PrepareRenamePlaceholder)
    assert prepared.placeholder == "I10.4"
    edit = await document.client.text_document_rename_async(
        types.RenameParams(
            text_document=document.identifier, position=document.at("I10.4"), new_name="I10.4a"
        )
    )
    assert edit is not None
    assert edit.changes is not None
    assert [e.range for e in edit.changes[document.uri]] == [document.range_of("I10.4")]
    tests = EXAMPLE.with_name("NCT06945523.tests.toml")
    toml = tests.read_text(encoding="utf-8")
    edits = edit.changes[tests.resolve().as_uri()]
    assert len(edits) == toml.count('"I10.4" =') == 23
    lines = toml.splitlines()
    for change in edits:
        line = lines[change.range.start.line]
        assert line[change.range.start.character : change.range.end.character] == "I10.4"


async def test_only_definitions_and_criteria_can_be_renamed(document: Document) -> None:
    prepared = await document.client.text_document_prepare_rename_async(
        types.PrepareRenameParams(
            text_document=document.identifier, position=document.at("ANC > 1.0")
        )
    )
    assert prepared is None
    with pytest.raises(Exception, match="is not a name"):
        await document.client.text_document_rename_async(
            types.RenameParams(
                text_document=document.identifier,
                position=document.at("adequate_marrow"),
                new_name="and",
            )
        )


async def test_saving_a_used_file_checks_the_files_that_use_it_again(
    client: LanguageClient, project: Document
) -> None:
    path = Path(project.uri.removeprefix("file://")).with_name("shared.crit")
    shared = Document(client, path, client.encoding)
    await shared.diagnostics()
    path.write_text(SHARED.replace("define adult", "define grown_up"), encoding="utf-8")
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=shared.identifier))
    found = await project.diagnostics(lambda found: bool(found))
    assert {diagnostic.code for diagnostic in found} == {"CL101"}
    assert [d.range for d in found] == [
        project.range_of("adult"),
        project.range_of("adult", occurrence=1),
    ]
    shared.close()
