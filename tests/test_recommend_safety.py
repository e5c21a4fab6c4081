"""`recommend --apply` never risks the run it improves (README "Writing a good config:
recommend"): it never raises a setting that grows GPU memory, never logs, evaluates or saves
less often than the config did, and leaves no finding that a fix could resolve."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import CORPUS, LLAMAFACTORY
from test_recommend import block

from epochlint.cli import main
from epochlint.commands.recommend import current_settings
from epochlint.diagnostic import Severity
from epochlint.engine import FileResult, check_path
from epochlint.recommend import EPOCH, METHODS, PRESETS, Interval, covers, steps_of
from epochlint.settings import Settings
from epochlint.versions import Version

PINNED = ("--transformers-version", "5.8.0", "--isolated")
COVERED = ("sft", "dpo", "kto", "rm")  # LLaMA-Factory's stages that recommend covers
TIERS = {"small": 300, "medium": 3000, "large": 50_000}
# Keys whose larger value needs more GPU memory (sequence length, batch), or whose removal
# does (gradient checkpointing trades compute for memory).
MEMORY_KEYS = ("per_device_train_batch_size", "cutoff_len", "max_length", "sequence_len")
SERIOUS = (Severity.ERROR, Severity.WARNING)
# An 8B LoRA config as people write it: its own batch, sequence length and a busy monitoring
# cadence (the case that started this: every preset raised the batch and logged less often).
REALISTIC = """\
model_name_or_path: meta-llama/Llama-3.1-8B-Instruct
stage: sft
do_train: true
finetuning_type: {finetuning}
{quantization}dataset: my_data
template: llama3
cutoff_len: 2048
output_dir: saves/run
logging_steps: 10
save_steps: 40
per_device_train_batch_size: 2
gradient_accumulation_steps: 8
learning_rate: 1.0e-4
num_train_epochs: 3.0
lr_scheduler_type: cosine
warmup_ratio: 0.1
bf16: true
gradient_checkpointing: true
val_size: 0.1
eval_strategy: steps
eval_steps: 20
"""


def settings(rows: int | None = None) -> Settings:
    return Settings(transformers=Version(5, 8, 0), dataset_size=rows)


def cadences(result: FileResult) -> dict[str, Interval]:
    """How often the run logs, evaluates and saves: every N steps, every epoch, or never."""
    current = current_settings(result)
    return {"logging": current.logging, "evaluation": current.evaluation, "saving": current.saving}


def sparser(old: Interval, new: Interval, after: FileResult) -> bool:
    """Whether the new cadence is longer, in the new run's optimizer steps: "every epoch" is
    held to the new run's epoch (a new batch makes an epoch a different number of steps)."""
    if old is None or old == new == EPOCH:
        return False  # never before; or every epoch before and after
    assert after.plan is not None
    per_epoch = after.plan.steps_per_epoch or 0
    old_steps, new_steps = steps_of(old, per_epoch), steps_of(new, per_epoch)
    return new_steps is None or old_steps is None or new_steps > old_steps


def assert_never_riskier(before: FileResult, after: FileResult) -> None:
    assert before.config is not None and after.config is not None
    for key in MEMORY_KEYS:
        old, new = before.config.value(key), after.config.value(key)
        if before.config.has(key):
            assert new is not None and new <= old, f"{key}: {old} -> {new}"
    if before.config.value("gradient_checkpointing"):
        assert after.config.value("gradient_checkpointing"), "gradient checkpointing turned off"
    old_cadence, new_cadence = cadences(before), cadences(after)
    for kind, old in old_cadence.items():
        new = new_cadence[kind]
        assert not sparser(old, new, after), f"{kind}: every {old} -> every {new}"
    fixable = [
        f"{d.rule}: {d.message}"
        for d in after.diagnostics
        if d.fix is not None and d.severity in SERIOUS
    ]
    assert fixable == [], "a finding a fix could resolve is left behind"


def apply(path: Path, *args: str) -> tuple[int, str]:
    shown = CliRunner().invoke(main, ["recommend", "--apply", str(path), *args, *PINNED])
    return shown.exit_code, shown.output


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("preset", PRESETS)
def test_apply_to_a_realistic_config(preset: str, method: str, tier: str, tmp_path: Path) -> None:
    rows = TIERS[tier]
    finetuning = "full" if method == "full" else "lora"
    quantization = "quantization_bit: 4\n" if method == "qlora" else ""
    path = tmp_path / "train.yaml"
    path.write_text(REALISTIC.format(finetuning=finetuning, quantization=quantization))
    before = check_path(str(path), settings(rows))
    status, output = apply(path, "--preset", preset, "--dataset-size", str(rows))
    assert status in (0, 1), output
    after = check_path(str(path), settings(rows))
    assert_never_riskier(before, after)
    # The config's own batch is kept and said to be kept; the effective batch comes from
    # gradient accumulation.
    assert after.config is not None and after.config.value("per_device_train_batch_size") == 2
    assert "it sets the GPU memory the run needs" in output or "per_device" not in output


def test_a_bare_config_gets_the_presets_batch_with_how_to_lower_it() -> None:
    shown = CliRunner().invoke(
        main, ["recommend", "--dataset-size", "3000", "--method", "lora", *PINNED]
    )
    written = block(shown.output)["per_device_train_batch_size"]
    assert written.startswith("4 ")
    assert "sets GPU memory: to use less, halve it and double gradient_accum" in written


def test_the_issues_config_keeps_batch_and_logging_and_ends_clean(tmp_path: Path) -> None:
    """The report: an 8B LoRA config with batch 2 and logging every 10 steps, and both
    early-stopping keys; every preset raised the batch, logged less and exited 1."""
    text = REALISTIC.format(finetuning="lora", quantization="") + (
        "early_stopping_steps: 3\nearly_stopping_patience: 3\n"
    )
    for preset in PRESETS:
        path = tmp_path / f"{preset}.yaml"
        path.write_text(text)
        status, output = apply(path, "--preset", preset, "--dataset-size", "3000")
        assert status == 0, output
        assert "fixed   EL101 unknown-key: remove `early_stopping_patience`" in output
        written = path.read_text()
        assert "per_device_train_batch_size: 2\n" in written
        assert "logging_steps: 10\n" in written
        assert "early_stopping_patience" not in written


def _training_configs() -> list[Path]:
    """LLaMA-Factory's training examples of the stages recommend covers."""
    examples = LLAMAFACTORY / "examples"
    if not examples.is_dir():
        return []
    found = []
    for path in sorted(examples.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(errors="replace"))
        if isinstance(data, dict) and data.get("do_train") and data.get("stage") in COVERED:
            found.append(path)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS)
def test_apply_over_the_corpus(
    preset: str, in_llamafactory: Path, tmp_path: Path, corpus: Path
) -> None:
    """Every SFT, DPO, KTO and reward-model config of LLaMA-Factory's examples whose rows are
    known."""
    applied = 0
    for original in _training_configs():
        path = tmp_path / original.name
        path.write_text(original.read_text())
        before = check_path(str(path), settings())
        if before.plan is None or before.plan.steps_per_epoch is None:
            continue  # rows unknown (hub data, packing): recommend says so and exits 2
        status, output = apply(path, "--preset", preset, "--root", str(in_llamafactory))
        assert status in (0, 1, 2), output
        if status == 2:
            assert len(output.strip().splitlines()) == 1, output
            continue
        after = check_path(str(path), settings())
        assert_never_riskier(before, after)
        applied += 1
    assert applied >= 10, f"only {applied} corpus configs were applied (corpus at {CORPUS})"


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"


@pytest.mark.parametrize(
    "fixed", sorted(FIXTURES.glob("*/fixed*.yaml")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_no_fix_raises_a_memory_setting(fixed: Path) -> None:
    """Every rule's fix keeps the per-device batch and sequence length (EL204 reaches a larger
    effective batch through gradient accumulation, not a larger per-device batch)."""
    failing = fixed.with_name(fixed.name.replace("fixed", "fail"))
    if not failing.exists():
        pytest.skip(f"{fixed} has no failing twin")
    before = yaml.safe_load(failing.read_text()) or {}
    after = yaml.safe_load(fixed.read_text()) or {}
    for key in (*MEMORY_KEYS, "micro_batch_size"):
        if isinstance(before.get(key), int) and isinstance(after.get(key), int):
            assert after[key] <= before[key], f"{key}: {before[key]} -> {after[key]}"
    if before.get("gradient_checkpointing") is True:
        assert after.get("gradient_checkpointing") is True


def _axolotl_sft_configs() -> list[Path]:
    examples = CORPUS / "axolotl" / "examples"
    if not examples.is_dir():
        return []
    found = []
    for path in sorted(examples.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(errors="replace"))
        if isinstance(data, dict) and "micro_batch_size" in data:
            found.append(path)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS)
def test_apply_over_axolotls_examples(preset: str, corpus: Path, tmp_path: Path) -> None:
    """--apply writes Axolotl's own keys (micro_batch_size, num_epochs, val_set_size,
    early_stopping_patience), and the same three promises hold."""
    applied = 0
    for original in _axolotl_sft_configs():
        path = tmp_path / original.name
        path.write_text(original.read_text())
        before = check_path(str(path), settings(3000))
        if before.config is None or before.plan is None or before.plan.steps_per_epoch is None:
            continue  # sample packing: the steps are Axolotl's own estimate
        if not covers(settings().guidelines, before.config.stage):
            continue  # GRPO and other on-policy stages: recommend says so and exits 2
        status, output = apply(path, "--preset", preset, "--dataset-size", "3000")
        assert status in (0, 1, 2), output
        if status == 2:
            assert len(output.strip().splitlines()) == 1, output
            continue
        assert "per_device_train_batch_size" not in path.read_text()
        after = check_path(str(path), settings(3000))
        assert_never_riskier(before, after)
        applied += 1
    assert applied >= 10, f"only {applied} Axolotl examples were applied"


HF_CONFIG = """\
output_dir: out
per_device_train_batch_size: 2
gradient_accumulation_steps: 8
learning_rate: 1.0e-4
num_train_epochs: 3
logging_steps: 10
eval_strategy: steps
eval_steps: 20
save_steps: 40
bf16: true
"""


@pytest.mark.parametrize("preset", PRESETS)
def test_apply_to_a_hugging_face_config(preset: str, tmp_path: Path) -> None:
    """TrainingArguments have no val_size (the script holds data out): it is skipped and said."""
    path = tmp_path / "args.yaml"
    path.write_text(HF_CONFIG)
    before = check_path(str(path), settings(3000))
    assert before.config is not None and before.config.dialect.name == "hf"
    status, output = apply(path, "--preset", preset, "--dataset-size", "3000", "--method", "full")
    assert status in (0, 1), output
    assert "val_size" not in path.read_text()
    assert "skipped val_size: Hugging Face TrainingArguments has no such setting" in output
    assert_never_riskier(before, check_path(str(path), settings(3000)))


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS)
def test_apply_over_the_trl_recipes(preset: str, corpus: Path, tmp_path: Path) -> None:
    """alignment-handbook's SFT, DPO and ORPO recipes, in TRL's own key names."""
    recipes = sorted((CORPUS / "trl").rglob("*.yaml"))
    applied = 0
    for original in recipes:
        if "accelerate" in original.parts:
            continue
        path = tmp_path / original.parent.name / original.name
        path.parent.mkdir(exist_ok=True)
        path.write_text(original.read_text())
        before = check_path(str(path), settings(3000))
        if before.config is None or before.plan is None or before.plan.steps_per_epoch is None:
            continue
        status, output = apply(path, "--preset", preset, "--dataset-size", "3000")
        assert status in (0, 1, 2), output
        if status == 2:
            assert len(output.strip().splitlines()) == 1, output
            continue
        after = check_path(str(path), settings(3000))
        assert_never_riskier(before, after)
        applied += 1
    assert applied >= 10, f"only {applied} TRL recipes were applied"
