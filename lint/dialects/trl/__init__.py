"""The TRL dialect: `trl <command> --config x.yaml`, and the recipe scripts built on TrlParser.

TRL reads the YAML with `yaml.safe_load` into the script arguments, the trainer's config (a
TrainingArguments subclass with TRL's own defaults), ModelConfig and DatasetMixtureConfig. A
top-level value for a `float` field may be a string (`1e-4`): argparse converts it. Which keys
are valid depends on the trainer (sft, dpo, grpo, ...), which the file does not name: the keys
tell, or `trl-trainer` (configuration file or `# epochlint: trl-trainer=...`) says. What happens
to a key TRL does not know depends on the entry point (`trl-entry`): `trl <command>` hands it
to `accelerate launch`, which refuses it; recipe scripts (alignment-handbook, open-r1) declare
their own fields on top of TRL's.

GRPO and RLOO draw batches through TRL's RepeatSampler: their dataloader length is `steps.py`'s,
and Trainer counts the optimizer steps from it. Facts: README "TRL configs".
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache

from epochlint.diagnostic import Severity
from epochlint.dialects.base import (
    Dialect,
    OwnSchedule,
    Refusal,
    TrainingConfig,
    is_number,
    load_schema,
)
from epochlint.dialects.llamafactory import PLACEMENT
from epochlint.dialects.trl.steps import (
    DEFAULT_NUM_GENERATIONS,
    GENERATING_TRAINERS,
    GenerationBatch,
    TrlConfigError,
    generation_batch,
    generation_dataloader_length,
    kto_rows,
)
from epochlint.facts.dataset import DatasetProblem, DatasetRows, Resolution, world_size
from epochlint.facts.schedule import Plan
from epochlint.paths import pure
from epochlint.reading.directives import Directive
from epochlint.reading.document import Document
from epochlint.settings import Settings

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

# canonical field -> TRL's key
KEYS = {
    "cutoff_len": "max_length",
    "lora_rank": "lora_r",
    "lora_target": "lora_target_modules",
}
TRAINER_TITLES = {
    "sft": "SFT",
    "dpo": "DPO",
    "kto": "KTO",
    "reward": "reward",
    "grpo": "GRPO",
    "rloo": "RLOO",
    "orpo": "ORPO",
    "cpo": "CPO",
    "online_dpo": "online DPO",
    "gkd": "GKD",
    "ppo": "PPO",
}
# The guideline stage each trainer's run is (GUIDELINES §2): preference trainers share the
# preference table, reward models `rm`, and the on-policy trainers have none.
STAGES = {
    "sft": "sft",
    "gkd": "sft",
    "dpo": "dpo",
    "kto": "kto",
    "orpo": "orpo",
    "cpo": "dpo",
    "reward": "rm",
    "grpo": "grpo",
    "rloo": "rloo",
    "online_dpo": "online_dpo",
    "ppo": "ppo",
}
# When the keys fit several trainers, the one TRL's CLI and recipes use most is assumed.
PREFERENCE = ("sft", "dpo", "grpo", "kto", "reward", "rloo", "orpo", "cpo", "gkd", "online_dpo",
              "ppo")  # fmt: skip
# The keys a generation batch error is reported on (steps.generation_batch).
GENERATION_KEYS = ("generation_batch_size", "per_device_eval_batch_size", "num_generations")
# How the config is run (`trl-entry`): `trl <command>` (accelerate refuses an unknown key),
# TRL's own scripts (they ignore it) or a recipe repository's TrlParser script (it raises).
ENTRIES = ("cli", "script", "recipe")


class TrlConfig(TrainingConfig):
    rows_source = "dataset_name"
    ranking_known = False
    absent = frozenset(
        {"stage", "finetuning_type", "quantization_bit", "dataset", "eval_dataset",
         "dataset_dir", "max_samples", "val_size", "mix_strategy", "interleave_probs",
         "early_stopping_steps", "pure_bf16", "neat_packing", "streaming"}
    )  # fmt: skip

    def __init__(self, document: Document, dialect: Dialect) -> None:
        super().__init__(document, dialect)
        self.trainer, self.trainer_reason = infer_trainer(
            set(document.entries), dialect.schema, document.source.path
        )
        self.entry_point: str | None = None
        self.world_known = False  # whether the process count was given, not defaulted
        self.world_size = 1
        # Top-level float fields: argparse converts a string default with float().
        self.string_numbers = _float_fields(dialect)

    def settle(self, settings: Settings, directives: list[Directive]) -> None:
        """A `trl-trainer` / `trl-entry` directive wins over the configuration file."""
        if settings.trl_trainer is not None:
            self.trainer, self.trainer_reason = settings.trl_trainer, "from the configuration"
        if settings.trl_entry is not None:
            self.entry_point = settings.trl_entry
        for directive in directives:
            if directive.name == "trl-trainer" and directive.value in TRAINER_TITLES:
                self.trainer, self.trainer_reason = directive.value, "from the directive"
            elif directive.name == "trl-entry" and directive.value in ENTRIES:
                self.entry_point = directive.value
        self.world_size, source = world_size(settings, directives, self)
        self.world_known = source != "default"

    def own_choices(self, key: str) -> list[Any] | None:
        """The trainer's own choices (KTO's `loss_type`: kto, apo_zero_unpaired), from its
        config class. TrlParser never checks choices in a YAML config; the trainer's loss stops
        at the first training step on any other value (tests/test_crosscheck_trl.py)."""
        if "enum" in self.dialect.properties.get(key, {}):
            return None  # the same for every trainer: the schema's own enum
        own = self.dialect.schema["x-epochlint-trainers"][self.trainer]["keys"].get(key, {})
        choices: list[Any] | None = own.get("enum")
        return choices

    def stated_world_size(self) -> tuple[int, str] | None:
        """`num_processes: N`: `trl <command>` hands it to `accelerate launch` (TRL's clis.md,
        "accelerate arguments in the config"); the scripts and recipes never read it."""
        if self.entry_point not in (None, "cli"):
            return None
        entry = self.document.entries.get("num_processes")
        count = entry.value if entry is not None else None
        if isinstance(count, str) and count.strip().isdigit():
            count = int(count)  # `--num_processes 4` on accelerate's command line: an int
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            return count, "num_processes"
        return None

    @property
    def title(self) -> str:
        return f"TRL {TRAINER_TITLES[self.trainer]}"

    @property
    def assumption(self) -> str:
        return f"trainer `{self.trainer}` {self.trainer_reason}"

    def plan_notes(self, plan: Plan) -> list[tuple[str, str]]:
        return plan_notes(self, plan)

    @property
    def trainer_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.dialect.schema["x-epochlint-trainers"][self.trainer]
        return spec

    @property
    def method(self) -> str:
        if not self.flag("use_peft"):
            return "full"
        return "qlora" if self.quantized else "lora"

    @property
    def stage(self) -> str:
        return STAGES[self.trainer]

    @property
    def quantized(self) -> bool:
        return self.flag("load_in_4bit") or self.flag("load_in_8bit")

    def derived(self, canonical: str) -> tuple[bool, Any]:
        if canonical == "do_train":
            return True, True  # TRL's scripts call trainer.train() whatever do_train says
        if canonical == "bf16":
            return True, not self.flag("fp16")  # _BaseConfig: bf16 None becomes `not fp16`
        own = self.trainer_spec["keys"].get(self.key(canonical))
        if own is not None:
            return True, own.get("default")
        return False, None

    def has_eval_data(self) -> bool:
        return True  # the scripts evaluate on dataset_test_split, which a hub dataset may have

    def packs_rows(self) -> bool:
        return self.trainer in ("sft", "gkd") and self.flag("packing")

    def resolve_datasets(self, root: str) -> Resolution | None:
        return resolve_datasets(self, root)

    def own_schedule(self, train_rows: int | None, world_size: int) -> OwnSchedule | None:
        if self.trainer not in GENERATING_TRAINERS:
            return None
        return generation_schedule(self, train_rows, world_size)

    def knows_key(self, key: str) -> bool:
        """A key of the trainer's command: its config, its script arguments, ModelConfig,
        DatasetMixtureConfig and TrainingArguments; with `trl-entry: cli`, also an `accelerate
        launch` option, which `trl <command>` passes on; otherwise also the recipe
        repositories' own fields (alignment-handbook, open-r1)."""
        return key in _known_keys(self.dialect, self.trainer, self.entry_point)

    def unknown_key_effect(self, key: str) -> tuple[str | None, Severity | None]:
        other = [
            name
            for name, spec in self.dialect.schema["x-epochlint-trainers"].items()
            if key in spec["keys"]
        ]
        owner = f" (a {TRAINER_TITLES[other[0]]} field)" if other else ""
        if self.entry_point == "cli":
            effect = (
                f"`trl {self.trainer}` passes it to `accelerate launch`, which stops with "
                f"`Accelerate launch command: error: unrecognized arguments: --{key}`{owner}"
            )
            return effect, Severity.ERROR
        if self.entry_point == "recipe":
            effect = (
                f"the recipe's TrlParser stops with `ValueError: Unknown arguments from config "
                f"file: ['--{key}', ...]` unless the recipe's own dataclasses declare it{owner}"
            )
            return effect, Severity.ERROR
        if self.entry_point == "script":
            return f"TRL's {self.trainer} script ignores it{owner}", Severity.WARNING
        effect = (
            f"TRL's {TRAINER_TITLES[self.trainer]} scripts ignore it{owner}; `trl "
            f"{self.trainer}` stops in `accelerate launch` (`unrecognized arguments: --{key}`) "
            "and recipe scripts raise `Unknown arguments from config file`, unless the script's "
            "own dataclasses declare it"
        )
        return effect, Severity.WARNING

    def deprecated_keys(self) -> dict[str, dict[str, Any]]:
        return _deprecated_for(self.dialect, self.trainer)

    def refusals(self) -> Iterator[Refusal]:
        for key, message in refusals(self, self.world_size):
            validator = _validator(self, key)
            if key in GENERATION_KEYS and not self.world_known:
                depends = any(
                    not isinstance(self.generation(count), TrlConfigError) for count in range(1, 65)
                )
                if depends:  # only the default of one process makes it so
                    note = (
                        f"{message} That is with one process, epochlint's default: pass "
                        "--num-gpus N or add `# epochlint: num-gpus=N` if the run uses more"
                    )
                    yield Refusal(validator, key, note, Severity.WARNING)
                    continue
            yield Refusal(validator, key, message)

    def generation(self, world_size: int) -> GenerationBatch | TrlConfigError | None:
        """GRPO/RLOO: how generations are batched, or the error TRL raises building the
        config (TrlConfigError); None when the batch sizes are not plain numbers."""
        return _generation(self, world_size)


@cache
def _known_keys(dialect: Dialect, trainer: str, entry_point: str | None) -> frozenset[str]:
    schema = dialect.schema
    groups = schema["x-epochlint-groups"]
    spec = schema["x-epochlint-trainers"][trainer]
    config_fields = set(spec["keys"])
    known = (
        set(groups["TrainingArguments"])
        | set(groups["ModelConfig"])
        | set(groups["DatasetMixtureConfig"])
        | set(groups[spec["script_arguments"]])
        | config_fields
    )
    launch = schema["x-epochlint-accelerate-launch"]
    if entry_point == "cli":
        known |= set(launch["options"])
        known.add("accelerate_config")  # `trl <command>` turns it into --config_file
        return frozenset(known)
    for recipe in schema["x-epochlint-recipe-fields"].values():
        known |= set(recipe["keys"])
    if entry_point is None:
        # An accelerate option that takes a value (`num_processes: 4`) says the file is run by
        # `trl <command>`, the one entry point that reads it. A flag that takes none stays
        # unknown: written with a value it breaks that launch (see _launch_refusals).
        known |= set(launch["options"]) - set(launch["flags_without_value"])
        known.add("accelerate_config")
    return frozenset(known)


@cache
def _deprecated_for(dialect: Dialect, trainer: str) -> dict[str, dict[str, Any]]:
    """The schema's renamed and removed keys that concern this trainer, one entry a key."""
    table: dict[str, dict[str, Any]] = {}
    for key, entries in dialect.schema["x-epochlint-deprecated"].items():
        for entry in entries:
            if entry["trainers"] is None or trainer in entry["trainers"]:
                table[key] = entry
                break
    for key, limit in dialect.schema["x-epochlint-version-limits"].items():
        if key not in table and "removed_in" in limit:
            removed = limit["removed_in"]  # no deprecation before it is known: none reported
            table[key] = {
                "package": "transformers",
                "removed_in": removed,
                "deprecated_in": removed,
            }
    return table


@cache
def _float_fields(dialect: Dialect) -> frozenset[str]:
    return frozenset(
        key
        for key, spec in dialect.properties.items()
        if spec.get("type") == "number"
        or (isinstance(spec.get("type"), list) and set(spec["type"]) <= {"number", "null"})
    )


def _positive(config: TrlConfig, key: str) -> int | None:
    value = config.number(key)
    if value is None or value < 1 or not float(value).is_integer():
        return None
    return int(value)


def _generation(config: TrlConfig, world_size: int) -> GenerationBatch | TrlConfigError | None:
    batch = _positive(config, "per_device_train_batch_size")
    accumulation = _positive(config, "gradient_accumulation_steps")
    generations = config.value("num_generations")
    if generations is None:
        generations = DEFAULT_NUM_GENERATIONS[config.trainer]
    if batch is None or accumulation is None or not is_number(generations):
        return None
    optional = {}
    for key in ("steps_per_generation", "generation_batch_size"):
        value = config.value(key)
        if value is not None and not is_number(value):
            return None
        optional[key] = int(value) if value is not None else None
    eval_batch = None
    if config.evaluation_enabled():
        eval_batch = _positive(config, "per_device_eval_batch_size")
    eval_generations = config.value("num_generations_eval")
    try:
        return generation_batch(
            config.trainer,
            batch,
            world_size,
            accumulation,
            int(generations),
            eval_batch=eval_batch,
            num_generations_eval=int(eval_generations) if is_number(eval_generations) else None,
            **optional,
        )
    except TrlConfigError as error:
        return error


def generation_schedule(
    config: TrlConfig, train_rows: int | None, world_size: int
) -> OwnSchedule | None:
    """GRPO/RLOO: RepeatSampler's dataloader length; Trainer counts the steps from it."""
    batch = config.generation(world_size)
    if batch is None or isinstance(batch, TrlConfigError) or train_rows is None:
        return None
    iterations = _positive(config, "num_iterations") or 1
    length = generation_dataloader_length(train_rows, batch, iterations)
    if not length:
        return None  # fewer prompts than one generation: Trainer needs max_steps (EL105)
    per_device = _positive(config, "per_device_train_batch_size") or 1
    accumulation = _positive(config, "gradient_accumulation_steps") or 1
    return OwnSchedule(per_device * world_size * accumulation, None, None, None, length)


def plan_notes(config: TrlConfig, plan: Plan) -> list[tuple[str, str]]:
    """GRPO/RLOO: how RepeatSampler turns prompts into optimizer steps."""
    if config.trainer not in GENERATING_TRAINERS or plan.batches_per_epoch is None:
        return []
    batch = config.generation(plan.world_size)
    if batch is None or isinstance(batch, TrlConfigError):
        return []
    iterations = _positive(config, "num_iterations") or 1
    accumulation = plan.gradient_accumulation or 1
    prompts = plan.dataset_rows
    if prompts is None:
        return []
    chunks = prompts // batch.prompts_per_generation
    dropped = prompts - chunks * batch.prompts_per_generation
    return [
        (
            "generation",
            f"{batch.generation_batch_size} completions = {batch.prompts_per_generation} prompts "
            f"x {batch.num_generations} generations, every {batch.steps_per_generation} "
            f"micro-steps x {iterations} iterations",
        ),
        (
            "steps per epoch",
            f"{plan.steps_per_epoch:,} = ceil({plan.batches_per_epoch:,} batches / "
            f"{accumulation}); batches = floor({prompts:,} prompts / "
            f"{batch.prompts_per_generation}) x {iterations} x {batch.steps_per_generation}, "
            f"the last "
            f"{dropped} prompts dropped (TRL's RepeatSampler)",
        ),
    ]


def infer_trainer(keys: set[str], schema: dict[str, Any], path: str | None) -> tuple[str, str]:
    """(trainer, why): the trainers whose config declares every trainer-specific key of the
    file; among several, the one the path names (recipes live in `.../dpo/config.yaml`), else
    the most used."""
    trainers = schema["x-epochlint-trainers"]
    inherited = set(schema["x-epochlint-groups"]["TrainingArguments"])
    shared = {key for group in ("ScriptArguments", "ModelConfig", "DatasetMixtureConfig")
              for key in schema["x-epochlint-groups"][group]}  # fmt: skip
    declared = {
        name: (set(spec["keys"]) - inherited)
        | set(schema["x-epochlint-groups"][spec["script_arguments"]])
        for name, spec in trainers.items()
    }
    for key, entries in schema["x-epochlint-deprecated"].items():
        for entry in entries:
            for name in entry.get("trainers") or ():
                declared[name].add(key)
    specific = {
        key for key in keys - shared - inherited if any(key in d for d in declared.values())
    }
    candidates = [name for name in PREFERENCE if specific <= declared[name]]
    named = _path_trainer(path)
    removed = set(schema["x-epochlint-deprecated"])
    if named is not None and specific - declared[named] <= removed:
        return named, "from the path"
    if not candidates:
        best = max(PREFERENCE, key=lambda name: len(specific & declared[name]))
        return best, "assumed from the keys (no trainer declares all of them)"
    chosen = candidates[0]
    if not specific:
        return chosen, "assumed: no key is specific to a trainer"
    # the keys fewest trainers declare say the most
    shown = sorted(specific, key=lambda key: (sum(key in d for d in declared.values()), key))[:2]
    why = "from " + " and ".join(f"`{key}`" for key in shown)
    # experimental trainers (no `trl` command) are named only when the choice is one of them
    others = [name for name in candidates[1:] if trainers[name]["command"] or name == chosen]
    if others:
        fits = ", ".join(TRAINER_TITLES[name] for name in others[:3])
        why = f"assumed {why} (the keys also fit {fits})"
    return chosen, why


def _path_trainer(path: str | None) -> str | None:
    if not path:
        return None
    *folders, file_name = pure(path).lower().split("/")
    dot = file_name.rfind(".")
    stem = file_name[:dot] if 0 < dot < len(file_name) - 1 else file_name  # pathlib's stem
    for part in reversed(folders):
        if part in TRAINER_TITLES:
            return part
    for name in TRAINER_TITLES:
        if stem.startswith(name + "_") or stem.endswith("_" + name) or stem == name:
            return name
    return None


LOCAL_SUFFIXES = (".json", ".jsonl", ".csv", ".parquet", ".arrow", ".txt")


def resolve_datasets(config: TrlConfig, root: str) -> Resolution | None:
    """Local data is counted: `dataset_name` naming a file or folder, TRL's `datasets:`
    mixture of local paths, the recipes' `dataset_mixture` of local ids; the hub is unknown."""
    from epochlint.facts.rowcount import RowCountError, count_rows

    items: list[tuple[str, Any]] = []
    mixture = config.value("datasets")
    recipe_mixture = config.value("dataset_mixture")
    if isinstance(mixture, list) and mixture:
        items = [(str(i.get("path")) if isinstance(i, dict) else str(i), i) for i in mixture]
    elif isinstance(recipe_mixture, dict) and isinstance(recipe_mixture.get("datasets"), list):
        items = [
            (str(i.get("id")) if isinstance(i, dict) else str(i), i)
            for i in recipe_mixture["datasets"]
        ]
    elif isinstance(config.value("dataset_name"), str):
        items = [(config.value("dataset_name"), None)]
    if not items:
        return None
    rows: list[DatasetRows] = []
    problems: list[DatasetProblem] = []
    for name, item in items:
        path = pure(os.path.join(root, name))
        weighted = isinstance(item, dict) and any(
            item.get(key) not in (None, 1, 1.0) for key in ("fraction", "weight")
        )
        if not os.path.exists(path):
            source = "file" if name.endswith(LOCAL_SUFFIXES) else "hub"
            message = (
                f"dataset `{name}`: {path} not found"
                if source == "file"
                else f"dataset `{name}` is not a local file or folder, so it comes from the "
                "Hugging Face hub and its size is unknown; pass --dataset-size N or add a "
                "'# epochlint: dataset-size=N' comment"
            )
            problems.append(
                DatasetProblem("EL503" if source == "file" else "EL501", message, name, None)
            )
            rows.append(DatasetRows(name, None, None, source, None, False))
            continue
        try:
            stored = count_rows(path)
        except RowCountError as error:
            problems.append(DatasetProblem("EL503", f"dataset `{name}`: {error}", name, None))
            rows.append(DatasetRows(name, None, None, "file", path, False))
            continue
        used = None if weighted else stored
        if used is not None and config.trainer == "kto":
            paired = _holds_pairs(path)
            if paired is None:
                problems.append(
                    DatasetProblem(
                        "EL501",
                        f"dataset `{name}`: KTO trains on two rows per chosen/rejected pair, and "
                        "epochlint reads the columns of .jsonl files only; pass --dataset-size N",
                        name,
                        None,
                    )
                )
            used = None if paired is None else kto_rows(used, paired)
        rows.append(DatasetRows(name, used, stored, "file", path, False))
    counts = [item.rows for item in rows]
    total = sum(c for c in counts if c is not None) if None not in counts else None
    hub = [problem for problem in problems if problem.code == "EL501"]
    if len(hub) > 1:  # one note for a mixture of hub datasets
        others = [problem for problem in problems if problem.code != "EL501"]
        message = (
            f"datasets `{hub[0].dataset}` and {len(hub) - 1} more are not local files or "
            "folders, so they come from the Hugging Face hub and their size is unknown; pass "
            "--dataset-size N or add a '# epochlint: dataset-size=N' comment"
        )
        problems = [*others, DatasetProblem("EL501", message, hub[0].dataset, None)]
    return Resolution(total, tuple(rows), None, (), tuple(problems))


def _holds_pairs(path: str) -> bool | None:
    """Whether a .jsonl file's first row is a chosen/rejected pair; None for other files."""
    import json

    if not path.endswith(".jsonl") or os.path.basename(path) == ".jsonl":
        return None
    try:
        with open(path, encoding="utf-8") as stream:
            first = json.loads(stream.readline())
    except (OSError, ValueError):
        return None
    return isinstance(first, dict) and "chosen" in first and "rejected" in first


def refusals(config: TrlConfig, world_size: int) -> Iterator[tuple[str, str]]:
    """(key, message) for what TRL refuses while building its config and loading the data,
    as far as the file decides it (README "TRL configs")."""
    trainer = config.trainer
    name = GENERATING_TRAINERS.get(trainer)
    if name is not None:
        if config.flag("auto_find_batch_size"):
            yield (
                "auto_find_batch_size",
                (
                    f"auto_find_batch_size is not supported by {name}, because the generation "
                    "batch must contain full prompt groups of num_generations completions, and "
                    "reducing the batch size on out-of-memory breaks this invariant. Set "
                    "auto_find_batch_size=False and lower per_device_train_batch_size instead."
                ),
            )
        batch = config.generation(world_size)
        if isinstance(batch, TrlConfigError):
            yield batch.key, str(batch)
        funcs = config.value("reward_funcs")
        if isinstance(funcs, str) and funcs:
            yield (
                "reward_funcs",
                (
                    f"`reward_funcs: {funcs}` is a string, not a list: TRL's {trainer} script "
                    f"loads each of its characters as a reward function and stops with `Could not "
                    f"load reward function '{funcs[0]}'`; write `reward_funcs: [{funcs}]`"
                ),
            )
    if trainer == "grpo":
        yield from _grpo_refusals(config)
    if config.flag("load_in_4bit") and config.flag("load_in_8bit"):
        yield "load_in_8bit", "You can't use 8 bit and 4 bit precision at the same time"
    if trainer == "dpo":
        weights, losses = config.value("loss_weights"), config.value("loss_type")
        losses = [losses] if isinstance(losses, str) else losses
        if isinstance(weights, list) and isinstance(losses, list) and len(weights) != len(losses):
            yield (
                "loss_weights",
                (
                    "`loss_weights` must have the same length as `loss_type` when combining "
                    f"multiple losses. Got {len(weights)} weights for {len(losses)} loss types."
                ),
            )
    if trainer == "kto" and config.value("loss_type") in (None, "kto"):
        batch_size = config.number("per_device_train_batch_size")
        if batch_size is not None and batch_size <= 1:
            yield (
                "per_device_train_batch_size",
                (
                    "Actual (not effective) batch size must be > 1. KTO will not work properly "
                    "because the KL term will be equivalent to the implied reward."
                ),
            )
    if config.packs_rows() and config.has("max_length") and config.value("max_length") is None:
        yield "max_length", "When packing is enabled, `max_length` can't be `None`."
    sources = ("dataset_name", "datasets", "dataset_mixture")
    if not any(config.value(key) for key in sources):
        yield "dataset_name", "Either `datasets` or `dataset_name` must be provided."
    max_steps = config.number("max_steps")
    for key in ("dataset_streaming", "streaming"):
        if config.flag(key) and (max_steps is None or max_steps <= 0):
            yield (
                key,
                (
                    f"`{key}: true` streams the data, which has no length: Trainer stops with "
                    "`args.max_steps must be set to a positive value if dataloader does not have a "
                    "length, was -1`"
                ),
            )
    if config.entry_point == "cli":
        yield from _launch_refusals(config)
    elif config.entry_point is None:
        # Only `trl <command>` reads it, so a file that sets it is run that way (_known_keys).
        yield from _accelerate_config_refusal(config)
    env = config.document.entries.get("env")
    if env is not None and not isinstance(env.value, dict):
        yield "env", "`env` field should be a dict in the YAML file."
    yield from _mixture_refusals(config)


def _grpo_refusals(config: TrlConfig) -> Iterator[tuple[str, str]]:
    if config.value("log_completions_hub_repo") is not None and not config.flag("log_completions"):
        yield (
            "log_completions_hub_repo",
            (
                "log_completions_hub_repo is set, but log_completions is False. Enable "
                "log_completions to upload completions to the Hub, or unset "
                "log_completions_hub_repo."
            ),
        )
    low = config.value("vllm_importance_sampling_clip_min")
    high = config.value("vllm_importance_sampling_clip_max")
    if is_number(low) and is_number(high) and low >= high:
        yield (
            "vllm_importance_sampling_clip_min",
            (
                f"vllm_importance_sampling_clip_min ({low}) must be less than "
                f"vllm_importance_sampling_clip_max ({high})."
            ),
        )
    truncating = config.value("vllm_importance_sampling_mode") in (
        "token_truncate",
        "sequence_truncate",
    )
    if (
        config.value("vllm_importance_sampling_correction") is True
        and truncating
        and low is None
        and high is None
        and config.value("vllm_importance_sampling_cap") is None
    ):
        yield (
            "vllm_importance_sampling_mode",
            (
                "At least one of `vllm_importance_sampling_clip_min` or "
                "`vllm_importance_sampling_clip_max` must be set when "
                "`vllm_importance_sampling_mode` is a `*_truncate` mode."
            ),
        )


# `accelerate_config:` names TRL ships (trl/accelerate_configs); anything else is a file path.
ACCELERATE_CONFIGS = ("fsdp1", "fsdp2", "multi_gpu", "single_gpu", "zero1", "zero2", "zero3")


def _launch_refusals(config: TrlConfig) -> Iterator[tuple[str, str]]:
    """`trl <command>` turns the keys no dataclass has into `accelerate launch` arguments."""
    launch = config.dialect.schema["x-epochlint-accelerate-launch"]
    flags = set(launch["flags_without_value"])
    for key, entry in config.document.entries.items():
        # Not a field of any dataclass the scripts read (their keys, without accelerate's).
        if key in flags and key not in _known_keys(config.dialect, config.trainer, "script"):
            yield (
                key,
                (
                    f"`{key}` is a flag of `accelerate launch`, which takes no value: `trl "
                    f"{config.trainer}` passes `--{key} {entry.value}`, and accelerate takes "
                    f"`{entry.value}` for the training script; pass `--{key}` to `accelerate "
                    "launch` yourself, or set it in an accelerate config"
                ),
            )
    yield from _accelerate_config_refusal(config)


def _accelerate_config_refusal(config: TrlConfig) -> Iterator[tuple[str, str]]:
    """`accelerate_config:` names a config TRL ships, or a file."""
    name = config.value("accelerate_config")
    if isinstance(name, str) and name not in ACCELERATE_CONFIGS and not os.path.isfile(name):
        yield (
            "accelerate_config",
            (
                f"Accelerate config {name} is neither a file nor a valid config in the `trl` "
                "package. Please provide a valid config name or a path to a config file."
            ),
        )


def _validator(config: TrlConfig, key: str) -> str:
    """Which part of TRL (or the launch) refuses a setting, as the finding names it."""
    trainer = config.trainer
    config_class = config.trainer_spec["config"]
    by_key = {
        "load_in_8bit": "ModelConfig",
        "per_device_train_batch_size": "KTOTrainer",
        "max_length": "SFTTrainer",
        "dataset_streaming": "Trainer",
        "streaming": "Trainer",
        "env": "TrlParser",
        "datasets": "DatasetMixtureConfig",
        "dataset_mixture": "the recipe's ScriptArguments",
        "reward_funcs": f"trl/scripts/{trainer}.py",
        "dataset_name": f"trl/scripts/{trainer}.py",
        "accelerate_config": f"trl {trainer}",
    }
    if key in by_key:
        return by_key[key]
    if key in config.dialect.schema["x-epochlint-accelerate-launch"]["flags_without_value"]:
        return "accelerate launch"
    return str(config_class)


DATASET_ITEM_KEYS = ("path", "name", "data_dir", "data_files", "split", "columns", "fraction")


def _mixture_refusals(config: TrlConfig) -> Iterator[tuple[str, str]]:
    """TRL's `datasets:` items become DatasetConfig(**item); the recipes' `dataset_mixture`
    must hold a `datasets` list."""
    mixture = config.value("datasets")
    if isinstance(mixture, list):
        fractions = 0
        for item in mixture:
            if not isinstance(item, dict):
                continue
            unknown = [key for key in item if key not in DATASET_ITEM_KEYS]
            if unknown:
                yield (
                    "datasets",
                    (
                        "DatasetConfig.__init__() got an unexpected keyword argument "
                        f"'{unknown[0]}' (a `datasets` entry takes "
                        f"{', '.join(DATASET_ITEM_KEYS)})"
                    ),
                )
            elif "path" not in item:
                yield (
                    "datasets",
                    ("DatasetConfig.__init__() missing 1 required positional argument: 'path'"),
                )
            fractions += item.get("fraction") is not None
        if 0 < fractions < len(mixture):
            yield (
                "datasets",
                ("`fraction` must be set for either all datasets in the mixture or none of them."),
            )
    recipe = config.value("dataset_mixture")
    if recipe is not None and not config.has("datasets"):
        if not isinstance(recipe, dict) or "datasets" not in recipe:
            yield (
                "dataset_mixture",
                (
                    "dataset_mixture must be a dictionary with a 'datasets' key. Expected format: "
                    "{'datasets': [...], 'seed': int}"
                ),
            )
        elif not isinstance(recipe["datasets"], list):
            yield "dataset_mixture", "'datasets' must be a list of dataset configurations"


@cache
def dialect() -> Dialect:
    return Dialect(
        "trl",
        "TRL",
        "pyyaml",
        load_schema("trl"),
        KEYS,
        TrlConfig,
        placement=PLACEMENT,
        key_aliases_file="key_aliases.json",
        unknown_key_effect=(
            "`trl <command>` passes it to `accelerate launch`, which refuses it, and TrlParser "
            "in recipe scripts raises `Unknown arguments from config file`, unless the "
            "script's own dataclasses declare it"
        ),
        script_defines_keys=True,
        deprecations_by="TRL",
    )
