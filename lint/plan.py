"""The training schedule a config produces, computed exactly as transformers' Trainer does.

Formulas (reference/hf_trainer.md §1-§3, transformers >= 4.52 where the loop and the step
count agree):
  len_dataloader   = ceil(N / (per_device * world))        floor with dataloader_drop_last
  steps_per_epoch  = max(ceil(len_dataloader / accumulation), 1)
  total_steps      = max_steps if max_steps > 0 else ceil(num_train_epochs * steps_per_epoch)
  warmup (4.x)     = warmup_steps if warmup_steps > 0 else ceil(total * warmup_ratio)
  warmup (5.x)     = int(w) if w >= 1 else ceil(total * w), where warmup_ratio (if set) replaces w
  *_steps < 1      = ceil(total * value)                   TrainerState.compute_steps
"""

from __future__ import annotations

import math
from typing import Any

from epochlint.records import asdict, record
from epochlint.training import TrainingConfig
from epochlint.versions import Version


@record(frozen=True)
class Rows:
    """How many rows the data has, and where that number came from."""

    stored: int | None  # rows of the data as stored (after num_samples/max_samples/mixing)
    source: str | None  # "--dataset-size", "comment", "dataset_info.json", "configuration"
    per_dataset: tuple[tuple[str, int | None], ...] = ()
    note: str | None = None  # why the rows are unknown, when no dataset problem says it


@record(frozen=True)
class Plan:
    dataset_rows: int | None  # training rows per epoch, after the val_size split
    dataset_rows_source: str | None
    eval_rows: int | None
    world_size: int
    per_device_batch: int | None
    gradient_accumulation: int | None
    effective_batch: int | None
    batches_per_epoch: int | None
    steps_per_epoch: int | None
    total_steps: int | None
    epochs: float | None  # configured epochs, or what max_steps implies
    max_steps_set: bool
    warmup_steps: int | None
    logging_steps: int | None
    eval_steps: int | None
    save_steps: int | None
    evaluations: int | None
    checkpoints: int | None
    log_points: int | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def positive_int(value: float | None) -> int | None:
    if value is None or value < 1 or value != int(value):
        return None
    return int(value)


def split_validation(stored: int, val_size: float) -> tuple[int, int]:
    """(train rows, eval rows) after LLaMA-Factory's split: a fraction takes ceil(val_size * N)."""
    if val_size <= 1e-6:
        return stored, 0
    held_out = int(val_size) if val_size > 1 else math.ceil(val_size * stored)
    held_out = min(held_out, stored)
    return stored - held_out, held_out


def resolve_interval(value: float | None, total: int | None) -> int | None:
    """logging/eval/save steps: values below 1 are a fraction of the total steps."""
    if value is None or value <= 0:
        return None
    if value < 1:
        return math.ceil(total * value) if total is not None else None
    return int(value)


def warmup_steps(config: TrainingConfig, total: int | None, version: Version) -> int | None:
    steps = config.number("warmup_steps") or 0.0
    ratio = config.number("warmup_ratio")
    if version.major >= 5:
        if ratio is not None and config.has("warmup_ratio"):
            steps = ratio  # 5.x copies warmup_ratio over warmup_steps
        if steps >= 1:
            return int(steps)
        return _ceil(total * steps) if total is not None else None
    if steps > 0:
        return int(steps)
    if total is None:
        return None
    return _ceil(total * (ratio or 0.0))


def _ceil(value: float) -> int | None:
    """math.ceil, or None past the largest float (a ratio of 1e308: EL410 reports it)."""
    return math.ceil(value) if math.isfinite(value) else None


def build_plan(config: TrainingConfig, rows: Rows, world_size: int, version: Version) -> Plan:
    per_device = positive_int(config.number("per_device_train_batch_size"))
    accumulation = positive_int(config.number("gradient_accumulation_steps"))
    epochs = config.number("num_train_epochs")
    max_steps_value = config.number("max_steps")
    max_steps_set = max_steps_value is not None and max_steps_value > 0

    train_rows = eval_rows = None
    if rows.stored is not None:
        val_size = config.number("val_size") or 0.0
        train_rows, eval_rows = split_validation(rows.stored, val_size)

    effective = None
    if per_device is not None and accumulation is not None:
        effective = per_device * accumulation * world_size

    batches = steps_per_epoch = None
    if train_rows is not None and per_device is not None and accumulation is not None:
        per_step = per_device * world_size
        if config.flag("dataloader_drop_last"):
            batches = train_rows // per_step
        else:
            batches = math.ceil(train_rows / per_step)
        steps_per_epoch = max(math.ceil(batches / accumulation), 1)

    total: int | None = None
    if config.schedule == "axolotl":
        from epochlint.axolotl import axolotl_logging, axolotl_steps, axolotl_warmup

        effective, total = axolotl_steps(config, train_rows, world_size)
        if train_rows is not None and effective:
            steps_per_epoch = max(math.ceil(train_rows / effective), 1)
        capped = max_steps_set and total is not None and steps_per_epoch
        shown_epochs = total / steps_per_epoch if capped and total and steps_per_epoch else epochs
        warmup = axolotl_warmup(config, total)
        logging = axolotl_logging(config, total)
    else:
        if max_steps_set and max_steps_value is not None:
            total = int(max_steps_value)
            shown_epochs = total / steps_per_epoch if steps_per_epoch else None
        else:
            if epochs is not None and steps_per_epoch is not None:
                product = epochs * steps_per_epoch
                # Past a float's range transformers' own math.ceil raises OverflowError (EL410);
                # negative epochs train no step.
                total = max(math.ceil(product), 0) if math.isfinite(product) else None
            shown_epochs = epochs
        warmup = warmup_steps(config, total, version)
        logging = resolve_interval(config.number("logging_steps"), total)
    eval_steps = resolve_interval(config.number("eval_steps"), total)
    if config.text("eval_strategy") == "steps" and eval_steps is None:
        eval_steps = logging  # transformers falls back to logging_steps
    save = resolve_interval(config.number("save_steps"), total)

    return Plan(
        dataset_rows=train_rows,
        dataset_rows_source=rows.source,
        eval_rows=eval_rows,
        world_size=world_size,
        per_device_batch=per_device,
        gradient_accumulation=accumulation,
        effective_batch=effective,
        batches_per_epoch=batches,
        steps_per_epoch=steps_per_epoch,
        total_steps=total,
        epochs=shown_epochs,
        max_steps_set=max_steps_set,
        warmup_steps=warmup,
        logging_steps=logging,
        eval_steps=eval_steps,
        save_steps=save,
        evaluations=_count_events(config, "eval", total, eval_steps, steps_per_epoch, version),
        checkpoints=_count_events(config, "save", total, save, steps_per_epoch, version),
        log_points=(total // logging) if total is not None and logging else None,
    )


def epochs_entered(config: TrainingConfig, total: int, steps_per_epoch: int | None) -> int | None:
    if config.number("max_steps") is not None and (config.number("max_steps") or 0) > 0:
        return math.ceil(total / steps_per_epoch) if steps_per_epoch else None
    epochs = config.number("num_train_epochs")
    return math.ceil(epochs) if epochs is not None else None


def _count_events(
    config: TrainingConfig,
    kind: str,
    total: int | None,
    interval: int | None,
    steps_per_epoch: int | None,
    version: Version,
) -> int | None:
    """How many evaluations or checkpoint saves the run makes (hf_trainer.md §3)."""
    strategy = config.text(f"{kind}_strategy")
    if strategy in (None, "no") or total is None:
        return 0 if strategy == "no" else None
    if strategy == "epoch":
        return epochs_entered(config, total, steps_per_epoch)
    if strategy == "steps" and interval:
        count = total // interval
        if total % interval:
            if kind == "save":
                count += 1  # the final save at the end of training
            elif version >= Version(5, 4):
                count += 1  # 5.4+ evaluates once more at the end
        return count
    return None
