"""`epochlint schema --dialect NAME`: the JSON Schema an editor's YAML support validates with."""

from __future__ import annotations

import click

from epochlint.editor import engine_api


@click.command("schema")
@click.option(
    "--dialect",
    type=click.Choice(engine_api.dialect_names()),
    default="llamafactory",
    show_default=True,
    help="Which trainer's config keys.",
)
def schema_command(dialect: str) -> None:
    """Print a JSON Schema of a trainer's config keys, for yaml-language-server."""
    from epochlint.editor.schema_export import render

    click.echo(render(dialect), nl=False)
