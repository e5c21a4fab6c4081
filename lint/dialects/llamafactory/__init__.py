"""The LLaMA-Factory dialect: `llamafactory-cli train config.yaml [key=value ...]`.

LLaMA-Factory reads the YAML with OmegaConf (so `5e-5` is a float) and merges `key=value`
overrides from the command line; its argument dataclasses refuse a key they do not know. The
data comes from `dataset_info.json` (data.py), the method from `finetuning_type` and
`quantization_bit`, and the step count from transformers' Trainer (facts/schedule.py).
"""

from __future__ import annotations

from functools import cache

from epochlint.dialects.base import Dialect, Placement, TrainingConfig, load_schema
from epochlint.facts.dataset import Resolution

# canonical field -> the fields a key the fixer adds goes after (first present wins)
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "val_size": ("eval_dataset", "per_device_eval_batch_size"),
    "eval_strategy": ("val_size", "per_device_eval_batch_size", "eval_dataset"),
    "eval_steps": ("eval_strategy",),
    "save_strategy": ("eval_strategy", "save_steps"),
    "load_best_model_at_end": ("save_strategy", "eval_strategy"),
    "metric_for_best_model": ("load_best_model_at_end", "eval_steps", "eval_strategy"),
    "early_stopping_steps": ("metric_for_best_model", "load_best_model_at_end", "eval_strategy"),
    "load_in_4bit": ("adapter",),
    "num_train_epochs": ("learning_rate", "gradient_accumulation_steps"),
    "gradient_accumulation_steps": ("per_device_train_batch_size",),
    "learning_rate": ("gradient_accumulation_steps", "per_device_train_batch_size"),
    "lr_scheduler_type": ("num_train_epochs", "learning_rate"),
    "warmup_ratio": ("lr_scheduler_type", "num_train_epochs"),
    "warmup_steps": ("lr_scheduler_type", "num_train_epochs"),
    "logging_steps": ("output_dir",),
    "save_steps": ("logging_steps", "output_dir"),
    "max_steps": ("num_train_epochs",),
}

# The `### model`, `### method`, ... blocks of LLaMA-Factory's example configs.
SECTIONS: dict[str, frozenset[str]] = {
    "model": frozenset(
        {
            "model_name_or_path",
            "adapter_name_or_path",
            "trust_remote_code",
            "quantization_bit",
            "quantization_method",
            "flash_attn",
            "use_unsloth",
            "image_max_pixels",
            "video_max_pixels",
        }
    ),
    "method": frozenset(
        {"stage", "do_train", "finetuning_type", "deepspeed", "pref_beta", "pref_loss"}
    ),
    "dataset": frozenset(
        {
            "dataset",
            "dataset_dir",
            "template",
            "cutoff_len",
            "max_samples",
            "overwrite_cache",
            "preprocessing_num_workers",
            "dataloader_num_workers",
            "packing",
            "streaming",
            "buffer_size",
            "mix_strategy",
            "tokenized_path",
        }
    ),
    "output": frozenset(
        {"output_dir", "overwrite_output_dir", "plot_loss", "report_to", "run_name"}
    ),
    "train": frozenset(
        {
            "num_train_epochs",
            "max_steps",
            "learning_rate",
            "gradient_accumulation_steps",
            "per_device_train_batch_size",
            "weight_decay",
            "max_grad_norm",
            "optim",
            "bf16",
            "fp16",
            "tf32",
            "seed",
            "ddp_timeout",
            "resume_from_checkpoint",
            "gradient_checkpointing",
        }
    ),
    "eval": frozenset(
        {
            "val_size",
            "per_device_eval_batch_size",
            "load_best_model_at_end",
            "metric_for_best_model",
            "greater_is_better",
            "do_eval",
            "compute_accuracy",
        }
    ),
}
SECTION_PREFIXES: tuple[tuple[str, str], ...] = (
    ("eval_", "eval"),
    ("early_stopping", "eval"),
    ("save_", "output"),
    ("logging_", "output"),
    ("warmup", "train"),
    ("lr_", "train"),
    ("lora_", "method"),
    ("freeze_", "method"),
)
# Every dialect places keys this way today: the neighbours are canonical fields, and a file
# without `###` headers has no section to place into.
PLACEMENT = Placement(NEIGHBOURS, SECTIONS, SECTION_PREFIXES)


class LlamaFactoryConfig(TrainingConfig):
    rows_source = "dataset_info.json"

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
        return self.value("quantization_bit") is not None

    def resolve_datasets(self, root: str) -> Resolution | None:
        """The training rows the config's datasets hold, as LLaMA-Factory loads them."""
        if not self.names("dataset"):
            return None
        from epochlint.dialects.llamafactory.data import resolve
        from epochlint.dialects.llamafactory.preprocess import processors

        max_samples = self.number("max_samples")
        seed = self.number("seed")
        return resolve(
            self.value("dataset"),
            self.value("eval_dataset"),
            dataset_dir=self.text("dataset_dir") or "data",
            root=root,
            max_samples=int(max_samples) if max_samples is not None else None,
            mix_strategy=self.text("mix_strategy") or "concat",
            interleave_probs=self.value("interleave_probs"),
            streaming=self.flag("streaming"),
            processors=processors(self.stage, self.flag("predict_with_generate")),
            val_size=self.number("val_size") or 0.0,
            seed=int(seed) if seed is not None else 42,
        )

    def packs_rows(self) -> bool:
        """Packing (on by default for stage pt) turns documents into fixed-length token blocks."""
        packing = self.value("packing")
        if self.flag("neat_packing") or packing is True:
            return True
        return packing is None and self.stage == "pt"

    def has_eval_data(self) -> bool:
        val_size = self.number("val_size") or 0.0
        return val_size > 1e-6 or bool(self.names("eval_dataset"))


@cache
def dialect() -> Dialect:
    return Dialect(
        "llamafactory",
        "LLaMA-Factory",
        "omegaconf",
        load_schema("llamafactory"),
        config_class=LlamaFactoryConfig,
        placement=PLACEMENT,
        rename_safety="safe",  # the unknown key aborts the run: renaming it only makes it run
    )
