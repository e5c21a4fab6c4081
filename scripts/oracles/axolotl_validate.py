"""Run Axolotl's own config validation over YAML files and print what it decides, as JSON.

Run with the oracle's Python (scripts/oracles/axolotl.sh makes it):

    .oracles/axolotl/bin/python scripts/oracles/axolotl_validate.py FILE...

For each file this does what `axolotl.cli.config.load_cfg` does up to the validation, without
hardware capabilities (so the config checks run, the GPU checks do not):
`DictDefault(yaml.safe_load(...))`, `prepare_plugins(cfg)` with a fresh `PluginManager`, then
`validate_config(cfg)`. It prints one JSON document:

    {"versions": {"axolotl": ..., "transformers": ..., "pydantic": ...},
     "files": {FILE: {"outcome": "accepted" | "refused" | "crashed" | "unreadable",
                      "error": "...", "dropped": [top-level keys the merged model drops]}}}

"refused" is a `ValueError` (pydantic's `ValidationError` is one) or a `DeprecationWarning`
raised by a validator: the config does not load. "crashed" is any other exception, a bug inside
Axolotl's validation rather than a verdict on the config. The dropped keys are the top-level keys
that are neither a field nor an alias of the model `validate_config` uses (with the fields of the
plugins listed under `plugins:`): pydantic ignores them without a word.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import sys
from typing import Any

os.environ.setdefault("AXOLOTL_DO_NOT_TRACK", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Only the JSON goes to standard output: Axolotl, torchao and plugins print on import and while
# validating, so file descriptor 1 points at standard error until the report is written.
REPORT = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)

import yaml  # noqa: E402
from axolotl.cli.config import prepare_plugins  # noqa: E402
from axolotl.integrations.base import PluginManager  # noqa: E402
from axolotl.integrations.config import merge_input_args  # noqa: E402
from axolotl.utils.config import validate_config  # noqa: E402
from axolotl.utils.dict import DictDefault  # noqa: E402
from axolotl.utils.schemas.config import AxolotlInputConfig  # noqa: E402


def accepted_names(model: Any) -> set[str]:
    """Top-level names the model reads: every field name and every alias."""
    names: set[str] = set()
    by_name = model.model_config.get("populate_by_name") or model.model_config.get(
        "validate_by_name"
    )
    for name, field in model.model_fields.items():
        aliases = {field.alias} if field.alias else set()
        choices = getattr(field.validation_alias, "choices", None)
        if isinstance(field.validation_alias, str):
            aliases.add(field.validation_alias)
        elif choices:
            aliases.update(choice for choice in choices if isinstance(choice, str))
        if by_name or not aliases:
            names.add(name)
        names.update(aliases)
    return names


def check(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as stream:
        try:
            data = yaml.safe_load(stream)
        except yaml.YAMLError as error:
            return {"outcome": "unreadable", "error": str(error), "dropped": []}
    if not isinstance(data, dict):
        return {"outcome": "unreadable", "error": "not a mapping", "dropped": []}
    PluginManager._instance = None  # the singleton would keep the previous file's plugins
    cfg = DictDefault(data)
    prepare_plugins(cfg)
    listed = [str(name) for name in cfg.get("plugins") or []]
    missing = [name for name in listed if name not in PluginManager.get_instance().plugins]
    if missing:
        # A plugin Axolotl cannot import here would make its fields look dropped.
        return {"outcome": "plugin-unavailable", "error": ", ".join(missing), "dropped": []}
    model = merge_input_args()[1] if cfg.get("plugins") else AxolotlInputConfig
    names = accepted_names(model)
    dropped = sorted(str(key) for key in data if str(key) not in names)
    try:
        validate_config(cfg)
    except (ValueError, DeprecationWarning) as error:
        return {
            "outcome": "refused",
            "error": f"{type(error).__name__}: {error}",
            "dropped": dropped,
        }
    except Exception as error:  # noqa: BLE001  # a bug in a validator is reported, not fatal
        return {
            "outcome": "crashed",
            "error": f"{type(error).__name__}: {error}",
            "dropped": dropped,
        }
    return {"outcome": "accepted", "error": "", "dropped": dropped}


def main() -> None:
    logging.disable(logging.CRITICAL)  # Axolotl logs warnings for many valid configs
    results: dict[str, Any] = {}
    for path in sys.argv[1:]:
        results[path] = check(path)
    versions = {
        name: importlib.metadata.version(name) for name in ("axolotl", "transformers", "pydantic")
    }
    json.dump({"versions": versions, "files": results}, REPORT, indent=1)
    REPORT.write("\n")
    REPORT.close()


if __name__ == "__main__":
    main()
