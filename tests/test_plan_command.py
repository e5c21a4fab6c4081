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


COMPARE_COLUMNS_SHOWN = [
    "GPUs",
    "batch",
    "steps/epoch",
    "steps",
    "epochs",
    "warmup",
    "evals",
    "saves",
    "logs",
    "warnings",
]


def test_compare_gpus_shows_how_the_gpu_count_changes_the_run(tmp_path: Path) -> None:
    # mistake 3: 20,000 steps on one GPU is a step explosion; 8 GPUs make an effective batch of 8
    path = write(
        tmp_path, per_device_train_batch_size=1, gradient_accumulation_steps=1, num_train_epochs=2
    )
    shown = plan(path, "--dataset-size", "10000", "--compare-gpus", env={"COLUMNS": "120"})
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[2].split() == COMPARE_COLUMNS_SHOWN
    rows = [line.split(maxsplit=9) for line in lines[3:7]]
    assert [row[0] for row in rows] == ["1", "2", "4", "8"]
    assert [row[3] for row in rows] == ["20,000", "10,000", "5,000", "2,500"]
    assert "EL204" in rows[0][-1] and "EL204" not in rows[3][-1]
    narrow = plan(path, "--dataset-size", "10000", "--compare-gpus", env={"COLUMNS": "80"})
    assert all(len(line) <= 80 for line in narrow.output.splitlines()[1:])  # [0]: the path

    data = json.loads(
        plan(path, "--dataset-size", "10000", "--gpus", "1,3", "--format", "json").output
    )
    assert [row["total_steps"] for row in data["gpus"]] == [20_000, 6668]


def test_warnings_that_do_not_fit_move_below_the_gpu_table() -> None:
    from epochlint.commands.plan import COMPARE_LEGEND, compare_table

    def row(gpus: int, findings: list[str]) -> dict[str, object]:
        numbers = dict.fromkeys(
            ("effective_batch", "steps_per_epoch", "total_steps", "epochs", "warmup_steps"), 1000
        )
        counts = dict.fromkeys(("evaluations", "checkpoints", "log_points"), 10)
        return {"world_size": gpus, **numbers, **counts, "findings": findings}

    many = ["EL201", "EL204", "EL406", "EL413"]
    lines = compare_table([row(1, many), row(8, many[:1])], width=80)
    assert lines[0].split() == COMPARE_COLUMNS_SHOWN[:-1]
    assert all(len(line) <= 80 for line in lines)
    assert lines[3] == COMPARE_LEGEND
    assert lines[4:] == [
        "warnings on 1 GPU: EL201, EL204, EL406, EL413",
        "warnings on 8 GPUs: EL201",
    ]
    same = compare_table([row(1, many), row(2, many)], width=80)
    assert same[-1] == "warnings on every GPU count: EL201, EL204, EL406, EL413"
    wide = compare_table([row(1, many)], width=120)
    assert wide[0].split() == COMPARE_COLUMNS_SHOWN and wide[1].endswith(
        "EL201, EL204, EL406, EL413"
    )


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


def test_the_gpu_line_names_where_the_count_came_from(tmp_path: Path) -> None:
    config = write(tmp_path, per_device_train_batch_size=2)
    Path(config).write_text(Path(config).read_text() + "# epochlint: num-gpus=4\n")
    human = plan(config, "--dataset-size", "1000")
    assert "  GPUs             4 (comment)\n" in human.output
    assert "effective batch  8 = 2 per device x 1 accumulation x 4 GPUs" in human.output
    given = json.loads(plan(config, "--dataset-size", "1000", "--format", "json").output)
    assert given["world_size_source"] == "comment" and given["plan"]["world_size"] == 4
    option = json.loads(
        plan(config, "--dataset-size", "1000", "--num-gpus", "2", "--format", "json").output
    )
    assert option["world_size_source"] == "--num-gpus" and option["plan"]["world_size"] == 2


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


def test_at_80_columns_every_plan_line_fits(tmp_path: Path) -> None:
    path = write(tmp_path, num_train_epochs=3)  # rows unknown: the longest explanation
    shown = plan(path, "--ascii", env={"COLUMNS": "80"})
    lines = shown.output.splitlines()
    assert lines[1:3] == [
        "  rows             unknown: it could not be found; give it with --dataset-size N",
        "                   or `# epochlint: dataset-size=N`",
    ]
    assert all(len(line) <= 80 for line in lines[1:]), shown.output
