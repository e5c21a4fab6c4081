"""`epochlint schema`: the JSON Schemas for yaml-language-server, held to the key schemas the
rules check with and to the rules' verdicts on real configs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import CORPUS, require
from readme_snippets import runnable

from epochlint.diagnostic import Severity
from epochlint.dialects import detect
from epochlint.dialects.base import load_schema
from epochlint.editor.engine_api import dialect_names
from epochlint.editor.schema_export import shipped_path
from epochlint.engine import check_source
from epochlint.reading.document import parse
from epochlint.reading.source import read_file
from epochlint.settings import Settings

# Every dialect of the registry: one that joins it needs its schema shipped too.
DIALECTS = dialect_names()
# The rules whose verdicts the schema expresses: unknown keys, wrong types, invalid choices.
SCHEMA_RULES = {"EL101", "EL102", "EL103"}


def printed(dialect: str) -> str:
    """What `epochlint schema --dialect DIALECT` prints (the installed console script)."""
    command = [*runnable(["epochlint"]), "schema", "--dialect", dialect]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def exported(dialect: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(printed(dialect))
    return schema


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_shipped_schema_is_what_the_command_prints(dialect: str) -> None:
    shipped = shipped_path(dialect).read_text(encoding="utf-8")
    assert printed(dialect) == shipped, (
        f"{shipped_path(dialect).name} is out of date: "
        f"epochlint schema --dialect {dialect} > lint/editor/schemas/{dialect}.schema.json"
    )


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_key_carries_its_type_choices_default_and_help(dialect: str) -> None:
    schema = exported(dialect)
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    keys = load_schema(dialect)["properties"]
    assert set(keys) <= set(schema["properties"])
    for name, key in keys.items():
        out = schema["properties"][name]
        for keyword in ("type", "enum", "default"):
            assert out.get(keyword) == key.get(keyword), (name, keyword)
        if "description" in key:
            assert key["description"] in out["description"]
        assert not [word for word in out if word.startswith("x-")]


def test_unknown_keys_are_refused_where_the_trainer_refuses_them() -> None:
    assert exported("llamafactory")["additionalProperties"] is False
    assert exported("hf")["additionalProperties"] is False
    # Axolotl drops unknown keys silently: the schema cannot call them errors.
    assert exported("axolotl")["additionalProperties"] is True


def test_deprecated_keys_say_what_to_use() -> None:
    group_by_length = exported("llamafactory")["properties"]["group_by_length"]["description"]
    assert group_by_length.startswith(
        "Removed in transformers 5.2.0: use train_sampling_strategy: group_by_length."
    )


def test_a_misspelt_key_and_a_bad_choice_are_flagged() -> None:
    validator = jsonschema.Draft7Validator(exported("llamafactory"))
    good = {"stage": "sft", "num_train_epochs": 3.0, "lr_scheduler_type": "cosine"}
    assert not list(validator.iter_errors(good))
    misspelt = {**good, "num_train_epoch": 3}
    assert any("num_train_epoch" in error.message for error in validator.iter_errors(misspelt))
    bad_choice = {**good, "lr_scheduler_type": "cosin"}
    assert any("cosin" in error.message for error in validator.iter_errors(bad_choice))


def _corpus_configs(dialect: str) -> list[Path]:
    folder = CORPUS / dialect / "examples"
    require(folder, f"the {dialect} examples of the shared corpus")
    return sorted(folder.rglob("*.yaml"))


@pytest.mark.parametrize("dialect", ["llamafactory", "axolotl"])
def test_the_schema_agrees_with_the_rules_on_real_configs(dialect: str) -> None:
    """A real config the key rules pass is valid against the schema; one with an unknown key
    is invalid where the trainer refuses unknown keys."""
    validator = jsonschema.Draft7Validator(exported(dialect))
    checked = 0
    for path in _corpus_configs(dialect):
        source = read_file(str(path))
        if detect(parse(source), None).dialect is None:
            continue
        result = check_source(source, Settings())
        if result.dialect != dialect:
            continue
        data = yaml.safe_load(source.text)
        found = {d.rule for d in result.diagnostics}
        refused = {d.rule for d in result.diagnostics if d.severity == Severity.ERROR}
        errors = list(validator.iter_errors(data))
        if not found & SCHEMA_RULES:
            assert not errors, (path, [error.message for error in errors])
        elif "EL101" in refused and dialect == "llamafactory":
            assert errors, path
        checked += 1
    assert checked > 10
