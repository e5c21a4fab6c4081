"""The step arithmetic where TRL's trainers differ from transformers' Trainer.

SFT, DPO, KTO and reward training use Trainer's own sampler and step count; what TRL changes
for them is N, the rows the dataloader sees (KTO trains on single completions, so a paired
dataset counts twice). GRPO and RLOO replace the sampler (README, "TRL configs"):

  S, GBS            resolved from steps_per_generation / generation_batch_size
                    (neither set: S = GA and GBS = B*W*S)
  RepeatSampler     shuffles the N prompts, cuts them into chunks of GBS/G prompts, drops the
                    incomplete last chunk, yields each chunk num_iterations*S times and each
                    prompt G times in a row
  len_dataloader    = floor(N*G / GBS) * num_iterations * S     per process and epoch

Trainer counts the optimizer steps from that length as for any dataloader (facts/schedule.py).

B is counted in completions, not prompts; W is the number of processes. The divisibility
checks raise `TrlConfigError` with TRL's message, in the order TRL's config checks them, so the
first error is the one the run would stop with.
"""

from __future__ import annotations

from epochlint.records import record

# The trainers that draw batches through TRL's RepeatSampler, and the name each uses in its
# error messages.
GENERATING_TRAINERS = {"grpo": "GRPO", "rloo": "RLOO"}
DEFAULT_NUM_GENERATIONS = {"grpo": 8, "rloo": 2}


class TrlConfigError(ValueError):
    """A ValueError TRL raises while building the trainer config; the message is TRL's, `key`
    the setting it is about."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


@record(frozen=True)
class GenerationBatch:
    """How a GRPO or RLOO run batches its generations (all counts are completions)."""

    steps_per_generation: int  # micro-steps served from one generation
    generation_batch_size: int  # completions generated at once, over all processes
    num_generations: int  # completions per prompt

    @property
    def prompts_per_generation(self) -> int:
        return self.generation_batch_size // self.num_generations


def generation_batch(
    trainer: str,
    per_device_batch: int,
    processes: int,
    gradient_accumulation: int,
    num_generations: int,
    steps_per_generation: int | None = None,
    generation_batch_size: int | None = None,
    eval_batch: int | None = None,
    num_generations_eval: int | None = None,
) -> GenerationBatch:
    """Resolve S and GBS as GRPOConfig/RLOOConfig.__post_init__ does, raising its errors.

    `eval_batch` is per_device_eval_batch_size when evaluation runs (do_eval and an
    eval_strategy other than "no"), else None: TRL checks the eval batch only then.
    """
    name = GENERATING_TRAINERS[trainer]
    global_batch = per_device_batch * processes
    if generation_batch_size is None and steps_per_generation is None:
        steps_per_generation = gradient_accumulation
        generation_batch_size = global_batch * steps_per_generation
    elif generation_batch_size is not None and steps_per_generation is None:
        if generation_batch_size % global_batch != 0:
            raise TrlConfigError(
                f"generation_batch_size ({generation_batch_size}) must be divisible by the global "
                f"batch size ({global_batch}).",
                "generation_batch_size",
            )
        steps_per_generation = generation_batch_size // global_batch
    elif generation_batch_size is None and steps_per_generation is not None:
        generation_batch_size = global_batch * steps_per_generation
    else:
        raise TrlConfigError(
            "'generation_batch_size' and 'steps_per_generation' can not be both configured at "
            "the same time",
            "generation_batch_size",
        )
    assert generation_batch_size is not None and steps_per_generation is not None
    if eval_batch is not None:
        eval_generations = num_generations_eval or num_generations
        if (eval_batch * processes) % eval_generations != 0:
            raise TrlConfigError(
                f"The global eval batch size ({eval_batch} * {processes}) must be divisible by "
                f"the number of generations used for evaluation ({eval_generations}).",
                "per_device_eval_batch_size",
            )
    if generation_batch_size % num_generations != 0:
        raise TrlConfigError(
            f"generation_batch_size ({generation_batch_size}) must be divisible by "
            f"num_generations ({num_generations}).",
            "num_generations",
        )
    if num_generations < 2:
        raise TrlConfigError(
            f"{name} requires at least 2 generations per prompt to calculate the advantages. "
            f"You provided {num_generations}, which is less than the minimum required.",
            "num_generations",
        )
    return GenerationBatch(steps_per_generation, generation_batch_size, num_generations)


def repeat_sampler_length(prompts: int, batch: GenerationBatch, num_iterations: int) -> int:
    """Completions RepeatSampler yields in one pass (all processes): whole chunks only."""
    chunks = prompts // batch.prompts_per_generation
    return chunks * batch.generation_batch_size * num_iterations * batch.steps_per_generation


def generation_dataloader_length(prompts: int, batch: GenerationBatch, num_iterations: int) -> int:
    """Batches one process's dataloader yields per epoch (each is B*S completions).

    0 when there are fewer prompts than one generation takes; the Trainer then has no length
    to count steps from and needs max_steps.
    """
    return (prompts // batch.prompts_per_generation) * num_iterations * batch.steps_per_generation


def kto_rows(rows: int, paired: bool) -> int:
    """KTO's training rows: a paired (chosen/rejected) dataset is unpaired into two rows a pair."""
    return 2 * rows if paired else rows
