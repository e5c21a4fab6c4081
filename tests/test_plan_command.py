"""`epochlint plan`: worked examples of the step arithmetic (README "How the numbers are
computed") in the human output and in JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from epochlint.cli import main

PINNED = ("--transformers-version", "5.8.0", "--isolated")


def write(tmp_path: Path, **keys: object) -> str:
    base: dict[str, object] = {
        "stage": "sft",
        "do_train": "true",
        "finetuning_type": "lora",
        "dataset": "my_data",
        "learning_rate": "1.0e-4",
        "logging_steps": 10,
    }
    base.update(keys)
    path = tmp_path / "train.yaml"
    path.write_text("".join(f"{key}: {value}\n" for key, value in base.items()))
    return str(path)


def plan(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["plan", *args, *PINNED], env=env)


# (case, config keys, rows, GPUs, effective batch, steps per epoch, total steps, epochs)
SEED_CASES = [
    (
        "step arithmetic",
        {"per_device_train_batch_size": 4, "gradient_accumulation_steps": 2, "num_train_epochs": 3},
        10_000,
        2,
        16,
        625,
        1875,
        3,
    ),
    (
        "mistake 3",
        {"per_device_train_batch_size": 1, "gradient_accumulation_steps": 1, "num_train_epochs": 2},
        10_000,
        1,
        1,
        10_000,
        20_000,
        2,
    ),
    (
        "chatbot success",
        {"per_device_train_batch_size": 4, "gradient_accumulation_steps": 2, "num_train_epochs": 4},
        3000,
        1,
        8,
        375,
        1500,
        4,
    ),
    (
        "summariser A",
        {"per_device_train_batch_size": 8, "num_train_epochs": 1},
        25_000,
        1,
        8,
        3125,
        3125,
        1,
    ),
    (
        "summariser C",
        {"per_device_train_batch_size": 8, "num_train_epochs": 8},
        25_000,
        1,
        8,
        3125,
        25_000,
        8,
    ),
    (
        "prototyping",
        {"max_steps": 200, "per_device_train_batch_size": 4},
        1000,
        1,
        4,
        250,
        200,
        0.8,
    ),
    (
        "epoch 2.5",
        {
            "num_train_epochs": 2.5,
            "per_device_train_batch_size": 8,
            "gradient_accumulation_steps": 1,
        },
        1000,
        1,
        8,
        125,
        313,
        2.5,
    ),
]


@pytest.mark.parametrize(
    ("case", "keys", "rows", "gpus", "effective", "per_epoch", "total", "epochs"),
    SEED_CASES,
    ids=[case[0] for case in SEED_CASES],
)
def test_seed_examples_show_the_rulebook_numbers(
    tmp_path: Path,
    case: str,
    keys: dict[str, object],
    rows: int,
    gpus: int,
    effective: int,
    per_epoch: int,
    total: int,
    epochs: float,
) -> None:
    path = write(tmp_path, **keys)
    options = (path, "--dataset-size", str(rows), "--num-gpus", str(gpus))
    shown = plan(*options)
    assert shown.exit_code == 0, shown.output
    lines = {line.split("  ")[1].strip(): line for line in shown.output.splitlines()[1:12] if line}
    assert f"effective batch  {effective} = " in lines["effective batch"]
    assert f"steps per epoch  {per_epoch:,} = " in lines["steps per epoch"]
    assert f"total steps      {total:,} = " in lines["total steps"]
    assert f"{rows:,} (--dataset-size)" in lines["rows"]
    assert f"GPUs             {gpus} " in lines["GPUs"]

    data = json.loads(plan(*options, "--format", "json").output)
    numbers = data["plan"]
    assert (numbers["effective_batch"], numbers["steps_per_epoch"]) == (effective, per_epoch)
    assert (numbers["total_steps"], numbers["world_size"]) == (total, gpus)
    assert numbers["epochs"] == pytest.approx(epochs)


def test_chart_marks_every_evaluation_and_checkpoint(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        num_train_epochs=3,
        val_size=0.1,
        eval_strategy="epoch",
        save_strategy="epoch",
        lr_scheduler_type="cosine",
        warmup_ratio=0.1,
    )
    shown = plan(path, "--dataset-size", "3000")
    assert "learning rate: cosine, warmup 102 steps" in shown.output
    eval_lane = next(line for line in shown.output.splitlines() if line.strip().startswith("eval "))
    assert eval_lane.count("E") == 3  # one per epoch
    assert "evaluations      3 (every epoch)" in shown.output

    data = json.loads(plan(path, "--dataset-size", "3000", "--format", "json").output)
    assert data["events"]["evaluations"] == [338, 676, 1014]
    assert data["scheduler"]["curve"][0] == [0, 0.0]
    assert max(value for _, value in data["scheduler"]["curve"]) == pytest.approx(1e-4, rel=0.01)


def test_constant_scheduler_says_it_ignores_warmup(tmp_path: Path) -> None:
    path = write(tmp_path, lr_scheduler_type="constant", warmup_ratio=0.1)
    shown = plan(path, "--dataset-size", "1000")
    assert "`constant` ignores warmup" in shown.output


def test_compare_gpus_shows_how_the_gpu_count_changes_the_run(tmp_path: Path) -> None:
    # mistake 3: 20,000 steps on one GPU is a step explosion; 8 GPUs make an effective batch of 8
    path = write(
        tmp_path, per_device_train_batch_size=1, gradient_accumulation_steps=1, num_train_epochs=2
    )
    shown = plan(path, "--dataset-size", "10000", "--compare-gpus")
    assert shown.exit_code == 0, shown.output
    rows = [line.split() for line in shown.output.splitlines()[3:]]
    assert [row[0] for row in rows] == ["1", "2", "4", "8"]
    assert [row[3] for row in rows] == ["20,000", "10,000", "5,000", "2,500"]
    assert "EL204" in rows[0][-2] + rows[0][-1] and "EL204" not in " ".join(rows[3])

    data = json.loads(
        plan(path, "--dataset-size", "10000", "--gpus", "1,3", "--format", "json").output
    )
    assert [row["total_steps"] for row in data["gpus"]] == [20_000, 6668]


def test_plot_without_matplotlib_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = write(tmp_path, num_train_epochs=3)
    shown = plan(path, "--dataset-size", "1000", "--plot", str(tmp_path / "plan.png"))
    assert shown.exit_code == 2
    assert "pip install 'epochlint[plot]'" in shown.output
    assert not (tmp_path / "plan.png").exists()


def test_plot_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = write(tmp_path, num_train_epochs=3, eval_strategy="epoch", val_size=0.1)
    image = tmp_path / "plan.png"
    shown = plan(path, "--dataset-size", "1000", "--plot", str(image))
    assert shown.exit_code == 0, shown.output
    assert image.read_bytes().startswith(b"\x89PNG")


def test_colour_only_when_asked_and_never_with_no_color(tmp_path: Path) -> None:
    path = write(tmp_path, num_train_epochs=3)
    assert "\x1b[" in plan(path, "--dataset-size", "1000", "--color", "always").output
    assert "\x1b[" not in plan(path, "--dataset-size", "1000", env={"NO_COLOR": "1"}).output


def test_unknown_rows_say_how_to_give_them(tmp_path: Path) -> None:
    path = write(tmp_path, num_train_epochs=3, dataset="missing_everywhere")
    shown = plan(path)
    assert shown.exit_code == 0
    assert "--dataset-size N" in shown.output and "total steps      unknown" in shown.output


def test_a_file_that_does_not_parse_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("num_train_epochs: [3\n")
    shown = plan(str(path))
    assert shown.exit_code == 2
    assert "cannot be read" in shown.output and "Traceback" not in shown.output
