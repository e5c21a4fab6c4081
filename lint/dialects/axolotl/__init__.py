"""The Axolotl dialect: its key names, the values it derives, and its datasets list.

Facts from axolotl's source (README "Axolotl and Hugging Face configs"): the YAML is
read with `yaml.safe_load`; unknown keys are dropped without a word; `normalize_config` and the
trainer builder derive the batch, the evaluation and save cadence, warmup and logging; and the
step count is Axolotl's own estimate, `ceil(rows * num_epochs / global batch)`, forced on the
Trainer as `max_steps` (so `max_steps` in the YAML caps it).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from functools import cache

from epochlint.dialects.axolotl.lax import coerce, refusal
from epochlint.dialects.base import (
    Dialect,
    OwnSchedule,
    Refusal,
    TrainingConfig,
    is_number,
    load_schema,
)
from epochlint.dialects.llamafactory import PLACEMENT
from epochlint.facts.dataset import DatasetProblem, DatasetRows, Resolution
from epochlint.facts.rowcount import RowCountError, count_rows
from epochlint.paths import pure
from epochlint.reading.document import Document

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

KEYS = {
    "num_train_epochs": "num_epochs",
    "per_device_train_batch_size": "micro_batch_size",
    "per_device_eval_batch_size": "eval_batch_size",
    "lr_scheduler_type": "lr_scheduler",
    "optim": "optimizer",
    "early_stopping_steps": "early_stopping_patience",
    "val_size": "val_set_size",
    "eval_dataset": "test_datasets",
    "dataset": "datasets",
    "model_name_or_path": "base_model",
    "cutoff_len": "sequence_len",
    "lora_rank": "lora_r",
    "packing": "sample_packing",
    "use_dora": "peft_use_dora",
    "use_rslora": "peft_use_rslora",
    "adapter_name_or_path": "lora_model_dir",
}
RL_STAGES = {"dpo": "dpo", "ipo": "dpo", "simpo": "simpo", "orpo": "orpo", "kto": "kto"}
LOCAL_SUFFIXES = (".json", ".jsonl", ".csv", ".parquet", ".arrow", ".txt")
# `datasets` builder names: `path: json` with `data_files:` is written for `load_dataset` and
# read here as local files, as before (epochlint does not claim Axolotl's hub lookup fails).
BUILDERS = frozenset({"json", "csv", "parquet", "arrow", "text"})


class AxolotlConfig(TrainingConfig):
    max_steps_caps_estimate = True
    refuses_contradictions = True  # check_evals, check_saves, check_warmup raise
    epoch_strategies = False  # early stopping needs integer eval_steps and save_steps
    string_numbers = frozenset({"learning_rate"})  # convert_learning_rate: float(str)
    rows_source = "datasets"
    ranking_known = False
    batch_fields_required = True
    absent = frozenset(
        {"stage", "finetuning_type", "quantization_bit", "do_train", "do_eval", "do_predict",
         "predict_with_generate", "dataset_dir", "max_samples", "mix_strategy",
         "interleave_probs", "pure_bf16", "logging_strategy", "neat_packing", "pissa_init",
         "loraplus_lr_ratio"}
    )  # fmt: skip

    lax_types = True  # pydantic's lax mode: see lax.py

    def __init__(self, document: Document, dialect: Dialect) -> None:
        super().__init__(document, dialect)
        # The rules ask for the same fields about 150 times a file, and each answer ran the
        # lax coercion again (a sixth of a check); the file does not change during a check.
        self._values: dict[str, Any] = {}

    def lax_value(self, key: str, value: Any) -> tuple[bool, Any]:
        spec = self.dialect.properties.get(key)
        if spec is None:
            return True, value  # a key Axolotl drops: EL101's
        accepted = coerce(value, spec)
        return (False, refusal(value, spec)) if accepted is None else (True, accepted.value)

    def value(self, canonical: str) -> Any:
        """A value as Axolotl's pydantic model holds it: `"2"` for an int is 2, `1` for a bool
        is true (a value it refuses is returned as written; EL102 reports it)."""
        if canonical not in self._values:
            self._values[canonical] = self._pydantic_value(canonical)
        return self._values[canonical]

    def _pydantic_value(self, canonical: str) -> Any:
        found = self.entry(canonical)
        if found is None:
            return super().value(canonical)
        accepted, value = self.lax_value(found.key, found.value)
        if not accepted or (is_number(found.value) and value == found.value):
            return found.value  # refused, or the same number (3 is 3.0 for a float field)
        return value

    def given(self, canonical: str) -> bool:
        """Set, as Axolotl's validators see the file: `data.get(key)` is truthy."""
        found = self.entry(canonical)
        return found is not None and bool(found.value)

    def refusals(self) -> Iterator[Refusal]:
        from epochlint.dialects.axolotl.validators import refusals

        entries = self.document.entries
        for key in self.dialect.schema.get("x-epochlint-required", ()):
            if key not in entries:  # pydantic: no default to fill in
                yield Refusal("AxolotlInputConfig", key, f"{key}: Field required")
        yield from refusals({key: entry.value for key, entry in entries.items()})

    @property
    def method(self) -> str:
        adapter = self.text("adapter")
        if adapter == "qlora" or (adapter == "lora" and self.flag("load_in_4bit")):
            return "qlora"
        if adapter in ("lora", "llama-adapter"):
            return "lora"
        return "full" if adapter is None else adapter

    @property
    def stage(self) -> str:
        rl = self.text("rl")
        if rl is not None:
            return RL_STAGES.get(rl, "ppo")  # grpo and other on-policy methods: as ppo
        if self.flag("reward_model") or self.flag("process_reward_model"):
            return "rm"
        return "sft"

    @property
    def quantized(self) -> bool:
        return self.flag("load_in_4bit") or self.flag("load_in_8bit") or self.flag("gptq")

    def derived(self, canonical: str) -> tuple[bool, Any]:
        if canonical == "do_train":
            return True, True  # an Axolotl config always trains
        if canonical == "logging_strategy":
            return True, "steps"
        if canonical == "gradient_accumulation_steps":
            return True, self._accumulation()
        if canonical == "eval_strategy":
            return True, self._eval_strategy()
        if canonical == "eval_steps":
            return True, self._per_epoch_fraction("evals_per_epoch")
        if canonical == "save_strategy":
            if self.has("save_steps") or self._per_epoch_fraction("saves_per_epoch"):
                return True, "steps"
            return True, "epoch"  # the builder's fallback
        if canonical == "save_steps":
            return True, self._per_epoch_fraction("saves_per_epoch")
        return False, None

    def _accumulation(self) -> int | None:
        """normalize_config: gas = batch_size // micro_batch_size when only batch_size is set."""
        batch = self.number("batch_size")
        micro = self.number("per_device_train_batch_size")
        if batch and micro:
            return max(int(batch) // int(micro), 1)
        return 1

    def _per_epoch_fraction(self, key: str) -> float | None:
        """evals_per_epoch / saves_per_epoch as the fraction of all steps Axolotl sets."""
        per_epoch = self.number(key)
        epochs = self.number("num_train_epochs")
        if not per_epoch or not epochs:
            return None
        if key == "evals_per_epoch" and not self.has_eval_data():
            return None  # converted only when there is evaluation data
        fraction = 1 / (per_epoch * epochs)
        return fraction if fraction < 1 else None  # 1.0 or more: nothing is set

    def _eval_strategy(self) -> str:
        """_configure_save_and_eval_strategy: evaluation only with data and a cadence."""
        if not self.has_eval_data():
            return "no"
        if self.has("eval_steps") or self._per_epoch_fraction("evals_per_epoch"):
            return "steps"
        return "no"  # HF's default: Axolotl sets nothing

    def has_eval_data(self) -> bool:
        val_size = self.number("val_size") or 0.0
        return val_size > 0 or bool(self.value("eval_dataset"))

    def names(self, canonical: str) -> list[str]:
        value = self.value(canonical)
        if canonical in ("dataset", "eval_dataset") and isinstance(value, list):
            return [
                str(item.get("path", "")) if isinstance(item, dict) else str(item) for item in value
            ]
        return super().names(canonical)

    def packs_rows(self) -> bool:
        return self.flag("packing")

    def own_schedule(self, train_rows: int | None, world_size: int) -> OwnSchedule:
        effective, total = axolotl_steps(self, train_rows, world_size)
        return OwnSchedule(
            effective, total, axolotl_warmup(self, total), axolotl_logging(self, total)
        )

    def resolve_datasets(self, root: str) -> Resolution | None:
        value = self.value("dataset")
        if not isinstance(value, list) or not value:
            return None
        rows: list[DatasetRows] = []
        problems: list[DatasetProblem] = []
        for item in value:
            rows.append(_dataset_rows(item, root, problems))
        counts = [item.rows for item in rows]
        total = sum(c for c in counts if c is not None) if None not in counts else None
        return Resolution(total, tuple(rows), None, (), tuple(problems))


def _dataset_rows(item: Any, root: str, problems: list[DatasetProblem]) -> DatasetRows:
    """One `datasets:` entry, found as Axolotl's `load_dataset_with_config` finds it: a `path`
    that exists on disk is local (a file, or a folder whose `data_files` are read); any other
    `path` names a hub repository (its `data_files` are files in that repository) or a cloud
    location, unless it is plainly a local file name that is missing."""
    if not isinstance(item, dict):
        problems.append(
            DatasetProblem(
                "EL503",
                f"a `datasets` entry must be a mapping with `path`, not {item!r}",
                None,
                None,
            )
        )
        return DatasetRows(str(item), None, None, "unknown", None, False)
    name = str(item.get("path", ""))
    files = item.get("data_files")
    listed = [files] if isinstance(files, str) else [str(file) for file in files or []]
    local = pure(os.path.join(root, name))
    if os.path.isfile(local):
        return _local_rows(name, [local], problems)
    if (os.path.isdir(local) or name in BUILDERS) and listed:
        return _local_rows(name, [pure(os.path.join(root, file)) for file in listed], problems)
    if os.path.isdir(local):
        problems.append(
            DatasetProblem(
                "EL501",
                f"dataset `{name}` is a folder (a saved or script dataset) whose rows epochlint "
                "does not count; pass --dataset-size N or add a '# epochlint: dataset-size=N' "
                "comment",
                name,
                None,
            )
        )
        return DatasetRows(name, None, None, "unknown", local, False)
    if name.endswith(LOCAL_SUFFIXES) or name.startswith(("/", "./", "../")):
        problems.append(DatasetProblem("EL503", f"dataset `{name}`: {local} not found", name, None))
        return DatasetRows(name, None, None, "file", local, False)
    problems.append(
        DatasetProblem(
            "EL501",
            f"dataset `{name}` is not a local file, so it comes from a hub and its size is "
            "unknown; pass --dataset-size N or add a '# epochlint: dataset-size=N' comment",
            name,
            None,
        )
    )
    return DatasetRows(name, None, None, "hub", None, False)


def _local_rows(name: str, paths: list[str], problems: list[DatasetProblem]) -> DatasetRows:
    missing = [path for path in paths if not os.path.exists(path)]
    if missing:
        problems.append(
            DatasetProblem("EL503", f"dataset `{name}`: {missing[0]} not found", name, None)
        )
        return DatasetRows(name, None, None, "file", missing[0], False)
    try:
        stored = sum(count_rows(path) for path in paths)
    except RowCountError as error:
        problems.append(DatasetProblem("EL503", f"dataset `{name}`: {error}", name, None))
        return DatasetRows(name, None, None, "file", paths[0], False)
    return DatasetRows(name, stored, stored, "file", paths[0], False)


def axolotl_steps(
    config: TrainingConfig, train_rows: int | None, world_size: int
) -> tuple[int | None, int | None]:
    """(global batch, Axolotl's total steps): ceil(rows * epochs / batch), capped by max_steps."""
    micro = config.number("per_device_train_batch_size")
    accumulation = config.number("gradient_accumulation_steps")
    batch = config.number("batch_size")
    per_device = batch if batch and not config.has("gradient_accumulation_steps") else None
    if per_device is None and micro and accumulation:
        per_device = micro * accumulation
    if not per_device:
        return None, None
    global_batch = int(per_device) * world_size
    epochs = config.number("num_train_epochs")
    estimate = None
    if config.packs_rows():
        estimate = _packed_steps(config, global_batch, epochs)
    elif train_rows is not None and epochs:
        estimate = math.ceil(train_rows * epochs / global_batch)
    max_steps = config.number("max_steps")
    if max_steps and max_steps > 0:
        return global_batch, int(max_steps) if estimate is None else min(estimate, int(max_steps))
    return global_batch, estimate


def _packed_steps(config: TrainingConfig, global_batch: int, epochs: float | None) -> int | None:
    """calculate_total_num_steps with sample packing and a known packing efficiency:
    int(floor(0.99 * tokens / efficiency / sequence_len // batch) - 1) * num_epochs.

    Axolotl logs `total_num_tokens` and `sample_packing_eff_est` after preprocessing; without
    them the step count depends on token counts epochlint cannot know.
    """
    tokens = config.number("total_num_tokens")
    efficiency = config.number("sample_packing_eff_est")
    length = config.number("cutoff_len")
    if not (tokens and efficiency and length and epochs):
        return None
    sequences = math.floor(0.99 * tokens / efficiency / length // global_batch) - 1
    return max(int(sequences * epochs), 0)


def axolotl_warmup(config: TrainingConfig, total: int | None) -> int | None:
    """The builder: warmup_steps, else int(ratio * total), else min(int(0.03 * total), 100)."""
    steps = config.number("warmup_steps")
    if steps is not None:
        return int(steps)
    if total is None:
        return None
    ratio = config.number("warmup_ratio")
    warmup = int(ratio * total) if ratio is not None else min(int(0.03 * total), 100)
    return 2 if warmup == 1 else warmup


def axolotl_logging(config: TrainingConfig, total: int | None) -> int | None:
    """logging_steps, else max(min(int(0.005 * total), 10), 1)."""
    steps = config.number("logging_steps")
    if steps is not None:
        return int(steps)
    return max(min(int(0.005 * total), 10), 1) if total is not None else None


@cache
def dialect() -> Dialect:
    return Dialect(
        "axolotl",
        "Axolotl",
        "pyyaml",
        load_schema("axolotl"),
        KEYS,
        AxolotlConfig,
        placement=PLACEMENT,
        key_aliases_file="key_aliases_axolotl.json",
        unknown_key_effect="Axolotl drops keys it does not know without a word, so it does nothing",
        plugins_key="plugins",
        deprecations_by="Axolotl",
    )
