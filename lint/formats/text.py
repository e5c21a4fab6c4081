"""The human report: each finding with its source line and a marker, then a summary.

A finding's first line is its place, rule and headline; the numbers and the explanation follow
on a note line, and every line is wrapped to the report's width (formats/layout.py).
"""

from __future__ import annotations

from epochlint.diagnostic import Diagnostic, Severity, thousands
from epochlint.engine import FileResult
from epochlint.facts.schedule import Plan
from epochlint.formats import DEFAULT, Report, Style
from epochlint.formats.layout import split_message, wrap, wrap_after, wrap_parts
from epochlint.settings import COMMAND_LINE

SEVERITY_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def plan_parts(plan: Plan) -> list[str]:
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
    return parts


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


def render_file(result: FileResult, report: Report = DEFAULT) -> list[str]:
    """A file's findings, each with its source line and fix, then its schedule; quiet: the
    findings alone (no note on a skipped file, no schedule)."""
    style, width = report.style, report.width
    if result.error is not None:
        head = f"{result.path}: error:"
        styled = style(f"{result.path}: ", bold=True) + style("error:", fg="red")
        return wrap_after(head, styled, result.error, width, result.path)
    if result.skipped is not None and not result.diagnostics:
        if report.quiet:
            return []
        head = f"{result.path}: skipped:"
        note = wrap_after(head, head, result.skipped, width, result.path)
        return [style(line, dim=True) for line in note]
    lines = result.source.text.splitlines() if result.source else []
    out: list[str] = []
    for diagnostic in result.diagnostics:
        out.extend(_finding(result.path, diagnostic, lines, report))
        out.append("")
    if result.diagnostics and result.plan is not None and not report.quiet:
        dialect = ""
        if result.config:
            assumed = result.config.assumption
            dialect = f" ({result.config.title} config{f'; {assumed}' if assumed else ''})"
        parts = [f"{result.path}{dialect}: plan:", *plan_parts(result.plan)]
        schedule = wrap_parts(parts, width, path=result.path)
        schedule[0] = schedule[0].replace(": plan: · ", ": plan: ", 1)
        out.extend(style(line, dim=True) for line in schedule)
        out.append("")
    return out


def _finding(path: str, diagnostic: Diagnostic, lines: list[str], report: Report) -> list[str]:
    style, width = report.style, report.width
    colour = SEVERITY_COLOURS[diagnostic.severity]
    place = f"{path}:{diagnostic.line}:{diagnostic.column}:"
    rule = f"{diagnostic.rule} {diagnostic.name}"
    severity = f"[{diagnostic.severity.value}]"
    styled = f"{style(place, bold=True)} {style(rule, fg=colour, bold=True)} {severity}"
    headline, detail = split_message(diagnostic.message)
    out = wrap_after(f"{place} {rule} {severity}", styled, headline, width, path)
    out.extend(_source_excerpt(diagnostic, lines, style))
    if detail:
        out.extend(wrap(detail, width, "  = note: ", "    "))
    if diagnostic.fix is not None:
        label = f"  = fix available ({diagnostic.fix.safety}):"
        fix = wrap_after(label, style(label, fg="green"), diagnostic.fix.describe(), width)
        out.extend([fix[0], *("  " + line for line in fix[1:])])
    return out


def summary(results: list[FileResult], report: Report = DEFAULT) -> str:
    style = report.style
    counts = {severity: sum(r.count(severity) for r in results) for severity in Severity}
    unreadable = sum(1 for r in results if r.error is not None)
    fixable = sum(
        1 for r in results for d in r.diagnostics if d.fix and d.severity != Severity.INFO
    )
    info_fixable = sum(
        1 for r in results for d in r.diagnostics if d.fix and d.severity == Severity.INFO
    )
    # Overrides on the command line are reported like a file, but they are not one; a file
    # that is not a training config is not checked.
    checked = len({r.path for r in results if r.path != COMMAND_LINE and r.skipped is None})
    skipped = sum(1 for r in results if r.skipped is not None)
    files = f"{checked} file{'s' if checked != 1 else ''}"
    if skipped:
        files += f", {skipped} skipped"
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
    return "\n".join(style(line, bold=True) for line in wrap(text, report.width))


def render(results: list[FileResult], report: Report = DEFAULT) -> str:
    """Each file's findings, then the summary (or the report's footer) unless quiet."""
    out: list[str] = []
    for result in results:
        out.extend(render_file(result, report))
    if report.quiet:
        return "".join(line + "\n" for line in out)
    out.append(closing(results, report))
    return "\n".join(out) + "\n"


def closing(results: list[FileResult], report: Report) -> str:
    """The last line: the footer when there is one (--fix says what it fixed), else the summary."""
    if report.footer:
        lines = [line for part in report.footer.split("\n") for line in wrap(part, report.width)]
        return "\n".join(report.style(line, bold=True) for line in lines)
    return summary(results, report)
