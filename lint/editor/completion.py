"""Completion of top-level key names (with their documentation) and of enumerated values."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from epochlint.editor.engine_api import Dialect, yaml_scalar
from epochlint.editor.hover import key_documentation
from epochlint.records import record

# A key being typed at the start of a line, and a value being typed after `key:`.
TYPING_KEY = re.compile(r"^(?P<typed>[A-Za-z_][\w.-]*)?$")
TYPING_VALUE = re.compile(r"^(?P<key>[A-Za-z_][\w.-]*)\s*:\s+(?P<typed>[^#\s]*)$")


@record(frozen=True)
class Candidate:
    label: str
    kind: Literal["key", "value"]
    insert: str  # what replaces the typed word
    detail: str | None
    documentation: str | None
    replace_from: int  # the character (from 0) where the typed word starts


def _detail(schema: dict[str, Any]) -> str | None:
    kinds = schema.get("type")
    if isinstance(kinds, list):
        kinds = " | ".join(kinds)
    if "default" in schema:
        default = f"default {json.dumps(schema['default'], ensure_ascii=False)}"
        return f"{kinds}, {default}" if kinds else default
    return kinds or None


def candidates(dialect: Dialect, before_cursor: str, present: set[str]) -> list[Candidate]:
    """What may be typed at the cursor, given the line's text before it."""
    key_typed = TYPING_KEY.match(before_cursor)
    if key_typed is not None:
        return [
            Candidate(
                name,
                "key",
                f"{name}: ",
                _detail(schema),
                key_documentation(dialect, name),
                0,
            )
            for name, schema in sorted(dialect.properties.items())
            if name not in present
        ]
    value_typed = TYPING_VALUE.match(before_cursor)
    if value_typed is None:
        return []
    schema = dialect.properties.get(value_typed.group("key"), {})
    kinds = schema.get("type", [])
    values = list(schema.get("enum", []))
    if not values and ("boolean" == kinds or "boolean" in kinds):
        values = [True, False]
    start = len(before_cursor) - len(value_typed.group("typed"))
    return [
        Candidate(
            yaml_scalar(value),
            "value",
            yaml_scalar(value),
            "default" if "default" in schema and schema["default"] == value else None,
            None,
            start,
        )
        for value in values
    ]
