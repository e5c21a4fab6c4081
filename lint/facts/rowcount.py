"""Count the rows LLaMA-Factory (through HF ``datasets``) would load from a local file or folder.

Counting must stay fast and use bounded memory on multi-gigabyte files, so JSON is never parsed
into Python objects: JSON Lines are counted with ``bytes.count`` and JSON arrays with a chunked
scanner built from C-speed bytes operations (see ``_ArrayElementCounter``). Counts are cached on
disk so linting the same config twice does not read the data again.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import re
import stat
from collections.abc import Iterator

from epochlint.paths import home
from epochlint.reading.safeopen import CACHE_ENTRY_LIMIT, check_regular, open_regular, read_regular

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import IO, Any

__all__ = ["ALLOWED_FILE_TYPES", "RowCountError", "count_rows"]

CHUNK_SIZE = 1 << 20

# LLaMA-Factory's FILEEXT2TYPE: the text after the last dot (case-sensitive) picks the builder.
EXTENSION_TO_BUILDER: dict[str, str] = {
    "arrow": "arrow",
    "csv": "csv",
    "json": "json",
    "jsonl": "json",
    "parquet": "parquet",
    "txt": "text",
}
ALLOWED_FILE_TYPES = ",".join(EXTENSION_TO_BUILDER)

# Bump when a counting rule changes so counts cached by an older epochlint are not trusted.
_COUNTER_VERSION = 2

_JSON_WHITESPACE = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"


class RowCountError(Exception):
    """Rows of a dataset file or folder cannot be counted; ``str()`` is one line for the user."""


def count_rows(path: str | os.PathLike[str], *, use_cache: bool = True) -> int:
    """Return the number of rows ``datasets.load_dataset`` would give for a local file or folder.

    Raises RowCountError (never OSError) when the path is missing, unreadable, malformed or of a
    type LLaMA-Factory refuses.
    """
    shown = os.fspath(path)
    file_stat = _stat_or_raise(shown)
    if stat.S_ISDIR(file_stat.st_mode):
        return _count_directory(shown, use_cache)
    _check_regular(shown, file_stat)
    builder = EXTENSION_TO_BUILDER.get(shown.rsplit(".", 1)[-1])
    if builder is None:
        raise RowCountError(
            f"{shown}: unsupported file type; LLaMA-Factory allows {ALLOWED_FILE_TYPES}"
        )
    return _count_file_cached(shown, builder, file_stat, use_cache)


def _stat_or_raise(path: str) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError as err:
        raise RowCountError(_describe_os_error(path, err)) from None


def _check_regular(path: str, file_stat: os.stat_result) -> None:
    """A FIFO would block the count forever, a device never end it: only files are read."""
    try:
        check_regular(path, file_stat.st_mode)
    except OSError as err:
        raise RowCountError(_describe_os_error(path, err)) from None


def _describe_os_error(path: str, err: OSError) -> str:
    reason = err.strerror or err.__class__.__name__
    return f"{path}: cannot read ({reason})"


def _count_directory(folder: str, use_cache: bool) -> int:
    try:
        # Sorted so that error messages name the same files on every run.
        entry_names = sorted(os.listdir(folder))
    except OSError as err:
        raise RowCountError(_describe_os_error(folder, err)) from None
    if not entry_names:
        raise RowCountError(
            f"{folder}: the folder is empty; LLaMA-Factory needs files of one type among "
            f"{ALLOWED_FILE_TYPES}"
        )
    entries: list[tuple[str, str, os.stat_result]] = []
    for name in entry_names:
        entry_path = os.path.join(folder, name)
        entry_stat = _stat_or_raise(entry_path)
        if stat.S_ISDIR(entry_stat.st_mode):
            raise RowCountError(
                f"{entry_path}: is a folder; LLaMA-Factory loads every entry of a dataset folder "
                "as a file and does not look inside subfolders, so move its files up or out"
            )
        _check_regular(entry_path, entry_stat)
        builder = EXTENSION_TO_BUILDER.get(name.rsplit(".", 1)[-1])
        if builder is None:
            raise RowCountError(
                f"{entry_path}: unsupported file type in a dataset folder; LLaMA-Factory allows "
                f"{ALLOWED_FILE_TYPES}"
            )
        if entries and builder != entries[0][1]:
            raise RowCountError(
                f"{folder}: File types should be identical, but {entry_names[0]} and {name} "
                "differ; keep one type per dataset folder"
            )
        entries.append((entry_path, builder, entry_stat))
    return sum(
        _count_file_cached(entry_path, builder, entry_stat, use_cache)
        for entry_path, builder, entry_stat in entries
    )


def _count_file_cached(path: str, builder: str, file_stat: os.stat_result, use_cache: bool) -> int:
    absolute = os.path.abspath(path)
    if use_cache:
        cached = _cache_get(absolute, file_stat)
        if cached is not None:
            return cached
    rows = _count_file(path, builder)
    if use_cache:
        _cache_put(absolute, file_stat, rows)
    return rows


def _count_file(path: str, builder: str) -> int:
    try:
        if builder == "json":
            return _count_json(path)
        if builder == "csv":
            return _count_csv(path)
        if builder == "text":
            return _count_text(path)
        return _count_with_pyarrow(path, builder)
    except OSError as err:
        raise RowCountError(_describe_os_error(path, err)) from None
    except UnicodeDecodeError as err:
        raise RowCountError(
            f"{path}: not UTF-8 text (byte {err.start} of a decoded block); re-save it as UTF-8"
        ) from None


# --- JSON and JSON Lines -------------------------------------------------------------------------


def _read_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk


def _count_json(path: str) -> int:
    # datasets' json builder tries JSON Lines first and falls back to a whole-file JSON parse, so
    # the extension does not decide the format: the first meaningful byte does.
    with open_regular(path) as stream:
        offset = 0
        first_byte = b""
        for chunk in _read_chunks(stream):
            if offset == 0 and chunk.startswith(_UTF8_BOM):
                chunk = chunk[len(_UTF8_BOM) :]
                offset = len(_UTF8_BOM)
            content = chunk.lstrip(_JSON_WHITESPACE)
            if content:
                offset += len(chunk) - len(content)
                first_byte = content[:1]
                break
            offset += len(chunk)
        if not first_byte:
            return 0
        if first_byte == b"[":
            stream.seek(offset + 1)
            return _count_json_array(path, stream, offset + 1)
        if first_byte == b"{":
            stream.seek(0)
            return _count_json_lines(path, stream)
    raise RowCountError(
        f"{path}: byte {offset} is {first_byte.decode('latin-1')!r}, but a JSON dataset must start "
        "with '[' (a JSON array) or '{' (JSON Lines)"
    )


# A JSON Lines row ends at a newline. pyarrow's JSON reader, which datasets uses for JSON Lines,
# treats whitespace between objects as insignificant, so an empty or whitespace-only line is no
# row. (JSON whitespace is space, tab, CR and the newline itself.)
_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")
_BLANK_LINE_END = re.compile(rb"\n[ \t\r]*(?=\n)")


# Above this size, GNU grep counts non-blank lines several times faster than Python can
# (about wc -l's speed, where bytes.count plus the blank-line check reach a third of it).
_GREP_FROM_BYTES = 32 << 20


_GREP_MEMORY = 64 << 20


def _limit_grep_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (_GREP_MEMORY, _GREP_MEMORY))


def _count_nonblank_lines_with_grep(path: str) -> int | None:
    """Lines holding a non-whitespace byte, counted by grep in the C locale; None if unusable."""
    # Imported here, not at the top: most runs read a cached count and never need them.
    import shutil
    import subprocess

    grep = shutil.which("grep")
    if grep is None:
        return None
    try:
        done = subprocess.run(
            [grep, "-c", "[^[:space:]]", "--", path],
            capture_output=True,
            env={**os.environ, "LC_ALL": "C"},  # bytes, not characters: much faster, same result
            check=False,
            # grep holds a whole line in memory: past this limit it stops with "memory
            # exhausted" and the chunked count below takes over.
            preexec_fn=_limit_grep_memory,
        )
    except OSError:
        return None
    output = done.stdout.strip()
    # grep exits 1 when no line matches (count 0) and 2 on errors.
    if done.returncode not in (0, 1) or not output.isdigit():
        return None
    return int(output)


def _count_json_lines(path: str, stream: IO[bytes]) -> int:
    size = os.fstat(stream.fileno()).st_size
    counted = _count_nonblank_lines_with_grep(path) if size >= _GREP_FROM_BYTES else None
    if counted is not None:
        _check_last_json_line(path, stream, counted)
        return counted
    newlines = 0
    blank_lines = 0
    current_line_blank = True  # whether the line being read has only whitespace so far
    for chunk in _read_chunks(stream):
        newlines_here = chunk.count(b"\n")
        if not newlines_here:
            if current_line_blank and chunk.strip(_JSON_WHITESPACE):
                current_line_blank = False
            continue
        first_newline = chunk.index(b"\n")
        if current_line_blank and not chunk[:first_newline].strip(_JSON_WHITESPACE):
            blank_lines += 1
        # Searching is as fast as bytes.count; counting with findall only runs when needed.
        if _BLANK_LINE.search(chunk, first_newline):
            blank_lines += len(_BLANK_LINE_END.findall(chunk, first_newline))
        current_line_blank = not chunk[chunk.rindex(b"\n") + 1 :].strip(_JSON_WHITESPACE)
        newlines += newlines_here
    rows = newlines - blank_lines + (0 if current_line_blank else 1)
    _check_last_json_line(path, stream, newlines)
    return rows


_LAST_LINE_WINDOW = 8 * CHUNK_SIZE


def _check_last_json_line(path: str, stream: IO[bytes], newlines: int) -> None:
    """Parse the last non-blank line: a file cut off mid-write fails here."""
    size = stream.seek(0, os.SEEK_END)
    window_start = max(0, size - _LAST_LINE_WINDOW)
    stream.seek(window_start)
    window = stream.read(size - window_start)
    content = window.rstrip(_JSON_WHITESPACE)
    line_start = content.rfind(b"\n") + 1
    if line_start == 0 and window_start > 0:
        return  # the last line is longer than the window; not worth reading it all
    try:
        json.loads(content[line_start:])
    except ValueError as err:
        line_number = newlines - window.count(b"\n", line_start) + 1
        detail = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
        raise RowCountError(
            f"{path}: line {line_number} (the last one) is not valid JSON ({detail}); "
            "the file looks truncated"
        ) from None


# Everything but the bytes that shape a JSON document is dropped before the bracket analysis.
_NON_STRUCTURAL_BYTES = bytes(b for b in range(256) if b not in b'"[]{},')
# An innermost object or array whose values were already dropped: only separators remain inside.
_INNERMOST_GROUP = re.compile(rb"\{,*\}|\[,*\]")
_CLOSER_TO_OPENER = {ord("]"): ord("["), ord("}"): ord("{")}
_OPEN_BRACKET, _OPEN_BRACE = ord("["), ord("{")
# ujson, which datasets parses a JSON array file with, refuses more levels than this.
MAX_JSON_DEPTH = 1024


class _ArrayElementCounter:
    """Counts the elements of a JSON array fed in chunks, without building any Python object.

    Per chunk: escape pairs are removed (so every remaining quote opens or closes a string), all
    non-structural bytes are deleted, string contents are dropped by splitting on quotes, and
    closed groups ``{...}``/``[...]`` are collapsed away by repeated regex substitution. What is
    left at the top level is the commas between elements, which are counted, plus the openers of
    an element still open at the chunk end, which are carried to the next chunk.
    """

    def __init__(self, path: str, start_offset: int) -> None:
        self.path = path
        self.offset = start_offset  # file offset of the next byte fed
        self.in_string = False
        self.trailing_backslashes = b""
        self.open_groups = b""  # openers of the element being read, outermost first
        self.separators = 0
        self.has_elements: bool | None = None  # decided by the first byte after '['
        self.closed = False
        self.last_content_byte = b""

    def feed(self, chunk: bytes) -> None:
        data = self.trailing_backslashes + chunk
        data_offset = self.offset - len(self.trailing_backslashes)
        self.offset += len(chunk)
        # A backslash run split between chunks would be paired wrongly, so finish it next time.
        kept = data.rstrip(b"\\")
        self.trailing_backslashes = data[len(kept) :]
        data = kept
        self._process(data, data_offset)

    def _process(self, data: bytes, data_offset: int) -> None:
        content = data.rstrip(_JSON_WHITESPACE)
        if content:
            self.last_content_byte = content[-1:]
        if self.has_elements is None:
            leading = data.lstrip(_JSON_WHITESPACE)
            if leading:
                self.has_elements = leading[:1] != b"]"
        if b"\\" in data:
            # Left-to-right pair removal matches JSON's escape parsing, so "\\" never hides a quote
            # and \" never ends a string.
            data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
        skeleton = data.translate(None, _NON_STRUCTURAL_BYTES)
        if b'"' in skeleton:
            pieces = skeleton.split(b'"')
            outside = b"".join(pieces[1::2] if self.in_string else pieces[::2])
            if len(pieces) % 2 == 0:
                self.in_string = not self.in_string
        else:
            outside = b"" if self.in_string else skeleton
        if self.closed:
            if outside:
                raise self._error(f"unexpected data after the closing ']' near byte {data_offset}")
            return
        groups = self._collapse(self.open_groups + outside, data_offset)
        remainder = groups.lstrip(b",")
        self.separators += len(groups) - len(remainder)
        if not remainder:
            self.open_groups = b""
        elif remainder[:1] in (b"{", b"["):
            if b"]" in remainder or b"}" in remainder:
                raise self._mismatch_error(data_offset)
            # Commas inside an unfinished element never count, so only the openers are kept.
            self.open_groups = remainder.replace(b",", b"")
        elif remainder[:1] == b"]":
            if remainder[1:]:
                raise self._error(f"unexpected data after the closing ']' near byte {data_offset}")
            self.closed = True
            self.open_groups = b""
        else:
            raise self._mismatch_error(data_offset)

    def _collapse(self, groups: bytes, data_offset: int) -> bytes:
        """`groups` with every closed group removed, in time linear in its length.

        Removing innermost groups with a regex, pass after pass, is fast while each pass
        removes much (rows of flat objects go in two or three passes), but takes one pass per
        level of nesting. So the regex runs only while each pass shrinks the text by a quarter
        (a bounded number of passes), and the rest is done by one scan with a stack, which also
        finds the nesting depth. That scan also decides whenever the passes cannot prove the
        depth is under the limit.
        """
        original, passes = groups, 0
        while groups:
            shorter, collapsed = _INNERMOST_GROUP.subn(b"", groups)
            if not collapsed:
                # Every byte left is an opener still open or a separator, and a removed group
                # lay at most `passes` levels below one: a bound on the depth.
                if passes + groups.count(b"[") + groups.count(b"{") < MAX_JSON_DEPTH:
                    return groups
                break
            passes += 1
            slow = (len(groups) - len(shorter)) * 4 < len(groups)
            groups = shorter
            if slow:
                break
        else:
            return groups
        return self._collapse_by_scanning(original, data_offset)

    def _collapse_by_scanning(self, groups: bytes, data_offset: int) -> bytes:
        kept = bytearray()
        openers: list[int] = []  # where in `kept` the groups still open start
        for byte in groups:
            if byte == _OPEN_BRACKET or byte == _OPEN_BRACE:
                openers.append(len(kept))
                if len(openers) >= MAX_JSON_DEPTH:  # the top-level array is a level too
                    raise self._error(
                        f"more than {MAX_JSON_DEPTH:,} levels of nesting in the bytes from "
                        f"{data_offset} to {self.offset}; datasets' JSON reader (ujson) stops "
                        "with `Reached object decoding depth limit`"
                    )
            elif byte in _CLOSER_TO_OPENER:
                if openers and kept[openers[-1]] == _CLOSER_TO_OPENER[byte]:
                    del kept[openers.pop() :]
                    continue
                openers.clear()  # an unmatched closer: no group before it can close any more
            kept.append(byte)
        return bytes(kept)

    def _mismatch_error(self, data_offset: int) -> RowCountError:
        return self._error(f"unbalanced brackets in the bytes from {data_offset} to {self.offset}")

    def _error(self, detail: str) -> RowCountError:
        return RowCountError(f"{self.path}: malformed JSON array: {detail}")

    def finish(self) -> int:
        if self.trailing_backslashes:
            backslashes, self.trailing_backslashes = self.trailing_backslashes, b""
            self._process(backslashes, self.offset - len(backslashes))
        if self.in_string:
            raise self._error(
                f"a string is not terminated at the end of the file (byte {self.offset}); "
                "the file looks truncated"
            )
        if not self.closed:
            unclosed = len(self.open_groups) + 1
            raise self._error(
                f"the file ends at byte {self.offset} with {unclosed} bracket(s) still open; "
                "the file looks truncated"
            )
        if self.last_content_byte != b"]":
            raise self._error("unexpected data after the closing ']'")
        return self.separators + 1 if self.has_elements else 0


def _count_json_array(path: str, stream: IO[bytes], start_offset: int) -> int:
    counter = _ArrayElementCounter(path, start_offset)
    for chunk in _read_chunks(stream):
        counter.feed(chunk)
    return counter.finish()


# --- CSV, text, parquet, arrow -------------------------------------------------------------------


# A CSV line holding only spaces and tabs is skipped like an empty one (pandas' C tokenizer,
# which datasets' csv builder reads with, has skip_blank_lines=True); any other byte makes it a row.
_BLANK_CSV_LINE_END = re.compile(rb"\n[ \t]*(?=\n)")
_QUOTE_RUN = re.compile(rb'"+')
# A quoted field whose closing quote is followed, in the same chunk, by a byte that is not a
# quote (possessive loops: no backtracking, whatever the field's length).
_CLOSED_QUOTED_FIELD = re.compile(rb'"[^"]*+(?:""[^"]*+)*+"(?=[^"])')


class _CsvRecordCounter:
    """Counts CSV records as pandas reads them, fed in chunks, in memory independent of the
    length of a line or a field.

    Line ends (LF, CRLF and a lone CR, all record terminators) are made LF first. Outside a
    quoted field the bytes are counted with bytes.count and a regex, like JSON Lines; a quoted
    field is skipped by its quote runs: inside it an even run is escaped quotes and an odd run
    ends the field, so only the parity of a run split between chunks is carried.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.records = 0  # terminated records that are not blank lines, the header included
        self.line = 1  # line of the byte being read, for messages
        self.line_blank = True  # the record being read has only spaces and tabs so far
        self.at_field_start = True
        self.in_quotes = False
        self.quote_line = 0  # where the open quoted field started
        # Inside quotes, whether the run of quotes that ended the last chunk is odd so far.
        self.odd_quote_run: bool | None = None
        self.carried_cr = b""
        # Fields: separators of the record being read, outside quotes; the header's fields and
        # the most a record may have, as pandas counts them; line ends outside quotes (pandas
        # numbers its lines so).
        self.commas = 0
        self.header_fields: int | None = None
        self.most_fields: int | None = None
        self.too_many_fields: re.Pattern[bytes] | None = None
        self.record_line = 1

    def feed(self, chunk: bytes) -> None:
        chunk = self.carried_cr + chunk
        self.carried_cr = b""
        if chunk.endswith(b"\r"):  # maybe half of a CRLF: decided with the next chunk
            chunk, self.carried_cr = chunk[:-1], b"\r"
        self._process(chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))

    def finish(self) -> int:
        self._process(self.carried_cr.replace(b"\r", b"\n"))
        if self.in_quotes and not self.odd_quote_run:  # an odd run at the end closes the field
            raise RowCountError(
                f"{self.path}: line {self.quote_line}: malformed CSV (a quoted field is not "
                "closed before the end of the file); pandas and datasets refuse it"
            )
        if not self.line_blank:
            self.records += 1  # the last record, without a line end
            self._check_fields(self.commas, self.record_line)
        if not self.records:
            raise RowCountError(
                f"{self.path}: no header line (the file is empty or blank); pandas and datasets "
                "refuse it"
            )
        return self.records - 1

    def _process(self, data: bytes) -> None:
        position = 0
        while position < len(data):
            if self.in_quotes:
                position = self._skip_quoted(data, position)
                continue
            quote = self._opening_quote(data, position)
            self._count_unquoted(data, position, quote)
            closed = _CLOSED_QUOTED_FIELD.match(data, quote)
            if closed is not None:  # the usual field, closed in this chunk: one regex match
                self.line += data.count(b"\n", quote, closed.end())
                self.line_blank = self.at_field_start = False
                position = closed.end()
                continue
            if quote < len(data):
                self.in_quotes, self.quote_line, self.line_blank = True, self.line, False
                quote += 1
            position = quote

    def _opening_quote(self, data: bytes, start: int) -> int:
        """The next quote that opens a quoted field (len(data) if none); bytes.find, not a
        regex search, which is ten times slower on long text."""
        quote = data.find(b'"', start)
        while quote != -1:
            before = data[quote - 1 : quote] if quote > start else None
            if before in (b",", b"\n") or (before is None and self.at_field_start):
                return quote
            quote = data.find(b'"', quote + 1)
        return len(data)

    def _count_unquoted(self, data: bytes, start: int, end: int) -> None:
        if start == end:
            return
        newlines = data.count(b"\n", start, end)
        if not newlines:
            self.line_blank = self.line_blank and not data[start:end].strip(b" \t")
            self.commas += data.count(b",", start, end)
        else:
            first = data.index(b"\n", start, end)
            last = data.rindex(b"\n", start, end)
            first_blank = self.line_blank and not data[start:first].strip(b" \t")
            if not first_blank:
                self._check_fields(self.commas + data.count(b",", start, first), self.record_line)
            self._check_lines(data, first + 1, last)
            blank = int(first_blank) + len(_BLANK_CSV_LINE_END.findall(data, first, last + 1))
            self.records += newlines - blank
            self.line += newlines
            self.record_line += newlines
            self.line_blank = not data[last + 1 : end].strip(b" \t")
            self.commas = data.count(b",", last + 1, end)
        self.at_field_start = data[end - 1 : end] in (b",", b"\n")

    def _check_lines(self, data: bytes, start: int, end: int) -> None:
        """Fields of the whole lines in data[start:end] (the records of a chunk without a
        quoted field): one regex search for a line with too many separators."""
        line = self.record_line + 1
        while self.most_fields is None and start < end:  # the header, the first row
            stop = data.find(b"\n", start, end)
            stop = end if stop == -1 else stop
            if data[start:stop].strip(b" \t"):
                self._check_fields(data.count(b",", start, stop), line)
            start, line = stop + 1, line + 1
        if start >= end or self.too_many_fields is None:
            return
        found = self.too_many_fields.search(data, start, end)
        if found is not None:
            line += data.count(b"\n", start, found.start())
            stop = data.find(b"\n", found.start(), end)
            self._check_fields(data.count(b",", found.start(), end if stop == -1 else stop), line)

    def _check_fields(self, commas: int, line: int) -> None:
        """pandas takes the header's fields, or the first row's when it has more (the extra
        ones become the index); a later record with more fields is an error."""
        fields = commas + 1
        if self.header_fields is None:
            self.header_fields = fields
        elif self.most_fields is None:
            self.most_fields = max(self.header_fields, fields)
            # A line with `most_fields` separators has one field too many. Anchored at line
            # starts: unanchored, a search would rescan each line from every byte of it.
            self.too_many_fields = re.compile(
                rb"^(?:[^\n,]*+,){%d}" % self.most_fields, re.MULTILINE
            )
        elif fields > self.most_fields:
            raise RowCountError(
                f"{self.path}: line {line}: malformed CSV (Expected {self.most_fields} fields, "
                f"saw {fields}); pandas and datasets refuse it"
            )

    def _skip_quoted(self, data: bytes, start: int) -> int:
        if self.odd_quote_run is not None:  # the run of quotes that ended the last chunk goes on
            leading = len(data) - len(data.lstrip(b'"'))  # start is 0: a chunk's first byte
            odd = self.odd_quote_run != (leading % 2 == 1)
            if leading == len(data):
                self.odd_quote_run = odd
                return leading
            self.odd_quote_run = None
            if odd:
                self.in_quotes, self.at_field_start = False, False
                return leading
            start = leading
        quote = data.find(b'"', start)
        found = _QUOTE_RUN.match(data, quote) if quote != -1 else None
        end = found.end() if found else len(data)
        self.line += data.count(b"\n", start, end)
        if found is None:
            return end
        odd = (found.end() - found.start()) % 2 == 1
        if found.end() == len(data):  # the run may go on in the next chunk
            self.odd_quote_run = odd
        elif odd:
            self.in_quotes, self.at_field_start = False, False
        return end


def _count_csv(path: str) -> int:
    counter = _CsvRecordCounter(path)
    validate = codecs.getincrementaldecoder("utf-8")()  # pandas reads it as UTF-8
    with open_regular(path) as stream:
        for chunk in _read_chunks(stream):
            validate.decode(chunk)
            counter.feed(chunk)
    validate.decode(b"", final=True)
    return counter.finish()


# str.splitlines' line boundaries, without CR: universal-newline reading has made it LF.
_TEXT_LINE_ENDS = ("\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def _count_text(path: str) -> int:
    # datasets' text builder reads in universal-newline text mode, finishes each block at a line
    # end and splits it with str.splitlines, so every line is a row, empty lines included: the
    # rows are the line ends, plus a last line that has none. Read in blocks of characters, so
    # a line of any length costs one block of memory.
    rows = 0
    last = ""
    with open_regular(path) as binary, io.TextIOWrapper(binary, encoding="utf-8") as stream:
        while block := stream.read(CHUNK_SIZE):
            rows += sum(map(block.count, _TEXT_LINE_ENDS))
            last = block[-1]
    return rows + (1 if last and last not in _TEXT_LINE_ENDS else 0)


def _count_with_pyarrow(path: str, builder: str) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise RowCountError(
            f"{path}: counting {builder} rows needs pyarrow; install the parquet extra: "
            "pip install 'epochlint[parquet]'"
        ) from None
    try:
        if builder == "parquet":
            return int(pq.ParquetFile(path).metadata.num_rows)
        with pa.memory_map(path) as source:
            # datasets writes .arrow files in the IPC stream format; the file format also loads.
            try:
                return sum(batch.num_rows for batch in pa.ipc.open_stream(source))
            except pa.ArrowInvalid:
                source.seek(0)
                reader = pa.ipc.open_file(source)
                return sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
    except pa.ArrowException as err:
        message = str(err).splitlines()[0] if str(err) else err.__class__.__name__
        raise RowCountError(f"{path}: cannot read {builder} data ({message})") from None


# --- cache ---------------------------------------------------------------------------------------


def cache_folder(name: str) -> str:
    """`$XDG_CACHE_HOME/epochlint/<name>`, by default under ~/.cache (RuntimeError: no home)."""
    configured = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says to ignore a relative XDG_CACHE_HOME.
    base = configured if os.path.isabs(configured) else os.path.join(home(), ".cache")
    return os.path.join(base, "epochlint", name)


def _cache_file(absolute_path: str) -> str:
    # One small file per dataset path: a changed dataset overwrites its entry instead of adding one.
    digest = _sha256(absolute_path.encode("utf-8", "surrogatepass")).hexdigest()
    return os.path.join(cache_folder("rowcounts"), f"{digest[:32]}.json")


def _sha256(data: bytes) -> Any:
    # Every run with a cached count looks its entry up by this digest: CPython's built-in
    # SHA-256 loads in 0.3 ms, hashlib's OpenSSL binding in 2-3 ms. Same digest either way.
    try:
        from _sha256 import sha256
    except ImportError:  # another Python, or 3.12+ (`_sha2`)
        from hashlib import sha256
    return sha256(data)


def _fingerprint(absolute_path: str, file_stat: os.stat_result) -> dict[str, object]:
    return {
        "version": _COUNTER_VERSION,
        "path": absolute_path,
        "size": file_stat.st_size,
        "mtime_ns": file_stat.st_mtime_ns,
        "inode": file_stat.st_ino,
    }


def _cache_get(absolute_path: str, file_stat: os.stat_result) -> int | None:
    try:
        entry = json.loads(read_regular(_cache_file(absolute_path), CACHE_ENTRY_LIMIT))
    except (OSError, ValueError, RuntimeError):
        return None
    if not isinstance(entry, dict):
        return None
    rows = entry.pop("rows", None)
    if entry != _fingerprint(absolute_path, file_stat):
        return None
    if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0:
        return rows
    return None


def _cache_put(absolute_path: str, file_stat: os.stat_result, rows: int) -> None:
    entry = {**_fingerprint(absolute_path, file_stat), "rows": rows}
    try:
        target = _cache_file(absolute_path)
    except (OSError, RuntimeError):
        return
    write_cache_entry(target, entry)


def write_cache_entry(target: str, entry: dict[str, Any]) -> None:
    """Write a cache entry as JSON, whole or not at all; a cache that cannot be written is
    ignored (caching is an optimisation: a read-only or broken cache must not fail a check)."""
    import tempfile

    try:
        folder = os.path.dirname(target)
        os.makedirs(folder, exist_ok=True)
        # Write then rename, so a concurrent reader sees the old entry or the new one, never half.
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(entry, stream)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise
    except (OSError, RuntimeError):
        pass
