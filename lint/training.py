"""The canonical training config: what a config means, whatever its dialect calls the keys.

Canonical field names are Hugging Face / LLaMA-Factory argument names (`num_train_epochs`,
`per_device_train_batch_size`, ...). A dialect says how its own files spell each field and what
the trainer uses when a field is absent. Rules ask this object, never the raw mapping, so one
rule serves LLaMA-Factory, Axolotl and plain TrainingArguments configs alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from epochlint.diagnostic import Edit
from epochlint.document import Document, Entry, Span


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per dialect
class Dialect:
    name: str
    title: str  # as people write it: "LLaMA-Factory"
    loader: str  # how the trainer reads YAML: "omegaconf" or "pyyaml"
    schema: dict[str, Any]  # JSON Schema of the dialect's keys (with x-epochlint-* tables)
    keys: dict[str, str] = field(default_factory=dict)  # canonical field -> this dialect's key

    def key(self, canonical: str) -> str:
        return self.keys.get(canonical, canonical)

    @property
    def properties(self) -> dict[str, Any]:
        properties: dict[str, Any] = self.schema["properties"]
        return properties

    def default(self, canonical: str) -> Any:
        return self.properties.get(self.key(canonical), {}).get("default")

    def types(self, key: str) -> set[str]:
        """JSON types the key accepts; empty when unknown or unconstrained."""
        kinds = self.properties.get(key, {}).get("type", [])
        return {kinds} if isinstance(kinds, str) else set(kinds)


@cache
def llamafactory_schema() -> dict[str, Any]:
    text = resources.files("epochlint").joinpath("llamafactory.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def llamafactory() -> Dialect:
    return Dialect("llamafactory", "LLaMA-Factory", "omegaconf", llamafactory_schema())


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class TrainingConfig:
    def __init__(self, document: Document, dialect: Dialect) -> None:
        self.document = document
        self.dialect = dialect
        self._by_canonical = {
            canonical: document.entries[key]
            for canonical, key in dialect.keys.items()
            if key in document.entries
        }

    def entry(self, canonical: str) -> Entry | None:
        found = self._by_canonical.get(canonical)
        if found is None and canonical not in self.dialect.keys:
            found = self.document.entries.get(canonical)
        return found

    def has(self, canonical: str) -> bool:
        return self.entry(canonical) is not None

    def key(self, canonical: str) -> str:
        return self.dialect.key(canonical)

    def value(self, canonical: str) -> Any:
        found = self.entry(canonical)
        return found.value if found is not None else self.dialect.default(canonical)

    def number(self, canonical: str) -> float | None:
        """The value when it is a number (not a bool or a string); else None."""
        value = self.value(canonical)
        return float(value) if is_number(value) else None

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

    def evaluation_enabled(self) -> bool:
        strategy = self.value("eval_strategy")
        return isinstance(strategy, str) and strategy != "no"

    def has_eval_data(self) -> bool:
        val_size = self.number("val_size") or 0.0
        return val_size > 1e-6 or bool(self.names("eval_dataset"))
