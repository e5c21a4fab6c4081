"""GRPO and RLOO schedules, checked against TRL's own sampler and dataloader (issue #16).

TRL's GRPO and RLOO trainers draw prompts through RepeatSampler, so their optimizer steps do
not follow Trainer's formula. For every case below, scripts/oracles/trl_measure.py builds the
real GRPOConfig/RLOOConfig and runs the trainer's get_train_dataloader, iterates it, and lets
transformers' Trainer count the optimizer steps per epoch, in a real gloo process group of W
CPU processes (accelerate shards the batches). epochlint's functions must give the same
steps_per_generation, generation_batch_size, sampler and dataloader lengths and steps per epoch,
or the same error message when TRL refuses the config.

Needs the TRL oracle: `scripts/oracles/trl.sh` (creates .oracles/trl). Without it the tests
skip, except in CI (`CI=true`), where a missing oracle is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import lint

from epochlint.dialects.trl.steps import (
    DEFAULT_NUM_GENERATIONS,
    TrlConfigError,
    generation_batch,
    generation_dataloader_length,
    kto_rows,
    repeat_sampler_length,
)
from epochlint.facts.schedule import optimizer_steps

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / ".oracles" / "trl"
MEASURE = ROOT / "scripts" / "oracles" / "trl_measure.py"
FIRST_STEP = ROOT / "scripts" / "oracles" / "trl_first_step.py"
MODEL = ROOT / ".oracles" / "tiny-qwen2"


def case(trainer: str, processes: int, prompts: int, **options: Any) -> dict[str, Any]:
    return {"trainer": trainer, "processes": processes, "prompts": prompts, **options}


def batching(b: int, ga: int, **more: Any) -> dict[str, Any]:
    return {"per_device_train_batch_size": b, "gradient_accumulation_steps": ga, **more}


CASES: dict[str, dict[str, Any]] = {
    # The default batching: S = GA, GBS = B*W*GA.
    "grpo-defaults": case("grpo", 1, 50, **batching(8, 1)),
    "rloo-defaults": case("rloo", 1, 50, **batching(3, 2)),
    "grpo-g4-b4-ga2": case("grpo", 1, 37, **batching(4, 2), num_generations=4),
    "grpo-g3-b6-ga1": case("grpo", 1, 100, **batching(6, 1), num_generations=3),
    "grpo-g16-b8-ga4": case("grpo", 1, 300, **batching(8, 4), num_generations=16),
    "grpo-g8-b8-ga3-w2": case("grpo", 2, 150, **batching(8, 3), num_generations=8),
    "grpo-g4-b2-ga2-w2-mu2": case(
        "grpo", 2, 61, **batching(2, 2), num_generations=4, num_iterations=2
    ),
    "grpo-g6-b2-ga1-w3": case("grpo", 3, 80, **batching(2, 1), num_generations=6),
    "grpo-g4-b1-ga4-w4-mu3": case(
        "grpo", 4, 45, **batching(1, 4), num_generations=4, num_iterations=3
    ),
    "rloo-g2-b1-ga1-w2": case("rloo", 2, 19, **batching(1, 1), num_generations=2),
    "rloo-g4-b2-ga4-w4": case("rloo", 4, 70, **batching(2, 4), num_generations=4),
    "rloo-g3-b3-ga2-w3-mu2": case(
        "rloo", 3, 40, **batching(3, 2), num_generations=3, num_iterations=2
    ),
    # steps_per_generation set: S != GA, so steps per epoch are not a whole number of generations.
    "grpo-s4-ga1": case(
        "grpo", 1, 100, **batching(4, 1), num_generations=8, steps_per_generation=4
    ),
    "grpo-s3-ga2-w2": case(
        "grpo", 2, 90, **batching(2, 2), num_generations=4, steps_per_generation=3
    ),
    "grpo-s2-ga5-w3-mu2": case(
        "grpo", 3, 70, **batching(2, 5), num_generations=3, steps_per_generation=2, num_iterations=2
    ),
    "rloo-s6-ga4-w4": case(
        "rloo", 4, 200, **batching(1, 4), num_generations=4, steps_per_generation=6
    ),
    # generation_batch_size set: S = GBS / (B*W).
    "grpo-gbs32-b4": case(
        "grpo", 1, 77, **batching(4, 2), num_generations=8, generation_batch_size=32
    ),
    "grpo-gbs48-b4-w2": case(
        "grpo", 2, 100, **batching(4, 1), num_generations=6, generation_batch_size=48
    ),
    "grpo-gbs36-b3-w3-mu2": case(
        "grpo",
        3,
        55,
        **batching(3, 3),
        num_generations=4,
        generation_batch_size=36,
        num_iterations=2,
    ),
    "rloo-gbs16-b2-w4": case(
        "rloo", 4, 33, **batching(2, 2), num_generations=2, generation_batch_size=16
    ),
    # Fewer prompts than one generation takes: an empty dataloader, and Trainer wants max_steps.
    "grpo-too-few-prompts": case("grpo", 2, 3, **batching(4, 4), num_generations=2),
    "grpo-too-few-prompts-max-steps": case(
        "grpo", 1, 3, **batching(4, 4), num_generations=2, max_steps=10
    ),
    # The errors TRL raises while building the config.
    "grpo-gbs-not-divisible-by-groups": case("grpo", 1, 40, **batching(4, 1), num_generations=3),
    "rloo-gbs-not-divisible-by-groups-w3": case("rloo", 3, 40, **batching(1, 1), num_generations=2),
    "grpo-gbs-not-divisible-by-global-batch": case(
        "grpo", 2, 40, **batching(4, 1), num_generations=2, generation_batch_size=12
    ),
    "rloo-gbs-not-divisible-by-global-batch": case(
        "rloo", 1, 40, **batching(3, 1), generation_batch_size=8
    ),
    "grpo-both-set": case(
        "grpo", 1, 40, **batching(2, 1), steps_per_generation=2, generation_batch_size=8
    ),
    "grpo-one-generation": case("grpo", 1, 40, **batching(4, 1), num_generations=1),
    "rloo-one-generation-w2": case("rloo", 2, 40, **batching(4, 1), num_generations=1),
    "grpo-eval-batch-not-divisible": case(
        "grpo",
        2,
        40,
        **batching(4, 1),
        num_generations=4,
        eval_strategy="steps",
        per_device_eval_batch_size=1,
    ),
    "grpo-eval-batch-divisible-by-eval-generations": case(
        "grpo",
        2,
        40,
        **batching(4, 1),
        num_generations=4,
        eval_strategy="steps",
        per_device_eval_batch_size=1,
        num_generations_eval=2,
    ),
    "rloo-eval-default-batch-w3": case(
        "rloo", 3, 40, **batching(2, 1), num_generations=3, eval_strategy="epoch"
    ),
}


def oracle_torchrun() -> Path:
    torchrun = ORACLE / "bin" / "torchrun"
    if not torchrun.exists():
        reason = f"the TRL oracle is not installed at {ORACLE}: run scripts/oracles/trl.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return torchrun


@cache
def measured(processes: int) -> dict[str, dict[str, Any]]:
    """Run the oracle once per process count over the cases with that count."""
    torchrun = oracle_torchrun()
    names = [name for name, spec in CASES.items() if spec["processes"] == processes]
    specs = [{k: v for k, v in CASES[name].items() if k != "processes"} for name in names]
    names.append("kto-unpairing")
    specs.append({"trainer": "kto", "pairs": 7})
    work = ROOT / ".oracles" / "measurements"
    work.mkdir(exist_ok=True)
    cases_file = work / f"cases-{processes}.json"
    out_file = work / f"results-{processes}.json"
    cases_file.write_text(json.dumps(specs))
    out_file.unlink(missing_ok=True)
    run = subprocess.run(
        [
            str(torchrun),
            "--nproc_per_node",
            str(processes),
            "--master_port",
            str(29400 + processes),
            str(MEASURE),
            str(cases_file),
            str(out_file),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return dict(zip(names, json.loads(out_file.read_text()), strict=True))


def expected(spec: dict[str, Any]) -> dict[str, Any]:
    """What epochlint's functions give for a case, in the oracle's terms."""
    trainer = spec["trainer"]
    generations = spec.get("num_generations", DEFAULT_NUM_GENERATIONS[trainer])
    iterations = spec.get("num_iterations", 1)
    evaluates = spec.get("eval_strategy", "no") != "no"
    try:
        batch = generation_batch(
            trainer,
            per_device_batch=spec["per_device_train_batch_size"],
            processes=spec["processes"],
            gradient_accumulation=spec["gradient_accumulation_steps"],
            num_generations=generations,
            steps_per_generation=spec.get("steps_per_generation"),
            generation_batch_size=spec.get("generation_batch_size"),
            eval_batch=spec.get("per_device_eval_batch_size", 8) if evaluates else None,
            num_generations_eval=spec.get("num_generations_eval"),
        )
    except TrlConfigError as error:
        return {"error": str(error)}
    length = generation_dataloader_length(spec["prompts"], batch, iterations)
    per_batch = spec["per_device_train_batch_size"] * batch.steps_per_generation
    result: dict[str, Any] = {
        "world_size": spec["processes"],
        "steps_per_generation": batch.steps_per_generation,
        "generation_batch_size": batch.generation_batch_size,
        "sampler_length": repeat_sampler_length(spec["prompts"], batch, iterations),
        "dataloader_length": length,
        "batches_iterated": length,
        "batch_sizes": [per_batch] if length else [],
    }
    if length:
        result["steps_per_epoch"] = optimizer_steps(length, spec["gradient_accumulation_steps"])
    return result


@pytest.mark.parametrize("name", list(CASES))
def test_generation_schedule_matches_trl(name: str) -> None:
    spec = CASES[name]
    got = measured(spec["processes"])[name]
    want = expected(spec)
    # Trainer's own step count: checked only where the dataloader has a length.
    got.pop("max_steps", None)
    steps_error = got.pop("steps_error", None)
    if want.get("dataloader_length") == 0 and "max_steps" not in spec:
        assert steps_error == (
            "args.max_steps must be set to a positive value if dataloader does not have a "
            "length, was -1"
        )
    if want.get("dataloader_length") == 0 and "max_steps" in spec:
        # No length: Trainer runs max_steps, whatever the dataloader holds.
        got.pop("steps_per_epoch", None)
    assert got == want


def test_kto_trains_on_two_rows_per_pair() -> None:
    assert measured(1)["kto-unpairing"] == {"rows": kto_rows(7, paired=True)}
    assert kto_rows(7, paired=False) == 7


LOSS_TYPES = [
    ("kto", "sigmoid", "UnboundLocalError", "kto, apo_zero_unpaired"),
    ("kto", "ipo", "UnboundLocalError", "kto, apo_zero_unpaired"),
    ("kto", "kto", None, None),
    ("kto", "apo_zero_unpaired", None, None),
    ("cpo", "kto", "ValueError: Unknown loss type", "sigmoid, hinge, ipo, simpo, alphapo"),
    ("cpo", "sigmoid", None, None),
    ("cpo", "alphapo", None, None),
]


@pytest.mark.parametrize(("trainer", "loss_type", "death", "choices"), LOSS_TYPES)
def test_a_loss_type_outside_the_trainers_choices_stops_the_first_step(
    trainer: str, loss_type: str, death: str | None, choices: str | None, tmp_path: Path
) -> None:
    # EL103 reports exactly the values with which TRL's own run dies at its first step.
    python = oracle_torchrun().parent / "python"
    if not (MODEL / "config.json").exists():
        script = ROOT / "scripts" / "oracles" / "make_tiny_model.py"
        subprocess.run([str(python), str(script), str(MODEL)], check=True, timeout=600)
    done = subprocess.run(
        [str(python), str(FIRST_STEP), trainer, str(MODEL), loss_type, str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
    )
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["trained"] == (death is None), outcome
    if death is not None:
        assert outcome["error"].startswith(death)
    config = (
        f"# epochlint: trl-trainer={trainer}\nmodel_name_or_path: m\ndataset_name: d\n"
        f"loss_type: {loss_type}\nnum_train_epochs: 1\n"
    )
    found = [d for d in lint(config).diagnostics if d.rule == "EL103"]
    assert bool(found) == (death is not None)
    if found:
        title = {"kto": "TRL KTO", "cpo": "TRL CPO"}[trainer]
        assert found[0].message.startswith(
            f"`loss_type: {loss_type}` is not one of {title}'s: {choices}; "
        )
        assert (found[0].line, found[0].column, found[0].severity.value) == (4, 12, "error")
