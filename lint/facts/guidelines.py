"""The guideline tables (rules/guidelines.json) as facts: data tiers, method rows, the epoch
range and learning-rate band of a config, and how a range is written in a message.

`check`'s rules and `recommend` read the tables only through here, so a tier boundary or a
method row means the same thing in a finding and in a recommended block.
"""

from __future__ import annotations

from typing import Any

from epochlint.diagnostic import format_value

# How a method is named in messages.
METHOD_NAMES = {
    "lora": "LoRA",
    "qlora": "QLoRA",
    "oft": "OFT",
    "freeze": "Freeze",
    "full": "full fine-tuning",
}


def method_row(method: str) -> str:
    """The table row of a fine-tuning method: OFT and Freeze follow LoRA."""
    return method if method in ("qlora", "full") else "lora"


def tier_of(rows: int | None, guidelines: dict[str, Any]) -> str:
    """small, medium or large by training rows; unknown when the rows are."""
    if rows is None:
        return "unknown"
    tiers = guidelines["dataset_tiers"]
    if rows < tiers["small_below"]:
        return "small"
    if rows > tiers["large_above"]:
        return "large"
    return "medium"


def epoch_range(guidelines: dict[str, Any], method: str, tier: str) -> tuple[float, float]:
    low, high = guidelines["epochs"][method_row(method)][tier]
    return float(low), float(high)


def learning_rate_band(guidelines: dict[str, Any], method: str) -> dict[str, float]:
    band: dict[str, float] = guidelines["learning_rate"][method_row(method)]
    return band


def number_text(value: float) -> str:
    """A table number as a message writes it: 3, not 3.0."""
    return format_value(value).removesuffix(".0")


def range_text(low: float, high: float) -> str:
    """A range as a message writes it: 3-5."""
    return f"{number_text(low)}-{number_text(high)}"
