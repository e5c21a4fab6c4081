"""`epochlint recommend`: print a training-schedule block, or merge it into a config.

`--apply` edits the config with the same minimal-edit writer as `--fix` (only the lines of the
keys it sets or removes change), lints the result, and writes it atomically; when the merge
would add a finding the config did not have, nothing is written.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Any

import click

from epochlint.commands import options
from epochlint.commands.commandline import CommandLine
from epochlint.commands.plan import checked, command_settings, fail
from epochlint.diagnostic import Diagnostic, Edit, Severity, format_value
from epochlint.dialects.base import TrainingConfig
from epochlint.engine import EXIT_CLEAN, FileResult, check_source, exit_code
from epochlint.facts.guidelines import METHOD_NAMES
from epochlint.facts.schedule import positive_int
from epochlint.fix.edit import EditError, KeyEdit, apply_edits, format_scalar
from epochlint.fix.planner import FixOutcome, fix_source, placed_edit
from epochlint.fix.writer import WriteError, write_atomic
from epochlint.formats.layout import terminal_width
from epochlint.reading.source import encode
from epochlint.recommend import (
    EPOCH,
    METHODS,
    PRESETS,
    STAGES,
    Current,
    Interval,
    Recommendation,
    Request,
    Setting,
    covers,
)
from epochlint.recommend import recommend as choose
from epochlint.recommend import render as render_block
from epochlint.records import replace
from epochlint.settings import Settings

SERIOUS = (Severity.ERROR, Severity.WARNING)


def request_for(
    result: FileResult | None,
    settings: Settings,
    method: str | None,
    preset: str,
    stage: str | None = None,
) -> Request:
    """What to recommend for: the command line's N, method and stage, else the config's."""
    finetuning = None
    eval_dataset = False
    current = Current()
    epoch_strategies = True
    rows = settings.dataset_size
    if result is not None:
        config = result.config
        assert config is not None
        if stage is not None and stage != config.stage:
            fail(
                f"{result.path} trains `stage: {config.stage}`, not {stage}: change the stage "
                "yourself, or drop --stage"
            )
        stage = config.stage
        own = config.method if config.method in ("qlora", "full") else "lora"
        if method is not None and method != own:
            fail(
                f"{result.path} fine-tunes with {METHOD_NAMES[own]}, not "
                f"{METHOD_NAMES[method]}: change finetuning_type/quantization_bit yourself, "
                "or drop --method"
            )
        method = own
        finetuning = config.text("finetuning_type") or "lora"
        eval_dataset = bool(config.names("eval_dataset"))
        current = current_settings(result)
        epoch_strategies = config.epoch_strategies
        rows = result.rows.stored if result.rows else None
        if rows is None:
            why = result.rows.note if result.rows and result.rows.note else "it could not be found"
            fail(
                f"{result.path}: the number of training rows is unknown ({why}); give it with "
                "--dataset-size N"
            )
    stage = stage or "sft"
    if not covers(settings.guidelines, stage):
        where = f"{result.path}: " if result is not None else ""
        fail(
            f"{where}`stage: {stage}` is not covered: recommend covers SFT, the preference "
            "stages (DPO, KTO, ORPO, SimPO) and reward models, the stages the guideline tables "
            "give epochs and learning rates for (pre-training counts tokens, on-policy stages "
            "count generations)"
        )
    if rows is None:
        raise click.UsageError("give --dataset-size N (or a config to read it from)")
    if method is None:
        raise click.UsageError("give --method lora|qlora|full (or a config to read it from)")
    return Request(
        rows,
        method,
        settings.world_size,
        preset,
        settings.guidelines,
        settings.transformers,
        finetuning_type=finetuning,
        eval_dataset=eval_dataset,
        current=current,
        epoch_strategies=epoch_strategies,
        stage=stage,
    )


def current_settings(result: FileResult) -> Current:
    """The config's per-device batch and its logging, evaluation and save cadence, with the
    trainer's defaults for what it does not set (transformers saves every 500 steps)."""
    config, plan = result.config, result.plan
    assert config is not None

    def cadence(kind: str, steps: int | None) -> Interval:
        strategy = config.text(f"{kind}_strategy")
        if strategy == EPOCH:
            return EPOCH
        return steps if strategy == "steps" else None

    explicit_batch = config.has("per_device_train_batch_size")
    return Current(
        per_device=plan.per_device_batch if plan and explicit_batch else None,
        logging=cadence("logging", plan.logging_steps if plan else None),
        evaluation=cadence("eval", plan.eval_steps if plan else None),
        saving=cadence("save", plan.save_steps if plan else None),
        max_samples=positive_int(config.number("max_samples")),
    )


def merge_edits(recommendation: Recommendation, result: FileResult) -> list[KeyEdit]:
    """Set every schedule key (not the method: that stays the config's), and remove the keys
    that would contradict the block, each in the config's own key names."""
    config = result.config
    assert config is not None
    edits = []
    for setting in written(recommendation, result):
        value: Any = setting.value
        if setting.key == "num_train_epochs" and isinstance(config.value(setting.key), float):
            value = float(value)  # keep the config's style: `3.0` stays a float
        edits.append(edit_for(config.set(setting.key, value), config))
    for key, _ in recommendation.removals:
        if config.has(key):
            edits.append(edit_for(config.remove(key), config))
    return edits


def written(recommendation: Recommendation, result: FileResult) -> list[Setting]:
    """The settings --apply writes: the schedule (the method stays the config's), evaluation
    first so that the evaluation keys land together; a field the dialect has no key for is
    left out (see `not_written`)."""
    config = result.config
    assert config is not None
    ordered = sorted(recommendation.settings, key=lambda s: s.section != "eval")
    return [s for s in ordered if s.section != "method" and settable(config, s.key)]


def settable(config: TrainingConfig, canonical: str) -> bool:
    """Whether the config's trainer has a key for the field (Axolotl has no `max_samples` and
    no `report_to`; Hugging Face's TrainingArguments have no `val_size`)."""
    return config.supports(canonical) and config.key(canonical) in config.dialect.properties


def not_written(recommendation: Recommendation, result: FileResult) -> list[str]:
    config = result.config
    assert config is not None
    return [
        f"  skipped {s.key}: {config.dialect.title} has no such setting"
        for s in recommendation.settings
        if s.section != "method" and not settable(config, s.key)
    ]


def edit_for(edit: Edit, config: TrainingConfig) -> KeyEdit:
    return placed_edit(config.dialect, edit.op, edit.key, edit.value, edit.new_key, edit.field)


def change_lines(recommendation: Recommendation, result: FileResult) -> list[str]:
    """What --apply changed, one line per key (in the config's own names), with the reason."""
    config = result.config
    assert config is not None
    lines = []
    for setting in written(recommendation, result):
        key, new = config.key(setting.key), format_scalar(setting.value)
        if not config.has(setting.key):
            lines.append(f"  added   {key}: {new}  # {setting.why}")
        elif config.value(setting.key) != setting.value:
            old = format_value(config.value(setting.key))
            lines.append(f"  changed {key}: {old} -> {new}  # {setting.why}")
    for canonical, why in recommendation.removals:
        if config.has(canonical):
            lines.append(f"  removed {config.key(canonical)}  # {why}")
    return lines + not_written(recommendation, result)


def new_findings(before: FileResult, after: FileResult) -> list[str]:
    had = {d.rule for d in before.diagnostics if d.severity in SERIOUS}
    return [
        f"{d.rule} {d.name}: {d.message}"
        for d in after.diagnostics
        if d.severity in SERIOUS and d.rule not in had
    ]


def follows(recommendation: Recommendation, result: FileResult) -> bool:
    """Whether a config still has every value the recommendation set and none it removed."""
    config = result.config
    if config is None:
        return False
    for setting in recommendation.settings:
        if setting.section == "method" or not settable(config, setting.key):
            continue
        if config.value(setting.key) != setting.value:
            return False
    return not any(config.has(key) for key, _ in recommendation.removals)


def fix_lines(outcome: FixOutcome) -> list[str]:
    return [
        f"  fixed   {d.rule} {d.name}: {d.fix.describe()}"
        for d in outcome.applied
        if d.fix is not None
    ]


def why_left(diagnostic: Diagnostic, blocked: set[tuple[str, str]]) -> str:
    if diagnostic.fix is None:
        return "no automatic fix: it needs a decision only you can make"
    if (diagnostic.rule, diagnostic.message) in blocked:
        return "its fix would undo the recommendation"
    return "its fix could not be applied"


def apply_to(
    path: str, result: FileResult, recommendation: Recommendation, settings: Settings, diff: bool
) -> int:
    source = result.source
    assert source is not None
    # Safe fixes first, through the same planner as --fix: they change no schedule number,
    # and they take keys the recommendation is not about out of the way (a misspelt key).
    safe = fix_source(source, settings, only_safe=True)
    fixed = safe if safe.refused is None else FixOutcome(source, source.text)
    base = check_source(replace(source, text=fixed.text), settings)
    try:
        text = apply_edits(fixed.text, merge_edits(recommendation, base))
    except EditError as error:
        fail(f"{path}: not changed: {error}")
    # Then whatever the merged config can still fix (the recommendation may make a key
    # obsolete), unless a fix would change a value the recommendation just set.
    late = fix_source(replace(source, text=text), settings)
    blocked: set[tuple[str, str]] = set()
    if (
        late.refused is None
        and late.changed
        and late.result
        and follows(recommendation, late.result)
    ):
        text = late.text
    else:
        blocked = {(d.rule, d.message) for d in late.applied}
        late = FixOutcome(source, text)
    merged = check_source(replace(source, text=text), settings)
    added = new_findings(result, merged)
    if added:
        fail(f"{path}: not changed: the merged config would add " + "; ".join(added))
    changes = fix_lines(fixed) + change_lines(recommendation, base) + fix_lines(late)
    if diff:
        click.echo(
            "".join(
                difflib.unified_diff(
                    source.text.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile=f"a/{path}",
                    tofile=f"b/{path}",
                )
            ),
            nl=False,
        )
    elif text != source.text:
        try:
            write_atomic(path, encode(source, text), encode(source, source.text))
        except WriteError as error:
            fail(f"{path}: not changed: {error}")
    verb = "would change" if diff else "changed"
    if not changes:
        click.echo(f"{path}: already follows the recommendation; nothing {verb}")
    else:
        click.echo(f"{path}: {verb} {len(changes)} key{'s' if len(changes) != 1 else ''}:")
        click.echo("\n".join(changes))
    click.echo(f"# {recommendation.headline}")
    remaining = [d for d in merged.diagnostics if d.severity in SERIOUS]
    for d in remaining:
        click.echo(f"{path}:{d.line}:{d.column}: {d.rule} {d.message}")
        click.echo(f"  left: {why_left(d, blocked)}")
    if remaining:
        click.echo(f"{len(remaining)} finding(s) remain that the recommendation is not about")
    return exit_code([merged])


@click.command("recommend")
@click.argument("path", required=False, type=click.Path())
@options.dataset_size(help="Rows of the training data as stored (default: read from the config).")
@click.option("--method", type=click.Choice(METHODS), help="Default: the config's method.")
@click.option(
    "--stage",
    type=click.Choice(STAGES),
    help="Training stage (default: the config's, else sft).",
)
@options.num_gpus(help="GPUs (default 1).")
@click.option("--preset", type=click.Choice(PRESETS), default="first-time", show_default=True)
@click.option(
    "--apply",
    "apply_path",
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help="Merge the block into this config (only the lines of those keys change).",
)
@click.option("--diff", is_flag=True, help="With --apply: print the change, write nothing.")
@options.transformers_version(help="transformers the run uses.")
@options.root(help=None)
@options.config_file(help=None)
@options.isolated
def recommend_command(
    path: str | None,
    dataset_size: int | None,
    method: str | None,
    stage: str | None,
    num_gpus: int | None,
    preset: str,
    apply_path: str | None,
    diff: bool,
    transformers_version: str | None,
    root: str | None,
    config_path: str | None,
    isolated: bool,
) -> None:
    """Print a training schedule chosen from the guideline tables and a preset, each line
    with why; `--apply train.yaml` merges it into a config."""
    if path and apply_path and Path(path) != Path(apply_path):
        raise click.UsageError("give the config once: as PATH or as --apply PATH")
    if diff and not apply_path:
        raise click.UsageError("--diff shows what --apply would change; give --apply PATH")
    target = apply_path or path
    command_line = CommandLine(
        num_gpus=num_gpus,
        dataset_size=dataset_size,
        transformers_version=transformers_version,
        root=root,
        config_path=config_path,
        isolated=isolated,
    )
    settings = command_settings(target or str(Path.cwd() / "train.yaml"), command_line)
    result = checked(target, settings) if target else None
    recommendation = choose(request_for(result, settings, method, preset, stage))
    if apply_path and result is not None:
        sys.exit(apply_to(apply_path, result, recommendation, settings, diff))
    click.echo(render_block(recommendation, width=terminal_width()), nl=False)
    sys.exit(EXIT_CLEAN)
