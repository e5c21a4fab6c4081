"""Axolotl and plain Hugging Face TrainingArguments configs (GitHub issue #8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import lint, only, rules_of

from epochlint.cli import main
from epochlint.diagnostic import Edit, Severity
from epochlint.fix.planner import fix_source
from epochlint.reading.source import decode

AXOLOTL = """\
base_model: meta-llama/Llama-3.1-8B-Instruct
datasets:
  - path: tatsu-lab/alpaca
    type: alpaca
output_dir: ./outputs/lora-out
sequence_len: 2048
adapter: lora
lora_r: 16
micro_batch_size: 2
gradient_accumulation_steps: 4
num_epochs: 3
learning_rate: 2e-4
"""

HF = """\
output_dir: out
per_device_train_batch_size: 4
gradient_accumulation_steps: 2
num_train_epochs: 3
learning_rate: 5e-5
logging_steps: 10
bf16: true
"""


def axolotl(**changes: object) -> str:
    text = AXOLOTL
    for key, value in changes.items():
        if f"\n{key}:" in "\n" + text:
            text = (
                "\n".join(
                    f"{key}: {value}" if line.startswith(f"{key}:") else line
                    for line in text.splitlines()
                )
                + "\n"
            )
        else:
            text += f"{key}: {value}\n"
    return text


def test_each_dialect_is_detected_and_reported() -> None:
    assert lint(AXOLOTL).dialect == "axolotl"
    assert lint(HF).dialect == "hf"
    assert lint("stage: sft\ndo_train: true\ndataset: d\n").dialect == "llamafactory"
    result = CliRunner().invoke(main, ["--format", "json", "-"], input=AXOLOTL)
    assert json.loads(result.output)["files"][0]["dialect"] == "axolotl"
    text = CliRunner().invoke(main, ["-", "--dataset-size", "3000"], input=axolotl(num_epochs=20))
    assert "<stdin> (Axolotl config): plan: rows 3,000" in text.output


def test_dialect_can_be_forced() -> None:
    forced = CliRunner().invoke(main, ["--dialect", "hf", "--format", "json", "-"], input=AXOLOTL)
    assert json.loads(forced.output)["files"][0]["dialect"] == "hf"
    assert CliRunner().invoke(main, ["--dialect", "nope", "-"], input=AXOLOTL).exit_code == 2


def test_non_training_configs_are_skipped_with_the_reason() -> None:
    accelerate = "compute_environment: LOCAL_MACHINE\ndistributed_type: FSDP\nnum_processes: 8\n"
    result = lint(accelerate)
    assert result.skipped == "an accelerate launcher config, not a training config"
    assert result.diagnostics == []
    deepspeed = "zero_optimization: {stage: 3}\ntrain_micro_batch_size_per_gpu: auto\n"
    assert lint(deepspeed).skipped == "a DeepSpeed config, not a training config"
    inference = "model_name_or_path: m\ntemplate: llama3\ninfer_backend: huggingface\n"
    assert "inference or export config" in (lint(inference).skipped or "")


# --- Axolotl: its loader, its silent key handling, its validators ---------------------------


def test_axolotl_reads_yaml_with_pyyaml_and_converts_the_learning_rate_itself() -> None:
    result = lint(AXOLOTL, dataset_size=3000)
    assert result.config is not None and result.config.number("learning_rate") == 2e-4
    assert "EL005" not in rules_of(result)  # `2e-4` is a string, which Axolotl float()s
    broken = only(lint(axolotl(save_strategy="no")), "EL005")
    assert broken.severity == Severity.ERROR
    assert "read by yaml.safe_load (YAML 1.1) as the boolean false" in broken.message
    steps = only(lint(axolotl(max_steps="1e4")), "EL005")
    assert steps.severity == Severity.ERROR
    assert steps.fix is not None and steps.fix.edits == (Edit("set", "max_steps", 10000),)


def test_an_unknown_key_does_nothing_in_axolotl_and_is_an_error() -> None:
    result = lint(AXOLOTL.replace("num_epochs:", "num_train_epochs:"), dataset_size=3000)
    assert result.plan is not None and result.plan.epochs == 1.0  # what Axolotl really trains
    unknown = only(result, "EL101")
    assert unknown.severity == Severity.ERROR
    assert (
        "Axolotl drops keys it does not know without a word, so it does nothing" in unknown.message
    )
    assert "did you mean `num_epochs`" in unknown.message
    assert unknown.fix is not None and unknown.fix.safety == "suggested"  # it changes the run
    assert unknown.fix.edits == (Edit("rename", "num_train_epochs", new_key="num_epochs"),)


def test_only_a_plugin_epochlint_does_not_know_makes_an_unknown_key_a_warning() -> None:
    known = axolotl(plugins="[axolotl.integrations.liger.LigerPlugin]", liger_made_up="true")
    unknown = only(lint(known), "EL101")
    assert unknown.severity == Severity.ERROR  # the Liger plug-in's fields are known
    assert "`liger_made_up` is not an Axolotl argument" in unknown.message
    other = axolotl(plugins="[my_package.MyPlugin]", liger_made_up="true")
    unknown = only(lint(other), "EL101")
    assert unknown.severity == Severity.WARNING
    assert "unless the plug-in `my_package.MyPlugin` defines it" in unknown.message


def test_a_plugin_field_counts_only_with_its_plugin() -> None:
    without = only(lint(axolotl(liger_rope="true")), "EL101")
    assert without.severity == Severity.ERROR
    assert (without.line, without.column) == (len(AXOLOTL.splitlines()) + 1, 1)
    assert "belongs to the plug-in `axolotl.integrations.liger.LigerPlugin`" in without.message
    assert "add the plug-in to `plugins:`" in without.message
    short_name = axolotl(plugins="[liger.LigerPlugin]", liger_rope="true")
    assert "EL101" not in rules_of(lint(short_name))


@pytest.mark.parametrize(
    ("changes", "rule", "fragment"),
    [
        ({"adapter": "qlora"}, "EL306", "Require cfg.load_in_4bit to be True for qlora"),
        ({"adapter": "qlora", "load_in_8bit": "true"}, "EL306", "Can't load qlora in 8bit"),
        ({"gradient_accumulation_steps": 0}, "EL206", "At least two of micro_batch_size"),
        ({"batch_size": 16}, "EL206", "please set only one of gradient_accumulation_steps"),
        ({"warmup_steps": 10, "warmup_ratio": 0.1}, "EL414", "mutually exclusive"),
        (
            {"val_set_size": 0.1, "eval_steps": 50, "evals_per_epoch": 2},
            "EL415",
            "mutually exclusive",
        ),
        (
            {"val_set_size": 0.1, "eval_strategy": "epoch", "eval_steps": 50},
            "EL412",
            "eval_strategy and eval_steps mismatch",
        ),
        (
            {"adapter": "null", "load_in_4bit": "true"},
            "EL302",
            "not supported without setting an adapter",
        ),
        (
            {"early_stopping_patience": 3, "val_set_size": 0.1, "evals_per_epoch": 4},
            "EL405",
            "requires save_steps and eval_steps to be set",
        ),
        (
            {"early_stopping_patience": 3, "val_set_size": 0.1, "eval_steps": 30, "save_steps": 50},
            "EL405",
            "eval_steps should evenly divide save_steps",
        ),
    ],
)
def test_axolotl_validators_that_stop_the_run(
    changes: dict[str, object], rule: str, fragment: str
) -> None:
    finding = only(lint(axolotl(**changes), dataset_size=3000), rule)
    assert finding.severity == Severity.ERROR
    assert fragment in finding.message


def test_axolotl_needs_datasets_or_a_pretraining_dataset() -> None:
    without = AXOLOTL.replace("datasets:\n  - path: tatsu-lab/alpaca\n    type: alpaca\n", "")
    finding = only(lint(without), "EL506")
    assert "either datasets or pretraining_dataset is required" in finding.message
    streamed = without + "pretraining_dataset:\n  - path: allenai/c4\nmax_steps: 1000\n"
    assert "EL506" not in rules_of(lint(streamed))


def test_per_epoch_cadence_that_evaluates_nothing() -> None:
    silent = only(lint(axolotl(evals_per_epoch=4)), "EL416")
    assert "does nothing without evaluation data" in silent.message
    once = only(lint(axolotl(num_epochs=1, val_set_size=0.05, evals_per_epoch=1)), "EL416")
    assert "sets no evaluation at all" in once.message
    assert "EL416" not in rules_of(lint(axolotl(val_set_size=0.05, evals_per_epoch=4)))


def test_axolotl_step_estimate_warmup_and_logging() -> None:
    # ceil(3,000 rows x 3 epochs / (2 x 4 x 1 GPU)) = 1,125; warmup min(int(0.03 x 1,125), 100)
    plan = lint(AXOLOTL, dataset_size=3000).plan
    assert plan is not None
    assert (plan.effective_batch, plan.total_steps, plan.warmup_steps) == (8, 1125, 33)
    assert plan.logging_steps == 5  # max(min(int(0.005 x 1,125), 10), 1)
    # max_steps caps the estimate, it does not replace it
    capped = lint(axolotl(max_steps=100), dataset_size=3000)
    assert capped.plan is not None and capped.plan.total_steps == 100
    assert (
        "stops the run before `num_epochs: 3` ends (1,125 steps)" in only(capped, "EL203").message
    )
    larger = lint(axolotl(max_steps=5000), dataset_size=3000)
    assert larger.plan is not None and larger.plan.total_steps == 1125
    assert "EL203" not in rules_of(larger)
    # batch_size (per device) instead of accumulation: gas = batch_size // micro_batch_size
    text = axolotl(batch_size=16).replace("gradient_accumulation_steps: 4\n", "")
    derived = lint(text, dataset_size=3000, world_size=2).plan
    assert derived is not None and (derived.effective_batch, derived.total_steps) == (32, 282)


def test_axolotl_datasets_are_counted_from_local_files(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "chats.jsonl").write_text("".join(f'{{"a": {i}}}\n' for i in range(250)))
    (tmp_path / "data" / "more.json").write_text(json.dumps([{"a": i} for i in range(50)]))
    text = AXOLOTL.replace(
        "  - path: tatsu-lab/alpaca\n    type: alpaca\n",
        "  - path: data/chats.jsonl\n    type: alpaca\n"
        "  - path: json\n    data_files: [data/more.json]\n    type: alpaca\n"
        "  - path: data/missing.jsonl\n    type: alpaca\n",
    )
    result = lint(text, root=tmp_path)
    assert result.datasets is not None
    assert [(d.name, d.rows) for d in result.datasets.datasets] == [
        ("data/chats.jsonl", 250),
        ("json", 50),
        ("data/missing.jsonl", None),
    ]
    missing = only(result, "EL503")
    assert "data/missing.jsonl not found" in missing.message
    found = lint(
        text.replace("  - path: data/missing.jsonl\n    type: alpaca\n", ""), root=tmp_path
    )
    assert found.plan is not None and found.plan.dataset_rows == 300
    assert found.plan.dataset_rows_source == "datasets"
    hub = only(lint(AXOLOTL), "EL501")
    assert "`tatsu-lab/alpaca` is not a local file, so it comes from a hub" in hub.message


def test_axolotl_fixes_use_axolotl_names_and_step_cadence() -> None:
    source = decode(axolotl(num_epochs=20).encode(), "train.yml")
    from conftest import settings

    outcome = fix_source(source, settings(dataset_size=1000))
    assert outcome.refused is None
    text = outcome.text
    for line in (
        "num_epochs: 5\n",
        "val_set_size: 0.1\n",
        "eval_steps: 125\n",
        "save_steps: 125\n",
        "load_best_model_at_end: true\n",
        "early_stopping_patience: 2\n",
    ):
        assert line in text
    assert "num_train_epochs" not in text and "val_size" not in text.replace("val_set_size", "")
    assert rules_of(lint(text, dataset_size=1000)) == []


# --- The seed's worked examples, written with Axolotl's names -------------------------------


def test_seed_examples_in_axolotl_give_the_llamafactory_findings() -> None:
    # mistake 1: 20 epochs of LoRA on 1,000 rows
    assert rules_of(
        lint(
            axolotl(
                num_epochs=20,
                micro_batch_size=8,
                gradient_accumulation_steps=1,
                learning_rate="1.0e-4",
            ),
            dataset_size=1000,
        )
    ) == ["EL201", "EL406"]
    # mistake 2: 1 epoch on 50,000 rows at a full-fine-tuning rate
    assert rules_of(lint(axolotl(num_epochs=1, learning_rate="1.0e-5"), dataset_size=50_000)) == [
        "EL202",
        "EL301",
    ]
    # mistake 3: batch 1, accumulation 1, 2 epochs on 10,000 rows: 20,000 steps
    mistake_3 = lint(
        axolotl(
            micro_batch_size=1, gradient_accumulation_steps=1, num_epochs=2, learning_rate="1.0e-4"
        ),
        dataset_size=10_000,
    )
    assert mistake_3.plan is not None and mistake_3.plan.total_steps == 20_000
    assert rules_of(mistake_3) == ["EL204", "EL202"] or sorted(rules_of(mistake_3)) == [
        "EL202",
        "EL204",
    ]
    assert (
        "`gradient_accumulation_steps: 16` gives an effective batch of 16 and 1,250 steps"
        in only(mistake_3, "EL204").message
    )

    # summariser A / B / C on 25,000 rows
    def summariser(epochs: int) -> list[str]:
        return rules_of(
            lint(
                axolotl(
                    num_epochs=epochs,
                    micro_batch_size=8,
                    gradient_accumulation_steps=1,
                    learning_rate="3.0e-5",
                ),
                dataset_size=25_000,
            )
        )

    assert (summariser(1), summariser(3), summariser(8)) == (["EL202"], [], ["EL201"])
    # chatbot success: early stopping without evaluation. The guide's `early_stopping_patience`
    # is Axolotl's own key, so there is no EL101 here, only what evaluation still lacks.
    chatbot = lint(
        axolotl(
            num_epochs=4,
            micro_batch_size=4,
            gradient_accumulation_steps=2,
            learning_rate="1.0e-4",
            early_stopping_patience=2,
        ),
        dataset_size=3000,
    )
    assert chatbot.plan is not None and chatbot.plan.total_steps == 1500
    assert set(rules_of(chatbot)) == {"EL401", "EL405"}


# --- Hugging Face TrainingArguments YAML -----------------------------------------------------


def test_hf_yaml_strings_and_unknown_keys() -> None:
    result = lint(HF, dataset_size=3000)
    rate = only(result, "EL005")
    assert rate.severity == Severity.ERROR  # HfArgumentParser.parse_yaml_file hands a string on
    assert (
        "`learning_rate: 5e-5` is read by yaml.safe_load (YAML 1.1) as the string '5e-5'"
        in rate.message
    )
    assert rate.fix is not None and rate.fix.edits == (Edit("set", "learning_rate", 5e-5),)
    typo = only(lint(HF + "num_train_epoch: 3\n"), "EL101")
    assert typo.severity == Severity.WARNING and "did you mean `num_train_epochs`" in typo.message
    own = only(lint(HF + "model_name_or_path: gpt2\n"), "EL101")
    assert own.severity == Severity.INFO  # probably a field of the script's own dataclasses


def test_hf_needs_the_row_count_and_early_stopping_is_a_callback() -> None:
    unknown = only(lint(HF), "EL501")
    assert "does not say which data the script trains on" in unknown.message
    lora = HF.replace("num_train_epochs: 3", "num_train_epochs: 10") + "use_peft: true\n"
    many = lint(lora, dataset_size=3000)
    advice = only(many, "EL406")
    assert (
        "add `EarlyStoppingCallback(early_stopping_patience=2)` to the script's Trainer"
        in advice.message
    )
    assert advice.fix is not None
    assert {edit.key for edit in advice.fix.edits} == {
        "eval_strategy",
        "save_strategy",
        "load_best_model_at_end",
    }


def test_axolotl_sample_packing_uses_its_token_estimate() -> None:
    packed = axolotl(sample_packing="true")
    unknown = lint(packed, dataset_size=3000)
    assert unknown.plan is not None and unknown.plan.total_steps is None  # depends on tokens
    # With Axolotl's own numbers from preprocessing: floor(0.99 x 4,000,000 / 0.95 / 2,048
    # // 8) - 1 = 253 sequences a pass, x 3 epochs.
    known = lint(packed + "total_num_tokens: 4000000\nsample_packing_eff_est: 0.95\n")
    assert known.plan is not None and known.plan.total_steps == 759


def test_the_registry_names_every_dialect_and_builds_each_from_its_plug_in() -> None:
    from epochlint import dialects

    assert dialects.names() == ("llamafactory", "axolotl", "hf", "trl")
    built = {name: dialects.named(name) for name in dialects.names()}
    assert {name: d.name for name, d in built.items()} == {n: n for n in dialects.names()}
    assert built["axolotl"].key("num_train_epochs") == "num_epochs"
    assert dialects.default() is built["llamafactory"]
    with pytest.raises(KeyError):
        dialects.named("torchtune")


def test_a_dialect_plug_in_is_imported_only_when_a_file_of_its_kind_is_checked() -> None:
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from conftest import lint\n"
        "lint('stage: sft\\nfinetuning_type: lora\\nnum_train_epochs: 3\\n')\n"
        "before = sorted(m for m in sys.modules if m.startswith('epochlint.dialects.'))\n"
        "lint('base_model: x\\nmicro_batch_size: 2\\nnum_epochs: 3\\n')\n"
        "after = sorted(m for m in sys.modules if m.startswith('epochlint.dialects.'))\n"
        "print(before, after)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    before, after = done.stdout.strip().split("] [")
    assert "epochlint.dialects.axolotl" not in before
    assert "epochlint.dialects.hf" not in before
    assert "epochlint.dialects.axolotl" in after


def test_the_fixer_placement_is_an_attribute_of_the_dialect() -> None:
    from epochlint import dialects

    llamafactory = dialects.named("llamafactory")
    assert llamafactory.neighbours["eval_steps"] == ("eval_strategy",)
    assert llamafactory.section_of("learning_rate") == "train"
    assert llamafactory.section_of("lora_alpha") == "method"  # by its prefix
    assert llamafactory.section_of("unheard_of") is None
    assert "val_size" in llamafactory.sections["eval"]


def test_axolotl_types_are_checked_as_pydantic_lax_mode_takes_them() -> None:
    lax = lint(axolotl(micro_batch_size='"2"', lora_alpha="32.0", sample_packing="1"))
    assert "EL102" not in rules_of(lax)
    assert lax.plan is not None and lax.plan.effective_batch == 8  # "2" is the int 2
    fraction = only(lint(axolotl(warmup_steps="0.1")), "EL102")
    assert (fraction.line, fraction.column) == (len(AXOLOTL.splitlines()) + 1, 15)
    assert fraction.message == (
        "`warmup_steps: 0.1` is refused: Axolotl stops with `warmup_steps: Input should be a "
        "valid integer, got a number with a fractional part`"
    )
    assert fraction.fix is None
    null = only(lint(axolotl(output_dir="null")), "EL102")
    assert "`output_dir: Input should be a valid string`" in null.message
    whole = only(lint(axolotl(max_steps='"1e2"')), "EL102")
    assert "unable to parse string as an integer" in whole.message
    assert whole.fix is not None and whole.fix.edits == (Edit("set", "max_steps", 100),)


def test_axolotl_counts_null_zero_and_false_as_unset() -> None:
    quiet = lint(axolotl(val_set_size="0.1", evals_per_epoch="4", eval_steps="null"))
    assert "EL415" not in rules_of(quiet)
    conflict = only(
        lint(axolotl(val_set_size="0.1", evals_per_epoch="4", eval_steps="10")), "EL415"
    )
    assert "mutually exclusive" in conflict.message
    empty = only(lint(axolotl(max_packed_sequence_len="")), "EL104")
    assert empty.severity == Severity.WARNING
    assert "`max_packed_sequence_len: null` does nothing, remove it" in empty.message
    assert empty.fix is not None and empty.fix.safety == "safe"
    assert empty.fix.edits == (Edit("remove", "max_packed_sequence_len"),)
    refused = only(lint(axolotl(max_packed_sequence_len="2048")), "EL104")
    assert refused.severity == Severity.ERROR
    assert "Axolotl refuses the config" in refused.message


def test_a_duplicate_key_is_a_warning_where_yaml_safe_load_keeps_the_last_value() -> None:
    result = lint(AXOLOTL + "learning_rate: 1.0e-4\n")
    duplicate = only(result, "EL002")
    assert duplicate.severity == Severity.WARNING
    assert (duplicate.line, duplicate.column) == (len(AXOLOTL.splitlines()) + 1, 1)
    assert "`learning_rate` is already set on line 12" in duplicate.message
    assert "keeps this later value" in duplicate.message


def test_a_hub_path_with_data_files_is_not_a_local_file(tmp_path: Path) -> None:
    text = AXOLOTL.replace(
        "  - path: tatsu-lab/alpaca\n",
        "  - path: togethercomputer/Long-Data-Collections\n    data_files: pretrain/rp.jsonl.zst\n",
    )
    result = lint(text, root=tmp_path)
    assert "EL503" not in rules_of(result)
    hub = only(result, "EL501")
    assert "`togethercomputer/Long-Data-Collections` is not a local file" in hub.message


def test_el105_reports_what_axolotl_validation_refuses() -> None:
    missing = only(lint(axolotl(learning_rate="").replace("learning_rate: \n", "")), "EL105")
    assert missing.message == (
        "Axolotl stops with: learning_rate: Field required (AxolotlInputConfig)"
    )
    packing = only(lint(axolotl(rl="dpo", sample_packing="true")), "EL105")
    assert (packing.line, packing.column) == (len(AXOLOTL.splitlines()) + 2, 1)
    assert "`sample_packing: true` does not work with RLHF training" in packing.message
    assert "EL105" not in rules_of(lint(axolotl(rl="dpo", sample_packing="false")))


def test_evals_per_epoch_set_to_null_or_0_is_no_finding() -> None:
    for unset in ("null", "0"):
        assert "EL416" not in rules_of(lint(axolotl(evals_per_epoch=unset)))
    ignored = only(lint(axolotl(evals_per_epoch="4")), "EL416")
    assert "`evals_per_epoch: 4` does nothing without evaluation data" in ignored.message
