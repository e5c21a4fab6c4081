"""`epochlint schema`: a dialect's key schema as a JSON Schema for editors.

yaml-language-server (the YAML extension of VS Code, and the YAML support of Neovim, Helix and
JetBrains editors through it) validates and completes a YAML file against a JSON Schema. The
exported schema is the key schema the rules check with (types, enums, defaults, one-line help),
in Draft 7, which every yaml-language-server release reads, without epochlint's own
`x-epochlint-*` tables. A key the trainer refuses is flagged (`additionalProperties: false`);
where the trainer drops unknown keys silently, they are allowed, because the schema cannot
say "probably a mistake": `epochlint check` (EL101) does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from epochlint.editor import engine_api

DRAFT = "http://json-schema.org/draft-07/schema#"
# Where the exported schemas are shipped in the package (one `<dialect>.schema.json` each).
SHIPPED = Path(__file__).with_name("schemas")
# The keywords of a key's schema that carry over; the rest are epochlint's own notes.
KEYWORDS = ("type", "enum", "default", "description")


def _deprecation(note: dict[str, Any] | list[dict[str, Any]]) -> str:
    if isinstance(note, list):  # one note per trainer that renamed or removed it (TRL)
        return " ".join(_deprecation(entry) for entry in note)
    if note.get("replacement_key"):
        instead = f"use `{note['replacement_key']}`"
    elif note.get("replacement"):
        instead = f"use {note['replacement']}"
    else:
        instead = "remove it"
    package = "TRL" if note.get("package") == "trl" else "transformers"
    when = []
    if note.get("deprecated_in"):
        when.append(f"deprecated in {package} {note['deprecated_in']}")
    if note.get("removed_in"):
        when.append(f"removed in {package} {note['removed_in']}")
    text = ", ".join(when)
    text = text[:1].upper() + text[1:] if text else "Deprecated"
    trainers = note.get("trainers")
    where = f" ({', '.join(trainers)})" if trainers else ""
    return f"{text}{where}: {instead}."


def _property(schema: dict[str, Any], deprecated: dict[str, Any] | None) -> dict[str, Any]:
    exported = {keyword: schema[keyword] for keyword in KEYWORDS if keyword in schema}
    if deprecated is not None:
        # In the help only: whether the key is refused depends on the transformers version,
        # which the schema cannot know (EL104 checks it against the installed one).
        message = _deprecation(deprecated)
        exported["description"] = " ".join(filter(None, [message, exported.get("description")]))
    return exported


def export(dialect: str) -> dict[str, Any]:
    """The editor schema of one dialect's top-level keys."""
    keys = engine_api.key_schema(dialect)
    deprecated: dict[str, Any] = keys.get("x-epochlint-deprecated", {})
    properties = {
        name: _property(schema, deprecated.get(name))
        for name, schema in sorted(keys["properties"].items())
    }
    for variable, names in keys.get("x-epochlint-env-keys", {}).items():
        for name in names:
            properties.setdefault(
                name, {"description": f"Exists only when the trainer runs with {variable}=1."}
            )
    title = engine_api.dialect_named(dialect).title
    return {
        "$schema": DRAFT,
        "title": f"{title} training config",
        "description": (
            f"Top-level keys of the {title} training config, exported by `epochlint schema "
            f"--dialect {dialect}` from the key schema epochlint checks with."
        ),
        "type": "object",
        "properties": properties,
        "additionalProperties": not engine_api.refuses_unknown_keys(dialect),
    }


def render(dialect: str) -> str:
    """The schema as `epochlint schema` prints it and the package ships it."""
    return json.dumps(export(dialect), indent=2, ensure_ascii=False) + "\n"


def shipped_path(dialect: str) -> Path:
    return SHIPPED / f"{dialect}.schema.json"
