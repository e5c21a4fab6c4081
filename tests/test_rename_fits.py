"""EL101 offers a rename only where the value fits the key it would become: a rename that
trades the finding for EL102 is no fix."""

from __future__ import annotations

from conftest import lint, only


def test_a_misspelt_key_whose_value_fits_is_renamed() -> None:
    finding = only(lint("stage: sft\ndo_train: true\nlearning_rat: 1.0e-4\n"), "EL101")
    assert finding.fix is not None and finding.fix.describe() == (
        "rename `learning_rat` to `learning_rate`"
    )


def test_a_misspelt_key_whose_value_does_not_fit_gets_no_rename() -> None:
    finding = only(lint("stage: sft\ndo_train: true\nlearning_rat:\n  a: 1\n"), "EL101")
    assert "did you mean `learning_rate`?" in finding.message
    assert finding.fix is None
