"""A training schedule chosen from the guideline tables and the seed's presets (README "Writing a
good config: recommend").

The presets are the seed's "situational settings"; the guideline tables are what `check` enforces.
Where they disagree (first-time's 3 epochs on LoRA below 1,000 rows, which wants 5-8; fast's
500 steps on 300 rows, which is dozens of epochs) the tables win, because a recommended block must
lint clean, and the comment on that line says what was changed and why. Every number is worked
out with facts/schedule.py and facts/guidelines.py, the modules `check` reads, so the comments
quote the steps the run will really make.
"""

from __future__ import annotations

import math
from typing import Any

from epochlint.diagnostic import format_value, thousands
from epochlint.facts.guidelines import (
    METHOD_NAMES,
    STAGE_NAMES,
    epoch_cell,
    method_row,
    range_text,
    stage_group,
    stage_learning_rate_band,
    tier_of,
)
from epochlint.facts.schedule import split_validation, steps_per_epoch, warmup_count
from epochlint.records import record
from epochlint.versions import Version

PRESETS = ("first-time", "fast", "production", "research")
METHODS = ("lora", "qlora", "full")
# LLaMA-Factory's key order and `###` blocks, so a printed block reads like its examples.
SECTIONS = ("method", "dataset", "train", "output", "eval")
# transformers 5.15 removed warmup_ratio; from 5.0 a warmup_steps below 1 is the same fraction.
WARMUP_RATIO_REMOVED = Version(5, 15)
VAL_SIZE = 0.1
# The seed's monitoring defaults: log every 50 steps, evaluate and save every 200.
SEED_LOGGING_STEPS = 50


@record(frozen=True)
class Preset:
    epochs: float | None  # None: the preset caps the run with max_steps instead
    max_steps: int | None
    per_device: int
    accumulation: int
    evaluation: str  # "epoch", "steps", or "when-needed" (only where the guidelines demand it)
    eval_steps: int | None
    best_model: bool
    patience: int | None  # early_stopping_steps
    logging_steps: int
    max_samples: int | None = None
    report_to: str | None = None


PRESET_SETTINGS = {
    "first-time": Preset(3, None, 4, 2, "epoch", None, True, 2, SEED_LOGGING_STEPS),
    "fast": Preset(None, 500, 8, 1, "when-needed", None, False, None, SEED_LOGGING_STEPS, 5000),
    "production": Preset(5, None, 8, 2, "steps", 100, True, 3, SEED_LOGGING_STEPS),
    # The seed gives research no batch: the first-time batch, the seed's general example.
    "research": Preset(None, 2000, 4, 2, "steps", 100, False, None, 10, report_to="tensorboard"),
}


@record(frozen=True)
class Setting:
    key: str
    value: Any
    why: str
    section: str


@record(frozen=True)
class Recommendation:
    settings: tuple[Setting, ...]
    # Keys that contradict the block when a config already has them, and why they go.
    removals: tuple[tuple[str, str], ...]
    headline: str
    notes: tuple[str, ...]
    total_steps: int
    steps_per_epoch: int

    def value(self, key: str) -> Any:
        return next((s.value for s in self.settings if s.key == key), None)


# An interval: every N steps, every epoch, or never (None).
EPOCH = "epoch"
Interval = int | str | None


@record(frozen=True)
class Current:
    """What a config already sets that recommend must not make worse: the per-device batch
    (it sets GPU memory, so it is never raised) and how often the run logs, evaluates and saves
    (a recommendation may make those more frequent, never less)."""

    per_device: int | None = None  # None: the config sets no batch yet
    logging: Interval = None
    evaluation: Interval = None
    saving: Interval = None
    max_samples: int | None = None


def steps_of(every: Interval, per_epoch: int) -> int | None:
    """An interval in optimizer steps of the recommended schedule."""
    if every == EPOCH:
        return per_epoch
    return every if isinstance(every, int) else None


@record(frozen=True)
class Request:
    dataset_rows: int  # rows as stored (before max_samples and the val_size split)
    method: str  # lora, qlora, full (oft and freeze follow LoRA's row of the tables)
    world_size: int
    preset: str
    guidelines: dict[str, Any]
    transformers: Version
    finetuning_type: str | None = None  # the config's own spelling (oft, freeze), if any
    eval_dataset: bool = False  # the config evaluates on a separate dataset, not a split
    current: Current = Current()  # a config's own settings (nothing for a bare block)
    stage: str = "sft"
    # Whether the trainer can evaluate and save per epoch with early stopping (Axolotl
    # needs step counts).
    epoch_strategies: bool = True


# The stage groups the guideline tables give epochs and learning rates for (GUIDELINES §2):
# pre-training counts tokens, not epochs, and on-policy stages (PPO, GRPO) count generations.
COVERED_GROUPS = ("sft", "preference", "rm")
# The stages a printed block can name (LLaMA-Factory's `stage` values; ORPO and SimPO are
# `stage: dpo` with `pref_loss` there, and come from a config's own stage, as Axolotl's `rl:`).
STAGES = ("sft", "dpo", "kto", "rm")


def covers(guidelines: dict[str, Any], stage: str) -> bool:
    return stage_group(guidelines, stage) in COVERED_GROUPS


def run_name(request: Request) -> str:
    """How the block names the run: "LoRA", or "LoRA DPO" for another stage than SFT."""
    method = METHOD_NAMES.get(request.method, request.method)
    if request.stage == "sft":
        return method
    return f"{method} {STAGE_NAMES.get(request.stage, request.stage)}"


def epoch_range(request: Request, tier: str) -> tuple[float, float]:
    """The recommended epochs for the request's stage, method and data tier."""
    cell = epoch_cell(request.guidelines, request.stage, request.method, tier)
    assert cell is not None, f"stage {request.stage} is not covered"
    return cell.recommended


def learning_rate_band(request: Request) -> dict[str, float]:
    band = stage_learning_rate_band(request.guidelines, request.stage, request.method)
    assert band is not None, f"stage {request.stage} is not covered"
    return band


def plural(count: int, word: str) -> str:
    return f"{thousands(count)} {word}{'' if count == 1 else 's'}"


def whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def interval(preferred: int, total: int, wanted: int) -> int:
    """The preset's interval when it gives `wanted` events in the run; else one that does."""
    if total // preferred >= wanted:
        return preferred
    return max(1, total // wanted)


@record(frozen=True)
class Schedule:
    """The run the block describes: rows, batch, length, and whether it evaluates."""

    train_rows: int
    eval_rows: int
    per_device: int
    accumulation: int
    steps_per_epoch: int
    tier: str
    epochs: float
    total: int
    length_why: str
    evaluate: bool
    batch_note: str


class _Chooser:
    """Works out the schedule of one request: the preset, kept inside the guideline tables."""

    def __init__(self, request: Request, used_rows: int) -> None:
        self.request = request
        self.preset = PRESET_SETTINGS[request.preset]
        self.guidelines = request.guidelines
        self.name = run_name(request)
        self.used_rows = used_rows

    def shape(
        self, evaluate: bool, per_device: int, accumulation: int
    ) -> tuple[int, int, int, str]:
        """(train rows, eval rows, steps per epoch, tier) for a batch and an evaluation choice."""
        request = self.request
        held_out = evaluate and not request.eval_dataset
        train_rows, eval_rows = split_validation(self.used_rows, VAL_SIZE if held_out else 0.0)
        per_epoch = steps_per_epoch(train_rows, per_device, accumulation, request.world_size)
        return train_rows, eval_rows, per_epoch, tier_of(train_rows, self.guidelines)

    def length(self, per_epoch: int, tier: str) -> tuple[float, int, str]:
        """(epochs, total steps, why) for the preset, kept inside the guideline range."""
        preset, request = self.preset, self.request
        low, high = epoch_range(request, tier)
        # The SFT table has a row per data tier; the other stages' tables do not.
        data = f" ({tier})" if request.stage == "sft" else ""
        where = f"{self.name} on {{rows}} training rows{data}: {range_text(low, high)} epochs"
        if preset.epochs is not None:
            epochs = min(max(preset.epochs, low), high)
            why = where
            if epochs != preset.epochs:
                verb = "raised" if epochs > preset.epochs else "lowered"
                why += (
                    f"; the {request.preset} preset's {format_value(preset.epochs)} is {verb} "
                    "into the range"
                )
            return epochs, math.ceil(epochs * per_epoch), why
        assert preset.max_steps is not None
        cap = math.floor(high * per_epoch)
        steps = min(preset.max_steps, cap)
        implied = steps / per_epoch
        if steps < preset.max_steps:
            why = (
                f"the {request.preset} preset's {thousands(preset.max_steps)} steps would be "
                f"{thousands(round(preset.max_steps / per_epoch, 1))} epochs; {where}, so "
                f"capped at {thousands(steps)} steps ({thousands(round(implied, 2))} epochs)"
            )
        else:
            why = (
                f"{request.preset} preset: {thousands(steps)} steps = "
                f"{thousands(round(implied, 2))} epochs of {{rows}} training rows ({tier})"
            )
        return implied, steps, why

    def batch(self) -> tuple[int, int]:
        """(per-device batch, accumulation): the preset's effective batch, reached through
        gradient accumulation when the config already has a per-device batch, because that
        batch sets the GPU memory the run needs and a larger one can run out of it."""
        preset = self.preset
        own = self.request.current.per_device
        if own is None:
            return preset.per_device, preset.accumulation
        return own, max(1, round(preset.per_device * preset.accumulation / own))

    def choose(self) -> Schedule:
        preset, guidelines = self.preset, self.guidelines
        too_few = guidelines["too_few_steps_below"]
        # A config that evaluates keeps evaluating: monitoring never gets sparser.
        evaluate = preset.evaluation != "when-needed" or self.request.current.evaluation is not None
        per_device, accumulation = self.batch()
        batch_note = ""
        for _ in range(2):  # "when-needed" evaluation is decided once the length is known
            train_rows, eval_rows, per_epoch, tier = self.shape(evaluate, per_device, accumulation)
            epochs, total, length_why = self.length(per_epoch, tier)
            # Many GPUs on little data: shrink the batch until the run has enough steps (EL205).
            while total < too_few and (accumulation > 1 or per_device > 1):
                if accumulation > 1:
                    accumulation = max(1, accumulation // 2)
                else:
                    per_device = max(1, per_device // 2)
                train_rows, eval_rows, per_epoch, tier = self.shape(
                    evaluate, per_device, accumulation
                )
                epochs, total, length_why = self.length(per_epoch, tier)
                batch_note = (
                    f"; the {self.request.preset} preset's {preset.per_device} x "
                    f"{preset.accumulation} would leave fewer than {too_few} steps"
                )
            if evaluate:
                break
            guided = min(epochs, epoch_range(self.request, tier)[1])
            if tier == "small" or guided >= guidelines["early_stopping_epochs_from"]:
                evaluate = True
            else:
                break
        length_why = length_why.replace("{rows}", thousands(train_rows))
        return Schedule(
            train_rows,
            eval_rows,
            per_device,
            accumulation,
            per_epoch,
            tier,
            epochs,
            total,
            length_why,
            evaluate,
            batch_note,
        )


def max_samples(request: Request) -> int | None:
    """The preset's row cap, never more rows than the config's own cap already allows."""
    cap = PRESET_SETTINGS[request.preset].max_samples
    if cap is None or request.current.max_samples is None:
        return cap
    return min(cap, request.current.max_samples)


def recommend(request: Request) -> Recommendation:
    notes: list[str] = []
    used_rows = request.dataset_rows
    cap = max_samples(request)
    if cap is not None and used_rows > cap:
        used_rows = cap
        notes.append(
            f"max_samples keeps {thousands(used_rows)} of the {thousands(request.dataset_rows)} "
            "rows; the schedule below is for those"
        )
    schedule = _Chooser(request, used_rows).choose()
    total, world = schedule.total, request.world_size
    if total < request.guidelines["too_few_steps_below"]:
        notes.append(
            f"only {plural(total, 'optimizer step')}: too little data for "
            f"{plural(world, 'GPU')}; epochlint will report EL205"
        )
    settings: list[Setting] = []
    settings += _method_settings(request)
    settings += _dataset_settings(request, schedule)
    settings += _train_settings(request, schedule)
    monitoring, removals = _monitoring_settings(request, schedule)
    settings += monitoring
    order = {section: index for index, section in enumerate(SECTIONS)}
    ordered = sorted(settings, key=lambda s: order[s.section])  # stable inside a section
    per_epoch = schedule.steps_per_epoch
    headline = (
        f"{run_name(request)} on "
        f"{thousands(request.dataset_rows)} rows, {plural(world, 'GPU')}, preset "
        f"{request.preset}, transformers {request.transformers}: "
        f"{plural(per_epoch, 'step')} per epoch, {plural(total, 'step')} in total"
    )
    return Recommendation(tuple(ordered), tuple(removals), headline, tuple(notes), total, per_epoch)


def _method_settings(request: Request) -> list[Setting]:
    row = method_row(request.method)
    finetuning = request.finetuning_type or ("lora" if row != "full" else "full")
    settings = []
    if request.stage != "sft":
        settings.append(Setting("stage", request.stage, run_name(request), "method"))
    name = METHOD_NAMES.get(request.method, request.method)
    settings.append(Setting("finetuning_type", finetuning, name, "method"))
    if request.method == "qlora":
        why = "QLoRA is LoRA on a 4-bit quantized model"
        settings.append(Setting("quantization_bit", 4, why, "method"))
    return settings


def _dataset_settings(request: Request, schedule: Schedule) -> list[Setting]:
    settings = []
    cap = max_samples(request)
    if cap is not None:
        truncates = request.dataset_rows > cap
        source = (
            "the config's" if cap == request.current.max_samples else f"{request.preset} preset:"
        )
        why = f"{source} at most {thousands(cap)} rows per dataset"
        if not truncates:
            why += f" (all {thousands(request.dataset_rows)} are used)"
        settings.append(Setting("max_samples", cap, why, "dataset"))
    if schedule.evaluate and not request.eval_dataset:
        why = (
            f"holds out {thousands(schedule.eval_rows)} rows for evaluation "
            f"({thousands(schedule.train_rows)} left to train on)"
        )
        settings.append(Setting("val_size", VAL_SIZE, why, "dataset"))
    return settings


def _train_settings(request: Request, schedule: Schedule) -> list[Setting]:
    preset = PRESET_SETTINGS[request.preset]
    guidelines = request.guidelines
    per_device, accumulation, total = schedule.per_device, schedule.accumulation, schedule.total
    world = request.world_size
    effective = per_device * accumulation * world
    own = request.current.per_device
    if per_device == own:
        batch_why = "the config's own, kept: it sets the GPU memory the run needs"
    else:
        start = own if own is not None else preset.per_device
        source = "the config's" if own is not None else f"{request.preset} preset"
        halved = f": {start}, halved" if per_device != start else ""
        batch_why = (
            f"{source}{halved}{schedule.batch_note}; sets GPU memory: to use less, halve it "
            "and double gradient_accumulation_steps"
        )
    band = learning_rate_band(request)
    settings = [
        Setting(
            "per_device_train_batch_size",
            per_device,
            batch_why,
            "train",
        ),
        Setting(
            "gradient_accumulation_steps",
            accumulation,
            f"effective batch {per_device} x {accumulation} x {plural(world, 'GPU')} = "
            f"{effective}: {plural(schedule.steps_per_epoch, 'step')} per epoch",
            "train",
        ),
        Setting(
            "learning_rate",
            float(band["typical"]),
            f"typical for {run_name(request)} (the guideline band is "
            f"{format_value(float(band['low']))} to {format_value(float(band['high']))})",
            "train",
        ),
    ]
    if preset.epochs is not None:
        why = f"{schedule.length_why}; {plural(total, 'step')}"
        settings.append(Setting("num_train_epochs", whole(schedule.epochs), why, "train"))
    else:
        settings.append(Setting("max_steps", total, schedule.length_why, "train"))
    settings.append(
        Setting("lr_scheduler_type", "cosine", "decays smoothly to 0 after warmup", "train")
    )
    fraction = float(guidelines["warmup_fix_fraction"])
    if request.transformers >= WARMUP_RATIO_REMOVED:
        key, warmup = "warmup_steps", warmup_count(fraction, None, total, request.transformers)
        tail = "; a value below 1 is a fraction"
    else:
        key, warmup = "warmup_ratio", warmup_count(0.0, fraction, total, request.transformers)
        tail = ""
    why = (
        f"{fraction:.0%} of {plural(total, 'step')} = {thousands(warmup)} "
        f"(at most {float(guidelines['warmup_max_fraction']):.0%}){tail}"
    )
    settings.append(Setting(key, fraction, why, "train"))
    return settings


def _monitoring_settings(
    request: Request, schedule: Schedule
) -> tuple[list[Setting], list[tuple[str, str]]]:
    """Logging, evaluation, checkpoints and early stopping; and the keys that contradict them.

    A config's own cadence caps the preset's: the block may log, evaluate and save more often
    than the config did, never less often."""
    preset = PRESET_SETTINGS[request.preset]
    guidelines = request.guidelines
    current = request.current
    total, evaluate, per_epoch = schedule.total, schedule.evaluate, schedule.steps_per_epoch
    settings: list[Setting] = []

    def add(key: str, value: Any, why: str, section: str) -> None:
        settings.append(Setting(key, value, why, section))

    logging = interval(preset.logging_steps, total, guidelines["min_log_points"])
    logging_note = (
        "" if logging == preset.logging_steps else f" ({preset.logging_steps} would log too few)"
    )
    own_logging = steps_of(current.logging, per_epoch)
    if own_logging is not None and own_logging < logging:
        logging, logging_note = own_logging, " (as often as the config logged)"
    add(
        "logging_steps",
        logging,
        f"{plural(total // logging, 'loss point')}{logging_note}",
        "output",
    )

    # Checkpoints are saved at the evaluations (the best one must have a checkpoint), so the
    # config's evaluation and save cadences both cap the evaluation interval.
    own = [steps_of(c, per_epoch) for c in (current.evaluation, current.saving)]
    cap = min((steps for steps in own if steps is not None), default=None)
    removals: list[tuple[str, str]] = []
    by_steps = not request.epoch_strategies or (cap is not None and cap < per_epoch)
    if preset.evaluation == "steps" or (evaluate and by_steps):
        wanted = preset.eval_steps or per_epoch
        every = interval(wanted, total, guidelines["evaluations_wanted"])
        note = f" ({wanted} is too sparse)" if every != wanted and preset.eval_steps else ""
        if cap is not None and cap < every:
            every, note = cap, " (as often as the config evaluated or saved)"
        evaluations = total // every
        add("save_strategy", "steps", "a checkpoint at every evaluation", "output")
        add(
            "save_steps",
            every,
            "the same as eval_steps, so the best evaluation has a checkpoint",
            "output",
        )
        add("eval_strategy", "steps", f"{plural(evaluations, 'evaluation')} in the run", "eval")
        source = f"{request.preset} preset" if preset.eval_steps else "the config's cadence"
        add("eval_steps", every, f"{source}: every {every} steps{note}", "eval")
        for stale in ("evals_per_epoch", "saves_per_epoch"):
            removals.append((stale, "eval_steps and save_steps set the cadence"))
    elif evaluate:
        entered = math.ceil(schedule.epochs)
        add("save_strategy", "epoch", "a checkpoint at every evaluation", "output")
        add("eval_strategy", "epoch", f"{plural(entered, 'evaluation')}, one per epoch", "eval")
        for stale in ("eval_steps", "save_steps"):
            removals.append((stale, "ignored with the epoch strategy"))
    else:
        if current.saving is None:
            add(
                "save_strategy",
                "no",
                "a quick experiment keeps only the final model, which LLaMA-Factory saves at "
                "the end",
                "output",
            )
            removals.append(("save_steps", "nothing is saved during a quick experiment"))
        add(
            "eval_strategy",
            "no",
            f"{thousands(round(schedule.epochs, 2))} epochs on {schedule.tier} data: the "
            "guidelines do not need evaluation for a quick experiment",
            "eval",
        )
        for stale in ("eval_steps", "val_size"):
            removals.append((stale, "nothing is evaluated during a quick experiment"))
    if preset.best_model and evaluate:
        add(
            "load_best_model_at_end",
            True,
            "keeps the checkpoint with the lowest eval loss (and is the metric for early stopping)",
            "eval",
        )
    else:
        removals.append(("load_best_model_at_end", f"the {request.preset} preset keeps the last"))
    if preset.patience is not None and evaluate:
        add(
            "early_stopping_steps",
            preset.patience,
            f"stop after {preset.patience} evaluations without improvement",
            "eval",
        )
    else:
        removals.append(("early_stopping_steps", f"the {request.preset} preset runs to the end"))
    if preset.report_to is not None:
        add(
            "report_to",
            preset.report_to,
            f"{request.preset} preset: loss curves to compare runs",
            "output",
        )
    if preset.epochs is not None:
        removals.append(("max_steps", "it would override num_train_epochs"))
    else:
        removals.append(("num_train_epochs", "max_steps overrides it"))
    other_warmup = (
        "warmup_ratio" if request.transformers >= WARMUP_RATIO_REMOVED else "warmup_steps"
    )
    removals.append((other_warmup, "the warmup is set once, above"))
    return settings, removals


def render(
    recommendation: Recommendation, with_method: bool = True, width: int | None = None
) -> str:
    """The block as YAML with `### section` headers and a `# why` on every line; with a
    `width`, a longer comment goes on in comment lines below it (still YAML to paste)."""
    from epochlint.fix.edit import format_scalar
    from epochlint.formats.layout import wrap

    def lines_of(prefix: str, text: str, hanging: str) -> list[str]:
        if width is None:
            return [prefix + text]
        return wrap(text, width, prefix, hanging)

    lines = lines_of("# epochlint recommend: ", recommendation.headline, "#   ")
    for note in recommendation.notes:
        lines += lines_of("# note: ", note, "#   ")
    shown = [s for s in recommendation.settings if with_method or s.section != "method"]
    written = {s.key: f"{s.key}: {format_scalar(s.value)}" for s in shown}
    column = max(len(text) for text in written.values())
    section = None
    for setting in shown:
        if setting.section != section:
            section = setting.section
            lines.append(f"### {section}")
        prefix = f"{written[setting.key]:<{column}}  # "
        lines += lines_of(prefix, setting.why, " " * (column + 2) + "# ")
    return "\n".join(lines) + "\n"
