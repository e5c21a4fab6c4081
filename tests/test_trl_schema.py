"""The shipped TRL key schema is what scripts/make_trl_schema.py makes from ../shared."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import SHARED, require

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = SHARED / "reference"
SHIPPED = ROOT / "lint" / "dialects" / "trl" / "schema.json"


@pytest.fixture
def make_trl_schema(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    require(REFERENCE, "the reference facts")
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    for name in ("make_schemas", "make_trl_schema"):
        sys.modules.pop(name, None)
    import make_trl_schema

    return make_trl_schema


def test_the_trl_schema_is_generated(make_trl_schema) -> None:  # type: ignore[no-untyped-def]
    assert make_trl_schema.build(REFERENCE) == json.loads(SHIPPED.read_text(encoding="utf-8"))


def test_each_command_accepts_the_keys_trl_parser_has() -> None:
    """The keys of `trl <command>` (script arguments, the trainer's config with what it
    inherits from TrainingArguments, ModelConfig, DatasetMixtureConfig) number exactly the
    argparse destinations TRL's own parser was measured to have with transformers 5.24.0
    (without the TrainingArguments fields transformers 5 removed)."""
    require(REFERENCE, "the reference facts")
    schema = json.loads(SHIPPED.read_text(encoding="utf-8"))
    measured = json.loads((REFERENCE / "trl_keys.json").read_text())["commands"]
    groups = schema["x-epochlint-groups"]
    for trainer, spec in schema["x-epochlint-trainers"].items():
        if spec["command"] is None:
            continue
        config_class = spec["config"]
        config_fields = json.loads((REFERENCE / "trl_keys.json").read_text())["classes"][
            config_class
        ]["fields"]
        keys = (
            set(groups[spec["script_arguments"]])
            | set(groups["ModelConfig"])
            | set(groups["DatasetMixtureConfig"])
            | set(groups["TrainingArguments"])
            | set(config_fields)
        )
        assert set(spec["keys"]) <= keys
        assert keys <= set(schema["properties"])
        in_5_24 = keys - set(schema["x-epochlint-version-limits"])
        assert len(in_5_24) == measured[spec["command"]]["yaml_key_count"], trainer


def test_trainers_keep_their_own_defaults() -> None:
    schema = json.loads(SHIPPED.read_text(encoding="utf-8"))
    trainers = schema["x-epochlint-trainers"]
    rates = {name: spec["keys"]["learning_rate"]["default"] for name, spec in trainers.items()}
    assert rates["sft"] == 2e-5 and rates["dpo"] == rates["grpo"] == rates["kto"] == 1e-6
    assert rates["reward"] == 1e-4
    assert schema["properties"]["logging_steps"]["default"] == 10
    assert schema["properties"]["gradient_checkpointing"]["default"] is True
    assert trainers["rloo"]["keys"]["num_generations"]["default"] == 2
    assert trainers["grpo"]["keys"]["num_generations"]["default"] == 8
    renamed = schema["x-epochlint-deprecated"]["max_seq_length"]
    assert renamed == [
        {
            "package": "trl",
            "trainers": ["sft", "gkd"],
            "deprecated_in": "0.16.0",
            "removed_in": "0.20.0",
            "replacement_key": "max_length",
            "replacement": None,
        }
    ]
