"""YAML text for the values and keys a fix writes: read the same by every loader, emitted by ruamel.

Which spelling a value gets is epochlint's choice, because the loaders that read a training
config disagree: PyYAML (YAML 1.1, Hugging Face and Axolotl) reads `2e-05` as a string and
`no` as false, OmegaConf (LLaMA-Factory) reads `1e-4` as a float, ruamel.yaml reads YAML 1.2.
So a float is written as `2.0e-5`, and a string is plain only when no loader could read it as
anything else; otherwise it is quoted. The text itself (quoting, escapes, flow lists) is
produced by ruamel.yaml's emitter from nodes carrying that choice.

ruamel.yaml is imported on first use: a plain check never needs it.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

import yaml

from epochlint.fix import EditError

_TAG = "tag:yaml.org,2002:"
STR_TAG = _TAG + "str"

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
# Long strings stay on one line: folding them would touch lines no fix is about.
_NO_FOLDING = 1 << 30


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


def _string_style(text: str, style: str | None, in_flow: bool) -> str | None:
    """Quote `text` as little as possible while honouring the style it had before."""
    if style == '"':
        return '"'
    if style == "'" and _is_printable(text):
        return "'"
    if _plain_is_safe(text, in_flow=in_flow):
        return None
    return '"'


def _float_text(number: float) -> str:
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


def _scalar(value: Any, style: str | None, in_flow: bool) -> tuple[str, str, str | None]:
    """(tag, text, style) of the scalar node that says `value`."""
    if value is None:
        return _TAG + "null", "null", None
    if isinstance(value, bool):
        return _TAG + "bool", "true" if value else "false", None
    if isinstance(value, int):
        return _TAG + "int", str(value), None
    if isinstance(value, float):
        return _TAG + "float", _float_text(value), None
    if isinstance(value, str):
        return STR_TAG, value, _string_style(value, style, in_flow)
    raise EditError(f"cannot write a value of type {type(value).__name__} into YAML")


def check_writable(value: Any) -> None:
    """Raise EditError unless `value` is a scalar or a flat list of scalars."""
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, (list, tuple, dict)) for item in value):
            raise EditError("only lists of scalars can be written; edit nested lists by hand")
        for item in value:
            _scalar(item, None, True)
    else:
        _scalar(value, None, False)


def _node(value: Any, style: str | None, in_flow: bool) -> Any:
    from ruamel.yaml.nodes import ScalarNode, SequenceNode

    check_writable(value)
    if isinstance(value, (list, tuple)):
        items = [_node(item, None, True) for item in value]
        return SequenceNode(_TAG + "seq", items, flow_style=True)
    tag, text, chosen = _scalar(value, style, in_flow)
    return ScalarNode(tag, text, style=chosen)


def _emit_line(key_node: Any, value_node: Any, what: str) -> str:
    """ruamel.yaml's rendering of a one-entry block mapping, which must be one line."""
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import MappingNode

    emitter = YAML(typ="rt")
    emitter.width = _NO_FOLDING
    stream = io.StringIO()
    emitter.serialize(MappingNode(_TAG + "map", [(key_node, value_node)], flow_style=False), stream)
    text = stream.getvalue()
    if text.count("\n") != 1:
        raise EditError(f"{what} would not fit on one line; edit it by hand")
    return text[:-1]


def _key_node(key: str, style: str | None, in_flow: bool) -> Any:
    from ruamel.yaml.nodes import ScalarNode

    return ScalarNode(STR_TAG, key, style=_string_style(key, style, in_flow))


def render_entry(key: str, value: Any) -> str:
    """`key: value` as one line, without its line break."""
    return _emit_line(_key_node(key, None, False), _node(value, None, False), repr(key))


def render_value(value: Any, *, style: str | None = None, in_flow: bool = False) -> str:
    """The YAML text of `value` alone (in `style` when that still reads back as `value`)."""
    line = _emit_line(_key_node("k", None, False), _node(value, style, in_flow), repr(value))
    return line[len("k: ") :]


def render_key(key: str, *, style: str | None = None, in_flow: bool = False) -> str:
    """The YAML text of a mapping key, quoted as little as possible (or as it was)."""
    null = _node(None, None, False)
    line = _emit_line(_key_node(key, style, in_flow), null, f"key {key!r}")
    return line[: -len(": null")]


def format_scalar(value: Any) -> str:
    """YAML text that PyYAML (1.1), YAML 1.2 loaders and OmegaConf all read as `value`.

    Raises EditError for values that are not scalars or flat lists of scalars.
    """
    return render_value(value)
