"""The human report: each finding with its source line and a marker, then a summary."""

from __future__ import annotations

from epochlint.diagnostic import Diagnostic, Severity, thousands
from epochlint.engine import FileResult
from epochlint.facts.schedule import Plan
from epochlint.formats import DEFAULT, Report, Style, plain
from epochlint.settings import COMMAND_LINE

SEVERITY_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def plan_line(plan: Plan) -> str:
    rows = thousands(plan.dataset_rows)
    if plan.dataset_rows is not None and plan.dataset_rows_source:
        rows += f" ({plan.dataset_rows_source})"
    parts = [
        f"rows {rows}",
        f"GPUs {plan.world_size}",
        f"effective batch {thousands(plan.effective_batch)}",
        f"steps/epoch {thousands(plan.steps_per_epoch)}",
        f"total steps {thousands(plan.total_steps)}",
        f"epochs {thousands(plan.epochs)}",
        f"warmup {thousands(plan.warmup_steps)}",
    ]
    return "plan: " + " · ".join(parts)


def _source_excerpt(diagnostic: Diagnostic, lines: list[str], style: Style) -> list[str]:
    if not 1 <= diagnostic.line <= len(lines):
        return []
    text = lines[diagnostic.line - 1].rstrip("\r\n")
    gutter = str(diagnostic.line)
    width = len(gutter)
    if diagnostic.end_line == diagnostic.line and diagnostic.end_column > diagnostic.column:
        length = diagnostic.end_column - diagnostic.column
    else:
        length = max(len(text) - diagnostic.column + 1, 1)
    marker = " " * (diagnostic.column - 1) + "^" * length
    colour = SEVERITY_COLOURS[diagnostic.severity]
    return [
        style(f"{' ' * width} |", fg="blue"),
        style(f"{gutter} |", fg="blue") + f" {text.expandtabs(1)}",
        style(f"{' ' * width} |", fg="blue") + " " + style(marker, fg=colour, bold=True),
    ]


def render_file(result: FileResult, style: Style = plain) -> list[str]:
    if result.error is not None:
        return [style(f"{result.path}: ", bold=True) + style("error: ", fg="red") + result.error]
    if result.skipped is not None and not result.diagnostics:
        return [style(f"{result.path}: skipped: {result.skipped}", dim=True)]
    lines = result.source.text.splitlines() if result.source else []
    out: list[str] = []
    for diagnostic in result.diagnostics:
        colour = SEVERITY_COLOURS[diagnostic.severity]
        head = style(f"{result.path}:{diagnostic.line}:{diagnostic.column}:", bold=True)
        rule = style(f"{diagnostic.rule} {diagnostic.name}", fg=colour, bold=True)
        out.append(f"{head} {rule} [{diagnostic.severity.value}] {diagnostic.message}")
        out.extend(_source_excerpt(diagnostic, lines, style))
        if diagnostic.fix is not None:
            out.append(
                style(f"  = fix available ({diagnostic.fix.safety}): ", fg="green")
                + diagnostic.fix.describe()
            )
        out.append("")
    if result.diagnostics and result.plan is not None:
        dialect = ""
        if result.config:
            assumed = result.config.assumption
            dialect = f" ({result.config.title} config{f'; {assumed}' if assumed else ''})"
        out.append(style(f"{result.path}{dialect}: {plan_line(result.plan)}", dim=True))
        out.append("")
    return out


def summary(results: list[FileResult], style: Style = plain) -> str:
    counts = {severity: sum(r.count(severity) for r in results) for severity in Severity}
    unreadable = sum(1 for r in results if r.error is not None)
    fixable = sum(
        1 for r in results for d in r.diagnostics if d.fix and d.severity != Severity.INFO
    )
    info_fixable = sum(
        1 for r in results for d in r.diagnostics if d.fix and d.severity == Severity.INFO
    )
    # Overrides on the command line are reported like a file, but they are not one.
    checked = len({r.path for r in results if r.path != COMMAND_LINE})
    files = f"{checked} file{'s' if checked != 1 else ''}"
    if not any(counts.values()) and not unreadable:
        return style("All checks passed!", fg="green", bold=True) + f" ({files})"
    parts = [
        f"{counts[Severity.ERROR]} error{'s' if counts[Severity.ERROR] != 1 else ''}",
        f"{counts[Severity.WARNING]} warning{'s' if counts[Severity.WARNING] != 1 else ''}",
        f"{counts[Severity.INFO]} info",
    ]
    text = f"Found {', '.join(parts)} in {files}"
    if unreadable:
        text += f"; {unreadable} could not be read"
    if fixable:
        text += f". {fixable} fixable with `epochlint --fix`"
    if info_fixable:
        text += f"{'' if fixable else '.'} ({info_fixable} more with `--fix --info-fixes`)"
    return style(text, bold=True)


def render(results: list[FileResult], report: Report = DEFAULT) -> str:
    """Each file's findings, then the summary (or the report's footer) unless quiet."""
    out: list[str] = []
    for result in results:
        out.extend(render_file(result, report.style))
    if report.quiet:
        return "".join(line + "\n" for line in out)
    out.append(closing(results, report))
    return "\n".join(out) + "\n"


def closing(results: list[FileResult], report: Report) -> str:
    """The last line: the footer when there is one (--fix says what it fixed), else the summary."""
    if report.footer:
        return report.style(report.footer, bold=True)
    return summary(results, report.style)
