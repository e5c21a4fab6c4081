"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

The runner parses `::error file=...,line=...::message`: a property value must escape `%`,
CR, LF, `:` and `,` (or a path with a comma ends `file=` early), the message only `%`, CR and
LF (an escaped `:` or `,` there would show up literally). The runner drops an annotation whose
`col`/`endColumn` are given when it spans several lines, so those are left out then.
"""

from __future__ import annotations

from epochlint.diagnostic import Diagnostic, Severity
from epochlint.engine import FileResult
from epochlint.formats import DEFAULT, Report

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    # `%` first, or the `%0A` written for a newline would be escaped again.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: list[tuple[str, object]], message: str) -> str:
    joined = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties)
    return f"::{name} {joined}::{escape_data(message)}"


def annotation(path: str, diagnostic: Diagnostic) -> str:
    properties: list[tuple[str, object]] = [("file", path), ("line", diagnostic.line)]
    one_line = diagnostic.end_line == diagnostic.line
    if one_line:
        properties.append(("col", diagnostic.column))
    properties.append(("endLine", diagnostic.end_line))
    if one_line:
        properties.append(("endColumn", max(diagnostic.end_column, diagnostic.column)))
    properties.append(("title", f"{diagnostic.rule} {diagnostic.name}"))
    return command(COMMANDS[diagnostic.severity], properties, diagnostic.message)


def render(results: list[FileResult], report: Report = DEFAULT) -> str:
    lines: list[str] = []
    for result in results:
        if result.error is not None:
            lines.append(
                command("error", [("file", result.path), ("title", "epochlint")], result.error)
            )
        lines.extend(annotation(result.path, diagnostic) for diagnostic in result.diagnostics)
    return "".join(line + "\n" for line in lines)
