"""Positions between epochlint and the Language Server Protocol.

epochlint counts lines and columns from 1, in characters (code points), end exclusive. LSP
counts from 0, and columns in UTF-16 code units unless the client agreed to another encoding:
a character outside the Basic Multilingual Plane (an emoji in a comment) is two units.
"""

from __future__ import annotations

import re
from functools import lru_cache

from epochlint.fix import changed_span
from epochlint.records import record

# What LSP counts as a line break (str.splitlines also breaks at form feeds and U+2028).
LINE_BREAK = re.compile(r"\r\n|\r|\n")


@record(frozen=True)
class Position:
    line: int  # from 0
    character: int  # in the negotiated encoding's units


@record(frozen=True)
class Replacement:
    """Replace the text between two positions with `text` (one LSP TextEdit)."""

    start: Position
    end: Position
    text: str


def _units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8", errors="surrogatepass"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


@lru_cache(maxsize=4)  # every finding of a check asks of the same text (its hash is kept)
def _lines(text: str) -> tuple[str, ...]:
    return tuple(LINE_BREAK.split(text))


def line_text(text: str, line: int) -> str:
    """Line `line` (from 0) without its line break; empty past the end."""
    lines = _lines(text)
    return lines[line] if 0 <= line < len(lines) else ""


def to_client(text: str, line: int, column: int, encoding: str) -> Position:
    """epochlint's (line, column), from 1, as an LSP position."""
    content = line_text(text, line - 1)
    return Position(max(line - 1, 0), _units(content[: max(column - 1, 0)], encoding))


def column_of(text: str, position: Position, encoding: str) -> int:
    """The character index (from 0) an LSP position points at on its line."""
    content = line_text(text, position.line)
    if encoding == "utf-32":
        return min(position.character, len(content))
    units = 0
    for index, character in enumerate(content):
        if units >= position.character:
            return index
        units += _units(character, encoding)
    return len(content)


def _offset_position(text: str, offset: int, encoding: str) -> Position:
    line_start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    line = text.count("\n", 0, offset)
    # A lone "\r" is a line break to an editor as well (it never is in a config epochlint wrote).
    line += text.count("\r", 0, offset) - text.count("\r\n", 0, offset)
    return Position(line, _units(text[line_start:offset], encoding))


def replacement(before: str, after: str, encoding: str) -> Replacement:
    """The one contiguous replacement that turns `before` into `after`."""
    start, end_before, end_after = changed_span(before, after)
    # Never split a "\r\n" pair: the positions of its halves are the same line end.
    if 0 < start and before[start - 1] == "\r":
        start -= 1
    if 0 < end_before < len(before) and before[end_before - 1 : end_before + 1] == "\r\n":
        end_before += 1
        end_after += 1
    return Replacement(
        _offset_position(before, start, encoding),
        _offset_position(before, end_before, encoding),
        after[start:end_after],
    )
