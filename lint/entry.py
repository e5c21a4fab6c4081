"""The `epochlint` console script.

A pre-commit hook runs `epochlint check a.yaml b.yaml` on every commit, so that run has to start
faster than the YAML linter next to it. The click CLI (`epochlint.cli`) costs about 40 ms to
import, with click itself and every command's module, before one file is read. A run that is
nothing but YAML paths, with the default options, `--quiet` or `--force-exclude` (how a hook or
a script checks a whole folder), therefore calls the check run (`commands/checking.py`)
directly, with the options `check` would have given it; anything else (another option, stdin,
a folder, a subcommand) goes to the click CLI.
"""

from __future__ import annotations

import os
import sys

COMPLETION = "_EPOCHLINT_COMPLETE"  # click's shell completion asks through this variable
EXIT_FAILURE = 2
QUIET = ("--quiet", "-q")
FORCE_EXCLUDE = "--force-exclude"  # what the pre-commit hooks pass
FLAGS = (*QUIET, FORCE_EXCLUDE)


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
    force_exclude = FORCE_EXCLUDE in paths
    paths = [argument for argument in paths if argument not in FLAGS] or ["."]
    if not _plain_paths(paths) or COMPLETION in os.environ:
        from epochlint.cli import main as cli

        cli.main(arguments, prog_name="epochlint")
        return 0  # click exits with the command's status; this is never reached
    from epochlint.commands.checking import CheckRun, run_check

    return run_check(CheckRun(paths=tuple(paths), quiet=quiet, force_exclude=force_exclude))


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
    """Config file paths, or `.` (what no path means): no option, no stdin, nothing a
    subcommand or override could be."""
    if arguments == ["."]:
        return True
    return bool(arguments) and all(
        argument.endswith((".yaml", ".yml"))
        and not argument.startswith("-")
        and "=" not in argument
        for argument in arguments
    )
