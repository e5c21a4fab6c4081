"""Reporters: each turns the results of a run into text for one audience.

A format is one module of this package with one function, `render(results, report) -> str`;
FORMATS maps the names `--format` takes to those modules. A module is imported only when its
format is asked for (SARIF reads the whole rule catalogue).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from epochlint.records import record

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import IO

    from epochlint.engine import FileResult

# `--format` name -> module in this package
FORMATS = {
    "full": "text",
    "concise": "concise",
    "json": "json_format",
    "github": "github",
    "sarif": "sarif",
}
STATISTICS = "statistics"  # --statistics: counts per rule instead of the findings

Style = Callable[..., str]  # click.style's signature: style(text, fg=..., bold=...)


def plain(text: str, **_: object) -> str:
    return text


@record(frozen=True)
class Report:
    """How the human formats dress the results; the machine formats ignore it."""

    style: Style = plain
    footer: str | None = None  # replaces the closing summary (--fix says what it fixed)
    quiet: bool = False  # findings only: no summary
    width: int = 80  # columns the human report wraps its lines to


DEFAULT = Report()
Render = Callable[["list[FileResult]", Report], str]


def renderer(name: str) -> Render:
    """The render function of the format `name` (a FORMATS key, or STATISTICS)."""
    # __import__, not importlib.import_module: see dialects.named
    module = __import__(f"epochlint.formats.{FORMATS.get(name, name)}", fromlist=["render"])
    render: Render = module.render
    return render


def use_colour(choice: str, stream: IO[str] | None) -> bool:
    """`--color`: always, never, or auto: a terminal, unless NO_COLOR is set."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())
