"""`epochlint plan`: the training schedule a config produces, as a person wants to read it.

It uses the same facts as `check` (the engine's dataset resolution and `plan.build_plan`), so
the numbers here are the ones the rules judge. The GPU count is in no config, so `--gpus 1,2,4,8`
(or `--compare-gpus`) shows how it changes every number, with the warnings each count draws.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from epochlint.commands import options
from epochlint.commands.commandline import CommandLine, OptionError, configurations
from epochlint.diagnostic import Severity, format_value, thousands
from epochlint.engine import EXIT_CLEAN, EXIT_FAILURE, FileResult, check_path
from epochlint.facts.schedule import Events, Plan, Series, curve, events, scheduler_of
from epochlint.formats import use_colour
from epochlint.formats.layout import terminal_width, wrap
from epochlint.records import replace
from epochlint.run.chart import Style, plain
from epochlint.settings import Settings, SettingsError

COMPARED_GPUS = (1, 2, 4, 8)
CURVE_POINTS = 61  # JSON samples of the learning rate: every 1/60 of the run, both ends included


def command_settings(path: str, command_line: CommandLine) -> Settings:
    """Settings as `check` builds them: configuration files, then the command line."""
    try:
        return configurations(command_line).settings_for(path)
    except OptionError as error:
        raise click.BadParameter(str(error), param_hint=error.option) from None
    except SettingsError as error:
        fail(str(error))
        raise  # unreachable: fail exits


def fail(message: str) -> None:
    click.echo(f"epochlint: error: {message}", err=True)
    sys.exit(EXIT_FAILURE)


def checked(path: str, settings: Settings) -> FileResult:
    """Lint the file, and stop with one line when there is no schedule to show."""
    result = check_path(path, settings)
    if result.error is not None:
        fail(f"{path}: {result.error}")
    if result.skipped is not None:
        fail(f"{path}: no training schedule: {result.skipped}")
    if result.config is None or result.plan is None:
        problems = [d for d in result.diagnostics if d.severity == Severity.ERROR]
        reason = problems[0].message if problems else "it is not a training config"
        fail(f"{path}: cannot be read: {reason} (run `epochlint check {path}`)")
    return result


def parse_gpus(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        counts = ()
    if not counts or any(count < 1 for count in counts):
        raise click.BadParameter(f"{text!r}: give GPU counts such as 1,2,4,8", param_hint="--gpus")
    return counts


# --------------------------------------------------------------------------------------------
# One schedule, in words, JSON and a chart
# --------------------------------------------------------------------------------------------


def _gpus(count: int) -> str:
    return f"{count} GPU{'' if count == 1 else 's'}"


def rows_line(plan: Plan, result: FileResult) -> str:
    stored = result.rows.stored if result.rows else None
    if plan.dataset_rows is None:
        note = result.rows.note if result.rows and result.rows.note else "it could not be found"
        return f"unknown: {note}; give it with --dataset-size N or `# epochlint: dataset-size=N`"
    source = plan.dataset_rows_source or "given"
    val_size = result.config.value("val_size") if result.config else None
    dropped = plan.dropped_rows or 0
    taken = []
    if isinstance(val_size, (int, float)) and val_size > 1e-6 and stored is not None:
        held_out = stored - plan.dataset_rows - dropped
        taken.append(f"minus {thousands(held_out)} held out by val_size {format_value(val_size)}")
    if dropped:
        taken.append(f"minus {thousands(dropped)} that preprocessing drops (EL508)")
    if plan.dataset_rows_range is not None and result.rows and result.rows.dropped:
        fewest, most = plan.dataset_rows_range
        taken.append(
            f"between {thousands(fewest)} and {thousands(most)}: {result.rows.dropped.note}"
        )
    if not taken:
        return f"{thousands(plan.dataset_rows)} ({source})"
    return f"{thousands(plan.dataset_rows)} for training ({thousands(stored)} from {source}, " + (
        ", ".join(taken) + ")"
    )


def _interval(strategy: str | None, steps: int | None, count: int | None) -> str:
    if strategy in (None, "no"):
        return "none"
    every = "every epoch" if strategy == "epoch" else f"every {thousands(steps)} steps"
    return f"{thousands(count)} ({every})"


def describe(result: FileResult, settings: Settings) -> list[tuple[str, str]]:
    """(label, text) lines: each number with where it came from."""
    plan, config = result.plan, result.config
    assert plan is not None and config is not None
    lines = [("rows", rows_line(plan, result))]
    source = result.world_size_source or settings.world_size_source
    given = source if source != "default" else "default; set it with --num-gpus N"
    lines.append(("GPUs", f"{plan.world_size} ({given})"))
    notes = config.plan_notes(plan)
    if config.assumption:
        lines.insert(0, ("config", f"{config.title} ({config.assumption})"))
    if plan.effective_batch is not None:
        lines.append(
            (
                "effective batch",
                f"{plan.effective_batch} = {plan.per_device_batch} per device x "
                f"{plan.gradient_accumulation} accumulation x {_gpus(plan.world_size)}",
            )
        )
    lines.extend(notes)
    own_steps = any(label == "steps per epoch" for label, _ in notes)
    if plan.steps_per_epoch is not None and plan.batches_per_epoch is not None and not own_steps:
        rounding = "floor" if config.flag("dataloader_drop_last") else "ceil"
        lines.append(
            (
                "steps per epoch",
                f"{thousands(plan.steps_per_epoch)} = ceil({thousands(plan.batches_per_epoch)} "
                f"batches / {plan.gradient_accumulation}); batches = {rounding}("
                f"{thousands(plan.dataset_rows)} / ({plan.per_device_batch} x {plan.world_size}))",
            )
        )
    if plan.total_steps is not None:
        if plan.max_steps_set:
            how = f"max_steps (= {thousands(plan.epochs)} epochs of this data)"
        else:
            how = f"ceil({thousands(plan.epochs)} epochs x {thousands(plan.steps_per_epoch)})"
        lines.append(("total steps", f"{thousands(plan.total_steps)} = {how}"))
    else:
        lines.append(("total steps", "unknown (it needs the number of rows)"))
    lines.append(("epochs", thousands(plan.epochs)))
    if plan.warmup_steps is not None and plan.total_steps:
        share = plan.warmup_steps / plan.total_steps
        lines.append(("warmup", f"{thousands(plan.warmup_steps)} steps ({share:.0%} of the run)"))
    scheduler = scheduler_of(config)
    rate = config.number("learning_rate")
    lines.append(("learning rate", f"{format_value(rate)} peak, {scheduler.name}"))
    lines.append(
        (
            "evaluations",
            _interval(config.text("eval_strategy"), plan.eval_steps, plan.evaluations),
        )
    )
    lines.append(
        (
            "checkpoints",
            _interval(config.text("save_strategy"), plan.save_steps, plan.checkpoints),
        )
    )
    lines.append(
        (
            "log points",
            _interval(config.text("logging_strategy"), plan.logging_steps, plan.log_points),
        )
    )
    return lines


def chart_lines(
    result: FileResult, settings: Settings, style: Style, ascii_only: bool
) -> list[str]:
    plan, config = result.plan, result.config
    assert plan is not None and config is not None
    if not plan.total_steps:
        return []
    from epochlint.run import chart

    scheduler = scheduler_of(config)
    warmup = plan.warmup_steps or 0
    title = f"learning rate: {scheduler.name}"
    if scheduler.uses_warmup and warmup:
        title += f", warmup {thousands(warmup)} steps"
    out = [title]
    note = scheduler.note()
    if note:
        out.append(f"  ({note})")
    found = events(config, plan, settings.transformers)
    out += chart.render(
        scheduler,
        config.number("learning_rate"),
        warmup,
        plan.total_steps,
        found,
        style,
        ascii_only,
    )
    return out


def plan_json(result: FileResult, settings: Settings) -> dict[str, Any]:
    plan, config = result.plan, result.config
    assert plan is not None and config is not None
    scheduler = scheduler_of(config)
    found = events(config, plan, settings.transformers)
    rate = config.number("learning_rate")
    points = (
        curve(scheduler, rate, plan.warmup_steps or 0, plan.total_steps, CURVE_POINTS)
        if rate is not None and plan.total_steps
        else []
    )
    return {
        "path": result.path,
        "transformers": str(settings.transformers),
        "world_size_source": result.world_size_source or settings.world_size_source,
        "dataset_rows_stored": result.rows.stored if result.rows else None,
        "plan": plan.to_json(),
        "scheduler": {
            "name": scheduler.name,
            "exact": scheduler.exact,
            "uses_warmup": scheduler.uses_warmup,
            "note": scheduler.note(),
            "peak_learning_rate": rate,
            "curve": [[step, value] for step, value in points],
        },
        "events": None if found is None else events_json(found),
        "findings": [f"{d.rule} {d.name}" for d in result.diagnostics],
    }


def events_json(found: Events) -> dict[str, Any]:
    """The steps of each kind of event, each list cut after LISTED_EVENTS steps; `left_out`
    says how many steps each list leaves out."""
    kinds: dict[str, Series | None] = {
        "epoch_ends": found.epoch_ends,
        "evaluations": found.evaluations,
        "checkpoints": found.checkpoints,
        "checkpoints_kept": found.kept,
        "logs": found.logs,
    }
    shown: dict[str, Any] = {
        name: None if series is None else list(series.listed()) for name, series in kinds.items()
    }
    shown["left_out"] = {
        name: series.count() - len(shown[name])
        for name, series in kinds.items()
        if series is not None
    }
    return shown


# --------------------------------------------------------------------------------------------
# Comparing GPU counts
# --------------------------------------------------------------------------------------------

# Short headers, so that the table fits 80 columns; COMPARE_LEGEND says what they stand for.
COMPARE_COLUMNS = (
    "GPUs",
    "batch",
    "steps/epoch",
    "steps",
    "epochs",
    "warmup",
    "evals",
    "saves",
    "logs",
    "warnings",
)
COMPARE_LEGEND = "batch: effective batch; steps: total steps; saves: checkpoints; logs: log points"


def compare_row(result: FileResult) -> dict[str, Any]:
    plan = result.plan
    assert plan is not None
    serious = sorted(
        {d.rule for d in result.diagnostics if d.severity in (Severity.ERROR, Severity.WARNING)}
    )
    return {
        "world_size": plan.world_size,
        "effective_batch": plan.effective_batch,
        "steps_per_epoch": plan.steps_per_epoch,
        "total_steps": plan.total_steps,
        "epochs": plan.epochs,
        "warmup_steps": plan.warmup_steps,
        "evaluations": plan.evaluations,
        "checkpoints": plan.checkpoints,
        "log_points": plan.log_points,
        "findings": serious,
    }


def compare_table(rows: list[dict[str, Any]], width: int = 80) -> list[str]:
    """One row per GPU count. The warnings go in the last column when it fits in `width`, else
    below the table, one line per GPU count (or one line when every count has the same)."""
    cells = [
        [
            str(row["world_size"]),
            thousands(row["effective_batch"]),
            thousands(row["steps_per_epoch"]),
            thousands(row["total_steps"]),
            thousands(row["epochs"]),
            thousands(row["warmup_steps"]),
            thousands(row["evaluations"]),
            thousands(row["checkpoints"]),
            thousands(row["log_points"]),
            ", ".join(row["findings"]) or "-",
        ]
        for row in rows
    ]
    table = _aligned([list(COMPARE_COLUMNS), *cells], left_last=True)
    if max(len(line) for line in table) <= width:
        return [*table, COMPARE_LEGEND]
    numbers = _aligned([list(COMPARE_COLUMNS[:-1]), *(line[:-1] for line in cells)])
    out = [*numbers, COMPARE_LEGEND]
    warnings = [line[-1] for line in cells]
    if len(set(warnings)) == 1:
        return [*out, f"warnings on every GPU count: {warnings[0]}"]
    return [*out, *(f"warnings on {_gpus(int(line[0]))}: {line[-1]}" for line in cells)]


def _aligned(table: list[list[str]], left_last: bool = False) -> list[str]:
    """Columns two spaces apart, right-aligned (the last one left-aligned if `left_last`)."""
    widths = [max(len(line[index]) for line in table) for index in range(len(table[0]))]

    def line(values: list[str]) -> str:
        return "  ".join(
            value.ljust(width) if left_last and index == len(widths) - 1 else value.rjust(width)
            for index, (value, width) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    return [line(values) for values in table]


# --------------------------------------------------------------------------------------------
# The image
# --------------------------------------------------------------------------------------------


def write_plot(result: FileResult, settings: Settings, output: str) -> None:
    """The learning-rate curve with epoch, evaluation and checkpoint marks, as an image."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed; the image goes to a file
        import matplotlib.pyplot as pyplot
    except ImportError:
        fail("--plot needs matplotlib: pip install 'epochlint[plot]'")
    plan, config = result.plan, result.config
    assert plan is not None and config is not None
    if not plan.total_steps:
        fail(f"{result.path}: the total steps are unknown, so there is nothing to plot")
    assert plan.total_steps is not None
    scheduler = scheduler_of(config)
    rate = config.number("learning_rate") or 1.0
    total = plan.total_steps
    points = curve(scheduler, rate, plan.warmup_steps or 0, total, min(total + 1, 2000))
    found = events(config, plan, settings.transformers)

    figure, axes = pyplot.subplots(figsize=(10, 4.8), dpi=120)
    axes.plot([s for s, _ in points], [v for _, v in points], color="#1f77b4", linewidth=2)
    axes.set_xlim(0, total * 1.02)  # room for the marks at the last step
    axes.set_ylim(0, rate * 1.12)
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("learning rate")
    axes.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    if found is not None:
        _mark_events(axes, found, rate, total)
    warmup = plan.warmup_steps or 0
    if scheduler.uses_warmup and warmup:
        axes.axvspan(0, warmup, color="#ffbb78", alpha=0.35, label=f"warmup ({warmup} steps)")
    summary = (
        f"{thousands(plan.dataset_rows)} rows · {_gpus(plan.world_size)} · effective batch "
        f"{thousands(plan.effective_batch)} · {thousands(plan.steps_per_epoch)} steps/epoch · "
        f"{thousands(total)} steps · {thousands(plan.epochs)} epochs"
    )
    axes.set_title(f"{Path(result.path).name}: {scheduler.name}\n{summary}", fontsize=10)
    note = scheduler.note()
    if note:
        axes.text(0.01, 0.02, note, transform=axes.transAxes, fontsize=8, color="#555555")
    # below the axes, where it cannot hide the curve or the marks
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=5, fontsize=8, frameon=False)
    figure.tight_layout()
    try:
        figure.savefig(output)
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror or error}")
    finally:
        pyplot.close(figure)


def _mark_events(axes: Any, found: Events, rate: float, total: int) -> None:
    # at most LISTED_EVENTS marks of each kind: more would not show apart anyway
    for index, step in enumerate(found.epoch_ends.listed()):
        axes.axvline(
            step,
            color="#999999",
            linestyle="--",
            linewidth=0.8,
            label="epoch end" if index == 0 else None,
        )
    if found.evaluations:
        axes.scatter(
            found.evaluations.listed(),
            [rate * 1.06] * len(found.evaluations.listed()),
            marker="v",
            color="#2ca02c",
            zorder=3,
            label=f"evaluation ({found.evaluations.count():,})",
        )
    if found.checkpoints:
        axes.scatter(
            found.checkpoints.listed(),
            [rate * 1.02] * len(found.checkpoints.listed()),
            marker="s",
            s=14,
            color="#d62728",
            zorder=3,
            label=f"checkpoint ({found.checkpoints.count():,})",
        )
    if found.logs:
        axes.scatter(
            found.logs.listed(),
            [0.0] * len(found.logs.listed()),
            marker="|",
            color="#7f7f7f",
            clip_on=False,
            label=f"log point ({found.logs.count():,})",
        )


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


@click.command("plan")
@click.argument("path", type=click.Path())
@options.num_gpus(help="GPUs (default 1).")
@click.option("--gpus", "gpu_list", metavar="N,N,...", help="Compare these GPU counts.")
@click.option("--compare-gpus", is_flag=True, help="Compare 1, 2, 4 and 8 GPUs in one table.")
@options.dataset_size()
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    metavar="PNG",
    help="Also draw the schedule to an image (needs the `plot` extra).",
)
@click.option("--ascii", "ascii_only", is_flag=True, help="Draw the chart with ASCII only.")
@options.color(show_default=False)
@options.transformers_version(help="transformers the run uses.")
@options.trl_version(help="TRL the run uses (TRL configs).")
@options.root(help=None)
@options.config_file(help=None)
@options.isolated
def plan_command(
    path: str,
    num_gpus: int | None,
    gpu_list: str | None,
    compare_gpus: bool,
    dataset_size: int | None,
    output_format: str,
    plot: str | None,
    ascii_only: bool,
    color: str,
    transformers_version: str | None,
    trl_version: str | None,
    root: str | None,
    config_path: str | None,
    isolated: bool,
) -> None:
    """Show the training schedule of a config: N, batch, steps, warmup, the learning-rate
    curve, and when it evaluates, saves and logs."""
    if gpu_list and compare_gpus:
        raise click.UsageError("--gpus and --compare-gpus both choose GPU counts; give one")
    compared = parse_gpus(gpu_list) if gpu_list else COMPARED_GPUS if compare_gpus else None
    if compared and num_gpus:
        raise click.UsageError("--num-gpus and a GPU comparison contradict each other; give one")
    command_line = CommandLine(
        num_gpus=num_gpus,
        dataset_size=dataset_size,
        transformers_version=transformers_version,
        trl_version=trl_version,
        root=root,
        config_path=config_path,
        isolated=isolated,
    )
    settings = command_settings(path, command_line)
    result = checked(path, settings)
    if compared:
        rows = [
            compare_row(
                checked(path, replace(settings, world_size=count, world_size_source="--gpus"))
            )
            for count in compared
        ]
        if output_format == "json":
            click.echo(json.dumps({"version": 1, "path": path, "gpus": rows}, indent=2))
        else:
            click.echo(f"{path}: the schedule on {', '.join(str(c) for c in compared)} GPUs")
            click.echo(f"  rows {rows_line(result.plan, result)}" if result.plan else "")
            click.echo("\n".join(compare_table(rows, terminal_width())))
        sys.exit(EXIT_CLEAN)
    if plot:
        write_plot(result, settings, plot)
    if output_format == "json":
        click.echo(json.dumps({"version": 1, **plan_json(result, settings)}, indent=2))
        sys.exit(EXIT_CLEAN)
    colour = use_colour(color, sys.stdout)
    style: Style = click.style if colour else plain
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    ascii_only = ascii_only or not _can_encode("█│└─·", encoding)
    click.echo(
        style(f"{path}: training schedule (transformers {settings.transformers})", bold=True)
    )
    numbers = describe(result, settings)
    label_width = max(len(label) for label, _ in numbers)
    hanging = " " * (label_width + 4)
    for label, text in numbers:
        click.echo("\n".join(wrap(text, terminal_width(), f"  {label:<{label_width}}  ", hanging)))
    lines = chart_lines(result, settings, style, ascii_only)
    if lines:
        click.echo("")
        click.echo("\n".join(lines), color=colour)
    if plot:
        click.echo(f"\nwrote {plot}")
    sys.exit(EXIT_CLEAN)


def _can_encode(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True
