"""`epochlint --fix` and `--diff`: fix each file, write it (or show the diff), report the rest.

With `--fix` on standard input the fixed YAML goes to standard output and the report to
standard error, so `epochlint --fix - < a.yaml > b.yaml` works like a filter.
"""

from __future__ import annotations

import difflib
import sys
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
from epochlint.fix.writer import WriteError, write_atomic
from epochlint.formats import Style, plain
from epochlint.reading.source import SourceError, UnreadablePath, decode, encode, read_file
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


def run_fixes(
    paths: tuple[str, ...], settings: Settings, options: FixOptions
) -> tuple[list[FileResult], str, int]:
    """Fix every path; return the final lint results, the closing line and the exit status."""
    results: list[FileResult] = []
    fixed = failures = changed_files = 0
    diff = options.diff
    for path in paths:
        stdin_data = sys.stdin.buffer.read() if path == "-" else None
        shown = (options.stdin_filename or "<stdin>") if stdin_data is not None else path
        try:
            source = read_file(path) if stdin_data is None else decode(stdin_data, shown)
        except UnreadablePath as error:
            results.append(FileResult(path, error=error.message))
            failures += 1
            continue
        except SourceError as error:  # reported as EL001; never fixed
            results.append(undecodable(shown, error, settings))
            if stdin_data is not None and not diff:
                sys.stdout.buffer.write(stdin_data)  # a filter passes on what it cannot fix
            continue
        outcome = fix_source(source, settings, options.only_safe)
        result = outcome.result or check_source(source, settings)
        if path in options.walked:
            mark_if_not_a_config(result)
        if result.skipped is not None:  # not a training config: never written
            outcome.text = source.text
        if outcome.refused is not None and outcome.applied:
            click.echo(f"{source.path}: not fixed: {outcome.refused}", err=True)
            failures += 1
            result = check_source(source, settings)
        elif outcome.changed:
            if diff:
                sys.stdout.write(styled_diff(unified_diff(outcome), options.style))
            elif path == "-":
                sys.stdout.buffer.write(encode(source, outcome.text))
            else:
                try:
                    write_atomic(path, encode(source, outcome.text), encode(source, source.text))
                except WriteError as error:
                    click.echo(f"{source.path}: not fixed: {error}", err=True)
                    failures += 1
                    result = check_source(source, settings)
                    results.append(result)
                    continue
            fixed += len(outcome.applied)
            changed_files += 1
        elif path == "-" and not diff:
            sys.stdout.buffer.write(encode(source, source.text))
        for diagnostic, reason in outcome.failed:
            click.echo(
                f"{source.path}:{diagnostic.line}:{diagnostic.column}: {diagnostic.rule} fix "
                f"not applied: {reason}",
                err=True,
            )
        results.append(result)
    # A walked file that is not a training config is left out of the report, and so of the
    # count of what remains and of the exit status.
    counted = [r for r in results if r.path not in options.walked or r.skipped is None]
    status = _status(counted, failures, diff, changed_files)
    if options.non_zero_on_fix and changed_files and not diff:
        status = max(status, EXIT_FINDINGS)
    return results, _footer(counted, fixed, diff), status


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


def _status(results: list[FileResult], failures: int, diff: bool, changed_files: int) -> int:
    if failures:
        return EXIT_FAILURE
    if diff:
        return EXIT_FINDINGS if changed_files else EXIT_CLEAN
    return exit_code(results)
