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
from epochlint.diagnostic import Severity, format_value
from epochlint.engine import EXIT_CLEAN, FileResult, check_source, exit_code
from epochlint.facts.guidelines import METHOD_NAMES
from epochlint.fix.edit import EditError, KeyEdit, apply_edits, format_scalar
from epochlint.fix.planner import placed_edit
from epochlint.fix.writer import WriteError, write_atomic
from epochlint.reading.source import encode
from epochlint.recommend import METHODS, PRESETS, Recommendation, Request
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
) -> Request:
    """What to recommend for: the command line's N and method, else the config's."""
    finetuning = None
    eval_dataset = False
    rows = settings.dataset_size
    if result is not None:
        config = result.config
        assert config is not None
        if config.stage != "sft":
            fail(
                f"{result.path}: `stage: {config.stage}`: recommend covers SFT, the stage the "
                "guideline tables are for (preference stages want far smaller learning rates)"
            )
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
        rows = result.rows.stored if result.rows else None
        if rows is None:
            why = result.rows.note if result.rows and result.rows.note else "it could not be found"
            fail(
                f"{result.path}: the number of training rows is unknown ({why}); give it with "
                "--dataset-size N"
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
    )


def merge_edits(recommendation: Recommendation, result: FileResult) -> list[KeyEdit]:
    """Set every schedule key (not the method: that stays the config's), and remove the keys
    that would contradict the block."""
    config = result.config
    assert config is not None
    edits = []
    # Evaluation keys first, so that save_strategy and friends find eval_strategy as their
    # neighbour and the evaluation setup lands together in the `### eval` block.
    ordered = sorted(recommendation.settings, key=lambda s: s.section != "eval")
    for setting in ordered:
        if setting.section == "method":
            continue
        value: Any = setting.value
        if setting.key == "num_train_epochs" and isinstance(config.value(setting.key), float):
            value = float(value)  # keep the config's style: `3.0` stays a float
        edits.append(placed_edit(config.dialect, "set", setting.key, value))
    for key, _ in recommendation.removals:
        if config.has(key):
            edits.append(placed_edit(config.dialect, "remove", key))
    return edits


def change_lines(recommendation: Recommendation, result: FileResult) -> list[str]:
    """What --apply changed, one line per key, with the reason."""
    config = result.config
    assert config is not None
    lines = []
    for setting in recommendation.settings:
        if setting.section == "method":
            continue
        new = format_scalar(setting.value)
        if not config.has(setting.key):
            lines.append(f"  added   {setting.key}: {new}  # {setting.why}")
        elif config.value(setting.key) != setting.value:
            old = format_value(config.value(setting.key))
            lines.append(f"  changed {setting.key}: {old} -> {new}  # {setting.why}")
    for key, why in recommendation.removals:
        if config.has(key):
            lines.append(f"  removed {key}  # {why}")
    return lines


def new_findings(before: FileResult, after: FileResult) -> list[str]:
    had = {d.rule for d in before.diagnostics if d.severity in SERIOUS}
    return [
        f"{d.rule} {d.name}: {d.message}"
        for d in after.diagnostics
        if d.severity in SERIOUS and d.rule not in had
    ]


def apply_to(
    path: str, result: FileResult, recommendation: Recommendation, settings: Settings, diff: bool
) -> int:
    source = result.source
    assert source is not None
    try:
        text = apply_edits(source.text, merge_edits(recommendation, result))
    except EditError as error:
        fail(f"{path}: not changed: {error}")
    merged = check_source(replace(source, text=text), settings)
    added = new_findings(result, merged)
    if added:
        fail(f"{path}: not changed: the merged config would add " + "; ".join(added))
    changes = change_lines(recommendation, result)
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
    if remaining:
        click.echo(f"{len(remaining)} finding(s) remain that the recommendation is not about")
    return exit_code([merged])


@click.command("recommend")
@click.argument("path", required=False, type=click.Path())
@options.dataset_size(help="Rows of the training data as stored (default: read from the config).")
@click.option("--method", type=click.Choice(METHODS), help="Default: the config's method.")
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
    recommendation = choose(request_for(result, settings, method, preset))
    if apply_path and result is not None:
        sys.exit(apply_to(apply_path, result, recommendation, settings, diff))
    click.echo(render_block(recommendation), nl=False)
    sys.exit(EXIT_CLEAN)
