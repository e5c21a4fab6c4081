"""Everything a run is configured with: command-line options, configuration files, defaults."""

from __future__ import annotations

import json
import os
from functools import cache

from epochlint.diagnostic import Severity
from epochlint.records import field, record
from epochlint.rules import default_selection
from epochlint.versions import Version, default_transformers, default_trl

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

# The command line as a source of settings: the origin of its settings layer, and the path that
# findings on `key=value` overrides are reported at.
COMMAND_LINE = "<command line>"


class SettingsError(Exception):
    """A bad option or configuration value; the message names it and says what is allowed."""


def rules_data(name: str) -> str:
    """A data file of the epochlint.rules package. Read with open(), not importlib.resources:
    that import costs about 5 ms, a tenth of a one-file check, and the package is on disk."""
    import epochlint.rules

    with open(os.path.join(os.path.dirname(epochlint.rules.__file__), name), encoding="utf-8") as f:
        return f.read()


@cache
def default_guidelines() -> dict[str, Any]:
    tables: dict[str, Any] = json.loads(rules_data("guidelines.json"))
    return tables


def guidelines_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(rules_data("guidelines.schema.json"))
    return schema


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    import copy  # only when a user overrides a guideline

    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def guidelines_with(
    overrides: dict[str, Any] | None, origin: str = "configuration"
) -> dict[str, Any]:
    """The guideline tables with a user's overrides applied, validated against their schema."""
    if not overrides:
        return default_guidelines()
    import jsonschema  # only when a user overrides a number: it is slow to import

    merged = _merge(default_guidelines(), overrides)
    validator = jsonschema.Draft7Validator(guidelines_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(merged))
    if error is not None:
        where = ".".join(str(part) for part in error.absolute_path) or "(top level)"
        raise SettingsError(f"{origin}: guidelines `{where}`: {error.message}")
    return merged


@record
class Settings:
    guidelines: dict[str, Any] = field(default_factory=default_guidelines)
    world_size: int = 1
    world_size_source: str = "default"
    dataset_size: int | None = None  # rows as stored, given by the user
    dataset_size_source: str | None = None
    transformers: Version = field(default_factory=default_transformers)
    select: frozenset[str] | None = None  # None = the default selection (no opt-in rule)
    ignore: frozenset[str] = frozenset()
    severities: dict[str, Severity] = field(default_factory=dict)
    unfixable: frozenset[str] = frozenset()
    root: str | None = None  # where relative dataset_dir paths start (LLaMA-Factory: the cwd)
    dialect: str | None = None  # llamafactory, axolotl, hf or trl; None: detect from the keys
    trl: Version = field(default_factory=default_trl)
    trl_trainer: str | None = None  # which TRL trainer reads the configs; None: from the keys
    trl_entry: str | None = None  # how TRL configs are run (cli, script, recipe); None: unknown

    def enabled(self, code: str) -> bool:
        return rule_enabled(code, self.select, self.ignore)


def rule_enabled(code: str, select: frozenset[str] | None, ignore: frozenset[str]) -> bool:
    """Whether a rule runs under a selection (None: the default one) and ignored prefixes."""
    if ignore and any(code.startswith(prefix) for prefix in ignore):
        return False
    if select is None:
        return code in default_selection()
    return any(code.startswith(prefix) for prefix in select)
