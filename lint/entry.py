"""The `epochlint` console script.

A pre-commit hook runs `epochlint check a.yaml b.yaml` on every commit, so that run has to start
faster than the YAML linter next to it. The click CLI (`epochlint.cli`) costs about 40 ms to
import, with click itself and every command's module, before one file is read. A run that is
nothing but YAML paths, with the default options or `--quiet` (how a hook or a script checks a
whole folder), is therefore done here, the way `check` does it; anything else (another option,
stdin, a subcommand, colour) goes to the click CLI.
"""

from __future__ import annotations

import os
import re
import sys

# What `check` does with colour off: click.echo strips ANSI sequences coming from the configs.
ANSI_SEQUENCE = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")
EXIT_FAILURE = 2
QUIET = ("--quiet", "-q")


class OutputClosed(Exception):
    """Standard output was closed by its reader; raised past click, which would exit 1 for it."""


def main() -> None:
    """Run a command; whatever goes wrong ends in one line on standard error and exit 2."""
    try:
        status = _run(sys.argv[1:])
        sys.stdout.flush()
    except SystemExit as done:
        _flush_or_report()
        raise done from None
    except KeyboardInterrupt:
        sys.stderr.write("\nAborted!\n")  # as click reports it
        sys.exit(1)
    except BaseException as error:  # the one place every command's failure reaches
        _report_failure(error)
        sys.exit(EXIT_FAILURE)
    sys.exit(status)


def _run(arguments: list[str]) -> int:
    paths = arguments[1:] if arguments[:1] == ["check"] else arguments
    quiet = any(argument in QUIET for argument in paths)
    paths = [argument for argument in paths if argument not in QUIET]
    if not _plain_paths(paths) or _wants_colour() or os.environ.get("GITHUB_ACTIONS") == "true":
        from epochlint.cli import main as cli

        cli.main(arguments, prog_name="epochlint")
        return 0  # click exits with the command's status; this is never reached
    return _check(paths, quiet)


def _flush_or_report() -> None:
    """Flush the report before exiting, so a write that fails is reported like any other."""
    try:
        sys.stdout.flush()
    except Exception as error:
        _report_failure(error)
        sys.exit(EXIT_FAILURE)


def _report_failure(error: BaseException) -> None:
    """One line on standard error for a failure no command handled itself."""
    _silence_stdout()  # nothing half-written may be flushed again at exit
    if isinstance(error, OutputClosed | BrokenPipeError):
        return  # the reader went away (`epochlint a.yaml | head`): nothing to say to anyone
    if isinstance(error, OSError) and error.strerror:
        message = f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    elif isinstance(error, RecursionError):
        message = "the input nests too deeply to be read (Python's recursion limit)"
    elif isinstance(error, MemoryError):
        message = "out of memory"
    else:
        detail = str(error).splitlines()[0] if str(error) else ""
        message = f"internal error, please report it: {type(error).__name__}: {detail}"[:500]
    try:
        sys.stderr.write(f"epochlint: error: {message}\n")
        sys.stderr.flush()
    except Exception:  # standard error is gone too: the exit status still says it
        pass


def _silence_stdout() -> None:
    """Point standard output at /dev/null: Python flushes it at exit, which would fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
    sys.stdout = open(os.devnull, "w")  # lives until exit


def _plain_paths(arguments: list[str]) -> bool:
    """Config file paths only: no option, no stdin, nothing a subcommand or override could be."""
    return bool(arguments) and all(
        argument.endswith((".yaml", ".yml"))
        and not argument.startswith("-")
        and "=" not in argument
        for argument in arguments
    )


def _wants_colour() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _check(paths: list[str], quiet: bool) -> int:
    from pathlib import Path

    from epochlint.configfile import COMMAND_LINE, Configurations, Options
    from epochlint.engine import check_files, exit_code
    from epochlint.formats import text
    from epochlint.settings import SettingsError

    command_line = Options(
        origin=COMMAND_LINE,
        folder=Path.cwd(),
        select=None,
        extend_select=frozenset(),
        ignore=frozenset(),
        num_gpus=None,
        dataset_size=None,
        transformers=None,
        root=None,
    )
    try:
        configurations = Configurations(command_line, None, False)
        checked = [path for path in paths if not configurations.excluded(path)]
        per_path = [(path, configurations.settings_for(path)) for path in checked]
    except SettingsError as error:
        sys.stderr.write(f"epochlint: error: {error}\n")
        return EXIT_FAILURE
    results = check_files(per_path)
    if quiet:  # the findings alone, as `check --quiet` prints them
        report = "".join(
            line + "\n" for result in results for line in text.render_file(result, text.plain)
        )
    else:
        report = text.render(results, text.plain, None)
    sys.stdout.write(ANSI_SEQUENCE.sub("", report))
    sys.stdout.flush()
    return exit_code(results)
