"""Generate the LLaMA-Factory and Hugging Face key schemas from the reference facts.

Run from the project root:  python scripts/make_schemas.py [REFERENCE_DIR]

Writes lint/dialects/llamafactory/schema.json (what `llamafactory-cli train` accepts) and
lint/dialects/hf/schema.json (transformers' TrainingArguments, as `HfArgumentParser.parse_yaml_file`
reads a YAML file).

REFERENCE_DIR defaults to ../shared/reference. The inputs are `llamafactory_keys.json`
(every field of the dataclasses `llamafactory-cli train` parses, with types, defaults and
choices) and `hf_training_args_fields_history.json` (when transformers added or removed a
TrainingArguments field). The output is a JSON Schema (draft 4, so that a float such as 1e4
is never accepted where an int is required) plus `x-epochlint-*` tables the linter reads:
which keys exist only in some transformers versions, which were renamed, and which need an
environment switch such as USE_MEGATRON_BRIDGE=1.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

# transformers renames that have a replacement key (reference/hf_trainer.md §6).
RENAMED = {
    "evaluation_strategy": "eval_strategy",
    "no_cuda": "use_cpu",
    "per_gpu_train_batch_size": "per_device_train_batch_size",
    "per_gpu_eval_batch_size": "per_device_eval_batch_size",
}
# Removed keys whose intent is expressed another way (no safe rename).
REPLACED_BY_SETTING = {
    "adafactor": "optim: adafactor",
    "group_by_length": "train_sampling_strategy: group_by_length",
    "include_inputs_for_metrics": "include_for_metrics: [inputs]",
    "warmup_ratio": "warmup_steps with a value below 1 (a fraction of the total steps)",
    "logging_dir": "the TENSORBOARD_LOGGING_DIR environment variable",
}
# Deprecated while still accepted (version range where a warning is printed).
DEPRECATED_FROM = {"warmup_ratio": "5.0.0", "logging_dir": "5.0.0"}


def json_type(type_text: str) -> list[str]:
    """Map a dataclass annotation (as text) to the JSON types OmegaConf can hand it."""
    text = type_text.replace("Optional[", "").replace("Union[", "")
    kinds: set[str] = set()
    if re.search(r"\bNone\b|Optional\[", type_text):
        kinds.add("null")
    if re.search(r"\bbool\b|Literal\[False\]", text):
        kinds.add("boolean")
    if re.search(r"\bint\b", text):
        kinds.add("integer")
    if re.search(r"\bfloat\b", text):
        kinds.update({"number"})
    if re.search(
        r"\bstr\b|Literal\[|Strategy|SchedulerType|OptimizerNames|AttentionFunction|"
        r"EngineName|QuantizationMethod|pathlib|DebugOption|FSDPOption",
        text,
    ):
        kinds.add("string")
    if re.search(r"\blist\[", text):
        kinds.add("array")
    if re.search(r"\bdict\b|RopeScaling|GenerationConfig", text):
        kinds.add("object")
    if "Any" in text or not kinds - {"null"}:
        return []  # unconstrained
    if "number" in kinds:
        kinds.discard("integer")  # a float field accepts ints as they are
    return sorted(kinds)


# Fields LLaMA-Factory splits on commas when they are strings and keeps as they are when
# they are lists (`split_arg`), so a YAML list is accepted too.
COMMA_SPLIT = {
    "dataset", "eval_dataset", "lora_target", "oft_target", "additional_target",
    "freeze_trainable_modules", "freeze_extra_modules", "galore_target", "apollo_target",
    "adapter_name_or_path", "add_tokens", "add_special_tokens",
}  # fmt: skip


def key_schema(name: str, info: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    types = json_type(info["type"])
    if name in COMMA_SPLIT and types:
        types = sorted(set(types) | {"array"})
    newer = info.get("transformers_5.8.0", {})
    if "type" in newer:  # e.g. warmup_steps: int in 4.57, float in 5.x
        merged = set(types) | set(json_type(newer["type"]))
        if "number" in merged:
            merged.discard("integer")  # a float field accepts ints as they are
        types = sorted(merged)
    if types:
        schema["type"] = types if len(types) > 1 else types[0]
    choices = list(info.get("choices") or [])
    for extra in newer.get("choices") or []:
        if extra not in choices:
            choices.append(extra)
    if choices and not (name == "report_to"):
        schema["enum"] = choices + ([None] if "null" in types else [])
    elif choices:
        # report_to takes a name, a list of names, "all" or "none".
        schema["x-epochlint-names"] = choices
    schema["default"] = info.get("default")
    if info.get("help"):
        schema["description"] = info["help"]
    if info.get("invalid_choice_at_parse"):
        schema["x-epochlint-rejected-at-parse"] = True
    return schema


def build(reference: Path) -> dict[str, Any]:
    keys = json.loads((reference / "llamafactory_keys.json").read_text())
    history = json.loads((reference / "hf_training_args_fields_history.json").read_text())["fields"]

    properties: dict[str, Any] = {}
    env_keys: dict[str, list[str]] = {"USE_MEGATRON_BRIDGE": []}
    version_limits: dict[str, dict[str, str]] = {}
    for name, info in keys.items():
        parsers = info.get("parsers", [])
        if info.get("yaml_settable") and "train" in parsers:
            properties[name] = key_schema(name, info)
            present = info.get("transformers_versions") or {}
            if present and not all(present.values()):
                hist = history.get(name, {})
                limits: dict[str, str] = {}
                if hist.get("removed_in_next_sampled"):
                    limits["removed_in"] = hist["removed_in_next_sampled"]
                if not present.get("4.57.6") and hist.get("first_sampled"):
                    limits["added_in"] = hist["first_sampled"]
                version_limits[name] = limits
        elif any("USE_MEGATRON_BRIDGE" in p for p in parsers):
            env_keys["USE_MEGATRON_BRIDGE"].append(name)

    for name, hist in history.items():
        removed = hist.get("removed_in_next_sampled")
        # LLaMA-Factory re-declares some fields (overwrite_output_dir): they outlive transformers'.
        from_transformers = keys.get(name, {}).get("defined_in", "").startswith("transformers")
        if name in properties and removed and from_transformers and name not in version_limits:
            version_limits[name] = {"removed_in": removed}

    deprecated: dict[str, dict[str, Any]] = {}
    for old in sorted(set(RENAMED) | set(REPLACED_BY_SETTING)):
        hist = history.get(old, {})
        entry: dict[str, Any] = {
            "removed_in": hist.get("removed_in_next_sampled"),
            "replacement_key": RENAMED.get(old),
            "replacement": REPLACED_BY_SETTING.get(old),
        }
        if old in DEPRECATED_FROM:
            entry["deprecated_in"] = DEPRECATED_FROM[old]
        deprecated[old] = entry

    return schema_document(
        "LLaMA-Factory `llamafactory-cli train` YAML config",
        "scripts/make_schemas.py",
        properties,
        version_limits=dict(sorted(version_limits.items())),
        deprecated=deprecated,
        env_keys=env_keys,
    )


def build_hf(reference: Path, deprecated: dict[str, Any]) -> dict[str, Any]:
    """TrainingArguments of the newest transformers, plus fields the 4.x line still had;
    `deprecated` is the LLaMA-Factory schema's table (the same transformers renames)."""
    fields = json.loads((reference / "hf_training_args_fields.json").read_text())
    history = json.loads((reference / "hf_training_args_fields_history.json").read_text())
    llamafactory_keys = json.loads((reference / "llamafactory_keys.json").read_text())
    properties: dict[str, Any] = {}
    for name, info in fields.items():
        spec = dict(info)
        # The enum-typed fields take their allowed values from the same dataclasses.
        spec["choices"] = llamafactory_keys.get(name, {}).get("choices")
        properties[name] = key_schema(name, spec)
    version_limits: dict[str, dict[str, str]] = {}
    for name, hist in history["fields"].items():
        removed = hist.get("removed_in_next_sampled")
        if name not in properties and removed and name in history["fields_by_version"]["4.57.6"]:
            properties[name] = {"type": json_type(hist["type_in_last"]) or "string"}
        if removed and name in properties:
            version_limits[name] = {"removed_in": removed}
    return schema_document(
        "Hugging Face TrainingArguments YAML (HfArgumentParser.parse_yaml_file)",
        "scripts/make_schemas.py",
        properties,
        version_limits=dict(sorted(version_limits.items())),
        deprecated=deprecated,
    )


def schema_document(
    title: str, generator: str, properties: dict[str, Any], **tables: Any
) -> dict[str, Any]:
    """A generated key schema: draft 4 over the top-level keys, then the linter's tables
    (`version_limits=` becomes `x-epochlint-version-limits`)."""
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": title,
        "description": f"Generated by {generator}; do not edit by hand.",
        "type": "object",
        "properties": dict(sorted(properties.items())),
        "additionalProperties": False,
        **{"x-epochlint-" + name.replace("_", "-"): table for name, table in tables.items()},
    }


def main() -> None:
    reference = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/reference")
    lint = Path(__file__).resolve().parents[1] / "lint"
    llamafactory = build(reference)
    hf = build_hf(reference, llamafactory["x-epochlint-deprecated"])
    for name, schema in (("llamafactory", llamafactory), ("hf", hf)):
        out = lint / "dialects" / name / "schema.json"
        out.write_text(json.dumps(schema, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
