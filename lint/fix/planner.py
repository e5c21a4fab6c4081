"""Plan a config's fixes together: one at a time, each against the config as it then is.

A fix is applied, the result is linted again, and the next fix is chosen from that lint, so a
fix never acts on a finding an earlier fix made obsolete (renaming `evaluation_strategy` to
`eval_strategy` makes `eval_steps` count again, so the finding that called it ignored is gone).
Safe fixes come first, fixes of errors (the run fails as written) before the others.

A safe fix must keep the training schedule: unless it fixes an error, the schedule (steps,
warmup, evaluations, checkpoints, log points...) after it must equal the schedule before it;
otherwise it is not applied and the reason is reported. The text edits themselves are minimal
(`edit.apply_edits`, which also checks that the data changed exactly as intended). At the end
the result must lint without the findings that were fixed; otherwise nothing is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from epochlint.diagnostic import Diagnostic, Severity
from epochlint.dialects import default
from epochlint.dialects.base import Dialect
from epochlint.engine import FileResult, check_source
from epochlint.fix.edit import EditError, KeyEdit, apply_edits
from epochlint.reading.source import Source
from epochlint.records import field, record, replace
from epochlint.settings import Settings

if TYPE_CHECKING:
    from epochlint.diagnostic import EditOp

# A config has a handful of fixes; this bounds a fix whose finding keeps coming back.
MAX_FIXES = 40


@record
class FixOutcome:
    source: Source
    text: str  # the fixed text (the original when nothing was applied)
    applied: list[Diagnostic] = field(default_factory=list)
    failed: list[tuple[Diagnostic, str]] = field(default_factory=list)
    result: FileResult | None = None  # the lint of the final text
    refused: str | None = None  # why nothing may be written

    @property
    def changed(self) -> bool:
        return self.refused is None and self.text != self.source.text


def placed_edit(
    dialect: Dialect,
    op: EditOp,
    key: str,
    value: Any = None,
    new_key: str | None = None,
    canonical: str | None = None,
) -> KeyEdit:
    """A KeyEdit that puts a new key where the dialect places it: after the first of its
    neighbours the file has, else at the end of its `### section` block."""
    related = dialect.neighbours.get(canonical or key, ())
    after = tuple(dialect.key(name) for name in related)
    return KeyEdit(op, key, value, new_key, after, dialect.section_of(key))


def wanted(diagnostic: Diagnostic, only_safe: bool, info_fixes: bool = False) -> bool:
    """Whether --fix applies this finding's fix: only findings that fail the run (warnings and
    errors), an info finding's only with --info-fixes; only safe fixes with --only-safe."""
    fix = diagnostic.fix
    if fix is None or (diagnostic.severity == Severity.INFO and not info_fixes):
        return False
    return fix.safety == "safe" or not only_safe


def _identity(diagnostic: Diagnostic) -> tuple[str, str]:
    return diagnostic.rule, diagnostic.message


def _next_fix(
    result: FileResult,
    only_safe: bool,
    tried: set[tuple[str, str]],
    only: Diagnostic | None,
    info_fixes: bool,
) -> Diagnostic | None:
    """Safe before suggested (a rename lands before a suggestion sets the same key); fixes of
    errors before the others; then in file order. With `only`, that finding alone."""
    todo = [
        d
        for d in result.diagnostics
        if wanted(d, only_safe, info_fixes)
        and _identity(d) not in tried
        and (only is None or d == only)
    ]
    return min(
        todo,
        key=lambda d: (
            d.fix is None or d.fix.safety != "safe",
            d.severity != Severity.ERROR,
            d.line,
            d.column,
        ),
        default=None,
    )


# The intervals as written: what they do is in the event counts (an `eval_steps` that
# `eval_strategy: epoch` ignores changes no evaluation).
_CONFIGURED_INTERVALS = frozenset({"logging_steps", "eval_steps", "save_steps"})


def schedule_changes(before: FileResult, after: FileResult) -> list[str]:
    """The schedule numbers (rows, batches, steps, warmup, evaluations, checkpoints, log
    points) that differ between two lints of a config, as `name old -> new`."""
    if before.plan is None or after.plan is None:
        return [] if before.plan is after.plan else ["the schedule"]
    names = [n for n in type(before.plan).__annotations__ if n not in _CONFIGURED_INTERVALS]
    return [
        f"{name} {getattr(before.plan, name)} -> {getattr(after.plan, name)}"
        for name in names
        if getattr(before.plan, name) != getattr(after.plan, name)
    ]


def _keeps_the_schedule(diagnostic: Diagnostic) -> bool:
    """A safe fix of a warning or info must not change training; an error's fix makes it run."""
    fix = diagnostic.fix
    return fix is not None and fix.safety == "safe" and diagnostic.severity != Severity.ERROR


def _unsafe(diagnostic: Diagnostic, before: FileResult, after: FileResult) -> str | None:
    """Why the fix must not be applied although its edit succeeded, if it must not."""
    if after.dialect != before.dialect:
        # Every later fix would follow another trainer's rules.
        return "it would make the file read as a different kind of config"
    changes = schedule_changes(before, after) if _keeps_the_schedule(diagnostic) else []
    if changes:
        return f"a safe fix may not change the schedule, and it would: {', '.join(changes)}"
    return None


def fix_source(
    source: Source,
    settings: Settings,
    only_safe: bool = False,
    only: Diagnostic | None = None,
    info_fixes: bool = False,
) -> FixOutcome:
    """Fix the source; with `only`, that one finding alone (the editor's quick fix); with
    `info_fixes`, info findings' fixes too."""
    outcome = FixOutcome(source, source.text)
    result = check_source(source, settings)
    if result.document is None:
        outcome.result = result
        outcome.refused = "the file does not parse, so it is not fixed"
        return outcome
    dialect = result.config.dialect if result.config else default()
    tried: set[tuple[str, str]] = set()  # a finding's fix is tried once
    for _ in range(MAX_FIXES):
        diagnostic = _next_fix(result, only_safe, tried, only, info_fixes)
        if diagnostic is None:
            break
        assert diagnostic.fix is not None
        edits = [
            placed_edit(dialect, e.op, e.key, e.value, e.new_key, e.field)
            for e in diagnostic.fix.edits
        ]
        try:
            text = apply_edits(outcome.text, edits)
        except EditError as error:
            outcome.failed.append((diagnostic, str(error)))
            tried.add(_identity(diagnostic))
            continue
        if text == outcome.text:
            outcome.failed.append((diagnostic, "the fix would change nothing in the file"))
            tried.add(_identity(diagnostic))
            continue
        fixed = check_source(replace(source, text=text), settings)
        if fixed.document is None:
            outcome.refused = "a fix produced a file that does not parse; nothing was written"
            break
        reason = _unsafe(diagnostic, result, fixed)
        if reason is not None:
            outcome.failed.append((diagnostic, reason))
            tried.add(_identity(diagnostic))
            continue
        outcome.text, result = text, fixed
        outcome.applied.append(diagnostic)
        tried.add(_identity(diagnostic))  # if still reported, `_recurring` refuses the file
    outcome.result = result
    if outcome.refused is None:
        outcome.refused = _recurring(outcome, result)
    return outcome


def _recurring(outcome: FixOutcome, result: FileResult) -> str | None:
    """A fixed finding that is still reported means the fix did not do what it claimed."""
    remaining = {_identity(d) for d in result.diagnostics}
    for diagnostic in outcome.applied:
        if _identity(diagnostic) in remaining:
            described = diagnostic.fix.describe() if diagnostic.fix else ""
            return f"the fix for {diagnostic.rule} ({described}) did not resolve it"
    return None
