"""`epochlint rule`: one rule's documentation, or the list of every rule."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from epochlint.engine import EXIT_FAILURE
from epochlint.formats.layout import terminal_width, wrap

if TYPE_CHECKING:
    from epochlint.rules import Rule


@click.command("rule")
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule.")
def rule_command(code: str | None, show_all: bool) -> None:
    """Explain a rule (`epochlint rule EL201`) or list them all (`--all`)."""
    from epochlint.rules import all_rules, get_rule

    if show_all or not code:
        click.echo("\n".join(rule_table(all_rules(), terminal_width())))
        return
    found = get_rule(code.upper()) or get_rule(code)
    if found is None:
        click.echo(f"epochlint: no rule {code} (see `epochlint rule --all`)", err=True)
        sys.exit(EXIT_FAILURE)
    click.echo(f"# {found.code} {found.name}\n")
    selection = " Opt-in: enable it with `--extend-select`." if found.opt_in else ""
    click.echo(
        f"Default severity: {found.severity.value}. Fix: {found.fix or 'none'}.{selection}\n"
    )
    click.echo(found.doc)


def rule_table(rules: list[Rule], width: int) -> list[str]:
    """One row per rule: ID, name, severity, summary. When a row would not fit in `width`,
    every summary goes on the lines below its row, wrapped."""
    rows = [
        (
            f"{item.code}  {item.name:<32} {item.severity.value:<8}",
            item.summary + (f" [fix: {item.fix}]" if item.fix else ""),
        )
        for item in rules
    ]
    if all(len(head) + 1 + len(text) <= width for head, text in rows):
        return [f"{head} {text}" for head, text in rows]
    return [
        line
        for head, text in rows
        for line in [head.rstrip(), *wrap(text, width, " " * 7, " " * 7)]
    ]
