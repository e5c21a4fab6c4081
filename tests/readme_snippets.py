"""The editor snippets of the README ("In your editor"), read the way a user copies them, so
that the tests start the servers exactly as the README tells people to."""

from __future__ import annotations

import json
import re
import shutil
import sys
import tomllib
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def block_after(marker: str, language: str) -> str:
    """The first ```language block after the line holding `marker`."""
    text = README.read_text(encoding="utf-8")
    start = text.index(marker)
    found = re.compile(rf"^```{language}\n(.*?)^```", re.MULTILINE | re.DOTALL).search(text, start)
    assert found is not None, f"no ```{language} block after {marker!r} in the README"
    return found.group(1)


def vscode_command() -> list[str]:
    settings = json.loads(block_after("**VS Code**", "json"))
    return [settings["glspc.server.command"], *settings["glspc.server.commandArguments"]]


def neovim_command() -> list[str]:
    lua = block_after("**Neovim**", "lua")
    found = re.search(r"cmd = \{(.*?)\}", lua)
    assert found is not None
    return re.findall(r'"([^"]*)"', found.group(1))


def helix_command() -> list[str]:
    server = tomllib.loads(block_after("**Helix**", "toml"))["language-server"]["epochlint"]
    return [server["command"], *server["args"]]


def jetbrains_command() -> list[str]:
    text = block_after("**JetBrains IDEs**", "text")
    found = re.search(r"^Server > Command:\s*(.+)$", text, re.MULTILINE)
    assert found is not None
    return found.group(1).split()


def runnable(command: list[str]) -> list[str]:
    """The command with its program found next to this Python (the virtual environment the
    tests run in), where an editor would find it on its PATH."""
    program = Path(sys.executable).parent / command[0]
    located = str(program) if program.exists() else shutil.which(command[0])
    assert located is not None, f"{command[0]} is not installed"
    return [located, *command[1:]]


def schema_modeline() -> str:
    return block_after("Point one file at it", "yaml").strip()


def vscode_yaml_schemas() -> dict[str, list[str]]:
    schemas: dict[str, list[str]] = json.loads(block_after("or every matching file", "json"))[
        "yaml.schemas"
    ]
    return schemas


def schema_export_command() -> list[str]:
    """`epochlint schema --dialect llamafactory` and the file the README writes it to."""
    line = block_after("epochlint schema --dialect llamafactory|axolotl|hf", "sh").strip()
    command, _, target = line.partition(" > ")
    return [*command.split(), target]
