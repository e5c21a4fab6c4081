"""A learning-rate chart and event lanes for the terminal, in plain text.

Each column stands for an equal slice of the run's optimizer steps. The curve is drawn with
eighth-height blocks (or `#` and `.` where the terminal cannot show them), so an 8-row chart
resolves 64 levels; the lanes under it put one mark in every column where an epoch ends, an
evaluation or a checkpoint happens, or the loss is logged.
"""

from __future__ import annotations

from collections.abc import Callable

from epochlint.diagnostic import format_value, thousands
from epochlint.facts.schedule import Events, Scheduler, Series

Style = Callable[..., str]

WIDTH = 60
HEIGHT = 8
BLOCKS = " ▁▂▃▄▅▆▇█"
LABEL_WIDTH = 8


def plain(text: str, **_: object) -> str:
    return text


def column_of(step: int, total: int, width: int) -> int:
    return min(width - 1, step * width // max(total, 1))


def _cell(eighths: int, ascii_only: bool) -> str:
    if not ascii_only:
        return BLOCKS[eighths]
    if eighths >= 4:
        return "#"
    return "." if eighths else " "


def curve_rows(
    scheduler: Scheduler,
    warmup: int,
    total: int,
    width: int = WIDTH,
    height: int = HEIGHT,
    ascii_only: bool = False,
) -> list[str]:
    """The curve's rows, top first, each `width` characters."""
    levels = []
    for column in range(width):
        # the middle of the column's slice of steps, so a short warmup still shows; in whole
        # numbers, as (column + 0.5) * total overflows a float for a run of 1e308 steps
        step = ((2 * column + 1) * total + width) // (2 * width)
        fraction = min(1.0, max(0.0, scheduler.multiplier(step, warmup, total)))
        levels.append(round(fraction * height * 8))
    rows = []
    for row in range(height):
        floor = (height - 1 - row) * 8
        rows.append("".join(_cell(min(8, max(0, level - floor)), ascii_only) for level in levels))
    return rows


def lane(steps: Series, total: int, mark: str, width: int = WIDTH) -> str:
    """One row of marks: a column is marked when any of its steps has the event (asked by
    arithmetic, so a run of any length draws at once)."""
    span = max(total, 1)
    cells = []
    for column in range(width):
        low = -(-column * span // width)  # the first step column_of puts in this column
        high = -(-(column + 1) * span // width) - 1 if column < width - 1 else max(total, 0)
        cells.append(mark if steps.any_within(low, high) else " ")
    return "".join(cells)


def render(
    scheduler: Scheduler,
    peak: float | None,
    warmup: int,
    total: int,
    events: Events | None,
    style: Style = plain,
    ascii_only: bool = False,
    width: int = WIDTH,
) -> list[str]:
    """The chart with its axis and lanes, as lines without newlines."""
    rows = curve_rows(scheduler, warmup, total, width, HEIGHT, ascii_only)
    vertical, corner, horizontal = ("|", "+", "-") if ascii_only else ("│", "└", "─")
    top = format_value(peak) if peak is not None else "peak"
    out = []
    for index, row in enumerate(rows):
        label = top if index == 0 else ""
        out.append(f"{label:>{LABEL_WIDTH}} {vertical}" + style(row.rstrip(), fg="cyan"))
    out.append(f"{'0':>{LABEL_WIDTH}} {corner}" + horizontal * width)
    end = thousands(total)
    out.append(" " * (LABEL_WIDTH + 2) + "0" + end.rjust(width - 1) + "  steps")
    if events is None:
        return out
    lanes = (
        ("epochs", events.epoch_ends, "|", None),
        ("eval", events.evaluations, "E", "green"),
        ("save", events.checkpoints, "S", "yellow"),
        ("log", events.logs, "." if ascii_only else "·", None),
    )
    for name, steps, mark, colour in lanes:
        if not steps:
            continue
        drawn = lane(steps, total, mark, width).rstrip()
        out.append(f"{name:>{LABEL_WIDTH}}  " + (style(drawn, fg=colour) if colour else drawn))
    return out
