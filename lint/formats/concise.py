"""`--format concise`: one line per finding, `path:line:col: EL201 [*] message`.

`[*]` marks a finding `epochlint --fix` can fix, as ruff marks them.
"""

from __future__ import annotations

from epochlint.engine import FileResult
from epochlint.formats import DEFAULT, Report


def render_lines(results: list[FileResult]) -> list[str]:
    lines: list[str] = []
    for result in results:
        if result.error is not None:
            lines.append(f"{result.path}: error: {result.error}")
        for d in result.diagnostics:
            mark = " [*]" if d.fix is not None else ""
            lines.append(f"{result.path}:{d.line}:{d.column}: {d.rule}{mark} {d.message}")
    return lines


def render(results: list[FileResult], report: Report = DEFAULT) -> str:
    from epochlint.formats import text

    closing = [] if report.quiet else [text.closing(results, report)]
    return "".join(line + "\n" for line in [*render_lines(results), *closing])
