"""The pygls wiring of `fluentai lsp`: the protocol's requests and notifications, each
answered from the analysis of the document's current text (computed at most once per text).

Diagnostics are published when a document opens and, debounced, after changes: a change
schedules them `diagnosticsDelay` milliseconds later, and a change before then schedules
them anew. Settings come from the `initializationOptions` of `initialize` and from
`workspace/didChangeConfiguration` (`settings.fluentai` or `settings`):
`diagnosticsDelay` (milliseconds, default 200) and `warnings` (default true; false keeps
only `check`'s errors).

Python's cycle collector would stop the server for a quarter of a second every few
keystrokes on a large file (a full collection walks every cached AST): start-up objects are
frozen out of it, automatic full collections are left to a very high threshold, and a full
collection runs instead once the editor has been quiet for `IDLE_GC_S` seconds.

No request may break the server: an unexpected Python error in a handler is logged to the
client (`window/logMessage`, type Error, with the traceback) and the request answered with
nothing.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from ... import __version__
from .analysis import Analysis, analyse_prefix
from .complete import completions
from .diagnostics import diagnostics
from .hover import hover
from .navigation import (
    RenameRefused,
    definition,
    outline,
    prepare_rename,
    reference_locations,
    rename,
)
from .protocol import Lines
from .symbols import Pos
from .tokens import MODIFIERS, TYPES, semantic_tokens
from .workspace import Workspace

DEFAULT_DELAY_MS = 200
IDLE_GC_S = 2.0
GC_EVERY = 500  # messages: without a quiet moment, collect anyway (memory stays bounded)
_REQUEST_FAILED = -32803  # LSP's RequestFailed: the client shows the message

F = TypeVar("F", bound=Callable[..., Any])


class FluentServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("fluentai", __version__,
                         text_document_sync_kind=t.TextDocumentSyncKind.Incremental)
        self.ws = Workspace()
        self.delay_ms = DEFAULT_DELAY_MS
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._last_good: dict[str, Analysis] = {}  # per URI: the latest analysis that parsed
        self._idle: asyncio.TimerHandle | None = None
        self._since_gc = 0

    @property
    def encoding(self) -> str:
        """The position encoding agreed with the client ("utf-16", "utf-8" or "utf-32")."""
        agreed = self.workspace.position_encoding or t.PositionEncodingKind.Utf16
        return str(getattr(agreed, "value", agreed))

    def configure(self, settings: Any) -> None:
        if not isinstance(settings, dict):
            return
        settings = settings.get("fluentai", settings)
        if not isinstance(settings, dict):
            return
        delay = settings.get("diagnosticsDelay")
        if isinstance(delay, int | float) and not isinstance(delay, bool) and 0 <= delay <= 10_000:
            self.delay_ms = int(delay)
        warnings = settings.get("warnings")
        if isinstance(warnings, bool) and warnings != self.ws.lints:
            self.ws.lints = warnings
            self.ws._analyses.clear()
            for uri in self.ws.buffers:
                self.publish(uri)

    # ---------------------------------------------------------------- documents
    def sync(self, uri: str) -> None:
        document = self.workspace.get_text_document(uri)
        self.ws.open(uri, document.source, document.version or 0)

    def analysis(self, uri: str) -> Analysis | None:
        found = self.ws.analysis(uri)
        if found is not None and found.program is not None:
            self._last_good[uri] = found
        return found

    def usable(self, uri: str, line: int) -> Analysis | None:
        """An analysis whose index serves positions up to `line`: the current one, or for a
        text that does not parse, the text before that line (or before the error), or the
        last one that parsed."""
        found = self.analysis(uri)
        if found is None or found.program is not None:
            return found
        error = found.errors[0].span if found.errors else None
        if error is not None and error.line < line:
            line = error.line
        index = analyse_prefix(found.name, found.text, line, self.ws.parser.parse)
        if index is None and uri in self._last_good:
            index = self._last_good[uri].index
        return found.with_index(index)

    def publish(self, uri: str) -> None:
        self._pending.pop(uri, None)
        buffer = self.ws.buffers.get(uri)
        found = self.analysis(uri)
        if buffer is None or found is None:
            return
        self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(
            uri=uri, version=buffer.version, diagnostics=diagnostics(self.ws, found,
                                                                     self.encoding)))

    def schedule(self, uri: str) -> None:
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        loop = asyncio.get_running_loop()
        self._pending[uri] = loop.call_later(self.delay_ms / 1000, self._publish_guarded, uri)

    def _publish_guarded(self, uri: str) -> None:
        try:
            self.publish(uri)
        except Exception:  # reported, never fatal (see the module doc)
            self.report("diagnostics", traceback.format_exc())

    def busy(self) -> None:
        """Something happened: collect garbage once things are quiet again (module doc)."""
        if self._idle is not None:
            self._idle.cancel()
        self._since_gc += 1
        if self._since_gc >= GC_EVERY:
            self.collect()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._idle = loop.call_later(IDLE_GC_S, self.collect)

    def collect(self) -> None:
        self._since_gc = 0
        gc.collect()

    def report_server_error(self, error: Exception, source: Any) -> None:
        if not _refusal(error):  # a refused rename is an answer, not a server error
            super().report_server_error(error, source)

    def report(self, what: str, details: str) -> None:
        self.window_log_message(t.LogMessageParams(
            t.MessageType.Error, f"fluentai lsp: internal error in {what}:\n{details}"))

    def position(self, uri: str, analysis: Analysis, position: t.Position) -> Pos:
        return Lines(analysis.text, self.encoding, analysis.bom).pos(position)


server = FluentServer()


def guarded(what: str, default: Any = None) -> Callable[[F], F]:
    """Answer `default` and log the traceback when a handler fails unexpectedly."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def run(ls: FluentServer, params: Any) -> Any:
            ls.busy()
            try:
                return fn(ls, params)
            except JsonRpcException:
                raise  # an answer meant for the client (a refused rename)
            except Exception:
                ls.report(what, traceback.format_exc())
                return default

        return run  # type: ignore[return-value]

    return wrap


@server.feature(t.INITIALIZE)
@guarded("initialize")
def initialize(ls: FluentServer, params: t.InitializeParams) -> None:
    ls.configure(params.initialization_options)


@server.feature(t.WORKSPACE_DID_CHANGE_CONFIGURATION)
@guarded("didChangeConfiguration")
def did_change_configuration(ls: FluentServer, params: t.DidChangeConfigurationParams) -> None:
    ls.configure(params.settings)


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
@guarded("didOpen")
def did_open(ls: FluentServer, params: t.DidOpenTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.sync(uri)
    ls.publish(uri)
    for other in ls.ws.dependents(uri):  # they read this module from the disk until now
        ls.schedule(other)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
@guarded("didChange")
def did_change(ls: FluentServer, params: t.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.sync(uri)
    ls.schedule(uri)
    for other in ls.ws.dependents(uri):  # files using this one as a module: check them again
        ls.schedule(other)


@server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
@guarded("didClose")
def did_close(ls: FluentServer, params: t.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    pending = ls._pending.pop(uri, None)
    if pending is not None:
        pending.cancel()
    ls.ws.close(uri)
    ls._last_good.pop(uri, None)
    ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=["."]))
@guarded("completion")
def completion(ls: FluentServer, params: t.CompletionParams) -> t.CompletionList | None:
    uri = params.text_document.uri
    found = ls.analysis(uri)
    if found is None:
        return None
    pos = ls.position(uri, found, params.position)
    index = found.index
    if index is None:
        index = analyse_prefix(found.name, found.text, pos[0], ls.ws.parser.parse)
    if index is None and uri in ls._last_good:
        index = ls._last_good[uri].index
    return completions(ls.ws, found, index, pos, ls.encoding)


@server.feature(t.TEXT_DOCUMENT_HOVER)
@guarded("hover")
def on_hover(ls: FluentServer, params: t.HoverParams) -> t.Hover | None:
    uri = params.text_document.uri
    found = ls.usable(uri, params.position.line + 1)
    if found is None:
        return None
    answer = hover(ls.ws, found, ls.position(uri, found, params.position))
    if answer is None:
        return None
    text, occ = answer
    lines = Lines(found.text, ls.encoding, found.bom)
    return t.Hover(t.MarkupContent(t.MarkupKind.Markdown, text), lines.range(occ.start, occ.end))


@server.feature(t.TEXT_DOCUMENT_DEFINITION)
@guarded("definition")
def on_definition(ls: FluentServer, params: t.DefinitionParams) -> t.Location | None:
    uri = params.text_document.uri
    found = ls.usable(uri, params.position.line + 1)
    if found is None:
        return None
    return definition(ls.ws, found, ls.position(uri, found, params.position), ls.encoding)


@server.feature(t.TEXT_DOCUMENT_REFERENCES)
@guarded("references", [])
def on_references(ls: FluentServer, params: t.ReferenceParams) -> list[t.Location]:
    uri = params.text_document.uri
    found = ls.usable(uri, params.position.line + 1)
    if found is None:
        return []
    return reference_locations(ls.ws, found, ls.position(uri, found, params.position),
                               params.context.include_declaration, ls.encoding)


@server.feature(t.TEXT_DOCUMENT_PREPARE_RENAME)
@guarded("prepareRename")
def on_prepare_rename(ls: FluentServer, params: t.PrepareRenameParams) -> t.Range | None:
    uri = params.text_document.uri
    found = ls.analysis(uri)
    if found is None:
        return None
    if found.program is None:
        raise JsonRpcException("the file has syntax errors: fix them before renaming",
                               _REQUEST_FAILED)
    try:
        return prepare_rename(ls.ws, found, ls.position(uri, found, params.position),
                              ls.encoding)
    except RenameRefused as e:
        raise JsonRpcException(str(e), _REQUEST_FAILED) from None


@server.feature(t.TEXT_DOCUMENT_RENAME, t.RenameOptions(prepare_provider=True))
@guarded("rename")
def on_rename(ls: FluentServer, params: t.RenameParams) -> t.WorkspaceEdit | None:
    uri = params.text_document.uri
    found = ls.analysis(uri)
    if found is None:
        return None
    if found.program is None:
        raise JsonRpcException("the file has syntax errors: fix them before renaming",
                               _REQUEST_FAILED)
    try:
        return rename(ls.ws, found, ls.position(uri, found, params.position),
                      params.new_name, ls.encoding)
    except RenameRefused as e:
        raise JsonRpcException(str(e), _REQUEST_FAILED) from None


@server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@guarded("documentSymbol", [])
def on_document_symbol(ls: FluentServer, params: t.DocumentSymbolParams
                       ) -> list[t.DocumentSymbol]:
    found = ls.usable(params.text_document.uri, 1 << 30)
    return outline(found, ls.encoding) if found is not None else []


@server.feature(t.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
                t.SemanticTokensLegend(token_types=TYPES, token_modifiers=MODIFIERS))
@guarded("semanticTokens")
def on_semantic_tokens(ls: FluentServer, params: t.SemanticTokensParams
                       ) -> t.SemanticTokens | None:
    found = ls.usable(params.text_document.uri, 1 << 30)
    if found is None:
        return None
    return t.SemanticTokens(data=semantic_tokens(ls.ws, found, found.index, ls.encoding))


def _refusal(error: BaseException | None) -> bool:
    return isinstance(error, JsonRpcException) and error.code == _REQUEST_FAILED


class _QuietRefusals(logging.Filter):
    """pygls logs every error answer with its traceback; a refused rename is not a fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _refusal(record.exc_info[1]))


def serve() -> None:
    """Talk LSP over stdin and stdout until the client says exit."""
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_QuietRefusals())
    gc.collect()
    gc.freeze()  # modules, grammar tables: they live as long as the process
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000)  # full collections when idle (module doc)
    server.start_io()
