"""Generate lint/dialects/axolotl/schema.json: the top-level keys an Axolotl config may hold.

Run from the project root:  python scripts/make_axolotl_schema.py [REFERENCE_DIR]

REFERENCE_DIR (default ../shared/reference) holds `axolotl_keys.json`: every field of Axolotl's
config model `AxolotlInputConfig` (with its mixins) and of each plugin's argument model, as
pydantic defines them (annotation, default, deprecation, aliases). Nothing else is a key:
Axolotl drops every other top-level key without a word (pydantic's `extra="ignore"`), and a
plugin's fields exist only when the plugin is listed under `plugins:`.

Each property has:
- `type`: the JSON types of the annotation, read strictly (an `int` field is "integer");
- `x-epochlint-accepts`: what pydantic's lax mode, which Axolotl validates in, takes for it:
  `null`, `bool` (also 0/1 and "true"/"yes"/"off"...), `int` (also a whole float and "3"),
  `float` (also an int and "2e-5"), `str`, `list`, `dict`, `any`; `x-epochlint-choices`
  when a `Literal` limits the strings, and `x-epochlint-items`, the kind of a list's items;
- `default`, and `x-epochlint-plugin` (the plugin that defines the field) or
  `x-epochlint-alias-of` (the field an alias name fills).
The tables: `x-epochlint-deprecated` (EL104), `x-epochlint-required` (no default: Axolotl
refuses a config without them), `x-epochlint-plugins` (each plugin and its fields).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from make_schemas import schema_document  # this folder is on sys.path when run

# Names in annotations: str enums (a string, whose values the reference does not list), an int
# enum, and pydantic models (a mapping in YAML). An unknown name stops the generator.
STRING_ENUMS = {
    "RLType", "ChatTemplate", "CustomSupportedOptimizers", "RingAttnFunc", "InferenceServerType"
}  # fmt: skip
INT_ENUMS = {"PIL.Image.Resampling"}
MODELS = {
    "SFTDataset", "DPODataset", "KTODataset", "StepwiseSupervisedDataset", "SyntheticDataset",
    "PretrainingDataset", "DynamicCheckpointConfig", "EBFTConfig", "FSDPConfig", "LrGroup",
    "PeftConfig", "QATConfig", "PTQConfig", "RoleBoundarySpec", "SelectiveCheckpointingConfig",
    "SpecialTokensConfig", "TRLConfig", "VllmConfig", "DiffusionConfig", "HatcheryConfig",
    "CompressionArgs", "MoraConfig",
}  # fmt: skip
JSON_TYPES = {
    "null": "null", "bool": "boolean", "int": "integer", "float": "number", "str": "string",
    "list": "array", "dict": "object",
}  # fmt: skip

# Deprecated fields Axolotl copies to their new name (its validators: check_eval_strategy,
# check_neftune, dpo_beta -> rl_beta, dataset_processes -> dataset_num_proc, ...): renaming
# them changes nothing.
RENAMED = {
    "evaluation_strategy": "eval_strategy",
    "noisy_embedding_alpha": "neftune_noise_alpha",
    "dpo_beta": "rl_beta",
    "dataset_processes": "dataset_num_proc",
    "sequence_parallel_degree": "context_parallel_size",
    "pretrain_multipack_buffer_size": "streaming_multipack_buffer_size",
}
# Fields of `DeprecatedParameters` whose validator raises DeprecationWarning, so the config
# does not load: when the value is truthy, or when it is set at all (not null); with the
# validator's advice. The reference's deprecation text for these is the class name only.
REFUSED = {
    "max_packed_sequence_len": ("truthy", "`sample_packing: true`"),
    "rope_scaling": ("truthy", "a `rope_scaling` key under `model_config`"),
    "s2_attention": ("truthy", None),
    "flash_attn_rms_norm": ("truthy", None),
    "dpo_use_logits_to_keep": ("set", None),
    "dpo_generate_during_eval": ("set", None),
    "dpo_norm_loss": ("set", None),
    "rpo_alpha": ("set", None),
}
# What deprecated fields whose deprecation text names no single replacement stand for instead
# (the `DeprecatedParameters` validators' log messages; gc_steps' text names two keys).
ADVICE = {
    "eval_table_size": "`generate_samples: true` with `num_generation_samples`",
    "eval_max_new_tokens": "`generation_max_new_tokens`",
    "gc_steps": "`torch_empty_cache_steps` (CUDA cache) and `gc_collect_steps` (garbage)",
}
# "Please use `fsdp_config` instead." -> `fsdp_config`
USE = re.compile(r"\b[Uu]se (`[^`]+`)")


def split_top(text: str, separator: str) -> list[str]:
    """`A | B[C | D] | E` split at the top-level separators only (`|` or `,`)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def head_and_args(member: str) -> tuple[str, str]:
    """`list[str]` -> ("list", "str"); `int` -> ("int", "")."""
    if member.endswith("]") and "[" in member:
        head, _, rest = member.partition("[")
        return head.strip(), rest[:-1]
    return member, ""


def item_kinds(annotation: str) -> set[str]:
    """The kinds of a list's items (`list[str]` -> {"str"}); empty when not a plain list."""
    items: set[str] = set()
    for member in split_top(annotation, "|"):
        head, args = head_and_args(member)
        if head in ("Optional", "Annotated"):
            items |= item_kinds(split_top(args, ",")[0])
        elif head == "Union":
            items |= item_kinds(" | ".join(split_top(args, ",")))
        elif head in ("list", "List") and args in ("str", "int", "float", "bool", "dict"):
            items.add(args)
    return items


def accepted(annotation: str) -> tuple[set[str], list[Any]]:
    """What pydantic accepts for an annotation: the kinds, and the Literal values (if any)."""
    kinds: set[str] = set()
    choices: list[Any] = []
    for member in split_top(annotation, "|"):
        head, args = head_and_args(member)
        if head in ("None", "NoneType"):
            kinds.add("null")
        elif head in ("bool", "int", "float", "str", "dict", "Any"):
            kinds.add(head.lower() if head == "Any" else head)
        elif head in ("list", "List", "tuple", "set"):
            kinds.add("list")
        elif head == "Optional":
            sub_kinds, sub_choices = accepted(args)
            kinds |= sub_kinds | {"null"}
            choices += sub_choices
        elif head == "Union":
            sub_kinds, sub_choices = accepted(" | ".join(split_top(args, ",")))
            kinds |= sub_kinds
            choices += sub_choices
        elif head == "Annotated":
            sub_kinds, sub_choices = accepted(split_top(args, ",")[0])
            kinds |= sub_kinds
            choices += sub_choices
        elif head == "Literal":
            for value in split_top(args, ","):
                literal = json.loads(value.replace("'", '"')) if value[0] in "'\"" else value
                if literal in ("True", "False"):
                    kinds.add("bool")
                else:
                    choices.append(literal)
        elif head in STRING_ENUMS:
            kinds.add("str")
        elif head in INT_ENUMS:
            kinds.add("int")
        elif head in MODELS:
            kinds.add("dict")
        else:
            raise ValueError(f"unknown name in an annotation: {member!r} of {annotation!r}")
    if "str" in kinds:
        choices = []  # any string is accepted
    return kinds, choices


def field_schema(info: dict[str, Any]) -> dict[str, Any]:
    kinds, choices = accepted(info["type"])
    schema: dict[str, Any] = {}
    if "any" not in kinds:
        types = {JSON_TYPES[kind] for kind in kinds}
        if choices:
            types.add("string")
        schema["type"] = sorted(types) if len(types) > 1 else types.pop()
    if info.get("default") is not None:
        schema["default"] = info["default"]
    schema["x-epochlint-accepts"] = sorted(kinds)
    if choices:
        schema["x-epochlint-choices"] = choices
    items = item_kinds(info["type"])
    if len(items) == 1:  # one plain item type (`list[str]`); else items are not checked
        schema["x-epochlint-items"] = sorted(items)
    return schema


def deprecation(name: str, info: dict[str, Any]) -> dict[str, Any]:
    """The EL104 entry of a deprecated field: its new name or setting, and whether Axolotl
    refuses the config over it."""
    entry: dict[str, Any] = {}
    text = info.get("deprecation") or ""
    if name in RENAMED:
        entry["replacement_key"] = RENAMED[name]
    elif name in REFUSED:
        when, instead = REFUSED[name]
        entry["fails"] = when
        if instead:
            entry["replacement"] = instead
    elif name in ADVICE:
        entry["replacement"] = ADVICE[name]
    elif len(USE.findall(text)) == 1:
        entry["replacement"] = USE.findall(text)[0]
    else:
        raise ValueError(f"no replacement known for the deprecated field {name!r}")
    return entry


def build(reference: Path) -> dict[str, Any]:
    keys = json.loads((reference / "axolotl_keys.json").read_text(encoding="utf-8"))
    properties: dict[str, Any] = {}
    deprecated: dict[str, Any] = {}
    required: list[str] = []
    for name, info in keys["core"].items():
        properties[name] = field_schema(info)
        for alias in info.get("aliases") or []:
            properties[alias] = {**field_schema(info), "x-epochlint-alias-of": name}
        if info.get("deprecated"):
            deprecated[name] = deprecation(name, info)
        if info.get("required"):
            required.append(name)
    plugins: dict[str, list[str]] = {}
    for plugin, fields in keys["plugins"].items():
        plugins[plugin] = sorted(fields)
        for name, info in fields.items():
            if name in properties:
                raise ValueError(f"plugin field {name!r} of {plugin} is also a core field")
            properties[name] = {**field_schema(info), "x-epochlint-plugin": plugin}
    for name in set(RENAMED) | set(REFUSED) | set(ADVICE):
        if name not in deprecated:
            raise ValueError(f"{name!r} is not a deprecated field of Axolotl any more")
    return schema_document(
        f"Axolotl training config (top-level keys), Axolotl commit {keys['commit'][:8]}",
        "scripts/make_axolotl_schema.py",
        properties,
        deprecated=dict(sorted(deprecated.items())),
        required=sorted(required),
        plugins=dict(sorted(plugins.items())),
    )


def main() -> None:
    reference = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/reference")
    out = Path(__file__).resolve().parents[1] / "lint" / "dialects" / "axolotl" / "schema.json"
    out.write_text(json.dumps(build(reference), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
