"""The `epochlint` command line.

Exit codes: 0 no error or warning, 1 at least one error or warning (or a diff with --diff),
2 epochlint could not do its job (a bad option, an unreadable path, an internal failure).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from epochlint import __version__
from epochlint.engine import EXIT_FAILURE, FileResult, check_bytes, check_path, exit_code
from epochlint.settings import Settings, SettingsError
from epochlint.versions import Version

FORMATS = ("full", "concise", "json")


class DefaultToCheck(click.Group):
    """`epochlint train.yaml` means `epochlint check train.yaml`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["check", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultToCheck, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="epochlint")
def main() -> None:
    """Lint LLM fine-tuning configs: epochs, steps, learning rate and startup crashes."""


def _codes(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(
        code.strip().upper() for value in values for code in value.split(",") if code.strip()
    )


def _validate_codes(option: str, codes: frozenset[str]) -> None:
    from epochlint.rules import all_rules

    known = [rule.code for rule in all_rules()]
    for code in codes:
        if not any(known_code.startswith(code) for known_code in known):
            raise click.BadParameter(
                f"{code} matches no rule (see `epochlint rule --all`)", param_hint=option
            )


def _use_colour(choice: str, stream: Any) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="full",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--dataset-size",
    type=click.IntRange(min=1),
    metavar="N",
    help="Rows of the training data as stored (the val_size split still applies).",
)
@click.option(
    "--num-gpus",
    type=click.IntRange(min=1),
    metavar="N",
    help="Data-parallel processes (GPUs) the run uses. Default 1.",
)
@click.option("--stdin-filename", metavar="PATH", help="Name to report for `-` (standard input).")
@click.option(
    "--transformers-version",
    metavar="X.Y.Z",
    help="transformers version to check against (default: installed, else 5.8.0).",
)
@click.option(
    "--select",
    multiple=True,
    metavar="CODES",
    help="Only these rules (IDs or prefixes, comma-separated).",
)
@click.option(
    "--ignore", multiple=True, metavar="CODES", help="Skip these rules (IDs or prefixes)."
)
@click.option(
    "--root",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Folder that relative dataset_dir paths start from "
    "(default: the current folder, as LLaMA-Factory does).",
)
@click.option(
    "--color", type=click.Choice(("auto", "always", "never")), default="auto", show_default=True
)
@click.option("--fix", is_flag=True, help="Apply fixes and write the files back.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option(
    "--only-safe",
    is_flag=True,
    help="With --fix/--diff: apply only safe fixes (no change to training behaviour).",
)
def check(
    paths: tuple[str, ...],
    output_format: str,
    dataset_size: int | None,
    num_gpus: int | None,
    stdin_filename: str | None,
    transformers_version: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    root: str | None,
    color: str,
    fix: bool,
    diff: bool,
    only_safe: bool,
) -> None:
    """Check training configs (a path of `-` reads standard input)."""
    if not paths:
        raise click.UsageError("give at least one config file (or `-` for standard input)")
    settings = Settings()
    try:
        if transformers_version:
            settings.transformers = Version.parse(transformers_version)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--transformers-version") from None
    if dataset_size is not None:
        settings.dataset_size, settings.dataset_size_source = dataset_size, "--dataset-size"
    if num_gpus is not None:
        settings.world_size, settings.world_size_source = num_gpus, "--num-gpus"
    if select:
        settings.select = _codes(select)
        _validate_codes("--select", settings.select)
    if ignore:
        settings.ignore = _codes(ignore)
        _validate_codes("--ignore", settings.ignore)
    if root:
        settings.root = Path(root)

    if fix or diff:
        from epochlint.fixcommand import run_fixes

        results, footer, status = run_fixes(paths, settings, stdin_filename, diff, only_safe)
        report_stream = sys.stderr if "-" in paths and not diff else sys.stdout
    else:
        results = [_check_one(path, settings, stdin_filename) for path in paths]
        footer, status, report_stream = None, exit_code(results), sys.stdout
    if output_format == "json":
        from epochlint.formats import json_format

        click.echo(json_format.render(results), nl=False, file=report_stream)
    else:
        from epochlint.formats import text

        colour = _use_colour(color, report_stream)
        style: text.Style = click.style if colour else text.plain
        report = text.render(results, style, footer)
        click.echo(report, nl=False, color=colour, file=report_stream)
    sys.exit(status)


def _check_one(path: str, settings: Settings, stdin_filename: str | None) -> FileResult:
    shown = path
    try:
        if path == "-":
            shown = stdin_filename or "<stdin>"
            return check_bytes(sys.stdin.buffer.read(), shown, settings)
        return check_path(path, settings)
    except (SettingsError, RecursionError, MemoryError) as error:
        return FileResult(shown, error=str(error) or type(error).__name__)
    except Exception as error:  # a bug in epochlint must not hide the other files' results
        return FileResult(
            shown, error=f"internal error, please report it: {type(error).__name__}: {error}"
        )


@main.command("rule")
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule.")
def rule_command(code: str | None, show_all: bool) -> None:
    """Explain a rule (`epochlint rule EL201`) or list them all (`--all`)."""
    from epochlint.rules import all_rules, get_rule

    if show_all or not code:
        for item in all_rules():
            fix = f" [fix: {item.fix}]" if item.fix else ""
            click.echo(f"{item.code}  {item.name:<32} {item.severity.value:<8} {item.summary}{fix}")
        return
    found = get_rule(code.upper()) or get_rule(code)
    if found is None:
        click.echo(f"epochlint: no rule {code} (see `epochlint rule --all`)", err=True)
        sys.exit(EXIT_FAILURE)
    click.echo(f"# {found.code} {found.name}\n")
    click.echo(f"Default severity: {found.severity.value}. Fix: {found.fix or 'none'}.\n")
    click.echo(found.doc)
