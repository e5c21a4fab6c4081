"""Check the checks (issue #4): each error rule that claims a transformers start-up crash is
confirmed against the installed transformers.

For every case, epochlint must report the rule as an error on a LLaMA-Factory config, the
config's TrainingArguments keys must really fail in `HfArgumentParser(TrainingArguments)
.parse_dict` (what LLaMA-Factory calls) with the message the rule cites, and the corrected
config (epochlint's own fix where the rule has one) must build and lint clean of the rule.

Needs the `crosscheck` extra: `pip install -e '.[crosscheck]'` (torch 2.13.0 CPU,
transformers within LLaMA-Factory's pin, accelerate). Runs on the CPU (`use_cpu=True`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

transformers = pytest.importorskip(
    "transformers",
    reason="the cross-check needs transformers: pip install -e '.[crosscheck]'",
)
omegaconf = pytest.importorskip("omegaconf", reason="LLaMA-Factory reads configs with OmegaConf")

from epochlint.diagnostic import Severity  # noqa: E402
from epochlint.engine import check_source  # noqa: E402
from epochlint.fix.planner import fix_source  # noqa: E402
from epochlint.reading.source import decode  # noqa: E402
from epochlint.settings import Settings  # noqa: E402
from epochlint.versions import Version  # noqa: E402

INSTALLED = Version.parse(transformers.__version__)
TRAINING_FIELDS = {field.name for field in dataclasses.fields(transformers.TrainingArguments)}

BASE = """\
# epochlint: dataset-size=3000
### model
model_name_or_path: Qwen/Qwen3-4B-Instruct-2507

### method
stage: sft
do_train: true
finetuning_type: lora
lora_target: all

### dataset
dataset: support_chats
template: qwen3_nothink
cutoff_len: 2048

### output
output_dir: saves/qwen3-4b/lora/sft
logging_steps: 10
report_to: none

### train
per_device_train_batch_size: 2
gradient_accumulation_steps: 4
learning_rate: 1.0e-4
num_train_epochs: 3.0
lr_scheduler_type: cosine
bf16: true
"""


@dataclass(frozen=True)
class Case:
    id: str
    rule: str
    lines: str  # appended to BASE (a later key replaces BASE's, see config())
    error: str  # what transformers raises, as a regular expression
    corrected: str | None = None  # lines for the corrected config; None: epochlint's own fix
    applies: bool = True  # False where the installed transformers does not have this check

    def reason(self) -> str:
        return f"transformers {INSTALLED} does not raise this ({self.id})"


def config(lines: str) -> str:
    """BASE with `lines` applied: a key already in BASE is replaced in place, others appended."""
    text = BASE
    extra = []
    for line in lines.splitlines():
        key = line.split(":", 1)[0]
        pattern = re.compile(rf"^{re.escape(key)}:.*$", re.MULTILINE)
        if pattern.search(text):
            text = pattern.sub(line, text, count=1)
        else:
            extra.append(line)
    return text + "".join(f"{line}\n" for line in extra)


V4 = INSTALLED.major < 5
CASES = [
    Case(
        "EL303-fp16-and-bf16",
        "EL303",
        "fp16: true",
        r"At most one of fp16 and bf16 can be True, but not both",
        corrected="fp16: false",
    ),
    Case(
        "EL403-strategy-mismatch",
        "EL403",
        "val_size: 0.1\neval_strategy: epoch\nsave_strategy: steps\nload_best_model_at_end: true",
        r"--load_best_model_at_end requires the save and eval strategy to match",
    ),
    Case(
        "EL404-save-not-multiple",
        "EL404",
        "val_size: 0.1\neval_strategy: steps\neval_steps: 300\nsave_steps: 500\n"
        "load_best_model_at_end: true",
        r"--load_best_model_at_end requires the saving steps to be a round multiple of the "
        r"evaluation steps, but found 500, which is not a round multiple of 300",
    ),
    Case(
        "EL410-warmup-ratio-above-1-on-4x",
        "EL410",
        "warmup_ratio: 10",
        r"warmup_ratio must lie in range \[0,1\]",
        corrected="warmup_ratio: 0.1",
        applies=V4,
    ),
    Case(
        "EL410-negative-warmup-ratio-on-5x",
        "EL410",
        "warmup_ratio: -0.1",
        r"warmup_steps must be an integer or a float",
        corrected="warmup_ratio: 0.1",
        applies=not V4,
    ),
    Case(
        "EL410-logging-steps-0",
        "EL410",
        "logging_steps: 0",
        r"requires non-zero --logging_steps",
        corrected="logging_steps: 10",
    ),
    Case(
        "EL411-plateau-without-eval",
        "EL411",
        "lr_scheduler_type: reduce_lr_on_plateau",
        r"lr_scheduler_type reduce_lr_on_plateau requires an eval strategy",
        corrected="lr_scheduler_type: reduce_lr_on_plateau\nval_size: 0.1\neval_strategy: epoch",
    ),
    Case(
        "EL411-greedy-without-eval",
        "EL411",
        "lr_scheduler_type: greedy",
        r"lr_scheduler_type greedy requires an eval strategy",
        corrected="lr_scheduler_type: greedy\nval_size: 0.1\neval_strategy: epoch",
        applies=INSTALLED >= Version(5, 4),
    ),
    Case(
        "EL102-float-warmup-steps-on-4x",
        "EL102",
        "warmup_steps: 0.1",
        r"warmup_steps must be of type int and must be 0 or a positive integer",
        applies=V4,
    ),
    Case(
        "EL102-fractional-save-steps",
        "EL102",
        "save_steps: 100.5",
        r"--save_steps must be an integer if bigger than 1",
        corrected="save_steps: 100",
    ),
    Case(
        "EL103-scheduler",
        "EL103",
        "lr_scheduler_type: cosine_decay",
        r"cosine_decay is not a valid SchedulerType",
        corrected="lr_scheduler_type: cosine",
    ),
    Case(
        "EL103-optim",
        "EL103",
        "optim: adamw_torch_fuse",
        r"adamw_torch_fuse is not a valid OptimizerNames",
    ),
    Case(
        "EL103-eval-strategy",
        "EL103",
        "val_size: 0.1\neval_strategy: step",
        r"step is not a valid IntervalStrategy",
    ),
    Case(
        "EL104-evaluation-strategy",
        "EL104",
        "val_size: 0.1\nevaluation_strategy: steps",
        r"Some keys are not used by the HfArgumentParser: \['evaluation_strategy'\]",
    ),
    Case(
        "EL104-no-cuda-on-5x",
        "EL104",
        "no_cuda: true",
        r"Some keys are not used by the HfArgumentParser: \['no_cuda'\]",
        applies=not V4,
    ),
    Case(
        "EL101-misspelt-key",
        "EL101",
        "num_train_epoch: 3.0",
        r"Some keys are not used by the HfArgumentParser: \['num_train_epoch'\]",
        corrected="",
    ),
]
# `corrected=""` is BASE itself: EL101's fix renames to `num_train_epochs`, which BASE already
# sets, so epochlint only suggests removing the stray key.


def settings(rule: str | None = None) -> Settings:
    select = frozenset({rule}) if rule else None
    return Settings(transformers=INSTALLED, select=select)


def lint_errors(text: str, rule: str) -> list[str]:
    result = check_source(decode(text.encode(), "train.yaml"), settings())
    return [
        d.message for d in result.diagnostics if d.rule == rule and d.severity == Severity.ERROR
    ]


def training_keys(text: str) -> dict[str, Any]:
    """The keys LLaMA-Factory hands to transformers: read by OmegaConf, less its own arguments.

    LLaMA-Factory parses all its dataclasses with one HfArgumentParser; keys that belong to
    none of them stay, so a key that is neither LLaMA-Factory's nor transformers' is kept."""
    loaded = omegaconf.OmegaConf.to_container(omegaconf.OmegaConf.create(text))
    assert isinstance(loaded, dict)
    llamafactory_own = set(BASE_KEYS) - TRAINING_FIELDS | {"val_size"}
    return {key: value for key, value in loaded.items() if key not in llamafactory_own}


BASE_KEYS = [line.split(":", 1)[0] for line in BASE.splitlines() if re.match(r"^\w+:", line)]


def build(keys: dict[str, Any], output_dir: Path) -> Any:
    parser = transformers.HfArgumentParser(transformers.TrainingArguments)
    arguments = {**keys, "output_dir": str(output_dir), "use_cpu": True}
    (training_args,) = parser.parse_dict(arguments)
    return training_args


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_error_rule_matches_transformers(case: Case, tmp_path: Path) -> None:
    if not case.applies:
        pytest.skip(case.reason())
    text = config(case.lines)
    assert lint_errors(text, case.rule), f"epochlint does not report {case.rule} as an error"

    with pytest.raises(ValueError, match=case.error):
        build(training_keys(text), tmp_path)

    if case.corrected is None:
        outcome = fix_source(decode(text.encode(), "train.yaml"), settings(case.rule))
        assert outcome.refused is None, outcome.refused
        assert outcome.changed, f"{case.rule} offers no fix for {case.id}"
        corrected = outcome.text
    else:
        corrected = config(case.corrected)
    assert not lint_errors(corrected, case.rule), corrected
    build(training_keys(corrected), tmp_path)  # the corrected config starts


def test_the_base_config_builds(tmp_path: Path) -> None:
    """BASE itself is accepted, so every failure above comes from the case's own lines."""
    assert not check_source(decode(BASE.encode(), "train.yaml"), settings()).diagnostics
    arguments = build(training_keys(BASE), tmp_path)
    assert arguments.num_train_epochs == 3.0 and arguments.bf16
