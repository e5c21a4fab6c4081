"""Minimal-diff edits of top-level keys in YAML training configs, on ruamel.yaml's round-trip model.

`epochlint --fix` must not reformat a file a person wrote by hand. ruamel.yaml's round-trip
composer gives every node its exact position, style and anchor and attaches the comments;
its emitter renders the new values and keys (`render`). An edit replaces only the characters
of the nodes it is about, so every other byte stays as it was: comments, blank lines,
quoting, indentation, flow style, newline style. ruamel.yaml's reading of the file must agree
with PyYAML's, the reader the checker and the trainers use: where the positions or keys
differ, ruamel.yaml cannot represent the file faithfully and nothing is edited. After the
edits, the result is re-read with PyYAML and OmegaConf's resolvers and compared with what was
intended; any surprise becomes an `EditError` and the caller writes nothing.

ruamel.yaml is imported on first use: a plain check never needs it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal

import yaml

from epochlint.fix import EditError
from epochlint.fix.render import STR_TAG, check_writable, format_scalar, render_entry, render_key
from epochlint.fix.render import render_value as _format_value
from epochlint.reading.document import OmegaConfLoader, PyYAMLLoader
from epochlint.records import record

__all__ = ["EditError", "KeyEdit", "apply_edits", "format_scalar"]


@record(frozen=True)
class KeyEdit:
    op: Literal["set", "remove", "rename"]
    key: str
    value: Any = None
    new_key: str | None = None
    after: tuple[str, ...] = ()  # keys a new key goes after, the first one present wins
    section: str | None = None  # else the `### section` block it goes at the end of


# --------------------------------------------------------------------------------------
# Verification: what the trainers' loaders read after the edit
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
# The round-trip model: ruamel.yaml's nodes, checked against PyYAML's reading
# --------------------------------------------------------------------------------------


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


_UNFAITHFUL = "ruamel.yaml cannot represent this file faithfully"


# ruamel.yaml joins a run of comment lines into one comment by repeated string
# concatenation, which is quadratic: 80,000 comment lines take 8 s and the 480,000 of a 2 MB
# file never finish. In a run this long (far longer than any real config's), the comments
# are read as spaces: every position stays the same, and no edit uses such a comment (edits
# never touch comment lines; the comments they keep end a key's line).
_LONG_COMMENT_RUN = re.compile(r"(?:^[ \t]*#[^\r\n]*(?:\r?\n|\Z)){1000,}", re.M)
_COMMENT = re.compile(r"#[^\r\n]*")


def _blank_long_comment_runs(text: str) -> str:
    return _LONG_COMMENT_RUN.sub(
        lambda run: _COMMENT.sub(lambda c: " " * len(c.group()), run.group()), text
    )


def _compose(text: str) -> Any:
    """ruamel.yaml's round-trip node tree of `text` (None for an empty document)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError, YAMLWarning

    try:
        return YAML(typ="rt").compose(_blank_long_comment_runs(text))
    except (YAMLError, YAMLWarning) as exc:
        raise EditError(f"{_UNFAITHFUL}: it cannot parse it ({_first_line(exc)})") from exc
    except RecursionError:
        raise EditError(f"{_UNFAITHFUL}: it nests too deeply") from None


def _is_empty(node: Any) -> bool:
    """`key:` with no value: ruamel.yaml places this null at the next token, PyYAML at the colon."""
    return node.id == "scalar" and node.value == "" and node.style is None


def _shape(node: Any) -> tuple[Any, ...]:
    if isinstance(node, yaml.ScalarNode) or getattr(node, "id", None) == "scalar":
        if node.value == "" and node.style is None:
            return ("empty",)
    return (node.start_mark.index, node.end_mark.index, type(node).__name__)


def _faithful_root(text: str) -> Any:
    """ruamel.yaml's node tree of `text`, if its top level reads as PyYAML reads it.

    Both must see the same keys, at the same places, with values spanning the same text;
    otherwise an edit placed by ruamel.yaml's positions could land somewhere PyYAML (and the
    trainer) reads differently. A file PyYAML cannot read is refused before ruamel.yaml is asked.
    """
    try:
        theirs = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise EditError(f"cannot parse the YAML: {_first_line(exc)}") from exc
    except RecursionError:
        raise EditError("cannot parse the YAML: it nests too deeply") from None
    if theirs is not None and not isinstance(theirs, yaml.MappingNode):
        raise EditError("the top level of the YAML is not a mapping")
    root = _compose(text)
    if root is None or theirs is None:
        if root is not None or theirs is not None:
            raise EditError(f"{_UNFAITHFUL}: PyYAML reads a different top level")
        return None
    if root.id != "mapping":
        raise EditError(f"{_UNFAITHFUL}: PyYAML reads a different top level")
    if _shape(root) != _shape(theirs) or len(root.value) != len(theirs.value):
        raise EditError(f"{_UNFAITHFUL}: PyYAML reads a different top-level mapping")
    for (key, value), (their_key, their_value) in zip(root.value, theirs.value, strict=True):
        same_key = key.value == their_key.value and _shape(key) == _shape(their_key)
        if not (same_key and _shape(value) == _shape(their_value)):
            line = their_key.start_mark.line + 1
            raise EditError(f"{_UNFAITHFUL}: PyYAML reads the entry on line {line} differently")
    return root


@record(frozen=True)
class _Entry:
    """One top-level `key: value` of ruamel.yaml's node tree."""

    key: str
    key_node: Any
    value_node: Any

    @property
    def alias(self) -> str | None:
        """The anchor name when the value is `*alias` (an alias is its anchor's node)."""
        if self.value_node.start_mark.index < self.key_node.end_mark.index:
            return str(self.value_node.anchor)
        return None

    @property
    def anchors(self) -> tuple[str, ...]:
        """Anchors defined inside the value (not those of aliases that point out of it)."""
        if self.alias is not None:
            return ()
        start, end = self.value_node.start_mark.index, self.value_node.end_mark.index
        found: list[str] = []
        pending = [self.value_node]
        seen: set[int] = set()
        while pending:
            node = pending.pop()
            if id(node) in seen or not start <= node.start_mark.index < max(end, start + 1):
                continue
            seen.add(id(node))
            if node.anchor:
                found.append(str(node.anchor))
            if node.id == "mapping":
                pending.extend(part for pair in node.value for part in pair)
            elif node.id == "sequence":
                pending.extend(node.value)
        return tuple(found)


def _entries(root: Any) -> tuple[_Entry, ...]:
    if root is None:
        return ()
    return tuple(
        _Entry(str(key.value), key, value) for key, value in root.value if key.id == "scalar"
    )


def _is_flow(root: Any) -> bool:
    return root is not None and bool(root.flow_style)


# How `yaml.safe_load` types a plain scalar (timestamps included, as the trainers read keys).
_YAML_1_1 = yaml.resolver.Resolver()


def _find(entries: Sequence[_Entry], key: str) -> _Entry | None:
    matches = [entry for entry in entries if entry.key == key]
    if len(matches) > 1:
        raise EditError(f"key {key!r} appears {len(matches)} times at the top level")
    if matches and matches[0].key_node.style is None:
        # ruamel.yaml resolves YAML 1.2; the trainers' PyYAML resolves 1.1 (`yes`, `0o1`...).
        tag = _YAML_1_1.resolve(yaml.ScalarNode, key, (True, False))  # type: ignore[no-untyped-call]
        if tag != STR_TAG:
            raise EditError(
                f"key {key!r} is read as {tag.rsplit(':', 1)[-1]}, "
                "not a string, by YAML 1.1 loaders; quote it by hand"
            )
    return matches[0] if matches else None


# --------------------------------------------------------------------------------------
# Locating entries in the text
# --------------------------------------------------------------------------------------


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


def _content_end(node: Any, text: str) -> int:
    """Index just past the last character that belongs to the node's value."""
    if node.id == "scalar":
        end: int = node.end_mark.index
        if node.style in ("|", ">"):
            # A block scalar's span runs on through its trailing line breaks.
            while end > node.start_mark.index and text[end - 1] in " \t\r\n":
                end -= 1
        return end
    if not node.flow_style and node.value:
        last = node.value[-1][1] if node.id == "mapping" else node.value[-1]
        # An alias child carries its anchor's marks, from elsewhere in the file; the
        # line scan in _entry_end then finds the real last line.
        if last.start_mark.index >= node.start_mark.index:
            return _content_end(last, text)
        return int(node.start_mark.index)
    return int(node.end_mark.index)


def _entry_start(text: str, entry: _Entry) -> int:
    key_start: int = entry.key_node.start_mark.index
    line_start = _line_start(text, key_start)
    if text[line_start:key_start].strip():
        raise EditError(f"key {entry.key!r} does not start its own line; edit it by hand")
    return line_start


def _entry_end(text: str, entries: Sequence[_Entry], entry: _Entry) -> int:
    """Index just past the line break of the entry's last own line.

    Blank lines and full-line comments after the value are left to the neighbours.
    """
    index = entries.index(entry)
    if index + 1 < len(entries):
        boundary = _line_start(text, entries[index + 1].key_node.start_mark.index)
    else:
        boundary = len(text)
    if entry.alias is not None or _is_empty(entry.value_node):
        # An alias's marks belong to its anchor; an empty value's to the next token.
        value_end: int = entry.key_node.end_mark.index
    else:
        value_end = max(entry.value_node.start_mark.index, _content_end(entry.value_node, text))
    last_line_end = _line_end(text, value_end)
    position = last_line_end
    while position < boundary:
        next_position = _line_end(text, position)
        if not _is_filler_line(text[position:next_position]):
            last_line_end = next_position
        position = next_position
    return last_line_end


def _eol_comment(text: str, node: Any, line_start: int) -> str:
    """The ` # comment` ending the line at `line_start` (with its spacing), as ruamel.yaml read it.

    A block collection's comment after `key:` is its node's first comment token; a block
    scalar keeps its header comment as text.
    """
    comment = node.comment
    if not comment:
        return ""
    if node.id == "scalar" and node.style in ("|", ">"):
        header = comment[1] if len(comment) > 1 else None
        return str(header[0]) if header and str(header[0]).lstrip().startswith("#") else ""
    token = comment[0]
    line = text.count("\n", 0, line_start)
    if token is None or token.start_mark.line != line or not token.value.startswith("#"):
        return ""
    hash_at = line_start + token.start_mark.column
    spaces = hash_at
    while spaces > line_start and text[spaces - 1] in " \t":
        spaces -= 1
    return text[spaces : _line_content_end(text, hash_at)]


# --------------------------------------------------------------------------------------
# Where a new key goes
# --------------------------------------------------------------------------------------

_SECTION_HEADER = re.compile(r"^#{2,}[ \t]*([A-Za-z]+)")


def _section_insert_point(text: str, entries: Sequence[_Entry], section: str) -> int | None:
    """End of the `### <section>` block: after its last entry, else its last line."""
    value_spans = [
        (int(entry.value_node.start_mark.index), _content_end(entry.value_node, text))
        for entry in entries
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
        for entry in entries:
            if header_start < entry.key_node.start_mark.index < block_end:
                insert_at = max(insert_at, _entry_end(text, entries, entry))
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


def _insert_point(text: str, entries: Sequence[_Entry], edit: KeyEdit) -> int:
    for neighbour in edit.after:
        entry = _find(entries, neighbour)
        if entry is not None:
            return _entry_end(text, entries, entry)
    if edit.section is not None:
        found = _section_insert_point(text, entries, edit.section)
        if found is not None:
            return found
    if entries:
        return _entry_end(text, entries, entries[-1])
    return len(text)


# --------------------------------------------------------------------------------------
# The edits
# --------------------------------------------------------------------------------------


def _splice(text: str, start: int, end: int, replacement: str) -> str:
    return text[:start] + replacement + text[end:]


def _colon_end(text: str, entry: _Entry) -> int:
    key_end: int = entry.key_node.end_mark.index
    colon = text.find(":", key_end)
    if colon < 0 or text[key_end:colon].strip():
        raise EditError(f"cannot find the ':' after key {entry.key!r}; edit it by hand")
    return colon + 1


def _already_holds(text: str, key: str, value: Any) -> bool:
    for label, loader in _LOADERS:
        data = _load_mapping(text, loader, label)
        if key not in data or not _same(data[key], value):
            return False
    return True


def _set_existing(
    text: str, root: Any, entries: Sequence[_Entry], entry: _Entry, value: Any, newline: str
) -> str:
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
    style = node.style if node.id == "scalar" else None
    start: int = node.start_mark.index
    is_block_scalar = node.id == "scalar" and style in ("|", ">")
    is_block_collection = node.id != "scalar" and not node.flow_style

    if is_block_collection:
        colon_end = _colon_end(text, entry)
        key_line = _line_start(text, colon_end)
        if _line_start(text, start) == key_line:
            raise EditError(f"{entry.key!r} has a tag or anchor before its block value")
        region_end = _line_content_end(text, _entry_end(text, entries, entry) - 1)
        comment = _eol_comment(text, node, key_line)
        if node.id == "sequence" and isinstance(value, (list, tuple)) and value:
            # Keep a block list a block list, at the indentation it had.
            check_writable(value)
            indent = " " * node.start_mark.column
            items = [newline + f"{indent}- {_format_value(item)}" for item in value]
            return _splice(text, colon_end, region_end, comment + "".join(items))
        return _splice(text, colon_end, region_end, f" {_format_value(value)}{comment}")

    in_flow = _is_flow(root)
    new_text = _format_value(value, style=None if is_block_scalar else style, in_flow=in_flow)
    if is_block_scalar:
        end = _content_end(node, text)
        return _splice(text, start, end, new_text + _eol_comment(text, node, start))
    if _is_empty(node):
        colon_end = _colon_end(text, entry)
        return _splice(text, colon_end, colon_end, " " + new_text)
    return _splice(text, start, node.end_mark.index, new_text)


def _add_key(text: str, root: Any, entries: Sequence[_Entry], edit: KeyEdit, newline: str) -> str:
    if _is_flow(root):
        raise EditError(
            f"cannot add {edit.key!r} to a flow-style top-level mapping ({{...}}); add it by hand"
        )
    indent = " " * root.start_mark.column if entries else ""
    line = f"{indent}{render_entry(edit.key, edit.value)}{newline}"
    position = _insert_point(text, entries, edit)
    return _splice(text, position, position, line)


def _remove(text: str, root: Any, entries: Sequence[_Entry], entry: _Entry) -> str:
    if _is_flow(root):
        raise EditError(f"cannot remove {entry.key!r} from a flow-style top-level mapping")
    if entry.anchors:
        raise EditError(f"{entry.key!r} defines the anchor &{entry.anchors[0]}; remove it by hand")
    return _splice(text, _entry_start(text, entry), _entry_end(text, entries, entry), "")


def _rename(text: str, root: Any, entry: _Entry, new_key: str) -> str:
    key_node = entry.key_node
    if key_node.style in ("|", ">"):
        raise EditError(f"key {entry.key!r} is a block scalar; rename it by hand")
    new_text = render_key(new_key, style=key_node.style, in_flow=_is_flow(root))
    return _splice(text, key_node.start_mark.index, key_node.end_mark.index, new_text)


def _apply_one(text: str, root: Any, edit: KeyEdit, newline: str) -> str:
    entries = _entries(root)
    entry = _find(entries, edit.key)
    if edit.op == "set":
        if entry is None:
            return _add_key(text, root, entries, edit, newline)
        return _set_existing(text, root, entries, entry, edit.value, newline)
    if edit.op == "remove":
        return text if entry is None else _remove(text, root, entries, entry)
    if edit.op == "rename":
        if not edit.new_key:
            raise EditError(f"rename of {edit.key!r} needs a new_key")
        target = _find(entries, edit.new_key)
        if entry is None:
            if target is not None:
                return text  # already renamed
            raise EditError(f"cannot rename {edit.key!r}: no such top-level key")
        if target is not None:
            raise EditError(f"cannot rename {edit.key!r}: {edit.new_key!r} already exists")
        return _rename(text, root, entry, edit.new_key)
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
            check_writable(edit.value)  # reject unwritable values before touching text


def apply_edits(text: str, edits: Sequence[KeyEdit]) -> str:
    """Apply `edits` to the top-level keys of the YAML `text`, changing as little as possible.

    Raises EditError (and changes nothing) when ruamel.yaml cannot represent the file
    faithfully, when an edit is ambiguous or unsafe, or when the result would not read back
    as intended under PyYAML and OmegaConf-style loading.
    """
    _check_edits(edits)
    first_break = text.find("\n")
    newline = "\r\n" if first_break > 0 and text[first_break - 1] == "\r" else "\n"
    # Working on text that always ends in a line break keeps every edit at the end of
    # the file simple; the original ending is restored afterwards.
    had_final_newline = text.endswith("\n") or not text.strip()
    working = text if had_final_newline else text + newline
    root = _faithful_root(working)
    for number, edit in enumerate(edits):
        if number:
            root = _compose(working)  # text this function wrote, read back the same way
        working = _apply_one(working, root, edit, newline)
    if not had_final_newline:
        # Also drops blank lines left at the end when the last entry was removed:
        # otherwise the file would end in a line break it never had.
        working = working.rstrip("\r\n")
    _verify(text, working, edits)
    return working
