"""Less noise (issue #15 part 4): the default selection reports what a practitioner acts on."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import lint, only, rules_of

from epochlint.cli import main

# 1,000 rows, LoRA, 5 epochs at batch 8: 625 steps, saved only every 1,000 steps.
SAVES_AT_THE_END = """\
# epochlint: dataset-size=1000
model_name_or_path: Qwen/Qwen2.5-0.5B
stage: sft
do_train: true
finetuning_type: lora
dataset: d
template: qwen
output_dir: out
per_device_train_batch_size: 8
gradient_accumulation_steps: 1
learning_rate: 1.0e-4
num_train_epochs: 5
val_size: 0.1
eval_strategy: epoch
save_strategy: steps
save_steps: 1000
logging_steps: 10
bf16: true
"""


def check(tmp_path: Path, *args: str) -> list[str]:
    path = tmp_path / "train.yaml"
    path.write_text(SAVES_AT_THE_END)
    result = CliRunner().invoke(
        main, ["check", "--format", "concise", "--transformers-version", "5.8.0", *args, str(path)]
    )
    return [line.split()[1] for line in result.output.splitlines() if ": EL" in line]


def test_el408_is_opt_in(tmp_path: Path) -> None:
    assert "EL408" not in check(tmp_path)
    assert "EL408" in check(tmp_path, "--extend-select", "EL408")
    assert check(tmp_path, "--select", "EL408") == ["EL408"]
    assert "EL408" in check(tmp_path, "--select", "EL4")  # a prefix selects it, as in ruff


def test_an_opt_in_rule_is_selected_from_the_configuration_file(tmp_path: Path) -> None:
    (tmp_path / ".epochlint.yaml").write_text("extend-select: [EL408]\n")
    assert "EL408" in check(tmp_path)


AXOLOTL = """\
base_model: NousResearch/Llama-3.2-1B
datasets:
  - path: tatsu-lab/alpaca
    type: alpaca
output_dir: ./outputs/out
sequence_len: 2048
adapter: lora
lora_r: 16
micro_batch_size: 2
gradient_accumulation_steps: 4
num_epochs: 3
learning_rate: 0.0002
"""


def test_evals_per_epoch_null_or_zero_is_not_a_finding() -> None:
    for value in ("", " null", " 0"):
        result = lint(AXOLOTL + f"evals_per_epoch:{value}\n", dataset_size=3000)
        assert "EL416" not in rules_of(result), value
    # A cadence without evaluation data still evaluates nothing, and says so.
    finding = only(lint(AXOLOTL + "evals_per_epoch: 4\n", dataset_size=3000), "EL416")
    assert finding.message.startswith("`evals_per_epoch: 4` does nothing without evaluation data")


def test_pure_bf16_is_not_reported_as_training_in_fp32() -> None:
    config = SAVES_AT_THE_END.replace("bf16: true", "pure_bf16: true")
    assert "EL305" not in rules_of(lint(config))
    assert "EL305" in rules_of(lint(SAVES_AT_THE_END.replace("bf16: true\n", "")))
