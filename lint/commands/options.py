"""The options several commands share, defined once. A command whose option means something
narrower (guard's `--num-gpus` replaces what it reads from the launcher) passes its own help."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from epochlint import dialects

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def num_gpus(help: str = "Data-parallel processes (GPUs) the run uses. Default 1.") -> Decorator:
    return click.option("--num-gpus", type=click.IntRange(min=1), metavar="N", help=help)


def dataset_size(
    help: str = "Rows of the training data as stored (the val_size split still applies).",
) -> Decorator:
    return click.option("--dataset-size", type=click.IntRange(min=1), metavar="N", help=help)


def transformers_version(
    help: str = "transformers version to check against (default: installed, else 5.8.0).",
) -> Decorator:
    return click.option("--transformers-version", metavar="X.Y.Z", help=help)


def trl_version(
    help: str = "TRL version the TRL configs run with (default: installed, else 1.10.0).",
) -> Decorator:
    return click.option("--trl-version", metavar="X.Y.Z", help=help)


def root(
    help: str | None = "Folder that relative dataset_dir paths start from "
    "(default: the current folder, as LLaMA-Factory does).",
) -> Decorator:
    return click.option("--root", type=click.Path(file_okay=False), metavar="DIR", help=help)


def config_file(
    help: str
    | None = "Use this configuration file (pyproject.toml or .epochlint.yaml) for every file.",
) -> Decorator:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(exists=True, dir_okay=False),
        metavar="PATH",
        help=help,
    )


isolated = click.option("--isolated", is_flag=True, help="Ignore configuration files.")


def color(show_default: bool = True) -> Decorator:
    return click.option(
        "--color",
        type=click.Choice(("auto", "always", "never")),
        default="auto",
        show_default=show_default,
    )


dialect = click.option(
    "--dialect",
    type=click.Choice(dialects.names()),
    help="Read every file as this kind of config (default: tell from its keys).",
)
