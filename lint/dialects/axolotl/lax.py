"""Pydantic's lax mode, which Axolotl validates its config in: which YAML values a field takes,
the value it becomes, and pydantic's words when it refuses one.

A field's `x-epochlint-accepts` (schema.json, generated from Axolotl's annotations) lists its
kinds: null, bool, int, float, str, list, dict or any; `x-epochlint-choices` the strings a
`Literal` allows. The conversions are pydantic 2's (README, "Axolotl and Hugging Face configs"):
an int takes a whole float, a bool and an integer string ("3", "3.0"); a float takes an int, a
bool and any number string ("2e-5"); a bool takes 0 and 1 and strings such as "false" and "yes";
a string takes only a string. An explicit null is refused unless the field allows None.
"""

from __future__ import annotations

import math
import re

from epochlint.records import record

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

TRUE_STRINGS = frozenset({"1", "on", "t", "true", "y", "yes"})
FALSE_STRINGS = frozenset({"0", "off", "f", "false", "n", "no"})
INTEGER_STRING = re.compile(r"^\s*[+-]?\d+(\.0*)?\s*$")
# The order pydantic's smart union tries its members in lax mode, after no strict match.
LAX_ORDER = ("int", "float", "bool")
NAMES = {
    "null": "None",
    "bool": "a valid boolean",
    "int": "a valid integer",
    "float": "a valid number",
    "str": "a valid string",
    "list": "a valid list",
    "dict": "a valid dictionary",
}


@record(frozen=True)
class Accepted:
    """A value pydantic takes, and what it becomes."""

    value: Any


def _strict(value: Any, kinds: frozenset[str], choices: tuple[Any, ...]) -> bool:
    if value is None:
        return "null" in kinds
    if isinstance(value, bool):
        return "bool" in kinds
    if isinstance(value, int):
        return "int" in kinds
    if isinstance(value, float):
        return "float" in kinds
    if isinstance(value, str):
        return "str" in kinds or value in choices
    if isinstance(value, list):
        return "list" in kinds
    if isinstance(value, dict):
        return "dict" in kinds
    return False


def _lax(value: Any, kind: str) -> Accepted | None:
    """The value converted to `kind` in lax mode, or None when pydantic refuses it."""
    if kind == "int":
        if isinstance(value, bool):
            return Accepted(int(value))
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return Accepted(int(value))
        if isinstance(value, str) and INTEGER_STRING.match(value):
            return Accepted(int(float(value)))
    elif kind == "float":
        if isinstance(value, (bool, int)):
            return Accepted(float(value))
        if isinstance(value, str):
            try:
                return Accepted(float(value))
            except ValueError:
                return None
    elif kind == "bool":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value in (0, 1):
            return Accepted(bool(value))
        if isinstance(value, str) and value.strip().lower() in TRUE_STRINGS | FALSE_STRINGS:
            return Accepted(value.strip().lower() in TRUE_STRINGS)
    return None


def _items(value: Any, spec: dict[str, Any]) -> tuple[list[Any] | None, Any]:
    """A list's items as the field's item kind takes them; (None, the first refused item)
    when one is refused. Mappings' keys and values are not checked."""
    items = {"x-epochlint-accepts": spec["x-epochlint-items"]}
    converted = []
    for item in value:
        accepted = coerce(item, items)
        if accepted is None:
            return None, item
        converted.append(accepted.value)
    return converted, None


def coerce(value: Any, spec: dict[str, Any]) -> Accepted | None:
    """What pydantic makes of `value` for a field with this schema entry; None: refused."""
    kinds = frozenset(spec.get("x-epochlint-accepts", ("any",)))
    choices = tuple(spec.get("x-epochlint-choices", ()))
    if isinstance(value, list) and "list" in kinds and "x-epochlint-items" in spec:
        items, _ = _items(value, spec)
        return None if items is None else Accepted(items)
    if "any" in kinds or _strict(value, kinds, choices):
        return Accepted(value)
    for kind in LAX_ORDER:
        if kind in kinds and (converted := _lax(value, kind)) is not None:
            return converted
    return None


def refusal(value: Any, spec: dict[str, Any]) -> str:
    """Pydantic's message for a value `coerce` refuses (its first line, after the key)."""
    kinds = [kind for kind in spec.get("x-epochlint-accepts", ()) if kind != "null"]
    choices = spec.get("x-epochlint-choices", ())
    if isinstance(value, list) and "list" in kinds and "x-epochlint-items" in spec:
        _, item = _items(value, spec)
        return refusal(item, {"x-epochlint-accepts": spec["x-epochlint-items"]})
    if choices and not kinds:
        listed = [repr(choice) for choice in choices]
        return "Input should be " + (
            " or ".join(listed) if len(listed) < 3 else ", ".join(listed[:-1]) + f" or {listed[-1]}"
        )
    kind = kinds[0] if kinds else "null"
    message = f"Input should be {NAMES[kind]}"
    if kind == "int" and isinstance(value, float):
        message += ", got a number with a fractional part"
    elif kind == "int" and isinstance(value, str):
        message += ", unable to parse string as an integer"
    elif kind == "float" and isinstance(value, str):
        message += ", unable to parse string as a number"
    elif kind == "bool" and (
        isinstance(value, (int, str)) or (isinstance(value, float) and value.is_integer())
    ):
        message += ", unable to interpret input"
    return message
