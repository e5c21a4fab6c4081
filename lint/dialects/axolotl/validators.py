"""Axolotl's cross-field validators that a static tool can decide, as Axolotl 0.18 writes them.

Most run in pydantic's "before" mode on the raw YAML mapping and test truthiness
(`data.get("eval_steps")`), so a key set to null, 0, false or an empty list counts as unset;
`data.get` reads the file the same way. Each check returns the key to point at and Axolotl's
own error text, which is what `axolotl train` prints before it stops. The validators that
dedicated rules already mirror (batch fields EL206, QLoRA EL306, warmup EL414, cadence EL412 and
EL415, early stopping EL405, quantization without an adapter EL302, streaming EL504, datasets
EL506) are not repeated here, nor the checks of `AxolotlConfigWCapabilities`, which
`validate_config` runs only when it is given the machine's hardware capabilities. What else is
left out (it needs the model, the GPU, installed packages or a file's contents) is listed in the
README, "Axolotl and Hugging Face configs". tests/test_crosscheck_axolotl.py holds each check
to Axolotl's own verdict on a probe config (fixtures/axolotl/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from epochlint.dialects.base import Refusal

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

    Check = Callable[[Mapping[str, Any]], tuple[str, str] | None]
CHECKS: list[tuple[str, Check]] = []


def validator(name: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        CHECKS.append((name, check))
        return check

    return register


def refusals(data: Mapping[str, Any]) -> Iterator[Refusal]:
    """Every validator that refuses `data` (the top-level keys and values of the file)."""
    for name, check in CHECKS:
        found = check(data)
        if found is not None:
            yield Refusal(name, *found)


def _dict(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _adapter_dropout(data: Mapping[str, Any]) -> Any:
    """lora_dropout after validate_lora_dropout: 0.0 when an adapter is set and it is null."""
    dropout = data.get("lora_dropout")
    return 0.0 if dropout is None and data.get("adapter") else dropout


@validator("deprecate_sharegpt_datasets")
def _sharegpt(data: Mapping[str, Any]) -> tuple[str, str] | None:
    datasets = data.get("datasets")
    for entry in datasets if isinstance(datasets, list) else []:
        kind = entry.get("type") if isinstance(entry, dict) else None
        if isinstance(kind, str) and kind.startswith("sharegpt"):
            return "datasets", (
                "`type: sharegpt.*` is deprecated. Please use `type: chat_template` instead."
            )
    return None


@validator("check_deprecated_unsloth_fields")
def _unsloth(data: Mapping[str, Any]) -> tuple[str, str] | None:
    fields = ("unsloth_cross_entropy_loss", "unsloth_lora_mlp", "unsloth_lora_qkv",
              "unsloth_lora_o", "unsloth_rms_norm", "unsloth_rope")  # fmt: skip
    found = [name for name in fields if data.get(name)]
    if not found:
        return None
    names = "`, `".join(found)
    return found[0], (
        f"`{names}` {'has' if len(found) == 1 else 'have'} been removed. Please use "
        "`lora_mlp_kernel`, `lora_qkv_kernel`, `lora_o_kernel` instead."
    )


@validator("check_push_ds_auth")
def _push_dataset(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if data.get("push_dataset_to_hub") and data.get("hf_use_auth_token") is not True:
        return "push_dataset_to_hub", (
            "Require cfg.hf_use_auth_token to be True for push_dataset_to_hub"
        )
    return None


@validator("check_eval_packing")
def _eval_packing(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if (
        data.get("sample_packing")
        and data.get("eval_table_size")
        and data.get("eval_sample_packing") is not False
    ):
        return "eval_table_size", (
            "eval_table_size and eval_sample_packing are not supported together with "
            "sample_packing. Please set 'eval_sample_packing' to false."
        )
    return None


@validator("check_evals")
def _evals_without_split(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if (
        data.get("val_set_size") == 0
        and (data.get("eval_steps") or data.get("eval_strategy"))
        and not data.get("test_datasets")
        and data.get("eval_strategy") != "no"
    ):
        key = "eval_steps" if data.get("eval_steps") else "eval_strategy"
        return key, "eval_steps and eval_strategy are not supported with val_set_size == 0"
    strategy = data.get("eval_strategy")
    if data.get("evals_per_epoch") and strategy and strategy != "steps":
        return "eval_strategy", (
            "eval_strategy must be empty or set to `steps` when used with evals_per_epoch."
        )
    if data.get("do_bench_eval") and not (data.get("evals_per_epoch") or data.get("eval_steps")):
        return "do_bench_eval", "do_bench_eval requires evals_per_epoch or eval_steps to be set."
    return None


@validator("validate_neftune_noise_alpha")
def _neftune_positive(data: Mapping[str, Any]) -> tuple[str, str] | None:
    alpha = data.get("neftune_noise_alpha")
    if isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and alpha <= 0:
        return "neftune_noise_alpha", "neftune_noise_alpha must be > 0.0"
    return None


@validator("check_frozen")
def _frozen(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if (
        data.get("adapter")
        and data.get("peft_layers_to_transform")
        and data.get("unfrozen_parameters")
    ):
        return "unfrozen_parameters", (
            "`unfrozen_parameters` used with `peft_layers_to_transform` can have unexpected "
            "behavior."
        )
    return None


@validator("check_peft_layers_pattern")
def _layers_pattern(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if data.get("peft_layers_pattern") and not data.get("peft_layers_to_transform"):
        return "peft_layers_pattern", (
            "peft_layers_pattern requires peft_layers_to_transform to be set"
        )
    return None


def _lora_kernels(data: Mapping[str, Any]) -> str | None:
    for key in ("lora_mlp_kernel", "lora_qkv_kernel", "lora_o_kernel"):
        if data.get(key):
            return key
    return None


@validator("check_lora_kernels_8bit")
def _kernels_8bit(data: Mapping[str, Any]) -> tuple[str, str] | None:
    kernel = _lora_kernels(data)
    if kernel and data.get("adapter") == "lora" and data.get("load_in_8bit"):
        return kernel, (
            "lora_mlp_kernel, lora_qkv_kernel, and lora_o_kernel are not compatible with "
            "8-bit LoRA a the moment."
        )
    return None


@validator("check_lora_kernels_trust_remote_code")
def _kernels_remote_code(data: Mapping[str, Any]) -> tuple[str, str] | None:
    kernel = _lora_kernels(data)
    if kernel and data.get("trust_remote_code"):
        return kernel, (
            "lora_mlp_kernel, lora_qkv_kernel, and lora_o_kernel are not compatible with "
            "trust_remote_code. Please disable trust_remote_code or explicitly set "
            "lora_*_kernel to false."
        )
    return None


@validator("check_kto_config")
def _kto(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if data.get("rl") != "kto":
        return None
    if data.get("sample_packing") or data.get("eval_sample_packing"):
        key = "sample_packing" if data.get("sample_packing") else "eval_sample_packing"
        return key, "sample_packing is not supported with kto"
    if data.get("remove_unused_columns") is not False:
        return "rl", "Set `remove_unused_columns: False` when using kto"
    return None


@validator("check_mem_mismatch")
def _memory(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if data.get("max_memory") is not None and data.get("gpu_memory_limit") is not None:
        return "gpu_memory_limit", (
            "max_memory and gpu_memory_limit are mutually exclusive and cannot be used together."
        )
    return None


@validator("check_model_quantization_config_vs_bnb")
def _quantization_config(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if data.get("model_quantization_config") and (
        data.get("load_in_8bit") or data.get("load_in_4bit")
    ):
        return "model_quantization_config", (
            "model_quantization_config and load_in_8bit or load_in_4bit cannot be used together."
        )
    return None


@validator("check_chat_template_config")
def _jinja(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if data.get("chat_template") == "jinja" and not data.get("chat_template_jinja"):
        return "chat_template", (
            "chat_template_jinja is required when chat_template is set to 'jinja'. Please "
            "provide the Jinja template string in chat_template_jinja field."
        )
    return None


@validator("check_activation_offloading_wo_gc")
def _offloading(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if data.get("activation_offloading") and not data.get("gradient_checkpointing"):
        return "activation_offloading", "activation_offloading requires gradient_checkpointing"
    return None


@validator("check_simpo_warmup")
def _simpo_warmup(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if data.get("rl") == "simpo" and data.get("warmup_ratio"):
        return "warmup_ratio", (
            "warmup_ratio is not supported with the simpo trainer. Please use `warmup_steps` "
            "instead"
        )
    return None


@validator("check_relora")
def _relora(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if not data.get("relora"):
        return None
    if not data.get("jagged_restart_steps"):
        return "relora", "jagged_restart_steps must be set to use ReLoRA"
    if data.get("fsdp") or data.get("fsdp_config"):
        return "relora", "fsdp not supported with ReLoRA"
    if data.get("deepspeed"):
        return "relora", "deepspeed not supported with ReLoRA"
    if data.get("lr_scheduler") == "one_cycle":
        return "lr_scheduler", "ReLoRA is not compatible with the one_cycle scheduler"
    return None


@validator("check_ebft_config_required")
def _ebft(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if data.get("rl") == "ebft" and not data.get("ebft"):
        return "rl", (
            "`ebft` config section is required when `rl: ebft` is set. Add an `ebft:` section "
            "with at least `mode: structured` or `mode: strided`."
        )
    return None


@validator("check_ebft_torch_compile")
def _ebft_compile(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if (
        data.get("rl") == "ebft"
        and data.get("torch_compile") is True
        and _dict(data, "ebft").get("mode") == "strided"
        and data.get("gradient_checkpointing")
    ):
        return "torch_compile", (
            "EBFT strided mode: `torch_compile: true` with `gradient_checkpointing: true` causes "
            "CheckpointError (BlockMask metadata mismatch during recomputation). Remove "
            "`torch_compile`"
        )
    return None


@validator("check_save_strategy_best_requires_metric")
def _best_needs_metric(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if data.get("save_strategy") == "best" and not data.get("metric_for_best_model"):
        return "save_strategy", (
            "save_strategy: 'best' requires metric_for_best_model to be set. Please specify the "
            "metric to use, e.g. metric_for_best_model: eval_loss"
        )
    return None


@validator("validate_lora_target_parameters_dropout")
def _target_parameters_dropout(data: Mapping[str, Any]) -> tuple[str, str] | None:
    dropout = _adapter_dropout(data)
    if data.get("lora_target_parameters") and dropout not in (None, 0, 0.0):
        return "lora_dropout", (
            "lora_dropout must be 0 when lora_target_parameters is set. PEFT's ParamWrapper "
            "does not support lora_dropout != 0."
        )
    return None


@validator("validate_qlora")
def _qlora(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if data.get("adapter") != "qlora":
        return None
    if data.get("merge_lora"):
        for key, text in (("load_in_8bit", "loaded in 8bit"), ("gptq", "gptq"),
                          ("load_in_4bit", "loaded in 4bit")):  # fmt: skip
            if data.get(key):
                return key, f"Can't merge qlora if {text}"
        return None
    if data.get("gptq"):
        return "gptq", "Can't load qlora if gptq"
    return None  # 8-bit loading or no load_in_4bit: EL306


# Validators that refuse two keys set together: (validator, the key to point at, the other key,
# Axolotl's message).
BOTH = (
    ("check_val_w_test_datasets", "val_set_size", "test_datasets",
     "non-zero val_set_size should not be used with test_datasets configuration"),
    ("check_neftune", "noisy_embedding_alpha", "neftune_noise_alpha",
     "noisy_embedding_alpha is deprecated, use neftune_noise_alpha; both are set, please remove "
     "the deprecated noisy_embedding_alpha setting"),
    ("check_multipack_buffer_size", "pretrain_multipack_buffer_size",
     "streaming_multipack_buffer_size",
     "pretrain_multipack_buffer_size is deprecated, use streaming_multipack_buffer_size; both "
     "are set, please remove the deprecated pretrain_multipack_buffer_size setting"),
    ("pretrain_with_tps", "include_tokens_per_second", "pretraining_dataset",
     "pretraining_dataset and include_tokens_per_second cannot be used together."),
    ("check_lr_groups", "lr_groups", "loraplus_lr_ratio",
     "lr_groups and loraplus_lr_ratio cannot be used together."),
    ("check_sample_packing_w_rl", "sample_packing", "rl",
     "`sample_packing: true` does not work with RLHF training"),
    ("check_fsdp_deepspeed", "fsdp", "deepspeed", "deepspeed and fsdp cannot be used together."),
    ("check_pretraining_w_val_set_size", "val_set_size", "pretraining_dataset",
     "val_set_size is not supported with pretraining_dataset. Use test_datasets to specify "
     "evaluation datasets for pretraining."),
    ("check_streaming_w_val_set_size", "val_set_size", "streaming",
     "val_set_size is not supported with streaming datasets. Use test_datasets to specify "
     "evaluation datasets when streaming is enabled."),
)  # fmt: skip


def _both(name: str, key: str, other: str, message: str) -> None:
    def check(data: Mapping[str, Any]) -> tuple[str, str] | None:
        return (key, message) if data.get(key) and data.get(other) else None

    CHECKS.append((name, check))


for _name, _key, _other, _message in BOTH:
    _both(_name, _key, _other, _message)


@validator("validate_adapter")
def _adapter(data: Mapping[str, Any]) -> tuple[str, str] | None:
    adapter = data.get("adapter")
    # A listed plug-in may register the adapter (PluginManager.supports_adapter): not checked.
    if adapter and adapter not in ("lora", "qlora", "llama-adapter") and not data.get("plugins"):
        return "adapter", (
            f"Adapter '{adapter}' is not built in and was not registered by a plugin. Add the "
            "plugin that provides this adapter to `plugins:`."
        )
    return None


@validator("check_causal_lm_evals")
def _causal_lm_evals(data: Mapping[str, Any]) -> tuple[str, str] | None:
    if data.get("do_causal_lm_eval") and data.get("eval_sample_packing"):
        return "eval_sample_packing", (
            "do_causal_lm_eval is enabled, eval_sample_packing must be set to False"
        )
    metrics = data.get("eval_causal_lm_metrics")
    if metrics and not isinstance(metrics, list):
        return "eval_causal_lm_metrics", "eval_causal_lm_metrics must be a list"
    return None
