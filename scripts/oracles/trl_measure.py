"""Measure GRPO and RLOO schedules with TRL's own code, for tests/test_crosscheck_trl.py.

Run in the TRL oracle environment (scripts/oracles/trl.sh) under torchrun, one process per
data-parallel process of the run being measured:

    .oracles/trl/bin/torchrun --nproc_per_node W scripts/oracles/trl_measure.py CASES OUT

CASES is a JSON list of cases (keys as in `measure` below); every process handles all of them
in the same order. The processes form a real gloo process group on the CPU, so TRL's config
reads the world size from torch.distributed and accelerate shards each dataloader with its own
BatchSamplerShard. Process 0 writes OUT: one result per case, either
{"error": "<the ValueError TRL raised>"} or the measured numbers.

The trainer is built without a model: `__init__` would load one and a tokenizer. Instead the
object gets the attributes that the trainer's `__init__` sets from the config and that
`get_train_dataloader`, `_get_train_sampler` and Trainer's `set_initial_training_values` read,
so the sampler, the dataloader and the step count are TRL's and transformers' own code.
"""

from __future__ import annotations

import json
import sys
import tempfile
from typing import Any

import datasets
import torch.distributed as dist
from accelerate import Accelerator
from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer
from trl.data_utils import unpair_preference_dataset

CLASSES = {"grpo": (GRPOConfig, GRPOTrainer), "rloo": (RLOOConfig, RLOOTrainer)}
CONFIG_KEYS = (
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "num_generations",
    "num_iterations",
    "steps_per_generation",
    "generation_batch_size",
    "num_train_epochs",
    "max_steps",
    "eval_strategy",
    "per_device_eval_batch_size",
    "num_generations_eval",
)


def measure(case: dict[str, Any], output_dir: str) -> dict[str, Any]:
    config_class, trainer_class = CLASSES[case["trainer"]]
    options = {key: case[key] for key in CONFIG_KEYS if key in case}
    try:
        args = config_class(output_dir=output_dir, use_cpu=True, report_to="none", **options)
    except ValueError as error:
        return {"error": str(error)}
    prompts = datasets.Dataset.from_dict(
        {"prompt": [f"prompt {i}" for i in range(case["prompts"])]}
    )

    trainer = trainer_class.__new__(trainer_class)
    trainer.args = args
    trainer.model = None
    trainer.is_deepspeed_enabled = False
    # After the config, as Trainer does: building TrainingArguments resets accelerate's state.
    trainer.accelerator = Accelerator(cpu=True)
    trainer.train_dataset = prompts
    trainer.data_collator = lambda rows: rows
    trainer._train_batch_size = args.train_batch_size
    trainer.num_generations = args.num_generations
    trainer.num_iterations = args.num_iterations
    trainer.shuffle_dataset = args.shuffle_dataset

    dataloader = trainer.get_train_dataloader()
    batches = [len(batch) for batch in dataloader]
    result: dict[str, Any] = {
        "world_size": args.world_size,
        "steps_per_generation": args.steps_per_generation,
        "generation_batch_size": args.generation_batch_size,
        "sampler_length": len(trainer._get_train_sampler(prompts)),
        "dataloader_length": len(dataloader),
        "batches_iterated": len(batches),
        "batch_sizes": sorted(set(batches)),
    }
    try:
        values = trainer.set_initial_training_values(args, dataloader)
    except ValueError as error:
        result["steps_error"] = str(error)
    else:
        result["steps_per_epoch"] = values[1]
        result["max_steps"] = values[6]
    return result


def kto_rows(pairs: int) -> int:
    """Rows KTO trains on for a paired dataset, by the function KTOTrainer unpairs it with."""
    paired = datasets.Dataset.from_dict(
        {
            "prompt": [f"prompt {i}" for i in range(pairs)],
            "chosen": ["good"] * pairs,
            "rejected": ["bad"] * pairs,
        }
    )
    return len(unpair_preference_dataset(paired))


def main() -> None:
    cases_path, out_path = sys.argv[1:3]
    with open(cases_path) as handle:
        cases = json.load(handle)
    datasets.disable_progress_bars()
    results = []
    with tempfile.TemporaryDirectory() as output_dir:
        for case in cases:
            if case["trainer"] == "kto":
                results.append({"rows": kto_rows(case["pairs"])})
                continue
            result = measure(case, output_dir)
            # Every process must agree: the same config errors and the same dataloader lengths.
            processes = dist.get_world_size() if dist.is_initialized() else 1
            everyone: list[Any] = [result] * processes
            if processes > 1:
                dist.all_gather_object(everyone, result)
            if any(other != result for other in everyone):
                result = {"disagreement": everyone}
            results.append(result)
    if not dist.is_initialized() or dist.get_rank() == 0:
        with open(out_path, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
