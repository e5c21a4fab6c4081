"""Generate lint/dialects/axolotl/schema.json: the top-level keys an Axolotl config may hold.

Run from the project root:  python scripts/make_axolotl_schema.py [CORPUS_DIR]

Axolotl validates its YAML with pydantic models (`src/axolotl/utils/schemas/`: the top model
`AxolotlInputConfig` and the mixins it inherits: model, peft, training, integrations,
multimodal, deprecated). FIELDS below records their field names, JSON types and defaults as
read from those models (axolotl 0.18 era). Plugins (`plugins:`) and newer releases add keys, so
every key used in the shipped Axolotl examples (CORPUS_DIR, default ../shared/corpus/axolotl)
is accepted too. Axolotl drops unknown keys silently, which is why the linter needs this list.

Type letters: b boolean, i integer, f number, s string, a list, o mapping, * anything; a
trailing ? means null is allowed. `=value` is the default (a JSON value).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml
from make_schemas import schema_document  # this folder is on sys.path when run

FIELDS = """
base_model:s  base_model_config:s?  cls_model_config:s?  tokenizer_config:s?
tokenizer_use_fast:b?  tokenizer_legacy:b?  tokenizer_use_mistral_common:b?  tokenizer_type:s?
processor_type:s?  tokenizer_save_jinja_files:b?=true  trust_remote_code:b?
experimental_skip_move_to_device:b?=true  use_kernels:b?  model_quantization_config:s?
model_quantization_config_kwargs:o?  output_dir:s="./model-out"  hub_model_id:s?
hub_strategy:s?  hub_revision:s?  save_safetensors:b?=true  load_in_8bit:b?=false
load_in_4bit:b?=false  adapter:s?  lora_model_dir:s?  lora_r:i?  lora_alpha:i?
lora_fan_in_fan_out:b?  lora_target_modules:sa?  lora_target_parameters:sa?
lora_target_linear:b?  lora_modules_to_save:a?  lora_dropout:f?=0.0  peft_layers_to_transform:a?
peft_layers_pattern:a?  peft:o?  peft_use_dora:b?  peft_use_rslora:b?  peft_layer_replication:a?
peft_init_lora_weights:bs?  peft_trainable_token_indices:ao?  peft_ensure_weight_tying:b?
peft_autocast_adapter_dtype:b?  qlora_sharded_model_loading:b?=false  lora_on_cpu:b?  gptq:b?
bnb_config_kwargs:o?  loraplus_lr_ratio:f?  loraplus_lr_embedding:fs?=1e-06  merge_lora:b?
merge_method:s?="memory_efficient"  relora:b?  relora_prune_ratio:f?
relora_prune_method:s?="magnitude"  relora_cpu_offload:b?  gradient_accumulation_steps:i?=1
micro_batch_size:i?=1  batch_size:i?  eval_batch_size:i?  auto_find_batch_size:b?
train_on_inputs:b?=false  group_by_length:b?  learning_rate:fs  embedding_lr:f?
embedding_lr_scale:f?  weight_decay:f?=0.0  optimizer:s?="adamw_torch_fused"  optim_args:so?
optim_target_modules:as?  torchdistx_path:s?  lr_scheduler:s?="cosine"  lr_scheduler_kwargs:o?
lr_quadratic_warmup:b?  cosine_min_lr_ratio:f?  cosine_constant_lr_ratio:f?  lr_div_factor:f?
lr_groups:a?  adam_epsilon:f?  adam_epsilon2:f?  adam_beta1:f?  adam_beta2:f?  adam_beta3:f?
max_grad_norm:f?  num_epochs:f=1.0  use_wandb:b?  wandb_name:s?  wandb_run_id:s?  wandb_mode:s?
wandb_project:s?  wandb_entity:s?  wandb_watch:s?  wandb_log_model:s?  use_mlflow:b?
mlflow_tracking_uri:s?  mlflow_experiment_name:s?  mlflow_run_name:s?
hf_mlflow_log_artifacts:b?  use_comet:b?  comet_api_key:s?  comet_workspace:s?
comet_project_name:s?  comet_experiment_key:s?  comet_mode:s?  comet_online:b?
comet_experiment_config:o?  lisa_n_layers:i?  lisa_step_interval:i?  lisa_layers_attribute:s?
gradio_title:s?  gradio_share:b?  gradio_server_name:s?  gradio_server_port:i?
gradio_max_new_tokens:i?  gradio_temperature:f?  use_ray:b=false  ray_run_name:s?
ray_num_workers:i=1  resources_per_worker:o  image_size:ia?  image_resize_algorithm:s?
model_config:o?  model_kwargs:o?  model_type:s?  model_revision:s?  max_packed_sequence_len:i?
rope_scaling:*  noisy_embedding_alpha:f?  dpo_beta:f?  evaluation_strategy:s?
eval_table_size:i?  eval_max_new_tokens:i?  dpo_use_logits_to_keep:b?
dpo_generate_during_eval:b?  dpo_norm_loss:b?  rpo_alpha:f?  s2_attention:b?
flash_attn_rms_norm:b?  strict:b?=false  resume_from_checkpoint:s?
auto_resume_from_checkpoints:b?  resize_token_embeddings_to_32x:b?
mean_resizing_embeddings:b?=false  shrink_embeddings:b?  rl:s?  trl:o?  vllm:o?  reward_model:b?
process_reward_model:b?  num_labels:i?  dpo_use_weighting:b?  datasets:a?  test_datasets:a?
shuffle_merged_datasets:b?=true  dataset_prepared_path:s?  dataset_shard_num:i?
dataset_shard_idx:i?  skip_prepare_dataset:b?=false  pretraining_dataset:a?
dataset_processes:i?  dataset_exact_deduplication:b?  dataset_keep_in_memory:b?
dataloader_pin_memory:b?  dataloader_num_workers:i?  dataloader_prefetch_factor:i?
dataloader_drop_last:b?  accelerator_config:o?  remove_unused_columns:b?  push_dataset_to_hub:s?
hf_use_auth_token:b?  device:*  device_map:*  world_size:i?  local_rank:i?  ddp:b?  seed:i?
ddp_timeout:i?  ddp_bucket_cap_mb:i?  ddp_broadcast_buffers:b?  ddp_find_unused_parameters:b?
do_causal_lm_eval:b?  eval_causal_lm_metrics:a?  do_bench_eval:b?  bench_dataset:s?
bench_split:s?  metric_for_best_model:s?  greater_is_better:b?  loss_watchdog_threshold:f?
loss_watchdog_patience:i?  gc_steps:i?  bf16:bs?="auto"  fp16:b?  fp8:b?  bfloat16:b?
float16:b?  tf32:b?  float32:b?  gradient_checkpointing:bs?=false
gradient_checkpointing_kwargs:o?  unfrozen_parameters:a?  sequence_len:i=512  min_sample_len:i?
max_prompt_len:i=512  sample_packing:b?  sample_packing_group_size:i?=100000
sample_packing_bin_size:i?=200  sample_packing_sequentially:b?  eval_sample_packing:b?
pad_to_sequence_len:b?  curriculum_sampling:b?  multipack_real_batches:b?
pretraining_sample_concatenation:b?  batch_flattening:bs?  use_pose:b?
pose_split_on_token_ids:a?  pose_max_context_len:i?  pose_num_chunks:i?
pretrain_multipack_buffer_size:i?=10000  pretrain_multipack_attn:b?=true  xformers_attention:b?
sdp_attention:b?  flex_attention:b?  flash_attention:b?  flash_attn_cross_entropy:b?
flash_attn_fuse_qkv:b?  flash_attn_fuse_mlp:b?  flash_optimum:b?  eager_attention:b?
unsloth_cross_entropy_loss:b?  unsloth_lora_mlp:b?  unsloth_lora_qkv:b?  unsloth_lora_o:b?
unsloth_rms_norm:b?  unsloth_rope:b?  lora_mlp_kernel:b?  lora_qkv_kernel:b?  lora_o_kernel:b?
llama4_linearized_experts:b?  deepspeed:so?  fsdp:a?  fsdp_config:o?
fsdp_final_state_dict_type:s?  val_set_size:f?=0.0  sequence_parallel_degree:i?
heads_k_stride:i?  special_tokens:o?  tokens:a?  added_tokens_overrides:o?  torch_compile:bs?
torch_compile_backend:s?  torch_compile_mode:s?  max_steps:i?  warmup_steps:i?  warmup_ratio:f?
eval_steps:if?  evals_per_epoch:i?  eval_strategy:s?  save_steps:if?  saves_per_epoch:i?
save_strategy:s?  save_total_limit:i?  logging_steps:i?  early_stopping_patience:i?
load_best_model_at_end:b?=false  save_only_model:b?=false  use_tensorboard:b?  profiler_steps:i?
include_tokens_per_second:b?  neftune_noise_alpha:f?  orpo_alpha:f?  simpo_gamma:f?
cpo_alpha:f?  kto_desirable_weight:f?  kto_undesirable_weight:f?  rl_beta:f?  max_memory:o?
gpu_memory_limit:is?  low_cpu_mem_usage:b?  chat_template:s?  chat_template_jinja:s?
default_system_message:s?  fix_untrained_tokens:ia?  is_preprocess:b?  preprocess_iterable:b?
total_num_tokens:i?  total_supervised_tokens:i?  sample_packing_eff_est:f?
axolotl_config_path:s?  is_falcon_derived_model:b?  is_llama_derived_model:b?
is_mistral_derived_model:b?  is_qwen_derived_model:b?  plugins:a?  streaming:b?
context_parallel_size:i?  tensor_parallel_size:i?
"""
# Shipped examples that really are mistakes: never learn them as valid keys.
KNOWN_TYPOS = {"context_parapllel_size"}
# Renamed keys and what replaced them (axolotl's deprecated.py), for EL104.
DEPRECATED = {
    "evaluation_strategy": {"replacement_key": "eval_strategy"},
    "noisy_embedding_alpha": {"replacement_key": "neftune_noise_alpha"},
    "dpo_beta": {"replacement_key": "rl_beta"},
    # These raise DeprecationWarning in axolotl's validators: the config does not load.
    "max_packed_sequence_len": {"replacement": "sample_packing: true", "fails": True},
    "rope_scaling": {"replacement": "a `rope_scaling` key under `model_config`", "fails": True},
    "s2_attention": {"replacement": None, "fails": True},
    "flash_attn_rms_norm": {"replacement": None, "fails": True},
    "fsdp": {"replacement": "fsdp_config (the `fsdp:` list is deprecated)"},
}
LETTERS = {
    "b": "boolean", "i": "integer", "f": "number", "s": "string", "a": "array", "o": "object"
}  # fmt: skip


def field_schema(spec: str) -> dict[str, Any]:
    kinds, _, default = spec.partition("=")
    schema: dict[str, Any] = {}
    if "*" not in kinds:
        types = {LETTERS[letter] for letter in kinds.rstrip("?")}
        if kinds.endswith("?"):
            types.add("null")
        schema["type"] = sorted(types) if len(types) > 1 else types.pop()
    if default:
        schema["default"] = json.loads(default)
    return schema


def corpus_keys(corpus: Path) -> set[str]:
    keys: set[str] = set()
    for path in sorted(corpus.rglob("*.y*ml")):
        data = yaml.safe_load(path.read_text())
        if isinstance(data, dict) and "base_model" in data:
            keys.update(str(key) for key in data)
    return keys - KNOWN_TYPOS


def build(corpus: Path) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for item in FIELDS.split():
        name, _, spec = item.partition(":")
        properties[name] = field_schema(spec)
    for key in sorted(corpus_keys(corpus) - set(properties)):
        properties[key] = {"description": "in Axolotl's shipped examples (a plugin or newer key)"}
    return schema_document(
        "Axolotl training config (top-level keys)",
        "scripts/make_axolotl_schema.py",
        properties,
        deprecated=DEPRECATED,
    )


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/corpus/axolotl")
    out = Path(__file__).resolve().parents[1] / "lint" / "dialects" / "axolotl" / "schema.json"
    out.write_text(json.dumps(build(corpus), indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
