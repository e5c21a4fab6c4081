"""The README cannot drift: every example that shows a command's output (a code block whose
first line is `$ epochlint ...`) is run here, from the repository's root, and its output must be
the one shown, byte for byte.

The examples run as on a fresh machine: an 80-column terminal, no colour, no GitHub Actions,
and no transformers installed (so the version checked against is the documented default).
After changing an output on purpose, `python tests/test_readme.py --update` rewrites the
README's examples with what the program prints; review the diff before committing it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```[a-z]*\n(\$ epochlint .*?)^```\n", re.S | re.M)
# The console script, on a machine without transformers (the README's "default: 5.8.0").
CONSOLE = (
    "import sys, epochlint.versions as versions\n"
    "versions.installed_transformers = lambda: None\n"
    "from epochlint.entry import main\n"
    "sys.argv[0] = 'epochlint'\n"
    "main()\n"
)


def examples() -> list[tuple[str, str]]:
    """(command, output shown) for each example of the README."""
    found = []
    for block in BLOCK.findall(README.read_text(encoding="utf-8")):
        command, _, shown = block.partition("\n")
        found.append((command.removeprefix("$ "), shown))
    return found


def run(command: str) -> str:
    arguments = shlex.split(command)
    assert arguments[0] == "epochlint", command
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("GITHUB_ACTIONS", "FORCE_COLOR", "WORLD_SIZE", "CUDA_VISIBLE_DEVICES")
    }
    environment |= {"COLUMNS": "80", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE, *arguments[1:]],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        check=False,
    )
    return done.stdout


def test_the_readme_has_examples_with_their_output() -> None:
    commands = [command.split()[1] for command, _ in examples()]
    # the report formats, plan, recommend, guard and diagnose all show theirs
    assert {"--root", "plan", "recommend", "guard", "diagnose"} <= set(commands)


@pytest.mark.parametrize(("command", "shown"), examples(), ids=[c for c, _ in examples()])
def test_a_readme_example_prints_what_the_readme_shows(command: str, shown: str) -> None:
    assert run(command) == shown


def update() -> None:
    text = README.read_text(encoding="utf-8")

    def replaced(match: re.Match[str]) -> str:
        command = match.group(1).partition("\n")[0]
        return match.group(0).replace(match.group(1), f"{command}\n{run(command[2:])}")

    README.write_text(BLOCK.sub(replaced, text), encoding="utf-8")


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    update()


def test_ci_runs_the_quick_start_commands_as_the_readme_gives_them() -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme[readme.index("## Quick start") :]
    start = section.index("```sh\n") + len("```sh\n")
    commands = section[start : section.index("```", start)].splitlines()
    assert len(commands) == 2
    assert commands[0].split(" && ")[1] == ".venv/bin/pip install -e ."  # epochlint alone
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in commands:
        assert any(line.startswith(command) for line in ci), command
