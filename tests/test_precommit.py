"""The pre-commit hooks as a user meets them: `pre-commit try-repo` against this checkout.

pre-commit builds the hook's environment by pip-installing this repository (from its HEAD,
plus uncommitted changes to tracked files), so this needs git, pre-commit and a package index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The venv's pre-commit when pytest runs from it without it on PATH; resolved, since the
# hooks run from another folder and a relative PATH entry would not find it there.
FOUND = shutil.which("pre-commit") or shutil.which(
    "pre-commit", path=str(Path(sys.executable).parent)
)
PRE_COMMIT = str(Path(FOUND).resolve()) if FOUND else None
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
    pytest.mark.skipif(
        PRE_COMMIT is None, reason="pre-commit is not installed (pip install pre-commit)"
    ),
]
TIMEOUT = 900  # the first run builds a virtualenv and installs epochlint into it

# `save_strategy: no` is read as the boolean false (EL005, a warning with a safe fix).
GOOD = """\
# epochlint: dataset-size=3000
model_name_or_path: Qwen/Qwen3-4B-Instruct-2507
stage: sft
do_train: true
finetuning_type: lora
lora_target: all
dataset: support_chats
template: qwen3_nothink
output_dir: saves/run
per_device_train_batch_size: 2
gradient_accumulation_steps: 4
learning_rate: 1.0e-4
num_train_epochs: 3.0
save_strategy: epoch
bf16: true
logging_steps: 10
"""
BAD = GOOD.replace("save_strategy: epoch", "save_strategy: no")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for command in (
        ["init", "-q"],
        ["config", "user.email", "t@example.com"],
        ["config", "user.name", "t"],
    ):
        subprocess.run(["git", *command], cwd=tmp_path, check=True)
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "llama3_lora_sft.yaml").write_text(BAD)
    (tmp_path / "configs" / "qwen_lora_sft.yaml").write_text(GOOD)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    return tmp_path


def try_repo(project: Path, home: Path, hook: str, *files: str) -> subprocess.CompletedProcess[str]:
    assert PRE_COMMIT is not None
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), NO_COLOR="1", GITHUB_ACTIONS="")
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(ROOT), hook, "--color", "never", "--files", *files],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_check_hook_fails_on_the_bad_config_and_passes_the_good_one(
    project: Path, pre_commit_home: Path
) -> None:
    bad = try_repo(project, pre_commit_home, "epochlint", "configs/llama3_lora_sft.yaml")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "epochlint" in bad.stdout and "Failed" in bad.stdout
    assert "configs/llama3_lora_sft.yaml:14:16: EL005 loader-divergent-scalar" in bad.stdout
    good = try_repo(project, pre_commit_home, "epochlint", "configs/qwen_lora_sft.yaml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout


def test_files_pattern_skips_yaml_that_is_not_a_training_config(
    project: Path, pre_commit_home: Path
) -> None:
    (project / "docker-compose.yaml").write_text("services: {web: {image: nginx}}\n")
    subprocess.run(["git", "add", "."], cwd=project, check=True)
    result = try_repo(project, pre_commit_home, "epochlint", "docker-compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no files to check" in result.stdout.lower()


def test_fix_hook_rewrites_the_bad_config_and_the_next_run_passes(
    project: Path, pre_commit_home: Path
) -> None:
    config = project / "configs" / "llama3_lora_sft.yaml"
    fixed = try_repo(project, pre_commit_home, "epochlint-fix", "configs/llama3_lora_sft.yaml")
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr  # pre-commit fails a hook that edits
    assert "files were modified by this hook" in fixed.stdout
    assert config.read_text() == BAD.replace("save_strategy: no", 'save_strategy: "no"')
    subprocess.run(["git", "add", "."], cwd=project, check=True)
    again = try_repo(project, pre_commit_home, "epochlint", "configs/llama3_lora_sft.yaml")
    assert again.returncode == 0, again.stdout + again.stderr
