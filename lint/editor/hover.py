"""What hovering over a key shows: the training plan on a schedule key, the key's documentation
on any key the dialect knows (Markdown)."""

from __future__ import annotations

import json
from typing import Any

from epochlint.editor import engine_api
from epochlint.editor.engine_api import Dialect, FileResult, Settings

# Canonical fields whose value changes the schedule: hovering one shows the plan.
SCHEDULE_FIELDS = frozenset(
    {
        "num_train_epochs",
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "max_steps",
        "learning_rate",
        "lr_scheduler_type",
        "warmup_ratio",
        "warmup_steps",
        "eval_strategy",
        "eval_steps",
        "save_strategy",
        "save_steps",
        "logging_strategy",
        "logging_steps",
        "val_size",
        "dataset",
        "max_samples",
        "dataloader_drop_last",
    }
)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def key_documentation(dialect: Dialect, key: str) -> str | None:
    """The key's type, default, allowed values and help, from the dialect's key schema."""
    schema = dialect.properties.get(key)
    if schema is None:
        return None
    kinds = schema.get("type")
    if isinstance(kinds, list):
        kinds = " or ".join(kinds) if kinds else None
    lines = [f"**`{key}`** ({dialect.title})"]
    facts = []
    if kinds:
        facts.append(f"type: {kinds}")
    if "default" in schema:
        facts.append(f"default: `{_json(schema['default'])}`")
    if facts:
        lines.append("; ".join(facts))
    if schema.get("enum"):
        lines.append("allowed: " + ", ".join(f"`{_json(value)}`" for value in schema["enum"]))
    if schema.get("description"):
        lines.append(str(schema["description"]))
    return "\n\n".join(lines)


def plan_documentation(result: FileResult, settings: Settings) -> str | None:
    """The schedule `epochlint plan` shows, with the guideline ranges for this N and method."""
    if result.plan is None or result.config is None:
        return None
    lines = ["**Training plan** (as `epochlint plan` computes it)", ""]
    lines += [f"- {label}: {text}" for label, text in engine_api.plan_lines(result, settings)]
    epochs = engine_api.epoch_range(result, settings)
    if epochs is not None:
        lines.append(f"- guideline: {epochs}")
    rates = engine_api.learning_rate_range(result, settings)
    if rates is not None:
        lines.append(f"- guideline learning rate: {rates}")
    return "\n".join(lines)


def hover_markdown(result: FileResult, settings: Settings, key: str) -> str | None:
    """The hover text for a top-level key of a checked config (None: nothing to say)."""
    if result.config is None:
        return None
    dialect = result.config.dialect
    parts = []
    if dialect.canonical(key) in SCHEDULE_FIELDS:
        plan = plan_documentation(result, settings)
        if plan is not None:
            parts.append(plan)
    documentation = key_documentation(dialect, key)
    if documentation is not None:
        parts.append(documentation)
    return "\n\n---\n\n".join(parts) or None
