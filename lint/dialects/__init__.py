"""The dialect registry, and which kind of config a file is, from its distinctive keys.

Every dialect is a plug-in under `lint/dialects/<name>/` with a `dialect()` function that builds
its `Dialect` (base.py). The registry lists them by name; a plug-in's module is imported only
when a file of that kind is checked. This package is the only place that knows a dialect by
name: everything else asks the `Dialect` and its `TrainingConfig`.

A repository of training configs also holds launcher configs (accelerate), DeepSpeed configs,
inference and export configs, and LLaMA-Factory's experimental v1 configs. Those are skipped
with a note: checking them against the training arguments would only produce noise.
"""

from __future__ import annotations

from functools import cache

from epochlint.dialects.base import Dialect
from epochlint.reading.document import Document
from epochlint.records import record

# name -> the plug-in module; the first is the default dialect.
PLUGINS = {
    "llamafactory": "epochlint.dialects.llamafactory",
    "axolotl": "epochlint.dialects.axolotl",
    "hf": "epochlint.dialects.hf",
    "trl": "epochlint.dialects.trl",
}
# A word in a launch command that names a trainer whose command line takes no `key=value`
# overrides (`axolotl train x.yaml --key value`); other launchers take them.
NO_OVERRIDE_LAUNCHERS = ("axolotl",)

ACCELERATE_KEYS = {
    "compute_environment",
    "distributed_type",
    "machine_rank",
    "num_machines",
    "main_training_function",
    "rdzv_backend",
    "same_network",
}
DEEPSPEED_KEYS = {
    "zero_optimization",
    "train_micro_batch_size_per_gpu",
    "train_batch_size",
    "zero_allow_untested_optimizer",
    "gradient_clipping",
}
LLAMAFACTORY_V1_KEYS = {
    "train_dataset",
    "peft_config",
    "dist_config",
    "kernel_config",
    "model_class",
    "sample_backend",
    "init_config",
    "optim_config",
}
AXOLOTL_KEYS = {
    "base_model",
    "micro_batch_size",
    "sequence_len",
    "num_epochs",
    "val_set_size",
    "lora_r",
    "sample_packing",
    "datasets",
}
# Keys only a LLaMA-Factory training config has (`LLaMA-Factory's hparams` dataclasses, not
# TrainingArguments); without any of them, a file of TrainingArguments keys is for a script of
# its own.
LLAMAFACTORY_SIGNALS = {
    "stage",
    "finetuning_type",
    "cutoff_len",
    "template",
    "lora_rank",
    "lora_target",
    "dataset",
    "dataset_dir",
    "quantization_bit",
    "val_size",
    "max_samples",
    "eval_dataset",
    "plot_loss",
    "preprocessing_num_workers",
}
# Keys of TRL's own dataclasses (script arguments, ModelConfig, trainer configs, the recipe
# repositories' mixtures) that neither LLaMA-Factory nor TrainingArguments has: a file of
# TrainingArguments keys with one of them is read by TRL's TrlParser.
TRL_SIGNALS = {
    "dataset_name",
    "dataset_config",
    "dataset_train_split",
    "dataset_test_split",
    "dataset_mixture",
    "use_peft",
    "lora_r",
    "lora_target_modules",
    "load_in_4bit",
    "load_in_8bit",
    "dtype",
    "torch_dtype",
    "attn_implementation",
    "max_seq_length",
    "max_prompt_length",
    "max_completion_length",
    "dataset_text_field",
    "dataset_num_proc",
    "assistant_only_loss",
    "completion_only_loss",
    "beta",
    "loss_type",
    "num_generations",
    "reward_funcs",
    "use_vllm",
}
RUN_FLAGS = ("do_train", "do_eval", "do_predict")
TRAINING_KEYS = {
    "dataset",
    "num_train_epochs",
    "max_steps",
    "learning_rate",
    "per_device_train_batch_size",
    "stage",
    "finetuning_type",
}


@record(frozen=True)
class Detection:
    dialect: Dialect | None
    skipped: str | None = None  # why the file is not checked, when dialect is None


def names() -> tuple[str, ...]:
    """Every dialect's name, as `--dialect` and the configuration file accept it."""
    return tuple(PLUGINS)


@cache
def named(name: str) -> Dialect:
    """The dialect of that name; its plug-in module is imported now, not before."""
    if name not in PLUGINS:
        raise KeyError(name)
    # __import__ rather than importlib.import_module: importlib (with warnings) is 0.5 ms more
    # on every run, and with a fromlist __import__ returns the plug-in module itself.
    plugin: Dialect = __import__(PLUGINS[name], fromlist=["dialect"]).dialect()
    return plugin


def default() -> Dialect:
    """The dialect a file is first read as (LLaMA-Factory: its loader is the most lenient)."""
    return named(next(iter(PLUGINS)))


def trl_choices(setting: str) -> tuple[str, ...]:
    """The values of the `trl-trainer` and `trl-entry` settings."""
    from epochlint.dialects.trl import ENTRIES, TRAINER_TITLES

    return tuple(TRAINER_TITLES) if setting == "trl-trainer" else ENTRIES


def takes_overrides(command: list[str]) -> bool:
    """Whether the launcher in a command line takes `key=value` overrides after the config."""
    return not any(word in argument for argument in command for word in NO_OVERRIDE_LAUNCHERS)


def detect(document: Document, forced: str | None = None) -> Detection:
    """The dialect `forced` names (--dialect), or the one the file's keys show."""
    if forced is not None:
        return Detection(named(forced))
    keys = set(document.entries)
    if len(keys & ACCELERATE_KEYS) >= 2:
        return Detection(None, "an accelerate launcher config, not a training config")
    if len(keys & DEEPSPEED_KEYS) >= 2:
        return Detection(None, "a DeepSpeed config, not a training config")
    if keys & LLAMAFACTORY_V1_KEYS and ("model" in keys or "train_dataset" in keys):
        return Detection(None, "a LLaMA-Factory v1 config (USE_V1=1), whose schema is not checked")
    if "model_name_or_path" not in keys and len(keys & AXOLOTL_KEYS) >= 2:
        return Detection(named("axolotl"))
    dialect = named("llamafactory")
    known = keys & dialect.properties.keys()
    if not keys & LLAMAFACTORY_SIGNALS and keys & TRL_SIGNALS:
        return Detection(named("trl"))
    if not keys & LLAMAFACTORY_SIGNALS:
        hf = named("hf")
        if len(keys & hf.properties.keys()) >= 3:
            return Detection(hf)
    if not any(flag in keys for flag in RUN_FLAGS) and not keys & TRAINING_KEYS:
        # Unknown keys next to known ones are more likely typos in a training config.
        if known and known == keys:
            return Detection(None, "an inference or export config (no do_train, no training keys)")
        if not known and not any(dialect.keys_spelled_like(key, 1) for key in keys):
            return Detection(None, "none of its keys are training arguments")
    return Detection(dialect)
