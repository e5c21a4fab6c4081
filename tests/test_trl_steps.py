"""TRL's GRPO/RLOO step arithmetic on the worked examples of the README (TRL configs).

The full matrix against TRL itself is tests/test_crosscheck_trl.py; these run without TRL.
"""

from __future__ import annotations

import pytest

from epochlint.dialects.trl.steps import (
    TrlConfigError,
    generation_batch,
    generation_dataloader_length,
)
from epochlint.facts.schedule import optimizer_steps


def steps_per_epoch(prompts: int, **options: int) -> int:
    iterations = options.pop("num_iterations", 1)
    batch = generation_batch("grpo", **options)
    length = generation_dataloader_length(prompts, batch, iterations)
    return optimizer_steps(length, options["gradient_accumulation"])


def test_each_optimizer_step_sees_batch_over_generations_prompts() -> None:
    # 8 GPUs x 8 completions x 4 accumulation = 256 completions = 16 prompts a step.
    options = dict(per_device_batch=8, processes=8, gradient_accumulation=4, num_generations=16)
    assert steps_per_epoch(1000, **options) == 62
    # Trainer's formula would say ceil(1000 / 256) = 4.


def test_steps_per_generation_without_accumulation_steps_four_times_as_often() -> None:
    options = dict(per_device_batch=8, processes=8, gradient_accumulation=1, num_generations=16)
    assert steps_per_epoch(1000, steps_per_generation=4, **options) == 248


def test_num_iterations_repeats_each_generation() -> None:
    options = dict(per_device_batch=4, processes=1, gradient_accumulation=2, num_generations=4)
    assert steps_per_epoch(37, **options) == 18
    assert steps_per_epoch(37, num_iterations=3, **options) == 54


def test_the_first_error_is_the_one_trl_raises_first() -> None:
    with pytest.raises(TrlConfigError) as error:
        generation_batch(
            "rloo", per_device_batch=3, processes=1, gradient_accumulation=1, num_generations=1
        )
    assert str(error.value) == (
        "RLOO requires at least 2 generations per prompt to calculate the advantages. "
        "You provided 1, which is less than the minimum required."
    )
    with pytest.raises(
        TrlConfigError,
        match=r"^generation_batch_size \(3\) must be divisible by num_generations \(2\)\.$",
    ):
        generation_batch(
            "grpo", per_device_batch=3, processes=1, gradient_accumulation=1, num_generations=2
        )
