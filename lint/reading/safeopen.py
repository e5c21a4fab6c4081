"""Opening the user's files so that no file can hang epochlint or exhaust its memory.

A path in a config or on the command line can name a FIFO (an `open` blocks until a writer
comes, which in a pull request checked by CI is never), a device (`/dev/zero` never ends) or a
socket. So a file is opened non-blocking, checked with `fstat` on the open descriptor (no race
between the check and the read) and refused unless it is a regular file; and every whole-file
read has a size limit (README, "Limits").
"""

from __future__ import annotations

import errno
import io
import os
import stat

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import BinaryIO

# Limits of the whole-file reads (counters read in chunks and have none). Each is far above
# what the real file holds: LLaMA-Factory's own dataset_info.json is 40 KB, and a Trainer's
# log of 300,000 steps is 50 MB.
DATASET_INFO_LIMIT = 16 << 20
RUN_LOG_LIMIT = 256 << 20
CACHE_ENTRY_LIMIT = 1 << 16


class NotARegularFile(OSError):
    """A FIFO, device, socket (or a folder where a file is expected): refused unread."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(errno.EINVAL, f"{kind}, not a regular file; epochlint reads only files")
        self.filename = path
        self.kind = kind


class FileTooLarge(OSError):
    """A file over the limit of what epochlint reads whole."""

    def __init__(self, path: str, limit: int) -> None:
        super().__init__(
            errno.EFBIG, f"larger than {limit / 1e6:,.0f} MB, the limit epochlint reads"
        )
        self.filename = path


def kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular(path: str, mode: int) -> None:
    """Raise NotARegularFile unless `mode` (from a stat) is a regular file's."""
    if not stat.S_ISREG(mode):
        raise NotARegularFile(path, kind_of(mode))


def open_regular(path: str) -> BinaryIO:
    """Open a regular file for reading in binary mode; OSError (NotARegularFile for a FIFO, a
    device, a socket or a folder) otherwise. Opening never blocks."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        check_regular(path, os.fstat(descriptor).st_mode)
    except BaseException:
        os.close(descriptor)
        raise
    # O_NONBLOCK changes nothing for a regular file's reads.
    return os.fdopen(descriptor, "rb")


def read_regular(path: str, limit: int) -> bytes:
    """The whole content of a regular file of at most `limit` bytes; OSError otherwise."""
    with open_regular(path) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(path, limit)
    return data


def read_regular_text(path: str, limit: int) -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes (UnicodeDecodeError when it
    is not UTF-8); decoded as it is read, so the bytes and the text are never both held."""
    with open_regular(path) as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > limit:
            raise FileTooLarge(path, limit)
        with io.TextIOWrapper(stream, encoding="utf-8") as text:
            content = text.read(limit + 1)  # characters: bounded even if the file grows
    if len(content) > limit:
        raise FileTooLarge(path, limit)
    return content
