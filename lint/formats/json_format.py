"""`--format json`: the stable machine-readable report (version 1)."""

from __future__ import annotations

import json
from typing import Any

from epochlint.engine import FileResult
from epochlint.formats import DEFAULT, Report

PLAN_KEYS = (
    "dataset_rows",
    "world_size",
    "per_device_batch",
    "gradient_accumulation",
    "effective_batch",
    "steps_per_epoch",
    "total_steps",
    "epochs",
    "warmup_steps",
)


def file_json(result: FileResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "path": result.path,
        "dialect": result.dialect,
        "plan": None,
        "diagnostics": [diagnostic.to_json() for diagnostic in result.diagnostics],
    }
    if result.config is not None and result.config.assumption:
        data["assumed"] = result.config.assumption  # e.g. the TRL trainer read from the keys
    if result.plan is not None:
        plan = result.plan.to_json()
        # The documented keys first, then the rest of the schedule for those who want it.
        data["plan"] = {key: plan[key] for key in PLAN_KEYS} | {
            key: value for key, value in plan.items() if key not in PLAN_KEYS
        }
        if result.datasets is not None:
            data["plan"]["datasets"] = [
                {"name": item.name, "rows": item.rows, "source": item.source, "path": item.path}
                for item in result.datasets.datasets
            ]
    if result.error is not None:
        data["error"] = result.error
    if result.skipped is not None:
        data["skipped"] = result.skipped
    return data


def render(results: list[FileResult], report: Report = DEFAULT) -> str:
    data = {"version": 1, "files": [file_json(result) for result in results]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
