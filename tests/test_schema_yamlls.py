"""The exported schema in the real yaml-language-server (the YAML support of VS Code and other
editors), set up as the README says: `epochlint schema` written to a file, then the modeline
or VS Code's `yaml.schemas` setting. A misspelt key is flagged; a valid config is not.

yaml-language-server comes from npm: `scripts/oracles/yaml-language-server.sh` installs it
under `.oracles/` (CI runs it). Without it these tests are skipped, except in CI, where a
missing oracle fails them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
YAMLLS = ROOT / ".oracles/yaml-language-server/node_modules/yaml-language-server/bin"
YAMLLS_PROGRAM = YAMLLS / "yaml-language-server"
NODE = shutil.which("node")
if not YAMLLS_PROGRAM.exists() or NODE is None:
    reason = (
        "yaml-language-server is not installed: run scripts/oracles/yaml-language-server.sh"
        if NODE is not None
        else "node is not installed"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"the yaml-language-server oracle is missing in CI: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)
pytest.importorskip("pytest_lsp", reason="pytest-lsp is not installed")

import pytest_lsp  # noqa: E402
from lsp_client import editor_client  # noqa: E402
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402
from readme_snippets import (  # noqa: E402
    runnable,
    schema_export_command,
    schema_modeline,
    vscode_yaml_schemas,
)

pytestmark = pytest.mark.slow  # a yaml-language-server process (node) for every test

TIMEOUT = 30
EXAMPLE = ROOT / "fixtures" / "examples" / "train_lora.yaml"
# The quick-start example with its one unknown key renamed: every key is LLaMA-Factory's.
VALID = EXAMPLE.read_text(encoding="utf-8").replace(
    "early_stopping_patience", "early_stopping_steps"
)
MISSPELT = VALID.replace("num_train_epochs:", "num_train_epoch:")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A project holding the schema, written by the README's command."""
    *command, target = schema_export_command()
    schema = subprocess.run(
        [*runnable(command[:1]), *command[1:]], capture_output=True, text=True, check=True
    ).stdout
    (tmp_path / target).write_text(schema, encoding="utf-8")
    return tmp_path


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[str(NODE), str(YAMLLS_PROGRAM), "--stdio"], client_factory=editor_client
    )
)
async def yamlls(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    # The README's VS Code settings, plus no download of the public schema catalogue.
    lsp_client.set_configuration(
        {"schemas": vscode_yaml_schemas(), "validate": True, "schemaStore": {"enable": False}},
        section="yaml",
    )
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(workspace.as_uri(), workspace.name)],
        )
    )
    lsp_client.workspace_did_change_configuration(types.DidChangeConfigurationParams(None))
    yield
    await lsp_client.shutdown_session()


async def validated(client: LanguageClient, path: Path) -> list[str]:
    """Open the file and return the messages yaml-language-server publishes for it."""
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(path.as_uri(), "yaml", 1, path.read_text(encoding="utf-8"))
        )
    )
    while path.as_uri() not in client.diagnostics:
        await asyncio.wait_for(
            client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), TIMEOUT
        )
    return [d.message for d in client.diagnostics[path.as_uri()]]


@pytest.mark.asyncio
async def test_the_modeline_points_a_config_at_the_schema(
    yamlls: LanguageClient, workspace: Path
) -> None:
    folder = workspace / "elsewhere"  # no yaml.schemas pattern matches this name
    folder.mkdir()
    shutil.copy(workspace / schema_export_command()[-1], folder)
    misspelt = folder / "misspelt.yaml"
    misspelt.write_text(f"{schema_modeline()}\n{MISSPELT}", encoding="utf-8")
    messages = await validated(yamlls, misspelt)
    assert any("num_train_epoch" in message for message in messages), messages
    valid = folder / "valid.yaml"
    valid.write_text(f"{schema_modeline()}\n{VALID}", encoding="utf-8")
    assert await validated(yamlls, valid) == []


@pytest.mark.asyncio
async def test_the_vscode_setting_points_matching_configs_at_the_schema(
    yamlls: LanguageClient, workspace: Path
) -> None:
    misspelt = workspace / "train_misspelt.yaml"
    misspelt.write_text(MISSPELT, encoding="utf-8")
    messages = await validated(yamlls, misspelt)
    assert any("num_train_epoch" in message for message in messages), messages
    bad_choice = workspace / "train_bad_choice.yaml"
    bad_choice.write_text(VALID.replace("cosine", "cosin"), encoding="utf-8")
    messages = await validated(yamlls, bad_choice)
    assert any("cosine" in message for message in messages), messages
    valid = workspace / "train_valid.yaml"
    valid.write_text(VALID, encoding="utf-8")
    assert await validated(yamlls, valid) == []
