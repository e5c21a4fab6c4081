"""The facts one config is checked against, computed once and shared by every rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from epochlint.dialects.base import TrainingConfig
from epochlint.facts.dataset import Rows
from epochlint.facts.schedule import Plan
from epochlint.reading.directives import DirectiveError
from epochlint.reading.document import Document
from epochlint.records import record
from epochlint.settings import Settings

if TYPE_CHECKING:
    from epochlint.facts.dataset import Resolution


@record(frozen=True)
class Context:
    document: Document
    config: TrainingConfig
    plan: Plan
    rows: Rows
    settings: Settings
    datasets: Resolution | None = None  # None when N came from the user, or nothing to resolve
    directive_errors: tuple[DirectiveError, ...] = ()

    @property
    def guidelines(self) -> dict[str, Any]:
        return self.settings.guidelines

    @property
    def method_row(self) -> str:
        """The guideline table row for the method: OFT and Freeze follow LoRA."""
        method = self.config.method
        return method if method in ("qlora", "full") else "lora"

    @property
    def tier(self) -> str:
        rows = self.plan.dataset_rows
        if rows is None:
            return "unknown"
        tiers = self.guidelines["dataset_tiers"]
        if rows < tiers["small_below"]:
            return "small"
        if rows > tiers["large_above"]:
            return "large"
        return "medium"

    def epoch_range(self) -> tuple[float, float]:
        low, high = self.guidelines["epochs"][self.method_row][self.tier]
        return float(low), float(high)

    def learning_rate_band(self) -> dict[str, float]:
        band: dict[str, float] = self.guidelines["learning_rate"][self.method_row]
        return band
