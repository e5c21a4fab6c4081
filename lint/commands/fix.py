"""`epochlint --fix` and `--diff`: fix each file, write it (or show the diff), report the rest.

With `--fix` on standard input the fixed YAML goes to standard output and the report to
standard error, so `epochlint --fix - < a.yaml > b.yaml` works like a filter.
"""

from __future__ import annotations

import difflib
import shutil
import sys
from contextlib import nullcontext
from typing import Any

import click

from epochlint.commands.files import mark_if_not_a_config
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
from epochlint.formats import Style, plain
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

# How `--diff` colours its lines on a terminal, as git does (the first prefix that matches).
DIFF_STYLES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("+++", {"bold": True}),
    ("---", {"bold": True}),
    ("@@", {"fg": "cyan"}),
    ("+", {"fg": "green"}),
    ("-", {"fg": "red"}),
)


def styled_diff(diff: str, style: Style) -> str:
    lines = []
    for line in diff.splitlines(keepends=True):
        body = line.rstrip("\n")
        look = next((look for prefix, look in DIFF_STYLES if body.startswith(prefix)), None)
        lines.append(style(body, **look) + line[len(body) :] if look is not None else line)
    return "".join(lines)


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


@record(frozen=True)
class FixOptions:
    stdin_filename: str | None = None
    diff: bool = False  # show the changes, write nothing
    only_safe: bool = False
    info_fixes: bool = False  # also fix info findings
    non_zero_on_fix: bool = False  # --exit-non-zero-on-fix
    style: Style = plain  # how the diff is coloured
    walked: frozenset[str] = frozenset()  # found in a folder: left out when not a config


def fix_files(
    per_path: list[tuple[str, Settings]], options: FixOptions
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
        found, footer, group_status = run_fixes(group, settings, options)
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
    paths: tuple[str, ...], settings: Settings, options: FixOptions
) -> tuple[list[FileResult], str, int]:
    """Fix every path; return the final lint results, the closing line and the exit status."""
    results: list[FileResult] = []
    tally = _Tally()
    for path in paths:
        if path == "-":
            shown = options.stdin_filename or "<stdin>"
            results.append(_fix_stdin(shown, settings, options, tally))
        else:
            results.append(_fix_path(path, settings, options, tally))
    # A walked file that is not a training config is left out of the report, and so of the
    # count of what remains and of the exit status.
    counted = [r for r in results if r.path not in options.walked or r.skipped is None]
    status = _status(counted, tally, options.diff)
    if options.non_zero_on_fix and tally.changed and not options.diff:
        status = max(status, EXIT_FINDINGS)
    return results, _footer(counted, tally.fixed, options.diff), status


def _fix_stdin(shown: str, settings: Settings, options: FixOptions, tally: _Tally) -> FileResult:
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
        result, outcome = _fix(source, settings, options, tally)
        if outcome is not None:
            passed_on = True
            sys.stdout.buffer.write(encode(source, outcome.text))
            _count(tally, outcome)
        return result
    finally:
        if not passed_on and not options.diff:
            sys.stdout.buffer.write(data)
            shutil.copyfileobj(sys.stdin.buffer, sys.stdout.buffer)
            sys.stdout.buffer.flush()


def _fix_path(path: str, settings: Settings, options: FixOptions, tally: _Tally) -> FileResult:
    """Fix one file, holding its lock from the read to the write (none is needed for --diff),
    so that a concurrent --fix, recommend --apply or diagnose --fix waits for this one."""
    try:
        with nullcontext(None) if options.diff else locked(path) as file:
            try:
                source = read_file(path)
            except UnreadablePath as error:
                tally.failures += 1
                return FileResult(path, error=error.message)
            except SourceError as error:  # reported as EL001; never fixed
                return undecodable(path, error, settings)
            result, outcome = _fix(source, settings, options, tally)
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
    source: Source, settings: Settings, options: FixOptions, tally: _Tally
) -> tuple[FileResult, FixOutcome | None]:
    """Plan the fixes and report the ones not applied; the lint to show, and the outcome when
    there is a fixed text to write (with --diff, the diff is printed and counted here). A file
    that is not a training config is never changed."""
    outcome = fix_source(source, settings, options.only_safe, info_fixes=options.info_fixes)
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
    if source.path in options.walked:
        mark_if_not_a_config(result)
    if not outcome.changed or result.skipped is not None:
        return result, None
    if options.diff:
        sys.stdout.write(styled_diff(unified_diff(outcome), options.style))
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
