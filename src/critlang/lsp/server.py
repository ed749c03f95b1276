"""The language server: pygls over stdio, each LSP request answered by the modules of this
package (see :mod:`critlang.lsp`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from critlang import __version__
from critlang.errors import CritlangError
from critlang.lsp import completion, edits, hover, navigation, outline
from critlang.lsp.analysis import Analysis
from critlang.lsp.documents import Documents, View
from critlang.lsp.findings import local_rules_url, to_lsp
from critlang.lsp.index import CRITERION, DEFINE, Occurrence
from critlang.lsp.positions import LineIndex
from critlang.source import Span

logger = logging.getLogger(__name__)
# LSP's RequestFailed: a request that is valid but cannot be done (an invalid new name).
REQUEST_FAILED = -32803


class CritlangServer(LanguageServer):
    """A pygls server with the open documents' analyses and the client's preferences."""

    def __init__(self) -> None:
        super().__init__(
            "critlang", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental
        )
        self.documents = Documents(self.document_text, self.publish, self.encoding)
        self.rules_url: str | None = None
        self.snippets = False
        self.markup = types.MarkupKind.Markdown
        self.published: dict[str, dict[int, types.Diagnostic]] = {}
        self._shown: set[str] = set()

    def document_text(self, uri: str) -> tuple[str, int | None]:
        """A document's current text and version."""
        document = self.workspace.get_text_document(uri)
        return document.source, document.version

    def encoding(self) -> str:
        """The position encoding agreed with the client (``utf-16`` unless it chose another)."""
        kind = self.workspace.position_encoding
        return str(getattr(kind, "value", kind) or "utf-16")

    def publish(self, analysis: Analysis) -> None:
        """Send an analysis's diagnostics (and show a configuration problem once)."""
        converted = {id(d): to_lsp(d, analysis.lines, self.rules_url) for d in analysis.diagnostics}
        self.published[analysis.uri] = converted
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=analysis.uri, version=analysis.version, diagnostics=list(converted.values())
            )
        )
        if analysis.problem and analysis.problem not in self._shown:
            self._shown.add(analysis.problem)
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=analysis.problem)
            )

    def workspace_roots(self) -> tuple[Path, ...]:
        """The workspace folders on disk (or the root the client gave)."""
        uris = [folder.uri for folder in self.workspace.folders.values()]
        if not uris and self.workspace.root_uri:
            uris = [self.workspace.root_uri]
        paths = [to_fs_path(uri) for uri in uris]
        return tuple(Path(path) for path in paths if path)

    def open_texts(self) -> dict[Path, str]:
        """The open documents' texts by file."""
        found = {}
        for uri, document in self.workspace.text_documents.items():
            path = to_fs_path(uri) if uri.startswith("file:") else None
            if path:
                found[Path(path).resolve()] = document.source
        return found


def build_server() -> CritlangServer:
    """A server with every feature registered."""
    server = CritlangServer()
    _register_lifecycle(server)
    _register_documents(server)
    _register_reading(server)
    _register_navigation(server)
    _register_editing(server)
    return server


def serve() -> None:
    """Run the server on standard input and output until the client exits."""
    logging.basicConfig(level=logging.WARNING, format="critlang lsp: %(levelname)s %(message)s")
    build_server().start_io()


# ---- lifecycle and documents -------------------------------------------------------------------


def _register_lifecycle(server: CritlangServer) -> None:
    """initialize (the client's options and capabilities) and initialized (warm-up)."""

    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        options: dict[str, Any] = params.initialization_options or {}
        if not isinstance(options, dict):
            options = {}
        debounce = options.get("debounceMs")
        if isinstance(debounce, int | float) and debounce >= 0:
            server.documents.debounce = debounce / 1000
        url = options.get("rulesUrl")
        server.rules_url = url if isinstance(url, str) and url else local_rules_url()
        server.snippets = _snippet_support(params.capabilities)
        server.markup = _hover_markup(params.capabilities)

    @server.feature(types.INITIALIZED)
    async def initialized(params: types.InitializedParams) -> None:
        await server.documents.run(_warm_up)


def _snippet_support(capabilities: types.ClientCapabilities) -> bool:
    document = capabilities.text_document
    found = document.completion if document is not None else None
    item = found.completion_item if found is not None else None
    return bool(item is not None and item.snippet_support)


def _hover_markup(capabilities: types.ClientCapabilities) -> types.MarkupKind:
    """Markdown, unless the client says it shows only plain text in hovers."""
    document = capabilities.text_document
    found = document.hover if document is not None else None
    formats = found.content_format if found is not None else None
    if formats and types.MarkupKind.Markdown not in formats:
        return types.MarkupKind.PlainText
    return types.MarkupKind.Markdown


def _warm_up() -> None:
    """Build the parser, the standard dictionary and the rule table before the first file."""
    from critlang.lint.engine import lint_text

    lint_text('trial T "t"\ninclusion\n  I1 "x": ANC >= 1.5 x10^9/L\n', "<warm-up>")
    completion.unit_codes()


def _register_documents(server: CritlangServer) -> None:
    """Open, change, save and close: when documents are analysed."""

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        server.documents.opened(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        server.documents.changed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        # A saved file may be one that others `use`, or their configuration: check them again.
        for uri in list(server.documents.states):
            if uri != params.text_document.uri:
                server.documents.changed(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        server.documents.closed(uri)
        server.published.pop(uri, None)
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )


# ---- hover, completion, outline ----------------------------------------------------------------


def _register_reading(server: CritlangServer) -> None:
    """Hover, completion and the outline: answered from the latest analysis at once."""

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def on_hover(params: types.HoverParams) -> types.Hover | None:
        view = await _any_view(server, params.text_document.uri)
        offset = view.offset(params.position) if view is not None else None
        if view is None or offset is None:
            return None
        found = hover.hover(view.analysis.context, view.analysis.index, offset)
        where = view.range(found.span) if found is not None else None
        if found is None:
            return None
        content = types.MarkupContent(kind=server.markup, value=found.markdown)
        return types.Hover(contents=content, range=where)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(resolve_provider=True))
    async def on_completion(params: types.CompletionParams) -> types.CompletionList | None:
        view = await _any_view(server, params.text_document.uri)
        if view is None:
            return None
        offset = view.lines.offset(params.position)
        analysis = view.analysis
        items = completion.complete(
            analysis.context, analysis.index, view.text, offset, view.lines, server.snippets
        )
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.COMPLETION_ITEM_RESOLVE)
    def on_resolve(item: types.CompletionItem) -> types.CompletionItem:
        return _resolve(server, item)

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def on_symbols(params: types.DocumentSymbolParams) -> list[types.DocumentSymbol] | None:
        view = server.documents.view(params.text_document.uri)
        if view is None or not view.analysis.parsed:
            return None
        context = view.analysis.context
        return outline.document_symbols(context.program, context.source, view.range)


async def _any_view(server: CritlangServer, uri: str) -> View | None:
    """The latest analysis of a document, or one made now when it has none yet."""
    return server.documents.view(uri) or await server.documents.current(uri)


def _resolve(server: CritlangServer, item: types.CompletionItem) -> types.CompletionItem:
    """A variable item with its dictionary entry as documentation."""
    name = item.data.get("variable") if isinstance(item.data, dict) else None
    for state in server.documents.states.values():
        context = state.latest.context if state.latest is not None else None
        variable = context.dictionary.lookup(name) if context is not None and name else None
        if context is not None and variable is not None:
            text = hover.variable_markdown(variable, context)
            item.documentation = types.MarkupContent(kind=server.markup, value=text)
            break
    return item


# ---- definition, references, rename ------------------------------------------------------------


def _register_navigation(server: CritlangServer) -> None:
    """Definition, references and rename: answered from an analysis of the current text."""

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def on_definition(params: types.DefinitionParams) -> list[types.Location] | None:
        view = await server.documents.current(params.text_document.uri)
        occurrence = _occurrence(view, params.position)
        if view is None or occurrence is None:
            return None
        place = await server.documents.run(navigation.definition, view.analysis, occurrence)
        return None if place is None else [_location(view, place)]

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def on_references(params: types.ReferenceParams) -> list[types.Location] | None:
        view = await server.documents.current(params.text_document.uri)
        occurrence = _occurrence(view, params.position)
        if view is None or occurrence is None:
            return None
        workspace = navigation.Workspace(
            roots=server.workspace_roots(), open_texts=server.open_texts()
        )
        places = await server.documents.run(
            navigation.references,
            view.analysis,
            occurrence,
            workspace,
            params.context.include_declaration,
        )
        return [_location(view, place) for place in places]

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    async def on_prepare_rename(
        params: types.PrepareRenameParams,
    ) -> types.PrepareRenamePlaceholder | None:
        view = await server.documents.current(params.text_document.uri)
        occurrence = _occurrence(view, params.position)
        if view is None or occurrence is None:
            return None
        if occurrence.symbol.kind not in (DEFINE, CRITERION):
            return None
        where = view.lines.range(occurrence.span)
        return types.PrepareRenamePlaceholder(range=where, placeholder=occurrence.text)

    @server.feature(types.TEXT_DOCUMENT_RENAME)
    async def on_rename(params: types.RenameParams) -> types.WorkspaceEdit | None:
        view = await server.documents.current(params.text_document.uri)
        occurrence = _occurrence(view, params.position)
        if view is None or occurrence is None or not view.analysis.parsed:
            return None
        workspace = navigation.Workspace(
            roots=server.workspace_roots(), open_texts=server.open_texts()
        )
        try:
            found = await server.documents.run(
                navigation.rename, view.analysis, occurrence, params.new_name, workspace
            )
        except navigation.RenameError as error:
            raise JsonRpcException(message=str(error), code=REQUEST_FAILED) from None
        return _workspace_edit(view, found, workspace.open_texts)


def _occurrence(view: View | None, position: types.Position) -> Occurrence | None:
    if view is None or not view.current:
        return None
    return navigation.symbol_at(view.analysis, view.lines.offset(position))


def _location(view: View, place: navigation.Place) -> types.Location:
    if place.path is None:
        return types.Location(uri=view.analysis.uri, range=view.lines.range(place.span))
    lines = LineIndex(place.source.text, view.lines.encoding)
    return types.Location(uri=place.path.resolve().as_uri(), range=lines.range(place.span))


def _workspace_edit(
    view: View, found: dict[Path | None, list[tuple[Span, str]]], open_texts: dict[Path, str]
) -> types.WorkspaceEdit:
    """The edits by file as LSP edits; a file's ranges are of its text in the editor when it is
    open there, else on disk."""
    changes: dict[str, list[types.TextEdit]] = {}
    for path, replacements in found.items():
        if path is None:
            uri, lines = view.analysis.uri, view.lines
        else:
            opened = open_texts.get(path.resolve())
            uri = path.resolve().as_uri()
            text = opened if opened is not None else _file_text(path)
            lines = LineIndex(text, view.lines.encoding)
        changes[uri] = [
            types.TextEdit(range=lines.range(span), new_text=new) for span, new in replacements
        ]
    return types.WorkspaceEdit(changes=changes)


def _file_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


# ---- formatting and code actions ---------------------------------------------------------------


def _register_editing(server: CritlangServer) -> None:
    """Formatting and code actions."""

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    async def on_format(params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        return await _format(server, params.text_document.uri, None)

    @server.feature(types.TEXT_DOCUMENT_RANGE_FORMATTING)
    async def on_format_range(
        params: types.DocumentRangeFormattingParams,
    ) -> list[types.TextEdit] | None:
        return await _format(server, params.text_document.uri, params.range)

    kinds = [types.CodeActionKind.QuickFix, edits.FIX_ALL]

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=kinds)
    )
    async def on_code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        view = await server.documents.current(params.text_document.uri, complete=True)
        if view is None:
            return None
        return _code_actions(server, view, params)


async def _format(
    server: CritlangServer, uri: str, wanted: types.Range | None
) -> list[types.TextEdit] | None:
    text, _ = server.document_text(uri)
    lines = LineIndex(text, server.encoding())
    name = str(to_fs_path(uri) or uri)
    try:
        found = await server.documents.run(edits.format_edits, text, name, lines)
    except CritlangError as error:
        logger.info("not formatted: %s", error)
        return None
    return found if wanted is None else edits.in_range(found, wanted)


def _code_actions(
    server: CritlangServer, view: View, params: types.CodeActionParams
) -> list[types.CodeAction]:
    only = [str(getattr(kind, "value", kind)) for kind in params.context.only or ()]
    analysis = view.analysis
    published = server.published.get(analysis.uri, {})
    actions: list[types.CodeAction] = []
    if not only or types.CodeActionKind.QuickFix.value in only:
        actions += edits.fix_actions(
            analysis.uri, analysis.diagnostics, params.range, view.lines, published
        )
    if not only or any(kind.startswith("source") for kind in only):
        everything = edits.fix_all_action(analysis.uri, view.text, analysis.diagnostics, view.lines)
        if everything is not None:
            actions.append(everything)
    return actions
