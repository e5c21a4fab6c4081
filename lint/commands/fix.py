"""`epochlint --fix` and `--diff`: fix each file, write it (or show the diff), report the rest.

With `--fix` on standard input the fixed YAML goes to standard output and the report to
standard error, so `epochlint --fix - < a.yaml > b.yaml` works like a filter.
"""

from __future__ import annotations

import difflib
import shutil
import sys
from contextlib import nullcontext

import click

from epochlint.engine import (
    EXIT_CLEAN,
    EXIT_FAILURE,
    EXIT_FINDINGS,
    FileResult,
    check_source,
    exit_code,
    undecodable,
)
from epochlint.fix.planner import FixOutcome, fix_source
from epochlint.fix.writer import WriteError, locked
from epochlint.reading.source import (
    MAX_CONFIG_BYTES,
    Source,
    SourceError,
    UnreadablePath,
    decode,
    encode,
    read_file,
)
from epochlint.records import record
from epochlint.settings import Settings


def unified_diff(outcome: FixOutcome) -> str:
    path = outcome.source.path
    lines = difflib.unified_diff(
        outcome.source.text.splitlines(keepends=True),
        outcome.text.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def fix_files(
    per_path: list[tuple[str, Settings]],
    stdin_filename: str | None,
    diff: bool,
    only_safe: bool,
    info_fixes: bool = False,
) -> tuple[list[FileResult], str | None, int]:
    """Fix each run of consecutive files that share settings (usually all of them at once);
    return the final lint results, the closing lines and the exit status."""
    results: list[FileResult] = []
    footers: list[str] = []
    status = EXIT_CLEAN
    index = 0
    while index < len(per_path):
        settings = per_path[index][1]
        end = index
        while end < len(per_path) and per_path[end][1] == settings:
            end += 1
        group = tuple(path for path, _ in per_path[index:end])
        found, footer, group_status = run_fixes(
            group, settings, stdin_filename, diff, only_safe, info_fixes
        )
        results.extend(found)
        footers.append(footer)
        status = max(status, group_status)
        index = end
    return results, "\n".join(footers) or None, status


@record
class _Tally:
    fixed: int = 0  # findings fixed
    failures: int = 0  # files that could not be read or written
    changed: int = 0  # files changed (or, with --diff, that would be)


def run_fixes(
    paths: tuple[str, ...],
    settings: Settings,
    stdin_filename: str | None,
    diff: bool,
    only_safe: bool,
    info_fixes: bool = False,
) -> tuple[list[FileResult], str, int]:
    """Fix every path; return the final lint results, the closing line and the exit status."""
    results: list[FileResult] = []
    tally = _Tally()
    for path in paths:
        if path == "-":
            results.append(
                _fix_stdin(
                    stdin_filename or "<stdin>", settings, diff, only_safe, info_fixes, tally
                )
            )
        else:
            results.append(_fix_path(path, settings, diff, only_safe, info_fixes, tally))
    return results, _footer(results, tally.fixed, diff), _status(results, tally, diff)


def _fix_stdin(
    shown: str, settings: Settings, diff: bool, only_safe: bool, info_fixes: bool, tally: _Tally
) -> FileResult:
    """`--fix -` is a filter, and a filter keeps its input: whatever fails (unreadable input,
    a refused fix, an internal error), standard output gets the input unchanged."""
    # One byte past the limit tells a config from input too large to parse, which is then
    # passed on in chunks: memory stays bounded however long the input is.
    data = sys.stdin.buffer.read(MAX_CONFIG_BYTES + 1)
    passed_on = False
    try:
        try:
            source = decode(data, shown)
        except SourceError as error:  # reported as EL001; never fixed
            return undecodable(shown, error, settings)
        result, outcome = _fix(source, settings, diff, only_safe, info_fixes, tally)
        if outcome is not None:
            passed_on = True
            sys.stdout.buffer.write(encode(source, outcome.text))
            _count(tally, outcome)
        return result
    finally:
        if not passed_on and not diff:
            sys.stdout.buffer.write(data)
            shutil.copyfileobj(sys.stdin.buffer, sys.stdout.buffer)
            sys.stdout.buffer.flush()


def _fix_path(
    path: str, settings: Settings, diff: bool, only_safe: bool, info_fixes: bool, tally: _Tally
) -> FileResult:
    """Fix one file, holding its lock from the read to the write (none is needed for --diff),
    so that a concurrent --fix, recommend --apply or diagnose --fix waits for this one."""
    try:
        with nullcontext(None) if diff else locked(path) as file:
            try:
                source = read_file(path)
            except UnreadablePath as error:
                tally.failures += 1
                return FileResult(path, error=error.message)
            except SourceError as error:  # reported as EL001; never fixed
                return undecodable(path, error, settings)
            result, outcome = _fix(source, settings, diff, only_safe, info_fixes, tally)
            if outcome is None:
                return result
            if file is None:
                raise WriteError("the file is gone or is not a regular file")
            file.write(encode(source, outcome.text), encode(source, source.text))
            _count(tally, outcome)
            return result
    except WriteError as error:
        click.echo(f"{path}: not fixed: {error}", err=True)
        tally.failures += 1
        try:
            return check_source(read_file(path), settings)
        except SourceError as unreadable:
            return FileResult(path, error=unreadable.message)


def _fix(
    source: Source,
    settings: Settings,
    diff: bool,
    only_safe: bool,
    info_fixes: bool,
    tally: _Tally,
) -> tuple[FileResult, FixOutcome | None]:
    """Plan the fixes and report the ones not applied; the lint to show, and the outcome when
    there is a fixed text to write (with --diff, the diff is printed and counted here)."""
    outcome = fix_source(source, settings, only_safe, info_fixes=info_fixes)
    for diagnostic, reason in outcome.failed:
        click.echo(
            f"{source.path}:{diagnostic.line}:{diagnostic.column}: {diagnostic.rule} fix "
            f"not applied: {reason}",
            err=True,
        )
    if outcome.refused is not None and outcome.applied:
        click.echo(f"{source.path}: not fixed: {outcome.refused}", err=True)
        tally.failures += 1
        return check_source(source, settings), None
    result = outcome.result or check_source(source, settings)
    if not outcome.changed:
        return result, None
    if diff:
        sys.stdout.write(unified_diff(outcome))
        _count(tally, outcome)
        return result, None
    return result, outcome


def _count(tally: _Tally, outcome: FixOutcome) -> None:
    tally.fixed += len(outcome.applied)
    tally.changed += 1


def _footer(results: list[FileResult], fixed: int, diff: bool) -> str:
    remaining = [d for result in results for d in result.diagnostics]
    fixable = sum(1 for d in remaining if d.fix is not None)
    verb = "Would fix" if diff else "Fixed"
    line = f"{verb} {fixed} problem{'s' if fixed != 1 else ''}, {len(remaining)} remaining"
    if remaining and not fixable:
        line += " (no fix)"
    elif fixable:
        line += f" ({fixable} with a fix that was not applied)"
    return line


def _status(results: list[FileResult], tally: _Tally, diff: bool) -> int:
    if tally.failures:
        return EXIT_FAILURE
    if diff:
        return EXIT_FINDINGS if tally.changed else EXIT_CLEAN
    return exit_code(results)
