"""What a run's loss curves say, worked out as the guide's monitoring section asks a person to.

Pure functions over a `RunLog` (and the config's schedule, when there is one): the best
evaluation, overfitting (eval loss rising after its minimum while train loss falls), undertraining
(both still falling at the end), divergence, a learning rate that does not follow the configured
schedule, and no evaluation at all. Early stopping is simulated exactly as transformers'
EarlyStoppingCallback counts (README "Learn from the logs"): an evaluation that does not beat the
best so far adds one, and training stops when the count reaches the patience.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from epochlint.facts.schedule import Scheduler, warmup_count
from epochlint.records import field, record
from epochlint.run.runlog import Point, RunLog
from epochlint.versions import Version

DEFAULT_PATIENCE = 3
# Below this relative change a loss is flat: logging noise, not a trend.
FLAT = 0.01
# A grad norm this many times the median of the ones before it is a spike.
SPIKE_FACTOR = 10.0
# A train loss below this is the model reciting its training data.
MEMORISED_LOSS = 0.05
# The logged learning rate may differ from the schedule by this much (float32, rounding).
LR_TOLERANCE = 0.02


@record(frozen=True)
class Best:
    step: int
    epoch: float | None
    eval_loss: float


@record(frozen=True)
class RunFinding:
    # overfitting, undertraining, divergence, grad-spike, memorising, lr-schedule or no-eval
    kind: str
    message: str
    step: int | None = None


@record(frozen=True)
class Schedule:
    """The config's learning-rate settings, as far as the config states them."""

    learning_rate: float = 5e-5  # TrainingArguments' default
    scheduler: str = "linear"
    warmup_steps: float = 0.0
    warmup_ratio: float = 0.0


@record(frozen=True)
class EarlyStop:
    patience: int
    step: int
    epoch: float | None


@record
class Diagnosis:
    best: Best | None
    findings: list[RunFinding] = field(default_factory=list)
    recommended_epochs: int | None = None
    recommendation: str | None = None  # why that many epochs
    early_stop: EarlyStop | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "best": None
            if self.best is None
            else {
                "step": self.best.step,
                "epoch": self.best.epoch,
                "eval_loss": self.best.eval_loss,
            },
            "findings": [
                {"kind": f.kind, "message": f.message, "step": f.step} for f in self.findings
            ],
            "recommended_epochs": self.recommended_epochs,
            "recommendation": self.recommendation,
            "early_stopping": None
            if self.early_stop is None
            else {
                "patience": self.early_stop.patience,
                "step": self.early_stop.step,
                "epoch": self.early_stop.epoch,
            },
        }


def number(value: float) -> str:
    """A loss or rate as a person reads it: 4 significant digits."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


def epochs_text(epoch: float | None) -> str:
    if epoch is None:
        return "?"
    return f"{epoch:g}" if epoch == round(epoch, 2) else f"{epoch:.2f}"


def best_eval(evals: list[Point]) -> tuple[int, Point] | None:
    """The evaluation with the lowest finite eval loss (the first of equals, as the callback)."""
    finite = [(i, p) for i, p in enumerate(evals) if _finite(p.eval_loss)]
    if not finite:
        return None
    return min(finite, key=lambda item: (item[1].eval_loss, item[0]))


def early_stop(evals: list[Point], patience: int) -> EarlyStop | None:
    """Where EarlyStoppingCallback (threshold 0) would have stopped this run, if it would."""
    best: float | None = None
    waited = 0
    for point in evals:
        loss = point.eval_loss
        assert loss is not None
        if best is None or (math.isfinite(loss) and loss < best):
            best, waited = loss, 0
        else:
            waited += 1
            if waited >= patience:
                return EarlyStop(patience, point.step, point.epoch)
    return None


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def train_loss_near(train: list[Point], step: int, window: int = 3) -> float | None:
    """The mean of the last few train losses logged at or before `step` (one is noisy)."""
    before = [p.loss for p in train if p.step <= step and _finite(p.loss)]
    if not before:
        return None
    recent = [loss for loss in before[-window:] if loss is not None]
    return sum(recent) / len(recent)


def _relative(before: float, after: float) -> float:
    return (after - before) / abs(before) if before else 0.0


def diagnose(
    run: RunLog,
    *,
    patience: int = DEFAULT_PATIENCE,
    schedule: Schedule | None = None,
    configured_epochs: float | None = None,
) -> Diagnosis:
    train, evals = run.train, run.evals
    found = best_eval(evals)
    best = None if found is None else Best(found[1].step, found[1].epoch, found[1].eval_loss or 0)
    diagnosis = Diagnosis(best)
    diagnosis.findings.extend(divergence(train, evals))
    if not evals:
        diagnosis.findings.append(no_eval(run))
    if found is not None:
        diagnosis.early_stop = early_stop(evals, patience)
        overfit = overfitting(train, evals, found[0], patience)
        if overfit is not None:
            diagnosis.findings.append(overfit)
    under = undertraining(train, evals)
    if under is not None:
        diagnosis.findings.append(under)
    if schedule is not None:
        mismatch = schedule_mismatch(train, schedule, run.max_steps or run.last_step)
        if mismatch is not None:
            diagnosis.findings.append(mismatch)
    _recommend(diagnosis, run, configured_epochs, patience)
    return diagnosis


def overfitting(
    train: list[Point], evals: list[Point], best_index: int, patience: int
) -> RunFinding | None:
    """Eval loss no better for `patience` evaluations after its minimum, above it by more than
    noise, while train loss kept falling (when the log has train loss at all)."""
    best, after = evals[best_index], evals[best_index + 1 :]
    if len(after) < patience or best.eval_loss is None:
        return None
    last = after[-1]
    if last.eval_loss is None or _relative(best.eval_loss, last.eval_loss) <= FLAT:
        return None
    message = (
        f"eval loss did not improve for {len(after)} evaluations after its minimum at step "
        f"{best.step} "
        f"(epoch {epochs_text(best.epoch)}): {number(best.eval_loss)} -> "
        f"{number(last.eval_loss)} (+{_relative(best.eval_loss, last.eval_loss):.1%})"
    )
    train_at_best = train_loss_near(train, best.step)
    train_at_end = train_loss_near(train, last.step)
    if train_at_best is not None and train_at_end is not None:
        if _relative(train_at_best, train_at_end) > -FLAT:
            return None  # both got worse: that is not the model memorising its training data
        message += (
            f" while train loss kept falling ({number(train_at_best)} -> {number(train_at_end)}); "
            f"the gap between them widened from {number(best.eval_loss - train_at_best)} "
            f"to {number(last.eval_loss - train_at_end)}"
        )
    return RunFinding("overfitting", message, after[0].step)


def _falling(values: list[float]) -> tuple[float, float] | None:
    """(earlier, later) means of the last two quarters of a series, when the later is lower
    by more than noise."""
    if len(values) < 4:
        return None
    quarter = max(len(values) // 4, 1)
    earlier = values[-2 * quarter : -quarter]
    later = values[-quarter:]
    before, now = sum(earlier) / len(earlier), sum(later) / len(later)
    if _relative(before, now) < -FLAT:
        return before, now
    return None


def undertraining(train: list[Point], evals: list[Point]) -> RunFinding | None:
    """Train loss still falling at the end, and eval loss too (its last evaluation the best)."""
    train_losses = [p.loss for p in train if _finite(p.loss) and p.loss is not None]
    train_trend = _falling(train_losses)
    if train_trend is None:
        return None
    end = train[-1].step if train else None
    finite_evals = [p for p in evals if _finite(p.eval_loss)]
    if finite_evals:
        losses = [p.eval_loss for p in finite_evals if p.eval_loss is not None]
        if len(losses) < 2 or losses[-1] > min(losses):
            return None
        before = losses[-2]
        if _relative(before, losses[-1]) >= -FLAT / 2:
            return None  # eval loss has flattened: more epochs would buy little
        return RunFinding(
            "undertraining",
            f"train and eval loss were both still falling at the end: train "
            f"{number(train_trend[0])} -> {number(train_trend[1])} over the last quarter of the "
            f"log, eval {number(before)} -> {number(losses[-1])} at the last evaluation "
            f"(step {finite_evals[-1].step}), which is the best so far",
            end,
        )
    return RunFinding(
        "undertraining",
        f"train loss was still falling at the end: {number(train_trend[0])} -> "
        f"{number(train_trend[1])} over the last quarter of the log (no evaluation to say "
        "whether the model still generalises)",
        end,
    )


def divergence(train: list[Point], evals: list[Point]) -> list[RunFinding]:
    found: list[RunFinding] = []
    for label, series in (("train loss", train), ("eval loss", evals)):
        for point in series:
            value = point.loss if label == "train loss" else point.eval_loss
            if value is not None and not math.isfinite(value):
                found.append(
                    RunFinding(
                        "divergence",
                        f"{label} is {value} at step {point.step}: training diverged; lower the "
                        "learning rate, check the data for empty or broken rows, and prefer bf16 "
                        "to fp16",
                        point.step,
                    )
                )
                break
    nonfinite_grad = next(
        (p for p in train if p.grad_norm is not None and not math.isfinite(p.grad_norm)), None
    )
    if nonfinite_grad is not None:
        found.append(
            RunFinding(
                "divergence",
                f"grad norm is {nonfinite_grad.grad_norm} at step {nonfinite_grad.step}",
                nonfinite_grad.step,
            )
        )
    spikes = grad_spikes(train)
    if spikes:
        first, median = spikes[0]
        assert first.grad_norm is not None
        more = f" ({len(spikes)} spikes in all)" if len(spikes) > 1 else ""
        found.append(
            RunFinding(
                "grad-spike",
                f"grad norm jumped to {number(first.grad_norm)} at step {first.step}, "
                f"{first.grad_norm / median:.0f}x the median {number(median)} before it{more}: "
                "an unstable step; consider a lower learning rate, longer warmup or max_grad_norm",
                first.step,
            )
        )
    low = next((p for p in train if p.loss is not None and 0 <= p.loss < MEMORISED_LOSS), None)
    if low is not None:
        found.append(
            RunFinding(
                "memorising",
                f"train loss fell to {number(low.loss or 0.0)} at step {low.step}: a loss near "
                "zero means the model recites its training data; fewer epochs or more data",
                low.step,
            )
        )
    return found


def grad_spikes(train: list[Point], window: int = 20) -> list[tuple[Point, float]]:
    spikes: list[tuple[Point, float]] = []
    norms: list[float] = []
    for point in train:
        norm = point.grad_norm
        if norm is None or not math.isfinite(norm):
            continue
        if len(norms) >= 5:
            median = statistics.median(norms[-window:])
            if median > 0 and norm > SPIKE_FACTOR * median:
                spikes.append((point, median))
        norms.append(norm)
    return spikes


def no_eval(run: RunLog) -> RunFinding:
    total = run.max_steps or run.last_step
    every = max(total // 10, 1)
    return RunFinding(
        "no-eval",
        "the log has no eval_loss, so nothing shows when the model starts to overfit. Add to "
        f"the config: val_size: 0.1, eval_strategy: steps, eval_steps: {every}, save_strategy: "
        f"steps, save_steps: {every}, load_best_model_at_end: true, early_stopping_steps: 3 "
        f"(about 10 evaluations over {total} steps)",
    )


# Schedulers whose shape the config alone determines (no kwargs, no eval metric).
CHECKED_SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup")
# transformers 4.x and 5.x agree on warmup when only one of warmup_steps and warmup_ratio is
# set; 5.x's reading also covers a fractional warmup_steps, which 5.x introduced.
WARMUP_AS = Version(5, 0)


def expected_rate(schedule: Schedule, step: int, total: int) -> float | None:
    """The learning rate transformers' scheduler gives after `step` scheduler steps, for the
    schedules whose shape the config alone determines; None for the others."""
    if schedule.scheduler not in CHECKED_SCHEDULERS:
        return None
    multiplier = Scheduler(schedule.scheduler, {}).multiplier(
        step, warmup_steps(schedule, total), total
    )
    return schedule.learning_rate * multiplier


def warmup_steps(schedule: Schedule, total: int) -> int:
    ratio = schedule.warmup_ratio if schedule.warmup_steps <= 0 else None
    return warmup_count(schedule.warmup_steps, ratio, total, WARMUP_AS) or 0


def _close(logged: float, expected: float, peak: float) -> bool:
    return abs(logged - expected) <= LR_TOLERANCE * max(abs(expected), peak * 0.01)


def schedule_mismatch(train: list[Point], schedule: Schedule, total: int) -> RunFinding | None:
    """The logged learning rate against the configured schedule. Trainer logs the rate the
    scheduler holds after the step's update, which is the schedule at step-1 on current
    versions and at step on some older ones: either counts as a match."""
    if total <= 0:
        return None
    for point in train:
        logged = point.learning_rate
        if logged is None:
            continue
        candidates = [expected_rate(schedule, s, total) for s in (point.step - 1, point.step)]
        expected = [value for value in candidates if value is not None]
        if not expected:
            return None
        if any(_close(logged, value, schedule.learning_rate) for value in expected):
            continue
        return RunFinding(
            "lr-schedule",
            f"the learning rate at step {point.step} is {number(logged)}, but "
            f"{schedule.scheduler} with learning_rate {number(schedule.learning_rate)} and "
            f"{warmup_steps(schedule, total)} warmup steps over {total} steps gives "
            f"{number(expected[0])}: the run did not use this config's schedule (another "
            "config, a resumed run with other settings, or a DeepSpeed scheduler)",
            point.step,
        )
    return None


def _recommend(
    diagnosis: Diagnosis, run: RunLog, configured_epochs: float | None, patience: int
) -> None:
    kinds = {finding.kind for finding in diagnosis.findings}
    best = diagnosis.best
    early = f"with early stopping (early_stopping_steps: {patience}, load_best_model_at_end: true)"
    if "undertraining" in kinds:
        final_epoch = next((p.epoch for p in reversed(run.points) if p.epoch), None)
        if final_epoch:
            more = math.ceil(final_epoch * 1.5)
            diagnosis.recommended_epochs = more
            diagnosis.recommendation = (
                f"the loss was still falling after {epochs_text(final_epoch)} epochs: train "
                f"longer, about {more} epochs, {early} so the extra epochs stop once eval loss "
                "turns"
            )
        return
    if best is None or best.epoch is None:
        return
    epochs = max(1, math.ceil(best.epoch - 1e-6))
    diagnosis.recommended_epochs = epochs
    if "overfitting" in kinds:
        diagnosis.recommendation = (
            f"eval loss was lowest at epoch {epochs_text(best.epoch)}: train {epochs} epochs "
            f"instead of {epochs_text(configured_epochs or run.num_train_epochs)}, {early}"
        )
    else:
        diagnosis.recommendation = (
            f"eval loss was lowest at epoch {epochs_text(best.epoch)}, with no sign of "
            f"overfitting after it: {epochs} epochs are what this run supports"
        )
