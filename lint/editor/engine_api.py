"""Everything the editor integration (server and schema export) takes from the engine.

The language server and `epochlint schema` reach the engine, the fixer, the schedule plan, the
guideline tables, settings discovery and the dialects' key schemas through this module only,
so that the rest of `epochlint.editor` does not depend on where those live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from epochlint import dialects
from epochlint.configfile import Configurations, Options, find_config
from epochlint.diagnostic import Diagnostic, Severity, format_value
from epochlint.dialects.base import Dialect
from epochlint.engine import FileResult, check_source, undecodable
from epochlint.facts import guidelines as tables
from epochlint.reading.source import SourceError, decode
from epochlint.settings import COMMAND_LINE, Settings, SettingsError

# What the rest of epochlint.editor uses by name.
__all__ = ["Diagnostic", "Dialect", "FileResult", "Settings", "SettingsError", "Severity"]


def dialect_names() -> tuple[str, ...]:
    """Every dialect epochlint knows (the registry's), as `--dialect` takes them."""
    return dialects.names()


def dialect_named(name: str) -> Dialect:
    return dialects.named(name)


def refuses_unknown_keys(name: str) -> bool:
    """Whether the trainer stops at a key it does not know: LLaMA-Factory and HfArgumentParser
    raise (HfArgumentParser unless the script's own dataclasses define the key); Axolotl drops
    it (README, "What it checks", EL101)."""
    dialect = dialects.named(name)
    return dialect.unknown_key_effect is None or dialect.script_defines_keys


def key_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a dialect's top-level keys, as the rules read it."""
    return dialects.named(name).schema


def config_file_for(path: Path) -> str | None:
    """The configuration file the CLI would use for a config at `path` (None: defaults)."""
    return find_config(str(path.parent))


def settings_for(path: Path) -> Settings:
    """Settings for one config, found as `epochlint check` finds them, with no options."""
    command_line = Options(origin=COMMAND_LINE, folder=str(path.parent))
    return Configurations(command_line).settings_for(str(path))


def check_text(path: str, text: str, settings: Settings) -> FileResult:
    """Lint a config's text as `epochlint check` lints the same bytes on disk."""
    data = text.encode("utf-8", errors="surrogatepass")
    try:
        source = decode(data, path, real_path=path)
    except SourceError as error:
        return undecodable(path, error, settings)
    try:
        return check_source(source, settings)
    except (RecursionError, MemoryError) as error:  # as `epochlint check` reports them
        return FileResult(path, error=str(error) or type(error).__name__)


def fix_one(result: FileResult, diagnostic: Diagnostic, settings: Settings) -> str | None:
    """The text after the edit `--fix` makes for this finding alone (the same planner, with its
    placement and verification), or None where `--fix` would write nothing."""
    if diagnostic.fix is None or result.source is None:
        return None
    from epochlint.fix.planner import fix_source

    outcome = fix_source(result.source, settings, only=diagnostic)
    return outcome.text if outcome.changed else None


def fix_all_safe(result: FileResult, settings: Settings) -> str | None:
    """The text `epochlint --fix --only-safe` would write, or None when it writes nothing."""
    if result.source is None:
        return None
    from epochlint.fix.planner import fix_source

    outcome = fix_source(result.source, settings, only_safe=True)
    return outcome.text if outcome.changed else None


def epoch_range(result: FileResult, settings: Settings) -> str | None:
    """The guideline epochs for this stage, N and method (what EL201 and EL202 hold the config
    to): the recommended range, and the wider one published recipes use."""
    config, plan, guidelines = result.config, result.plan, settings.guidelines
    if config is None or plan is None:
        return None
    tier = tables.tier_of(plan.dataset_rows, guidelines)
    cell = tables.epoch_cell(guidelines, config.stage, config.method, tier)
    if cell is None:
        return None
    method = tables.METHOD_NAMES.get(config.method, config.method)
    text = f"{tables.range_text(*cell.recommended)} epochs"
    if cell.tolerated != cell.recommended:
        text += f" (tolerated {tables.range_text(*cell.tolerated)})"
    return f"{text} ({method}, {tier} dataset)"


def learning_rate_range(result: FileResult, settings: Settings) -> str | None:
    """The guideline learning rates for the stage and method (what EL301 holds the config to,
    before a small model's size widens it)."""
    config, guidelines = result.config, settings.guidelines
    if config is None:
        return None
    band = tables.stage_learning_rate_band(guidelines, config.stage, config.method)
    if band is None:
        return None
    method = tables.METHOD_NAMES.get(config.method, config.method)
    return (
        f"{format_value(band['low'])} to {format_value(band['high'])}, typically "
        f"{format_value(band['typical'])} ({method})"
    )


def plan_lines(result: FileResult, settings: Settings) -> list[tuple[str, str]]:
    """(label, text) lines of the schedule, as `epochlint plan` prints them."""
    from epochlint.commands.plan import describe

    return describe(result, settings)


def yaml_scalar(value: Any) -> str:
    """A value as YAML text that every loader reads back as the value (as `--fix` writes it)."""
    from epochlint.fix.render import format_scalar

    return format_scalar(value)


def written_like_training_config(text: str) -> bool:
    """For text that does not parse: whether its top-level keys are those of a training config
    (so a config being typed gets its syntax error, and other broken YAML gets nothing)."""
    import re

    keys = set(re.findall(r"^([A-Za-z_][\w.-]*)[ \t]*:", text, re.MULTILINE))
    return bool(keys & dialects.TRAINING_KEYS) or len(keys & dialects.AXOLOTL_KEYS) >= 2
