"""Everything the editor integration (server and schema export) takes from the engine.

The language server and `epochlint schema` reach the engine, the fixer, the schedule plan, the
guideline tables, settings discovery and the dialects' key schemas through this module only,
so that the rest of `epochlint.editor` does not depend on where those live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from epochlint.configfile import COMMAND_LINE, Configurations, Options, find_config
from epochlint.context import Context
from epochlint.diagnostic import Diagnostic, Severity, format_value
from epochlint.engine import FileResult, check_source, undecodable
from epochlint.plan import Rows
from epochlint.rules.length import METHOD_NAMES, span_range
from epochlint.settings import Settings, SettingsError
from epochlint.source import SourceError, decode
from epochlint.training import Dialect, load_schema

# What the rest of epochlint.editor uses by name.
__all__ = ["Diagnostic", "Dialect", "FileResult", "Settings", "SettingsError", "Severity"]

# The dialects `--dialect` and the `dialect` setting accept, in the order help lists them.
DIALECTS = ("llamafactory", "axolotl", "hf")


# Whether the trainer stops at a key it does not know (LLaMA-Factory and HfArgumentParser
# raise; Axolotl drops it silently): README, "What it checks", EL101.
REFUSES_UNKNOWN_KEYS = {"llamafactory": True, "axolotl": False, "hf": True}


def dialect_names() -> tuple[str, ...]:
    return DIALECTS


def refuses_unknown_keys(dialect: str) -> bool:
    return REFUSES_UNKNOWN_KEYS[dialect]


def dialect_named(name: str) -> Dialect:
    from epochlint.dialects import dialect_named as named

    return named(name)


def key_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a dialect's top-level keys, as the rules read it."""
    return load_schema(name)


def config_file_for(path: Path) -> Path | None:
    """The configuration file the CLI would use for a config at `path` (None: defaults)."""
    return find_config(path.parent)


def settings_for(path: Path) -> Settings:
    """Settings for one config, found as `epochlint check` finds them, with no options."""
    command_line = Options(origin=COMMAND_LINE, folder=path.parent)
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
    """The text after the edit `--fix` makes for this finding (the fixer's own placement and
    verification), or None when it cannot be made or does not resolve the finding, where
    `--fix` would write nothing."""
    if diagnostic.fix is None or result.source is None or result.config is None:
        return None
    from epochlint.fixer import _key_edit
    from epochlint.yamledit import EditError, apply_edits

    keys = dict(result.config.dialect.keys)
    edits = [_key_edit(edit, keys) for edit in diagnostic.fix.edits]
    try:
        text = apply_edits(result.source.text, edits)
    except EditError:
        return None
    after = check_text(result.source.path, text, settings)
    if after.document is None:
        return None
    if any((d.rule, d.message) == (diagnostic.rule, diagnostic.message) for d in after.diagnostics):
        return None
    return text


def fix_all_safe(result: FileResult, settings: Settings) -> str | None:
    """The text `epochlint --fix --only-safe` would write, or None when it writes nothing."""
    if result.source is None:
        return None
    from epochlint.fixer import fix_source

    outcome = fix_source(result.source, settings, only_safe=True)
    return outcome.text if outcome.changed else None


def _context(result: FileResult, settings: Settings) -> Context | None:
    if result.document is None or result.config is None or result.plan is None:
        return None
    rows = result.rows or Rows(None, None)
    return Context(result.document, result.config, result.plan, rows, settings)


def epoch_range(result: FileResult, settings: Settings) -> str | None:
    """The guideline epochs for this N and method (what EL201 and EL202 hold the config to)."""
    context = _context(result, settings)
    if context is None or context.config.stage not in context.guidelines["length_stages"]:
        return None
    low, high = context.epoch_range()
    method = METHOD_NAMES.get(context.config.method, context.config.method)
    return f"{span_range(low, high)} epochs ({method}, {context.tier} dataset)"


def learning_rate_range(result: FileResult, settings: Settings) -> str | None:
    """The guideline learning rates for the method (what EL301 holds the config to)."""
    context = _context(result, settings)
    if context is None or context.config.stage not in context.guidelines["learning_rate_stages"]:
        return None
    band = context.learning_rate_band()
    method = METHOD_NAMES.get(context.config.method, context.config.method)
    return (
        f"{format_value(band['low'])} to {format_value(band['high'])}, typically "
        f"{format_value(band['typical'])} ({method})"
    )


def plan_lines(result: FileResult, settings: Settings) -> list[tuple[str, str]]:
    """(label, text) lines of the schedule, as `epochlint plan` prints them."""
    from epochlint.plancommand import describe

    return describe(result, settings)


def yaml_scalar(value: Any) -> str:
    """A value as YAML text that every loader reads back as the value (as `--fix` writes it)."""
    from epochlint.yamledit import format_scalar

    return format_scalar(value)


def written_like_training_config(text: str) -> bool:
    """For text that does not parse: whether its top-level keys are those of a training config
    (so a config being typed gets its syntax error, and other broken YAML gets nothing)."""
    import re

    from epochlint.dialects import AXOLOTL_KEYS, TRAINING_KEYS

    keys = set(re.findall(r"^([A-Za-z_][\w.-]*)[ \t]*:", text, re.MULTILINE))
    return bool(keys & TRAINING_KEYS) or len(keys & AXOLOTL_KEYS) >= 2
