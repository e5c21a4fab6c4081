"""Apply the rules' fixes to a config's text until nothing more is fixable, then verify.

Each round lints the current text, applies the fixes that do not touch a key already edited
in that round (one fix may enable another, so the next round lints again), and stops when no
fix is left or after MAX_ROUNDS. The text edits themselves are minimal splices
(`yamledit.apply_edits`, which also checks that the data changed exactly as intended). At the
end the result must lint without the findings that were fixed; otherwise nothing is written.
"""

from __future__ import annotations

from epochlint.diagnostic import Diagnostic, Edit
from epochlint.engine import FileResult, check_source
from epochlint.reading.source import Source
from epochlint.records import field, record, replace
from epochlint.settings import Settings
from epochlint.yamledit import EditError, KeyEdit, apply_edits

MAX_ROUNDS = 10

# Where a new key goes when it is added: after the first of these that the file has.
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "val_size": ("eval_dataset", "per_device_eval_batch_size"),
    "eval_strategy": ("val_size", "per_device_eval_batch_size", "eval_dataset"),
    "eval_steps": ("eval_strategy",),
    "save_strategy": ("eval_strategy", "save_steps"),
    "load_best_model_at_end": ("save_strategy", "eval_strategy"),
    "metric_for_best_model": ("load_best_model_at_end", "eval_steps", "eval_strategy"),
    "early_stopping_steps": ("metric_for_best_model", "load_best_model_at_end", "eval_strategy"),
    "load_in_4bit": ("adapter",),
    "num_train_epochs": ("learning_rate", "gradient_accumulation_steps"),
    "gradient_accumulation_steps": ("per_device_train_batch_size",),
    "learning_rate": ("gradient_accumulation_steps", "per_device_train_batch_size"),
    "lr_scheduler_type": ("num_train_epochs", "learning_rate"),
    "warmup_ratio": ("lr_scheduler_type", "num_train_epochs"),
    "warmup_steps": ("lr_scheduler_type", "num_train_epochs"),
    "logging_steps": ("output_dir",),
    "save_steps": ("logging_steps", "output_dir"),
    "max_steps": ("num_train_epochs",),
}


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


def _key_edit(edit: Edit, settings_keys: dict[str, str]) -> KeyEdit:
    related = NEIGHBOURS.get(edit.field or edit.key, ())
    after = tuple(settings_keys.get(name, name) for name in related)
    return KeyEdit(edit.op, edit.key, edit.value, edit.new_key, after)


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
    keys = dict(result.config.dialect.keys) if result.config else {}
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
            edits = [_key_edit(edit, keys) for edit in diagnostic.fix.edits]
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
