"""The facts one config is checked against, computed once and shared by every rule."""

from __future__ import annotations

import os

from epochlint.dialects.base import TrainingConfig
from epochlint.facts import guidelines as tables
from epochlint.facts.dataset import Rows
from epochlint.facts.guidelines import EpochCell
from epochlint.facts.schedule import Plan
from epochlint.reading.directives import DirectiveError
from epochlint.reading.document import Document
from epochlint.records import record
from epochlint.settings import Settings

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

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
        """The SFT band of the method (what `recommend` writes)."""
        return tables.learning_rate_band(self.guidelines, self.config.method)

    def epoch_cell(self) -> EpochCell | None:
        """The epoch ranges for this run's stage, method and data; None: not checked."""
        config = self.config
        return tables.epoch_cell(self.guidelines, config.stage, config.method, self.tier)

    def model_parameters(self) -> float | None:
        """The trained model's size, from its name or a local config.json; None if unknown."""
        from epochlint.facts.model import model_parameters  # only for the learning-rate rule

        root = self.settings.root or os.getcwd()
        return model_parameters(self.config.text("model_name_or_path"), root)

    def stage_learning_rate_band(self, parameters: float | None) -> dict[str, float] | None:
        """The learning-rate band for this run's stage, method and model size."""
        config = self.config
        return tables.stage_learning_rate_band(
            self.guidelines, config.stage, config.method, parameters
        )
