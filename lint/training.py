"""The canonical training config: what a config means, whatever its dialect calls the keys.

Canonical field names are Hugging Face / LLaMA-Factory argument names (`num_train_epochs`,
`per_device_train_batch_size`, ...). A dialect says how its own files spell each field and what
the trainer uses when a field is absent. Rules ask this object, never the raw mapping, so one
rule serves LLaMA-Factory, Axolotl and plain TrainingArguments configs alike.
"""

from __future__ import annotations

import json
import math
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epochlint.diagnostic import Edit
from epochlint.document import Document, Entry, Span
from epochlint.records import field, record

if TYPE_CHECKING:
    from epochlint.datasets import Resolution


@record(frozen=True, eq=False)  # compared and hashed by identity: one object per dialect
class Dialect:
    name: str
    title: str  # as people write it: "LLaMA-Factory"
    loader: str  # how the trainer reads YAML: "omegaconf" or "pyyaml"
    schema: dict[str, Any]  # JSON Schema of the dialect's keys (with x-epochlint-* tables)
    keys: dict[str, str] = field(default_factory=dict)  # canonical field -> this dialect's key
    # How the dialect's meaning differs from LLaMA-Factory's (method, evaluation, schedule).
    config_class: type[TrainingConfig] | None = None

    def key(self, canonical: str) -> str:
        return self.keys.get(canonical, canonical)

    def canonical(self, key: str) -> str:
        """The canonical field a key of this dialect stands for."""
        for canonical, own in self.keys.items():
            if own == key:
                return canonical
        return key

    def make(self, document: Document) -> TrainingConfig:
        return (self.config_class or TrainingConfig)(document, self)

    @property
    def properties(self) -> dict[str, Any]:
        properties: dict[str, Any] = self.schema["properties"]
        return properties

    def default(self, canonical: str) -> Any:
        return self.properties.get(self.key(canonical), {}).get("default")

    def types(self, key: str) -> frozenset[str]:
        """JSON types the key accepts; empty when unknown or unconstrained."""
        return _types(self, key)


@cache  # asked for every key by several rules, for every file
def _types(dialect: Dialect, key: str) -> frozenset[str]:
    kinds = dialect.properties.get(key, {}).get("type", [])
    return frozenset({kinds} if isinstance(kinds, str) else kinds)


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A key schema shipped in the package (`<name>.schema.json`)."""
    # open() next to this module: importlib.resources costs about 5 ms to import.
    path = os.path.join(os.path.dirname(__file__), f"{name}.schema.json")
    with open(path, encoding="utf-8") as stream:
        schema: dict[str, Any] = json.load(stream)
    return schema


@cache
def llamafactory() -> Dialect:
    return Dialect("llamafactory", "LLaMA-Factory", "omegaconf", load_schema("llamafactory"))


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class TrainingConfig:
    """A config's meaning, with LLaMA-Factory's semantics; other dialects override the hooks."""

    # How the trainer turns epochs into optimizer steps: transformers' Trainer, or Axolotl's
    # own estimate, which it then forces on the Trainer as max_steps.
    schedule = "transformers"
    # Whether contradictory settings stop the run (Axolotl's validators: eval_steps under
    # eval_strategy: epoch, warmup_steps with warmup_ratio) or one of them is ignored.
    refuses_contradictions = False
    # Whether evaluation and saving can follow epochs, or only step counts (Axolotl's early
    # stopping needs integer eval_steps and save_steps).
    epoch_strategies = True

    def __init__(self, document: Document, dialect: Dialect) -> None:
        self.document = document
        self.dialect = dialect
        self._by_canonical = {
            canonical: document.entries[key]
            for canonical, key in dialect.keys.items()
            if key in document.entries
        }

    # Where resolved rows come from, as the report names it.
    rows_source = "dataset_info.json"
    # Whether dataset entries say if they hold preference pairs (dataset_info.json's ranking).
    ranking_known = True
    # Axolotl refuses a config with fewer than two of its three batch fields.
    batch_fields_required = False
    # Canonical fields this dialect has no key for: a same-named key in the file is not them.
    absent: frozenset[str] = frozenset()

    def entry(self, canonical: str) -> Entry | None:
        if canonical in self.absent:
            return None
        found = self._by_canonical.get(canonical)
        if found is None and canonical not in self.dialect.keys:
            found = self.document.entries.get(canonical)
        return found

    def derived(self, canonical: str) -> tuple[bool, Any]:
        """(True, value) when the trainer works the field out from other settings."""
        return False, None

    def has(self, canonical: str) -> bool:
        return self.entry(canonical) is not None

    def supports(self, canonical: str) -> bool:
        """Whether the dialect has a key for the field at all."""
        return canonical not in self.absent

    def key(self, canonical: str) -> str:
        return self.dialect.key(canonical)

    def value(self, canonical: str) -> Any:
        found = self.entry(canonical)
        if found is not None:
            return found.value
        known, value = self.derived(canonical)
        return value if known else self.dialect.default(canonical)

    # Fields the trainer converts from a string itself (Axolotl: learning_rate via float()).
    string_numbers: frozenset[str] = frozenset()

    def number(self, canonical: str) -> float | None:
        """The value when it is a finite float (not a bool, a string, .inf, .nan or an int past
        the largest float); else None.

        A non-finite value cannot be counted with; EL410 reports it.
        """
        value = self.value(canonical)
        if isinstance(value, str) and canonical in self.string_numbers:
            try:
                value = float(value)
            except ValueError:
                return None
        try:
            if not is_number(value) or not math.isfinite(value):
                return None
            return float(value)
        except OverflowError:  # an int past the largest float: EL410 reports it
            return None

    def flag(self, canonical: str) -> bool:
        return self.value(canonical) is True

    def text(self, canonical: str) -> str | None:
        value = self.value(canonical)
        return value if isinstance(value, str) else None

    def span(self, canonical: str) -> Span | None:
        found = self.entry(canonical)
        return found.value_span if found is not None else None

    def names(self, canonical: str) -> list[str]:
        """A comma-separated string or list of names (datasets, report_to) as a list."""
        value = self.value(canonical)
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            return [str(item).strip() for item in value]
        return []

    # Edits, in this config's own key names.
    def set(self, canonical: str, value: Any) -> Edit:
        return Edit("set", self.key(canonical), value, field=canonical)

    def remove(self, canonical: str) -> Edit:
        return Edit("remove", self.key(canonical), field=canonical)

    @property
    def method(self) -> str:
        """lora, qlora, oft, freeze or full; QLoRA is LoRA with `quantization_bit`."""
        finetuning = self.text("finetuning_type") or "lora"
        if finetuning == "lora" and self.value("quantization_bit") is not None:
            return "qlora"
        return finetuning

    @property
    def stage(self) -> str:
        return self.text("stage") or "sft"

    @property
    def quantized(self) -> bool:
        """The base model is loaded quantized (QLoRA, or quantization with another method)."""
        return self.value("quantization_bit") is not None

    def resolve_datasets(self, root: Path) -> Resolution | None:
        """The training rows the config's datasets hold, as LLaMA-Factory loads them."""
        if not self.names("dataset"):
            return None
        from epochlint.datasets import resolve

        max_samples = self.number("max_samples")
        return resolve(
            self.value("dataset"),
            self.value("eval_dataset"),
            dataset_dir=self.text("dataset_dir") or "data",
            root=root,
            max_samples=int(max_samples) if max_samples is not None else None,
            mix_strategy=self.text("mix_strategy") or "concat",
            interleave_probs=self.value("interleave_probs"),
            streaming=self.flag("streaming"),
        )

    def packs_rows(self) -> bool:
        """Packing (on by default for stage pt) turns documents into fixed-length token blocks."""
        packing = self.value("packing")
        if self.flag("neat_packing") or packing is True:
            return True
        return packing is None and self.stage == "pt"

    def evaluation_enabled(self) -> bool:
        strategy = self.value("eval_strategy")
        return isinstance(strategy, str) and strategy != "no"

    def has_eval_data(self) -> bool:
        val_size = self.number("val_size") or 0.0
        return val_size > 1e-6 or bool(self.names("eval_dataset"))
