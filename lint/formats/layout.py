"""Fitting the human report into a terminal: its width, a message's headline, wrapped lines.

A rule's message is one sentence: what is wrong, then the numbers and the explanation behind
it. The human report shows the first part on the finding's line and the rest on indented note
lines, wrapped to the terminal's width; the one-line formats keep the whole sentence.
"""

from __future__ import annotations

import os
import re
import sys
from functools import cache

DEFAULT_WIDTH = 80
NARROWEST = 40  # below this, wrapping makes text harder to read, not easier
HEADLINE = 80  # a headline longer than this is cut at a weaker break when it has one
# Where a message's headline ends: the first of these outside `code`, quotes and brackets.
STRONG_BREAKS = (": ", "; ")
WEAK_BREAKS = (", so ", ", but ", ", and ", ", which ")
CODE_OR_WORD = re.compile(r"(?:`[^`]*`|[^\s`]|`)+")  # a `code span` keeps its spaces


def terminal_width() -> int:
    """COLUMNS, else the terminal's width, else 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), NARROWEST)
    try:
        return max(os.get_terminal_size(sys.stdout.fileno()).columns, NARROWEST)
    except (OSError, ValueError, AttributeError):
        return DEFAULT_WIDTH


def split_message(message: str) -> tuple[str, str | None]:
    """(headline, detail): what is wrong, then the numbers and why (None when there are none)."""
    strong = _first_break(message, STRONG_BREAKS)
    end = strong if strong is not None else len(message)
    if end > HEADLINE:
        weak = _first_break(message[:end], WEAK_BREAKS)
        if weak is not None:
            return message[:weak], message[weak + 2 :]
    if strong is None:
        return message, None
    return message[:strong], message[strong + 2 :]


def _first_break(text: str, breaks: tuple[str, ...]) -> int | None:
    """Where the first of `breaks` starts outside backquotes and brackets (None: nowhere)."""
    depth = 0
    quoted = False
    for match in _break_tokens(breaks).finditer(text):
        token = match.group()
        if token == "`":
            quoted = not quoted
        elif quoted:
            continue
        elif token in "([{":
            depth += 1
        elif token in ")]}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            return match.start()
    return None


@cache
def _break_tokens(breaks: tuple[str, ...]) -> re.Pattern[str]:
    # Only the characters that change the state and the breaks themselves: a report of many
    # findings spent more time stepping through messages character by character.
    return re.compile(r"[`()\[\]{}]|" + "|".join(map(re.escape, breaks)))


def wrap(text: str, width: int, indent: str = "", hanging: str = "  ") -> list[str]:
    """`text` in lines of at most `width` characters (a longer word stays whole): the first
    line starts with `indent`, the others with `hanging`. (textwrap would do, but costs a
    millisecond to import on every check that finds something.)"""
    if len(indent) + len(text) <= width:
        return [indent + text]
    lines: list[str] = []
    line, empty = indent, True
    for word in _words(text, width - len(hanging)):
        if not empty and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = hanging + word
        else:
            line = line + word if empty else f"{line} {word}"
        empty = False
    return [*lines, line]


def _words(text: str, longest: int) -> list[str]:
    """The words of `text`, a `code span` counting as one word unless it is longer than
    `longest` (then its own words are, so that no line runs past the width)."""
    words: list[str] = []
    for token in CODE_OR_WORD.findall(text):
        words.extend(token.split() if len(token) > longest else [token])
    return words


def wrap_after(head: str, styled_head: str, text: str, width: int, path: str = "") -> list[str]:
    """`head text` on one line when it fits in `width` (not counting the file's `path` that
    starts the head: a long path alone does not break the line); else the head alone, and the
    text below it, indented two spaces and wrapped."""
    if len(head) - len(path) + 1 + len(text) <= width:
        return [f"{styled_head} {text}"]
    return [styled_head, *wrap(text, width, "  ", "  ")]


def wrap_parts(parts: list[str], width: int, separator: str = " · ", path: str = "") -> list[str]:
    """Parts joined by `separator`, a new line (indented two spaces) where the next would not
    fit (the first line may be longer by the `path` that starts it): a part is never cut."""
    lines: list[str] = []
    line = ""
    for part in parts:
        candidate = f"{line}{separator}{part}" if line else part
        if line and len(candidate) > width + (0 if lines else len(path)):
            lines.append(line)
            line = "  " + part
        else:
            line = candidate
    return [*lines, line]
