"""Check the schedule against LLaMA-Factory itself (issue #15): every case trains a tiny random
model with the real `llamafactory-cli train` on the CPU and compares what the run did with what
`epochlint plan --format json` says it will do:

- the training and evaluation rows (`Num examples` in the Trainer's log) with `dataset_rows` and
  `eval_rows`: LLaMA-Factory drops malformed rows while preprocessing, after the `val_size` split;
- `global_step` of `trainer_state.json` with `total_steps`, and its final `epoch` with `epochs`;
- the steps of its `log_history` that logged a loss or an eval loss with the plan's `logs` and
  `evaluations`;
- the `checkpoint-<step>` folders left in `output_dir` with the plan's `checkpoints`.

Two configs crash in LLaMA-Factory; for those the run must fail and `epochlint check` must
report an error.

Needs the oracle: `scripts/oracles/llamafactory.sh` installs LLaMA-Factory in
`.oracles/llamafactory`, and the tiny model is made by `scripts/oracles/make_tiny_model.py` on
first use. Without the oracle the tests are skipped, except in CI (`CI=true`), where they fail.
The data of each case is generated into a temporary folder. Two runs go at a time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / ".oracles" / "llamafactory"
MODEL = ROOT / ".oracles" / "tiny-qwen2"
EPOCHLINT = Path(sys.executable).parent / "epochlint"
PARALLEL_RUNS = 2

Row = dict[str, Any]


def alpaca(
    count: int, null_output: tuple[int, ...] = (), no_output: tuple[int, ...] = ()
) -> list[Row]:
    """Alpaca rows; LLaMA-Factory drops a row whose output is null or missing (the converter
    gives it no response), while an empty string is a valid response."""
    rows: list[Row] = []
    for index in range(count):
        row: Row = {"instruction": f"Say {index}", "input": "", "output": f"Number {index}"}
        if index in null_output:
            row["output"] = None
        if index in no_output:
            del row["output"]
        rows.append(row)
    return rows


def sharegpt(count: int, wrong_order: tuple[int, ...] = (), odd: tuple[int, ...] = ()) -> list[Row]:
    """ShareGPT rows; LLaMA-Factory drops a conversation whose roles do not alternate
    human/gpt, or that has an odd number of turns."""
    rows: list[Row] = []
    for index in range(count):
        turns = [
            {"from": "human", "value": f"Say {index}"},
            {"from": "gpt", "value": f"Number {index}"},
        ]
        if index in wrong_order:
            turns.reverse()
        if index in odd:
            turns.append({"from": "human", "value": "And then?"})
        rows.append({"conversations": turns})
    return rows


def openai(count: int, wrong_order: tuple[int, ...] = (), odd: tuple[int, ...] = ()) -> list[Row]:
    """OpenAI-style messages (role/content); the same turn rules as ShareGPT."""
    rows: list[Row] = []
    for row in sharegpt(count, wrong_order, odd):
        roles = {"human": "user", "gpt": "assistant"}
        messages = [{"role": roles[t["from"]], "content": t["value"]} for t in row["conversations"]]
        rows.append({"messages": messages})
    return rows


def preference(count: int, no_rejected: tuple[int, ...] = ()) -> list[Row]:
    """Alpaca preference pairs; the pairwise processor (rm, dpo) drops a row without both a
    chosen and a rejected answer."""
    rows = []
    for index, row in enumerate(alpaca(count)):
        rejected = None if index in no_rejected else f"Not {index}"
        rows.append({**row, "chosen": row.pop("output"), "rejected": rejected})
    return rows


def dataset_entry(name: str, rows: list[Row]) -> dict[str, Any]:
    """The dataset_info.json entry for rows made by the functions above."""
    entry: dict[str, Any] = {"file_name": f"{name}.json"}
    if "conversations" in rows[0]:
        entry["formatting"] = "sharegpt"
    elif "messages" in rows[0]:
        entry["formatting"] = "openai"
        entry["columns"] = {"messages": "messages"}
        entry["tags"] = {
            "role_tag": "role",
            "content_tag": "content",
            "user_tag": "user",
            "assistant_tag": "assistant",
            "system_tag": "system",
        }
    elif "chosen" in rows[0]:
        entry["ranking"] = True
        entry["columns"] = {"prompt": "instruction", "chosen": "chosen", "rejected": "rejected"}
    return entry


@dataclass(frozen=True)
class Case:
    name: str
    config: dict[str, Any]
    data: dict[str, list[Row]] = field(default_factory=lambda: {"train": alpaca(20)})
    crashes: bool = False  # LLaMA-Factory refuses the config: epochlint must report an error


DROPPED_ALPACA = alpaca(24, null_output=(3, 11), no_output=(17,))
DROPPED_SHAREGPT = sharegpt(22, wrong_order=(2,), odd=(9, 15))

CASES = [
    Case(
        "alpaca-dropped-rows",
        {"dataset": "train", "per_device_train_batch_size": 2, "num_train_epochs": 1},
        {"train": DROPPED_ALPACA},
    ),
    Case(
        "sharegpt-dropped-rows",
        {"dataset": "chat", "per_device_train_batch_size": 4, "gradient_accumulation_steps": 2},
        {"chat": DROPPED_SHAREGPT},
    ),
    Case(
        "openai-dropped-rows",
        {"dataset": "messages", "per_device_train_batch_size": 3},
        {"messages": openai(16, wrong_order=(3,), odd=(8,))},
    ),
    Case(
        "dpo-dropped-pairs",
        {"stage": "dpo", "dataset": "pairs", "per_device_train_batch_size": 2},
        {"pairs": preference(16, no_rejected=(2, 9))},
    ),
    Case(
        "val-size-with-dropped-rows",
        {
            "dataset": "train",
            "val_size": 0.2,
            "eval_strategy": "steps",
            "eval_steps": 0.25,
            "per_device_eval_batch_size": 4,
        },
        {"train": DROPPED_ALPACA},
    ),
    Case(
        "val-size-absolute-fractional-logging",
        {"val_size": 6, "eval_strategy": "epoch", "num_train_epochs": 2, "logging_steps": 0.3},
    ),
    Case(
        "fractional-epochs-accumulation",
        {
            "num_train_epochs": 1.5,
            "per_device_train_batch_size": 3,
            "gradient_accumulation_steps": 2,
            "save_strategy": "steps",
            "save_steps": 0.34,
        },
    ),
    Case(
        "max-steps-past-one-epoch",
        {
            "max_steps": 13,
            "gradient_accumulation_steps": 3,
            "save_strategy": "steps",
            "save_steps": 5,
        },
    ),
    Case(
        "drop-last",
        {"dataloader_drop_last": True, "per_device_train_batch_size": 3, "num_train_epochs": 2},
    ),
    Case(
        "logging-first-step-fractional-eval",
        {
            "val_size": 0.25,
            "logging_steps": 4,
            "logging_first_step": True,
            "eval_strategy": "steps",
            "eval_steps": 0.4,
            "num_train_epochs": 2,
        },
    ),
    Case(
        "logging-strategy-epoch",
        {"logging_strategy": "epoch", "logging_steps": 3, "num_train_epochs": 2},
    ),
    Case(
        "logging-strategy-no",
        {"logging_strategy": "no", "num_train_epochs": 1},
    ),
    Case(
        "eval-on-start-eval-delay-eval-dataset",
        {
            "eval_dataset": "held_out",
            "eval_strategy": "steps",
            "eval_steps": 2,
            "eval_on_start": True,
            "eval_delay": 5,
        },
        {"train": alpaca(20), "held_out": alpaca(7, null_output=(1,))},
    ),
    Case(
        "epoch-saves-under-save-total-limit",
        {
            "save_strategy": "epoch",
            "save_total_limit": 2,
            "eval_strategy": "epoch",
            "val_size": 0.1,
            "num_train_epochs": 4,
        },
    ),
    Case(
        "mixed-concat",
        {"dataset": "train,chat", "mix_strategy": "concat"},
        {"train": alpaca(12, null_output=(0,)), "chat": sharegpt(9, odd=(4,))},
    ),
    Case(
        "mixed-interleave-under",
        {"dataset": "train,chat", "mix_strategy": "interleave_under"},
        {"train": alpaca(12), "chat": sharegpt(9)},
    ),
    Case(
        "interleave-once-crashes",
        {"dataset": "train,chat", "mix_strategy": "interleave_once"},
        {"train": alpaca(12), "chat": sharegpt(9)},
        crashes=True,
    ),
    Case(
        "neat-packing-pretraining-crashes",
        {"stage": "pt", "neat_packing": True},
        crashes=True,
    ),
]


def base_config() -> dict[str, Any]:
    return {
        "model_name_or_path": str(MODEL),
        "stage": "sft",
        "do_train": True,
        "finetuning_type": "full",
        "dataset": "train",
        "dataset_dir": "data",
        "template": "qwen",
        "cutoff_len": 32,
        "output_dir": "out",
        "overwrite_output_dir": True,
        "per_device_train_batch_size": 2,
        "gradient_accumulation_steps": 1,
        "num_train_epochs": 1,
        "logging_steps": 1,
        "save_strategy": "no",
        "save_only_model": True,
        "report_to": "none",
        "seed": 42,
    }


def write_case(case: Case, folder: Path) -> Path:
    """The config, dataset_info.json and data files of a case, laid out as LLaMA-Factory
    expects them relative to the folder it runs in."""
    data = folder / "data"
    data.mkdir(parents=True)
    info: dict[str, Any] = {}
    for name, rows in case.data.items():
        (data / f"{name}.json").write_text(json.dumps(rows))
        info[name] = dataset_entry(name, rows)
    (data / "dataset_info.json").write_text(json.dumps(info, indent=2))
    config = folder / "train.yaml"
    config.write_text(yaml.safe_dump({**base_config(), **case.config}, sort_keys=False))
    return config


@dataclass
class Run:
    folder: Path
    returncode: int
    log: str
    seconds: float

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads((self.folder / "out" / "trainer_state.json").read_text())
        return state

    def examples(self, phase: str) -> list[int]:
        """`Num examples` the Trainer printed under `***** Running <phase> *****`."""
        pattern = rf"\*\*\*\*\* Running {phase} \*\*\*\*\*.*?Num examples = ([\d,]+)"
        return [int(n.replace(",", "")) for n in re.findall(pattern, self.log, re.S)]

    def checkpoints(self) -> list[int]:
        found = (self.folder / "out").glob("checkpoint-*")
        return sorted(int(path.name.split("-")[1]) for path in found)


def train(case: Case, folder: Path) -> Run:
    write_case(case, folder)
    environment = {
        **os.environ,
        "CUDA_VISIBLE_DEVICES": "",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": "1",
    }
    started = time.monotonic()
    done = subprocess.run(
        [str(ORACLE / "bin" / "llamafactory-cli"), "train", "train.yaml"],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    (folder / "train.log").write_text(done.stdout + done.stderr)
    return Run(folder, done.returncode, done.stdout + done.stderr, time.monotonic() - started)


def oracle_python(code: str) -> str:
    done = subprocess.run(
        [str(ORACLE / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture(scope="session")
def transformers_version() -> str:
    """The oracle's transformers; making sure the oracle and the tiny model are there first."""
    if not (ORACLE / "bin" / "llamafactory-cli").exists():
        reason = f"the LLaMA-Factory oracle is not in {ORACLE}: run scripts/oracles/llamafactory.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    if not (MODEL / "config.json").exists():
        script = ROOT / "scripts" / "oracles" / "make_tiny_model.py"
        subprocess.run([str(ORACLE / "bin" / "python"), str(script), str(MODEL)], check=True)
    return oracle_python("import transformers; print(transformers.__version__)")


@pytest.fixture(scope="session")
def runs(
    transformers_version: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[dict[str, Run]]:
    """Every selected case trained once, two at a time (the machine has two cores)."""
    started = time.monotonic()
    params = [getattr(item, "callspec", None) for item in request.session.items]
    chosen = {
        found.params["case"].name
        for found in params
        if found is not None and isinstance(found.params.get("case"), Case)
    }
    cases = [case for case in CASES if case.name in chosen]
    folders = {case.name: tmp_path_factory.mktemp(case.name) for case in cases}
    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        futures = {case.name: pool.submit(train, case, folders[case.name]) for case in cases}
        done = {name: future.result() for name, future in futures.items()}
    slowest = max(done.values(), key=lambda run: run.seconds)
    print(
        f"\nLLaMA-Factory crosscheck: {len(done)} runs in {time.monotonic() - started:.0f} s "
        f"(slowest {slowest.seconds:.0f} s, {slowest.folder.name})"
    )
    yield done


def epochlint(*arguments: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EPOCHLINT), *arguments],
        cwd=folder,
        env={**os.environ, "XDG_CACHE_HOME": str(folder / "cache")},
        capture_output=True,
        text=True,
    )


def planned(run: Run, transformers_version: str) -> dict[str, Any]:
    done = epochlint(
        "plan",
        "train.yaml",
        "--format",
        "json",
        "--num-gpus",
        "1",
        "--transformers-version",
        transformers_version,
        folder=run.folder,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def what_ran(run: Run) -> dict[str, Any]:
    state = run.state()
    history = state["log_history"]
    evaluated = run.examples("Evaluation")
    logs = [entry["step"] for entry in history if "loss" in entry]
    evaluations = [entry["step"] for entry in history if "eval_loss" in entry]
    checkpoints = run.checkpoints()
    return {
        "train rows": run.examples("training")[0],
        "eval rows": evaluated[0] if evaluated else 0,
        "total steps": state["global_step"],
        "epochs": round(state["epoch"], 6),
        "logs": logs,
        "log points": len(logs),
        "evaluations": evaluations,
        "evaluation count": len(evaluations),
        "checkpoints": checkpoints,
        "checkpoint count": len(checkpoints),
    }


def what_plan_says(plan: dict[str, Any]) -> dict[str, Any]:
    numbers, events = plan["plan"], plan["events"]
    return {
        "train rows": numbers["dataset_rows"],
        "eval rows": numbers["eval_rows"],
        "total steps": numbers["total_steps"],
        "epochs": round(numbers["epochs_trained"], 6),
        "logs": events["logs"],
        "log points": numbers["log_points"],
        "evaluations": events["evaluations"],
        "evaluation count": numbers["evaluations"],
        "checkpoints": events["checkpoints_kept"],
        "checkpoint count": numbers["checkpoints_kept"],
    }


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES if not c.crashes])
def test_plan_matches_the_run(case: Case, runs: dict[str, Run], transformers_version: str) -> None:
    run = runs[case.name]
    assert run.returncode == 0, run.log[-3000:]
    assert what_plan_says(planned(run, transformers_version)) == what_ran(run)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES if c.crashes])
def test_error_where_llamafactory_refuses(
    case: Case, runs: dict[str, Run], transformers_version: str
) -> None:
    run = runs[case.name]
    assert run.returncode != 0, "LLaMA-Factory trained a config this case says it refuses"
    done = epochlint(
        "check",
        "train.yaml",
        "--format",
        "json",
        "--transformers-version",
        transformers_version,
        folder=run.folder,
    )
    report = json.loads(done.stdout)
    errors = [d for f in report["files"] for d in f["diagnostics"] if d["severity"] == "error"]
    assert errors, f"no error for a config LLaMA-Factory refuses:\n{run.log[-1500:]}"
