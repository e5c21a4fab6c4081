"""The `epochlint` command group: `epochlint COMMAND ...`, and `epochlint PATH ...` for check.

Each command lives in its own module of epochlint.commands.
"""

from __future__ import annotations

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
