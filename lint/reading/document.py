"""Parse a config into top-level entries with exact positions, read as the target loader reads them.

LLaMA-Factory loads YAML with OmegaConf: PyYAML's YAML 1.1 safe loader plus a float resolver
that accepts `1e-4`, no timestamps, and duplicate keys refused. Hugging Face's
`HfArgumentParser.parse_yaml_file` and Axolotl use plain `yaml.safe_load`, where `1e-4` is a
string. Each `Entry` keeps the value as that loader produces it, the node it came from (its
raw text, style and tag, for rules about how a value is written), and 1-based spans.
"""

from __future__ import annotations

import bisect
import re
import sys
from functools import cache, cached_property

import yaml

from epochlint.reading.source import Source
from epochlint.records import field, record, replace

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

try:  # libyaml is much faster and bounds nesting depth itself
    from yaml import CSafeLoader as _SafeBase
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeBase  # type: ignore[assignment]

YAML_TAG = "tag:yaml.org,2002:"
SAFE_TAGS = {
    YAML_TAG + name
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "merge", "value")
}
MERGE_TAG = YAML_TAG + "merge"
STR_TAG, SEQ_TAG, MAP_TAG = YAML_TAG + "str", YAML_TAG + "seq", YAML_TAG + "map"
# Scalars the fast constructor builds with the loader's own constructor for the tag.
PLAIN_SCALAR_TAGS = {YAML_TAG + name for name in ("int", "float", "bool", "null")}
# OmegaConf refuses documents whose aliases expand past this many nodes; so do we.
MAX_EXPANDED_NODES = 10_000


class _RememberingLoader(_SafeBase):
    """A safe loader that remembers the tag of each short plain scalar it resolved.

    libyaml's composer asks Python for the tag of every scalar, and PyYAML's `resolve` tries
    its regular expressions each time: a third of composing a config. The configs of a folder
    repeat the same keys and values, and a scalar's tag depends only on its text (epochlint
    adds no path resolvers), so each loader class keeps a table of them.
    """

    resolved: dict[str, str]
    LONGEST_REMEMBERED = 64  # long values (prompts, paths) rarely repeat

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> Any:
        if kind is yaml.ScalarNode and implicit[0] and len(value) <= self.LONGEST_REMEMBERED:
            tag = self.resolved.get(value)
            if tag is None:
                tag = self.resolved[value] = _resolve(self, kind, value, implicit)
            return tag
        return _resolve(self, kind, value, implicit)


_resolve: Any = _SafeBase.resolve  # PyYAML's, untyped


class PyYAMLLoader(_RememberingLoader):
    """`yaml.safe_load` as Hugging Face and Axolotl use it (YAML 1.1, `1e-4` is a string)."""

    resolved: dict[str, str] = {}


class OmegaConfLoader(_RememberingLoader):
    """The resolvers of OmegaConf's loader, which LLaMA-Factory's `read_args` uses."""

    resolved: dict[str, str] = {}


OmegaConfLoader.add_implicit_resolver(
    YAML_TAG + "float",
    re.compile(
        r"""^(?:[-+]?[0-9]+(?:_[0-9]+)*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+)
        |\.[0-9]+(?:_[0-9]+)*(?:[eE][-+][0-9]+)?
        |[-+]?[0-9]+(?:_[0-9]+)*(?::[0-5]?[0-9])+\.[0-9_]*
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)
OmegaConfLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != YAML_TAG + "timestamp"]
    for first, resolvers in OmegaConfLoader.yaml_implicit_resolvers.items()
}
# Timestamps would otherwise become datetime objects; both target loaders keep other tags out.
PyYAMLLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != YAML_TAG + "timestamp"]
    for first, resolvers in PyYAMLLoader.yaml_implicit_resolvers.items()
}

LOADERS: dict[str, type[Any]] = {"omegaconf": OmegaConfLoader, "pyyaml": PyYAMLLoader}


@record(frozen=True)
class Span:
    """A region of the source text: character offsets and 1-based line/column (end exclusive)."""

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    @staticmethod
    def of(node: yaml.Node) -> Span:
        start, end = node.start_mark, node.end_mark
        return Span(
            start.index, end.index, start.line + 1, start.column + 1, end.line + 1, end.column + 1
        )


@record(frozen=True)
class Entry:
    key: str
    value: Any
    key_span: Span
    value_span: Span
    node: yaml.Node  # the value's node: raw text, style and resolved tag
    merged: bool = False  # came in through a `<<:` merge key, written elsewhere


@record(frozen=True)
class Comment:
    line: int
    column: int
    offset: int
    text: str  # after the '#'
    own_line: bool  # nothing but whitespace before it on its line


@record(frozen=True)
class ReadProblem:
    """A finding made while reading (duplicate keys, unsafe tags), reported by the EL0 rules."""

    code: str
    message: str
    span: Span


@record
class Document:
    source: Source
    loader: str
    entries: dict[str, Entry]
    # Where the scalars that hold a '#' are: there it starts no comment.
    hash_spans: list[tuple[int, int]]
    problems: list[ReadProblem] = field(default_factory=list)
    root: yaml.MappingNode | None = None  # the composed nodes, for `reread`

    @cached_property
    def comments(self) -> list[Comment]:
        """The file's comments, found when first asked for: a check needs them only for its
        directives, and finding them is a tenth of reading a well-commented config."""
        return find_comments(self.source.text, self.hash_spans)

    def data(self) -> dict[str, Any]:
        return {key: entry.value for key, entry in self.entries.items()}


class DocumentError(Exception):
    """The file cannot be checked at all: it does not parse (EL001) or is not a mapping (EL003)."""

    def __init__(self, code: str, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.column = column


def _yaml_error(error: yaml.YAMLError, text: str) -> DocumentError:
    if isinstance(error, yaml.reader.ReaderError):
        # The reader gives an offset, not a mark, and a two-line message: one positioned line.
        before = text[: error.position]
        line = before.count("\n") + 1
        column = error.position - (before.rfind("\n") + 1) + 1
        message = (
            f"the character U+{error.character:04X} is not allowed in YAML ({error.reason}); "
            "remove it"
        )
        return DocumentError("EL001", message, line, column)
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    message = f"{context}: {problem}" if context and problem else str(problem)
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        message = "a tab character here: YAML does not allow tabs for indentation; use spaces"
    if "expected a single document" in message:
        message = "more than one YAML document (---): a training config is a single mapping"
    if "exceeded maximum nesting depth" in message:
        message = "nesting is too deep to be a training config"
    line = mark.line + 1 if mark else 1
    column = mark.column + 1 if mark else 1
    return DocumentError("EL001", message, line, column)


_BEING_COUNTED = -1


def _value_error(key: str, error: Exception) -> str:
    if isinstance(error, ValueError) and "integer string conversion" in str(error):
        # Python's own guard against slow int parsing: yaml.safe_load (and so LLaMA-Factory's
        # loader) raises it too. Its message names a Python setting, not the file's problem.
        return (
            f"`{key}`: an integer of more than {sys.get_int_max_str_digits():,} digits; "
            "Python's YAML loaders refuse to read it"
        )
    return f"`{key}`: {str(error).splitlines()[0] if str(error) else type(error).__name__}"


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes the value would have once aliases are expanded (a shared node counts each time).

    A node met again while its own children are counted is inside itself (`a: &a [*a]`, or a
    merge key `<<: *a` under `&a`): its expansion never ends.
    """
    cached = memo.get(id(node))
    if cached == _BEING_COUNTED:
        raise DocumentError(
            "EL001",
            "an alias refers to the value that contains it, so it never ends (OmegaConf "
            "cannot load it either); remove the recursive alias",
            node.start_mark.line + 1,
            node.start_mark.column + 1,
        )
    if cached is not None:
        return cached
    memo[id(node)] = _BEING_COUNTED
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _expanded_size(child, memo)
            if total > MAX_EXPANDED_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            total += _expanded_size(key_node, memo) + _expanded_size(value_node, memo)
            if total > MAX_EXPANDED_NODES:
                break
    memo[id(node)] = total
    return total


def _unsafe_tag(node: yaml.Node, seen: set[int]) -> yaml.Node | None:
    """The first node below `node` with a tag that a safe loader would not construct."""
    if id(node) in seen:
        return None
    seen.add(id(node))
    if node.tag not in SAFE_TAGS:
        return node
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [item for pair in node.value for item in pair]
    for child in children:
        found = _unsafe_tag(child, seen)
        if found is not None:
            return found
    return None


def _short_tag(tag: str) -> str:
    """`tag:yaml.org,2002:python/object` as it is written in a file: `!!python/object`."""
    return "!!" + tag[len(YAML_TAG) :] if tag.startswith(YAML_TAG) else tag


def _kind(node: yaml.Node) -> str:
    return {yaml.ScalarNode: "a value", yaml.SequenceNode: "a list"}.get(type(node), "a mapping")


def _merged_pairs(value_node: yaml.Node) -> list[tuple[yaml.Node, yaml.Node]]:
    """The key/value pairs a `<<:` value contributes, in PyYAML's precedence order."""
    if isinstance(value_node, yaml.MappingNode):
        return _top_level_pairs(value_node)
    if isinstance(value_node, yaml.SequenceNode):
        pairs: list[tuple[yaml.Node, yaml.Node]] = []
        for item in reversed(value_node.value):
            if not isinstance(item, yaml.MappingNode):
                raise DocumentError(
                    "EL001",
                    f"a merge key (<<) expects mappings, found {_kind(item)}",
                    item.start_mark.line + 1,
                    item.start_mark.column + 1,
                )
            pairs.extend(_top_level_pairs(item))
        return pairs
    raise DocumentError(
        "EL001",
        f"a merge key (<<) expects a mapping or a list of mappings, found {_kind(value_node)}",
        value_node.start_mark.line + 1,
        value_node.start_mark.column + 1,
    )


def _top_level_pairs(mapping: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    merged: list[tuple[yaml.Node, yaml.Node]] = []
    explicit: list[tuple[yaml.Node, yaml.Node]] = []
    for key_node, value_node in mapping.value:
        if key_node.tag == MERGE_TAG:
            merged.extend(_merged_pairs(value_node))
        else:
            explicit.append((key_node, value_node))
    return merged + explicit


class _NotPlain(Exception):
    """A node `_plain_value` leaves to PyYAML's constructor."""


def _plain_value(yaml_loader: Any, node: yaml.Node) -> Any:
    """What PyYAML's safe constructor builds for a tree without aliases or merge keys, with
    scalars built by the loader's own constructors. PyYAML's generic machinery (a memo per
    node, generators for recursive structures) cost a tenth of a file's check."""
    kind = type(node)
    if kind is yaml.ScalarNode:
        if node.tag == STR_TAG:
            return node.value
        if node.tag in PLAIN_SCALAR_TAGS:
            return yaml_loader.yaml_constructors[node.tag](yaml_loader, node)
    elif kind is yaml.SequenceNode and node.tag == SEQ_TAG:
        return [_plain_value(yaml_loader, child) for child in node.value]
    elif kind is yaml.MappingNode and node.tag == MAP_TAG:
        mapping = {}
        for key_node, value_node in node.value:
            if type(key_node) is not yaml.ScalarNode:
                raise _NotPlain  # PyYAML's own error for an unhashable key
            mapping[_plain_value(yaml_loader, key_node)] = _plain_value(yaml_loader, value_node)
        return mapping
    raise _NotPlain


def _construct(yaml_loader: Any, node: yaml.Node, plain: bool) -> Any:
    if plain:
        try:
            return _plain_value(yaml_loader, node)
        except _NotPlain:
            pass
    return yaml_loader.construct_object(node, deep=True)


def _survey(root: yaml.Node) -> tuple[list[tuple[int, int]], bool]:
    """One walk over every node: the spans of scalars that hold a '#' (so a '#' inside a quoted
    or block scalar is not taken for a comment), and whether any node has an unsafe tag."""
    spans: list[tuple[int, int]] = []
    unsafe = False
    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        unsafe = unsafe or node.tag not in SAFE_TAGS
        if isinstance(node, yaml.ScalarNode):
            if "#" in node.value:
                spans.append((node.start_mark.index, node.end_mark.index))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                stack.extend((key_node, value_node))
    spans.sort()
    return spans, unsafe


COMMENT_START = re.compile(r"(?:^|(?<=[ \t]))#", re.M)


def find_comments(text: str, spans: list[tuple[int, int]]) -> list[Comment]:
    """Real comments: '#' at a line start or after a blank, outside every scalar span."""
    starts = [start for start, _ in spans]
    comments: list[Comment] = []
    # Lines are counted on from the previous comment: counting from the start of the text each
    # time took minutes on a file of many comment lines.
    line, counted_to = 1, 0
    for match in COMMENT_START.finditer(text):
        offset = match.start()
        index = bisect.bisect_right(starts, offset) - 1
        if index >= 0 and spans[index][0] <= offset < spans[index][1]:
            continue  # inside a scalar
        line_start = text.rfind("\n", 0, offset) + 1
        line_end = text.find("\n", offset)
        body = text[offset + 1 : len(text) if line_end == -1 else line_end].rstrip("\r")
        line += text.count("\n", counted_to, offset)
        counted_to = offset
        comments.append(
            Comment(
                line=line,
                column=offset - line_start + 1,
                offset=offset,
                text=body,
                own_line=not text[line_start:offset].strip(),
            )
        )
    return comments


def parse(source: Source, loader: str = "omegaconf") -> Document:
    """Parse the source's top-level mapping; raise DocumentError when nothing can be checked."""
    yaml_loader = LOADERS[loader](source.text)
    try:
        try:
            root = yaml_loader.get_single_node()
        except yaml.YAMLError as error:
            raise _yaml_error(error, source.text) from None
        except RecursionError:
            raise DocumentError("EL001", "nesting is too deep to be a training config") from None
        if root is None:
            raise DocumentError(
                "EL003", "the file is empty (or only comments): a training config is a mapping"
            )
        if not isinstance(root, yaml.MappingNode):
            kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
            raise DocumentError(
                "EL003",
                f"the top level is {kind}; a training config is a mapping of `key: value` lines",
                root.start_mark.line + 1,
                root.start_mark.column + 1,
            )
        # Without an alias no node is shared, and a text this short cannot hold the limit's
        # count of nodes (a character starts at most three), so the walk can be skipped.
        could_expand = "*" in source.text or 3 * len(source.text) >= MAX_EXPANDED_NODES
        if could_expand and _expanded_size(root, {}) > MAX_EXPANDED_NODES:
            raise DocumentError(
                "EL001",
                f"aliases expand the document past {MAX_EXPANDED_NODES:,} nodes "
                "(OmegaConf refuses it too); remove the alias chain",
                root.start_mark.line + 1,
                root.start_mark.column + 1,
            )
        return _build(source, loader, yaml_loader, root)
    finally:
        yaml_loader.dispose()


def reread(document: Document, loader: str) -> Document:
    """`document` as `loader` reads it, from the same composed nodes: the two loaders differ
    only in the tags they give plain scalars written without a tag (`1e-4`: float or string),
    so composing again (a third of a file's check) is needed only when a tag or an anchor makes
    that unclear. The nodes are retagged in place: `document` must not be used afterwards."""
    root = document.root
    if root is None or loader == document.loader:
        return parse(document.source, loader)
    text = document.source.text
    differing = _differing_starts(document.loader, loader)
    every_scalar = None in differing
    yaml_loader = LOADERS[loader]("")
    try:
        retagged: list[tuple[yaml.ScalarNode, str]] = []
        seen: set[int] = set()
        shared = "*" in text  # only an alias makes a node appear twice
        stack: list[yaml.Node] = [root]
        while stack:
            node = stack.pop()
            if shared:
                if id(node) in seen:
                    continue
                seen.add(id(node))
            if isinstance(node, yaml.ScalarNode):
                if node.style:  # quoted or block: a string in every loader
                    continue
                if not every_scalar and node.value[:1] not in differing:
                    continue  # both loaders try the same resolvers on it
                if text[node.start_mark.index : node.start_mark.index + 1] in ("!", "&"):
                    return parse(document.source, loader)  # maybe an explicit tag: compose again
                tag = yaml_loader.resolve(yaml.ScalarNode, node.value, (True, False))
                if tag != node.tag:
                    retagged.append((node, tag))
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
            elif isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    stack.extend((key_node, value_node))
        if not retagged:
            return replace(document, loader=loader)
        for node, tag in retagged:
            node.tag = tag
        return _build(document.source, loader, yaml_loader, root)
    finally:
        yaml_loader.dispose()


@cache
def _differing_starts(first: str, second: str) -> frozenset[str | None]:
    """The first characters of plain scalars the two loaders may tag differently ('' for an
    empty scalar, None when it is any scalar): PyYAML picks the implicit resolvers to try by
    a scalar's first character."""
    one = LOADERS[first].yaml_implicit_resolvers
    other = LOADERS[second].yaml_implicit_resolvers
    return frozenset(
        start for start in one.keys() | other.keys() if one.get(start) != other.get(start)
    )


def _build(
    source: Source,
    loader: str,
    yaml_loader: Any,
    root: yaml.MappingNode,
) -> Document:
    entries: dict[str, Entry] = {}
    problems: list[ReadProblem] = []
    explicit_keys: dict[str, Span] = {}
    merged_ids = {id(key) for key in _merged_key_nodes(root)}
    spans, any_unsafe = _survey(root)
    # An alias shares one value between places and `<<` merges mappings: PyYAML builds those.
    plain = "*" not in source.text and "<<" not in source.text
    for key_node, value_node in _top_level_pairs(root):
        merged = id(key_node) in merged_ids
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(
                ReadProblem(
                    "EL001", "a key must be a plain name, not a list or mapping", Span.of(key_node)
                )
            )
            continue
        key = key_node.value
        key_span = Span.of(key_node)
        if not merged:
            if key in explicit_keys:
                first = explicit_keys[key]
                problems.append(
                    ReadProblem(
                        "EL002",
                        f"`{key}` is already set on line {first.line}",
                        key_span,
                    )
                )
            explicit_keys[key] = key_span
        unsafe = None
        if any_unsafe:  # rare: find which entry holds it
            unsafe = _unsafe_tag(value_node, set()) or _unsafe_tag(key_node, set())
        if unsafe is not None:
            problems.append(
                ReadProblem(
                    "EL004",
                    f"`{key}` has the tag {_short_tag(unsafe.tag)}; a safe loader refuses it "
                    "and epochlint never constructs it. Write a plain value",
                    Span.of(unsafe),
                )
            )
            entries.pop(key, None)
            continue
        try:
            value = _construct(yaml_loader, value_node, plain)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as error:
            problems.append(ReadProblem("EL001", _value_error(key, error), Span.of(value_node)))
            continue
        entries[key] = Entry(key, value, key_span, Span.of(value_node), value_node, merged)
    return Document(source, loader, entries, spans, problems, root)


def _merged_key_nodes(root: yaml.MappingNode) -> list[yaml.Node]:
    keys: list[yaml.Node] = []
    for key_node, value_node in root.value:
        if key_node.tag == MERGE_TAG:
            keys.extend(key for key, _ in _merged_pairs(value_node))
    return keys
