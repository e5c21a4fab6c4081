"""The `epochlint` console script.

A pre-commit hook runs `epochlint check a.yaml b.yaml` on every commit, so that run has to start
faster than the YAML linter next to it. The click CLI (`epochlint.cli`) costs about 40 ms to
import, with click itself and every command's module, before one file is read. A run that is
nothing but YAML paths, with the default options or `--quiet` (how a hook or a script checks a
whole folder), therefore calls the check run (`commands/checking.py`) directly, with the options
`check` would have given it; anything else (another option, stdin, a subcommand) goes to the
click CLI.
"""

from __future__ import annotations

import sys

QUIET = ("--quiet", "-q")


def main() -> None:
    arguments = sys.argv[1:]
    paths = arguments[1:] if arguments[:1] == ["check"] else arguments
    quiet = any(argument in QUIET for argument in paths)
    paths = [argument for argument in paths if argument not in QUIET]
    if not _plain_paths(paths):
        from epochlint.cli import main as cli

        cli()
        return
    from epochlint.commands.checking import CheckRun, run_check

    try:
        status = run_check(CheckRun(paths=tuple(paths), quiet=quiet))
    except KeyboardInterrupt:
        sys.stderr.write("\nAborted!\n")  # as click reports it
        sys.exit(1)
    except BrokenPipeError:
        # The reader went away (`epochlint a.yaml | head`): exit quietly, as click does.
        sys.stdout = None
        sys.exit(1)
    sys.exit(status)


def _plain_paths(arguments: list[str]) -> bool:
    """Config file paths only: no option, no stdin, nothing a subcommand or override could be."""
    return bool(arguments) and all(
        argument.endswith((".yaml", ".yml"))
        and not argument.startswith("-")
        and "=" not in argument
        for argument in arguments
    )
