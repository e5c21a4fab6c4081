"""`--format sarif`: a SARIF 2.1.0 log, for GitHub code scanning and other SARIF viewers.

Locations are relative URIs under `%SRCROOT%` (the folder epochlint ran in), so a log
uploaded from CI points at the repository's files. A fix becomes a SARIF `fix` with the exact
text replacement when the fixer's key edit can be applied to the file as it is; otherwise its
description goes in the result's `properties` (SARIF requires replacements in a `fix`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from epochlint import __version__
from epochlint.diagnostic import Diagnostic, Fix, Severity
from epochlint.dialects import default
from epochlint.dialects.base import Dialect
from epochlint.engine import FileResult
from epochlint.fix import changed_span
from epochlint.fix.edit import EditError, apply_edits
from epochlint.fix.planner import placed_edit
from epochlint.formats import DEFAULT, Report
from epochlint.reading.source import Source
from epochlint.rules import Rule, all_rules

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SRCROOT = "%SRCROOT%"


def artifact_location(path: str, root: Path) -> dict[str, str]:
    absolute = Path(path).absolute()
    try:
        relative = absolute.relative_to(root)
    except ValueError:  # outside the source root: an absolute file URI
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": SRCROOT}


def region(line: int, column: int, end_line: int, end_column: int) -> dict[str, int]:
    found = {"startLine": line, "startColumn": column}
    if (end_line, end_column) > (line, column):
        found |= {"endLine": end_line, "endColumn": end_column}
    return found


def _position(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def replacement(source: Source, fix: Fix, dialect: Dialect) -> dict[str, Any] | None:
    """The fix as one text replacement in the file, or None when it cannot be applied alone."""
    edits = [placed_edit(dialect, e.op, e.key, e.value, e.new_key, e.field) for e in fix.edits]
    try:
        fixed = apply_edits(source.text, edits)
    except EditError:
        return None
    before = source.text
    start, end_before, end_fixed = changed_span(before, fixed)
    deleted = region(*_position(before, start), *_position(before, end_before))
    return {"deletedRegion": deleted, "insertedContent": {"text": fixed[start:end_fixed]}}


def result_json(
    result: FileResult, d: Diagnostic, index: dict[str, int], root: Path
) -> dict[str, Any]:
    location = artifact_location(result.path, root)
    data: dict[str, Any] = {
        "ruleId": d.rule,
        "ruleIndex": index[d.rule],
        "level": LEVELS[d.severity],
        "message": {"text": d.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": region(d.line, d.column, d.end_line, d.end_column),
                }
            }
        ],
    }
    if d.fix is not None:
        dialect = result.config.dialect if result.config is not None else default()
        change = replacement(result.source, d.fix, dialect) if result.source else None
        if change is not None:
            data["fixes"] = [
                {
                    "description": {"text": d.fix.describe()},
                    "artifactChanges": [{"artifactLocation": location, "replacements": [change]}],
                }
            ]
        else:
            data["properties"] = {"fix": d.fix.describe(), "fixSafety": d.fix.safety}
    return data


def rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.doc, "markdown": rule.doc},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"fix": rule.fix or "none"},
    }


def render(results: list[FileResult], report: Report = DEFAULT) -> str:
    root = Path.cwd().absolute()  # %SRCROOT%: the folder epochlint runs in
    rules = all_rules()
    index = {rule.code: position for position, rule in enumerate(rules)}
    failures = [
        {
            "level": "error",
            "message": {"text": result.error},
            "locations": [
                {"physicalLocation": {"artifactLocation": artifact_location(result.path, root)}}
            ],
        }
        for result in results
        if result.error is not None
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "epochlint",
                "version": __version__,
                "rules": [rule_json(rule) for rule in rules],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "invocations": [
            {"executionSuccessful": not failures, "toolExecutionNotifications": failures}
        ],
        "results": [
            result_json(result, diagnostic, index, root)
            for result in results
            for diagnostic in result.diagnostics
        ],
    }
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
