"""The facts one config is checked against, computed once and shared by every rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from epochlint.dialects.base import TrainingConfig
from epochlint.facts import guidelines as tables
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
        return tables.method_row(self.config.method)

    @property
    def tier(self) -> str:
        return tables.tier_of(self.plan.dataset_rows, self.guidelines)

    def epoch_range(self) -> tuple[float, float]:
        return tables.epoch_range(self.guidelines, self.config.method, self.tier)

    def learning_rate_band(self) -> dict[str, float]:
        return tables.learning_rate_band(self.guidelines, self.config.method)
