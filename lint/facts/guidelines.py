"""The guideline tables (rules/guidelines.json) as facts: data tiers, method rows, the epoch
range and learning-rate band of a config, and how a range is written in a message.

`check`'s rules and `recommend` read the tables only through here, so a tier boundary or a
method row means the same thing in a finding and in a recommended block.
"""

from __future__ import annotations

from epochlint.diagnostic import format_value
from epochlint.records import record

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

# How a method is named in messages.
METHOD_NAMES = {
    "lora": "LoRA",
    "qlora": "QLoRA",
    "oft": "OFT",
    "freeze": "Freeze",
    "full": "full fine-tuning",
}

# How a training stage is named in messages.
STAGE_NAMES = {
    "pt": "pre-training",
    "sft": "SFT",
    "dpo": "DPO",
    "kto": "KTO",
    "orpo": "ORPO",
    "simpo": "SimPO",
    "rm": "reward-model training",
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
    """The recommended SFT epoch range: what `recommend` writes and a fix aims at."""
    return _cell(guidelines["epochs"][method_row(method)][tier]).recommended


def learning_rate_band(guidelines: dict[str, Any], method: str) -> dict[str, float]:
    band: dict[str, float] = guidelines["learning_rate"][method_row(method)]
    return band


def number_text(value: float) -> str:
    """A table number as a message writes it: 3, not 3.0."""
    return format_value(value).removesuffix(".0")


def range_text(low: float, high: float) -> str:
    """A range as a message writes it: 3-5."""
    return f"{number_text(low)}-{number_text(high)}"


@record(frozen=True)
class EpochCell:
    """One cell of an epoch table: what the guide recommends, and what published, successful
    recipes use. Outside `recommended` but inside `tolerated` is info; outside, a warning."""

    recommended: tuple[float, float]
    tolerated: tuple[float, float]


def stage_group(guidelines: dict[str, Any], stage: str) -> str | None:
    """sft, pt, preference or rm; None for a stage the tables do not cover (ppo, grpo)."""
    group: str | None = guidelines["stages"].get(stage)
    return group


def _cell(value: Any) -> EpochCell:
    if isinstance(value, dict):
        low, high = value["recommended"]
        tolerated_low, tolerated_high = value["tolerated"]
        return EpochCell((float(low), float(high)), (float(tolerated_low), float(tolerated_high)))
    low, high = value  # a plain range (an override written the old way): both ranges
    return EpochCell((float(low), float(high)), (float(low), float(high)))


def epoch_cell(guidelines: dict[str, Any], stage: str, method: str, tier: str) -> EpochCell | None:
    """The epoch cell for a run, or None when its stage is not checked (pt, ppo)."""
    group = stage_group(guidelines, stage)
    if group == "sft":
        return _cell(guidelines["epochs"][method_row(method)][tier])
    cell = guidelines["stage_epochs"].get(group) if group is not None else None
    return _cell(cell) if cell is not None else None


def stage_learning_rate_band(
    guidelines: dict[str, Any], stage: str, method: str, parameters: float | None = None
) -> dict[str, float] | None:
    """The learning-rate band for a run's stage and method (None: the stage is not checked).

    A method a stage's table leaves out follows SFT's band; SFT on a model of at most
    `small_model.max_parameters` is warned only above the small-model edge."""
    group = stage_group(guidelines, stage)
    if group is None:
        return None
    row = method_row(method)
    own = guidelines["stage_learning_rate"].get(group, {}) if group != "sft" else {}
    if row in own:
        band: dict[str, float] = own[row]
        return band
    band = learning_rate_band(guidelines, method)
    small = guidelines["small_model"]
    if group == "sft" and parameters is not None and parameters <= small["max_parameters"]:
        band = {**band, "high": max(band["high"], small["learning_rate_high"][row])}
    return band
