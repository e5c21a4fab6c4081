"""`epochlint server`: the Language Server (pygls over standard input and output).

Diagnostics are published for every open config a short moment after its last change (edits
arriving faster than that are checked once, at the end), with the rule ID as the code and a
link to the rule's documentation. Code actions, hover and completion answer from the last
check. A request that fails inside epochlint is logged to the client and answered as an error;
the server keeps serving.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from epochlint import __version__
from epochlint.editor import engine_api
from epochlint.editor.actions import (
    FIX_ALL_KIND,
    Action,
    fix_action,
    fix_all_action,
    suppress_action,
)
from epochlint.editor.completion import candidates
from epochlint.editor.documents import OpenConfig, OpenConfigs
from epochlint.editor.engine_api import Diagnostic, FileResult, Severity
from epochlint.editor.hover import hover_markdown
from epochlint.editor.positions import Position, column_of, line_text, replacement, to_client

# Edits closer together than this are checked once, after the last (a check takes ~2 ms).
DEBOUNCE_SECONDS = 0.015
# Where each rule's documentation is (the text of `epochlint rule ID`): README, "In your editor".
RULE_DOCS = "https://github.com/epochlint/epochlint/blob/main/docs/rules/{code}.md"
SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
# Files whose change can change a finding: data files and dataset_info.json (N), and the
# configuration files (settings).
WATCHED = (
    "**/dataset_info.json",
    "**/*.{json,jsonl,csv,parquet,arrow,txt}",
    "**/.epochlint.{yaml,yml}",
    "**/pyproject.toml",
)

log = logging.getLogger("epochlint.server")
Handler = TypeVar("Handler", bound=Callable[..., Any])


class EpochlintProtocol(LanguageServerProtocol):
    def _check_handler_result(self, future: Future[Any]) -> None:
        """pygls 2.1 keeps the future of each notification its generator handlers take
        (didOpen, didChange, didSave, didClose) in `_request_futures` under a random id that
        nothing removes: 1.3 KB per edit. Forget it once the notification is handled."""
        super()._check_handler_result(future)
        for msg_id, pending in list(self._request_futures.items()):
            if pending is future:
                del self._request_futures[msg_id]
                break


class EpochlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("epochlint", __version__, protocol_cls=EpochlintProtocol)
        self.configs = OpenConfigs()
        self.pending: dict[str, asyncio.TimerHandle] = {}

    @property
    def encoding(self) -> str:
        return str(self.workspace.position_encoding or "utf-16")


server = EpochlintServer()


def answered(handler: Handler) -> Handler:
    """Log a failure inside a handler to the client, and answer the request with an error."""

    @functools.wraps(handler)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except Exception as error:
            report_failure(handler.__name__, error)
            raise JsonRpcInternalError(f"epochlint: {type(error).__name__}: {error}") from None

    return guarded  # type: ignore[return-value]


def report_failure(where: str, error: BaseException) -> None:
    details = "".join(traceback.format_exception(error))
    log.error("%s failed: %s", where, details)
    server.window_log_message(
        types.LogMessageParams(
            types.MessageType.Error,
            f"epochlint {where} failed (please report it): {details}",
        )
    )


# --------------------------------------------------------------------------------------------
# Checking and diagnostics
# --------------------------------------------------------------------------------------------


def _range(text: str, line: int, column: int, end_line: int, end_column: int) -> types.Range:
    start = to_client(text, line, column, server.encoding)
    end = to_client(text, end_line, end_column, server.encoding)
    return types.Range(
        types.Position(start.line, start.character), types.Position(end.line, end.character)
    )


def lsp_diagnostic(text: str, diagnostic: Diagnostic) -> types.Diagnostic:
    d = diagnostic
    return types.Diagnostic(
        range=_range(text, d.line, d.column, d.end_line, d.end_column),
        message=d.message,
        severity=SEVERITIES[d.severity],
        code=d.rule,
        code_description=types.CodeDescription(RULE_DOCS.format(code=d.rule)),
        source="epochlint",
        data={"name": d.name, "fix": d.fix.safety if d.fix else None},
    )


def reported(config: OpenConfig, result: FileResult | None) -> list[types.Diagnostic]:
    """What the editor shows for the config: nothing for a file that is not a training config."""
    if config.settings_error is not None:
        return [
            types.Diagnostic(
                range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                message=f"epochlint cannot use its configuration: {config.settings_error}",
                severity=types.DiagnosticSeverity.Error,
                source="epochlint",
            )
        ]
    if result is None or result.error is not None:
        return []
    training = result.config is not None
    if result.document is None:  # it does not parse: say so if it is a config being typed
        readable = config.readable
        training = (
            readable.config is not None
            if readable is not None
            else engine_api.written_like_training_config(config.text)
        )
    if not training:
        return []
    return [lsp_diagnostic(config.text, d) for d in result.diagnostics]


def check_and_publish(uri: str) -> None:
    waiting = server.pending.pop(uri, None)
    if waiting is not None:
        waiting.cancel()  # checked now: the debounced check would find nothing new
    config = server.configs.get(uri)
    if config is None:
        return
    try:
        result = server.configs.check(config)
        diagnostics = reported(config, result)
    except Exception as error:  # a bug in epochlint: say it, keep serving
        report_failure(f"checking {config.path}", error)
        return
    server.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=config.version)
    )


def schedule_check(uri: str) -> None:
    waiting = server.pending.pop(uri, None)
    if waiting is not None:
        waiting.cancel()
    loop = asyncio.get_running_loop()
    server.pending[uri] = loop.call_later(DEBOUNCE_SECONDS, check_and_publish, uri)


def _path(uri: str) -> Path | None:
    path = to_fs_path(uri)
    return Path(path) if path else None


@server.feature(types.INITIALIZE)
def initialize(params: types.InitializeParams) -> None:
    uris = [folder.uri for folder in params.workspace_folders or []]
    if not uris and params.root_uri:
        uris = [params.root_uri]
    folders = [to_fs_path(uri) for uri in uris]
    if not uris and params.root_path:
        folders = [params.root_path]
    server.configs = OpenConfigs(*(Path(folder) for folder in folders if folder))


@server.feature(types.INITIALIZED)
async def initialized(params: types.InitializedParams) -> None:
    watching = server.client_capabilities.workspace
    changes = watching.did_change_watched_files if watching else None
    if changes is None or not changes.dynamic_registration:
        return
    watchers = [types.FileSystemWatcher(glob_pattern=pattern) for pattern in WATCHED]
    options = types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers)
    registration = types.Registration(
        id="epochlint-watched-files",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=options,
    )
    try:
        await server.client_register_capability_async(types.RegistrationParams([registration]))
    except Exception as error:  # the client refused: checks still stat the files
        log.warning("file watching not registered: %s", error)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(params: types.DidOpenTextDocumentParams) -> None:
    document = params.text_document
    path = _path(document.uri)
    if path is None:
        return
    server.configs.open(document.uri, path, document.text, document.version)
    check_and_publish(document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(params: types.DidChangeTextDocumentParams) -> None:
    config = server.configs.get(params.text_document.uri)
    if config is None:
        return
    document = server.workspace.get_text_document(params.text_document.uri)
    config.text, config.version = document.source, params.text_document.version
    schedule_check(config.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(params: types.DidSaveTextDocumentParams) -> None:
    if server.configs.get(params.text_document.uri) is not None:
        schedule_check(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    waiting = server.pending.pop(uri, None)
    if waiting is not None:
        waiting.cancel()
    server.configs.close(uri)
    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(params: types.DidChangeWatchedFilesParams) -> None:
    """A data file, dataset_info.json or a configuration file changed: check again."""
    names = {os.path.basename(change.uri) for change in params.changes}
    if names & {".epochlint.yaml", ".epochlint.yml", "pyproject.toml"}:
        server.configs.forget_settings()
    for uri in list(server.configs.by_uri):
        schedule_check(uri)


# --------------------------------------------------------------------------------------------
# Code actions
# --------------------------------------------------------------------------------------------


def _workspace_edit(uri: str, before: str, after: str) -> types.WorkspaceEdit:
    change = replacement(before, after, server.encoding)
    edit = types.TextEdit(
        types.Range(
            types.Position(change.start.line, change.start.character),
            types.Position(change.end.line, change.end.character),
        ),
        change.text,
    )
    return types.WorkspaceEdit(changes={uri: [edit]})


def _code_action(config: OpenConfig, action: Action) -> types.CodeAction:
    diagnostics = (
        [lsp_diagnostic(config.text, action.diagnostic)] if action.diagnostic is not None else None
    )
    return types.CodeAction(
        title=action.title,
        kind=action.kind,
        diagnostics=diagnostics,
        is_preferred=action.preferred or None,
        edit=_workspace_edit(config.uri, config.text, action.text),
    )


def _current(uri: str) -> tuple[OpenConfig, FileResult] | None:
    """The open config and the check of its current text (checked now if an edit is pending)."""
    config = server.configs.get(uri)
    if config is None:
        return None
    if uri in server.pending or config.result is None or config.result.source is None:
        check_and_publish(uri)
    result = config.result
    if result is None or result.config is None or config.settings is None:
        return None
    if result.source is None or result.source.text != config.text:
        return None
    return config, result


def _wanted(only: list[str] | None, kind: str) -> bool:
    return only is None or any(kind == item or kind.startswith(item + ".") for item in only)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND]),
)
@answered
def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
    current = _current(params.text_document.uri)
    if current is None:
        return None
    config, result = current
    settings = config.settings
    assert settings is not None
    only = [str(kind) for kind in params.context.only] if params.context.only else None
    found: list[Action] = []
    if _wanted(only, "quickfix"):
        first, last = params.range.start.line + 1, params.range.end.line + 1
        for diagnostic in result.diagnostics:
            if diagnostic.end_line < first or diagnostic.line > last:
                continue
            for make in (fix_action, suppress_action):
                action = make(result, diagnostic, settings)
                if action is not None:
                    found.append(action)
    if _wanted(only, FIX_ALL_KIND):
        action = fix_all_action(result, settings)
        if action is not None:
            found.append(action)
    return [_code_action(config, action) for action in found]


# --------------------------------------------------------------------------------------------
# Hover and completion
# --------------------------------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_HOVER)
@answered
def hover(params: types.HoverParams) -> types.Hover | None:
    current = _current(params.text_document.uri)
    if current is None:
        return None
    config, result = current
    assert result.document is not None and config.settings is not None
    line = params.position.line + 1
    for key, entry in result.document.entries.items():
        span = entry.key_span
        if entry.merged or span.line != line:
            continue
        markdown = hover_markdown(result, config.settings, key)
        if markdown is None:
            return None
        return types.Hover(
            contents=types.MarkupContent(types.MarkupKind.Markdown, markdown),
            range=_range(config.text, span.line, span.column, span.end_line, span.end_column),
        )
    return None


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[" "]))
@answered
def completion(params: types.CompletionParams) -> types.CompletionList | None:
    config = server.configs.get(params.text_document.uri)
    if config is None:
        return None
    readable = config.readable
    if readable is None or readable.config is None or readable.document is None:
        return None
    position = params.position
    line = line_text(config.text, position.line)
    column = column_of(config.text, Position(position.line, position.character), server.encoding)
    present = set(readable.document.entries)
    items = []
    for candidate in candidates(readable.config.dialect, line[:column], present):
        start = to_client(
            config.text, position.line + 1, candidate.replace_from + 1, server.encoding
        )
        edit_range = types.Range(types.Position(start.line, start.character), position)
        documentation = (
            types.MarkupContent(types.MarkupKind.Markdown, candidate.documentation)
            if candidate.documentation
            else None
        )
        kind = (
            types.CompletionItemKind.Property
            if candidate.kind == "key"
            else types.CompletionItemKind.EnumMember
        )
        items.append(
            types.CompletionItem(
                label=candidate.label,
                kind=kind,
                detail=candidate.detail,
                documentation=documentation,
                text_edit=types.TextEdit(edit_range, candidate.insert),
            )
        )
    return types.CompletionList(is_incomplete=False, items=items)


def serve() -> None:
    # Standard output carries the protocol: anything else goes to standard error.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="epochlint: %(message)s")
    server.start_io()
