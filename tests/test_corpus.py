"""Every real config in ../shared/corpus: checked without a crash, with the expected findings.

LLaMA-Factory's own examples (run from the LLaMA-Factory folder, as `llamafactory-cli train`
is) and part of Axolotl's. The expectations below were reviewed by hand; a change in them is
a change in what users see, to be judged as such.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import CORPUS, LLAMAFACTORY, require, settings

from epochlint.engine import FileResult, check_path

AXOLOTL = CORPUS / "axolotl"


def check_all(folder: Path) -> dict[str, FileResult]:
    results = {}
    for path in sorted(folder.rglob("*.y*ml")):
        results[str(path.relative_to(folder))] = check_path(str(path), settings())
    return results


@pytest.fixture(scope="module")
def llamafactory_results() -> dict[str, FileResult]:
    require(LLAMAFACTORY, "the shared corpus")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(LLAMAFACTORY)
        return check_all(LLAMAFACTORY)


@pytest.fixture(scope="module")
def axolotl_results() -> dict[str, FileResult]:
    require(AXOLOTL, "the shared corpus")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(AXOLOTL)
        return check_all(AXOLOTL)


def test_every_file_is_checked_without_a_crash(
    llamafactory_results: dict[str, FileResult], axolotl_results: dict[str, FileResult]
) -> None:
    for results in (llamafactory_results, axolotl_results):
        for name, result in results.items():
            assert result.error is None, (name, result.error)
            assert result.plan is not None or result.skipped or result.diagnostics, name


def test_llamafactory_files_that_are_not_training_configs_are_skipped(
    llamafactory_results: dict[str, FileResult],
) -> None:
    skipped = Counter(result.skipped for result in llamafactory_results.values() if result.skipped)
    assert skipped == {
        "a LLaMA-Factory v1 config (USE_V1=1), whose schema is not checked": 17,
        "an accelerate launcher config, not a training config": 11,
        "an inference or export config (no do_train, no training keys)": 10,
        # extras/multi_tokens/tokens_cfg.yaml, and the three v1 dataset descriptions in data/
        "none of its keys are training arguments": 4,
    }


def test_llamafactory_training_configs_get_n_from_dataset_info(
    llamafactory_results: dict[str, FileResult],
) -> None:
    rows = {
        name: result.plan.dataset_rows
        for name, result in llamafactory_results.items()
        if result.plan is not None and result.config is not None and result.config.flag("do_train")
    }
    assert rows["examples/train_lora/qwen3_lora_sft.yaml"] == 1090  # identity 91 + alpaca 999
    assert rows["examples/ascend/qwen3_5moe_lora_sft_fsdp2.yaml"] == 999  # alpaca_en_demo alone
    assert rows["examples/extras/fp8/llama3_fp8_fsdp_sft.yaml"] == 91  # identity alone
    assert rows["examples/train_lora/qwen3_lora_dpo.yaml"] == 300  # dpo_en_demo
    unknown = sorted(name for name, count in rows.items() if count is None)
    # Each unknown one has a reason a person would accept: hub data, a remote dataset_info.json,
    # packing (stage pt), or a dataset name dataset_info.json does not define.
    assert unknown == [
        "examples/ascend/qwen3moe_full_sft_fsdp.yaml",  # alpaca_zh from the hub
        "examples/ascend/qwen3vlmoe_full_sft_fsdp2.yaml",  # llava_1k_* from the hub
        "examples/extras/asft/llama2_full_asft.yaml",  # `med`: not in dataset_info.json
        "examples/extras/asft/qwen2_full_asft.yaml",  # `math`: not in dataset_info.json
        "examples/megatron/qwen2_vl_full.yaml",  # llava_1k_en from the hub
        "examples/train_lora/qwen3_lora_pretrain.yaml",  # stage pt packs documents
        "examples/train_lora/qwen3_lora_sft_ray.yaml",  # dataset_dir REMOTE:...
        "examples/train_lora/qwen3vl_lora_dpo.yaml",  # rlhf_v from the hub
    ]


def test_llamafactory_findings_are_the_reviewed_ones(
    llamafactory_results: dict[str, FileResult],
) -> None:
    errors = sorted(
        (name, d.rule)
        for name, result in llamafactory_results.items()
        for d in result.diagnostics
        if d.severity.value == "error"
    )
    assert errors == [
        ("examples/extras/asft/llama2_full_asft.yaml", "EL502"),
        ("examples/extras/asft/qwen2_full_asft.yaml", "EL502"),
        # `fsdp_transformer_layer_cls_to_wrap` is gone in transformers 5 (the default checked)
        ("examples/extras/fp8/llama3_fp8_fsdp_sft.yaml", "EL104"),
    ]
    warnings = Counter(
        d.rule
        for result in llamafactory_results.values()
        for d in result.diagnostics
        if d.severity.value == "warning"
    )
    # Small data with no evaluation, learning rates far from the method's range (a full
    # fine-tuning rate of 1e-4 on two MoE configs, LoRA at 1e-5 and 5e-6), two runs whose
    # max_steps trains 4 epochs of full fine-tuning on 999 rows, a dead num_train_epochs beside
    # max_steps, and a 6-row demo that trains 6 steps for 1 epoch. Full fine-tuning for 3
    # epochs, what published recipes do, is info (EL201's tolerated range), as are a LoRA
    # reward model's 3 epochs.
    assert warnings == {"EL201": 2, "EL406": 8, "EL301": 4, "EL203": 1, "EL202": 1, "EL205": 1}
    infos = Counter(
        d.rule
        for result in llamafactory_results.values()
        for d in result.diagnostics
        if d.severity.value == "info" and d.rule in ("EL201", "EL202")
    )
    assert infos == {"EL201": 15}


def test_axolotl_configs_are_detected_as_axolotl(axolotl_results: dict[str, FileResult]) -> None:
    dialects = Counter(result.dialect for result in axolotl_results.values())
    assert dialects == {"axolotl": len(axolotl_results)}


def test_axolotl_findings_are_ones_an_axolotl_user_would_agree_with(
    axolotl_results: dict[str, FileResult],
) -> None:
    unknown = [
        (name, d.message.split("`")[1])
        for name, result in axolotl_results.items()
        for d in result.diagnostics
        if d.rule == "EL101"
    ]
    # Keys Axolotl 0.18 drops without a word (tests/test_crosscheck_axolotl.py confirms each
    # with Axolotl's own validation): a typo, options of older releases (gptq_*, the
    # base_model_ignore_patterns of the archived examples), and notes nothing reads.
    gptq = ["gptq_groupsize", "gptq_model_v1"]
    archived = ["cerebras/qlora.yml", "falcon/config-7b-lora.yml", "falcon/config-7b-qlora.yml",
                "gptj/qlora.yml", "jeopardy-bot/config.yml", "mpt-7b/config.yml",
                "openllama-3b/config.yml"]  # fmt: skip
    assert sorted(unknown) == sorted(
        [(f"examples/archived/{name}", key) for name in archived for key in gptq]
        + [
            ("examples/archived/pythia-12b/config.yml", "base_model_ignore_patterns"),
            ("examples/ebft/llama-3b-ebft-strided-fft.yaml", "torch_dtype"),
            ("examples/falcon-h1/falcon-h1-1b-qlora-cp.yaml", "context_parapllel_size"),
            ("examples/kimi-linear/kimi-48b-lora.yaml", "debug"),
            ("examples/llama-3/lora-1b-sample-packing-sequentially.yml", "test_value"),
            ("examples/llama-3/sparse-finetuning.yaml", "debug"),
            ("examples/paddleocr-vl/paddleocr-vl-1_6-full-finetune.yaml", "full_finetune"),
            ("examples/phi/phi3-ft.yml", "debug"),
            ("examples/qat_nvfp4/Math-Gemma3-27B_qat.yml", "eta_min"),
            ("examples/qat_nvfp4/Math-Qwen2.5-72B_qat.yml", "eta_min"),
        ]
    )
    errors = Counter(
        d.rule
        for result in axolotl_results.values()
        for d in result.diagnostics
        if d.severity.value == "error"
    )
    # EL104: options Axolotl no longer accepts (archived examples); EL102: archived examples
    # with `tokens:` as a mapping and a fractional warmup_steps; EL405: the archived falcon
    # early-stopping config without integer eval and save steps; EL105: `save_strategy: best`
    # without a metric, `torch_compile` in EBFT's strided mode. Each is a config Axolotl
    # refuses (tests/test_crosscheck_axolotl.py). A hub `path` with `data_files` is no
    # missing local file (EL503).
    assert errors == {"EL101": 24, "EL102": 4, "EL104": 2, "EL105": 2, "EL405": 1}
    assert "EL505" not in errors and "EL506" not in errors
