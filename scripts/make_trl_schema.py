"""Generate lint/dialects/trl/schema.json: the keys a TRL YAML config may hold, trainer by trainer.

Run from the project root:  python scripts/make_trl_schema.py [REFERENCE_DIR]

TRL reads `trl <command> --config x.yaml` (and the recipe scripts built on TrlParser) into
several dataclasses that share one namespace: the script arguments, the trainer's config (a
TrainingArguments subclass), ModelConfig and DatasetMixtureConfig. REFERENCE_DIR (default
../shared/reference) holds `trl_keys.json` (every field TRL declares, per class, from TRL's
source), `hf_training_args_fields.json` (the TrainingArguments fields the configs inherit) and
`hf_training_args_fields_history.json` (when transformers removed a field).

The output is a JSON Schema (draft 4) over the union of every class's keys, plus the tables the
linter reads:
  x-epochlint-trainers     per trainer: its config class, its `trl` command (null for the
                           experimental trainers, which have none), its script-arguments class,
                           and the schema of each key its config declares (type, choices,
                           default: the trainer's own, where trainers differ)
  x-epochlint-groups       the keys of the classes every command shares
  x-epochlint-deprecated   renamed and removed keys: per key a list of {package, trainers,
                           deprecated_in, removed_in, replacement_key, replacement}
  x-epochlint-deprecated-values   values TRL still accepts with a FutureWarning, or took
                                  in an older release (removed_in)
  x-epochlint-version-limits      TrainingArguments keys removed by a transformers release
  x-epochlint-recipe-fields       keys the recipe repositories' own dataclasses add
  x-epochlint-accelerate-launch   the `accelerate launch` options `trl <command>` passes
                                  left-over YAML keys to
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from make_schemas import build as build_llamafactory  # this folder is on sys.path when run
from make_schemas import json_type, schema_document

# trainer -> (config class, `trl` command or None, script-arguments class), from trl_keys.json's
# "commands" for the CLI trainers; the experimental ones are driven from Python.
TRAINERS = {
    "sft": "SFTConfig",
    "dpo": "DPOConfig",
    "kto": "KTOConfig",
    "reward": "RewardConfig",
    "grpo": "GRPOConfig",
    "rloo": "RLOOConfig",
    "orpo": "ORPOConfig",
    "cpo": "CPOConfig",
    "online_dpo": "OnlineDPOConfig",
    "gkd": "GKDConfig",
    "ppo": "PPOConfig",
}
SHARED_GROUPS = ("ScriptArguments", "ModelConfig", "DatasetMixtureConfig")

# Renamed and removed TRL keys (reference trl.md §4 and §6). trainers None: every trainer.
TRL_DEPRECATED: list[tuple[str, dict[str, Any]]] = [
    ("max_seq_length", {
        "trainers": ["sft", "gkd"], "deprecated_in": "0.16.0", "removed_in": "0.20.0",
        "replacement_key": "max_length"}),
    ("torch_dtype", {
        "trainers": None, "deprecated_in": "0.23.0", "removed_in": "0.27.0",
        "replacement_key": "dtype"}),
    ("max_prompt_length", {
        "trainers": ["grpo"], "deprecated_in": "0.26.0", "removed_in": "0.28.0",
        "replacement": "filter the dataset by prompt length instead"}),
    ("use_liger_loss", {
        "trainers": ["grpo"], "removed_in": "0.28.0", "replacement_key": "use_liger_kernel"}),
    ("vllm_guided_decoding_regex", {
        "trainers": ["grpo"], "removed_in": "0.28.0",
        "replacement_key": "vllm_structured_outputs_regex"}),
    ("wandb_log_unique_prompts", {
        "trainers": ["grpo"], "deprecated_in": "0.26.0", "removed_in": "0.27.0",
        "replacement_key": "log_unique_prompts"}),
    ("max_prompt_length", {
        "trainers": ["dpo"], "deprecated_in": "0.28.0", "removed_in": "0.29.0",
        "replacement": "max_length (prompt and completion together)"}),
    ("max_completion_length", {
        "trainers": ["dpo"], "deprecated_in": "0.28.0", "removed_in": "0.29.0",
        "replacement": "max_length (prompt and completion together)"}),
    ("rpo_alpha", {
        "trainers": ["dpo"], "deprecated_in": "0.28.0", "removed_in": "0.29.0",
        "replacement": "add 'sft' to loss_type, with its weight in loss_weights"}),
    ("reference_free", {
        "trainers": ["dpo"], "deprecated_in": "0.28.0", "removed_in": "0.29.0",
        "replacement": "CPOTrainer"}),
    *[
        (key, {"trainers": ["dpo"], "deprecated_in": "0.28.0", "removed_in": "0.29.0"})
        for key in (
            "generate_during_eval", "label_pad_token_id", "model_adapter_name",
            "ref_adapter_name", "ref_model_init_kwargs", "force_use_ref_model",
            "base_model_attribute_name", "tools", "use_logits_to_keep",
        )
    ],
    ("padding_value", {"trainers": ["dpo"], "removed_in": "0.26.0"}),
    ("use_liger_loss", {
        "trainers": ["dpo"], "removed_in": "0.28.0", "replacement_key": "use_liger_kernel"}),
]  # fmt: skip

# Values renamed while still accepted (reference trl.md §6); TRL removes them in v2.0.0.
DEPRECATED_VALUES_REMOVED_IN = "2.0.0"
# Values an older TRL took that the reference rejects. `ffd` was SFTConfig's default packing
# strategy in TRL 0.19.1; TRL 0.20.0 renamed it `bfd` (both read from the released wheels).
REMOVED_VALUES = {
    "packing_strategy": {
        "ffd": {
            "package": "trl",
            "replacement": "bfd",
            "message": "Invalid packing strategy 'ffd', must be one of ('bfd', 'bfd_split', "
            "'wrapped').",
            "deprecated_in": "0.20.0",  # no deprecation phase: valid before, refused after
            "removed_in": "0.20.0",
        }
    }
}

# Keys the recipe repositories' own subclasses of TRL's dataclasses declare (reference trl.md
# §8), with the TRL version each pins.
RECIPE_FIELDS = {
    "alignment-handbook": {
        "trl": ">=0.19.1",
        "keys": ["chat_template", "dataset_mixture"],
    },
    "open-r1": {
        "trl": "==0.18.0",
        "keys": [
            "benchmarks", "callbacks", "chat_template", "system_prompt", "hub_model_revision",
            "overwrite_hub_revision", "push_to_hub_revision", "wandb_entity", "wandb_project",
            "wandb_run_group", "num_completions_to_print", "wandb_log_unique_prompts",
            "dataset_mixture", "reward_funcs", "cosine_min_value_wrong", "cosine_max_value_wrong",
            "cosine_min_value_correct", "cosine_max_value_correct", "cosine_max_len",
            "repetition_n_grams", "repetition_max_penalty", "code_language",
            "code_eval_test_batch_size", "code_eval_scoring_mode", "parallel_code_exec_per_proc",
            "dataset_prompt_column", "e2b_router_url", "morph_router_url", "code_provider",
            "ioi_provider", "max_completion_len", "soft_punish_cache",
        ],
    },
}  # fmt: skip


def key_schema(info: dict[str, Any], with_help: bool = True) -> dict[str, Any]:
    """One field as JSON Schema: the types YAML can give it, its choices and default."""
    schema: dict[str, Any] = {}
    types = json_type(info["type"])
    if types:
        schema["type"] = types if len(types) > 1 else types[0]
    if info.get("choices"):
        schema["enum"] = list(info["choices"]) + ([None] if "null" in types else [])
    schema["default"] = info.get("default")
    if with_help and info.get("help"):
        schema["description"] = info["help"]
    if info.get("deprecated"):
        schema["x-epochlint-deprecated"] = {
            "message": info.get("deprecation_message"),
            "replacement": info.get("replacement"),
        }
    return schema


def merged(schemas: list[dict[str, Any]]) -> dict[str, Any]:
    """The union of one key's schemas across classes (types and choices joined)."""
    if all(s == schemas[0] for s in schemas):
        return schemas[0]
    out: dict[str, Any] = {}
    types: set[str] = set()
    for schema in schemas:
        kind = schema.get("type")
        if kind is None:
            types = set()
            break
        types.update([kind] if isinstance(kind, str) else kind)
    if types:
        if "number" in types:
            types.discard("integer")
        out["type"] = sorted(types) if len(types) > 1 else types.pop()
    if all("enum" in s for s in schemas):
        out["enum"] = list(dict.fromkeys(v for s in schemas for v in s["enum"]))
    defaults = {json.dumps(s.get("default"), sort_keys=True) for s in schemas}
    if len(defaults) == 1:
        out["default"] = schemas[0].get("default")
    for schema in schemas:
        if "description" in schema:
            out["description"] = schema["description"]
            break
    return out


def dataset_items(classes: dict[str, Any]) -> dict[str, Any]:
    """The schema of one `datasets:` entry (DatasetConfig(**item): unknown keys raise)."""
    fields = classes["DatasetConfig"]["fields"]
    return {
        "type": "object",
        "properties": {name: key_schema(info, with_help=False) for name, info in fields.items()},
        "required": [name for name, info in fields.items() if info.get("required")],
        "additionalProperties": False,
    }


def build(reference: Path) -> dict[str, Any]:
    trl = json.loads((reference / "trl_keys.json").read_text())
    classes = trl["classes"]
    ta_fields = json.loads((reference / "hf_training_args_fields.json").read_text())
    history = json.loads((reference / "hf_training_args_fields_history.json").read_text())
    llamafactory_keys = json.loads((reference / "llamafactory_keys.json").read_text())

    # TrainingArguments as the TRL configs inherit it (the Seq2Seq fields are not inherited).
    inherited: dict[str, dict[str, Any]] = {}
    for name, info in ta_fields.items():
        if info.get("class") != "TrainingArguments":
            continue
        spec = dict(info)
        spec["choices"] = llamafactory_keys.get(name, {}).get("choices")  # the enum fields
        inherited[name] = key_schema(spec)
    for name, info in classes["_BaseConfig"]["fields"].items():
        inherited[name] = key_schema(info)  # TRL's own defaults (bf16, logging_steps, ...)
    # Fields transformers 5 removed: TRL requires transformers>=4.56.2, where they still exist.
    for name, hist in history["fields"].items():
        removed = hist.get("removed_in_next_sampled")
        if name not in inherited and removed and name in history["fields_by_version"]["4.57.6"]:
            inherited[name] = {"type": json_type(hist["type_in_last"]) or "string"}

    groups: dict[str, list[str]] = {"TrainingArguments": sorted(inherited)}
    candidates: dict[str, list[dict[str, Any]]] = {}
    for group in (*SHARED_GROUPS, "GRPOScriptArguments", "RLOOScriptArguments"):
        fields = classes[group]["fields"]
        groups[group] = sorted(fields)
        for name, info in fields.items():
            candidates.setdefault(name, []).append(key_schema(info))

    commands = {
        cmd: spec["dataclasses"][0] for cmd, spec in trl["commands"].items() if cmd in TRAINERS
    }
    trainers: dict[str, Any] = {}
    for trainer, config_class in TRAINERS.items():
        fields = classes[config_class]["fields"]
        own = {
            name: key_schema(info, with_help=False)
            for name, info in fields.items()
            if inherited.get(name, {}).get("default", object()) != info.get("default")
            or name not in inherited
        }
        for name, info in fields.items():
            candidates.setdefault(name, []).append(key_schema(info))
        trainers[trainer] = {
            "config": config_class,
            "command": trainer if trainer in commands else None,
            "script_arguments": commands.get(trainer, "ScriptArguments"),
            "keys": dict(sorted(own.items())),
        }

    properties = dict(inherited)
    for name, schemas in candidates.items():
        properties[name] = merged(schemas + ([inherited[name]] if name in inherited else []))
    # Not a JSON Schema `items`: EL105 reports a bad entry with TRL's message, and the plain
    # keywords keep the check free of jsonschema.
    properties["datasets"] = {**properties["datasets"], "x-epochlint-items": dataset_items(classes)}

    version_limits = {
        name: {"removed_in": hist["removed_in_next_sampled"]}
        for name, hist in history["fields"].items()
        if name in properties and hist.get("removed_in_next_sampled")
    }
    deprecated: dict[str, list[dict[str, Any]]] = {}
    for name, entry in TRL_DEPRECATED:
        deprecated.setdefault(name, []).append(
            {"package": "trl", "deprecated_in": None, "replacement_key": None,
             "replacement": None, **entry}
        )  # fmt: skip
    transformers = build_llamafactory(reference)["x-epochlint-deprecated"]
    for name, entry in transformers.items():
        deprecated.setdefault(name, []).append(
            {"package": "transformers", "trainers": None, "deprecated_in": None, **entry}
        )

    deprecated_values: dict[str, dict[str, Any]] = {}
    for config_class in TRAINERS.values():
        for name, info in classes[config_class]["fields"].items():
            for value, about in (info.get("deprecated_values") or {}).items():
                deprecated_values.setdefault(name, {})[value] = {
                    "package": "trl",
                    "replacement": about.get("replacement"),
                    "message": about.get("message"),
                    "removed_in": DEPRECATED_VALUES_REMOVED_IN,
                }

    for name, values in REMOVED_VALUES.items():
        deprecated_values.setdefault(name, {}).update(values)

    launch = trl["accelerate_launch_passthrough"]
    accelerate_launch = {
        "accelerate_version": launch["accelerate_version"],
        "options": sorted({o for spec in launch["options"].values() for o in spec["options"]}),
        "flags_without_value": sorted(
            o for spec in launch["options"].values() if spec["flag_without_value"]
            for o in spec["options"]
        ),
    }  # fmt: skip

    document = schema_document(
        "TRL `trl <command> --config` YAML config (TrlParser)",
        "scripts/make_trl_schema.py",
        properties,
        reference={
            "trl_version": trl["trl_version"],
            "trl_commit": trl["trl_commit"],
            "transformers_version": trl["transformers_version_used"],
        },
        trainers=trainers,
        groups=groups,
        version_limits=dict(sorted(version_limits.items())),
        deprecated=dict(sorted(deprecated.items())),
        deprecated_values=deprecated_values,
        recipe_fields=RECIPE_FIELDS,
        accelerate_launch=accelerate_launch,
    )
    return document


def main() -> None:
    reference = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/reference")
    out = Path(__file__).resolve().parents[1] / "lint" / "dialects" / "trl" / "schema.json"
    out.write_text(json.dumps(build(reference), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
