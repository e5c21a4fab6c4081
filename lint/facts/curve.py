"""The learning-rate curve and the event marks of a planned run, as transformers produces them.

transformers builds every scheduler as a `LambdaLR` whose lambda gets the number of optimizer
steps taken so far (0 for the first update) and returns a multiplier of the peak learning rate
(`optimization.py`, `get_scheduler`). The multipliers here are those lambdas, with the same
defaults for `lr_scheduler_kwargs`. Schedulers whose curve depends on the run itself (the eval
metric for `reduce_lr_on_plateau`) or on kwargs we do not model are drawn approximately and say
so. Event steps follow hf_trainer.md §3 (`DefaultFlowCallback`), so their counts agree with
`plan.Plan.evaluations` / `checkpoints`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from epochlint.plan import Plan, epochs_entered
from epochlint.records import record
from epochlint.training import TrainingConfig
from epochlint.versions import Version

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
