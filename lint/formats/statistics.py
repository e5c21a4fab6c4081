"""`--statistics`: how many findings each rule has, instead of the findings themselves.

Files that could not be read are still listed first, one line each, as `--format concise` does.
"""

from __future__ import annotations

from typing import Any

from epochlint.engine import FileResult
from epochlint.formats import DEFAULT, Report, concise


def render(results: list[FileResult], report: Report = DEFAULT) -> str:
    failures = [line for line in concise.render_lines(results) if ": error: " in line]
    return "".join(line + "\n" for line in [*failures, *statistics_lines(results)])


def statistics_lines(results: list[FileResult]) -> list[str]:
    """One line per rule: how many findings, the ID, `[*]` when fixable, the name."""
    counts: dict[str, list[Any]] = {}
    for result in results:
        for d in result.diagnostics:
            entry = counts.setdefault(d.rule, [0, False, d.name])
            entry[0] += 1
            entry[1] = entry[1] or d.fix is not None
    ordered = sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))
    width = max((len(str(entry[0])) for _, entry in ordered), default=1)
    return [
        f"{count:>{width}}  {code}  {'[*]' if fixable else '   '}  {name}"
        for code, (count, fixable, name) in ordered
    ]
