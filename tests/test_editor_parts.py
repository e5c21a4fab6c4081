"""The parts of `epochlint server` an editor depends on, checked without a client: positions in
the client's encoding, the text of a suppression, completion values as YAML reads them, and
hover on an Axolotl config (whose keys have other names)."""

from __future__ import annotations

from pathlib import Path

from epochlint.diagnostic import Diagnostic, Severity
from epochlint.editor.actions import suppressed_text
from epochlint.editor.completion import candidates
from epochlint.editor.documents import OpenConfigs
from epochlint.editor.engine_api import dialect_named
from epochlint.editor.hover import hover_markdown
from epochlint.editor.positions import Position, column_of, replacement, to_client


def finding(line: int, rule: str = "EL201") -> Diagnostic:
    return Diagnostic(rule, "too-many-epochs", Severity.WARNING, "m", line, 19, line, 21)


def test_columns_are_counted_in_the_clients_units() -> None:
    text = "# 🚀 rocket\nlr: 1\n"  # the emoji is one character, two UTF-16 units, four bytes
    assert to_client(text, 1, 5, "utf-16") == Position(0, 5)
    assert to_client(text, 1, 5, "utf-8") == Position(0, 7)
    assert to_client(text, 1, 5, "utf-32") == Position(0, 4)
    assert column_of(text, Position(0, 5), "utf-16") == 4
    assert column_of(text, Position(1, 99), "utf-16") == 5  # past the end: the end


def test_a_replacement_never_splits_a_crlf_line_break() -> None:
    before = "a: 1\r\nb: 2\r\n"
    after = "a: 1\r\nc: 3\r\nb: 2\r\n"
    change = replacement(before, after, "utf-16")
    applied_lines = before.split("\r\n")
    assert change.start.line <= 1 and change.text.count("\r\n") == 1
    # Applying it line-wise, as an editor does, gives the new text.
    start = (
        sum(len(line) + 2 for line in applied_lines[: change.start.line]) + change.start.character
    )
    end = sum(len(line) + 2 for line in applied_lines[: change.end.line]) + change.end.character
    assert before[:start] + change.text + before[end:] == after


def test_a_suppression_goes_above_the_line_and_keeps_the_line_breaks() -> None:
    text = "stage: sft\r\n  # note\r\nnum_train_epochs: 10\r\n"
    suppressed = suppressed_text(text, finding(3), "\r\n")
    assert suppressed == (
        "stage: sft\r\n  # note\r\n# epochlint: disable=EL201\r\nnum_train_epochs: 10\r\n"
    )
    assert suppressed is not None
    again = suppressed_text(suppressed, finding(4, "EL406"), "\r\n")
    assert again is not None and "# epochlint: disable=EL201,EL406\r\n" in again
    assert suppressed_text(suppressed, finding(4), "\r\n") is None  # already there
    assert suppressed_text(text, finding(2), "\r\n") is None  # a comment line holds no finding


def test_completed_values_read_back_as_the_choice() -> None:
    llamafactory = dialect_named("llamafactory")
    strategies = [c.insert for c in candidates(llamafactory, "save_strategy: ", set())]
    assert strategies == ['"no"', "steps", "epoch", "best"]  # a bare `no` is false in YAML 1.1
    flags = [c.insert for c in candidates(llamafactory, "bf16: t", set())]
    assert flags == ["true", "false"]
    keys = [c.label for c in candidates(llamafactory, "num_tr", {"stage"})]
    assert "num_train_epochs" in keys and "stage" not in keys
    assert candidates(llamafactory, "  nested: ", set()) == []


def test_hover_on_an_axolotl_schedule_key_shows_the_plan(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    config = tmp_path / "lora.yml"
    text = (
        "base_model: NousResearch/Llama-3.2-1B\n"
        "# epochlint: dataset-size=4000\n"
        "datasets:\n  - path: data.jsonl\n    type: alpaca\n"
        "adapter: lora\nlora_r: 16\nsequence_len: 2048\n"
        "micro_batch_size: 4\ngradient_accumulation_steps: 2\nnum_epochs: 3\n"
        "learning_rate: 0.0002\n"
    )
    configs = OpenConfigs(tmp_path.parent, tmp_path)
    opened = configs.open(config.as_uri(), config, text, 1)
    result = configs.check(opened)
    assert result is not None and result.dialect == "axolotl" and opened.settings is not None
    assert opened.settings.root == str(tmp_path)  # the innermost workspace folder holding it
    plan = hover_markdown(result, opened.settings, "num_epochs")
    assert plan is not None
    assert "rows: 4,000 (comment)" in plan
    assert "effective batch: 8" in plan
    assert "guideline: 3-5 epochs (tolerated 2-6) (LoRA, medium dataset)" in plan
    assert "**`num_epochs`** (Axolotl)" in plan
    documentation = hover_markdown(result, opened.settings, "sequence_len")
    assert documentation is not None and "Training plan" not in documentation
