"""`epochlint server` driven over stdio by a real LSP client (pytest-lsp), started with the
command the README's editor snippets give.

Each test works on a copy of the quick-start example (LoRA, 1,200 rows in data/, 10 epochs, a
misspelt early-stopping key) in a folder of its own, and compares every fix with what
`epochlint --fix` writes to another copy of the same file.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

try:
    import pygls  # noqa: F401
    import pytest_lsp
except ImportError as missing:
    reason = f"{missing.name} is not installed (pip install -e '.[test,lsp]')"
    if os.environ.get("CI") == "true":
        pytest.fail(f"the lsp extra is missing in CI: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)

from lsp_client import EditorClient, editor_client  # noqa: E402
from lsprotocol import types  # noqa: E402
from pygls.exceptions import JsonRpcException  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402
from readme_snippets import (  # noqa: E402
    helix_command,
    jetbrains_command,
    neovim_command,
    runnable,
    vscode_command,
)

pytestmark = pytest.mark.slow  # a server process for every test

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "examples"
SERVER = runnable(vscode_command())
TIMEOUT = 20  # seconds for one answer from the server; a check takes milliseconds


def test_the_readme_snippets_start_the_same_server() -> None:
    commands = [vscode_command(), neovim_command(), helix_command(), jetbrains_command()]
    assert all(command == ["epochlint", "server"] for command in commands), commands


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example in a repository of its own (so no configuration file above it applies)."""
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE, root)
    (root / ".git").mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return root


def initialize_params(root: Path) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)],
    )


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=editor_client),
)
async def client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(initialize_params(workspace))
    yield
    await lsp_client.shutdown_session()


# --------------------------------------------------------------------------------------------
# Helpers: what an editor does
# --------------------------------------------------------------------------------------------


class Editor:
    """One open document, kept in step with the server as an editor keeps it."""

    def __init__(self, client: LanguageClient, path: Path) -> None:
        self.client = client
        self.uri = path.as_uri()
        self.text = path.read_text(encoding="utf-8")
        self.version = 1

    async def open(self) -> list[types.Diagnostic]:
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(self.uri, "yaml", self.version, self.text)
            )
        )
        return await self.diagnostics()

    async def diagnostics(self) -> list[types.Diagnostic]:
        """The next diagnostics published for this document's current version."""
        while True:
            await asyncio.wait_for(
                self.client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS),
                TIMEOUT,
            )
            if self.uri in self.client.diagnostics and self.published_version == self.version:
                return list(self.client.diagnostics[self.uri])

    @property
    def published_version(self) -> int | None:
        assert isinstance(self.client, EditorClient)
        return self.client.published_versions.get(self.uri)

    def offset(self, position: types.Position) -> int:
        lines = self.text.splitlines(keepends=True)
        return sum(len(line) for line in lines[: position.line]) + position.character

    def apply(self, edit: types.TextEdit) -> None:
        """Apply an edit locally and send it as an incremental change."""
        start, end = self.offset(edit.range.start), self.offset(edit.range.end)
        self.text = self.text[:start] + edit.new_text + self.text[end:]
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=self.version, uri=self.uri),
                [types.TextDocumentContentChangePartial(range=edit.range, text=edit.new_text)],
            )
        )

    def set_line(self, line: int, new_text: str) -> None:
        old = self.text.splitlines()[line]
        span = types.Range(types.Position(line, 0), types.Position(line, len(old)))
        self.apply(types.TextEdit(span, new_text))

    async def replace_line(self, line: int, new_text: str) -> list[types.Diagnostic]:
        self.set_line(line, new_text)
        return await self.diagnostics()

    def line_of(self, start: str) -> int:
        return next(i for i, line in enumerate(self.text.splitlines()) if line.startswith(start))

    async def actions(self, line: int, only: list[str] | None = None) -> list[types.CodeAction]:
        span = types.Range(types.Position(line, 0), types.Position(line, 1))
        found = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                types.TextDocumentIdentifier(self.uri),
                span,
                types.CodeActionContext(diagnostics=[], only=only),
            )
        )
        return [action for action in found or [] if isinstance(action, types.CodeAction)]

    def applied(self, action: types.CodeAction) -> str:
        """The text after the action's edit (without sending it)."""
        assert action.edit is not None and action.edit.changes is not None
        (edit,) = action.edit.changes[self.uri]
        start, end = self.offset(edit.range.start), self.offset(edit.range.end)
        return self.text[:start] + edit.new_text + self.text[end:]

    async def hover(self, line: int) -> str | None:
        found = await self.client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(self.uri), types.Position(line, 2))
        )
        if found is None:
            return None
        assert isinstance(found.contents, types.MarkupContent)
        return found.contents.value


def fixed_by_cli(workspace: Path, *options: str) -> str:
    """What `epochlint --fix OPTIONS` writes to a copy of the example config."""
    copy = workspace / "copy_of_train_lora.yaml"
    shutil.copy(workspace / "train_lora.yaml", copy)
    epochlint = runnable(["epochlint"])[0]
    subprocess.run(
        [epochlint, "--fix", *options, copy.name], cwd=workspace, capture_output=True, check=False
    )
    text = copy.read_text(encoding="utf-8")
    copy.unlink()
    return text


def checked_by_cli(workspace: Path, text: str) -> list[tuple[str, int, int]]:
    """(rule, line, column) of what `epochlint check` reports on the text, LSP-counted."""
    copy = workspace / "copy_of_train_lora.yaml"
    copy.write_text(text, encoding="utf-8")
    epochlint = runnable(["epochlint"])[0]
    done = subprocess.run(
        [epochlint, "--format", "json", copy.name], cwd=workspace, capture_output=True, check=False
    )
    copy.unlink()
    (checked,) = json.loads(done.stdout)["files"]
    found = [(d["rule"], d["line"] - 1, d["column"] - 1) for d in checked["diagnostics"]]
    return sorted(found)


def located(diagnostics: list[types.Diagnostic]) -> list[tuple[str, int, int]]:
    return sorted((str(d.code), d.range.start.line, d.range.start.character) for d in diagnostics)


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_diagnostics_fixes_hover_and_edits_follow(
    client: LanguageClient, workspace: Path
) -> None:
    editor = Editor(client, workspace / "train_lora.yaml")
    diagnostics = await editor.open()
    assert codes(diagnostics) == ["EL101", "EL201", "EL406"]
    assert located(diagnostics) == checked_by_cli(workspace, editor.text)
    unknown = next(d for d in diagnostics if d.code == "EL101")
    line = editor.line_of("early_stopping_patience")
    assert unknown.range == types.Range(types.Position(line, 0), types.Position(line, 23))
    assert unknown.severity == types.DiagnosticSeverity.Error
    assert unknown.source == "epochlint"
    assert unknown.code_description is not None
    for diagnostic in diagnostics:  # each links to its rule's page in this repository
        assert diagnostic.code_description is not None
        link = diagnostic.code_description.href
        assert link.endswith(f"/docs/rules/{diagnostic.code}.md")
        assert (EXAMPLE.parents[1] / link.split("/blob/main/")[1]).is_file()
    epochs = next(d for d in diagnostics if d.code == "EL201")
    assert epochs.severity == types.DiagnosticSeverity.Warning
    assert "1,200 rows" in epochs.message

    # Each quick fix is the edit `--fix` makes for that rule alone.
    for diagnostic in diagnostics:
        actions = await editor.actions(diagnostic.range.start.line, only=["quickfix"])
        fixes = [a for a in actions if a.title.startswith(f"Fix {diagnostic.code} ")]
        assert len(fixes) == 1, [a.title for a in actions]
        safety = "safe" if diagnostic.code == "EL101" else "suggested"
        assert f"({safety})" in fixes[0].title
        assert editor.applied(fixes[0]) == fixed_by_cli(workspace, "--select", str(diagnostic.code))
    # Fix all safe problems is `--fix --only-safe`.
    (fix_all,) = await editor.actions(0, only=["source.fixAll.epochlint"])
    assert fix_all.kind == "source.fixAll.epochlint"
    assert editor.applied(fix_all) == fixed_by_cli(workspace, "--only-safe")

    # Hover on a schedule key: the plan and the guideline for 1,200 rows of LoRA.
    plan = await editor.hover(editor.line_of("num_train_epochs"))
    assert plan is not None
    assert "rows: 1,200 (dataset_info.json)" in plan
    assert "effective batch: 8 = 2 per device x 4 accumulation x 1 GPU" in plan
    assert "steps per epoch: 150" in plan
    assert "total steps: 1,500" in plan
    assert "checkpoints: 3 (every 500 steps)" in plan
    assert "guideline: 3-5 epochs (tolerated 2-6) (LoRA, medium dataset)" in plan
    assert "Total number of training epochs to perform." in plan
    # On another known key: its documentation alone.
    rank = await editor.hover(editor.line_of("lora_rank"))
    assert rank is not None and "Training plan" not in rank
    assert "type: integer; default: `8`" in rank

    # Apply the EL101 quick fix as the editor does: the finding goes, the others stay.
    (rename,) = [
        a for a in await editor.actions(line, only=["quickfix"]) if a.title.startswith("Fix")
    ]
    assert rename.edit is not None and rename.edit.changes is not None
    editor.apply(rename.edit.changes[editor.uri][0])
    after = await editor.diagnostics()
    assert "EL101" not in codes(after)
    assert located(after) == checked_by_cli(workspace, editor.text)

    # Fewer epochs: EL201 goes, and the plan follows the edit.
    epochs_line = editor.line_of("num_train_epochs")
    after = await editor.replace_line(epochs_line, "num_train_epochs: 4")
    assert "EL201" not in codes(after)
    assert located(after) == checked_by_cli(workspace, editor.text)
    plan = await editor.hover(epochs_line)
    assert plan is not None and "total steps: 600" in plan


@pytest.mark.asyncio
async def test_a_burst_of_edits_is_checked_once_at_its_end(
    client: LanguageClient, workspace: Path
) -> None:
    editor = Editor(client, workspace / "train_lora.yaml")
    await editor.open()
    assert isinstance(client, EditorClient)
    before = client.publications[editor.uri]
    line = editor.line_of("num_train_epochs")
    # Typed faster than a check takes: the value cleared, then 4, then 21 more changes.
    for typed in ["num_train_epochs: ", *["num_train_epochs: 4"] * 21]:
        editor.set_line(line, typed)
    after = await editor.diagnostics()
    assert located(after) == checked_by_cli(workspace, editor.text)
    assert client.publications[editor.uri] - before < 5  # 22 changes, a check or two


@pytest.mark.asyncio
async def test_half_typed_yaml_gets_el001_and_recovers(
    client: LanguageClient, workspace: Path
) -> None:
    editor = Editor(client, workspace / "train_lora.yaml")
    await editor.open()
    line = editor.line_of("lr_scheduler_type")
    broken = await editor.replace_line(line, "lr_scheduler_type: [cosine")
    assert codes(broken) == ["EL001"]
    (syntax,) = broken
    assert syntax.range.start.line >= line  # where the parser gave up, not the top of the file
    assert syntax.severity == types.DiagnosticSeverity.Error
    repaired = await editor.replace_line(line, "lr_scheduler_type: cosine")
    assert codes(repaired) == ["EL101", "EL201", "EL406"]


@pytest.mark.asyncio
async def test_hostile_configs_get_el001_and_the_server_keeps_serving(
    client: LanguageClient, workspace: Path
) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)
    )
    hostile = {
        "nested.yaml": "num_train_epochs: " + "[" * 10000 + "]" * 10000 + "\n",
        "bomb.yaml": "num_train_epochs: 3\n" + bomb,
        "binary.yaml": "num_train_epochs: 3\x00\n",
    }
    for name, text in hostile.items():
        (workspace / name).write_text(text, encoding="utf-8")
        found = await Editor(client, workspace / name).open()
        assert codes(found) == ["EL001"], name
    editor = Editor(client, workspace / "train_lora.yaml")
    assert codes(await editor.open()) == ["EL101", "EL201", "EL406"]


@pytest.mark.asyncio
async def test_a_file_that_is_not_a_training_config_gets_nothing(
    client: LanguageClient, workspace: Path
) -> None:
    launcher = workspace / "accelerate_config.yaml"
    launcher.write_text(
        "compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nnum_machines: 1\n"
        "machine_rank: 0\nnum_processes: 8\nmixed_precision: bf16\n",
        encoding="utf-8",
    )
    assert await Editor(client, launcher).open() == []
    compose = workspace / "compose.yaml"
    compose.write_text("services:\n  web:\n    image: [nginx\n", encoding="utf-8")
    assert await Editor(client, compose).open() == []  # broken, and no training config


@pytest.mark.asyncio
async def test_settings_and_data_changes_apply_without_reopening(
    client: LanguageClient, workspace: Path
) -> None:
    editor = Editor(client, workspace / "train_lora.yaml")
    assert "EL201" in codes(await editor.open())
    assert isinstance(client, EditorClient)
    registered = [r for r in client.registrations if r.method == "workspace/didChangeWatchedFiles"]
    assert registered, "the server asks the editor to watch data and configuration files"

    # A configuration file appears: the next check uses it.
    (workspace / ".epochlint.yaml").write_text("ignore: [EL201]\n", encoding="utf-8")
    changed = types.FileEvent(
        (workspace / ".epochlint.yaml").as_uri(), types.FileChangeType.Created
    )
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams([changed]))
    assert codes(await editor.diagnostics()) == ["EL101", "EL406"]
    # Edited, with no word from the editor: the next check sees it changed on disk.
    (workspace / ".epochlint.yaml").write_text("ignore: [EL201, EL406]\n", encoding="utf-8")
    line = editor.line_of("logging_steps")
    assert codes(await editor.replace_line(line, "logging_steps: 20")) == ["EL101"]

    # The data grows to 12,000 rows: N is counted again, and the guideline follows.
    data = workspace / "data" / "support_chat.json"
    rows = json.loads(data.read_text(encoding="utf-8"))
    data.write_text(json.dumps(rows * 10), encoding="utf-8")
    changed = types.FileEvent(data.as_uri(), types.FileChangeType.Changed)
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams([changed]))
    await editor.diagnostics()
    plan = await editor.hover(editor.line_of("num_train_epochs"))
    assert plan is not None
    assert "rows: 12,000 (dataset_info.json)" in plan
    assert "guideline: 2-3 epochs (tolerated 1-3) (LoRA, large dataset)" in plan


@pytest.mark.asyncio
async def test_completion_of_keys_and_values(client: LanguageClient, workspace: Path) -> None:
    editor = Editor(client, workspace / "train_lora.yaml")
    await editor.open()
    end = len(editor.text.splitlines())
    editor.apply(types.TextEdit(types.Range(types.Position(end, 0), types.Position(end, 0)), "val"))
    await editor.diagnostics()
    keys = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(editor.uri), types.Position(end, 3))
    )
    assert isinstance(keys, types.CompletionList)
    by_label = {item.label: item for item in keys.items}
    assert "val_size" in by_label and "num_train_epochs" not in by_label  # already set
    val_size = by_label["val_size"]
    assert val_size.text_edit is not None and val_size.text_edit.new_text == "val_size: "
    assert isinstance(val_size.documentation, types.MarkupContent)
    assert "default: `0.0`" in val_size.documentation.value

    line = editor.line_of("lr_scheduler_type")
    await editor.replace_line(line, "lr_scheduler_type: ")
    values = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(editor.uri), types.Position(line, 19))
    )
    assert isinstance(values, types.CompletionList)
    labels = [item.label for item in values.items]
    assert "cosine" in labels and "warmup_stable_decay" in labels


@pytest.mark.asyncio
async def test_suppress_on_this_line(client: LanguageClient, workspace: Path) -> None:
    editor = Editor(client, workspace / "train_lora.yaml")
    await editor.open()
    line = editor.line_of("num_train_epochs")
    actions = await editor.actions(line, only=["quickfix"])
    suppress = next(a for a in actions if a.title == "Suppress EL201 on this line")
    assert suppress.edit is not None and suppress.edit.changes is not None
    editor.apply(suppress.edit.changes[editor.uri][0])
    assert editor.text.splitlines()[line] == "# epochlint: disable=EL201"
    assert codes(await editor.diagnostics()) == ["EL101", "EL406"]
    # A second rule on the same line joins the same comment.
    actions = await editor.actions(line + 1, only=["quickfix"])
    suppress = next(a for a in actions if a.title == "Suppress EL406 on this line")
    assert suppress.edit is not None and suppress.edit.changes is not None
    editor.apply(suppress.edit.changes[editor.uri][0])
    assert editor.text.splitlines()[line] == "# epochlint: disable=EL201,EL406"
    assert codes(await editor.diagnostics()) == ["EL101"]


# A server whose hover fails inside epochlint (a stand-in for a bug), started as the README says.
FAILING_HOVER = (
    "import epochlint.editor.server as server\n"
    "def failing(*arguments, **keywords):\n"
    "    raise RuntimeError('hover failed on purpose')\n"
    "server.hover_markdown = failing\n"
    "server.serve()\n"
)


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-c", FAILING_HOVER], client_factory=editor_client
    ),
)
async def failing_client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(initialize_params(workspace))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_an_internal_error_is_answered_and_the_server_keeps_serving(
    failing_client: LanguageClient, workspace: Path
) -> None:
    editor = Editor(failing_client, workspace / "train_lora.yaml")
    await editor.open()
    with pytest.raises(JsonRpcException, match="hover failed on purpose"):
        await editor.hover(editor.line_of("num_train_epochs"))
    logged = [m.message for m in failing_client.log_messages]
    assert any("hover failed on purpose" in message for message in logged)
    # Still serving: edits are checked and other requests answered.
    after = await editor.replace_line(editor.line_of("num_train_epochs"), "num_train_epochs: 4")
    assert "EL201" not in codes(after)
    assert await editor.actions(0, only=["source.fixAll.epochlint"])


def test_without_the_extra_the_server_says_how_to_install_it() -> None:
    # pygls made unimportable, as in an installation without the lsp extra.
    program = (
        "import sys\n"
        "sys.modules['pygls'] = None\n"
        "sys.argv = ['epochlint', 'server']\n"
        "from epochlint.entry import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode == 2
    assert "pip install 'epochlint[lsp]'" in done.stderr
    assert "Traceback" not in done.stderr
