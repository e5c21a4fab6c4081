"""Reading one large JSON object a member at a time, so that its text is never held whole.

A Trainer's `trainer_state.json` is one object whose `log_history` array grows with the run
(50 MB for 300,000 steps). `json.loads` needs the whole text and then every entry's dict at
once; here the text is read in chunks and each array element is decoded on its own by the
standard decoder (`raw_decode`), so memory holds one chunk and what the caller keeps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any, TextIO

CHUNK_CHARACTERS = 1 << 20
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
# The longest start of a token that decodes as an error only because its end is missing
# (`-Infinit`); an error this close to the end of the buffer is retried with more text.
_LONGEST_CUT_TOKEN = 16
STREAMED = object()  # in place of an array whose elements were passed on one by one


class JsonStream:
    """A JSON text read in chunks; errors are json.JSONDecodeError with the file's line and
    column, as json.loads reports them."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.buffer = ""
        self.position = 0
        self.lines_before = 0  # newlines in the text already dropped from the buffer
        self.columns_before = 0  # characters of the current line already dropped
        self.at_end = False

    def first_character(self) -> str:
        """The first character of the value after whitespace ('' for an empty text)."""
        return self._peek()

    def whole(self) -> Any:
        """The whole value (for a text that is not the object `members` reads)."""
        value = self._decode()
        self._end()
        return value

    def members(
        self, streamed_key: str, on_element: Callable[[Any], None]
    ) -> Iterator[tuple[str, Any]]:
        """(key, value) for each member of the top-level object, in order. The value of
        `streamed_key`, when it is an array, goes element by element to `on_element` and is
        given as STREAMED; the others are decoded whole."""
        self._expect("{")
        if self._peek() == "}":
            self.position += 1
        else:
            while True:
                key = self._decode()
                self._expect(":")
                if key == streamed_key and self._peek() == "[":
                    self.position += 1
                    self._elements(on_element)
                    yield key, STREAMED
                else:
                    yield key, self._decode()
                if self._next_of(",}") == "}":
                    break
        self._end()

    def _end(self) -> None:
        if self._peek():
            raise self._error("Extra data")

    def _elements(self, on_element: Callable[[Any], None]) -> None:
        if self._peek() == "]":
            self.position += 1
            return
        while True:
            on_element(self._decode())
            if self._next_of(",]") == "]":
                return

    def _next_of(self, characters: str) -> str:
        found = self._peek()
        if not found or found not in characters:
            raise self._error(f"Expecting '{characters[0]}' delimiter")
        self.position += 1
        return found

    def _expect(self, character: str) -> None:
        if self._peek() != character:
            raise self._error("Expecting ':' delimiter" if character == ":" else "Expecting value")
        self.position += 1

    def _peek(self) -> str:
        """The next character after whitespace ('' at the end of the text)."""
        while True:
            self.position = _WHITESPACE.match(self.buffer, self.position).end()  # type: ignore[union-attr]
            if self.position < len(self.buffer) or not self._fill():
                return self.buffer[self.position : self.position + 1]

    def _decode(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.position)
            except json.JSONDecodeError as error:
                # Cut off by the end of the buffer (an unterminated string; a token such as
                # `1.`, `-` or `tru` at the very end): read on. Anything else is an error.
                cut = (
                    error.msg.startswith("Unterminated string")
                    or error.pos >= len(self.buffer) - _LONGEST_CUT_TOKEN
                )
                if cut and self._fill():
                    continue
                raise self._error(error.msg, error.pos) from None
            # A number that ends near the buffer's end may go on in the next chunk (`1` of
            # `1.5e-07`): decode it again with more text.
            if end < len(self.buffer) - _LONGEST_CUT_TOKEN or not self._fill():
                self.position = end
                return value

    def _fill(self) -> bool:
        """Read the next chunk, dropping what was read; False at the end of the text."""
        if self.at_end:
            return False
        chunk = self.stream.read(CHUNK_CHARACTERS)
        if not chunk:
            self.at_end = True
            return False
        dropped = self.buffer[: self.position]
        newlines = dropped.count("\n")
        if newlines:
            self.lines_before += newlines
            self.columns_before = len(dropped) - dropped.rfind("\n") - 1
        else:
            self.columns_before += len(dropped)
        self.buffer = self.buffer[self.position :] + chunk
        self.position = 0
        return True

    def _error(self, message: str, position: int | None = None) -> json.JSONDecodeError:
        at = self.position if position is None else position
        newlines = self.buffer.count("\n", 0, at)
        line = self.lines_before + newlines + 1
        if newlines:
            column = at - self.buffer.rfind("\n", 0, at)
        else:
            column = self.columns_before + at + 1
        error = json.JSONDecodeError(message, self.buffer, at)
        error.lineno, error.colno = line, column
        return error
