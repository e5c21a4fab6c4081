"""`epochlint guard -- COMMAND`: a good config runs the command exactly as given (argv, output,
exit status); a bad one refuses with 1 before the command starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from epochlint.run.guard import GuardError, read_command, world_size

GOOD = """\
model_name_or_path: m
stage: sft
do_train: true
finetuning_type: lora
dataset: x
num_train_epochs: 4.0
learning_rate: 1.0e-4
logging_steps: 10
bf16: true
"""
# The launcher stand-in: prints its argv and exits 3, so pass-through is visible.
LAUNCHER = ["python", "-c", "import sys; print(sys.argv); sys.exit(3)"]


def guard(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    code = "from epochlint.cli import main; main()"
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": "", **(env or {})}
    environment["PATH"] = os.path.dirname(sys.executable) + os.pathsep + environment["PATH"]
    return subprocess.run(
        [sys.executable, "-c", code, "guard", *args],
        capture_output=True,
        text=True,
        env=environment,
    )


def test_good_config_runs_the_command_unchanged(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(GOOD)
    command = [*LAUNCHER, "train", str(config), "logging_steps=5", "learning_rate=2e-4"]
    result = guard("--dataset-size", "2000", "--", *command)
    assert result.returncode == 3
    assert result.stdout == str(["-c", *command[3:]]) + "\n"
    assert result.stderr == ""


def test_bad_config_refuses_without_running(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(GOOD.replace("finetuning_type: lora", "finetuning_type: qlora"))
    result = guard("--dataset-size", "2000", "--", *LAUNCHER, "train", str(config))
    assert result.returncode == 1
    assert result.stdout == ""  # the launcher never printed its argv
    assert "EL103" in result.stderr and "not running the command: 1 error" in result.stderr


def test_bad_override_refuses_and_points_at_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(GOOD)
    result = guard("--dataset-size", "2000", "--", *LAUNCHER, "train", str(config), "lora_r=8")
    assert result.returncode == 1 and result.stdout == ""
    assert "<command line>:1:1: EL101" in result.stderr


def test_strict_refuses_on_warnings(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(GOOD.replace("num_train_epochs: 4.0", "num_train_epochs: 20.0"))
    lenient = guard("--dataset-size", "2000", "--", *LAUNCHER, "train", str(config))
    strict = guard("--strict", "--dataset-size", "2000", "--", *LAUNCHER, "train", str(config))
    assert lenient.returncode == 3 and "EL201" in lenient.stderr
    assert strict.returncode == 1 and strict.stdout == "" and "(--strict)" in strict.stderr


def test_world_size_from_the_environment_changes_the_verdict(tmp_path: Path) -> None:
    """EL204 (step explosion) fires on one GPU and not on eight: the env is read."""
    config = tmp_path / "train.yaml"
    config.write_text(GOOD + "per_device_train_batch_size: 1\ngradient_accumulation_steps: 1\n")
    one = guard("--strict", "--dataset-size", "20000", "--", *LAUNCHER, "train", str(config))
    eight = guard(
        "--strict",
        "--dataset-size",
        "20000",
        "--",
        *LAUNCHER,
        "train",
        str(config),
        env={"CUDA_VISIBLE_DEVICES": "0,1,2,3,4,5,6,7"},
    )
    assert "EL204" in one.stderr and "world size 1" in one.stderr
    assert "EL204" not in eight.stderr


def test_missing_command_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(GOOD)
    result = guard("--dataset-size", "2000", "--", "no-such-launcher-xyz", "train", str(config))
    assert result.returncode == 127 and "cannot run no-such-launcher-xyz" in result.stderr


def test_command_without_config(tmp_path: Path) -> None:
    result = guard("--", "python", "-c", "pass")
    assert result.returncode == 2 and "no config in the command" in result.stderr


@pytest.mark.parametrize(
    ("argv", "config", "overrides", "axolotl"),
    [
        (["llamafactory-cli", "train", "a.yaml", "lr=1", "x=2"], "a.yaml", ("lr=1", "x=2"), False),
        (["lmf", "train", "cfg.json"], "cfg.json", (), False),
        (["axolotl", "train", "cfg.yml", "--debug"], "cfg.yml", (), True),
        (
            ["accelerate", "launch", "--num_processes", "4", "-m", "axolotl.cli.train", "c.yml"],
            "c.yml",
            (),
            True,
        ),
        (["./run.sh", "--flag", "conf/x.yaml", "a=1"], "conf/x.yaml", ("a=1",), False),
    ],
)
def test_read_command(
    argv: list[str], config: str, overrides: tuple[str, ...], axolotl: bool
) -> None:
    launch = read_command(argv)
    assert (launch.config, launch.overrides, launch.takes_overrides) == (
        config,
        overrides,
        not axolotl,
    )


@pytest.mark.parametrize(
    ("env", "argv", "size"),
    [
        ({"CUDA_VISIBLE_DEVICES": ""}, [], 1),
        ({"CUDA_VISIBLE_DEVICES": "0"}, [], 1),
        ({"CUDA_VISIBLE_DEVICES": "0,1"}, [], 2),
        ({"CUDA_VISIBLE_DEVICES": "0,1", "NPROC_PER_NODE": "1", "NNODES": "2"}, [], 2),
        ({"CUDA_VISIBLE_DEVICES": "0", "FORCE_TORCHRUN": "1", "NPROC_PER_NODE": "4"}, [], 4),
        ({"CUDA_VISIBLE_DEVICES": "0,1,2,3", "NNODES": "2"}, [], 8),
        ({"CUDA_VISIBLE_DEVICES": "0,-1,2"}, [], 1),  # torch stops at the first invalid id
        ({"CUDA_VISIBLE_DEVICES": "0,1"}, ["accelerate", "--num_processes=3"], 3),
    ],
)
def test_world_size(env: dict[str, str], argv: list[str], size: int) -> None:
    assert world_size(argv, env).size == size


def test_bad_environment_value() -> None:
    with pytest.raises(GuardError, match="NPROC_PER_NODE='two'"):
        world_size([], {"CUDA_VISIBLE_DEVICES": "0,1", "NPROC_PER_NODE": "two"})
