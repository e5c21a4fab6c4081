"""What a rule reports: a finding with its position, and the fix that would resolve it."""

from __future__ import annotations

import math
from enum import StrEnum

from epochlint.records import field, record

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any, Literal

    EditOp = Literal["set", "remove", "rename"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@record(frozen=True)
class Edit:
    """One change to a top-level key, in the config's own key names.

    `field` is the canonical field the edit is about (the same for every dialect), so that the
    fixer can verify the result by meaning; `key` is how this config spells it.
    """

    op: EditOp
    key: str
    value: Any = None
    new_key: str | None = None
    field: str | None = None

    def describe(self) -> str:
        if self.op == "remove":
            return f"remove `{self.key}`"
        if self.op == "rename":
            return f"rename `{self.key}` to `{self.new_key}`"
        return f"set `{self.key}: {format_value(self.value)}`"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"op": self.op, "key": self.key}
        if self.op == "set":
            data["value"] = self.value
        if self.op == "rename":
            data["new_key"] = self.new_key
        return data


@record(frozen=True)
class Fix:
    edits: tuple[Edit, ...]
    safety: Literal["safe", "suggested"]

    def describe(self) -> str:
        return ", ".join(edit.describe() for edit in self.edits)

    def to_json(self) -> dict[str, Any]:
        return {
            "safety": self.safety,
            "description": self.describe(),
            "edits": [edit.to_json() for edit in self.edits],
        }


@record(frozen=True)
class Diagnostic:
    rule: str
    name: str
    severity: Severity
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    fix: Fix | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # the numbers behind the message

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "fix": self.fix.to_json() if self.fix else None,
            "facts": self.facts,
        }


def format_value(value: Any) -> str:
    """A value as a person would write it in YAML, for messages (not for writing files)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return {"nan": ".nan", "inf": ".inf", "-inf": "-.inf"}[
                repr(value)
            ]  # as YAML spells them
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            mantissa, exponent = f"{value:e}".split("e")
            mantissa = mantissa.rstrip("0")
            if mantissa.endswith("."):
                mantissa += "0"
            return f"{mantissa}e{int(exponent)}"
        return repr(value)
    return str(value)


# From here on a number is shown as 1.23e+20: digit groups stop being readable, and an int
# past 4,300 digits cannot be turned into a string at all (Python's int-to-str limit).
SCIENTIFIC_FROM = 10**18


def thousands(value: float | int | None) -> str:
    """1090 -> '1,090'; floats keep up to two decimals; huge numbers in e-notation."""
    if value is None:
        return "unknown"
    if isinstance(value, float):
        if not math.isfinite(value):
            return format_value(value)
        if abs(value) >= SCIENTIFIC_FROM:
            return f"{value:.3g}"
        if not value.is_integer():
            return f"{value:,.2f}".rstrip("0").rstrip(".")
    elif abs(value) >= SCIENTIFIC_FROM:
        return _scientific(int(value))
    return f"{int(value):,}"


def _scientific(value: int) -> str:
    """An int in e-notation without float() (which overflows past 1e308) or str()."""
    magnitude = abs(value)
    exponent = int(magnitude.bit_length() * math.log10(2))
    leading = magnitude // 10 ** max(exponent - 2, 0)
    while leading >= 1000:
        leading //= 10
        exponent += 1
    while leading < 100:
        exponent -= 1
        leading = magnitude // 10 ** (exponent - 2)
    sign = "-" if value < 0 else ""
    return f"{sign}{leading / 100:.3g}e+{exponent:02d}"
