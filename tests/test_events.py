"""When evaluations, saves and logs happen, as transformers' DefaultFlowCallback decides them
(lint/facts/schedule.py): worked out by arithmetic, so a run of any length is planned at once.
tests/test_crosscheck_llamafactory.py holds the same numbers against real training runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from conftest import lint
from hypothesis import given
from hypothesis import strategies as st

from epochlint.facts.schedule import Series, events
from epochlint.versions import Version

# 200 rows, batch 4, accumulation 2: 50 batches, 25 steps per epoch.
BASE = """\
model_name_or_path: Qwen/Qwen3-4B-Instruct-2507
stage: sft
do_train: true
finetuning_type: lora
dataset: support_chats
template: qwen3_nothink
output_dir: saves/run
per_device_train_batch_size: 4
gradient_accumulation_steps: 2
learning_rate: 1.0e-4
"""


TRANSFORMERS = Version(5, 8, 0)


def planned(**keys: object):  # type: ignore[no-untyped-def]
    version = TRANSFORMERS
    text = BASE + "".join(f"{key}: {json.dumps(value)}\n" for key, value in keys.items())
    result = lint(text, dataset_size=200, transformers=version)
    assert result.plan is not None and result.config is not None
    found = events(result.config, result.plan, version)
    assert found is not None
    return result.plan, found


def test_logging_strategy_epoch_logs_at_epoch_ends_only() -> None:
    plan, found = planned(num_train_epochs=3, logging_strategy="epoch", logging_steps=10)
    assert found.logs.listed() == (25, 50, 75) and plan.log_points == 3


def test_logging_strategy_no_logs_nothing_but_the_first_step_still_logs() -> None:
    plan, found = planned(num_train_epochs=2, logging_strategy="no")
    assert plan.log_points == 0 and not found.logs
    plan, found = planned(num_train_epochs=2, logging_strategy="no", logging_first_step=True)
    assert found.logs.listed() == (1,) and plan.log_points == 1


def test_logging_first_step_adds_step_one_once() -> None:
    plan, found = planned(num_train_epochs=2, logging_steps=10, logging_first_step=True)
    assert found.logs.listed() == (1, 10, 20, 30, 40, 50) and plan.log_points == 6
    plan, _ = planned(num_train_epochs=2, logging_steps=1, logging_first_step=True)
    assert plan.log_points == 50  # step 1 is a logging step anyway


def test_eval_on_start_evaluates_before_the_first_step() -> None:
    plan, found = planned(
        num_train_epochs=1, val_size=0.2, eval_strategy="steps", eval_steps=10, eval_on_start=True
    )
    # 160 training rows: 40 batches, 20 steps; evaluations at 0, 10 and 20
    assert found.evaluations.listed() == (0, 10, 20) and plan.evaluations == 3
    plan, found = planned(num_train_epochs=1, val_size=0.2, eval_on_start=True)
    assert found.evaluations.listed() == (0,)  # whatever eval_strategy says


def test_eval_delay_holds_back_step_and_epoch_evaluations() -> None:
    plan, found = planned(
        num_train_epochs=2, eval_strategy="steps", eval_steps=10, eval_delay=25, val_size=20
    )
    # 180 rows: 45 batches, 23 steps per epoch, 46 steps; 10 and 20 are before step 25, and
    # the end of training (46) evaluates too
    assert plan.total_steps == 46 and found.evaluations.listed() == (30, 40, 46)
    assert plan.evaluations == 3
    plan, found = planned(num_train_epochs=4, eval_strategy="epoch", eval_delay=2.5, val_size=20)
    assert found.evaluations.listed() == (69, 92) and plan.evaluations == 2


def test_end_evaluation_respects_eval_delay() -> None:
    _, found = planned(
        num_train_epochs=1, eval_strategy="steps", eval_steps=10, eval_delay=24, val_size=20
    )
    assert not found.evaluations  # 23 steps: the end is before the delay
    _, found = planned(
        num_train_epochs=1, eval_strategy="steps", eval_steps=10, eval_delay=23, val_size=20
    )
    assert found.evaluations.listed() == (23,)


def test_save_total_limit_keeps_the_last_checkpoints() -> None:
    plan, found = planned(num_train_epochs=3, save_steps=20, save_total_limit=2)
    # saves at 20, 40, 60 and the end (75); the last two stay
    assert found.checkpoints.listed() == (20, 40, 60, 75) and plan.checkpoints == 4
    assert found.kept is not None and found.kept.listed() == (60, 75)
    assert plan.checkpoints_kept == 2


def test_kept_checkpoints_are_unknown_when_the_best_one_is_kept_too() -> None:
    plan, found = planned(
        num_train_epochs=3,
        val_size=0.1,
        eval_strategy="steps",
        eval_steps=20,
        save_steps=20,
        save_total_limit=1,
        load_best_model_at_end=True,
    )
    assert found.kept is None and plan.checkpoints_kept is None and plan.checkpoints == 4


def test_epochs_trained_count_batches_as_the_trainer_does() -> None:
    # 50 batches, accumulation 2; 1.5 epochs = 38 steps = 25 + 13 steps = 26 of 50 batches
    plan, _ = planned(num_train_epochs=1.5)
    assert plan.total_steps == 38 and plan.epochs == 1.5
    assert plan.epochs_trained == 1 + 26 / 50
    plan, _ = planned(max_steps=30)
    assert plan.epochs_trained == 1 + 10 / 50


def test_a_run_of_any_length_is_planned_at_once(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(BASE + "max_steps: 99999999999999999999\nlogging_steps: 1\n")
    epochlint = Path(sys.executable).parent / "epochlint"
    started = time.monotonic()
    done = subprocess.run(
        [str(epochlint), "plan", str(config), "--format", "json", "--dataset-size", "200"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.monotonic() - started < 10
    shown = json.loads(done.stdout)
    assert shown["plan"]["total_steps"] == 99999999999999999999
    assert shown["plan"]["log_points"] == 99999999999999999999
    assert len(shown["events"]["logs"]) == 1000
    assert shown["events"]["left_out"]["logs"] == 99999999999999999999 - 1000
    text = subprocess.run(
        [str(epochlint), "plan", str(config), "--dataset-size", "200"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # The JSON keeps every digit; the text shows a number past 10^18 in short form.
    assert "total steps      9.99e+19 = max_steps" in text.stdout


def brute(first: int, every: int, last: int, single: tuple[int, ...]) -> list[int]:
    progression = set(range(first, last + 1, every)) if every > 0 and first <= last else set()
    return sorted(progression | set(single))


@given(
    first=st.integers(1, 12),
    every=st.integers(0, 6),
    last=st.integers(0, 60),
    below=st.sampled_from([(), (0,), (1,), (0, 1)]),
    end=st.integers(0, 4),
    keep=st.integers(0, 9),
    low=st.integers(0, 70),
    width=st.integers(0, 8),
)
def test_series_counts_lists_and_keeps_as_walking_the_steps_would(
    first: int,
    every: int,
    last: int,
    below: tuple[int, ...],
    end: int,
    keep: int,
    low: int,
    width: int,
) -> None:
    single = (*below, last + end)
    series = Series.build(first, every, last, single)
    steps = brute(first, every, last, single)
    assert series.count() == len(steps)
    assert list(series.listed(7)) == steps[:7]
    assert series.any_within(low, low + width) == any(low <= s <= low + width for s in steps)
    kept = steps[-keep:] if keep else []
    if all(s < first or s > last for s in below) or not every:
        assert list(series.last_ones(keep).listed(100)) == kept


def test_max_steps_without_rows_still_counts_step_events() -> None:
    text = BASE + "max_steps: 500\nlogging_steps: 10\neval_strategy: epoch\neval_delay: 2\n"
    result = lint(text + "val_size: 0.1\n")  # no dataset_info.json: N is unknown
    assert result.plan is not None and result.plan.total_steps == 500
    assert result.plan.log_points == 50 and result.plan.checkpoints == 1
    assert result.plan.evaluations is None  # epoch ends need N
