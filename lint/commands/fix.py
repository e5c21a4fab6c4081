"""`epochlint --fix` and `--diff`: fix each file, write it (or show the diff), report the rest.

With `--fix` on standard input the fixed YAML goes to standard output and the report to
standard error, so `epochlint --fix - < a.yaml > b.yaml` works like a filter.
"""

from __future__ import annotations

import difflib
import sys

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
from epochlint.fix.writer import WriteError, write_atomic
from epochlint.reading.source import SourceError, UnreadablePath, decode, encode, read_file
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
    per_path: list[tuple[str, Settings]], stdin_filename: str | None, diff: bool, only_safe: bool
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
        found, footer, group_status = run_fixes(group, settings, stdin_filename, diff, only_safe)
        results.extend(found)
        footers.append(footer)
        status = max(status, group_status)
        index = end
    return results, "\n".join(footers) or None, status


def run_fixes(
    paths: tuple[str, ...],
    settings: Settings,
    stdin_filename: str | None,
    diff: bool,
    only_safe: bool,
) -> tuple[list[FileResult], str, int]:
    """Fix every path; return the final lint results, the closing line and the exit status."""
    results: list[FileResult] = []
    fixed = failures = changed_files = 0
    for path in paths:
        stdin_data = sys.stdin.buffer.read() if path == "-" else None
        shown = (stdin_filename or "<stdin>") if stdin_data is not None else path
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
        outcome = fix_source(source, settings, only_safe)
        result = outcome.result or check_source(source, settings)
        if outcome.refused is not None and outcome.applied:
            click.echo(f"{source.path}: not fixed: {outcome.refused}", err=True)
            failures += 1
            result = check_source(source, settings)
        elif outcome.changed:
            if diff:
                sys.stdout.write(unified_diff(outcome))
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
    return results, _footer(results, fixed, diff), _status(results, failures, diff, changed_files)


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
