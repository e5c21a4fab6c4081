"""Read a training run's logs into one series of points, whichever file wrote them.

Hugging Face's Trainer keeps `log_history` in `trainer_state.json` (in the output folder at the
end, and in every `checkpoint-N/` while it runs); LLaMA-Factory's LogCallback also appends one
JSON line per log event to `trainer_log.jsonl` in the output folder (README "Learn from the
logs"). Both hold the same events under different names (`step`/`current_steps`,
`learning_rate`/`lr`); this module turns either into a `RunLog`.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from epochlint.reading.safeopen import RUN_LOG_LIMIT, FileTooLarge, open_regular
from epochlint.records import field, record
from epochlint.run.jsonstream import STREAMED, JsonStream

STATE_FILE = "trainer_state.json"
LLAMAFACTORY_LOG = "trainer_log.jsonl"
# Configs LLaMA-Factory or a person leaves in an output folder, most specific first.
CONFIG_NAMES = ("training_args.yaml", "train.yaml", "config.yaml")
CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


class RunLogError(Exception):
    """A log that cannot be read; the message names the file (and line) and says why."""


class Point(NamedTuple):
    """One logged step. A tuple, not a record: a log holds hundreds of thousands of them, and a
    tuple is a third smaller (a run of 300,000 steps: 70 MB instead of 100)."""

    step: int
    epoch: float | None
    loss: float | None = None  # train loss (averaged over the logging interval)
    eval_loss: float | None = None
    learning_rate: float | None = None
    grad_norm: float | None = None


@record
class RunLog:
    path: str  # the file that was read
    source: str  # "trainer_state.json" or "trainer_log.jsonl"
    points: list[Point] = field(default_factory=list)
    max_steps: int | None = None  # the run's planned total, when the log says it
    num_train_epochs: float | None = None
    config_path: str | None = None  # a training config found beside the log

    @property
    def train(self) -> list[Point]:
        return [point for point in self.points if point.loss is not None]

    @property
    def evals(self) -> list[Point]:
        return [point for point in self.points if point.eval_loss is not None]

    @property
    def last_step(self) -> int:
        return max((point.step for point in self.points), default=0)

    @property
    def steps_per_epoch(self) -> float | None:
        """Optimizer steps per epoch, from the furthest point that has both (they are exact)."""
        for point in sorted(self.points, key=lambda p: p.step, reverse=True):
            if point.epoch and point.step:
                return point.step / point.epoch
        return None


def as_number(value: Any) -> float | None:
    """A logged or configured number. NaN and infinity are kept: they are what divergence
    looks like in a log."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:  # an int past the largest float
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


# Steps are counted exactly up to here in a float, and no run logs more.
MAX_STEP = 2**53


def _step(value: Any) -> int | None:
    """A logged step count; None for what no Trainer writes (negative, fractional, huge)."""
    number = as_number(value)
    if number is None or not 0 <= number < MAX_STEP:
        return None
    return int(number)


def find_log(path: Path) -> Path:
    """The log file for a path: the file itself, or what an output or checkpoint folder holds.

    In an output folder the final trainer_state.json wins; while a LLaMA-Factory run is still
    going only trainer_log.jsonl is current; otherwise the latest checkpoint's state is.
    """
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise RunLogError(f"{path}: {error.strerror or 'cannot read'}") from None
    if not stat.S_ISDIR(mode):
        return path  # read_run refuses anything but a regular file
    for name in (STATE_FILE, LLAMAFACTORY_LOG):
        if (path / name).is_file():
            return path / name
    checkpoints = []
    for child in path.iterdir():
        match = CHECKPOINT.match(child.name)
        if match and (child / STATE_FILE).is_file():
            checkpoints.append((int(match.group(1)), child / STATE_FILE))
    if checkpoints:
        return max(checkpoints)[1]
    raise RunLogError(
        f"{path}: no {STATE_FILE}, {LLAMAFACTORY_LOG} or checkpoint-*/{STATE_FILE} in this folder"
    )


def find_config(log_file: Path) -> Path | None:
    """A training config beside the log (or beside the checkpoint folder that holds it)."""
    folders = [log_file.parent]
    if CHECKPOINT.match(log_file.parent.name):
        folders.append(log_file.parent.parent)
    for folder in folders:
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def read_run(path: Path) -> RunLog:
    log_file = find_log(path)
    reader = _read_llamafactory_log if log_file.suffix == ".jsonl" else _read_trainer_state
    try:
        with _open_log(log_file) as stream:
            run = reader(stream, str(log_file))
    except UnicodeDecodeError:
        raise RunLogError(f"{log_file}: cannot read: not UTF-8 text") from None
    except RecursionError:
        raise RunLogError(f"{log_file}: the JSON nests too deeply to be a training log") from None
    found = find_config(log_file)
    run.config_path = str(found) if found else None
    return run


def _open_log(log_file: Path) -> TextIO:
    """The log as text, read as it is parsed: only a regular file, of at most RUN_LOG_LIMIT."""
    try:
        binary = open_regular(str(log_file))
        if os.fstat(binary.fileno()).st_size > RUN_LOG_LIMIT:
            binary.close()
            raise FileTooLarge(str(log_file), RUN_LOG_LIMIT)
    except OSError as error:
        raise RunLogError(f"{log_file}: cannot read: {error.strerror or error}") from None
    return io.TextIOWrapper(binary, encoding="utf-8")


def _not_json(path: str, line: int | None, error: ValueError) -> RunLogError:
    """One line for a log that json cannot read; `line` for a JSON Lines file's line."""
    if isinstance(error, json.JSONDecodeError):
        return RunLogError(f"{path}:{line or error.lineno}:{error.colno}: not JSON: {error.msg}")
    # json refuses an integer of more than 4,300 digits (Python's int-to-str limit)
    where = f"{path}:{line}" if line else path
    return RunLogError(f"{where}: cannot be read: {str(error).split(';')[0]}")


def _without_restarts(points: list[Point]) -> list[Point]:
    """A resumed run logs again from its checkpoint's step: keep only the latest attempt.

    The abandoned attempt's points are the last ones kept, so they are dropped from the end
    (linear in the log: a log with many restarts must not cost a scan of everything per restart).
    """
    kept: list[Point] = []
    last_train = 0
    for point in points:
        if point.loss is not None:
            if point.step < last_train:
                while kept and kept[-1].step >= point.step:
                    kept.pop()
                last_train = point.step
            else:
                last_train = max(last_train, point.step)
        kept.append(point)
    return kept


def _loss_point(entry: dict[str, Any], step: int | None, learning_rate_key: str) -> Point | None:
    """A logged step with a train or eval loss; None for entries without a step or a loss
    (progress ticks, the final summary, prediction)."""
    if step is None:
        return None
    point = Point(
        step=step,
        epoch=as_number(entry.get("epoch")),
        loss=as_number(entry.get("loss")),
        eval_loss=as_number(entry.get("eval_loss")),
        learning_rate=as_number(entry.get(learning_rate_key)),
        grad_norm=as_number(entry.get("grad_norm")),
    )
    return point if point.loss is not None or point.eval_loss is not None else None


def _read_trainer_state(stream: TextIO, path: str) -> RunLog:
    # The log is read element by element and each entry becomes its Point at once, so a log of
    # hundreds of thousands of steps is never held whole, as text or as dicts.
    points: list[Point] = []
    index = 0  # of the entry in log_history, for messages
    kept_before = 0  # points of an earlier log_history key, dropped when another one ends

    def entry_read(entry: Any) -> None:
        nonlocal index
        if not isinstance(entry, dict):
            raise RunLogError(f"{path}: log_history[{index}] is not an object")
        point = _loss_point(entry, _step(entry.get("step")), "learning_rate")
        if point is not None:
            points.append(point)
        index += 1

    json_text = JsonStream(stream)
    state: dict[str, Any] = {}
    try:
        if json_text.first_character() != "{":
            json_text.whole()  # valid JSON or not, say so; it is not a Trainer's state
        else:
            for key, value in json_text.members("log_history", entry_read):
                if key == "log_history" and value is STREAMED:
                    # json.loads keeps the last of repeated keys: so do the points
                    del points[:kept_before]
                    kept_before, index = len(points), 0
                state[key] = value
    except ValueError as error:
        raise _not_json(path, None, error) from None
    if state.get("log_history") is not STREAMED:
        raise RunLogError(f"{path}: no `log_history` list: not a Trainer's {STATE_FILE}")
    max_steps = _step(state.get("max_steps"))
    return RunLog(
        path,
        STATE_FILE,
        _without_restarts(points),
        max_steps=max_steps if max_steps and max_steps > 0 else None,
        num_train_epochs=as_number(state.get("num_train_epochs")),
    )


def _read_llamafactory_log(stream: TextIO, path: str) -> RunLog:
    points = []
    max_steps = None
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as error:
            if not line.endswith("\n"):
                continue  # the line a running trainer is writing right now
            raise _not_json(path, number, error) from None
        if not isinstance(entry, dict):
            raise RunLogError(f"{path}:{number}: not a JSON object")
        max_steps = _step(entry.get("total_steps")) or max_steps
        point = _loss_point(entry, _step(entry.get("current_steps")), "lr")
        if point is not None:
            points.append(point)
    return RunLog(path, LLAMAFACTORY_LOG, _without_restarts(points), max_steps=max_steps)
