"""The `epochlint` command group: `epochlint COMMAND ...`, and `epochlint PATH ...` for check.

Each command lives in its own module of epochlint.commands.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from epochlint import __version__
from epochlint.commands.check import check
from epochlint.commands.diagnose import diagnose_command
from epochlint.commands.guard import guard_command
from epochlint.commands.plan import plan_command
from epochlint.commands.recommend import recommend_command
from epochlint.commands.rule import rule_command
from epochlint.commands.schema import schema_command
from epochlint.commands.server import server_command

HELP_AND_VERSION = ("--help", "-h", "--version")


class DefaultToCheck(click.Group):
    """`epochlint train.yaml` means `epochlint check train.yaml`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Shell completion parses what is typed so far (resiliently): with nothing typed yet,
        # the group's command names are what it offers.
        completing = ctx.resilient_parsing and not args
        if not completing and (not args or args[0] not in (*self.commands, *HELP_AND_VERSION)):
            args = ["check", *args]
        return super().parse_args(ctx, args)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """As click's standalone mode, but a usage error is one line, as every other error."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            returned = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as error:
            hint = f" (see `{error.ctx.command_path} --help`)" if error.ctx is not None else ""
            click.echo(f"epochlint: error: {error.format_message()}{hint}", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            click.echo(f"epochlint: error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        # click returns the exit code of --help and --version, and None when a command returns
        sys.exit(returned if isinstance(returned, int) else 0)

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


for command in (
    check,
    rule_command,
    diagnose_command,
    plan_command,
    recommend_command,
    guard_command,
    schema_command,
    server_command,
):
    main.add_command(command)
