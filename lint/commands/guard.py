"""`epochlint guard -- COMMAND ...`: lint the config a training launch will read, then either
refuse (exit 1, the command never starts) or become the command (os.execvp), so its output,
exit status and signals are exactly the command's own.

epochlint's own report goes to standard error, and only when there is something to say, so a
good config changes nothing a script reads from the command's standard output.
"""

from __future__ import annotations

import os
import sys

import click

from epochlint.commands import options
from epochlint.commands.commandline import CommandLine, configurations
from epochlint.diagnostic import Severity
from epochlint.engine import EXIT_FAILURE, EXIT_FINDINGS, FileResult, check_path
from epochlint.overrides import check_path_with_overrides
from epochlint.records import replace
from epochlint.run.guard import GuardError, read_command, world_size
from epochlint.settings import SettingsError

COMMAND_NOT_FOUND = 127  # what a shell returns, so scripts see the usual status


@click.command(
    "guard",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--strict", is_flag=True, help="Refuse on warnings too, not only errors.")
@options.num_gpus(help="Data-parallel processes, instead of reading them from the environment.")
@options.dataset_size(help="Rows of the training data as stored.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def guard_command(
    strict: bool, num_gpus: int | None, dataset_size: int | None, command: tuple[str, ...]
) -> None:
    """Check the config of a training command, then run the command unchanged:
    `epochlint guard -- llamafactory-cli train train.yaml key=value`."""
    try:
        launch = read_command(command)
        size = world_size(command, os.environ)
    except GuardError as error:
        click.echo(f"epochlint guard: error: {error}", err=True)
        sys.exit(EXIT_FAILURE)
    processes = num_gpus or size.size
    command_line = CommandLine(num_gpus=processes, dataset_size=dataset_size)
    try:
        settings = configurations(command_line).settings_for(launch.config)
    except SettingsError as error:
        click.echo(f"epochlint guard: error: {error}", err=True)
        sys.exit(EXIT_FAILURE)
    settings = replace(settings, world_size=processes)
    if launch.overrides:
        results = check_path_with_overrides(launch.config, settings, launch.overrides)
    else:
        results = [check_path(launch.config, settings)]
    source = "--num-gpus" if num_gpus else size.source
    verdict = _verdict(results, strict)
    serious = (Severity.ERROR, Severity.WARNING)
    if verdict is not None or any(d.severity in serious for r in results for d in r.diagnostics):
        from epochlint.formats import text

        click.echo(text.render(results), nl=False, err=True)
        click.echo(f"epochlint guard: world size {processes} ({source})", err=True)
    if verdict is not None:
        click.echo(f"epochlint guard: not running the command: {verdict}", err=True)
        sys.exit(EXIT_FAILURE if any(r.error for r in results) else EXIT_FINDINGS)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(command[0], list(command))
    except OSError as error:
        click.echo(f"epochlint guard: cannot run {command[0]}: {error.strerror}", err=True)
        sys.exit(COMMAND_NOT_FOUND)


def _verdict(results: list[FileResult], strict: bool) -> str | None:
    """Why the command must not run, or None."""
    for result in results:
        if result.error is not None:
            return f"{result.path} could not be checked"
    errors = sum(result.count(Severity.ERROR) for result in results)
    warnings = sum(result.count(Severity.WARNING) for result in results)
    if errors:
        return f"{errors} error{'s' if errors != 1 else ''} in the config"
    if strict and warnings:
        return f"{warnings} warning{'s' if warnings != 1 else ''} in the config (--strict)"
    return None
