"""The plain Hugging Face dialect: a YAML of TrainingArguments for a script of your own.

`HfArgumentParser.parse_yaml_file` reads it with `yaml.safe_load` (so `5e-5` is a string) and
hands it to the script's dataclasses: TrainingArguments and whatever the script adds (model and
data arguments), which epochlint cannot see. Nothing in the file says which data is used or
which fine-tuning method, except TRL's `use_peft`, `lora_r` and `load_in_4bit`.
"""

from __future__ import annotations

from functools import cache

from epochlint.dialects.base import Dialect, TrainingConfig, load_schema
from epochlint.dialects.llamafactory import PLACEMENT
from epochlint.facts.dataset import DatasetProblem, Resolution

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any


class HFConfig(TrainingConfig):
    absent = frozenset(
        {"stage", "finetuning_type", "quantization_bit", "dataset", "eval_dataset",
         "dataset_dir", "max_samples", "val_size", "mix_strategy", "interleave_probs",
         "early_stopping_steps", "pure_bf16", "packing", "neat_packing", "streaming"}
    )  # fmt: skip

    @property
    def method(self) -> str:
        entries = self.document.entries
        if entries.get("load_in_4bit") and entries["load_in_4bit"].value is True:
            return "qlora"
        if "lora_r" in entries or (entries.get("use_peft") and entries["use_peft"].value is True):
            return "lora"
        return "full"

    def derived(self, canonical: str) -> tuple[bool, Any]:
        if canonical == "do_train":
            return True, True  # a training script calls trainer.train() whatever do_train says
        return False, None

    def has_eval_data(self) -> bool:
        return True  # the script passes its own eval_dataset; nothing here says otherwise

    def packs_rows(self) -> bool:
        return False

    def resolve_datasets(self, root: str) -> Resolution | None:
        problem = DatasetProblem(
            "EL501",
            "a TrainingArguments config does not say which data the script trains on; pass "
            "--dataset-size N or add a '# epochlint: dataset-size=N' comment",
            None,
            None,
        )
        return Resolution(None, (), None, (), (problem,))


@cache
def dialect() -> Dialect:
    return Dialect(
        "hf",
        "Hugging Face TrainingArguments",
        "pyyaml",
        load_schema("hf"),
        {},
        HFConfig,
        placement=PLACEMENT,
        unknown_key_effect=(
            "`HfArgumentParser` raises `Some keys are not used` unless one of your script's "
            "own dataclasses defines it"
        ),
        script_defines_keys=True,
    )
