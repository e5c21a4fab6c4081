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
from epochlint.configfile import COMMAND_LINE, Configurations, Options
from epochlint.engine import (
    EXIT_CLEAN,
    EXIT_FAILURE,
    EXIT_FINDINGS,
    FileResult,
    check_files,
    exit_code,
)
from epochlint.overrides import check_path_with_overrides, split_overrides
from epochlint.settings import Settings, SettingsError
from epochlint.versions import Version

FORMATS = ("full", "concise", "json", "github", "sarif")


class DefaultToCheck(click.Group):
    """`epochlint train.yaml` means `epochlint check train.yaml`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["check", *args]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as error:
            # click exits 1 (findings) for a closed output; entry.main reports it as a failure
            from epochlint.entry import OutputClosed

            raise OutputClosed() from error


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
    help="Report format (default: full; in GitHub Actions, annotations and the full report).",
)
@click.option(
    "--output-file",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    metavar="PATH",
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    metavar="PATH",
    help="Use this configuration file (pyproject.toml or .epochlint.yaml) for every file.",
)
@click.option("--isolated", is_flag=True, help="Ignore configuration files.")
@click.option(
    "--extend-select",
    multiple=True,
    metavar="CODES",
    help="Rules to enable on top of the selection (IDs or prefixes).",
)
@click.option("--statistics", is_flag=True, help="Count findings per rule instead of listing them.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even with findings (still 2 on failures).")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only: no summary.")
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
    "--dialect",
    type=click.Choice(("llamafactory", "axolotl", "hf")),
    help="Read every file as this kind of config (default: tell from its keys).",
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
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    root: str | None,
    dialect: str | None,
    color: str,
    fix: bool,
    diff: bool,
    only_safe: bool,
) -> None:
    """Check training configs (a path of `-` reads standard input)."""
    if not paths:
        raise click.UsageError("give at least one config file (or `-` for standard input)")
    paths, overrides = split_overrides(paths)  # `cfg.yaml key=value ...` as llamafactory-cli
    if overrides and (len(paths) != 1 or paths[0] == "-" or fix or diff):
        raise click.UsageError("key=value overrides apply to one config file, without --fix/--diff")
    if config_path and isolated:
        raise click.UsageError("--config and --isolated contradict each other; give one")
    transformers = None
    try:
        if transformers_version:
            transformers = Version.parse(transformers_version)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--transformers-version") from None
    for option, values in (
        ("--select", select),
        ("--ignore", ignore),
        ("--extend-select", extend_select),
    ):
        _validate_codes(option, _codes(values))
    command_line = Options(
        origin=COMMAND_LINE,
        folder=Path.cwd(),
        select=_codes(select) if select else None,
        extend_select=_codes(extend_select),
        ignore=_codes(ignore),
        num_gpus=num_gpus,
        dataset_size=dataset_size,
        transformers=transformers,
        root=Path(root) if root else None,
        dialect=dialect,
    )
    try:
        configurations = Configurations(
            command_line, Path(config_path) if config_path else None, isolated
        )
        checked = [path for path in paths if path == "-" or not configurations.excluded(path)]
        per_path = [
            (path, configurations.settings_for(_located(path, stdin_filename))) for path in checked
        ]
    except SettingsError as error:  # a configuration file that cannot be used
        click.echo(f"epochlint: error: {error}", err=True)
        sys.exit(EXIT_FAILURE)

    if fix or diff:
        results, footer, status = _run_fixes(per_path, stdin_filename, diff, only_safe)
        report_stream = sys.stderr if "-" in paths and not diff else sys.stdout
    else:
        results = check_files(per_path, stdin_filename)
        if overrides and per_path:
            results = check_path_with_overrides(per_path[0][0], per_path[0][1], overrides)
        footer, status, report_stream = None, exit_code(results), sys.stdout
    if output_format is None and os.environ.get("GITHUB_ACTIONS") == "true":
        from epochlint.formats import github

        click.echo(github.render(results), nl=False, file=report_stream)
    report_file = open(output_file, "w", encoding="utf-8") if output_file else None
    try:
        stream = report_file or report_stream
        colour = report_file is None and _use_colour(color, report_stream)
        report = _report(output_format or "full", results, footer, statistics, quiet, colour)
        click.echo(report, nl=False, color=colour, file=stream)
    finally:
        if report_file is not None:
            report_file.close()
    if exit_zero and status == EXIT_FINDINGS:
        status = EXIT_CLEAN
    sys.exit(status)


def _located(path: str, stdin_filename: str | None) -> str:
    """Where a checked file's configuration is looked for: stdin is `--stdin-filename`."""
    return (stdin_filename or "<stdin>") if path == "-" else path


def _run_fixes(
    per_path: list[tuple[str, Settings]], stdin_filename: str | None, diff: bool, only_safe: bool
) -> tuple[list[FileResult], str | None, int]:
    """Fix each run of consecutive files that share settings (usually all of them at once)."""
    from epochlint.fixcommand import run_fixes

    results: list[FileResult] = []
    footers: list[str] = []
    status = EXIT_CLEAN
    index = 0
    while index < len(per_path):
        settings = per_path[index][1]
        group = [path for path, other in per_path[index:] if other == settings]
        end = index
        while end < len(per_path) and per_path[end][1] == settings:
            end += 1
        group = [path for path, _ in per_path[index:end]]
        found, footer, group_status = run_fixes(
            tuple(group), settings, stdin_filename, diff, only_safe
        )
        results.extend(found)
        footers.append(footer)
        status = max(status, group_status)
        index = end
    return results, "\n".join(footers) or None, status


def _report(
    output_format: str,
    results: list[FileResult],
    footer: str | None,
    statistics: bool,
    quiet: bool,
    colour: bool,
) -> str:
    from epochlint.formats import text

    style: text.Style = click.style if colour else text.plain
    closing = (
        [] if quiet else [style(footer, bold=True) if footer else text.summary(results, style)]
    )
    if statistics:
        from epochlint.formats import concise

        failures = [line for line in concise.render_lines(results) if ": error: " in line]
        return "".join(line + "\n" for line in [*failures, *statistics_lines(results)])
    if output_format == "json":
        from epochlint.formats import json_format

        return json_format.render(results)
    if output_format == "sarif":
        from epochlint.formats import sarif

        return sarif.render(results)
    if output_format == "github":
        from epochlint.formats import github

        return github.render(results)
    if output_format == "concise":
        from epochlint.formats import concise

        return "".join(line + "\n" for line in [*concise.render_lines(results), *closing])
    if quiet:
        return "".join(
            line + "\n" for result in results for line in text.render_file(result, style)
        )
    return text.render(results, style, footer)


def statistics_lines(results: list[FileResult]) -> list[str]:
    """One line per rule: how many findings, the ID, `[*]` when fixable, the name."""
    counts: dict[str, list[Any]] = {}
    for result in results:
        for d in result.diagnostics:
            entry = counts.setdefault(d.rule, [0, False, d.name])
            entry[0] += 1
            entry[1] = entry[1] or d.fix is not None
    ordered = sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))
    width = max((len(str(entry[0])) for _, entry in ordered), default=1)
    return [
        f"{count:>{width}}  {code}  {'[*]' if fixable else '   '}  {name}"
        for code, (count, fixable, name) in ordered
    ]


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


from epochlint.diagnosecommand import diagnose_command  # noqa: E402

main.add_command(diagnose_command)

from epochlint.plancommand import plan_command  # noqa: E402

main.add_command(plan_command)

from epochlint.recommendcommand import recommend_command  # noqa: E402

main.add_command(recommend_command)

from epochlint.guardcommand import guard_command  # noqa: E402

main.add_command(guard_command)
