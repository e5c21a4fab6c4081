"""The schedule plan: transformers' step arithmetic, exactly (README "How the numbers are
computed")."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import LLAMAFACTORY, lint, settings

from epochlint.engine import check_path
from epochlint.facts.schedule import Plan
from epochlint.versions import Version


def plan_of(text: str, **overrides: object) -> Plan:
    result = lint(text, **overrides)
    assert result.plan is not None
    return result.plan


def config(**keys: object) -> str:
    base = {"do_train": "true", "dataset": "data", "bf16": "true"}
    base.update({key: str(value) for key, value in keys.items()})
    return "".join(f"{key}: {value}\n" for key, value in base.items())


def test_step_arithmetic_seed_example() -> None:
    # N 10,000; batch 4; accumulation 2; 2 GPUs; 3 epochs
    plan = plan_of(
        config(per_device_train_batch_size=4, gradient_accumulation_steps=2, num_train_epochs=3),
        dataset_size=10_000,
        world_size=2,
    )
    assert plan.effective_batch == 16
    assert plan.steps_per_epoch == 625
    assert plan.total_steps == 1875
    assert plan.epochs == 3


def test_fractional_epochs_round_the_total_up() -> None:
    # num_train_epochs 2.5, N 1,000, effective batch 8: 125 per epoch, ceil(312.5) = 313
    plan = plan_of(
        config(per_device_train_batch_size=8, gradient_accumulation_steps=1, num_train_epochs=2.5),
        dataset_size=1000,
    )
    assert (plan.steps_per_epoch, plan.total_steps) == (125, 313)


def test_max_steps_implies_epochs() -> None:
    # prototyping: max_steps 200, batch 4, N 1,000: 800 samples = 0.8 epoch
    plan = plan_of(config(max_steps=200, per_device_train_batch_size=4), dataset_size=1000)
    assert plan.total_steps == 200
    assert plan.steps_per_epoch == 250
    assert plan.epochs == pytest.approx(0.8)
    assert plan.max_steps_set


def test_last_partial_accumulation_still_steps() -> None:
    # 10 batches with accumulation 4: ceil(10 / 4) = 3 optimizer steps per epoch (>= 4.52)
    plan = plan_of(
        config(per_device_train_batch_size=1, gradient_accumulation_steps=4, num_train_epochs=1),
        dataset_size=10,
    )
    assert (plan.batches_per_epoch, plan.steps_per_epoch) == (10, 3)


def test_drop_last_floors_the_batches() -> None:
    text = config(per_device_train_batch_size=4, dataloader_drop_last="true", num_train_epochs=1)
    assert plan_of(text, dataset_size=10).batches_per_epoch == 2
    text = config(per_device_train_batch_size=4, num_train_epochs=1)
    assert plan_of(text, dataset_size=10).batches_per_epoch == 3


def test_at_least_one_step_per_epoch() -> None:
    text = config(per_device_train_batch_size=8, gradient_accumulation_steps=8, num_train_epochs=2)
    assert plan_of(text, dataset_size=3).steps_per_epoch == 1


def test_val_size_split_takes_the_ceiling() -> None:
    # 1,090 rows, val_size 0.1: ceil(109.0) = 109 held out; 0.15 -> ceil(163.5) = 164
    plan = plan_of(config(val_size=0.1, per_device_train_batch_size=1), dataset_size=1090)
    assert (plan.dataset_rows, plan.eval_rows) == (981, 109)
    plan = plan_of(config(val_size=0.15, per_device_train_batch_size=1), dataset_size=1090)
    assert (plan.dataset_rows, plan.eval_rows) == (926, 164)
    plan = plan_of(config(val_size=100, per_device_train_batch_size=1), dataset_size=1090)
    assert (plan.dataset_rows, plan.eval_rows) == (990, 100)  # above 1: a row count


@pytest.mark.parametrize(
    ("version", "keys", "expected"),
    [
        # 4.x: a positive warmup_steps beats warmup_ratio; else ceil(total * ratio)
        ("4.57.6", {"warmup_ratio": 0.1}, 42),
        ("4.57.6", {"warmup_ratio": 0.1, "warmup_steps": 10}, 10),
        # 5.x: warmup_ratio (if set) replaces warmup_steps; below 1 a fraction, else int()
        ("5.8.0", {"warmup_ratio": 0.1, "warmup_steps": 10}, 42),
        ("5.8.0", {"warmup_steps": 0.05}, 21),
        ("5.8.0", {"warmup_steps": 1.0}, 1),
        ("5.8.0", {"warmup_steps": 7.9}, 7),
    ],
)
def test_warmup_follows_the_transformers_version(
    version: str, keys: dict[str, float], expected: int
) -> None:
    text = config(per_device_train_batch_size=1, gradient_accumulation_steps=8, **keys)
    plan = plan_of(text, dataset_size=1090, transformers=Version.parse(version))
    assert plan.total_steps == 411
    assert plan.warmup_steps == expected


def test_fractional_intervals_are_a_share_of_the_total() -> None:
    text = config(
        per_device_train_batch_size=1,
        gradient_accumulation_steps=8,
        logging_steps=0.1,
        save_steps=0.25,
        eval_strategy="steps",
        eval_steps=0.2,
        val_size=10,
    )
    plan = plan_of(text, dataset_size=1100)  # 1,090 train rows: 137 per epoch, 411 total
    assert plan.total_steps == 411
    assert (plan.logging_steps, plan.save_steps, plan.eval_steps) == (42, 103, 83)
    assert plan.log_points == 9
    assert plan.checkpoints == 4  # steps 103, 206 and 309, then the final save at 411
    assert plan.evaluations == 5  # steps 83, 166, 249 and 332, then (5.4+) one at the end


def test_eval_steps_fall_back_to_logging_steps() -> None:
    text = config(
        eval_strategy="steps", logging_steps=50, val_size=0.1, per_device_train_batch_size=1
    )
    plan = plan_of(text, dataset_size=1000)
    assert plan.eval_steps == 50


def test_epoch_strategy_counts_epochs_entered() -> None:
    text = config(eval_strategy="epoch", save_strategy="epoch", num_train_epochs=2.5, val_size=0.1)
    plan = plan_of(text, dataset_size=1000)
    assert (plan.evaluations, plan.checkpoints) == (3, 3)


def test_qwen3_lora_sft_numbers(corpus: Path) -> None:
    # The reference's worked example: bs 1 x GA 8 on 1,090 rows.
    path = LLAMAFACTORY / "examples/train_lora/qwen3_lora_sft.yaml"
    plan = check_path(str(path), settings(dataset_size=1090)).plan
    assert plan is not None
    assert (plan.steps_per_epoch, plan.total_steps, plan.warmup_steps) == (137, 411, 42)
    assert plan.effective_batch == 8


def test_unknown_rows_leave_steps_unknown() -> None:
    plan = plan_of(config(per_device_train_batch_size=2, dataset_dir="ONLINE"))
    assert plan.dataset_rows is None
    assert plan.steps_per_epoch is None and plan.total_steps is None
    assert plan.effective_batch == 2 * 1 * 1
