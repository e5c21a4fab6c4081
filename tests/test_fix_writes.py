"""What `--fix` does to files, end to end (issue #19): a filter keeps its input, the report never
replaces a checked file, concurrent runs lose no update, and a file you may not write stays.

Each run is the installed console script in a subprocess, under a time and memory limit.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from epochlint.cli import main
from epochlint.commands import fix as fix_command

EPOCHLINT = str(Path(sys.executable).parent / "epochlint")
MEMORY_LIMIT = 1 << 30
SECONDS = 60

# Two findings whose safe fixes touch different keys: EL101 renames the misspelt key, EL414
# removes the warmup_steps that warmup_ratio overrides.
CONFIG = """\
# epochlint: dataset-size=3000
model_name_or_path: Qwen/Qwen3-4B-Instruct-2507
stage: sft
do_train: true
finetuning_type: lora
dataset: support_chats
template: qwen3_nothink
output_dir: saves/qwen3-4b/lora/sft
logging_steps: 10
per_device_train_batch_size: 2
gradient_accumulation_steps: 4
learning_rate: 1.0e-4
num_train_epoch: 3.0
warmup_ratio: 0.1
warmup_steps: 10
bf16: true
"""
BOTH_FIXED = CONFIG.replace("num_train_epoch:", "num_train_epochs:").replace(
    "warmup_steps: 10\n", ""
)


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(
    arguments: list[str], cwd: Path, stdin: bytes = b"", user: tuple[int, int] | None = None
) -> subprocess.CompletedProcess[bytes]:
    environment = {key: value for key, value in os.environ.items() if key != "GITHUB_ACTIONS"}
    environment["XDG_CACHE_HOME"] = str(cwd / ".cache")
    command = [EPOCHLINT, *arguments, "--transformers-version", "5.8.0"]
    if user is not None:
        command = [
            "setpriv",
            f"--reuid={user[0]}",
            f"--regid={user[1]}",
            "--clear-groups",
            *command,
        ]
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        timeout=SECONDS,
        preexec_fn=_limits,
        check=False,
    )


# --------------------------------------------------------------------------------------
# --fix - is a filter: its output is its input whenever it cannot fix
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"stage: sft\na: &a [1, *a]\n",  # a recursive alias (once a traceback, empty output)
        b"stage: sft\nnum_train_epoch: 3\x00\n",  # not text
        b"stage: sft\nnum_train_epoch: 3\nnum_train_epoch: 4\n",  # a duplicate key
    ],
)
def test_a_filter_that_cannot_fix_passes_its_input_on(data: bytes, tmp_path: Path) -> None:
    done = run(["--fix", "-"], tmp_path, stdin=data)
    assert done.stdout == data, done.stderr.decode(errors="replace")[-2000:]


def test_a_filter_passes_on_input_too_large_to_fix_in_bounded_memory(tmp_path: Path) -> None:
    """600 MB through `--fix -` within a 400 MB address space: passed on in chunks."""
    size = 600_000_000

    def small() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (400_000_000, 400_000_000))

    done = subprocess.run(
        ["bash", "-c", f"head -c {size} /dev/zero | {EPOCHLINT} --fix - | wc -c"],
        cwd=tmp_path,
        capture_output=True,
        timeout=SECONDS,
        preexec_fn=small,
        check=False,
    )
    assert done.stdout.strip() == str(size).encode(), done.stderr[-2000:]
    assert b"far larger than a training config" in done.stderr


def test_a_filter_passes_its_input_on_after_an_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("an internal error")

    monkeypatch.setattr(fix_command, "fix_source", crash)  # whatever breaks inside the fixer
    result = CliRunner().invoke(main, ["--fix", "-"], input=CONFIG.encode())
    assert result.stdout_bytes == CONFIG.encode()
    assert isinstance(result.exception, RuntimeError)


def test_a_filter_writes_the_fixed_text(tmp_path: Path) -> None:
    done = run(["--fix", "-"], tmp_path, stdin=CONFIG.encode())
    assert done.stdout == BOTH_FIXED.encode()


# --------------------------------------------------------------------------------------
# -o never names a checked file
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [[], ["--fix"], ["--diff"]], ids=["check", "fix", "diff"])
@pytest.mark.parametrize("link", ["same", "symlink", "hard link"])
def test_an_output_file_that_is_a_checked_file_is_refused(
    tmp_path: Path, mode: list[str], link: str
) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(CONFIG)
    output = config
    if link == "symlink":
        output = tmp_path / "report.txt"
        output.symlink_to(config)
    elif link == "hard link":
        output = tmp_path / "report.txt"
        os.link(config, output)
    done = run(["check", *mode, "-o", output.name, "train.yaml"], tmp_path)
    assert done.returncode == 2
    assert done.stderr.decode() == (
        f"epochlint: error: --output-file {output.name} is the checked file train.yaml; "
        "the report would replace it, so nothing was done\n"
    )
    assert config.read_text() == CONFIG and done.stdout == b""


def test_an_output_file_beside_the_checked_one_is_written(tmp_path: Path) -> None:
    (tmp_path / "train.yaml").write_text(CONFIG)
    done = run(["check", "--fix", "-o", "report.txt", "train.yaml"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "train.yaml").read_text() == BOTH_FIXED
    assert "Fixed 2 problems" in (tmp_path / "report.txt").read_text()


# --------------------------------------------------------------------------------------
# concurrent runs take turns
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_fixes_of_one_file_lose_no_update(tmp_path: Path) -> None:
    """Each round starts a run per fix at once; the file must end with both fixes."""
    environment = {key: value for key, value in os.environ.items() if key != "GITHUB_ACTIONS"}
    environment["XDG_CACHE_HOME"] = str(tmp_path / ".cache")
    path = tmp_path / "train.yaml"
    lost = []
    for round_number in range(40):  # 160 runs, 4 at a time on one file
        path.write_text(CONFIG)
        runs = [
            subprocess.Popen(
                [EPOCHLINT, "--fix", "--select", rule, "train.yaml"],
                cwd=tmp_path,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                preexec_fn=_limits,
            )
            for rule in ("EL101", "EL414", "EL101", "EL414")
        ]
        errors = [process.communicate(timeout=SECONDS)[1] for process in runs]
        statuses = [process.returncode for process in runs]
        if path.read_text() != BOTH_FIXED or set(statuses) != {0}:
            lost.append((round_number, statuses, errors))
    assert not lost, lost[:3]


@pytest.mark.slow
def test_fix_and_recommend_apply_at_once_never_both_claim_a_lost_change(tmp_path: Path) -> None:
    """recommend --apply and --fix both change `warmup_steps`: whichever writes second either
    works on what the first wrote or says the file changed; a success is always on disk."""
    environment = {key: value for key, value in os.environ.items() if key != "GITHUB_ACTIONS"}
    environment["XDG_CACHE_HOME"] = str(tmp_path / ".cache")
    path = tmp_path / "train.yaml"
    config = CONFIG.replace("num_train_epoch:", "num_train_epochs:")
    pinned = ["--transformers-version", "5.8.0"]
    problems = []
    for round_number in range(20):
        path.write_text(config)
        commands = [
            [EPOCHLINT, "--fix", "train.yaml", *pinned],
            [EPOCHLINT, "recommend", "--apply", "train.yaml", *pinned],
        ]
        runs = [
            subprocess.Popen(
                command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, preexec_fn=_limits,
            )
            for command in commands
        ]  # fmt: skip
        outputs = [process.communicate(timeout=SECONDS)[0].decode() for process in runs]
        fixed, recommended = (process.returncode for process in runs)
        text = path.read_text()
        if fixed == 0 and "warmup_steps" in text:
            problems.append((round_number, "--fix succeeded, its removal is lost", outputs))
        if recommended == 0 and "early_stopping_steps: 2" not in text:
            problems.append((round_number, "recommend succeeded, its keys are lost", outputs))
        if recommended != 0 and "the file changed while epochlint" not in outputs[1]:
            problems.append((round_number, "recommend failed for another reason", outputs))
    assert not problems, problems[:3]


# --------------------------------------------------------------------------------------
# a file you may not write is not written, even in a folder you may write
# --------------------------------------------------------------------------------------


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder anyone may write in, under /tmp (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="epochlint-fix-"))
    os.chmod(folder, 0o777)
    yield folder
    shutil.rmtree(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="running as another user needs root (setpriv)")
def test_fix_as_a_user_without_write_permission_changes_nothing(open_folder: Path) -> None:
    path = open_folder / "train.yaml"
    path.write_text(CONFIG)
    os.chmod(path, 0o644)  # root's file: others may read it, not write it
    done = run(["--fix", "train.yaml"], open_folder, user=(65534, 65534))
    assert done.returncode == 2
    assert (
        b"train.yaml: not fixed: you do not have permission to write the file; not fixed"
        in done.stderr
    )
    assert path.read_text() == CONFIG and path.stat().st_uid == 0
    assert sorted(p.name for p in open_folder.iterdir() if p.name != ".cache") == ["train.yaml"]
