"""The training schedule a config produces: THE step arithmetic, warmup, the event timeline and
the learning-rate curve, computed as transformers' Trainer does. `check`, `plan`, `recommend`,
`diagnose` and `guard` all read these numbers from here.

Formulas (transformers >= 4.52, where the loop and the step count agree; README "How the
numbers are worked out"):
  len_dataloader   = ceil(N / (per_device * world))        floor with dataloader_drop_last
  steps_per_epoch  = max(ceil(len_dataloader / accumulation), 1)
  total_steps      = max_steps if max_steps > 0 else ceil(num_train_epochs * steps_per_epoch)
  warmup (4.x)     = warmup_steps if warmup_steps > 0 else ceil(total * warmup_ratio)
  warmup (5.x)     = int(w) if w >= 1 else ceil(total * w), where warmup_ratio (if set) replaces w
  *_steps < 1      = ceil(total * value)                   TrainerState.compute_steps

A dialect whose trainer counts steps itself (Axolotl's estimate) says so through
`TrainingConfig.own_schedule`.

The learning-rate curve: transformers builds every scheduler as a `LambdaLR` whose lambda gets
the number of optimizer steps taken so far (0 for the first update) and returns a multiplier of
the peak learning rate (`optimization.py`, `get_scheduler`). The multipliers here are those
lambdas, with the same defaults for `lr_scheduler_kwargs`. Schedulers whose curve depends on the
run itself (the eval metric for `reduce_lr_on_plateau`) or on kwargs we do not model are drawn
approximately and say so. Event steps follow `DefaultFlowCallback`, so their counts agree with
`Plan.evaluations` / `checkpoints`.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from epochlint.records import asdict, record
from epochlint.versions import Version

if TYPE_CHECKING:
    from epochlint.dialects.base import TrainingConfig
    from epochlint.facts.dataset import Rows


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


def optimizer_steps(batches: int, accumulation: int) -> int:
    """Optimizer steps in one epoch of `batches` dataloader batches, at least 1."""
    return max(math.ceil(batches / accumulation), 1)


def steps_per_epoch(train_rows: int, per_device: int, accumulation: int, world: int) -> int:
    """Optimizer steps in one epoch: ceil(ceil(N / (batch x GPUs)) / accumulation), at least 1."""
    return max(math.ceil(math.ceil(train_rows / (per_device * world)) / accumulation), 1)


def warmup_count(
    steps: float, ratio: float | None, total: int | None, version: Version
) -> int | None:
    """Warmup steps from `warmup_steps` and `warmup_ratio` (None when the config does not set
    it), as the given transformers version works them out."""
    if version.major >= 5:
        if ratio is not None:
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


def warmup_steps(config: TrainingConfig, total: int | None, version: Version) -> int | None:
    ratio = config.number("warmup_ratio") if config.has("warmup_ratio") else None
    if version.major < 5 and ratio is None:
        ratio = config.number("warmup_ratio")  # 4.x reads the default as well
    return warmup_count(config.number("warmup_steps") or 0.0, ratio, total, version)


@record(frozen=True)
class _Length:
    """How long the run is: optimizer steps, and the epochs they amount to."""

    effective_batch: int | None
    steps_per_epoch: int | None
    total: int | None
    epochs: float | None
    warmup: int | None
    logging: int | None
    batches: int | None = None  # dataloader batches per epoch


def build_plan(config: TrainingConfig, rows: Rows, world_size: int, version: Version) -> Plan:
    per_device = positive_int(config.number("per_device_train_batch_size"))
    accumulation = positive_int(config.number("gradient_accumulation_steps"))
    max_steps_value = config.number("max_steps")
    max_steps_set = max_steps_value is not None and max_steps_value > 0

    train_rows = eval_rows = None
    if rows.stored is not None:
        val_size = config.number("val_size") or 0.0
        train_rows, eval_rows = split_validation(rows.stored, val_size)

    batches = None
    if train_rows is not None and per_device is not None and accumulation is not None:
        per_step = per_device * world_size
        if config.flag("dataloader_drop_last"):
            batches = train_rows // per_step
        else:
            batches = math.ceil(train_rows / per_step)

    length = _length(config, train_rows, per_device, accumulation, batches, world_size, version)
    total = length.total
    eval_steps = resolve_interval(config.number("eval_steps"), total)
    if config.text("eval_strategy") == "steps" and eval_steps is None:
        eval_steps = length.logging  # transformers falls back to logging_steps
    save = resolve_interval(config.number("save_steps"), total)
    per_epoch = length.steps_per_epoch

    return Plan(
        dataset_rows=train_rows,
        dataset_rows_source=rows.source,
        eval_rows=eval_rows,
        world_size=world_size,
        per_device_batch=per_device,
        gradient_accumulation=accumulation,
        effective_batch=length.effective_batch,
        batches_per_epoch=length.batches if length.batches is not None else batches,
        steps_per_epoch=per_epoch,
        total_steps=total,
        epochs=length.epochs,
        max_steps_set=max_steps_set,
        warmup_steps=length.warmup,
        logging_steps=length.logging,
        eval_steps=eval_steps,
        save_steps=save,
        evaluations=_count_events(config, "eval", total, eval_steps, per_epoch, version),
        checkpoints=_count_events(config, "save", total, save, per_epoch, version),
        log_points=(total // length.logging) if total is not None and length.logging else None,
    )


def _length(
    config: TrainingConfig,
    train_rows: int | None,
    per_device: int | None,
    accumulation: int | None,
    batches: int | None,
    world_size: int,
    version: Version,
) -> _Length:
    epochs = config.number("num_train_epochs")
    max_steps = config.number("max_steps")
    effective = per_epoch = None
    own = config.own_schedule(train_rows, world_size)
    if own is not None and own.total_steps is None and own.batches_per_epoch is not None:
        # The trainer's own sampler (TRL's GRPO), counted in steps by Trainer as usual.
        batches, own = own.batches_per_epoch, None
    if per_device is not None and accumulation is not None:
        effective = per_device * accumulation * world_size
    if batches is not None and accumulation is not None:
        per_epoch = optimizer_steps(batches, accumulation)

    if own is not None:  # the trainer's own estimate, capped by max_steps
        total = own.total_steps
        if train_rows is not None and own.effective_batch:
            per_epoch = max(math.ceil(train_rows / own.effective_batch), 1)
        capped = max_steps is not None and max_steps > 0 and total and per_epoch
        shown = total / per_epoch if capped and total and per_epoch else epochs
        return _Length(
            own.effective_batch, per_epoch, total, shown, own.warmup_steps, own.logging_steps
        )
    total = None
    if max_steps is not None and max_steps > 0:
        total = int(max_steps)
        shown = total / per_epoch if per_epoch else None
    else:
        if epochs is not None and per_epoch is not None:
            product = epochs * per_epoch
            # Past a float's range transformers' own math.ceil raises OverflowError (EL410);
            # negative epochs train no step.
            total = max(math.ceil(product), 0) if math.isfinite(product) else None
        shown = epochs
    warmup = warmup_steps(config, total, version)
    logging = resolve_interval(config.number("logging_steps"), total)
    return _Length(effective, per_epoch, total, shown, warmup, logging, batches)


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
    """How many evaluations or checkpoint saves the run makes (DefaultFlowCallback: every
    interval, and a last save at the end)."""
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


# Schedulers whose curve this module reproduces exactly (given the kwargs it reads).
EXACT = frozenset(
    {
        "linear",
        "cosine",
        "constant",
        "constant_with_warmup",
        "cosine_with_restarts",
        "inverse_sqrt",
        "cosine_with_min_lr",
    }
)
# Schedulers that get_scheduler builds without passing num_warmup_steps.
IGNORES_WARMUP = frozenset({"constant", "reduce_lr_on_plateau"})


@record(frozen=True)
class Scheduler:
    """A scheduler as the config names it, with the kwargs the curve depends on."""

    name: str
    kwargs: dict[str, Any]

    @property
    def exact(self) -> bool:
        return self.name in EXACT

    @property
    def uses_warmup(self) -> bool:
        return self.name not in IGNORES_WARMUP

    def note(self) -> str | None:
        """What a reader of the curve must know: why it is approximate, or why warmup is
        missing."""
        if self.name == "constant":
            return "`constant` ignores warmup (use `constant_with_warmup` to warm up)"
        if self.name == "reduce_lr_on_plateau":
            return (
                "approximate: `reduce_lr_on_plateau` lowers the rate when the eval metric "
                "stops improving, which cannot be known in advance; drawn flat, with no warmup"
            )
        if self.name == "greedy":
            return "approximate: `greedy` reacts to the eval metric; drawn as cosine"
        if self.name == "warmup_stable_decay":
            return "approximate: drawn as warmup, a stable phase and a linear decay"
        if self.name == "polynomial":
            return "approximate: the polynomial decay is drawn down to 0 (its `lr_end` is left out)"
        if self.name == "cosine_warmup_with_min_lr":
            return "approximate: drawn as `cosine_with_min_lr`"
        if not self.exact:
            return f"approximate: `{self.name}` is drawn as cosine"
        return None

    def multiplier(self, step: int, warmup: int, total: int) -> float:
        """The factor of the peak learning rate after `step` optimizer steps."""
        warmup = warmup if self.uses_warmup else 0
        name = self.name
        if name in ("constant", "reduce_lr_on_plateau"):
            return 1.0
        if name == "inverse_sqrt":
            return _inverse_sqrt(step, warmup, self.kwargs)
        if step < warmup:
            return step / max(1, warmup)
        if name == "constant_with_warmup":
            return 1.0
        progress = (step - warmup) / max(1, total - warmup)
        if name == "linear":
            return max(0.0, (total - step) / max(1, total - warmup))
        if name == "polynomial":
            return _polynomial(step, warmup, total, self.kwargs)
        if name == "cosine_with_restarts":
            cycles = float(self.kwargs.get("num_cycles", 1))
            if progress >= 1.0:
                return 0.0
            return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((cycles * progress) % 1.0))))
        if name == "warmup_stable_decay":
            return _warmup_stable_decay(step, warmup, total, self.kwargs)
        cycles = float(self.kwargs.get("num_cycles", 0.5))
        factor = max(0.0, 0.5 * (1.0 + math.cos(math.pi * cycles * 2.0 * progress)))
        if name in ("cosine_with_min_lr", "cosine_warmup_with_min_lr"):
            floor = _min_lr_rate(self.kwargs)
            return factor * (1 - floor) + floor
        return factor


def _inverse_sqrt(step: int, warmup: int, kwargs: dict[str, Any]) -> float:
    timescale = kwargs.get("timescale") or (warmup or 10_000)
    if step < warmup:
        return step / max(1, warmup)
    shift = timescale - warmup
    return float(1.0 / math.sqrt((step + shift) / timescale))


def _polynomial(step: int, warmup: int, total: int, kwargs: dict[str, Any]) -> float:
    # The multiplier is relative to the peak, which the curve does not need: lr_end (default
    # 1e-7) is tiny against any fine-tuning rate, so the end of the decay is drawn at 0.
    power = float(kwargs.get("power", 1.0))
    if step > total:
        return 0.0
    remaining = 1 - (step - warmup) / max(1, total - warmup)
    return float(max(0.0, remaining) ** power)


def _min_lr_rate(kwargs: dict[str, Any]) -> float:
    rate = kwargs.get("min_lr_rate")
    return float(rate) if isinstance(rate, (int, float)) else 0.0


def _warmup_stable_decay(step: int, warmup: int, total: int, kwargs: dict[str, Any]) -> float:
    decay = int(kwargs.get("num_decay_steps") or max(1, (total - warmup) // 10))
    stable_end = total - decay
    if step < stable_end:
        return 1.0
    return max(0.0, (total - step) / max(1, decay))


def scheduler_of(config: TrainingConfig) -> Scheduler:
    """The config's scheduler; LLaMA-Factory accepts `lr_scheduler_kwargs` as a dict or as
    JSON text."""
    name = config.text("lr_scheduler_type") or "linear"
    kwargs = config.value("lr_scheduler_kwargs")
    if isinstance(kwargs, str):
        try:
            kwargs = json.loads(kwargs)
        except ValueError:
            kwargs = {}
    found = dict(kwargs) if isinstance(kwargs, dict) else {}
    peak = config.number("learning_rate")
    if "min_lr_rate" not in found and isinstance(found.get("min_lr"), (int, float)) and peak:
        found["min_lr_rate"] = found["min_lr"] / peak  # what transformers derives from min_lr
    return Scheduler(name, found)


def curve(
    scheduler: Scheduler, peak: float, warmup: int, total: int, points: int
) -> list[tuple[int, float]]:
    """(step, learning rate) at `points` evenly spread steps from 0 to `total`."""
    if total <= 0:
        return []
    count = max(2, min(points, total + 1))
    steps = sorted({round(index * total / (count - 1)) for index in range(count)})
    return [(step, peak * scheduler.multiplier(step, warmup, total)) for step in steps]


@record(frozen=True)
class Events:
    """The optimizer steps after which each thing happens (1-based, as `global_step`)."""

    epoch_ends: tuple[int, ...]
    evaluations: tuple[int, ...]
    checkpoints: tuple[int, ...]
    logs: tuple[int, ...]


def epoch_end_steps(total: int, steps_per_epoch: int, entered: int) -> tuple[int, ...]:
    """Every epoch that is entered ends (the last one possibly cut short at `total`)."""
    return tuple(sorted({min(epoch * steps_per_epoch, total) for epoch in range(1, entered + 1)}))


def interval_steps(
    strategy: str | None,
    interval: int | None,
    total: int,
    epoch_ends: tuple[int, ...],
    final: bool,
) -> tuple[int, ...]:
    """Steps at which a strategy fires; `final` adds the end of training when the interval
    does not land on it (the end save, and from transformers 5.4 the end evaluation)."""
    if strategy == "epoch":
        return epoch_ends
    if strategy != "steps" or not interval:
        return ()
    steps = list(range(interval, total + 1, interval))
    if final and total % interval:
        steps.append(total)
    return tuple(steps)


def events(config: TrainingConfig, plan: Plan, version: Version) -> Events | None:
    """Where evaluations, checkpoints and log points fall; None when the total is unknown."""
    total, per_epoch = plan.total_steps, plan.steps_per_epoch
    if total is None or not per_epoch:
        return None
    entered = epochs_entered(config, total, per_epoch) or 0
    ends = epoch_end_steps(total, per_epoch, entered)
    evaluations = interval_steps(
        config.text("eval_strategy"), plan.eval_steps, total, ends, final=version >= Version(5, 4)
    )
    checkpoints = interval_steps(
        config.text("save_strategy"), plan.save_steps, total, ends, final=True
    )
    logs = interval_steps(
        config.text("logging_strategy"), plan.logging_steps, total, ends, final=False
    )
    if config.flag("logging_first_step") and config.text("logging_strategy") != "no":
        logs = tuple(sorted({1, *logs}))
    return Events(ends, evaluations, checkpoints, logs)
