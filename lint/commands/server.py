"""`epochlint server`: the Language Server over standard input and output."""

from __future__ import annotations

import sys

import click

from epochlint.engine import EXIT_FAILURE

INSTALL_HINT = (
    "epochlint server needs the `lsp` extra (pygls and lsprotocol): pip install 'epochlint[lsp]'"
)


@click.command("server")
def server_command() -> None:
    """Run the Language Server on standard input and output (for editors)."""
    try:
        from epochlint.editor.server import serve
    except ImportError as error:
        if str(error.name).split(".")[0] not in ("pygls", "lsprotocol", "cattrs"):
            raise  # a bug in epochlint, not a missing extra
        click.echo(f"epochlint: error: {INSTALL_HINT} ({error.name} is missing)", err=True)
        sys.exit(EXIT_FAILURE)
    serve()
