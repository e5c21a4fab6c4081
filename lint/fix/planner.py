"""Apply the rules' fixes to a config's text until nothing more is fixable, then verify.

Each round lints the current text, applies the fixes that do not touch a key already edited
in that round (one fix may enable another, so the next round lints again), and stops when no
fix is left or after MAX_ROUNDS. The text edits themselves are minimal splices
(`fix.edit.apply_edits`, which also checks that the data changed exactly as intended). At the
end the result must lint without the findings that were fixed; otherwise nothing is written.
"""

from __future__ import annotations

from typing import Any

from epochlint.diagnostic import Diagnostic, EditOp
from epochlint.dialects import default
from epochlint.dialects.base import Dialect
from epochlint.engine import FileResult, check_source
from epochlint.fix.edit import EditError, KeyEdit, apply_edits
from epochlint.reading.source import Source
from epochlint.records import field, record, replace
from epochlint.settings import Settings

MAX_ROUNDS = 10


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


def wanted(diagnostic: Diagnostic, only_safe: bool) -> bool:
    fix = diagnostic.fix
    return fix is not None and (fix.safety == "safe" or not only_safe)


def fix_source(source: Source, settings: Settings, only_safe: bool = False) -> FixOutcome:
    outcome = FixOutcome(source, source.text)
    result = check_source(source, settings)
    if result.document is None:
        outcome.result = result
        outcome.refused = "the file does not parse, so it is not fixed"
        return outcome
    dialect = result.config.dialect if result.config else default()
    for _ in range(MAX_ROUNDS):
        todo = [d for d in result.diagnostics if wanted(d, only_safe)]
        todo = [d for d in todo if not any(d == failed for failed, _ in outcome.failed)]
        # Safe fixes first: a rename (EL101) must land before a suggestion sets the same key.
        todo.sort(key=lambda d: (d.fix is None or d.fix.safety != "safe", d.line, d.column))
        if not todo:
            break
        touched: set[str] = set()
        text = outcome.text
        for diagnostic in todo:
            assert diagnostic.fix is not None
            edits = [
                placed_edit(dialect, e.op, e.key, e.value, e.new_key, e.field)
                for e in diagnostic.fix.edits
            ]
            names = {e.key for e in edits} | {e.new_key for e in edits if e.new_key}
            if names & touched:
                continue  # the next round re-lints the edited text and tries again
            try:
                text = apply_edits(text, edits)
            except EditError as error:
                outcome.failed.append((diagnostic, str(error)))
                continue
            touched |= names
            outcome.applied.append(diagnostic)
        if text == outcome.text:
            break
        outcome.text = text
        result = check_source(replace(source, text=text), settings)
        if result.document is None:
            outcome.refused = "a fix produced a file that does not parse; nothing was written"
            break
    outcome.result = result
    if outcome.refused is None:
        outcome.refused = _recurring(outcome, result)
    return outcome


def _recurring(outcome: FixOutcome, result: FileResult) -> str | None:
    """A fixed finding that is still reported means the fix did not do what it claimed."""
    remaining = {(d.rule, d.message) for d in result.diagnostics}
    for diagnostic in outcome.applied:
        if (diagnostic.rule, diagnostic.message) in remaining:
            described = diagnostic.fix.describe() if diagnostic.fix else ""
            return f"the fix for {diagnostic.rule} ({described}) did not resolve it"
    return None
