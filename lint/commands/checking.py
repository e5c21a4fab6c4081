"""A check run, from its options to the report and the exit status.

`epochlint check` (commands/check.py) and the console script's fast path (entry.py) both run
this code. It imports no click: the fast path exists so that a plain check does not pay for
click's import (click.style is imported only when the report is coloured).

Exit codes: 0 no error or warning, 1 at least one error or warning (or a diff with --diff),
2 epochlint could not do its job (a bad option, an unreadable path, an internal failure).
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import suppress
from typing import IO

from epochlint.commands.commandline import CommandLine, configurations
from epochlint.engine import EXIT_CLEAN, EXIT_FAILURE, EXIT_FINDINGS, FileResult, check_files
from epochlint.engine import exit_code as status_of
from epochlint.formats import DEFAULT, STATISTICS, Report, Style, plain, renderer, use_colour
from epochlint.records import record
from epochlint.settings import Settings, SettingsError

# What click.echo removes from text that is not coloured (a config can hold escape sequences).
ANSI_SEQUENCE = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")


@record(frozen=True)
class CheckRun:
    """Everything `check` was asked to do."""

    paths: tuple[str, ...]
    overrides: tuple[str, ...] = ()  # `cfg.yaml key=value ...`, for one config file
    command_line: CommandLine = CommandLine()
    stdin_filename: str | None = None
    output_format: str | None = None  # None: full (and annotations in GitHub Actions)
    output_file: str | None = None
    statistics: bool = False
    quiet: bool = False
    exit_zero: bool = False
    color: str = "auto"
    fix: bool = False
    diff: bool = False
    only_safe: bool = False
    info_fixes: bool = False  # also fix info findings


def run_check(run: CheckRun) -> int:
    """Check (or fix) the files, write the report, and return the exit status. Raises
    commandline.OptionError for an option value that cannot be used."""
    clash = checked_output(run)
    if clash is not None:
        echo(
            f"epochlint: error: --output-file {run.output_file} is the checked file {clash}; "
            "the report would replace it, so nothing was done\n",
            sys.stderr,
        )
        return EXIT_FAILURE
    try:
        per_path = settings_per_path(run)
    except SettingsError as error:  # a configuration file that cannot be used
        echo(f"epochlint: error: {error}\n", sys.stderr)
        return EXIT_FAILURE
    if run.fix or run.diff:
        from epochlint.commands.fix import fix_files

        results, footer, status = fix_files(
            per_path, run.stdin_filename, run.diff, run.only_safe, run.info_fixes
        )
        # `--fix -` writes the fixed file to standard output: the report goes to the other one
        report_stream = sys.stderr if "-" in run.paths and not run.diff else sys.stdout
    else:
        results = lint(run, per_path)
        footer, status, report_stream = None, status_of(results), sys.stdout
    write_report(run, results, footer, report_stream)
    if run.exit_zero and status == EXIT_FINDINGS:
        return EXIT_CLEAN
    return status


def checked_output(run: CheckRun) -> str | None:
    """The checked path that `--output-file` also names (through links, hard ones too), if any."""
    if not run.output_file:
        return None
    output = os.path.realpath(run.output_file)
    for path in run.paths:
        if path == "-":
            continue
        if os.path.realpath(path) == output:
            return path
        with suppress(OSError):
            if os.path.samefile(path, output):
                return path
    return None


def settings_per_path(run: CheckRun) -> list[tuple[str, Settings]]:
    """Each path that is not excluded, with its settings (stdin's are `--stdin-filename`'s)."""
    found = configurations(run.command_line)
    checked = [path for path in run.paths if path == "-" or not found.excluded(path)]
    return [(path, found.settings_for(_located(path, run.stdin_filename))) for path in checked]


def _located(path: str, stdin_filename: str | None) -> str:
    """Where a checked file's configuration is looked for: stdin is `--stdin-filename`."""
    return (stdin_filename or "<stdin>") if path == "-" else path


def lint(run: CheckRun, per_path: list[tuple[str, Settings]]) -> list[FileResult]:
    if run.overrides and per_path:
        from epochlint.overrides import check_path_with_overrides

        path, settings = per_path[0]
        return check_path_with_overrides(path, settings, run.overrides)
    return check_files(per_path, run.stdin_filename)


def write_report(
    run: CheckRun, results: list[FileResult], footer: str | None, stream: IO[str]
) -> None:
    """The report in the chosen format, to `--output-file` or `stream`. In GitHub Actions,
    without a format chosen, annotations come first, then the full report."""
    if run.output_format is None and os.environ.get("GITHUB_ACTIONS") == "true":
        echo(renderer("github")(results, DEFAULT), stream)
    output = open(run.output_file, "w", encoding="utf-8") if run.output_file else None
    try:
        colour = output is None and use_colour(run.color, stream)
        report = Report(style=_style(colour), footer=footer, quiet=run.quiet)
        name = STATISTICS if run.statistics else run.output_format or "full"
        echo(renderer(name)(results, report), output or stream, colour)
    finally:
        if output is not None:
            output.close()


def _style(colour: bool) -> Style:
    if not colour:
        return plain
    from click import style

    return style


def echo(text: str, stream: IO[str], colour: bool | None = None) -> None:
    """Write as click.echo does: escape sequences removed unless the text is coloured
    (colour None: coloured on a terminal)."""
    if colour is None:
        colour = bool(getattr(stream, "isatty", lambda: False)())
    stream.write(text if colour else ANSI_SEQUENCE.sub("", text))
    stream.flush()
