"""The fixtures most LSP test modules share: a client talking to a real `critlang lsp` over stdio
(one server per module; a module may define its own ``client``) and an open seed trial."""

from __future__ import annotations

import pytest

pytest.importorskip("pytest_lsp", reason="needs pytest-lsp and pygls: pip install -e '.[dev]'")

import pytest_asyncio
import pytest_lsp
from pytest_lsp import LanguageClient

from tests.lsp.support import EXAMPLE, SERVER, Document, start


@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(lsp_client: LanguageClient):
    lsp_client.encoding = await start(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def document(client: LanguageClient):
    opened = Document(client, EXAMPLE, client.encoding)
    await opened.diagnostics()
    yield opened
    opened.close()
