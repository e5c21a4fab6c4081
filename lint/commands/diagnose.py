"""`epochlint diagnose PATH`: read a run's logs, say what its curves show, fix the epochs.

Exit statuses: 0 the run looks healthy, 1 it shows a problem (overfitting, undertraining,
divergence, no evaluation, a schedule that does not match), 2 epochlint could not do its job
(an unreadable log, a config that cannot be fixed, matplotlib missing for --plot).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click

from epochlint.dialects import default
from epochlint.engine import EXIT_CLEAN, EXIT_FAILURE, EXIT_FINDINGS
from epochlint.fix.edit import EditError, apply_edits
from epochlint.fix.planner import placed_edit
from epochlint.fix.writer import WriteError, write_atomic
from epochlint.reading.document import DocumentError, parse
from epochlint.reading.source import SourceError, encode, read_file
from epochlint.run.diagnose import (
    DEFAULT_PATIENCE,
    Diagnosis,
    Schedule,
    diagnose,
    epochs_text,
    number,
)
from epochlint.run.runlog import RunLog, RunLogError, as_number, read_run

PLOT_INSTALL = "pip install 'epochlint[plot]'"


class DiagnoseError(Exception):
    """A one-line reason why diagnose cannot finish; printed, then exit 2."""


def read_config(path: str) -> dict[str, Any]:
    """The config's values as LLaMA-Factory loads them (OmegaConf)."""
    try:
        return parse(read_file(path), "omegaconf").data()
    except SourceError as error:
        raise DiagnoseError(f"{path}: {error.message}") from None
    except DocumentError as error:
        raise DiagnoseError(f"{path}:{error.line}:{error.column}: {error.message}") from None


def schedule_of(config: dict[str, Any]) -> Schedule:
    defaults = Schedule()
    return Schedule(
        learning_rate=as_number(config.get("learning_rate")) or defaults.learning_rate,
        scheduler=str(config.get("lr_scheduler_type") or defaults.scheduler),
        warmup_steps=as_number(config.get("warmup_steps")) or 0.0,
        warmup_ratio=as_number(config.get("warmup_ratio")) or 0.0,
    )


@click.command("diagnose")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
)
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="The run's training config (default: one found beside the log).",
)
@click.option(
    "--fix",
    "fix_path",
    metavar="CONFIG",
    help="Write the recommended epoch count into this config (minimal edit).",
)
@click.option(
    "--plot",
    "plot_path",
    metavar="PNG",
    help=f"Draw train/eval loss and the learning rate to this file (needs {PLOT_INSTALL}).",
)
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    default=DEFAULT_PATIENCE,
    show_default=True,
    help="Evaluations without improvement that count as overfitting (and stop early).",
)
def diagnose_command(
    path: Path,
    output_format: str,
    config_path: str | None,
    fix_path: str | None,
    plot_path: str | None,
    patience: int,
) -> None:
    """Read a run (trainer_state.json, trainer_log.jsonl, an output or checkpoint folder) and
    report its best evaluation, overfitting, undertraining and divergence, with the epochs the
    run supports."""
    try:
        run = read_run(path)
        config_file = config_path or fix_path or run.config_path
        config = read_config(config_file) if config_file else None
        configured = as_number(config.get("num_train_epochs")) if config else None
        result = diagnose(
            run,
            patience=patience,
            schedule=schedule_of(config) if config else None,
            configured_epochs=configured,
        )
        if plot_path:
            plot(run, result, plot_path)
        fixed = fix_epochs(fix_path, run, result) if fix_path else None
    except (RunLogError, DiagnoseError) as error:
        click.echo(f"epochlint: error: {error}", err=True)
        sys.exit(EXIT_FAILURE)
    if output_format == "json":
        data = {"log": run.path, "config": config_file, **result.to_json()}
        click.echo(json.dumps(data, indent=2, allow_nan=False, default=str))
    else:
        click.echo(render(run, result, config_file, patience))
    if fixed:
        click.echo(fixed, err=output_format == "json")
    if plot_path:
        click.echo(f"plot written to {plot_path}", err=output_format == "json")
    sys.exit(EXIT_FINDINGS if result.findings else EXIT_CLEAN)


def render(run: RunLog, result: Diagnosis, config_file: str | None, patience: int) -> str:
    evals, train = run.evals, run.train
    planned = f" of {run.max_steps}" if run.max_steps and run.max_steps != run.last_step else ""
    lines = [
        f"{run.path}: {run.last_step}{planned} steps, {len(train)} train losses, "
        f"{len(evals)} evaluations" + (f"; config {config_file}" if config_file else "")
    ]
    best = result.best
    if best is not None:
        lines.append(
            f"best evaluation: step {best.step}, epoch {epochs_text(best.epoch)}, "
            f"eval_loss {number(best.eval_loss)}"
        )
    for finding in result.findings:
        where = f" (step {finding.step})" if finding.step is not None else ""
        lines.append(f"{finding.kind}{where}: {finding.message}")
    stop = result.early_stop
    if stop is not None:
        saved = run.last_step - stop.step
        lines.append(
            f"early stopping with patience {patience} would have stopped at step {stop.step} "
            f"(epoch {epochs_text(stop.epoch)}), {saved} of {run.last_step} steps sooner"
        )
    if result.recommended_epochs is not None:
        why = result.recommendation or ""
        lines.append(
            f"recommended: num_train_epochs: {result.recommended_epochs}. "
            f"{why[:1].upper()}{why[1:]}"
        )
    if not result.findings:
        lines.append("no problem found in the curves")
    return "\n".join(lines)


def fix_epochs(config_path: str, run: RunLog, result: Diagnosis) -> str:
    """Write the recommended epochs with the minimal-edit writer; a one-line report of it."""
    epochs = result.recommended_epochs
    if epochs is None:
        return f"{config_path}: nothing to fix (no epoch count to recommend)"
    try:
        source = read_file(config_path)
    except SourceError as error:
        raise DiagnoseError(f"{config_path}: {error.message}") from None
    config = read_config(config_path)
    max_steps = as_number(config.get("max_steps"))
    per_epoch = run.steps_per_epoch
    value: int | float
    if max_steps is not None and max_steps > 0:
        # max_steps overrides num_train_epochs, so the same length has to be said in steps.
        if per_epoch is None:
            raise DiagnoseError(
                f"{config_path}: max_steps is set and the log does not say steps per epoch; "
                f"set max_steps to {epochs} epochs' worth by hand"
            )
        key, value = "max_steps", math.ceil(epochs * per_epoch)
    else:
        key = "num_train_epochs"
        # LLaMA-Factory's own examples write epochs as floats; keep the file's style.
        value = float(epochs) if isinstance(config.get(key), float) else epochs
    try:
        text = apply_edits(source.text, [placed_edit(default(), "set", key, value)])
    except EditError as error:
        raise DiagnoseError(f"{config_path}: not fixed: {error}") from None
    if text == source.text:
        return f"{config_path}: already {key}: {value}"
    try:
        write_atomic(config_path, encode(source, text), encode(source, source.text))
    except WriteError as error:
        raise DiagnoseError(f"{config_path}: not fixed: {error}") from None
    was = config.get(key)
    return f"{config_path}: set {key}: {value}" + (f" (was {was})" if was is not None else "")


def plot(run: RunLog, result: Diagnosis, path: str) -> None:
    try:
        import matplotlib
    except ImportError:
        raise DiagnoseError(f"--plot needs matplotlib: {PLOT_INSTALL}") from None
    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as pyplot

    train = [p for p in run.train if p.loss is not None and math.isfinite(p.loss)]
    evals = [p for p in run.evals if p.eval_loss is not None and math.isfinite(p.eval_loss)]
    rates = [p for p in run.points if p.learning_rate is not None]
    figure, (losses, rate) = pyplot.subplots(
        2, 1, sharex=True, figsize=(9, 6), height_ratios=(3, 1), layout="constrained"
    )
    losses.plot([p.step for p in train], [p.loss for p in train], label="train loss", lw=1.2)
    if evals:
        losses.plot(
            [p.step for p in evals],
            [p.eval_loss for p in evals],
            label="eval loss",
            marker="o",
            markersize=3,
            lw=1.5,
        )
    best = result.best
    if best is not None:
        losses.scatter([best.step], [best.eval_loss], s=150, marker="*", color="crimson", zorder=5)
        losses.annotate(
            f"best: step {best.step}, epoch {epochs_text(best.epoch)}\neval loss "
            f"{number(best.eval_loss)}",
            (best.step, best.eval_loss),
            xytext=(12, -28),
            textcoords="offset points",
            color="crimson",
        )
    stop = result.early_stop
    if stop is not None:
        losses.axvline(stop.step, color="grey", ls="--", lw=1)
        losses.annotate(
            f"early stop (patience {stop.patience})",
            (stop.step, 1),
            xycoords=("data", "axes fraction"),
            xytext=(4, -14),
            textcoords="offset points",
            color="grey",
        )
    losses.set_ylabel("loss")
    losses.legend(loc="best")
    losses.grid(alpha=0.3)
    losses.set_title(f"{run.path}", fontsize=10)
    rate.plot([p.step for p in rates], [p.learning_rate for p in rates], color="tab:green")
    rate.set_ylabel("learning rate")
    rate.set_xlabel("step")
    rate.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    rate.grid(alpha=0.3)
    try:
        figure.savefig(path, dpi=110)
    except OSError as error:
        raise DiagnoseError(f"{path}: cannot write the plot: {error.strerror or error}") from None
    finally:
        pyplot.close(figure)
