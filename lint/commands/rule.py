"""`epochlint rule`: one rule's documentation, or the list of every rule."""

from __future__ import annotations

import sys

import click

from epochlint.engine import EXIT_FAILURE


@click.command("rule")
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule.")
def rule_command(code: str | None, show_all: bool) -> None:
    """Explain a rule (`epochlint rule EL201`) or list them all (`--all`)."""
    from epochlint.rules import all_rules, get_rule

    if show_all or not code:
        for item in all_rules():
            fix = f" [fix: {item.fix}]" if item.fix else ""
            opt_in = " [opt-in]" if item.opt_in else ""
            click.echo(
                f"{item.code}  {item.name:<32} {item.severity.value:<8} {item.summary}{fix}{opt_in}"
            )
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
