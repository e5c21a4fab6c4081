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

from epochlint.commands.commandline import CommandLine, configurations
from epochlint.engine import EXIT_CLEAN, EXIT_FAILURE, EXIT_FINDINGS, FileResult, check_files
from epochlint.engine import exit_code as status_of
from epochlint.formats import DEFAULT, STATISTICS, Report, Style, plain, renderer, use_colour
from epochlint.formats.layout import terminal_width
from epochlint.records import record
from epochlint.settings import Settings, SettingsError

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import IO

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
    respect_gitignore: bool = True
    force_exclude: bool = False  # named files too are left out when `exclude` matches them
    verbose: bool = False  # list the walked files that are not training configs
    exit_non_zero_on_fix: bool = False  # exit 1 when --fix changed a file, even if all is fixed
    show_files: bool = False  # list the files the run would check, and nothing else
    show_settings: bool = False  # print the settings of the first path, and nothing else
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
        if run.show_settings:
            from epochlint.commands.show import show_settings

            echo(show_settings(run.paths[0], configurations(run.command_line)), sys.stdout)
            return EXIT_CLEAN
        per_path, walked = settings_per_path(run)
    except SettingsError as error:  # a configuration file that cannot be used
        echo(f"epochlint: error: {error}\n", sys.stderr)
        return EXIT_FAILURE
    if run.show_files:
        results = [result for result in lint(run, per_path) if result.skipped is None]
        echo("".join(f"{result.path}\n" for result in results), sys.stdout)
        return EXIT_CLEAN
    if run.fix or run.diff:
        from epochlint.commands.fix import FixOptions, fix_files

        options = FixOptions(
            stdin_filename=run.stdin_filename,
            diff=run.diff,
            only_safe=run.only_safe,
            non_zero_on_fix=run.exit_non_zero_on_fix,
            style=_style(run.diff and use_colour(run.color, sys.stdout)),
            walked=frozenset(walked),
            info_fixes=run.info_fixes,
        )
        results, footer, status = fix_files(per_path, options)
        # `--fix -` writes the fixed file to standard output: the report goes to the other one
        report_stream = sys.stderr if "-" in run.paths and not run.diff else sys.stdout
    else:
        results = lint(run, per_path)
        if walked:
            from epochlint.commands.files import mark_if_not_a_config

            for result in results:
                if result.path in walked:
                    mark_if_not_a_config(result)
        counted = [result for result in results if not _skipped_in_walk(result, walked)]
        footer, status, report_stream = None, status_of(counted), sys.stdout
    if not run.verbose:  # --verbose lists them, and they still do not count
        results = [result for result in results if not _skipped_in_walk(result, walked)]
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
        try:
            if os.path.samefile(path, output):
                return path
        except OSError:
            pass
    return None


def settings_per_path(run: CheckRun) -> tuple[list[tuple[str, Settings]], set[str]]:
    """Each file to check with its settings (stdin's are `--stdin-filename`'s), and which of
    them a directory walk found."""
    found = configurations(run.command_line)
    if any(path != "-" and os.path.isdir(path) for path in run.paths) or run.force_exclude:
        from epochlint.commands.files import collect  # walking is for folders and hooks

        targets = collect(run.paths, found, run.respect_gitignore, run.force_exclude)
        checked = [target.path for target in targets]
        walked = {target.path for target in targets if target.walked}
    else:  # files only, the usual pre-commit run: nothing to walk or exclude
        checked, walked = list(run.paths), set()
    per_path = [(path, found.settings_for(_located(path, run.stdin_filename))) for path in checked]
    return per_path, walked


def _skipped_in_walk(result: FileResult, walked: set[str]) -> bool:
    """A walked file that is not a training config: left out of the report, as ruff leaves
    out the files it does not lint."""
    return result.path in walked and result.skipped is not None


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
        report = Report(_style(colour), footer, run.quiet, terminal_width())
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
