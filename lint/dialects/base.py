"""The dialect plug-in interface and the canonical training config.

A dialect plug-in (`lint/dialects/<name>/`) builds one `Dialect`: its key schema, how its files
spell the canonical fields, how its trainer reads YAML and treats unknown keys, and where the
fixer places a new key. Its `TrainingConfig` subclass says what a config means.

The canonical training config: what a config means, whatever its dialect calls the keys.

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

from epochlint.diagnostic import Edit
from epochlint.reading.document import Document, Entry, Span
from epochlint.records import field, record

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, Literal

    from epochlint.diagnostic import Severity
    from epochlint.facts.dataset import Resolution
    from epochlint.facts.schedule import Plan
    from epochlint.reading.directives import Directive
    from epochlint.settings import Settings


@record(frozen=True)
class Refusal:
    """A config the trainer's validation refuses: the check, the key, the trainer's words."""

    validator: str
    key: str
    message: str
    severity: Severity | None = None  # None: an error; a warning when it rests on an assumption


@record(frozen=True)
class Placement:
    """Where the fixer puts a key a file does not have yet."""

    # canonical field -> the fields it goes after, in order of preference
    neighbours: dict[str, tuple[str, ...]]
    # `### section` blocks of a config -> the keys that belong there
    sections: dict[str, frozenset[str]]
    # key prefixes -> their section, for keys the table above does not list
    section_prefixes: tuple[tuple[str, str], ...] = ()

    def section_of(self, key: str) -> str | None:
        """The `### section` block a key belongs in, if any."""
        for section, keys in self.sections.items():
            if key in keys:
                return section
        for prefix, section in self.section_prefixes:
            if key.startswith(prefix):
                return section
        return None


NO_PLACEMENT = Placement({}, {})


@record(frozen=True, eq=False)  # compared and hashed by identity: one object per dialect
class Dialect:
    name: str
    title: str  # as people write it: "LLaMA-Factory"
    loader: str  # how the trainer reads YAML: "omegaconf" or "pyyaml"
    schema: dict[str, Any]  # JSON Schema of the dialect's keys (with x-epochlint-* tables)
    keys: dict[str, str] = field(default_factory=dict)  # canonical field -> this dialect's key
    # How the dialect's meaning differs from LLaMA-Factory's (method, evaluation, schedule).
    config_class: type[TrainingConfig] | None = None
    placement: Placement = NO_PLACEMENT
    # rules/<file>: keys people write that the dialect does not know, and what they meant
    key_aliases_file: str = "key_aliases.json"
    # What the trainer does with a key it does not know; None: it aborts (the rule says how).
    unknown_key_effect: str | None = None
    # Whether an unknown key may be a field of the user's own script (HfArgumentParser).
    script_defines_keys: bool = False
    # A key whose plug-ins may define keys the schema does not list (Axolotl's `plugins:`).
    plugins_key: str | None = None
    # Renaming a misspelled key: "safe" when the trainer refuses the unknown key (the rename
    # only makes it run), "suggested" when it ignored the key (the rename changes the run).
    rename_safety: Literal["safe", "suggested"] = "suggested"
    # Who deprecates and removes keys: the dialect's trainer, or transformers.
    deprecations_by: str = "transformers"

    @property
    def neighbours(self) -> dict[str, tuple[str, ...]]:
        """Canonical field -> the fields a new key of it goes after (the fixer's placement)."""
        return self.placement.neighbours

    @property
    def sections(self) -> dict[str, frozenset[str]]:
        """`### section` -> its keys (the fixer's placement); see also `section_of`."""
        return self.placement.sections

    def section_of(self, key: str) -> str | None:
        return self.placement.section_of(key)

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

    def keys_spelled_like(self, name: str, most: int) -> tuple[str, ...]:
        """Up to `most` of the dialect's keys spelled like `name` (difflib's ratio >= 0.8),
        closest first: what a misspelled key most likely meant."""
        return _keys_spelled_like(self, name, most)


@cache  # asked for every key by several rules, for every file
def _types(dialect: Dialect, key: str) -> frozenset[str]:
    kinds = dialect.properties.get(key, {}).get("type", [])
    return frozenset({kinds} if isinstance(kinds, str) else kinds)


@cache  # a folder of configs repeats the same unknown keys, and each lookup scans every key
def _keys_spelled_like(dialect: Dialect, name: str, most: int) -> tuple[str, ...]:
    from epochlint.spelling import close_matches  # only for a name that is unknown

    return tuple(close_matches(name, dialect.properties, n=most, cutoff=0.8))


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The key schema shipped beside a dialect plug-in (`dialects/<name>/schema.json`)."""
    # open() next to this module: importlib.resources costs about 5 ms to import.
    path = os.path.join(os.path.dirname(__file__), name, "schema.json")
    with open(path, encoding="utf-8") as stream:
        schema: dict[str, Any] = json.load(stream)
    return schema


@record(frozen=True)
class OwnSchedule:
    """A trainer's own step count, when it does not leave it to transformers' Trainer."""

    effective_batch: int | None
    total_steps: int | None
    warmup_steps: int | None
    logging_steps: int | None
    # One process's dataloader batches per epoch when the trainer's own sampler decides them
    # (TRL's GRPO repeats each prompt) and Trainer counts the steps from them: then
    # total_steps is None and facts/schedule.py does the rest.
    batches_per_epoch: int | None = None


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class TrainingConfig:
    """A config's meaning; each dialect's subclass overrides the hooks that differ."""

    # Whether max_steps caps the trainer's own step estimate (Axolotl runs
    # min(estimate, max_steps)) instead of replacing the epochs (transformers' Trainer).
    max_steps_caps_estimate = False
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
    rows_source = "--dataset-size"
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

    def given(self, canonical: str) -> bool:
        """Whether the trainer's own checks count the field as set (Axolotl's validators test
        truthiness, so there a null, 0 or false is unset)."""
        return self.has(canonical)

    # Whether the trainer converts values in pydantic's lax mode ("3" for an int: Axolotl).
    lax_types = False

    def lax_value(self, key: str, value: Any) -> tuple[bool, Any]:
        """With `lax_types`: (True, what the value becomes) when the trainer takes it for the
        key, (False, the trainer's message) when it refuses it."""
        return True, value

    def refusals(self) -> Iterator[Refusal]:
        """Settings or combinations the trainer's own config validation refuses that no
        dedicated rule reports (EL105)."""
        return iter(())

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
        """lora, qlora, oft, freeze or full."""
        return "full"

    @property
    def stage(self) -> str:
        return "sft"

    @property
    def quantized(self) -> bool:
        """The base model is loaded quantized (QLoRA, or quantization with another method)."""
        return False

    def resolve_datasets(self, root: str) -> Resolution | None:
        """The training rows the config's datasets hold, as the trainer loads them."""
        return None

    def own_choices(self, key: str) -> list[Any] | None:
        """The values the trainer reading this config allows for `key` where the dialect's
        schema lists none, because its trainers differ (TRL's `loss_type`)."""
        return None

    def stated_world_size(self) -> tuple[int, str] | None:
        """The data-parallel process count the file itself launches with, and the key that
        says it (TRL's `num_processes`); None when the file does not decide it."""
        return None

    def packs_rows(self) -> bool:
        """Packing turns documents into fixed-length token blocks."""
        return False

    def evaluation_enabled(self) -> bool:
        strategy = self.value("eval_strategy")
        return isinstance(strategy, str) and strategy != "no"

    def has_eval_data(self) -> bool:
        return False

    @property
    def title(self) -> str:
        """What the report calls the config: the dialect, and what the plug-in assumed."""
        return self.dialect.title

    def settle(self, settings: Settings, directives: list[Directive]) -> None:
        """Take what the configuration file and the file's directives state about the
        config (TRL: which trainer reads it); called once, before any fact is computed."""

    def knows_key(self, key: str) -> bool:
        """Whether the trainer reading this config has the key."""
        return key in self.dialect.properties

    def unknown_key_effect(self, key: str) -> tuple[str | None, Severity | None]:
        """What the trainer does with a key it does not know (None: it aborts, the rule says
        how), and the severity that deserves (None: the rule decides)."""
        return self.dialect.unknown_key_effect, None

    def deprecated_keys(self) -> dict[str, dict[str, Any]]:
        """Renamed and removed keys (the schema's x-epochlint-deprecated): `package` says whose
        version `deprecated_in`/`removed_in` count in (default transformers)."""
        table: dict[str, dict[str, Any]] = self.dialect.schema.get("x-epochlint-deprecated", {})
        return table

    @property
    def assumption(self) -> str | None:
        """What the plug-in assumed about the config that the file does not say (TRL: the
        trainer), for the report."""
        return None

    def plan_notes(self, plan: Plan) -> list[tuple[str, str]]:
        """(label, text) lines `plan` shows for this config: what differs from Trainer's
        arithmetic (a "steps per epoch" note replaces Trainer's formula)."""
        return []

    def own_schedule(self, train_rows: int | None, world_size: int) -> OwnSchedule | None:
        """The trainer's own step count; None when transformers' Trainer counts the steps
        (facts/schedule.py)."""
        return None
