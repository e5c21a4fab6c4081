"""EL5: the training data: where N comes from, and data settings that stop a run."""

from __future__ import annotations

from collections.abc import Iterator

from epochlint.diagnostic import Fix, thousands
from epochlint.facts.context import Context
from epochlint.rules import Finding, rule

# Rules that need the total number of steps, which needs N unless max_steps is set.
STEP_RULES = ("EL204", "EL205", "EL407", "EL408", "EL409", "EL413")
HOW_TO_GIVE_N = "pass `--dataset-size N` or add a `# epochlint: dataset-size=N` comment"


def _dataset_problems(context: Context, code: str) -> Iterator[Finding]:
    resolution = context.datasets
    if resolution is None:
        return
    config = context.config
    for problem in resolution.problems:
        if problem.code != code:
            continue
        field = "dataset"
        if problem.dataset and problem.dataset in config.names("eval_dataset"):
            if problem.dataset not in config.names("dataset"):
                field = "eval_dataset"
        fix = None
        if problem.suggestion and problem.dataset and isinstance(config.value(field), str):
            names = [problem.suggestion if n == problem.dataset else n for n in config.names(field)]
            fix = Fix((config.set(field, ",".join(names)),), "safe")
        span = config.span(field) if problem.dataset else config.span("dataset_dir")
        yield Finding(
            problem.message, span or config.span("dataset"), fix, {"dataset": problem.dataset}
        )


@rule("EL501", "dataset-size-unknown", "info")
def dataset_size_unknown(context: Context) -> Iterator[Finding]:
    """The number of training rows N could not be determined.

    ## What it does
    Says why N is unknown (a hub dataset, streaming, no `dataset_info.json` where the run
    starts, packing), which checks were skipped, and how to provide N.

    ## Why is this bad?
    Epoch ranges, step counts, warmup and evaluation schedules all depend on N; without it
    those checks cannot run.

    ## Example
    ```yaml
    dataset: my_hub_dataset
    ```

    ## Use instead
    ```yaml
    # epochlint: dataset-size=25000
    dataset: my_hub_dataset
    ```

    ## Fix safety
    No fix.
    """
    config, plan = context.config, context.plan
    if not config.flag("do_train") or plan.dataset_rows is not None:
        return
    reasons = []
    if context.datasets is not None:
        reasons = [p.message for p in context.datasets.problems if p.code == "EL501"]
    if context.rows.source is None and context.rows.note:
        reasons.append(context.rows.note)
    if not reasons:
        return  # another finding (EL502, EL503, EL506) already says what is wrong
    step_rules = [code for code in STEP_RULES if context.settings.enabled(code)]
    skipped = ""
    if plan.total_steps is None and step_rules:
        skipped = f"; skipped: {', '.join(step_rules)}"
    for reason in reasons:
        message = reason if HOW_TO_GIVE_N.split("`")[1] in reason else f"{reason}; {HOW_TO_GIVE_N}"
        yield Finding(message + skipped, config.span("dataset"))


@rule("EL502", "undefined-dataset", "error", fix="safe")
def undefined_dataset(context: Context) -> Iterator[Finding]:
    """A dataset name that `dataset_info.json` does not define.

    ## What it does
    Looks up every name in `dataset` and `eval_dataset` in `<dataset_dir>/dataset_info.json`
    (relative to the folder the run starts in, as LLaMA-Factory resolves it).

    ## Why is this bad?
    LLaMA-Factory stops while loading data, after the model: `Undefined dataset med in
    dataset_info.json.`

    ## Example
    ```yaml
    dataset: alpaca_en_dem
    ```

    ## Use instead
    ```yaml
    dataset: alpaca_en_demo
    ```

    ## Source
    LLaMA-Factory `data/parser.py: get_dataset_list`, for a name that is not a key of
    `<dataset_dir>/dataset_info.json`: `Undefined dataset {name} in dataset_info.json.`

    ## Fix safety
    Safe when exactly one defined name is close.
    """
    return _dataset_problems(context, "EL502")


@rule("EL503", "dataset-file-missing", "error")
def dataset_file_missing(context: Context) -> Iterator[Finding]:
    """A dataset's file or folder is missing, unreadable, or of an unsupported or mixed type.

    ## What it does
    Checks the `file_name` of each local dataset entry: that it exists, that its type is one
    of arrow, csv, json, jsonl, parquet, txt, that a folder holds one type, that the file
    is complete (a truncated JSON file is reported with its byte offset) and parses as the
    real reader parses it (a CSV quote left open, JSON nested deeper than 1,024 levels), and
    that its `num_samples` is not negative.

    ## Why is this bad?
    LLaMA-Factory stops while loading data: `File data/x.json not found.`, `Allowed file
    types: arrow,csv,json,jsonl,parquet,txt.`, `File types should be identical.`

    ## Example
    ```json
    {"my_data": {"file_name": "my_data.jsonl"}}
    ```

    ## Use instead
    Put `my_data.jsonl` next to `dataset_info.json`, or fix `file_name`.

    ## Source
    LLaMA-Factory `data/loader.py: _load_single_dataset`: `File {path} not found.`, `Allowed
    file types: arrow,csv,json,jsonl,parquet,txt.` and `File types should be identical.`

    ## Fix safety
    No fix.
    """
    return _dataset_problems(context, "EL503")


@rule("EL504", "streaming-needs-max-steps", "error")
def streaming_needs_max_steps(context: Context) -> Iterator[Finding]:
    """`streaming: true` without `max_steps`, or with `max_samples`.

    ## What it does
    Reports streaming configs that cannot start.

    ## Why is this bad?
    A streamed dataset has no length, so the trainer cannot turn epochs into steps:
    ``Please specify `max_steps` in streaming mode.``; and ``\\`max_samples\\` is
    incompatible with \\`streaming\\`.``

    ## Example
    ```yaml
    streaming: true
    num_train_epochs: 3
    ```

    ## Use instead
    ```yaml
    streaming: true
    max_steps: 2000
    ```

    ## Source
    LLaMA-Factory `hparams/parser.py: get_train_args`, when `max_steps == -1` and `streaming`:
    ``Please specify `max_steps` in streaming mode.``; `hparams/data_args.py:
    DataArguments.__post_init__`, when `max_samples` is set with `streaming`:
    `` `max_samples` is incompatible with `streaming`. ``

    ## Fix safety
    No fix.
    """
    config = context.config
    if not config.flag("streaming"):
        return
    if not context.plan.max_steps_set and config.flag("do_train"):
        yield Finding(
            f"`{config.key('streaming')}: true` needs `{config.key('max_steps')}`: a streamed "
            "dataset has no length, and LLaMA-Factory stops with ``Please specify `max_steps` "
            "in streaming mode.``",
            config.span("streaming"),
        )
    if config.value("max_samples") is not None:
        yield Finding(
            f"`{config.key('max_samples')}` cannot be used with `{config.key('streaming')}: "
            "true`: LLaMA-Factory stops with ``max_samples is incompatible with streaming``",
            config.span("max_samples"),
        )


@rule("EL505", "ranking-stage-mismatch", "error")
def ranking_stage_mismatch(context: Context) -> Iterator[Finding]:
    """A preference dataset with a non-preference stage, or the reverse.

    ## What it does
    `stage: rm` and `stage: dpo` need datasets marked `ranking: true` in
    `dataset_info.json` (chosen/rejected pairs); `sft`, `pt`, `kto` and `ppo` need datasets
    without it.

    ## Why is this bad?
    LLaMA-Factory stops while loading data: `The dataset is not applicable in the current
    training stage.`

    ## Example
    ```yaml
    stage: dpo
    dataset: alpaca_en_demo
    ```

    ## Use instead
    ```yaml
    stage: dpo
    dataset: dpo_en_demo
    ```

    ## Source
    LLaMA-Factory `data/loader.py: _get_merged_dataset`, for each dataset: `(stage == "rm" and
    ranking is False) or (stage != "rm" and ranking is True)` raises `The dataset is not
    applicable in the current training stage.` (the DPO and RM workflows load data as stage
    `rm`).

    ## Fix safety
    No fix.
    """
    config = context.config
    if context.datasets is None or not config.ranking_known:
        return
    needs_ranking = config.stage in ("rm", "dpo")
    for item in (*context.datasets.datasets, *context.datasets.eval_datasets):
        if item.source != "file" and item.source != "hub":
            continue
        if item.ranking == needs_ranking:
            continue
        kind = "a preference (ranking) dataset" if item.ranking else "not a preference dataset"
        need = "needs ranking: true datasets" if needs_ranking else "needs datasets without ranking"
        yield Finding(
            f"`{item.name}` is {kind}, but `{config.key('stage')}: {config.stage}` {need}: "
            "LLaMA-Factory stops with `The dataset is not applicable in the current training "
            "stage.`",
            config.span("dataset"),
            facts={"dataset": item.name, "ranking": item.ranking},
        )


@rule("EL506", "no-training-data", "error")
def no_training_data(context: Context) -> Iterator[Finding]:
    """`do_train: true` without a `dataset`.

    ## What it does
    Reports a training config that names no training data.

    ## Why is this bad?
    LLaMA-Factory stops at start-up: `Please specify dataset for training.`

    ## Example
    ```yaml
    do_train: true
    ```

    ## Use instead
    ```yaml
    do_train: true
    dataset: alpaca_en_demo
    ```

    ## Source
    LLaMA-Factory `hparams/parser.py: get_train_args`, when `do_train` and `dataset` is None:
    `Please specify dataset for training.`

    ## Fix safety
    No fix.
    """
    config = context.config
    if not config.supports("dataset") or not config.flag("do_train"):
        return
    if config.names("dataset") or config.value("pretraining_dataset"):
        return
    if config.supports("do_train"):
        yield Finding(
            f"`{config.key('do_train')}: true` but no `{config.key('dataset')}` is set: "
            "LLaMA-Factory stops with `Please specify dataset for training.`",
            config.span("do_train"),
        )
    else:
        yield Finding(
            f"no `{config.key('dataset')}` and no `pretraining_dataset`: {config.dialect.title} "
            "stops with `either datasets or pretraining_dataset is required`",
        )


@rule("EL507", "max-samples-truncates", "info")
def max_samples_truncates(context: Context) -> Iterator[Finding]:
    """`max_samples` drops most of a dataset.

    ## What it does
    Reports each dataset of which `max_samples` keeps less than half, with the rows really
    used.

    ## Why is this bad?
    `max_samples` keeps the first rows of every dataset; it is meant for quick tests and is
    easy to leave in a real run, which then trains on a fraction of the data.

    ## Example
    ```yaml
    dataset: alpaca_en
    max_samples: 1000
    ```

    ## Use instead
    Remove `max_samples` for the real run.

    ## Fix safety
    No fix.
    """
    if context.datasets is None:
        return
    config = context.config
    limit = context.guidelines["max_samples_used_below_fraction"]
    for item in context.datasets.datasets:
        if item.rows is None or not item.stored_rows or item.rows >= limit * item.stored_rows:
            continue
        yield Finding(
            f"`{config.key('max_samples')}: {thousands(config.number('max_samples'))}` uses "
            f"{thousands(item.rows)} of the {thousands(item.stored_rows)} rows of `{item.name}` "
            f"({item.rows / item.stored_rows:.0%})",
            config.span("max_samples"),
            facts={"dataset": item.name, "rows": item.rows, "stored_rows": item.stored_rows},
        )
