"""The LSP client the editor tests drive servers with: pytest-lsp's test client, also keeping
what an editor keeps (the document version each diagnostics notification was for, and the
capabilities the server registers, such as file watching)."""

from __future__ import annotations

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features


class EditorClient(LanguageClient):
    """The test client, also keeping what an editor keeps: the document version each
    diagnostics notification was for, and the server's file-watching registrations."""

    def __init__(self) -> None:
        super().__init__(converter_factory=default_converter)
        self.published_versions: dict[str, int | None] = {}
        self.publications: dict[str, int] = {}  # how many diagnostics notifications, per URI
        self.registrations: list[types.Registration] = []


def _published(client: EditorClient, params: types.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    client.published_versions[params.uri] = params.version
    client.publications[params.uri] = client.publications.get(params.uri, 0) + 1


def _registered(client: EditorClient, params: types.RegistrationParams) -> None:
    client.registrations.extend(params.registrations)


def editor_client() -> EditorClient:
    client = EditorClient()
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _published
    features[types.CLIENT_REGISTER_CAPABILITY] = _registered
    register_lsp_features(client, features)
    return client
