"""Reading a config file's bytes into text, remembering how it was written.

The fixer must write a file back byte-for-byte as the user wrote it apart from the fixed
values, so the BOM, the newline style and the final newline are recorded here.
"""

from __future__ import annotations

import os

from epochlint.reading.safeopen import NotARegularFile, open_regular
from epochlint.records import record

BOM = "\ufeff"
# Training configs are a few KB (a long embedded chat template, tens of KB). Past this size a
# file is not one, and parsing it could take minutes and gigabytes (a YAML node costs ~40x its
# text), so it is refused unread: a pre-commit hook must stay fast on any file it is given.
MAX_CONFIG_BYTES = 2_000_000


class SourceError(Exception):
    """A file that cannot be read as text; carries the position of the first bad byte."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class UnreadablePath(SourceError):
    """The path cannot be read at all (missing, a directory, no permission)."""


@record(frozen=True)
class Source:
    path: str  # as shown to the user (relative when given relative)
    text: str  # decoded, without the BOM, newlines as in the file
    has_bom: bool
    newline: str  # "\n" or "\r\n": the file's dominant style
    real_path: str | None = None  # the file on disk, None for standard input


def _position_of_offset(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column


def decode(data: bytes, path: str, real_path: str | None = None) -> Source:
    """Decode UTF-8 config bytes; refuse binary and undecodable input with a position."""
    if len(data) > MAX_CONFIG_BYTES:
        raise _too_large(len(data))
    nul = data.find(b"\x00")
    if nul != -1:
        line, column = _position_of_offset(data, nul)
        raise SourceError(
            "this is a binary file (it contains a NUL byte), not a YAML config", line, column
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _position_of_offset(data, error.start)
        raise SourceError(
            f"invalid UTF-8 (byte 0x{data[error.start]:02x}); save the file as UTF-8",
            line,
            column,
        ) from None
    has_bom = text.startswith(BOM)
    if has_bom:
        text = text[1:]
    crlf = text.count("\r\n")
    newline = "\r\n" if crlf and crlf >= text.count("\n") - crlf else "\n"
    return Source(path=path, text=text, has_bom=has_bom, newline=newline, real_path=real_path)


def read_file(path: str) -> Source:
    """Read and decode a file; OSError becomes a SourceError with a one-line reason."""
    try:
        with open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_CONFIG_BYTES:
                raise _too_large(size)
            # A file is read at its size: a read of the limit allocates 2 MB first, which cost
            # more than parsing a config. A file that grows while it is read is read up to the
            # limit.
            data = handle.read(size + 1)
            if len(data) > size:
                data += handle.read(MAX_CONFIG_BYTES + 1 - len(data))
            if len(data) > MAX_CONFIG_BYTES:
                raise _too_large(os.fstat(handle.fileno()).st_size)
    except FileNotFoundError:
        raise UnreadablePath("no such file") from None
    except PermissionError:
        raise UnreadablePath("permission denied") from None
    except NotARegularFile as error:
        if error.kind == "a folder":
            raise UnreadablePath(
                "is a directory; give YAML files, or a folder's files with a glob"
            ) from None
        raise UnreadablePath(error.strerror or error.kind) from None
    except OSError as error:
        raise UnreadablePath(error.strerror or str(error)) from None
    return decode(data, path, real_path=path)


def _too_large(size: int) -> SourceError:
    limit = f"{MAX_CONFIG_BYTES / 1e6:g} MB"
    # Standard input is read one byte past the limit: it is only known to be over it.
    shown = f"{size / 1e6:,.1f} MB" if size > MAX_CONFIG_BYTES + 1 else f"over {limit}"
    return SourceError(
        f"the file is {shown}, far larger than a training config: epochlint does not parse "
        f"files over {limit}"
    )


def encode(source: Source, text: str) -> bytes:
    """Encode text for writing back in the style the source was read in."""
    return ((BOM if source.has_bom else "") + text).encode("utf-8")
