"""EL101 on a guide's name for a key the config already sets under LLaMA-Factory's name
(`early_stopping_patience` next to `early_stopping_steps`): remove the copy."""

from __future__ import annotations

from conftest import lint, only, settings

from epochlint.fix.planner import fix_source
from epochlint.reading.source import decode

BASE = "stage: sft\ndo_train: true\ndataset: my_data\noutput_dir: out\n"


def test_the_same_value_twice_is_removed_by_a_safe_fix() -> None:
    text = BASE + "early_stopping_steps: 3\nearly_stopping_patience: 3\n"
    finding = only(lint(text), "EL101")
    assert (finding.line, finding.column) == (6, 1)
    assert "`early_stopping_steps` is already set; remove `early_stopping_patience`" in (
        finding.message
    )
    assert finding.fix is not None and finding.fix.safety == "safe"
    assert finding.fix.describe() == "remove `early_stopping_patience`"
    fixed = fix_source(decode(text.encode(), "train.yaml"), settings(), only_safe=True)
    assert fixed.text == BASE + "early_stopping_steps: 3\n"


def test_two_different_values_are_the_users_call() -> None:
    text = BASE + "early_stopping_steps: 3\nearly_stopping_patience: 5\n"
    finding = only(lint(text), "EL101")
    assert finding.fix is not None and finding.fix.safety == "suggested"
    fixed = fix_source(decode(text.encode(), "train.yaml"), settings(), only_safe=True)
    assert fixed.text == text  # --only-safe leaves the choice to the user
