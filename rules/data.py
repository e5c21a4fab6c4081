"""EL5: the training data: where N comes from, and data settings that stop a run."""

from __future__ import annotations

from collections.abc import Iterator

from epochlint.diagnostic import Fix, thousands
from epochlint.facts.context import Context
from epochlint.facts.dataset import DatasetRows
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


@rule("EL508", "rows-dropped-in-preprocessing", "warning")
def rows_dropped_in_preprocessing(context: Context) -> Iterator[Finding]:
    """LLaMA-Factory will drop rows of the data while preprocessing it.

    ## What it does
    Reads each local JSON or JSON Lines dataset as LLaMA-Factory's converter for its
    `formatting` (alpaca, sharegpt, openai) does, and reports the rows the stage's processor
    will drop, how many, why, and the first few row numbers (1-based, in the file). The plan's
    N already leaves them out.

    ## Why is this bad?
    LLaMA-Factory does not stop on a malformed row: it logs `Dropped invalid example` among
    thousands of lines and trains on the rest. An alpaca row whose `output` is null or
    missing, or a sharegpt conversation whose roles do not alternate or that ends on the
    user's turn, silently never reaches the model.

    ## Example
    ```json
    {"instruction": "Summarise the ticket", "input": "", "output": null}
    ```

    ## Use instead
    ```json
    {"instruction": "Summarise the ticket", "input": "", "output": "The printer is offline."}
    ```

    ## Source
    LLaMA-Factory `data/converter.py`: `AlpacaDatasetConverter` gives an empty response unless
    `output` is a string; `SharegptDatasetConverter` and `OpenAIDatasetConverter` log `Invalid
    role tag` or `Invalid message count` and give an empty prompt and response. Then
    `data/processor/supervised.py` (sft) drops a row unless `len(prompt) % 2 == 1 and
    len(response) == 1`, `pairwise.py` (rm, dpo) and `feedback.py` (kto) unless the prompt is
    odd and the response has two messages, `unsupervised.py` (ppo) unless the prompt is odd;
    each logs `Dropped invalid example`. `pretrain.py` (pt) drops nothing. Confirmed by
    training with the real `llamafactory-cli` (tests/test_crosscheck_llamafactory.py).

    ## Fix safety
    No fix: the data file, not the config, needs the change.
    """
    resolution = context.datasets
    if resolution is None:
        return
    for field, items in (
        ("dataset", resolution.datasets),
        ("eval_dataset", resolution.eval_datasets),
    ):
        for item in items:
            finding = _dropped_rows_finding(context, field, item)
            if finding is not None:
                yield finding


# How many row numbers EL508 quotes for each reason.
ROWS_QUOTED = 5


def _dropped_rows_finding(context: Context, field: str, item: DatasetRows) -> Finding | None:
    if item.invalid is None or item.rows is None or item.stored_rows is None:
        return None
    config = context.config
    if item.sampled:  # num_samples draws rows at random: say how many of the stored ones
        dropped, total, of = list(item.invalid), item.stored_rows, "stored rows"
    else:  # max_samples keeps the first rows
        dropped = [(index, why) for index, why in item.invalid if index < item.rows]
        total, of = item.rows, "rows"
    if not dropped:
        return None
    by_reason: dict[str, list[int]] = {}
    for index, why in dropped:
        by_reason.setdefault(why, []).append(index + 1)
    reasons = []
    for why, numbers in by_reason.items():
        quoted = ", ".join(str(n) for n in numbers[:ROWS_QUOTED])
        more = f" and {len(numbers) - ROWS_QUOTED} more" if len(numbers) > ROWS_QUOTED else ""
        reasons.append(f"{why} (row{'s' if len(numbers) > 1 else ''} {quoted}{more})")
    return Finding(
        f"{config.dialect.title} will drop {thousands(len(dropped))} of the {thousands(total)} "
        f"{of} of `{item.name}` while preprocessing for `{config.key('stage')}: "
        f"{config.stage}`: " + "; ".join(reasons),
        config.span(field),
        facts={
            "dataset": item.name,
            "dropped": len(dropped),
            "rows": total,
            "first_rows": [index + 1 for index, _ in dropped[:ROWS_QUOTED]],
        },
    )


@rule("EL509", "sft-only-option", "error")
def sft_only_option(context: Context) -> Iterator[Finding]:
    """An option that only supervised fine-tuning accepts, in another stage.

    ## What it does
    Reports `neat_packing`, `train_on_prompt`, `mask_history` or `predict_with_generate` set
    to true with a `stage` other than `sft`.

    ## Why is this bad?
    LLaMA-Factory refuses the config at start-up, e.g. for `stage: pt` with `neat_packing:
    true`: `` `neat_packing` cannot be set as True except SFT. ``

    ## Example
    ```yaml
    stage: pt
    neat_packing: true
    ```

    ## Use instead
    ```yaml
    stage: pt  # pretraining packs its data anyway
    ```

    ## Source
    LLaMA-Factory `hparams/parser.py: get_train_args`, `if finetuning_args.stage != "sft"`:
    `` `predict_with_generate` cannot be set as True except SFT. ``, `` `neat_packing` cannot
    be set as True except SFT. `` and `` `train_on_prompt` or `mask_history` cannot be set as
    True except SFT. ``

    ## Fix safety
    No fix: whether the stage or the option is wrong is the author's call.
    """
    config = context.config
    if not config.supports("neat_packing") or config.stage not in NOT_SFT_STAGES:
        return
    for key, error in SFT_ONLY:
        if config.flag(key):
            yield Finding(
                f"`{config.key(key)}: true` with `{config.key('stage')}: {config.stage}`: "
                f"{config.dialect.title} stops with `` {error} ``",
                config.span(key),
                facts={"stage": config.stage, "key": key},
            )


NOT_SFT_STAGES = ("pt", "rm", "ppo", "dpo", "kto")
SFT_ONLY = (
    ("predict_with_generate", "`predict_with_generate` cannot be set as True except SFT."),
    ("neat_packing", "`neat_packing` cannot be set as True except SFT."),
    ("train_on_prompt", "`train_on_prompt` or `mask_history` cannot be set as True except SFT."),
    ("mask_history", "`train_on_prompt` or `mask_history` cannot be set as True except SFT."),
)


@rule("EL510", "interleave-once-unsupported", "error")
def interleave_once_unsupported(context: Context) -> Iterator[Finding]:
    """`mix_strategy: interleave_once` with more than one dataset.

    ## What it does
    Reports `mix_strategy: interleave_once` where `dataset` (or `eval_dataset`) names two or
    more datasets.

    ## Why is this bad?
    LLaMA-Factory maps it to the `datasets` stopping strategy
    `all_exhausted_without_replacement`, which `datasets` only has from 4.2.0, while
    LLaMA-Factory requires `datasets<=4.0.0`: loading the data stops with
    `all_exhausted_without_replacement is not supported. Please enter a valid
    stopping_strategy.`

    ## Example
    ```yaml
    dataset: support_chats,faq
    mix_strategy: interleave_once
    ```

    ## Use instead
    ```yaml
    dataset: support_chats,faq
    mix_strategy: interleave_over
    ```

    ## Source
    LLaMA-Factory `data/data_utils.py: merge_dataset` maps `interleave_once` to
    `stopping_strategy="all_exhausted_without_replacement"`; `datasets` 4.0.0
    `combine.py: interleave_datasets` accepts only `first_exhausted` and `all_exhausted`
    (4.2.0 adds it); LLaMA-Factory 0.9.5 requires `datasets>=2.16.0,<=4.0.0`. With one
    dataset `merge_dataset` returns it unmixed and nothing fails. Confirmed by the real
    `llamafactory-cli` (tests/test_crosscheck_llamafactory.py).

    ## Fix safety
    No fix: `interleave_under` and `interleave_over` train on different numbers of rows.
    """
    config = context.config
    if not config.supports("mix_strategy") or config.text("mix_strategy") != "interleave_once":
        return
    for field in ("dataset", "eval_dataset"):
        names = config.names(field)
        if len(names) > 1:
            yield Finding(
                f"`{config.key('mix_strategy')}: interleave_once` mixes the {len(names)} datasets "
                f"of `{config.key(field)}` with the `datasets` stopping strategy "
                "`all_exhausted_without_replacement`, which needs datasets 4.2.0 while "
                f"{config.dialect.title} requires datasets<=4.0.0: loading stops with "
                "`all_exhausted_without_replacement is not supported. Please enter a valid "
                "stopping_strategy.`",
                config.span("mix_strategy"),
                facts={"field": field, "datasets": len(names)},
            )
            return
