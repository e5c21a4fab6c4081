"""`epochlint check`: the options, checked against each other, become a CheckRun; the run itself
is `checking.run_check`, which the console script's fast path calls too."""

from __future__ import annotations

import sys

import click

from epochlint.commands import options
from epochlint.commands.checking import CheckRun, run_check
from epochlint.commands.commandline import CommandLine, OptionError
from epochlint.formats import FORMATS
from epochlint.overrides import split_overrides


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "output_format",
    type=click.Choice(tuple(FORMATS)),
    help="Report format (default: full; in GitHub Actions, annotations and the full report).",
)
@click.option(
    "--output-file",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    metavar="PATH",
    help="Write the report to this file instead of standard output.",
)
@options.config_file()
@options.isolated
@click.option(
    "--extend-select",
    multiple=True,
    metavar="CODES",
    help="Rules to enable on top of the selection (IDs or prefixes).",
)
@click.option("--statistics", is_flag=True, help="Count findings per rule instead of listing them.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even with findings (still 2 on failures).")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only: no summary.")
@options.dataset_size()
@options.num_gpus()
@click.option("--stdin-filename", metavar="PATH", help="Name to report for `-` (standard input).")
@options.transformers_version()
@options.trl_version()
@click.option(
    "--select",
    multiple=True,
    metavar="CODES",
    help="Only these rules (IDs or prefixes, comma-separated).",
)
@click.option(
    "--ignore", multiple=True, metavar="CODES", help="Skip these rules (IDs or prefixes)."
)
@options.root()
@options.dialect
@options.color()
@click.option("--fix", is_flag=True, help="Apply fixes and write the files back.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option(
    "--only-safe",
    is_flag=True,
    help="With --fix/--diff: apply only safe fixes (no change to training behaviour).",
)
@click.option(
    "--info-fixes",
    is_flag=True,
    help="With --fix/--diff: also apply the fixes of info findings (which do not fail the run).",
)
def check(
    paths: tuple[str, ...],
    output_format: str | None,
    output_file: str | None,
    config_path: str | None,
    isolated: bool,
    extend_select: tuple[str, ...],
    statistics: bool,
    exit_zero: bool,
    quiet: bool,
    dataset_size: int | None,
    num_gpus: int | None,
    stdin_filename: str | None,
    transformers_version: str | None,
    trl_version: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    root: str | None,
    dialect: str | None,
    color: str,
    fix: bool,
    diff: bool,
    only_safe: bool,
    info_fixes: bool,
) -> None:
    """Check training configs (a path of `-` reads standard input)."""
    if not paths:
        raise click.UsageError("give at least one config file (or `-` for standard input)")
    paths, overrides = split_overrides(paths)  # `cfg.yaml key=value ...` as llamafactory-cli
    if overrides and (len(paths) != 1 or paths[0] == "-" or fix or diff):
        raise click.UsageError("key=value overrides apply to one config file, without --fix/--diff")
    if config_path and isolated:
        raise click.UsageError("--config and --isolated contradict each other; give one")
    command_line = CommandLine(
        select=select,
        extend_select=extend_select,
        ignore=ignore,
        num_gpus=num_gpus,
        dataset_size=dataset_size,
        transformers_version=transformers_version,
        trl_version=trl_version,
        root=root,
        dialect=dialect,
        config_path=config_path,
        isolated=isolated,
    )
    run = CheckRun(
        paths=paths,
        overrides=overrides,
        command_line=command_line,
        stdin_filename=stdin_filename,
        output_format=output_format,
        output_file=output_file,
        statistics=statistics,
        quiet=quiet,
        exit_zero=exit_zero,
        color=color,
        fix=fix,
        diff=diff,
        only_safe=only_safe,
        info_fixes=info_fixes,
    )
    try:
        status = run_check(run)
    except OptionError as error:
        raise click.BadParameter(str(error), param_hint=error.option) from None
    sys.exit(status)
