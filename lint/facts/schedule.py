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

from epochlint.records import asdict, record
from epochlint.versions import Version

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

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
    checkpoints: int | None  # saves made
    log_points: int | None
    dropped_rows: int | None = None  # training rows preprocessing drops (already left out)
    dataset_rows_range: tuple[int, int] | None = None  # (fewest, most) when not known exactly
    epochs_trained: float | None = None  # the Trainer's `state.epoch` at the end
    checkpoints_kept: int | None = None  # folders left under save_total_limit (None: unknown)

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

    train_rows = eval_rows = dropped = rows_range = None
    if rows.stored is not None:
        val_size = config.number("val_size") or 0.0
        train_rows, eval_rows = split_validation(rows.stored, val_size)
        if rows.eval_stored is not None and val_size <= 1e-6:
            eval_rows = rows.eval_stored
        if rows.dropped is not None:  # the plan counts the most rows training can see
            fewest, most = rows.dropped.train
            if fewest != most:
                rows_range = (train_rows - most, train_rows - fewest)
            dropped = fewest
            train_rows -= fewest
            eval_rows -= rows.dropped.evaluation[0]

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
    if length.batches is not None:  # a trainer that batches its own way (TRL)
        batches = length.batches
    counts = _event_counts(config)
    trained = None
    shape = run_shape(total, per_epoch, batches, accumulation)
    if shape is not None:
        found = event_series(config, shape, (eval_steps, save, length.logging), version)
        kept = found.kept.count() if found.kept is not None else None
        counts = (found.evaluations.count(), found.checkpoints.count(), found.logs.count(), kept)
        trained = epoch_value(*shape)
    elif total is not None:  # max_steps without N: only the epoch ends are unknown
        found = event_series(config, (total, 0, 0, 1), (eval_steps, save, length.logging), version)
        known = [
            None if config.text(f"{kind}_strategy") == "epoch" else series.count()
            for kind, series in (
                ("eval", found.evaluations),
                ("save", found.checkpoints),
                ("logging", found.logs),
            )
        ]
        kept = found.kept.count() if found.kept is not None and known[1] is not None else None
        counts = (*known, kept)

    return Plan(
        dataset_rows=train_rows,
        dataset_rows_source=rows.source,
        eval_rows=eval_rows,
        world_size=world_size,
        per_device_batch=per_device,
        gradient_accumulation=accumulation,
        effective_batch=length.effective_batch,
        batches_per_epoch=batches,
        steps_per_epoch=per_epoch,
        total_steps=total,
        epochs=length.epochs,
        max_steps_set=max_steps_set,
        warmup_steps=length.warmup,
        logging_steps=length.logging,
        eval_steps=eval_steps,
        save_steps=save,
        evaluations=counts[0],
        checkpoints=counts[1],
        log_points=counts[2],
        dropped_rows=dropped,
        dataset_rows_range=rows_range,
        epochs_trained=trained,
        checkpoints_kept=counts[3],
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
        exact = config.value("max_steps")  # an int above 2**53 would lose digits as a float
        total = exact if isinstance(exact, int) and not isinstance(exact, bool) else int(max_steps)
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


def _event_counts(config: TrainingConfig) -> tuple[int | None, ...]:
    """Evaluations, saves, log points and kept checkpoints when the run's length is unknown:
    0 for a strategy that is off, otherwise unknown."""

    def off(kind: str) -> int | None:
        return 0 if config.text(f"{kind}_strategy") == "no" else None

    evaluations = None if config.flag("eval_on_start") else off("eval")
    logs = None if config.flag("logging_first_step") else off("logging")
    return evaluations, off("save"), logs, off("save")


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


# Event lists in `plan --format json` stop after this many steps each and say how many they
# left out: a run of 10^20 steps is counted and drawn by arithmetic, never walked.
LISTED_EVENTS = 1000


@record(frozen=True)
class Series:
    """The optimizer steps at which one kind of event happens: the progression `first`,
    `first + every`, ... up to `last` (none when `every` is 0), plus a few single steps off it
    (an evaluation at step 0, a log at step 1, the end of training)."""

    first: int = 0
    every: int = 0
    last: int = -1
    single: tuple[int, ...] = ()  # sorted; below the progression's first step or above its last

    @classmethod
    def build(cls, first: int, every: int, last: int, single: tuple[int, ...] = ()) -> Series:
        if every <= 0 or first > last:
            first, every, last = 0, 0, -1
        else:
            last = first + (last - first) // every * every
        progression = cls(first, every, last)
        off = {step for step in single if not progression.has(step)}
        return cls(first, every, last, tuple(sorted(off)))

    def has(self, step: int) -> bool:
        if step in self.single:
            return True
        return (
            bool(self.every)
            and self.first <= step <= self.last
            and not ((step - self.first) % self.every)
        )

    def _on_progression(self) -> int:
        return (self.last - self.first) // self.every + 1 if self.every else 0

    def count(self) -> int:
        return self._on_progression() + len(self.single)

    def __bool__(self) -> bool:
        return self.count() > 0

    def listed(self, limit: int = LISTED_EVENTS) -> tuple[int, ...]:
        """The first `limit` steps, in order."""
        below = [step for step in self.single if not self.every or step < self.first]
        above = [step for step in self.single if step not in below]
        room = min(max(limit - len(below), 0), self._on_progression())
        progression = [self.first + index * self.every for index in range(room)]
        return tuple([*below, *progression, *above][:limit])

    def any_within(self, low: int, high: int) -> bool:
        """Whether a step falls in [low, high] (one column of a chart)."""
        if any(low <= step <= high for step in self.single):
            return True
        if not self.every or high < self.first or low > self.last:
            return False
        start = max(low, self.first)
        next_on = self.first + -(-(start - self.first) // self.every) * self.every
        return next_on <= min(high, self.last)

    def last_ones(self, count: int) -> Series:
        """The last `count` steps: the checkpoints `save_total_limit` keeps."""
        below = [step for step in self.single if not self.every or step < self.first]
        above = [step for step in self.single if step not in below]
        drop = max(self.count() - count, 0)
        cut = min(drop, len(below))
        below, drop = below[cut:], drop - cut
        on = self._on_progression()
        skip = min(drop, on)
        above = above[drop - skip :]
        if skip == on:
            return Series.build(0, 0, -1, (*below, *above))
        return Series.build(self.first + skip * self.every, self.every, self.last, (*below, *above))


@record(frozen=True)
class Events:
    """The optimizer steps (1-based, as `global_step`; 0 is an evaluation before training)
    after which each thing happens, as transformers' `DefaultFlowCallback` decides them."""

    epoch_ends: Series
    evaluations: Series
    checkpoints: Series  # saves made
    kept: Series | None  # checkpoint folders left at the end; None when the eval metric decides
    logs: Series


def epoch_value(step: int, per_epoch: int, batches: int, accumulation: int) -> float:
    """The Trainer's `state.epoch` after `step` optimizer steps: whole epochs plus the share of
    the current epoch's batches done (an epoch's last step may take fewer than
    `accumulation` batches)."""
    if step <= 0 or batches <= 0 or per_epoch <= 0:
        return 0.0
    whole = (step - 1) // per_epoch
    done = min((step - whole * per_epoch) * accumulation, batches)
    return whole + done / batches


def _every(
    strategy: str | None, every: int | None, total: int, ends: Series, final: bool
) -> Series:
    """A `steps` or `epoch` strategy's steps; `final` adds the end of training (the end save,
    and from transformers 5.4 the end evaluation)."""
    if strategy == "epoch":
        return ends
    if strategy != "steps" or not every:
        return Series()
    return Series.build(every, every, total, (total,) if final else ())


def _evaluations(
    config: TrainingConfig,
    every: int | None,
    shape: tuple[int, int, int, int],
    ends: Series,
    version: Version,
) -> Series:
    """Evaluations: `eval_delay` holds them back (in steps, or in epochs with the epoch
    strategy), `eval_on_start` adds one before the first step whatever the strategy."""
    total, per_epoch, batches, accumulation = shape
    strategy = config.text("eval_strategy")
    delay = config.number("eval_delay") or 0.0
    found = _every(strategy, every, total, ends, version >= Version(5, 4))
    if found and delay > 0:
        if strategy == "epoch":
            first = per_epoch * max(1, math.ceil(delay))
            end = epoch_value(total, per_epoch, batches, accumulation) >= delay
            found = Series.build(first, per_epoch, total, (total,) if end else ())
        else:
            first = found.every * max(1, math.ceil(delay / found.every))
            found = Series.build(first, found.every, total, found.single if total >= delay else ())
    if config.flag("eval_on_start"):
        found = Series.build(found.first, found.every, found.last, (0, *found.single))
    return found


def event_series(
    config: TrainingConfig,
    shape: tuple[int, int, int, int],
    intervals: tuple[int | None, int | None, int | None],
    version: Version,
) -> Events:
    """Where evaluations, saves, kept checkpoints and logs fall. `shape` is (total steps, steps
    per epoch, batches per epoch, accumulation); `intervals` the eval, save and logging steps."""
    total, per_epoch = shape[0], shape[1]
    eval_every, save_every, log_every = intervals
    # per_epoch 0: the epoch length is unknown, and so is everything that happens at epoch ends
    ends = Series.build(per_epoch, per_epoch, total, (total,))
    evaluations = _evaluations(config, eval_every, shape, ends, version)
    saves = _every(config.text("save_strategy"), save_every, total, ends, True)
    kept: Series | None = saves
    limit = config.number("save_total_limit")
    if limit is not None and limit > 0:
        # The best checkpoint is kept besides the last ones; which one it is, the metric says.
        tracks_best = config.flag("load_best_model_at_end") or config.text("metric_for_best_model")
        kept = None if tracks_best else saves.last_ones(int(limit))
    logs = _every(config.text("logging_strategy"), log_every, total, ends, False)
    if config.flag("logging_first_step"):
        logs = Series.build(logs.first, logs.every, logs.last, (1, *logs.single))
    return Events(ends, evaluations, saves, kept, logs)


def events(config: TrainingConfig, plan: Plan, version: Version) -> Events | None:
    """The plan's event timeline; None when the total steps or the epoch length are unknown."""
    shape = run_shape(
        plan.total_steps, plan.steps_per_epoch, plan.batches_per_epoch, plan.gradient_accumulation
    )
    if shape is None:
        return None
    intervals = (plan.eval_steps, plan.save_steps, plan.logging_steps)
    return event_series(config, shape, intervals, version)


def run_shape(
    total: int | None, per_epoch: int | None, batches: int | None, accumulation: int | None
) -> tuple[int, int, int, int] | None:
    """(total steps, steps per epoch, batches per epoch, accumulation), what the event timeline
    is worked out from; None when the run's length is unknown. A trainer that counts its own
    steps (Axolotl) gives no batch count: its epochs are taken as whole steps."""
    if total is None or not per_epoch:
        return None
    steps = accumulation or 1
    return total, per_epoch, batches or per_epoch * steps, steps
