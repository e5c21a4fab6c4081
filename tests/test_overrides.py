"""`key=value` overrides: typed and merged exactly as OmegaConf.from_cli + merge does, and
linted with findings on overridden keys pointing at the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import settings
from omegaconf import OmegaConf

from epochlint.overrides import (
    OverrideError,
    check_with_overrides,
    merged_values,
    parse_overrides,
    split_overrides,
)
from epochlint.reading.source import decode
from epochlint.settings import COMMAND_LINE

ARGUMENTS = [
    "learning_rate=1e-5",
    "dataset=[alpaca,identity]",
    "logging_steps=1",
    "bf16=yes",
    "output_dir=",
    "run_name='3'",
    "a.b=1",
    "a.c.d=x",
    "lora_target=q_proj,v_proj",
    "eval_steps=0.1",
    "logging_steps=5",
    "note=a=b",
    "scale=+1e3",
]


def omegaconf_merge(yaml_text: str, arguments: list[str]) -> dict[str, object]:
    merged = OmegaConf.merge(OmegaConf.create(yaml_text), OmegaConf.from_cli(arguments))
    container = OmegaConf.to_container(merged)
    assert isinstance(container, dict)
    return {str(key): value for key, value in container.items()}


def test_values_typed_and_merged_as_omegaconf_does() -> None:
    base = "learning_rate: 1.0e-4\na:\n  b: 0\n  e: 2\ndataset: alpaca\n"
    data = OmegaConf.to_container(OmegaConf.create(base))
    assert isinstance(data, dict)
    ours = merged_values({str(k): v for k, v in data.items()}, parse_overrides(ARGUMENTS))
    assert ours == omegaconf_merge(base, ARGUMENTS)
    assert ours["learning_rate"] == 1e-5 and ours["dataset"] == ["alpaca", "identity"]
    assert ours["logging_steps"] == 5  # a later value wins


def test_split_after_the_config_path() -> None:
    assert split_overrides(("train.yaml", "a=1", "b=2")) == (("train.yaml",), ("a=1", "b=2"))
    assert split_overrides(("a.yaml", "b.yaml")) == (("a.yaml", "b.yaml"), ())


@pytest.mark.parametrize("argument", ["=1", "a..b=1", "novalue"])
def test_not_an_override(argument: str) -> None:
    with pytest.raises(OverrideError):
        parse_overrides([argument])


CONFIG = """\
model_name_or_path: m
stage: sft
do_train: true
finetuning_type: lora
dataset: x
num_train_epochs: 3.0
learning_rate: 1.0e-4
bf16: true
"""


def test_findings_on_overridden_keys_point_at_the_command_line() -> None:
    source = decode(CONFIG.encode(), "train.yaml")
    results = check_with_overrides(
        source, settings(dataset_size=2000), ["num_train_epochs=20", "lora_r=8"]
    )
    assert [r.path for r in results] == ["train.yaml", COMMAND_LINE]
    on_line = {d.rule: (d.line, d.column) for d in results[1].diagnostics}
    assert on_line["EL201"] == (1, 18)  # the value 20 in `num_train_epochs=20 lora_r=8`
    assert on_line["EL101"] == (1, 21)  # the key lora_r
    assert all(d.fix is None for d in results[1].diagnostics)  # the command line is not fixed
    assert results[0].source is not None and results[0].source.text == CONFIG


def test_override_that_makes_a_good_config_clean() -> None:
    source = decode(CONFIG.replace("3.0", "20.0").encode(), "train.yaml")
    before = check_with_overrides(source, settings(dataset_size=2000), [])
    after = check_with_overrides(source, settings(dataset_size=2000), ["num_train_epochs=4"])
    assert "EL201" in [d.rule for d in before[0].diagnostics]
    assert not any(d.rule == "EL201" for r in after for d in r.diagnostics)


def test_other_findings_keep_their_line_in_the_file() -> None:
    """An override that shortens a block list moves the lines below it in the merged text;
    findings there are still reported at their line on disk."""
    text = CONFIG.replace("dataset: x\n", "dataset:\n  - x\n  - y\nnum_epochs: 3\n")
    source = decode(text.encode(), "train.yaml")
    results = check_with_overrides(source, settings(dataset_size=2000), ["dataset=[x]"])
    unknown = [d for d in results[0].diagnostics if d.rule == "EL101"]
    assert [(d.line, d.column) for d in unknown] == [(8, 1)]  # num_epochs, on disk


def test_check_command_accepts_overrides(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(CONFIG)
    code = "from epochlint.cli import main; main()"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "check",
            "--dataset-size",
            "2000",
            str(config),
            "learning_rate=1e-5",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "<command line>:1:15: EL301" in result.stdout
    assert config.read_text() == CONFIG
