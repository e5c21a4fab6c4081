"""N, the rows the data holds, and W, the processes that share it, with where each came from.

N: --dataset-size, a `# epochlint: dataset-size=N` comment, the configuration file's
dataset-sizes, then the dialect's own resolution of the config's datasets.
W: --num-gpus, a `# epochlint: num-gpus=N` comment, what the file itself launches (TRL's
`num_processes`), the configuration file's num-gpus, then 1.
"""

from __future__ import annotations

import os

from epochlint.diagnostic import thousands
from epochlint.reading.directives import Directive, positive_count
from epochlint.records import record

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from epochlint.dialects.base import TrainingConfig
    from epochlint.settings import Settings


@record(frozen=True)
class Dropped:
    """Rows the tool's preprocessing drops (README, "Where N comes from"): from the training
    rows and from the evaluation rows, each as (fewest, most), equal when known exactly."""

    train: tuple[int, int]
    evaluation: tuple[int, int]
    note: str | None = None  # why they are bounds


@record(frozen=True)
class Rows:
    """How many rows the data has, and where that number came from."""

    stored: int | None  # rows of the data as stored (after num_samples/max_samples/mixing)
    source: str | None  # "--dataset-size", "comment", "dataset_info.json", "configuration"
    per_dataset: tuple[tuple[str, int | None], ...] = ()
    note: str | None = None  # why the rows are unknown, when no dataset problem says it
    eval_stored: int | None = None  # rows of eval_dataset as stored
    dropped: Dropped | None = None  # rows preprocessing drops, after the val_size split


@record(frozen=True)
class DatasetRows:
    name: str
    rows: int | None  # rows used from this dataset after num_samples then max_samples
    stored_rows: int | None  # rows in the file(s) as stored
    source: str  # "file", "hub", "script", "cloud", "online", "unknown"
    path: str | None  # resolved local path, if any
    ranking: bool  # the entry's `ranking` flag
    # Stored rows (0-based) preprocessing drops, with why; None when the rows were not read.
    invalid: tuple[tuple[int, str], ...] | None = None
    sampled: bool = False  # num_samples draws the rows at random


@record(frozen=True)
class DatasetProblem:
    code: str  # EL501 N unknown (info), EL502 undefined dataset, EL503 file missing/unreadable
    message: str
    dataset: str | None
    suggestion: str | None  # EL502 only: the single close match among dataset_info.json names


@record(frozen=True)
class Resolution:
    rows: int | None  # merged training rows before the val_size split
    datasets: tuple[DatasetRows, ...]
    eval_rows: int | None
    eval_datasets: tuple[DatasetRows, ...]
    problems: tuple[DatasetProblem, ...]
    dropped: Dropped | None = None


def from_command_line(source: str | None) -> bool:
    """A value given as an option: it wins over the config's own comments, which in turn win
    over defaults and configuration files (those name their file as the source)."""
    return source is None or source.startswith("--")


def world_size(
    settings: Settings, directives: list[Directive], config: TrainingConfig
) -> tuple[int, str]:
    """W and its source: --num-gpus, else the last `num-gpus` comment, else the process count
    the file launches with, else the configuration file's num-gpus or 1 (`settings`)."""
    if from_command_line(settings.world_size_source):
        return settings.world_size, settings.world_size_source
    for directive in reversed(directives):
        if directive.name == "num-gpus":
            count = positive_count(directive)
            if count is not None:
                return count, "comment"
    stated = config.stated_world_size()
    return stated if stated is not None else (settings.world_size, settings.world_size_source)


# Past this many rows the schedule's float arithmetic (epochs, fractions of the run) would
# overflow; no dataset comes near it.
MAX_ROWS = 10**100


def dataset_rows(
    config: TrainingConfig, directives: list[Directive], settings: Settings
) -> tuple[Rows, Resolution | None]:
    """N as stored, by precedence: --dataset-size, a dataset-size comment, the configuration
    file's dataset-sizes, dataset_info.json."""
    rows, resolution = _dataset_rows(config, directives, settings)
    if rows.stored is not None and rows.stored > MAX_ROWS:
        note = (
            f"{thousands(rows.stored)} rows ({rows.source}) is more than the "
            f"{thousands(MAX_ROWS)} epochlint computes a schedule for"
        )
        return Rows(None, None, rows.per_dataset, note), resolution
    return rows, resolution


def _dataset_rows(
    config: TrainingConfig, directives: list[Directive], settings: Settings
) -> tuple[Rows, Resolution | None]:
    given = settings.dataset_size
    if given is not None and from_command_line(settings.dataset_size_source):
        return Rows(given, settings.dataset_size_source or "--dataset-size"), None
    for directive in directives:
        if directive.name == "dataset-size":
            count = positive_count(directive)
            if count is not None:
                return Rows(count, "comment"), None
    if given is not None:
        return Rows(given, settings.dataset_size_source), None
    resolution = config.resolve_datasets(settings.root or os.getcwd())
    if resolution is None:
        return Rows(None, None), None
    per_dataset = tuple((item.name, item.rows) for item in resolution.datasets)
    if resolution.rows is not None and config.packs_rows():
        note = (
            f"{thousands(resolution.rows)} documents are packed into "
            f"`{config.key('cutoff_len')}` blocks, so the training rows depend on token counts"
        )
        return Rows(None, None, per_dataset, note), resolution
    source = config.rows_source if resolution.rows is not None else None
    return (
        Rows(
            resolution.rows,
            source,
            per_dataset,
            eval_stored=resolution.eval_rows,
            dropped=resolution.dropped,
        ),
        resolution,
    )
