"""Minimal-diff edits of top-level keys in YAML training configs.

`epochlint --fix` must not reformat a file a person wrote by hand, so every edit here
is a text splice at the spans PyYAML reports for the nodes: the rest of the file stays
byte-identical (comments, blank lines, quoting, indentation, newline style).  After
splicing, the result is re-read and compared with what was intended; any surprise
becomes an `EditError` and the caller writes nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal

import yaml
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from epochlint.reading.document import OmegaConfLoader, PyYAMLLoader
from epochlint.records import record

__all__ = ["EditError", "KeyEdit", "apply_edits", "format_scalar"]


@record(frozen=True)
class KeyEdit:
    op: Literal["set", "remove", "rename"]
    key: str
    value: Any = None
    new_key: str | None = None
    after: tuple[str, ...] = ()


class EditError(Exception):
    """An edit could not be applied safely; the message is a one-line reason."""


# --------------------------------------------------------------------------------------
# Scalar formatting
# --------------------------------------------------------------------------------------

_STR_TAG = "tag:yaml.org,2002:str"

# Spellings that some loader (PyYAML 1.1, ruamel 1.2, OmegaConf, ruamel in 1.1 mode)
# reads as something other than a string.  A plain scalar matching any of these must be
# quoted, even if the loader we verify with happens to agree it is a string.
_NON_STRING_PLAIN = re.compile(
    r"""^(?:
        y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
      | ~|null|Null|NULL
      | [-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
      | =|<<
    )$""",
    re.X,
)
# Anything that starts like a number (digits, signs, dots, sexagesimal, dates, hex,
# octal, underscores...) is quoted: the resolvers disagree on too many of these forms
# to reason about each one, and quoting a string never changes its meaning.
_NUMBER_LIKE_START = re.compile(r"^[-+]?\.?[0-9]")
# Characters that cannot start a plain scalar (or change its meaning when they do).
_INDICATOR_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_INDICATORS = frozenset(",[]{}")
# Below this, floats are written in exponent form (1.0e-4), as people write them.
_SMALLEST_POSITIONAL_FLOAT = 1e-3


def _is_printable(text: str) -> bool:
    return all(ch.isprintable() or ch == " " for ch in text)


def _plain_is_safe(text: str, *, in_flow: bool) -> bool:
    if not text or text != text.strip() or not _is_printable(text):
        return False
    if text[0] in _INDICATOR_START or _NON_STRING_PLAIN.match(text):
        return False
    if _NUMBER_LIKE_START.match(text):
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    if in_flow and any(ch in _FLOW_INDICATORS for ch in text):
        return False
    # Last line of defence: whatever the checks above missed, PyYAML must agree.
    probe = f"[{text}]" if in_flow else f"k: {text}"
    try:
        loaded = yaml.safe_load(probe)
    except yaml.YAMLError:
        return False
    return bool(loaded == ([text] if in_flow else {"k": text}))


_DOUBLE_QUOTE_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\0": "\\0",
}


def _double_quoted(text: str) -> str:
    parts: list[str] = []
    for ch in text:
        if ch in _DOUBLE_QUOTE_ESCAPES:
            parts.append(_DOUBLE_QUOTE_ESCAPES[ch])
        elif ch.isprintable() or ch == " ":
            parts.append(ch)
        elif ord(ch) <= 0xFF:
            parts.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            parts.append(f"\\u{ord(ch):04x}")
        else:
            parts.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(parts) + '"'


def _format_string(text: str, *, style: str | None = None, in_flow: bool = False) -> str:
    """Quote `text` as little as possible while honouring the style it had before."""
    if style == '"':
        return _double_quoted(text)
    if style == "'" and _is_printable(text):
        return "'" + text.replace("'", "''") + "'"
    if _plain_is_safe(text, in_flow=in_flow):
        return text
    return _double_quoted(text)


def _format_float(number: float) -> str:
    if math.isnan(number):
        return ".nan"
    if math.isinf(number):
        return ".inf" if number > 0 else "-.inf"
    text = repr(number)
    if "e" not in text and (number == 0 or abs(number) >= _SMALLEST_POSITIONAL_FLOAT):
        return text  # repr of a finite float in positional form always has a dot
    # Learning rates read better as 2.0e-5 than as 0.00002.  YAML 1.1 (PyYAML) only
    # reads exponent floats whose mantissa has a dot and whose exponent is signed;
    # YAML 1.2 and OmegaConf accept that form too.
    for digits in range(17):
        text = f"{number:.{digits}e}"
        if float(text) == number:
            break
    mantissa, exponent = text.split("e")
    if "." not in mantissa:
        mantissa += ".0"
    exponent_value = int(exponent)
    sign = "-" if exponent_value < 0 else "+"
    return f"{mantissa}e{sign}{abs(exponent_value)}"


def _format_value(value: Any, *, style: str | None = None, in_flow: bool = False) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_float(value)
    if isinstance(value, str):
        return _format_string(value, style=style, in_flow=in_flow)
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, (list, tuple, dict)) for item in value):
            raise EditError("only lists of scalars can be written; edit nested lists by hand")
        return "[" + ", ".join(_format_value(item, in_flow=True) for item in value) + "]"
    raise EditError(f"cannot write a value of type {type(value).__name__} into YAML")


def format_scalar(value: Any) -> str:
    """YAML text that PyYAML (1.1), YAML 1.2 loaders and OmegaConf all read as `value`.

    Raises EditError for values that are not scalars or flat lists of scalars.
    """
    return _format_value(value)


# --------------------------------------------------------------------------------------
# Loading and verification
# --------------------------------------------------------------------------------------


# Verify with both readings a training config gets: plain `yaml.safe_load` (Hugging Face,
# Axolotl) and OmegaConf's resolvers (LLaMA-Factory).
_LOADERS: tuple[tuple[str, type[Any]], ...] = (
    ("PyYAML", PyYAMLLoader),
    ("OmegaConf", OmegaConfLoader),
)


def _load_mapping(text: str, loader: type[Any], label: str) -> dict[Any, Any]:
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EditError(f"{label} cannot read the YAML: {reason}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise EditError("the top level of the YAML is not a mapping")
    return data


def _same(left: Any, right: Any) -> bool:
    """Equality that also requires the same type, so 1, 1.0, True and '1' differ."""
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return len(left) == len(right) and all(
            _same(a, b) for a, b in zip(left, right, strict=False)
        )
    if type(left) is not type(right):
        return False
    if isinstance(left, float) and math.isnan(left):
        return math.isnan(right)
    return bool(left == right)


def _verify(before_text: str, after_text: str, edits: Sequence[KeyEdit]) -> None:
    for label, loader in _LOADERS:
        before = _load_mapping(before_text, loader, label)
        after = _load_mapping(after_text, loader, label)
        expected = dict(before)
        for edit in edits:
            if edit.op == "set":
                expected[edit.key] = edit.value
            elif edit.op == "remove":
                expected.pop(edit.key, None)
            elif edit.key in expected:
                assert edit.new_key is not None
                expected[edit.new_key] = expected.pop(edit.key)
        for key, value in expected.items():
            if key not in after:
                raise EditError(f"after the edit, {label} no longer finds key {key!r}")
            if not _same(after[key], value):
                raise EditError(
                    f"after the edit, {label} reads {key!r} as {after[key]!r}, expected {value!r}"
                )
        for key in after:
            if key not in expected:
                raise EditError(f"after the edit, {label} still finds key {key!r}")


# --------------------------------------------------------------------------------------
# Locating top-level entries in the text
# --------------------------------------------------------------------------------------


@record(frozen=True)
class _Entry:
    key: str
    key_node: ScalarNode
    value_node: Node
    alias: str | None  # the value is `*alias`
    anchors: tuple[str, ...]  # anchors defined anywhere inside the value


@record(frozen=True)
class _Document:
    text: str
    newline: str
    root: MappingNode | None
    entries: tuple[_Entry, ...]

    @property
    def is_flow(self) -> bool:
        return self.root is not None and bool(self.root.flow_style)

    def find(self, key: str) -> _Entry | None:
        matches = [entry for entry in self.entries if entry.key == key]
        if len(matches) > 1:
            raise EditError(f"key {key!r} appears {len(matches)} times at the top level")
        if matches and matches[0].key_node.tag != _STR_TAG:
            raise EditError(
                f"key {key!r} is read as {matches[0].key_node.tag.rsplit(':', 1)[-1]}, "
                "not a string, by YAML 1.1 loaders; quote it by hand"
            )
        return matches[0] if matches else None


def _skip_node(first: Event, events: Any, anchors: list[str]) -> None:
    """Consume the events of one node, collecting the anchors it defines."""
    if isinstance(first, AliasEvent):
        return
    if isinstance(first, (ScalarEvent, CollectionStartEvent)) and first.anchor:
        anchors.append(first.anchor)
    if not isinstance(first, CollectionStartEvent):
        return
    depth = 1
    while depth:
        event = next(events)
        if isinstance(event, (ScalarEvent, CollectionStartEvent)) and event.anchor:
            anchors.append(event.anchor)
        if isinstance(event, CollectionStartEvent):
            depth += 1
        elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            depth -= 1


def _top_level_sharing(text: str) -> list[tuple[str | None, tuple[str, ...]]]:
    """Per top-level value, in order: its alias name, if any, and anchors inside it.

    The composed node tree cannot tell these apart: an alias is the very node object
    of its anchor, with that anchor's marks.
    """
    events = iter(yaml.parse(text, Loader=yaml.SafeLoader))
    event = next(events)
    while isinstance(event, (StreamStartEvent, DocumentStartEvent)):
        event = next(events)
    if not isinstance(event, MappingStartEvent):
        return []
    sharing: list[tuple[str | None, tuple[str, ...]]] = []
    while True:
        key_event = next(events)
        if isinstance(key_event, MappingEndEvent):
            return sharing
        _skip_node(key_event, events, [])
        value_event = next(events)
        anchors: list[str] = []
        _skip_node(value_event, events, anchors)
        alias = value_event.anchor if isinstance(value_event, AliasEvent) else None
        sharing.append((alias, tuple(anchors)))


def _parse(text: str, newline: str) -> _Document:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        sharing = _top_level_sharing(text) if root is not None else []
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EditError(f"cannot parse the YAML: {reason}") from exc
    if root is None:
        return _Document(text, newline, None, ())
    if not isinstance(root, MappingNode):
        raise EditError("the top level of the YAML is not a mapping")
    entries: list[_Entry] = []
    for (key_node, value_node), (alias, anchors) in zip(root.value, sharing, strict=True):
        if isinstance(key_node, ScalarNode):
            entries.append(_Entry(key_node.value, key_node, value_node, alias, anchors))
    return _Document(text, newline, root, tuple(entries))


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Index just past the line break of the line containing `index`."""
    found = text.find("\n", index)
    return len(text) if found < 0 else found + 1


def _line_content_end(text: str, index: int) -> int:
    """Index of the line break (or end of text) of the line containing `index`."""
    end = _line_end(text, index)
    if text.endswith("\n", 0, end):
        end -= 1
        if text.endswith("\r", 0, end):
            end -= 1
    return end


def _is_filler_line(line: str) -> bool:
    """Blank lines, full-line comments and document markers belong to no entry."""
    stripped = line.strip()
    return not stripped or stripped.startswith("#") or stripped in ("---", "...")


def _content_end(node: Node, text: str) -> int:
    """Index just past the last character that belongs to the node's value."""
    if isinstance(node, ScalarNode):
        end: int = node.end_mark.index
        if node.style in ("|", ">"):
            # A block scalar's span runs on through its trailing line breaks.
            while end > node.start_mark.index and text[end - 1] in " \t\r\n":
                end -= 1
        return end
    if isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1][1] if isinstance(node, MappingNode) else node.value[-1]
        # An alias child carries its anchor's marks, from elsewhere in the file; the
        # line scan in _entry_end then finds the real last line.
        if last.start_mark.index >= node.start_mark.index:
            return _content_end(last, text)
        return int(node.start_mark.index)
    return int(node.end_mark.index)


def _entry_start(doc: _Document, entry: _Entry) -> int:
    key_start: int = entry.key_node.start_mark.index
    line_start = _line_start(doc.text, key_start)
    if doc.text[line_start:key_start].strip():
        raise EditError(f"key {entry.key!r} does not start its own line; edit it by hand")
    return line_start


def _entry_end(doc: _Document, entry: _Entry) -> int:
    """Index just past the line break of the entry's last own line.

    Blank lines and full-line comments after the value are left to the neighbours.
    """
    text = doc.text
    index = doc.entries.index(entry)
    if index + 1 < len(doc.entries):
        boundary = _line_start(text, doc.entries[index + 1].key_node.start_mark.index)
    else:
        boundary = len(text)
    value_start: int = entry.value_node.start_mark.index
    if value_start < entry.key_node.end_mark.index:  # alias: marks belong to the anchor
        value_start = entry.key_node.end_mark.index
    last_line_end = _line_end(text, max(value_start, _content_end(entry.value_node, text)))
    position = last_line_end
    while position < boundary:
        next_position = _line_end(text, position)
        if not _is_filler_line(text[position:next_position]):
            last_line_end = next_position
        position = next_position
    return last_line_end


# --------------------------------------------------------------------------------------
# Where a new key goes
# --------------------------------------------------------------------------------------

_SECTION_HEADER = re.compile(r"^#{2,}[ \t]*([A-Za-z]+)")

_SECTION_KEYS: dict[str, frozenset[str]] = {
    "model": frozenset(
        {
            "model_name_or_path",
            "adapter_name_or_path",
            "trust_remote_code",
            "quantization_bit",
            "quantization_method",
            "flash_attn",
            "use_unsloth",
            "image_max_pixels",
            "video_max_pixels",
        }
    ),
    "method": frozenset(
        {"stage", "do_train", "finetuning_type", "deepspeed", "pref_beta", "pref_loss"}
    ),
    "dataset": frozenset(
        {
            "dataset",
            "dataset_dir",
            "template",
            "cutoff_len",
            "max_samples",
            "overwrite_cache",
            "preprocessing_num_workers",
            "dataloader_num_workers",
            "packing",
            "streaming",
            "buffer_size",
            "mix_strategy",
            "tokenized_path",
        }
    ),
    "output": frozenset(
        {"output_dir", "overwrite_output_dir", "plot_loss", "report_to", "run_name"}
    ),
    "train": frozenset(
        {
            "num_train_epochs",
            "max_steps",
            "learning_rate",
            "gradient_accumulation_steps",
            "per_device_train_batch_size",
            "weight_decay",
            "max_grad_norm",
            "optim",
            "bf16",
            "fp16",
            "tf32",
            "seed",
            "ddp_timeout",
            "resume_from_checkpoint",
            "gradient_checkpointing",
        }
    ),
    "eval": frozenset(
        {
            "val_size",
            "per_device_eval_batch_size",
            "load_best_model_at_end",
            "metric_for_best_model",
            "greater_is_better",
            "do_eval",
            "compute_accuracy",
        }
    ),
}

_SECTION_PREFIXES: tuple[tuple[str, str], ...] = (
    ("eval_", "eval"),
    ("early_stopping", "eval"),
    ("save_", "output"),
    ("logging_", "output"),
    ("warmup", "train"),
    ("lr_", "train"),
    ("lora_", "method"),
    ("freeze_", "method"),
)


def _section_for_key(key: str) -> str | None:
    for section, keys in _SECTION_KEYS.items():
        if key in keys:
            return section
    for prefix, section in _SECTION_PREFIXES:
        if key.startswith(prefix):
            return section
    return None


def _section_insert_point(doc: _Document, section: str) -> int | None:
    """End of the `### <section>` block: after its last entry, else its last line."""
    text = doc.text
    value_spans = [
        (int(entry.value_node.start_mark.index), _content_end(entry.value_node, text))
        for entry in doc.entries
    ]
    headers: list[tuple[int, str]] = []
    position = 0
    while position < len(text):
        line_end = _line_end(text, position)
        match = _SECTION_HEADER.match(text[position:line_end])
        inside_value = any(start <= position < end for start, end in value_spans)
        if match and not inside_value:
            headers.append((position, match.group(1).lower()))
        position = line_end
    for number, (header_start, title) in enumerate(headers):
        if not title.startswith(section):
            continue
        block_end = headers[number + 1][0] if number + 1 < len(headers) else len(text)
        insert_at = _line_end(text, header_start)
        for entry in doc.entries:
            if header_start < entry.key_node.start_mark.index < block_end:
                insert_at = max(insert_at, _entry_end(doc, entry))
        if insert_at == _line_end(text, header_start):
            # No active keys: land after the commented-out examples, not between them.
            position = insert_at
            while position < block_end:
                line_end = _line_end(text, position)
                if text[position:line_end].strip():
                    insert_at = line_end
                position = line_end
        return insert_at
    return None


def _insert_point(doc: _Document, edit: KeyEdit) -> int:
    for neighbour in edit.after:
        entry = doc.find(neighbour)
        if entry is not None:
            return _entry_end(doc, entry)
    section = _section_for_key(edit.key)
    if section is not None:
        found = _section_insert_point(doc, section)
        if found is not None:
            return found
    if doc.entries:
        return _entry_end(doc, doc.entries[-1])
    return len(doc.text)


# --------------------------------------------------------------------------------------
# The edits
# --------------------------------------------------------------------------------------


def _splice(text: str, start: int, end: int, replacement: str) -> str:
    return text[:start] + replacement + text[end:]


def _colon_end(doc: _Document, entry: _Entry) -> int:
    key_end: int = entry.key_node.end_mark.index
    colon = doc.text.find(":", key_end)
    if colon < 0 or doc.text[key_end:colon].strip():
        raise EditError(f"cannot find the ':' after key {entry.key!r}; edit it by hand")
    return colon + 1


def _eol_comment(line_tail: str) -> str:
    """The ` # comment` part (with its leading spacing) of the rest of a line."""
    match = re.search(r"[ \t]+#.*$", line_tail)
    return match.group(0) if match else ""


def _already_holds(text: str, key: str, value: Any) -> bool:
    for label, loader in _LOADERS:
        data = _load_mapping(text, loader, label)
        if key not in data or not _same(data[key], value):
            return False
    return True


def _set_existing(doc: _Document, entry: _Entry, value: Any) -> str:
    text = doc.text
    node = entry.value_node
    if entry.alias is not None:
        raise EditError(
            f"{entry.key!r} is shared through the anchor &{entry.alias}; edit it by hand"
        )
    if entry.anchors:
        raise EditError(
            f"{entry.key!r} is shared through the anchor &{entry.anchors[0]}; edit it by hand"
        )
    if _already_holds(text, entry.key, value):
        # `0.0002` already is 2e-4 for every loader: rewriting it would only add noise.
        return text
    style = node.style if isinstance(node, ScalarNode) else None
    in_flow = doc.is_flow
    start: int = node.start_mark.index
    is_block_scalar = isinstance(node, ScalarNode) and style in ("|", ">")
    is_block_collection = isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style

    if is_block_collection:
        colon_end = _colon_end(doc, entry)
        if _line_start(text, start) == _line_start(text, colon_end):
            raise EditError(f"{entry.key!r} has a tag or anchor before its block value")
        key_line_tail = text[colon_end : _line_content_end(text, colon_end)]
        region_end = _line_content_end(text, _entry_end(doc, entry) - 1)
        comment = _eol_comment(key_line_tail)
        if isinstance(node, SequenceNode) and isinstance(value, (list, tuple)) and value:
            # Keep a block list a block list, at the indentation it had.
            _format_value(value)  # rejects nested values before we build lines
            indent = " " * node.start_mark.column
            items = [doc.newline + f"{indent}- {_format_value(item)}" for item in value]
            return _splice(text, colon_end, region_end, comment + "".join(items))
        return _splice(text, colon_end, region_end, f" {_format_value(value)}{comment}")

    new_text = _format_value(value, style=None if is_block_scalar else style, in_flow=in_flow)
    if is_block_scalar:
        end = _content_end(node, text)
        header_end = _line_content_end(text, start)
        return _splice(text, start, end, new_text + _eol_comment(text[start:header_end]))
    end = node.end_mark.index
    if start == end:  # `key:` with an empty value; the mark sits right after the colon
        return _splice(text, start, end, " " + new_text)
    return _splice(text, start, end, new_text)


def _add_key(doc: _Document, edit: KeyEdit) -> str:
    if doc.is_flow:
        raise EditError(
            f"cannot add {edit.key!r} to a flow-style top-level mapping ({{...}}); add it by hand"
        )
    indent = ""
    if doc.root is not None and doc.entries:
        indent = " " * doc.root.start_mark.column
    line = f"{indent}{_format_string(edit.key)}: {_format_value(edit.value)}{doc.newline}"
    position = _insert_point(doc, edit)
    return _splice(doc.text, position, position, line)


def _remove(doc: _Document, entry: _Entry) -> str:
    if doc.is_flow:
        raise EditError(f"cannot remove {entry.key!r} from a flow-style top-level mapping")
    if entry.anchors:
        raise EditError(f"{entry.key!r} defines the anchor &{entry.anchors[0]}; remove it by hand")
    return _splice(doc.text, _entry_start(doc, entry), _entry_end(doc, entry), "")


def _rename(doc: _Document, entry: _Entry, new_key: str) -> str:
    key_node = entry.key_node
    if key_node.style in ("|", ">"):
        raise EditError(f"key {entry.key!r} is a block scalar; rename it by hand")
    new_text = _format_string(new_key, style=key_node.style, in_flow=doc.is_flow)
    return _splice(doc.text, key_node.start_mark.index, key_node.end_mark.index, new_text)


def _apply_one(doc: _Document, edit: KeyEdit) -> str:
    entry = doc.find(edit.key)
    if edit.op == "set":
        if entry is None:
            return _add_key(doc, edit)
        return _set_existing(doc, entry, edit.value)
    if edit.op == "remove":
        return doc.text if entry is None else _remove(doc, entry)
    if edit.op == "rename":
        if not edit.new_key:
            raise EditError(f"rename of {edit.key!r} needs a new_key")
        target = doc.find(edit.new_key)
        if entry is None:
            if target is not None:
                return doc.text  # already renamed
            raise EditError(f"cannot rename {edit.key!r}: no such top-level key")
        if target is not None:
            raise EditError(f"cannot rename {edit.key!r}: {edit.new_key!r} already exists")
        return _rename(doc, entry, edit.new_key)
    raise EditError(f"unknown edit operation {edit.op!r}")


def _check_edits(edits: Sequence[KeyEdit]) -> None:
    touched: set[str] = set()
    for edit in edits:
        names = [edit.key] + ([edit.new_key] if edit.op == "rename" and edit.new_key else [])
        for name in names:
            if name in touched:
                raise EditError(f"more than one edit touches key {name!r}")
            touched.add(name)
        if edit.op == "set":
            _format_value(edit.value)  # reject unwritable values before touching text


def apply_edits(text: str, edits: Sequence[KeyEdit]) -> str:
    """Apply `edits` to the top-level keys of the YAML `text`, changing as little as possible.

    Raises EditError (and changes nothing) when an edit is ambiguous, unsafe, or the
    result would not read back as intended under PyYAML and OmegaConf-style loading.
    """
    _check_edits(edits)
    first_break = text.find("\n")
    newline = "\r\n" if first_break > 0 and text[first_break - 1] == "\r" else "\n"
    # Working on text that always ends in a line break keeps every edit at the end of
    # the file simple; the original ending is restored afterwards.
    had_final_newline = text.endswith("\n") or not text.strip()
    working = text if had_final_newline else text + newline
    for edit in edits:
        working = _apply_one(_parse(working, newline), edit)
    if not had_final_newline:
        # Also drops blank lines left at the end when the last entry was removed:
        # otherwise the file would end in a line break it never had.
        working = working.rstrip("\r\n")
    _verify(text, working, edits)
    return working
