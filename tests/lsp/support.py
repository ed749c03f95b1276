"""Driving the language server from the tests: documents, edits and positions on the client side.

Positions are computed here independently of the server (code units of the negotiated encoding),
so that a test checks the server's ranges rather than reusing its arithmetic.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

pytest.importorskip("pytest_lsp", reason="needs pytest-lsp and pygls: pip install -e '.[dev]'")

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
EXAMPLE = EXAMPLES / "NCT06945523.crit"
TIMEOUT = 10.0


class RecordingClient(LanguageClient):
    """pytest-lsp's client, keeping every publication of diagnostics in order: waiting for the
    next notification can miss one that arrives in the same read as the one before it."""

    def __init__(self) -> None:
        super().__init__(converter_factory=default_converter)
        self.publications: list[types.PublishDiagnosticsParams] = []
        self.published = asyncio.Event()
        self.encoding = "utf-16"


def record(ls: RecordingClient, params: types.PublishDiagnosticsParams) -> None:
    ls.diagnostics[params.uri] = params.diagnostics
    ls.publications.append(params)
    ls.published.set()


def make_client() -> RecordingClient:
    client = RecordingClient()
    features = {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: record}
    register_lsp_features(client, features)
    return client


# The subcommand itself, as an editor starts it.
SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "critlang.cli", "lsp"], client_factory=make_client
)


async def start(client: LanguageClient, root: Path = EXAMPLES, editor: str = "neovim") -> str:
    """Initialise a session as ``editor`` would, with ``root`` as the workspace; returns the
    position encoding the server chose."""
    capabilities = client_capabilities(editor)
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        )
    )
    encoding = result.capabilities.position_encoding
    return str(getattr(encoding, "value", encoding) or "utf-16")


class Document:
    """An open document as the client holds it: its text and version."""

    def __init__(self, client: RecordingClient, path: Path, encoding: str, text: str | None = None):
        self.client = client
        self.seen = len(client.publications)
        self.uri = path.resolve().as_uri()
        self.encoding = encoding
        self.text = path.read_text(encoding="utf-8") if text is None else text
        self.version = 1
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=self.uri, language_id="critlang", version=1, text=self.text
                )
            )
        )

    def close(self) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=self.uri)
            )
        )

    @property
    def identifier(self) -> types.TextDocumentIdentifier:
        return types.TextDocumentIdentifier(uri=self.uri)

    def position(self, offset: int) -> types.Position:
        """The LSP position of a character offset, counted in the session's encoding."""
        line = self.text.count("\n", 0, offset)
        start = self.text.rfind("\n", 0, offset) + 1
        width = len(self.text[start:offset].encode(_codec(self.encoding))) // _unit(self.encoding)
        return types.Position(line=line, character=width)

    def at(self, needle: str, shift: int = 0, occurrence: int = 0) -> types.Position:
        """The position of the ``occurrence``-th ``needle`` in the text, moved by ``shift``."""
        return self.position(self.find(needle, occurrence) + shift)

    def range_of(self, needle: str, occurrence: int = 0) -> types.Range:
        start = self.find(needle, occurrence)
        return types.Range(start=self.position(start), end=self.position(start + len(needle)))

    def find(self, needle: str, occurrence: int = 0) -> int:
        offset = -1
        for _ in range(occurrence + 1):
            offset = self.text.index(needle, offset + 1)
        return offset

    def replace(self, old: str, new: str, occurrence: int = 0) -> None:
        """Send an incremental change replacing one occurrence of ``old``."""
        where = self.range_of(old, occurrence)
        start = self.find(old, occurrence)
        self.text = self.text[:start] + new + self.text[start + len(old) :]
        self._change([types.TextDocumentContentChangePartial(range=where, text=new)])

    def set_text(self, text: str) -> None:
        """Send the whole new text."""
        self.text = text
        self._change([types.TextDocumentContentChangeWholeDocument(text=text)])

    def _change(self, changes: list[types.TextDocumentContentChangeEvent]) -> None:
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=changes,
            )
        )

    def offset(self, position: types.Position) -> int:
        """The character offset of an LSP position in the session's encoding."""
        lines = self.text.splitlines(keepends=True)
        if position.line >= len(lines):
            return len(self.text)
        start = sum(len(line) for line in lines[: position.line])
        units = 0
        for index, char in enumerate(lines[position.line]):
            if units >= position.character:
                return start + index
            units += len(char.encode(_codec(self.encoding))) // _unit(self.encoding)
        return start + len(lines[position.line])

    def applied(self, edits: Sequence[types.TextEdit]) -> str:
        """The text with ``edits`` applied (not sent to the server)."""
        text = self.text
        spans = [(self.offset(e.range.start), self.offset(e.range.end), e.new_text) for e in edits]
        for start, end, new in sorted(spans, reverse=True):
            text = text[:start] + new + text[end:]
        return text

    async def diagnostics(
        self, done: Callable[[Sequence[types.Diagnostic]], bool] = lambda found: True
    ) -> Sequence[types.Diagnostic]:
        """The diagnostics published for this version once ``done`` accepts them."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                self.client.published.clear()
                while self.seen < len(self.client.publications):
                    published = self.client.publications[self.seen]
                    self.seen += 1
                    matches = published.uri == self.uri and published.version == self.version
                    if matches and done(published.diagnostics):
                        return published.diagnostics
                await self.client.published.wait()


def _codec(encoding: str) -> str:
    return {"utf-8": "utf-8", "utf-32": "utf-32-le"}.get(encoding, "utf-16-le")


def _unit(encoding: str) -> int:
    return {"utf-8": 1, "utf-32": 4}.get(encoding, 2)
