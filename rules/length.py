"""EL2: training length against the data size and the fine-tuning method (the seed's core)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from epochlint.diagnostic import Fix, Severity, format_value, thousands
from epochlint.facts.context import Context
from epochlint.facts.guidelines import (
    METHOD_NAMES,
    STAGE_NAMES,
    EpochCell,
    number_text,
    range_text,
    stage_group,
)
from epochlint.rules import Finding, rule


def method_name(context: Context) -> str:
    return METHOD_NAMES.get(context.config.method, context.config.method)


def trains(context: Context) -> bool:
    """Length rules are about training runs of the stages the guide covers (SFT)."""
    config = context.config
    return config.flag("do_train") and config.stage in context.guidelines["length_stages"]


def data_phrase(context: Context) -> str:
    rows = context.plan.dataset_rows
    if rows is None:
        return "data of unknown size"
    return f"{thousands(rows)} rows ({context.tier})"


def guided_epochs(context: Context) -> float | None:
    """The epochs once EL201's guideline is followed (more than the range's top is EL201's)."""
    epochs = context.plan.epochs
    return None if epochs is None else min(epochs, context.epoch_range()[1])


def many_epochs(context: Context) -> bool:
    """Enough epochs (after EL201's guideline) that overfitting is likely."""
    epochs = guided_epochs(context)
    return epochs is not None and epochs >= context.guidelines["early_stopping_epochs_from"]


def overfitting_unwatched(context: Context) -> bool:
    """Many epochs or small data, and no evaluation to notice overfitting (EL406's case)."""
    if context.config.evaluation_enabled():
        return False
    return many_epochs(context) or context.tier == "small"


@rule("EL201", "too-many-epochs", "warning", fix="suggested")
def too_many_epochs(context: Context) -> Iterator[Finding]:
    """More epochs than the data size and method support: the model memorises the data.

    ## What it does
    Compares the epochs (or the epochs that `max_steps` implies) with the guideline cell for
    the stage, the method and the number of training rows (README "The guideline tables").
    Every cell has a recommended range and a wider tolerated one, what published, successful
    recipes use: above the recommended range but inside the tolerated one the finding is info
    (for example 3 epochs of full fine-tuning, as Alpaca and Vicuna train); above the tolerated
    range it is a warning. SFT cells depend on the method and the data size (LoRA 5-8 epochs
    below 1,000 rows, tolerated 3-10); preference stages (DPO, KTO, ORPO, SimPO) recommend 1-3
    and tolerate 1-5, reward models 1-2 and 1-4. Pre-training (token budgets) and PPO are not
    checked.

    ## Why is this bad?
    Every extra pass over a small dataset pushes the model from learning the task to
    reproducing the training rows: eval loss turns up while train loss keeps falling, and
    the GPU hours after that point make the model worse.

    ## Example
    ```yaml
    # 3,000 rows, LoRA
    num_train_epochs: 10
    ```

    ## Use instead
    ```yaml
    num_train_epochs: 5
    ```

    ## Source
    The recommended ranges are the guide's; the tolerated ranges come from published recipes:
    full fine-tuning for 3 epochs (Alpaca, Vicuna, LLaMA-Factory's full-SFT examples),
    LoRA/QLoRA for 1 epoch on 50k-230k rows (Zephyr's QLoRA SFT, Unsloth's and Axolotl's
    defaults), DPO for 1 epoch (Zephyr, Tulu 3) and LoRA DPO/KTO/ORPO for 3. LIMA's 15 epochs
    on 1,000 rows stay a warning. Long chain-of-thought distillation trains longer on purpose:
    keep such a value with a suppression comment or a table override.

    ## Fix safety
    Suggested: it changes training (to the upper edge of the recommended range; for
    `max_steps`, the steps of that many epochs). `--fix` applies it only to the warning; the
    info finding's fix needs `--info-fixes`.
    """
    config, plan = context.config, context.plan
    cell = context.epoch_cell()
    epochs = plan.epochs
    if cell is None or not config.flag("do_train") or epochs is None:
        return
    low, high = cell.recommended
    if epochs <= high + 1e-9:
        return
    warn = epochs > cell.tolerated[1] + 1e-9
    facts = {
        "epochs": epochs,
        "range": [low, high],
        "tolerated": list(cell.tolerated),
        "dataset_rows": plan.dataset_rows,
        "total_steps": plan.total_steps,
        "method": config.method,
        "tier": context.tier,
    }
    if warn:
        consequence = (
            f": {thousands(plan.total_steps)} steps that will memorise the data"
            if plan.total_steps
            else "; the model will memorise the data"
        )
    else:
        consequence = ""
    tail = ", and enable early stopping (EL406)" if warn and overfitting_unwatched(context) else ""
    if plan.max_steps_set and plan.steps_per_epoch:
        capped = round(high * plan.steps_per_epoch)
        key = config.key("max_steps")
        stated = (
            f"`{key}: {thousands(plan.total_steps)}` trains {thousands(epochs)} epochs "
            f"({thousands(plan.steps_per_epoch)} steps each),"
        )
        memorises = "; it will memorise the data" if warn else ""
        yield Finding(
            _length_message(context, stated, "above", cell, warn, memorises)
            + f"; use {thousands(capped)} steps ({format_value(high)} epochs){tail}"
            + (_keep_on_purpose(context, "EL201") if warn else ""),
            config.span("max_steps"),
            Fix((config.set("max_steps", capped),), "suggested"),
            facts,
            None if warn else Severity.INFO,
        )
        return
    if plan.max_steps_set:
        return
    key = config.key("num_train_epochs")
    stated = f"`{key}: {format_value(config.value('num_train_epochs'))}` is"
    yield Finding(
        _length_message(context, stated, "above", cell, warn, consequence)
        + _use(high, cell, warn)
        + tail
        + (_keep_on_purpose(context, "EL201") if warn else ""),
        config.span("num_train_epochs"),
        Fix((config.set("num_train_epochs", _epochs_as_written(context, high)),), "suggested"),
        facts,
        None if warn else Severity.INFO,
    )


def _run_phrase(context: Context) -> str:
    """What is trained on what: `LoRA on 3,000 rows (medium)`, `DPO with full fine-tuning`."""
    group = stage_group(context.guidelines, context.config.stage)
    if group in (None, "sft"):
        return f"{method_name(context)} on {data_phrase(context)}"
    stage = STAGE_NAMES.get(context.config.stage, context.config.stage)
    return f"{stage} with {method_name(context)}"


def _length_message(
    context: Context, stated: str, side: str, cell: EpochCell, warn: bool, consequence: str
) -> str:
    """`stated` against the cell: a warning names the tolerated range, info both ranges."""
    recommended, tolerated = range_text(*cell.recommended), range_text(*cell.tolerated)
    run = _run_phrase(context)
    if recommended == tolerated:  # one range (a table override written as [low, high])
        return f"{stated} {side} the {recommended} range for {run}{consequence}"
    if warn:
        return (
            f"{stated} {side} the {tolerated} epochs that even published recipes use for "
            f"{run}{consequence}"
        )
    return (
        f"{stated} {side} the {recommended} epochs the guide recommends for {run}; "
        f"{tolerated} is common in published recipes{consequence}"
    )


def _use(value: float, cell: EpochCell, warn: bool) -> str:
    """The advice: the nearest edge of the recommended range."""
    advice = f"; use {number_text(value)}"
    if warn and cell.recommended != cell.tolerated:
        advice += f" (the guide recommends {range_text(*cell.recommended)})"
    return advice


def _keep_on_purpose(context: Context, code: str) -> str:
    """How to keep a value on purpose: a suppression comment, or a table override."""
    group = stage_group(context.guidelines, context.config.stage)
    if group == "sft":
        table = f"guidelines.epochs.{context.method_row}.{context.tier}"
    else:
        table = f"guidelines.stage_epochs.{group}"
    return (
        f". To keep it on purpose, add `# epochlint: disable={code}` above the line, or set "
        f"`{table}` in the configuration"
    )


def _whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _epochs_as_written(context: Context, value: float) -> float | int:
    """The new epoch count in the config's own style: `3.0` stays a float, `3` an int."""
    if isinstance(context.config.value("num_train_epochs"), float):
        return float(value)
    return _whole(value)


@rule("EL202", "too-few-epochs", "warning", fix="suggested")
def too_few_epochs(context: Context) -> Iterator[Finding]:
    """Fewer epochs than the data size and method need: the model undertrains.

    ## What it does
    Compares `num_train_epochs` (or its default, 3) with the lower edges of the guideline cell
    for the stage, the method and the data size: below the recommended range but inside the
    tolerated one (1 epoch of LoRA on 50,000 rows, as Zephyr, Unsloth and Axolotl train) the
    finding is info; below the tolerated range it is a warning. A run capped with `max_steps`
    is a deliberate choice and is not reported, and neither is an SFT run whose data size is
    unknown: on a large dataset one or two epochs are right.

    ## Why is this bad?
    With too few passes the adapter has not learned the task: loss is still falling when
    training stops, and the run has to be repeated.

    ## Example
    ```yaml
    # 5,000 rows, LoRA
    num_train_epochs: 1
    ```

    ## Use instead
    ```yaml
    num_train_epochs: 3
    ```

    ## Fix safety
    Suggested: it changes training (to the lower edge of the recommended range). `--fix`
    applies it only to the warning; the info finding's fix needs `--info-fixes`.
    """
    config = context.config
    cell = context.epoch_cell()
    if cell is None or not config.flag("do_train") or context.plan.max_steps_set:
        return
    group = stage_group(context.guidelines, config.stage)
    if group == "sft" and context.plan.dataset_rows is None:
        return  # with N unknown the data may be large, where few epochs are right
    epochs = config.number("num_train_epochs")
    low, high = cell.recommended
    if epochs is None or epochs >= low - 1e-9:
        return
    warn = epochs < cell.tolerated[0] - 1e-9
    key = config.key("num_train_epochs")
    written = (
        f"`{key}: {format_value(config.value('num_train_epochs'))}` is"
        if config.has("num_train_epochs")
        else f"`{key}` is not set, so the default {format_value(epochs)} is"
    )
    steps = context.plan.total_steps
    consequence = ""
    if warn:
        consequence = (f" ({thousands(steps)} steps)" if steps else "") + (
            ": the model will undertrain"
        )
    yield Finding(
        _length_message(context, written, "below", cell, warn, consequence)
        + _use(low, cell, warn)
        + (_keep_on_purpose(context, "EL202") if warn else ""),
        config.span("num_train_epochs"),
        Fix((config.set("num_train_epochs", _epochs_as_written(context, low)),), "suggested"),
        {
            "epochs": epochs,
            "range": [low, high],
            "tolerated": list(cell.tolerated),
            "dataset_rows": context.plan.dataset_rows,
        },
        None if warn else Severity.INFO,
    )


@rule("EL203", "max-steps-overrides-epochs", "warning", fix="safe")
def max_steps_overrides_epochs(context: Context) -> Iterator[Finding]:
    """`max_steps` and `num_train_epochs` are both set: the epochs are ignored.

    ## What it does
    Reports `num_train_epochs` when `max_steps` is positive, with the number of epochs that
    `max_steps` really trains on this data.

    ## Why is this bad?
    transformers stops at `max_steps` whatever `num_train_epochs` says; a reader of the config
    believes a number that does nothing, and the real length changes with the data size and
    the GPU count.

    ## Example
    ```yaml
    num_train_epochs: 3
    max_steps: 1000
    ```

    ## Use instead
    ```yaml
    max_steps: 1000
    ```

    In Axolotl `max_steps` caps its own step estimate instead: there the finding is made only
    when the cap cuts the epochs short, and it has no fix.

    ## Fix safety
    Safe: removing `num_train_epochs` does not change what the run does.
    """
    config, plan = context.config, context.plan
    if not plan.max_steps_set or not config.has("num_train_epochs"):
        return
    if config.max_steps_caps_estimate:
        yield from _max_steps_caps(context)
        return
    steps = thousands(plan.total_steps)
    if plan.epochs is not None and plan.steps_per_epoch:
        epochs = thousands(plan.epochs)
        really = (
            f"{epochs} epoch{'' if epochs == '1' else 's'} of {thousands(plan.dataset_rows)} rows "
            f"({thousands(plan.steps_per_epoch)} steps per epoch on {plan.world_size} GPU"
            f"{'s' if plan.world_size != 1 else ''})"
        )
    else:
        really = "a number of epochs that depends on the data size"
    yield Finding(
        f"`{config.key('max_steps')}: {steps}` overrides `{config.key('num_train_epochs')}: "
        f"{format_value(config.value('num_train_epochs'))}`: the run stops at step {steps}, "
        f"which is {really}; remove `{config.key('num_train_epochs')}`",
        config.span("num_train_epochs"),
        Fix((config.remove("num_train_epochs"),), "safe"),
        {"max_steps": plan.total_steps, "implied_epochs": plan.epochs},
    )


def _max_steps_caps(context: Context) -> Iterator[Finding]:
    """Axolotl runs min(its estimate, max_steps): max_steps only matters when it cuts."""
    config, plan = context.config, context.plan
    epochs = config.number("num_train_epochs")
    if plan.steps_per_epoch is None or epochs is None or plan.total_steps is None:
        return
    estimate = math.ceil(epochs * plan.steps_per_epoch)
    if plan.total_steps >= estimate:
        return
    yield Finding(
        f"`{config.key('max_steps')}: {thousands(plan.total_steps)}` stops the run before "
        f"`{config.key('num_train_epochs')}: {format_value(config.value('num_train_epochs'))}` "
        f"ends ({thousands(estimate)} "
        f"steps): it trains {thousands(plan.epochs)} epochs",
        config.span("num_train_epochs"),
        facts={"max_steps": plan.total_steps, "estimate": estimate, "implied_epochs": plan.epochs},
    )


@rule("EL204", "step-explosion", "warning", fix="suggested")
def step_explosion(context: Context) -> Iterator[Finding]:
    """A tiny effective batch with a huge number of optimizer steps.

    ## What it does
    Reports an effective batch (per-device batch x accumulation x GPUs) below 8 with more
    than 5,000 optimizer steps, and proposes the gradient accumulation that reaches an
    effective batch of 16 while keeping the per-device batch, so GPU memory does not change.

    ## Why is this bad?
    A batch of 1 gives noisy gradients and spends most of the run on optimizer overhead: the
    seed's example (batch 1, 10,000 rows, 2 epochs) makes 20,000 steps where 1,250 would do.

    ## Example
    ```yaml
    per_device_train_batch_size: 1
    gradient_accumulation_steps: 1
    ```

    ## Use instead
    ```yaml
    per_device_train_batch_size: 1
    gradient_accumulation_steps: 16
    ```

    ## Fix safety
    Suggested: it changes the optimisation (a larger batch often wants a larger learning
    rate).
    """
    if not trains(context):
        return
    config, plan = context.config, context.plan
    limits = context.guidelines["step_explosion"]
    effective, total = plan.effective_batch, plan.total_steps
    if effective is None or total is None or plan.per_device_batch is None:
        return
    if effective >= limits["effective_batch_below"] or total <= limits["total_steps_above"]:
        return
    per_step = plan.per_device_batch * plan.world_size
    accumulation = math.ceil(limits["target_effective_batch"] / per_step)
    new_effective = per_step * accumulation
    message = (
        f"effective batch {effective} (per-device {plan.per_device_batch} x accumulation "
        f"{plan.gradient_accumulation} x {plan.world_size} GPU"
        f"{'s' if plan.world_size != 1 else ''}) makes {thousands(total)} optimizer steps"
    )
    fix = None
    facts = {"effective_batch": effective, "total_steps": total, "accumulation": accumulation}
    if plan.max_steps_set or plan.dataset_rows is None or plan.epochs is None:
        message += (
            f"; `{config.key('gradient_accumulation_steps')}: {accumulation}` gives an "
            f"effective batch of {new_effective}"
        )
    else:
        batches = math.ceil(plan.dataset_rows / per_step)
        new_total = math.ceil(plan.epochs * max(math.ceil(batches / accumulation), 1))
        facts["new_total_steps"] = new_total
        message += (
            f"; `{config.key('gradient_accumulation_steps')}: {accumulation}` gives an effective "
            f"batch of {new_effective} and {thousands(new_total)} steps with the same GPU memory "
            f"(consider scaling the learning rate with the batch)"
        )
        fix = Fix((config.set("gradient_accumulation_steps", accumulation),), "suggested")
    yield Finding(
        message,
        config.span("gradient_accumulation_steps") or config.span("per_device_train_batch_size"),
        fix,
        facts,
    )


@rule("EL205", "too-few-steps", "warning")
def too_few_steps(context: Context) -> Iterator[Finding]:
    """So few optimizer steps that scheduling, logging and checkpoints mean nothing.

    ## What it does
    Reports runs with fewer than 10 optimizer steps in total.

    ## Why is this bad?
    Warmup and decay happen in a handful of updates, loss curves have no points, and the
    result depends on the luck of a few batches. Usually the data is much smaller than
    intended, or the batch is far too large for it (GPUs multiply the batch).

    ## Example
    ```yaml
    # 91 rows, 8 GPUs
    per_device_train_batch_size: 1
    gradient_accumulation_steps: 8
    num_train_epochs: 3
    ```

    ## Use instead
    More data, a smaller accumulation, or fewer GPUs for this dataset.

    ## Fix safety
    No fix: the right change depends on what you meant.
    """
    if not trains(context):
        return
    plan = context.plan
    threshold = context.guidelines["too_few_steps_below"]
    if plan.total_steps is None or plan.total_steps >= threshold:
        return
    detail = ""
    if plan.dataset_rows is not None and plan.effective_batch is not None:
        detail = (
            f" ({thousands(plan.dataset_rows)} rows / effective batch {plan.effective_batch} = "
            f"{thousands(plan.steps_per_epoch)} per epoch)"
        )
    yield Finding(
        f"the run makes only {plan.total_steps} optimizer steps{detail}: warmup, the "
        "learning-rate schedule, logging and checkpoints cannot work in so few updates",
        context.config.span("num_train_epochs") or context.config.span("max_steps"),
        facts={"total_steps": plan.total_steps, "dataset_rows": plan.dataset_rows},
    )


BATCH_FIELDS = ("per_device_train_batch_size", "gradient_accumulation_steps", "batch_size")


@rule("EL206", "batch-size-fields", "error", fix="safe")
def batch_size_fields(context: Context) -> Iterator[Finding]:
    """Axolotl's batch set with fewer than two of its three fields, or with both totals.

    ## What it does
    Axolotl needs two of `micro_batch_size`, `gradient_accumulation_steps` and `batch_size`,
    and not both `gradient_accumulation_steps` and `batch_size`.

    ## Why is this bad?
    Axolotl refuses the config: `At least two of micro_batch_size,
    gradient_accumulation_steps, batch_size must be set` / `please set only one of
    gradient_accumulation_steps or batch_size`.

    ## Example
    ```yaml
    micro_batch_size: 2
    ```

    ## Use instead
    ```yaml
    micro_batch_size: 2
    gradient_accumulation_steps: 1
    ```

    ## Fix safety
    Safe when one field is missing: the fix writes the default Axolotl documents (1), which
    keeps the batch.

    ## Source
    axolotl `src/axolotl/utils/schemas/config.py`: `check_batch_size_fields`, and
    `validation.py`: `check_gas_bsz` (both run on the YAML as written, so a 0 counts as unset).
    """
    config = context.config
    if not config.batch_fields_required:
        return
    given = [name for name in BATCH_FIELDS if config.given(name)]
    keys = ", ".join(config.key(name) for name in BATCH_FIELDS)
    if len(given) < 2:
        fix = None
        if given == ["per_device_train_batch_size"]:
            fix = Fix((config.set("gradient_accumulation_steps", 1),), "safe")
        elif given == ["gradient_accumulation_steps"]:
            fix = Fix((config.set("per_device_train_batch_size", 1),), "safe")
        yield Finding(
            f"only {len(given)} of {keys} {'is' if len(given) == 1 else 'are'} set: "
            f"{config.dialect.title} stops with `At least two of {keys} must be set`",
            config.span(given[0]) if given else None,
            fix,
        )
    elif "gradient_accumulation_steps" in given and "batch_size" in given:
        yield Finding(
            f"`{config.key('gradient_accumulation_steps')}` and `batch_size` are both set: "
            f"{config.dialect.title} stops with `please set only one of "
            "gradient_accumulation_steps or batch_size`; keep `gradient_accumulation_steps` "
            "(batch_size counts per device, not per run)",
            config.span("batch_size"),
        )
