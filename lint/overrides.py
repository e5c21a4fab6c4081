"""`key=value` overrides after a config path, read as LLaMA-Factory reads them.

`llamafactory-cli train cfg.yaml learning_rate=1e-5` builds `OmegaConf.from_cli(argv[2:])` and
merges it over the YAML: the text after the first `=` is read as YAML by OmegaConf's loader
(so `1e-5` is a float, `[a,b]` a list, an empty value null), a dotted key nests, and a later
argument wins. Dictionaries merge key by key; anything else is
replaced.

To lint the merged config with positions, the overrides are written into the YAML text in
memory with the minimal-edit writer, and the result is linted. A finding on an overridden key
is then reported on the command line (`<command line>:1:N`, N the column of the value in the
overrides joined by spaces), because that is where the value came from; every other finding
keeps its place in the file on disk.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import yaml

from epochlint.diagnostic import Diagnostic
from epochlint.dialects import default
from epochlint.engine import FileResult, check_source
from epochlint.fix.edit import EditError, apply_edits
from epochlint.fix.planner import placed_edit
from epochlint.reading.document import Document, DocumentError, OmegaConfLoader, parse
from epochlint.reading.source import Source
from epochlint.records import record, replace
from epochlint.settings import COMMAND_LINE, Settings


class OverrideError(Exception):
    """An override that cannot be read or applied; the message quotes it."""


@record(frozen=True)
class Override:
    text: str  # the argument as given
    key: str  # dotted
    value: Any  # as OmegaConf types it
    offset: int  # where the argument starts in the overrides joined by spaces

    @property
    def top(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def value_column(self) -> int:
        """1-based column of the value (or of the key, for an empty value) on the command line."""
        return self.offset + len(self.key) + 2


def looks_like_override(argument: str) -> bool:
    """`key=value`, not an option and not a file that happens to contain `=`."""
    return "=" in argument and not argument.startswith("-") and not os.path.exists(argument)


def parse_value(text: str) -> Any:
    """A value as `OmegaConf.from_cli` types it: YAML through OmegaConf's loader."""
    if text == "":
        return None
    try:
        return yaml.load(text, Loader=OmegaConfLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return text  # OmegaConf keeps what YAML cannot read as the string it is


# A training argument nests a few levels at most; past this a dotted key is not one, and
# building (and merging) its nested dicts recursively would exhaust Python's stack.
MAX_KEY_LEVELS = 100


def _quoted(argument: str) -> str:
    return (
        f"`{argument}`"
        if len(argument) <= 80
        else f"`{argument[:60]}...` ({len(argument):,} characters)"
    )


def parse_overrides(arguments: list[str] | tuple[str, ...]) -> list[Override]:
    overrides = []
    offset = 0
    for argument in arguments:
        key, equals, value = argument.partition("=")
        parts = key.split(".")
        if not equals or not key or any(not part for part in parts):
            raise OverrideError(f"{_quoted(argument)} is not a key=value override")
        if len(parts) > MAX_KEY_LEVELS:
            raise OverrideError(
                f"{_quoted(argument)}: a key of {len(parts):,} dotted levels; training arguments "
                f"nest a few at most (epochlint reads up to {MAX_KEY_LEVELS})"
            )
        try:
            typed = parse_value(value)
        except (ValueError, OverflowError, RecursionError) as error:
            # yaml's own constructors fail (an int past 4,300 digits): OmegaConf.from_cli too
            reason = str(error).split(";")[0] if str(error) else type(error).__name__
            raise OverrideError(
                f"{_quoted(argument)}: the value cannot be read ({reason})"
            ) from None
        overrides.append(Override(argument, key, typed, offset))
        offset += len(argument) + 1
    return overrides


def _merge(base: Any, update: Any) -> Any:
    if isinstance(base, dict) and isinstance(update, dict):
        merged = dict(base)
        for key, value in update.items():
            merged[key] = _merge(merged.get(key), value)
        return merged
    return copy.deepcopy(update)


def _nested(key: str, value: Any) -> Any:
    for part in reversed(key.split(".")[1:]):
        value = {part: value}
    return value


def merged_values(data: dict[str, Any], overrides: list[Override]) -> dict[str, Any]:
    """The top-level values the overrides leave, as OmegaConf.merge(yaml, cli) would."""
    merged = dict(data)
    for override in overrides:
        update = _nested(override.key, override.value)
        merged[override.top] = _merge(merged.get(override.top), update)
    return merged


def apply_overrides(text: str, data: dict[str, Any], overrides: list[Override]) -> str:
    """The config text with the overrides written in (one edit per top-level key)."""
    if not overrides:
        return text
    merged = merged_values(data, overrides)
    tops = list(dict.fromkeys(override.top for override in overrides))
    try:
        return apply_edits(text, [placed_edit(default(), "set", top, merged[top]) for top in tops])
    except EditError as error:
        raise OverrideError(
            f"cannot apply {' '.join(o.text for o in overrides)}: {error}"
        ) from None


def _entry_at(document: Document, line: int) -> str | None:
    for key, entry in document.entries.items():
        if entry.key_span.line == line:
            return key
    for key, entry in document.entries.items():
        value = entry.value_span
        # A block value ends at the start of the next key's line, which is not its own.
        last = value.end_line - 1 if value.end_column == 1 else value.end_line
        if entry.key_span.line <= line <= max(last, entry.key_span.line):
            return key
    return None


def check_with_overrides(
    source: Source, settings: Settings, arguments: list[str] | tuple[str, ...]
) -> list[FileResult]:
    """Lint the config merged with its overrides: the file's result, then the command line's
    (only when a finding is about an overridden key)."""
    overrides = parse_overrides(arguments)
    try:
        original = parse(source, "omegaconf")
    except DocumentError:
        return [check_source(source, settings)]  # the file's own parse error comes first
    text = apply_overrides(source.text, original.data(), overrides)
    result = check_source(replace(source, text=text), settings)
    if result.document is None:
        return [result]
    by_top = {override.top: override for override in overrides}  # the last one wins
    command_line_text = " ".join(override.text for override in overrides)
    on_file: list[Diagnostic] = []
    on_command_line: list[Diagnostic] = []
    for diagnostic in result.diagnostics:
        key = _entry_at(result.document, diagnostic.line)
        if key in by_top:
            override = by_top[key]
            key_span = result.document.entries[key].key_span
            if (diagnostic.line, diagnostic.column) == (key_span.line, key_span.column):
                # about the key itself (unknown, deprecated): point at the key
                column, end = override.offset + 1, override.offset + len(override.key) + 1
            else:
                column = min(override.value_column, len(command_line_text))
                end = override.offset + len(override.text) + 1
            on_command_line.append(
                replace(diagnostic, line=1, column=column, end_line=1, end_column=end, fix=None)
            )
        elif key is not None and key in original.entries:
            shift = original.entries[key].key_span.line - result.document.entries[key].key_span.line
            on_file.append(
                replace(
                    diagnostic,
                    line=diagnostic.line + shift,
                    end_line=diagnostic.end_line + shift,
                )
            )
        else:
            on_file.append(diagnostic)
    result.diagnostics = on_file
    result.source, result.document = source, original
    results = [result]
    if on_command_line:
        shown = Source(COMMAND_LINE, command_line_text, has_bom=False, newline="\n")
        results.append(FileResult(COMMAND_LINE, source=shown, diagnostics=on_command_line))
    return results


def split_overrides(arguments: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(config paths, overrides): `key=value` arguments that follow a config path."""
    for index, argument in enumerate(arguments):
        if index > 0 and looks_like_override(argument):
            rest = arguments[index:]
            if all(looks_like_override(item) for item in rest):
                return arguments[:index], rest
    return arguments, ()


def check_path_with_overrides(
    path: str, settings: Settings, arguments: tuple[str, ...]
) -> list[FileResult]:
    """`epochlint check cfg.yaml key=value ...`: an unreadable file or a bad override is a
    failure of the file's result, as for any path."""
    from epochlint.reading.source import SourceError, UnreadablePath, read_file

    try:
        source = read_file(path)
    except UnreadablePath as error:
        return [FileResult(path, error=error.message)]
    except SourceError:
        from epochlint.engine import check_path

        return [check_path(path, settings)]
    try:
        return check_with_overrides(source, settings, arguments)
    except OverrideError as error:
        return [FileResult(path, error=str(error))]
