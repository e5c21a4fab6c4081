"""Published, successful recipes get no training-length or learning-rate warning; LIMA's 15
epochs still do (README "The guideline tables", EL201's `## Source`).

Each config is written from the recipe's own numbers: model, method, stage, epochs, learning
rate and the rows of its data. Findings between the recommended and the tolerated range are
info, which does not fail the run; that is allowed here and asserted where the recipe sits
there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import lint, only

from epochlint.diagnostic import Severity
from epochlint.engine import EXIT_CLEAN, exit_code

LENGTH_AND_RATE = ("EL201", "EL202", "EL301")


def llamafactory(
    model: str,
    method: str,
    epochs: float,
    rate: float,
    stage: str = "sft",
    per_device: int = 4,
    accumulation: int = 8,
) -> str:
    quantized = method == "qlora"
    finetuning = "lora" if quantized else method
    return (
        f"model_name_or_path: {model}\n"
        f"stage: {stage}\n"
        "do_train: true\n"
        f"finetuning_type: {finetuning}\n"
        + ("quantization_bit: 4\n" if quantized else "")
        + "dataset: recipe_data\n"
        "template: default\n"
        "output_dir: saves/recipe\n"
        f"per_device_train_batch_size: {per_device}\n"
        f"gradient_accumulation_steps: {accumulation}\n"
        f"learning_rate: {rate}\n"
        f"num_train_epochs: {epochs}\n"
        "lr_scheduler_type: cosine\n"
        "warmup_ratio: 0.03\n"
        "bf16: true\n"
    )


# (recipe, config, rows of its training data)
RECIPES = [
    # Stanford Alpaca: LLaMA-7B, full fine-tuning, 3 epochs at 2e-5, 52,002 instructions.
    ("alpaca", llamafactory("huggyllama/llama-7b", "full", 3, 2e-5), 52_002),
    # Vicuna-13B: full fine-tuning, 3 epochs at 2e-5 on 70k ShareGPT conversations.
    ("vicuna", llamafactory("lmsys/vicuna-13b", "full", 3, 2e-5, per_device=2), 70_000),
    # LLaMA-Factory examples/train_full/llama3_full_sft.yaml: 3 epochs at 1e-5 on
    # identity + alpaca_en_demo (91 + 1,000 rows).
    (
        "llamafactory-full-sft",
        llamafactory("meta-llama/Meta-Llama-3-8B-Instruct", "full", 3.0, 1e-5, 1, 2),
        1_091,
    ),
    # Zephyr-7B-beta SFT: full fine-tuning, 1 epoch at 2e-5 on ultrachat_200k.
    ("zephyr-full-sft", llamafactory("mistralai/Mistral-7B-v0.1", "full", 1, 2e-5, 1, 16), 207_865),
    # Zephyr-7B QLoRA SFT (alignment-handbook): 1 epoch at 2e-4 on ultrachat_200k.
    ("zephyr-qlora-sft", llamafactory("mistralai/Mistral-7B-v0.1", "qlora", 1, 2e-4), 207_865),
    # Raschka's LoRA experiments: Llama 2 7B, 1 epoch at 3e-4 on Alpaca (50k).
    ("raschka-lora", llamafactory("meta-llama/Llama-2-7b-hf", "lora", 1, 3e-4), 50_000),
    # Unsloth's notebook default: Llama-3-8B in 4 bit, 1 epoch at 2e-4 on alpaca-cleaned.
    ("unsloth", llamafactory("unsloth/llama-3-8b-bnb-4bit", "qlora", 1, 2e-4, 2, 4), 51_760),
    # SmolLM-135M-Instruct: full fine-tuning at 1e-3 (small models train fast), 1 epoch.
    ("smollm-135m-sft", llamafactory("HuggingFaceTB/SmolLM-135M", "full", 1, 1e-3), 500_000),
    # SmolLM2-1.7B-Instruct SFT: full, 2 epochs at 3e-4 on smol-smoltalk.
    ("smollm2-1.7b-sft", llamafactory("HuggingFaceTB/SmolLM2-1.7B", "full", 2, 3e-4), 460_000),
    # Tulu 3 8B SFT: full, 2 epochs at 5e-6 on the Tulu 3 SFT mixture.
    ("tulu3-sft", llamafactory("meta-llama/Llama-3.1-8B", "full", 2, 5e-6, 1, 16), 939_344),
    # Zephyr-7B DPO: full, 1 epoch at 5e-7 on UltraFeedback pairs.
    (
        "zephyr-dpo",
        llamafactory("HuggingFaceH4/mistral-7b-sft-beta", "full", 1, 5e-7, "dpo"),
        61_135,
    ),
    # Tulu 3 DPO: 8B at 5e-7 and 70B at 2e-7, 1 epoch.
    (
        "tulu3-dpo-8b",
        llamafactory("allenai/Llama-3.1-Tulu-3-8B-SFT", "full", 1, 5e-7, "dpo"),
        272_898,
    ),
    (
        "tulu3-dpo-70b",
        llamafactory("allenai/Llama-3.1-Tulu-3-70B-SFT", "full", 1, 2e-7, "dpo"),
        272_898,
    ),
    # TRL's DPOConfig default learning rate (1e-6) with the Trainer's default 3 epochs.
    ("trl-dpo-default", llamafactory("Qwen/Qwen2-0.5B-Instruct", "full", 3, 1e-6, "dpo"), 62_000),
    # LLaMA-Factory examples/train_lora/llama3_lora_dpo.yaml and llama3_lora_kto.yaml.
    (
        "llamafactory-lora-dpo",
        llamafactory("meta-llama/Meta-Llama-3-8B-Instruct", "lora", 3.0, 5e-6, "dpo", 1, 8),
        300,
    ),
    (
        "llamafactory-lora-kto",
        llamafactory("meta-llama/Meta-Llama-3-8B-Instruct", "lora", 3.0, 5e-6, "kto", 1, 8),
        300,
    ),
    # SmolLM2-style small-model pre-training at 5e-4 (and 1e-3), 7B continued pre-training at 2e-5.
    (
        "smollm2-pretraining",
        llamafactory("HuggingFaceTB/SmolLM2-135M", "full", 1, 5e-4, "pt"),
        1_000_000,
    ),
    (
        "smollm2-pretraining-1e-3",
        llamafactory("HuggingFaceTB/SmolLM2-360M", "full", 1, 1e-3, "pt"),
        1_000_000,
    ),
    (
        "continued-pretraining-7b",
        llamafactory("meta-llama/Llama-2-7b-hf", "full", 1, 2e-5, "pt"),
        1_000_000,
    ),
    # InstructGPT-style reward model: 1 epoch, full fine-tuning at 9e-6.
    ("instructgpt-rm", llamafactory("meta-llama/Llama-2-7b-hf", "full", 1, 9e-6, "rm"), 50_000),
]


CONFIG = {recipe: config for recipe, config, _ in RECIPES}


@pytest.mark.parametrize(("recipe", "config", "rows"), RECIPES, ids=[r[0] for r in RECIPES])
def test_a_published_recipe_gets_no_length_or_learning_rate_warning(
    recipe: str, config: str, rows: int
) -> None:
    result = lint(config, dataset_size=rows)
    warned = [
        (d.rule, d.message)
        for d in result.diagnostics
        if d.rule in LENGTH_AND_RATE and d.severity != Severity.INFO
    ]
    assert warned == [], recipe


def test_three_epochs_of_full_fine_tuning_is_info_naming_both_ranges() -> None:
    finding = only(lint(CONFIG["alpaca"], dataset_size=52_002), "EL201")
    assert finding.severity == Severity.INFO
    assert finding.message == (
        "`num_train_epochs: 3` is above the 1-2 epochs the guide recommends for full "
        "fine-tuning on 52,002 rows (large); 1-3 is common in published recipes; use 2"
    )
    assert exit_code([lint(CONFIG["alpaca"], dataset_size=52_002)]) == EXIT_CLEAN


def test_one_epoch_of_qlora_on_large_data_is_info() -> None:
    finding = only(lint(CONFIG["zephyr-qlora-sft"], dataset_size=207_865), "EL202")
    assert finding.severity == Severity.INFO
    assert "the 2-3 epochs the guide recommends for QLoRA on 207,865 rows (large)" in (
        finding.message
    )
    assert "1-3 is common in published recipes" in finding.message


def test_limas_fifteen_epochs_on_a_thousand_rows_still_warn() -> None:
    # LIMA: LLaMA-65B, full fine-tuning, 15 epochs at 1e-5 on 1,000 examples.
    config = llamafactory("huggyllama/llama-65b", "full", 15, 1e-5, per_device=4, accumulation=2)
    finding = only(lint(config, dataset_size=1_000), "EL201")
    assert finding.severity == Severity.WARNING
    assert finding.message.startswith(
        "`num_train_epochs: 15` is above the 1-3 epochs that even published recipes use for "
        "full fine-tuning on 1,000 rows (medium): 1,875 steps that will memorise the data; "
        "use 2 (the guide recommends 1-2)"
    )
    assert finding.message.endswith(
        "To keep it on purpose, add `# epochlint: disable=EL201` above the line, or set "
        "`guidelines.epochs.full.medium` in the configuration"
    )
    assert finding.fix is not None and finding.fix.edits[0].value == 2


DISTILLATION = [
    # s1: Qwen2.5-32B, 5 epochs at 1e-5 on 1,000 reasoning traces.
    ("s1", llamafactory("Qwen/Qwen2.5-32B-Instruct", "full", 5, 1e-5, 1, 1), 1_000),
    # OpenR1-Distill-7B: 5 epochs at 4e-5 on Mixture-of-Thoughts.
    ("openr1-distill", llamafactory("Qwen/Qwen2.5-Math-7B", "full", 5, 4e-5, 1, 8), 349_317),
    # OlympicCoder-7B: 10 epochs at 4e-5 on CodeForces chain-of-thought.
    ("olympiccoder", llamafactory("Qwen/Qwen2.5-Coder-7B-Instruct", "full", 10, 4e-5), 100_000),
]


@pytest.mark.parametrize(
    ("recipe", "config", "rows"), DISTILLATION, ids=[r[0] for r in DISTILLATION]
)
def test_a_long_distillation_run_warns_and_is_kept_with_a_suppression_comment(
    recipe: str, config: str, rows: int
) -> None:
    # These recipes train longer than published SFT recipes on purpose: the warning stays, and
    # says how to keep the value; the learning rate is within the band.
    result = lint(config, dataset_size=rows)
    finding = only(result, "EL201")
    assert finding.severity == Severity.WARNING
    assert "To keep it on purpose, add `# epochlint: disable=EL201`" in finding.message
    assert "EL301" not in [d.rule for d in result.diagnostics]
    epochs = re.search(r"num_train_epochs: \d+", config)
    assert epochs is not None
    kept = config.replace(epochs.group(), epochs.group() + "  # epochlint: disable=EL201")
    assert "EL201" not in [d.rule for d in lint(kept, dataset_size=rows).diagnostics]


def test_a_small_models_full_fine_tuning_rate_is_warned_only_above_1e_3() -> None:
    small = llamafactory("HuggingFaceTB/SmolLM2-135M", "full", 1, 2e-3)
    finding = only(lint(small, dataset_size=500_000), "EL301")
    assert finding.message.startswith(
        "`learning_rate: 0.002` is above the 2.0e-6-0.001 range for full fine-tuning of a "
        "135M-parameter model (typical 1.0e-5)"
    )
    # The same rate on a model whose size is unknown uses the table as it is.
    unknown = small.replace("HuggingFaceTB/SmolLM2-135M", "my-org/house-model")
    assert (
        "2.0e-6-5.0e-5 range for full fine-tuning (typical"
        in only(lint(unknown, dataset_size=500_000), "EL301").message
    )


def test_a_local_models_size_comes_from_its_config_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SmolLM2-360M's shape: 32 layers of width 960, 15 heads (5 for keys and values).
    (tmp_path / "models" / "mine").mkdir(parents=True)
    shape = {
        "hidden_size": 960,
        "num_hidden_layers": 32,
        "vocab_size": 49152,
        "intermediate_size": 2560,
        "num_attention_heads": 15,
        "num_key_value_heads": 5,
        "tie_word_embeddings": True,
    }
    (tmp_path / "models" / "mine" / "config.json").write_text(json.dumps(shape))
    monkeypatch.chdir(tmp_path)
    config = llamafactory("models/mine", "full", 1, 5e-4)
    result = lint(config, dataset_size=500_000, root=tmp_path)
    assert "EL301" not in [d.rule for d in result.diagnostics]
    # Without the folder the size is unknown and 5e-4 is far above the full-FT band.
    result = lint(config, dataset_size=500_000, root=tmp_path / "elsewhere")
    assert only(result, "EL301").severity == Severity.WARNING


def test_the_preference_band_applies_to_dpo_and_the_sft_band_does_not() -> None:
    # An SFT learning rate on a DPO run erases what SFT taught.
    config = llamafactory("HuggingFaceH4/mistral-7b-sft-beta", "full", 1, 2e-5, "dpo")
    finding = only(lint(config, dataset_size=61_135), "EL301")
    assert finding.message.startswith(
        "`learning_rate: 2.0e-5` is above the 1.0e-7-5.0e-6 range for DPO with full "
        "fine-tuning (typical 5.0e-7)"
    )
    assert finding.fix is not None and finding.fix.edits[0].value == 5e-7


def test_ppo_is_not_checked() -> None:
    config = llamafactory("meta-llama/Llama-2-7b-hf", "lora", 20, 1e-2, "ppo")
    rules = [d.rule for d in lint(config, dataset_size=1_000).diagnostics]
    assert not set(rules) & set(LENGTH_AND_RATE)
    # The same numbers on SFT are far outside both tables.
    sft = [
        d.rule
        for d in lint(config.replace("stage: ppo", "stage: sft"), dataset_size=1_000).diagnostics
    ]
    assert {"EL201", "EL301"} <= set(sft)


def test_pretraining_epochs_are_not_checked() -> None:
    config = llamafactory("meta-llama/Llama-2-7b-hf", "full", 10, 2e-5, "pt")
    assert "EL201" not in [d.rule for d in lint(config, dataset_size=1_000).diagnostics]


def test_a_reward_model_trained_for_six_epochs_warns() -> None:
    config = llamafactory("meta-llama/Llama-2-7b-hf", "full", 6, 9e-6, "rm")
    finding = only(lint(config, dataset_size=50_000), "EL201")
    assert finding.severity == Severity.WARNING
    assert "the 1-4 epochs that even published recipes use for reward-model training" in (
        finding.message
    )
    assert "`guidelines.stage_epochs.rm`" in finding.message


AXOLOTL_LORA = """\
base_model: NousResearch/Llama-3.2-1B
datasets:
  - path: tatsu-lab/alpaca
    type: alpaca
output_dir: ./outputs/lora-out
sequence_len: 2048
adapter: lora
lora_r: 16
micro_batch_size: 2
gradient_accumulation_steps: 4
num_epochs: 1
learning_rate: 0.0002
"""


def test_axolotls_default_lora_recipe_gets_no_warning() -> None:
    # Axolotl's examples: 1 epoch at 2e-4 (here on Alpaca's 52,002 rows).
    result = lint(AXOLOTL_LORA, dataset_size=52_002)
    assert [d.rule for d in result.diagnostics if d.rule in LENGTH_AND_RATE] == ["EL202"]
    assert only(result, "EL202").severity == Severity.INFO


def test_axolotl_rl_is_the_preference_stage_and_reward_models_are_rm() -> None:
    # An ORPO recipe: LoRA, 3 epochs at 5e-6.
    orpo = AXOLOTL_LORA.replace("num_epochs: 1", "num_epochs: 3").replace(
        "learning_rate: 0.0002", "learning_rate: 0.000005\nrl: orpo"
    )
    result = lint(orpo, dataset_size=40_000)
    assert not [d for d in result.diagnostics if d.rule in LENGTH_AND_RATE]
    # The SFT rate on the same ORPO run is far above the preference band.
    sft_rate = orpo.replace("learning_rate: 0.000005", "learning_rate: 0.0002")
    assert "ORPO with LoRA" in only(lint(sft_rate, dataset_size=40_000), "EL301").message
    reward = AXOLOTL_LORA.replace("num_epochs: 1", "num_epochs: 6\nreward_model: true")
    finding = only(lint(reward, dataset_size=40_000), "EL201")
    assert "reward-model training with LoRA" in finding.message


HF_LORA_WITHOUT_REGRET = """\
output_dir: out
learning_rate: 2.0e-4
num_train_epochs: 1
per_device_train_batch_size: 4
gradient_accumulation_steps: 8
lr_scheduler_type: cosine
warmup_ratio: 0.03
use_peft: true
lora_r: 256
bf16: true
"""


def test_trls_lora_without_regret_recipe_gets_no_warning() -> None:
    # TRL's "LoRA without regret": LoRA at 2e-4 for 1 epoch on a large dataset.
    result = lint(HF_LORA_WITHOUT_REGRET, dataset_size=100_000)
    warned = [d.rule for d in result.diagnostics if d.rule in LENGTH_AND_RATE]
    assert [only(result, code).severity for code in warned] == [Severity.INFO] * len(warned)


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        ("HuggingFaceTB/SmolLM2-135M", 135e6),
        ("Qwen/Qwen2.5-0.5B-Instruct", 0.5e9),
        ("HuggingFaceTB/SmolLM2-1.7B", 1.7e9),
        ("stabilityai/stablelm-2-1_6b", 1.6e9),
        ("meta-llama/Llama-3.1-70B", 70e9),
        ("Qwen/Qwen3-30B-A3B", 30e9),  # the total, not the active parameters
        ("mistralai/Mixtral-8x7B-v0.1", None),  # 8x7B is not a size this reads
        ("gpt2", None),
    ],
)
def test_the_model_size_is_read_from_the_name(name: str, parameters: float | None) -> None:
    from epochlint.facts.model import parameters_in_name

    assert parameters_in_name(name) == parameters


def test_axolotl_grpo_is_not_checked() -> None:
    # GRPO recipes: steps come from generation; 1e-6 to 2e-5 over however many epochs.
    grpo = AXOLOTL_LORA.replace("num_epochs: 1", "num_epochs: 12").replace(
        "learning_rate: 0.0002", "learning_rate: 0.000001\nrl: grpo"
    )
    assert not [d for d in lint(grpo, dataset_size=1_000).diagnostics if d.rule in LENGTH_AND_RATE]
