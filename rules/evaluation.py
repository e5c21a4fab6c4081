"""EL4: evaluation, checkpoints, early stopping and the learning-rate schedule."""

from __future__ import annotations

import math
from collections.abc import Iterator

from epochlint.diagnostic import Edit, Fix, Severity, format_value, thousands
from epochlint.dialects.base import is_number
from epochlint.facts.context import Context
from epochlint.rules import Finding, rule
from epochlint.rules.length import many_epochs, overfitting_unwatched, trains
from epochlint.versions import Version

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any


def _set(context: Context, name: str) -> str:
    """`key: value` as written in the config, for messages."""
    config = context.config
    return f"`{config.key(name)}: {format_value(config.value(name))}`"


def wants_evaluation(context: Context) -> list[str]:
    """The canonical settings that ask for evaluation data, in the order they are reported."""
    config = context.config
    asks = []
    if config.evaluation_enabled():
        asks.append("eval_strategy")
    for flag in ("do_eval", "do_predict", "predict_with_generate"):
        if config.flag(flag):
            asks.append(flag)
    if config.value("early_stopping_steps") is not None:
        asks.append("early_stopping_steps")
    return asks


@rule("EL401", "eval-without-eval-data", "error", fix="suggested")
def eval_without_eval_data(context: Context) -> Iterator[Finding]:
    """Evaluation or early stopping without evaluation data.

    ## What it does
    Reports `eval_strategy`, `do_eval`, `do_predict` or `early_stopping_steps` when neither
    `val_size` nor `eval_dataset` provides evaluation rows.

    ## Why is this bad?
    LLaMA-Factory stops with `Please make sure eval_dataset be provided or val_size >1e-6`
    (transformers turns `do_eval` on by itself when `eval_strategy` is set).

    ## Example
    ```yaml
    eval_strategy: steps
    eval_steps: 100
    ```

    ## Use instead
    ```yaml
    val_size: 0.1
    eval_strategy: steps
    eval_steps: 100
    ```

    ## Source
    LLaMA-Factory `hparams/parser.py: get_train_args`, when `do_eval`, `do_predict` or
    `predict_with_generate` is on (transformers turns `do_eval` on for any `eval_strategy` but
    `no`), `eval_dataset` is None and `val_size < 1e-6`: `Please make sure eval_dataset be
    provided or val_size >1e-6`

    ## Fix safety
    Suggested: holding out 10 % of the rows shrinks the training data.
    """
    config = context.config
    asks = wants_evaluation(context)
    if not asks or config.has_eval_data():
        return
    first = asks[0]
    fix = None
    if config.names("dataset") and not config.has("eval_dataset"):
        fix = Fix((config.set("val_size", 0.1),), "suggested")
    yield Finding(
        f"{_set(context, first)} needs evaluation data, but neither `{config.key('val_size')}` "
        f"nor `{config.key('eval_dataset')}` is set: LLaMA-Factory stops with `Please make sure "
        "eval_dataset be provided or val_size >1e-6`; hold out rows with `val_size: 0.1`",
        config.span(first),
        fix,
        {"asked_by": asks},
    )


@rule("EL402", "val-size-with-eval-dataset", "error")
def val_size_with_eval_dataset(context: Context) -> Iterator[Finding]:
    """`val_size` and `eval_dataset` are both set.

    ## What it does
    Reports a config that both splits the training data and names a separate eval dataset
    (LLaMA-Factory's commented-out eval blocks often contain both lines).

    ## Why is this bad?
    LLaMA-Factory stops at start-up: ``Cannot specify `val_size` if `eval_dataset` is not
    None.``

    ## Example
    ```yaml
    val_size: 0.1
    eval_dataset: alpaca_en_demo
    ```

    ## Use instead
    ```yaml
    eval_dataset: alpaca_en_demo
    ```

    ## Source
    LLaMA-Factory `hparams/data_args.py: DataArguments.__post_init__`, when `eval_dataset` is
    set and `val_size > 1e-6`: ``Cannot specify `val_size` if `eval_dataset` is not None.``
    (`data/data_utils.py: split_dataset` checks it again).

    ## Fix safety
    No fix: keep whichever evaluation data you meant.
    """
    config = context.config
    val_size = config.number("val_size") or 0.0
    if val_size > 1e-6 and config.names("eval_dataset"):
        yield Finding(
            f"{_set(context, 'val_size')} and `{config.key('eval_dataset')}` are both set: "
            "LLaMA-Factory stops with ``Cannot specify `val_size` if `eval_dataset` is not "
            "None.``; keep one",
            config.span("val_size"),
        )


@rule("EL403", "best-model-strategy-mismatch", "error", fix="safe")
def best_model_strategy_mismatch(context: Context) -> Iterator[Finding]:
    """`load_best_model_at_end` with evaluation and saving on different schedules.

    ## What it does
    Reports `load_best_model_at_end: true` when `save_strategy` differs from `eval_strategy`
    (unless it is `best`).

    ## Why is this bad?
    transformers stops at start-up: `--load_best_model_at_end requires the save and eval
    strategy to match`: the best evaluation must have a checkpoint to load.

    ## Example
    ```yaml
    load_best_model_at_end: true
    eval_strategy: epoch
    save_strategy: steps
    ```

    ## Use instead
    ```yaml
    load_best_model_at_end: true
    eval_strategy: epoch
    save_strategy: epoch
    ```

    ## Fix safety
    Safe: saving on the evaluation schedule is what `load_best_model_at_end` needs.
    """
    config = context.config
    if not config.flag("load_best_model_at_end"):
        return
    evaluation, saving = config.value("eval_strategy"), config.value("save_strategy")
    if saving == "best" or evaluation == saving:
        return
    fix = None
    if evaluation in ("steps", "epoch"):
        fix = Fix((config.set("save_strategy", evaluation),), "safe")
    yield Finding(
        f"`{config.key('load_best_model_at_end')}: true` needs `{config.key('save_strategy')}` "
        f"to match `{config.key('eval_strategy')}`, but they are {format_value(saving)} and "
        f"{format_value(evaluation)}: transformers stops with `--load_best_model_at_end "
        "requires the save and eval strategy to match`",
        config.span("save_strategy") or config.span("load_best_model_at_end"),
        fix,
        {"eval_strategy": evaluation, "save_strategy": saving},
    )


def next_multiple(save: float, evaluation: float) -> int:
    """save_steps rounded up to a multiple of eval_steps, so every save lands on an eval."""
    return math.ceil(save / evaluation) * int(evaluation)


def _eval_interval(context: Context) -> float | None:
    """eval_steps as transformers sees it: unset or 0 falls back to logging_steps."""
    config = context.config
    value = config.number("eval_steps")
    if value is None or value == 0:
        return config.number("logging_steps")
    return value


@rule("EL404", "save-not-multiple-of-eval", "error", fix="safe")
def save_not_multiple_of_eval(context: Context) -> Iterator[Finding]:
    """`load_best_model_at_end` with `save_steps` not a multiple of `eval_steps`.

    ## What it does
    Reports step schedules where a checkpoint is not saved at every evaluation that could be
    the best.

    ## Why is this bad?
    transformers stops at start-up: `--load_best_model_at_end requires the saving steps to be
    a round multiple of the evaluation steps, but found 500, which is not a round multiple of
    300.`

    ## Example
    ```yaml
    load_best_model_at_end: true
    eval_strategy: steps
    save_strategy: steps
    eval_steps: 300
    save_steps: 500
    ```

    ## Use instead
    ```yaml
    eval_steps: 300
    save_steps: 600
    ```

    ## Fix safety
    Safe: `save_steps` is rounded up to the next multiple of `eval_steps`.
    """
    config = context.config
    if not config.flag("load_best_model_at_end") or config.value("save_strategy") == "best":
        return
    if config.value("eval_strategy") != "steps" or config.value("save_strategy") != "steps":
        return
    save, evaluation = config.number("save_steps"), _eval_interval(context)
    if save is None or not evaluation:
        return
    # as written: `save_steps: 500` is 500, not 500.0
    save_text, eval_text = (
        format_value(int(n) if n.is_integer() else n) for n in (save, evaluation)
    )
    if (save < 1) != (evaluation < 1):
        yield Finding(
            f"`{config.key('save_steps')}: {save_text}` and `{config.key('eval_steps')}: "
            f"{eval_text}` mix a fraction and a step count: transformers stops "
            "because the saves cannot be guaranteed to land on evaluations; use the same kind",
            config.span("save_steps"),
        )
        return
    multiplier = 1 if save >= 1 else 1_000_000
    if round(save * multiplier) % round(evaluation * multiplier) == 0:
        return
    fix = None
    if save >= 1:
        rounded = next_multiple(save, evaluation)
        fix = Fix((config.set("save_steps", rounded),), "safe")
    yield Finding(
        f"`{config.key('save_steps')}: {save_text}` is not a multiple of "
        f"`{config.key('eval_steps')}: {eval_text}` with "
        f"`{config.key('load_best_model_at_end')}: true`: transformers stops with "
        f"`--load_best_model_at_end requires the saving steps to be a round multiple of the "
        f"evaluation steps`",
        config.span("save_steps"),
        fix,
        {"save_steps": save, "eval_steps": evaluation},
    )


@rule("EL405", "early-stopping-misconfigured", "error", fix="safe")
def early_stopping_misconfigured(context: Context) -> Iterator[Finding]:
    """`early_stopping_steps` without an evaluation strategy or a metric to watch.

    ## What it does
    Reports early stopping (LLaMA-Factory's `early_stopping_steps`, which counts evaluations
    without improvement) when `eval_strategy` is `no`, or when no metric is set
    (`metric_for_best_model`, or `load_best_model_at_end`, which sets it to the loss).

    ## Why is this bad?
    transformers' `EarlyStoppingCallback` asserts when training begins, after the model has
    loaded: `EarlyStoppingCallback requires IntervalStrategy of steps or epoch` /
    `EarlyStoppingCallback requires metric_for_best_model to be defined`.

    ## Example
    ```yaml
    early_stopping_steps: 3
    eval_strategy: epoch
    ```

    ## Use instead
    ```yaml
    early_stopping_steps: 3
    eval_strategy: epoch
    save_strategy: epoch
    load_best_model_at_end: true
    ```

    ## Source
    LLaMA-Factory `train/tuner.py: _training_function` adds
    `EarlyStoppingCallback(early_stopping_patience=early_stopping_steps)`; transformers
    `trainer_callback.py: EarlyStoppingCallback.on_train_begin` asserts `EarlyStoppingCallback
    requires metric_for_best_model to be defined` and `EarlyStoppingCallback requires
    IntervalStrategy of steps or epoch`. It runs only when training begins, so it is not
    cross-checked at argument parsing.

    ## Fix safety
    Safe where one key completes the setup: the metric (`metric_for_best_model: loss`) when
    evaluation is configured, or the evaluation strategy matching the save strategy.
    """
    config = context.config
    patience = config.value("early_stopping_steps")
    if patience is None:
        return
    if not config.epoch_strategies:
        yield from _early_stopping_by_steps(context, patience)
        return
    metric_set = config.value("metric_for_best_model") is not None or config.flag(
        "load_best_model_at_end"
    )
    evaluating = config.evaluation_enabled()
    missing = []
    if not evaluating:
        missing.append(f"an evaluation strategy (`{config.key('eval_strategy')}` is no)")
    if not metric_set:
        missing.append(
            f"a metric (`{config.key('metric_for_best_model')}`, or "
            f"`{config.key('load_best_model_at_end')}: true`)"
        )
    if not missing:
        return
    fix = None
    if evaluating and not metric_set:
        fix = Fix((config.set("metric_for_best_model", "loss"),), "safe")
    elif not evaluating and metric_set and config.has_eval_data():
        saving = config.value("save_strategy")
        fix = Fix(
            (config.set("eval_strategy", saving if saving in ("steps", "epoch") else "epoch"),),
            "safe",
        )
    yield Finding(
        f"`{config.key('early_stopping_steps')}: {format_value(patience)}` needs "
        + " and ".join(missing)
        + ": the run stops when training begins (`EarlyStoppingCallback requires ...`)",
        config.span("early_stopping_steps"),
        fix,
        {"missing": len(missing)},
    )


def _early_stopping_by_steps(context: Context, patience: Any) -> Iterator[Finding]:
    """Axolotl's check_early_stopping: integer eval_steps and save_steps, save a multiple."""
    config, plan = context.config, context.plan
    key = config.key("early_stopping_steps")
    save, evaluation = config.entry("save_steps"), config.entry("eval_steps")
    if save is None or evaluation is None:
        fix = None
        if plan.steps_per_epoch:
            fix = Fix(_steps_cadence(context, plan.steps_per_epoch), "safe")
        yield Finding(
            f"`{key}: {format_value(patience)}` needs `{config.key('eval_steps')}` and "
            f"`{config.key('save_steps')}` (evals_per_epoch and saves_per_epoch do not count): "
            f"{config.dialect.title} stops with `early_stopping_patience requires save_steps and "
            "eval_steps to be set. eval_steps should evenly divide save_steps.`",
            config.span("early_stopping_steps"),
            fix,
        )
        return
    if not (is_number(save.value) and is_number(evaluation.value)) or not evaluation.value:
        return  # a wrong type is EL102's
    if save.value % evaluation.value:
        fix = None
        if evaluation.value >= 1:
            rounded = next_multiple(save.value, evaluation.value)
            fix = Fix((config.set("save_steps", rounded),), "safe")
        yield Finding(
            f"`{key}: {format_value(patience)}` needs `{config.key('save_steps')}: "
            f"{format_value(save.value)}` to be a multiple of `{config.key('eval_steps')}: "
            f"{format_value(evaluation.value)}`: {config.dialect.title} stops with "
            "`early_stopping_patience requires that eval_steps should evenly divide save_steps.`",
            save.value_span,
            fix,
        )


def _steps_cadence(context: Context, interval: int) -> tuple[Edit, ...]:
    """Evaluate and save every `interval` steps, replacing per-epoch cadences."""
    config = context.config
    edits = [config.set("eval_steps", interval), config.set("save_steps", interval)]
    for per_epoch in ("evals_per_epoch", "saves_per_epoch"):
        if config.has(per_epoch):
            edits.append(config.remove(per_epoch))
    for strategy in ("eval_strategy", "save_strategy"):
        if config.has(strategy):
            edits.append(config.set(strategy, "steps"))
    return tuple(edits)


def _evaluation_setup(context: Context) -> tuple[Edit, ...] | None:
    """Edits that add held-out evaluation with early stopping, from the guide's advice."""
    config, plan = context.config, context.plan
    edits: list[Edit] = []
    if config.supports("val_size") and not config.has_eval_data():
        edits.append(config.set("val_size", 0.1))
    if config.epoch_strategies:
        edits.append(config.set("eval_strategy", "epoch"))
        edits.append(config.set("save_strategy", "epoch"))
        for stale in ("eval_steps", "save_steps"):
            if config.has(stale):
                edits.append(config.remove(stale))
    elif plan.steps_per_epoch:
        edits.extend(_steps_cadence(context, plan.steps_per_epoch))  # about once an epoch
    else:
        return None  # a step cadence needs the steps, which need N
    edits.append(config.set("load_best_model_at_end", True))
    if config.supports("early_stopping_steps") and not config.has("early_stopping_steps"):
        edits.append(config.set("early_stopping_steps", 2))
    return tuple(edits)


@rule("EL406", "no-early-stopping", "warning", fix="suggested")
def no_early_stopping(context: Context) -> Iterator[Finding]:
    """Many epochs, or small data, with no evaluation: overfitting goes unseen.

    ## What it does
    Reports training for 5 or more epochs, or on fewer than 1,000 rows, without an evaluation
    strategy. Epochs above the EL201 range are counted at the range's top: when following
    EL201 already brings a run below 5 epochs, EL201 alone is reported.

    ## Why is this bad?
    Overfitting shows as eval loss rising while train loss keeps falling. Without evaluation
    nobody sees it, and without early stopping the run keeps going past the best point (the
    seed's chatbot trained 10 epochs on 3,000 rows and memorised its answers).

    ## Example
    ```yaml
    num_train_epochs: 10
    ```

    ## Use instead
    ```yaml
    num_train_epochs: 10
    val_size: 0.1
    eval_strategy: epoch
    save_strategy: epoch
    load_best_model_at_end: true
    early_stopping_steps: 2
    ```

    ## Fix safety
    Suggested: it holds out 10 % of the data and evaluates and saves every epoch.
    """
    if not trains(context) or not overfitting_unwatched(context):
        return
    config, plan = context.config, context.plan
    epochs = plan.epochs
    why = (
        f"{thousands(epochs)} epochs"
        if many_epochs(context)
        else f"{thousands(plan.dataset_rows)} rows (small data)"
    )
    edits = _evaluation_setup(context)
    fix = Fix(edits, "suggested") if edits else None
    if config.supports("early_stopping_steps"):
        advice = (
            f"hold out data (`{config.key('val_size')}: 0.1`), evaluate every epoch and stop "
            f"early (`{config.key('early_stopping_steps')}: 2`)"
        )
    else:
        advice = (
            "evaluate every epoch, and add `EarlyStoppingCallback(early_stopping_patience=2)` "
            "to the script's Trainer"
        )
    yield Finding(
        f"{why} with no evaluation: overfitting (train loss falling while eval loss rises) "
        f"goes unseen and nothing stops the run at its best point; {advice}",
        config.span("num_train_epochs") or config.span("max_steps"),
        fix,
        {"epochs": epochs, "dataset_rows": plan.dataset_rows},
    )


def evaluation_interval(total: int, wanted: int) -> int:
    """An eval_steps that evaluates at least `wanted` times in `total` steps."""
    return max(1, total // wanted)


@rule("EL407", "eval-never-runs", "warning", fix="suggested")
def eval_never_runs(context: Context) -> Iterator[Finding]:
    """`eval_steps` beyond the end of training: no evaluation happens during the run.

    ## What it does
    Reports a steps evaluation schedule whose first evaluation comes after the last step.

    ## Why is this bad?
    The run pays for setting up evaluation and never evaluates, so overfitting is not seen
    and early stopping and `load_best_model_at_end` have nothing to work with.

    ## Example
    ```yaml
    # 411 steps in total
    eval_strategy: steps
    eval_steps: 500
    ```

    ## Use instead
    ```yaml
    eval_strategy: steps
    eval_steps: 83
    ```

    ## Fix safety
    Suggested: about five evaluations over the run (and `save_steps` to match when the best
    model is loaded at the end).
    """
    config, plan = context.config, context.plan
    if config.value("eval_strategy") != "steps" or plan.total_steps is None or not plan.eval_steps:
        return
    if plan.eval_steps <= plan.total_steps:
        return
    interval = evaluation_interval(plan.total_steps, context.guidelines["evaluations_wanted"])
    edits = [config.set("eval_steps", interval)]
    if config.flag("load_best_model_at_end") and config.value("save_strategy") == "steps":
        edits.append(config.set("save_steps", interval))
    yield Finding(
        f"`{config.key('eval_steps')}: {thousands(plan.eval_steps)}` is beyond the "
        f"{thousands(plan.total_steps)} steps of the run: no evaluation happens during "
        f"training; `{config.key('eval_steps')}: {interval}` evaluates "
        f"{plan.total_steps // interval} times",
        config.span("eval_steps") or config.span("eval_strategy"),
        Fix(tuple(edits), "suggested"),
        {"eval_steps": plan.eval_steps, "total_steps": plan.total_steps},
    )


@rule("EL408", "no-intermediate-checkpoint", "info", opt_in=True)
def no_intermediate_checkpoint(context: Context) -> Iterator[Finding]:
    """`save_steps` at or beyond the end of training: only the final checkpoint is saved.

    ## What it does
    Reports a steps save schedule that saves nothing before the last step.
    Opt-in (`--extend-select EL408`): most official examples save only at the end of a short
    run on purpose, so it is outside the default selection.

    ## Why is this bad?
    A crash, a preemption or an overfit end leaves no earlier checkpoint to resume from or to
    pick instead.

    ## Example
    ```yaml
    # 411 steps in total
    save_steps: 500
    ```

    ## Use instead
    ```yaml
    save_steps: 100
    ```

    ## Fix safety
    No fix: how often to save depends on disk space and run time.
    """
    config, plan = context.config, context.plan
    if not trains(context) or config.value("save_strategy") != "steps":
        return
    if plan.total_steps is None or not plan.save_steps or plan.save_steps < plan.total_steps:
        return
    yield Finding(
        f"`{config.key('save_steps')}: {thousands(plan.save_steps)}` is not below the "
        f"{thousands(plan.total_steps)} steps of the run: only the final checkpoint is saved, "
        "so a crash or an overfit ending leaves nothing earlier to go back to",
        config.span("save_steps"),
        facts={"save_steps": plan.save_steps, "total_steps": plan.total_steps},
    )


@rule("EL409", "warmup-too-long", "warning", fix="suggested")
def warmup_too_long(context: Context) -> Iterator[Finding]:
    """Warmup takes more than 20 % of the run, or all of it.

    ## What it does
    Compares the warmup steps (from `warmup_steps` or `warmup_ratio`, as the selected
    transformers version computes them) with the total steps.

    ## Why is this bad?
    The learning rate only reaches its peak after warmup; a long warmup leaves little of the
    run at the rate you chose, and a warmup longer than the run never reaches it at all.

    ## Example
    ```yaml
    # 200 steps in total
    warmup_steps: 100
    ```

    ## Use instead
    ```yaml
    warmup_ratio: 0.1
    ```

    ## Fix safety
    Suggested: 10 % of the total steps.
    """
    config, plan = context.config, context.plan
    warmup, total = plan.warmup_steps, plan.total_steps
    if not trains(context) or warmup is None or not total:
        return
    limit = context.guidelines["warmup_max_fraction"]
    if warmup <= limit * total:
        return
    fraction = context.guidelines["warmup_fix_fraction"]
    uses_ratio = config.has("warmup_ratio") and not (config.number("warmup_steps") or 0) > 0
    if uses_ratio:
        field = "warmup_ratio"
        edit = config.set("warmup_ratio", fraction)
    else:
        field = "warmup_steps"
        edit = config.set("warmup_steps", max(1, math.ceil(total * fraction)))
    never = warmup >= total
    effect = (
        "the learning rate never reaches its peak"
        if never
        else f"{warmup / total:.0%} of the run is spent below the chosen learning rate"
    )
    yield Finding(
        f"warmup is {thousands(warmup)} of {thousands(total)} steps: {effect}; "
        f"use {format_value(edit.value)} ({fraction:.0%})",
        config.span(field),
        Fix((edit,), "suggested"),
        {"warmup_steps": warmup, "total_steps": total},
    )


SCHEDULE_NUMBERS = (
    "num_train_epochs", "max_steps", "learning_rate", "warmup_ratio", "warmup_steps",
    "logging_steps", "eval_steps", "save_steps", "val_size", "per_device_train_batch_size",
    "gradient_accumulation_steps",
)  # fmt: skip


def _out_of_range(context: Context) -> Iterator[tuple[str, str, Severity]]:
    """(field, why, severity) for every value the trainer refuses or that trains nothing."""
    yield from _non_finite(context)
    yield from _warmup_out_of_range(context)
    yield from _nothing_trained(context)
    yield from _evaluation_out_of_range(context)


def _non_finite(context: Context) -> Iterator[tuple[str, str, Severity]]:
    config = context.config
    for name in SCHEDULE_NUMBERS:
        value = config.value(name)
        # Integer settings get EL102 for any float; here the floats a number field accepts.
        fits = "number" in config.dialect.types(config.key(name))
        if isinstance(value, float) and not math.isfinite(value) and fits and config.has(name):
            yield name, "an infinite or NaN value cannot schedule a run", Severity.ERROR
        elif (
            isinstance(value, int)
            and is_number(value)
            and config.has(name)
            and config.number(name) is None
        ):
            yield name, "a number past the largest float cannot schedule a run", Severity.ERROR
    plan = context.plan
    epochs, per_epoch = config.number("num_train_epochs"), plan.steps_per_epoch
    if epochs and per_epoch and plan.total_steps is None and math.isinf(epochs * per_epoch):
        yield (
            "num_train_epochs",
            f"times {thousands(per_epoch)} steps per epoch it is past the largest float, and "
            "the trainer's `math.ceil` of it raises OverflowError",
            Severity.ERROR,
        )


def _warmup_out_of_range(context: Context) -> Iterator[tuple[str, str, Severity]]:
    config = context.config
    version = context.settings.transformers
    ratio = config.number("warmup_ratio")
    if ratio is not None and config.has("warmup_ratio") and not 0 <= ratio <= 1:
        if version.major < 5:
            yield (
                "warmup_ratio",
                "transformers stops with `warmup_ratio must lie in range [0,1]`",
                Severity.ERROR,
            )
        elif ratio < 0:
            yield (
                "warmup_ratio",
                "transformers 5 stops with `warmup_steps must be an integer or a float`",
                Severity.ERROR,
            )
        else:
            yield (
                "warmup_ratio",
                f"transformers {version} copies it into warmup_steps, where 1 or more is a "
                f"step count ({int(ratio)} steps)",
                Severity.WARNING,
            )
    steps = config.number("warmup_steps")
    if steps is not None and steps < 0:
        yield "warmup_steps", "transformers refuses a negative warmup", Severity.ERROR


def _nothing_trained(context: Context) -> Iterator[tuple[str, str, Severity]]:
    """A batch, a length or a learning rate with which the run trains nothing."""
    config = context.config
    for name in ("per_device_train_batch_size", "gradient_accumulation_steps"):
        value = config.number(name)
        if value is not None and value < 1:
            yield name, "a batch needs at least one row and one accumulation step", Severity.ERROR
    epochs = config.number("num_train_epochs")
    if (
        epochs is not None
        and epochs <= 0
        and not context.plan.max_steps_set
        and config.flag("do_train")
    ):
        yield "num_train_epochs", "with no max_steps this trains zero steps", Severity.ERROR
    rate = config.number("learning_rate")
    if rate is not None and rate <= 0 and config.flag("do_train"):
        yield "learning_rate", "the weights would never change", Severity.ERROR
    max_samples = config.number("max_samples")
    if max_samples is not None and max_samples < 0 and config.has("max_samples"):
        yield (
            "max_samples",
            "LLaMA-Factory keeps the first `range(min(max_samples, rows))` rows of each dataset, "
            "which is none",
            Severity.ERROR,
        )


def _evaluation_out_of_range(context: Context) -> Iterator[tuple[str, str, Severity]]:
    """Logging, the validation split and max_steps: values the trainer refuses."""
    config = context.config
    if config.value("logging_strategy") == "steps" and config.number("logging_steps") == 0:
        yield (
            "logging_steps",
            "transformers stops because the steps strategy `requires non-zero --logging_steps`",
            Severity.ERROR,
        )
    val_size = config.number("val_size")
    if val_size is not None and val_size < 0:
        yield "val_size", "it must be a fraction below 1 or a row count", Severity.ERROR
    if val_size == 1.0:
        yield (
            "val_size",
            "1.0 would hold out every row (the split fails inside `datasets`)",
            Severity.ERROR,
        )
    max_steps = config.number("max_steps")
    if (
        max_steps == 0
        and context.settings.transformers >= Version(4, 49)
        and config.flag("do_train")
    ):
        yield (
            "max_steps",
            "0 is not 'unset' (that is -1): the run stops after the first optimizer step",
            Severity.ERROR,
        )


@rule("EL410", "value-out-of-range", "error")
def value_out_of_range(context: Context) -> Iterator[Finding]:
    """A number outside the range the trainer accepts.

    ## What it does
    Reports `warmup_ratio` outside [0, 1], a negative `warmup_steps`, `.inf` or `.nan` in a
    schedule setting, a batch size or accumulation below 1, zero epochs, a learning rate of 0
    or less, `logging_steps: 0` with the steps strategy, a negative `val_size` or
    `val_size: 1.0`, `max_steps: 0`, a negative `max_samples`, a number past the largest float,
    and so many epochs that the step count passes it (`num_train_epochs: 1.0e308`).

    ## Why is this bad?
    Each either stops the run at start-up (`warmup_ratio must lie in range [0,1]`,
    `requires non-zero --logging_steps`, an OverflowError from `math.ceil`) or trains nothing.

    ## Example
    ```yaml
    warmup_ratio: 10
    ```

    ## Use instead
    ```yaml
    warmup_ratio: 0.1
    ```

    ## Fix safety
    No fix: the intended value is not knowable.
    """
    config = context.config
    for name, why, severity in _out_of_range(context):
        yield Finding(
            f"{_set(context, name)} is out of range: {why}", config.span(name), severity=severity
        )


@rule("EL411", "scheduler-needs-eval", "error")
def scheduler_needs_eval(context: Context) -> Iterator[Finding]:
    """`reduce_lr_on_plateau` (or `greedy`) without evaluation.

    ## What it does
    Reports a scheduler that reacts to the evaluation metric when nothing is evaluated.

    ## Why is this bad?
    transformers stops at start-up: `lr_scheduler_type reduce_lr_on_plateau requires an eval
    strategy`.

    ## Example
    ```yaml
    lr_scheduler_type: reduce_lr_on_plateau
    ```

    ## Use instead
    ```yaml
    lr_scheduler_type: reduce_lr_on_plateau
    val_size: 0.1
    eval_strategy: epoch
    ```

    ## Fix safety
    No fix.
    """
    config = context.config
    scheduler = config.value("lr_scheduler_type")
    needs_eval = {"reduce_lr_on_plateau"}
    if context.settings.transformers >= Version(5, 4):
        needs_eval.add("greedy")
    # A list or mapping here is EL102's to report (and cannot be looked up in a set).
    if isinstance(scheduler, str) and scheduler in needs_eval and not config.evaluation_enabled():
        yield Finding(
            f"`{config.key('lr_scheduler_type')}: {scheduler}` lowers the rate when the eval "
            "metric stops improving, but nothing is evaluated: transformers stops with "
            f"`lr_scheduler_type {scheduler} requires an eval strategy`",
            config.span("lr_scheduler_type"),
        )


@rule("EL412", "eval-steps-ignored", "warning", fix="safe")
def eval_steps_ignored(context: Context) -> Iterator[Finding]:
    """`eval_steps`, `save_steps` or `logging_steps` set where their strategy ignores them.

    ## What it does
    Reports a `*_steps` value when the matching `*_strategy` is `epoch` or `no`.

    ## Why is this bad?
    The number does nothing, but a reader believes it: the seed's `eval_strategy: epoch` with
    `eval_steps: 1` evaluates once per epoch, not every step. Axolotl refuses the mismatch
    outright (`eval_strategy and eval_steps mismatch`), so there it is an error.

    ## Example
    ```yaml
    eval_strategy: epoch
    eval_steps: 1
    ```

    ## Use instead
    ```yaml
    eval_strategy: epoch
    ```

    ## Fix safety
    Safe: removing an ignored value changes nothing.
    """
    config = context.config
    for kind in ("eval", "save", "logging"):
        steps, strategy = f"{kind}_steps", f"{kind}_strategy"
        if not config.given(steps) or config.value(strategy) not in ("epoch", "no"):
            continue
        if not config.has(strategy) and (kind == "save" or config.refuses_contradictions):
            continue  # only an explicit strategy contradicts the steps
        if config.refuses_contradictions and kind != "logging":
            yield Finding(
                f"{_set(context, steps)} with {_set(context, strategy)}: "
                f"{config.dialect.title} stops with `{strategy} and {steps} mismatch. Please set "
                f"{strategy} to 'steps' or remove {steps}.`",
                config.span(steps),
                Fix((config.remove(steps),), "safe"),
                severity=Severity.ERROR,
            )
            continue
        yield Finding(
            f"{_set(context, steps)} is ignored because {_set(context, strategy)}; remove it "
            f"(or use `{config.key(strategy)}: steps`)",
            config.span(steps),
            Fix((config.remove(steps),), "safe"),
        )


@rule("EL413", "sparse-logging", "info", fix="suggested")
def sparse_logging(context: Context) -> Iterator[Finding]:
    """So few logged loss values that the training curve cannot be read.

    ## What it does
    Reports a steps logging interval that gives fewer than 10 loss points over the run
    (transformers logs every 500 steps unless told otherwise).

    ## Why is this bad?
    Monitoring is how overfitting and divergence are spotted; a loss curve of two points
    shows neither.

    ## Example
    ```yaml
    # 411 steps in total, logging_steps not set (500)
    ```

    ## Use instead
    ```yaml
    logging_steps: 10
    ```

    ## Fix safety
    Suggested: an interval that logs about 10 points (more is fine).
    """
    config, plan = context.config, context.plan
    wanted = context.guidelines["min_log_points"]
    if not trains(context) or config.value("logging_strategy") != "steps":
        return
    total, interval = plan.total_steps, plan.logging_steps
    if total is None or interval is None or total < wanted or (plan.log_points or 0) >= wanted:
        return
    better = max(1, total // wanted)
    written = (
        _set(context, "logging_steps")
        if config.has("logging_steps")
        else f"`{config.key('logging_steps')}` is not set (default {format_value(interval)}), so it"
    )
    yield Finding(
        f"{written} logs the loss {plan.log_points} time{'s' if plan.log_points != 1 else ''} in "
        f"{thousands(total)} steps: too few points to see overfitting or divergence; use "
        f"`{config.key('logging_steps')}: {better}`",
        config.span("logging_steps"),
        Fix((config.set("logging_steps", better),), "suggested"),
        {"log_points": plan.log_points, "total_steps": total},
    )


@rule("EL414", "warmup-steps-and-ratio", "warning", fix="safe")
def warmup_steps_and_ratio(context: Context) -> Iterator[Finding]:
    """Both `warmup_steps` and `warmup_ratio` are set: one of them does nothing.

    ## What it does
    Reports configs that set both warmups to non-zero values, and says which one wins: in
    transformers 4.x `warmup_steps`, in 5.0-5.14 `warmup_ratio` (it is copied over
    `warmup_steps`); Axolotl refuses the combination.

    ## Why is this bad?
    The ignored number misleads whoever reads the config, and upgrading transformers from 4.x
    to 5.x silently swaps which one applies. Axolotl stops with `warmup_steps and warmup_ratio
    are mutually exclusive`.

    ## Example
    ```yaml
    warmup_steps: 100
    warmup_ratio: 0.1
    ```

    ## Use instead
    ```yaml
    warmup_ratio: 0.1
    ```

    ## Fix safety
    Safe for transformers: the fix removes the value that is ignored. No fix for Axolotl,
    where neither is applied yet and the choice is yours.
    """
    config = context.config
    steps, ratio = config.number("warmup_steps"), config.number("warmup_ratio")
    if not (config.has("warmup_steps") and config.has("warmup_ratio") and steps and ratio):
        return
    both = f"{_set(context, 'warmup_steps')} and {_set(context, 'warmup_ratio')}"
    if config.refuses_contradictions:
        yield Finding(
            f"{both} are both set: {config.dialect.title} stops with `warmup_steps and "
            "warmup_ratio are mutually exclusive`; keep one",
            config.span("warmup_ratio"),
            severity=Severity.ERROR,
        )
        return
    version = context.settings.transformers
    ignored = "warmup_ratio" if version.major < 5 else "warmup_steps"
    yield Finding(
        f"{both} are both set: transformers {version} uses "
        f"`{config.key('warmup_steps' if ignored == 'warmup_ratio' else 'warmup_ratio')}` and "
        f"ignores `{config.key(ignored)}` (the two swap places between 4.x and 5.x); remove it",
        config.span(ignored),
        Fix((config.remove(ignored),), "safe"),
    )


@rule("EL415", "cadence-conflict", "error")
def cadence_conflict(context: Context) -> Iterator[Finding]:
    """Axolotl's `eval_steps` with `evals_per_epoch`, or `save_steps` with `saves_per_epoch`.

    ## What it does
    Reports two ways of setting the same cadence.

    ## Why is this bad?
    Axolotl refuses the config: `eval_steps and evals_per_epoch are mutually exclusive and
    cannot be used together.` (and the same for saving).

    ## Example
    ```yaml
    eval_steps: 100
    evals_per_epoch: 4
    ```

    ## Use instead
    ```yaml
    evals_per_epoch: 4
    ```

    Like Axolotl, a key set to null or 0 counts as unset (`eval_steps: null` beside
    `evals_per_epoch: 4` is fine).

    ## Fix safety
    No fix: keep the one you meant.

    ## Source
    axolotl `src/axolotl/utils/schemas/validation.py`: `check_evals`, `check_saves`.
    """
    config = context.config
    for steps, per_epoch in (("eval_steps", "evals_per_epoch"), ("save_steps", "saves_per_epoch")):
        if config.given(steps) and config.given(per_epoch):
            yield Finding(
                f"{_set(context, steps)} and `{per_epoch}` are both set: {config.dialect.title} "
                f"stops with `{steps} and {per_epoch} are mutually exclusive and cannot be used "
                "together.`; keep one",
                config.span(per_epoch),
            )


@rule("EL416", "cadence-ignored", "warning")
def cadence_ignored(context: Context) -> Iterator[Finding]:
    """Axolotl's `evals_per_epoch` that silently evaluates nothing.

    ## What it does
    Reports `evals_per_epoch` without evaluation data (no `val_set_size`, no
    `test_datasets`), and `evals_per_epoch` x `num_epochs` of 1 or less, where Axolotl sets no
    evaluation at all instead of one at the end. `evals_per_epoch: null` or `0` asks for no
    cadence and is not reported.

    ## Why is this bad?
    The config looks as if it evaluates, but the run never does: overfitting goes unseen and
    there is no eval loss to compare runs with.

    ## Example
    ```yaml
    val_set_size: 0.05
    evals_per_epoch: 1
    num_epochs: 1
    ```

    ## Use instead
    ```yaml
    val_set_size: 0.05
    evals_per_epoch: 4
    num_epochs: 1
    ```

    ## Fix safety
    No fix.

    ## Source
    axolotl `src/axolotl/utils/config/__init__.py`: `normalize_config` converts
    `evals_per_epoch` only with evaluation data and only to a fraction below 1.
    """
    config = context.config
    if not config.given("evals_per_epoch") or config.given("eval_steps"):
        return  # like Axolotl, a null or 0 is unset
    per_epoch = config.number("evals_per_epoch")
    if not per_epoch:
        return  # null or 0 asks for no evaluation cadence, which is what happens
    epochs = config.number("num_train_epochs")
    if not config.has_eval_data():
        yield Finding(
            f"`evals_per_epoch: {format_value(config.value('evals_per_epoch'))}` does nothing "
            "without evaluation "
            f"data: set `{config.key('val_size')}` or `{config.key('eval_dataset')}`",
            config.span("evals_per_epoch"),
        )
    elif epochs and per_epoch * epochs <= 1:
        written = format_value(config.value("num_train_epochs"))
        yield Finding(
            f"`evals_per_epoch: {format_value(config.value('evals_per_epoch'))}` over {written} "
            f"epoch{'s' if epochs != 1 else ''} is one evaluation per run or less, and then "
            f"{config.dialect.title} sets no evaluation at all; use `evals_per_epoch: 4`",
            config.span("evals_per_epoch"),
        )
