"""Write a fixed config back into the file the user owns, never leaving a partial or stale file.

Every epochlint process that changes a config (`--fix`, `recommend --apply`, `diagnose --fix`)
holds an exclusive advisory lock (`fcntl.flock`) on the file from its read to its write, so
concurrent runs take turns: the second reads what the first wrote. The new bytes are written
only if the file still holds exactly what was read (an editor that takes no lock may have
saved meanwhile), and only if the user may write the file itself, not just its folder.

The file stays the user's file: its mode, owner, group and extended attributes are kept. When
all of them can be given to a new file, the new bytes go to a temporary file in the same
folder that atomically replaces the old one; otherwise (a file with several hard links, an
owner or an attribute the process cannot give a new file) the file is rewritten in place,
then read back. A symlink is followed: its target is rewritten and the link stays a link.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

# How long to wait for another epochlint run to finish with the file before giving up.
LOCK_TIMEOUT_SECONDS = 120.0
_LOCK_POLL_SECONDS = 0.005


class WriteError(Exception):
    """The file was not written; the message says why and leaves the original untouched."""


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _read_all(fd: int) -> bytes:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


class LockedFile:
    """A regular file held under an exclusive advisory lock; `write` replaces its content."""

    def __init__(self, target: str, fd: int) -> None:
        self.target = target  # the real path (symlinks resolved)
        self._fd = fd

    def read(self) -> bytes:
        return _read_all(self._fd)

    def write(self, data: bytes, expected: bytes) -> None:
        """Make the file hold `data`, if it still holds `expected`; else raise WriteError."""
        info = os.fstat(self._fd)
        if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise WriteError("the file is read-only; not fixed (make it writable to fix it)")
        if not os.access(self.target, os.W_OK):
            raise WriteError("you do not have permission to write the file; not fixed")
        self._check_unchanged(expected)
        if info.st_nlink > 1:
            self._write_in_place(data, expected)
            return
        try:
            self._replace(data, expected, info)
        except _CannotKeep:
            self._write_in_place(data, expected)

    def _check_unchanged(self, expected: bytes) -> None:
        try:
            current = os.stat(self.target)
        except OSError:
            current = None
        own = os.fstat(self._fd)
        moved = current is None or (current.st_dev, current.st_ino) != (own.st_dev, own.st_ino)
        if moved or _read_all(self._fd) != expected:
            raise WriteError("the file changed while epochlint was fixing it; not fixed")

    def _replace(self, data: bytes, expected: bytes, info: os.stat_result) -> None:
        folder = os.path.dirname(self.target) or "."
        try:
            handle, temporary = tempfile.mkstemp(prefix=".epochlint-", suffix=".tmp", dir=folder)
        except OSError:
            raise _CannotKeep from None  # no room or no right in the folder: edit in place
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                _keep_attributes(stream.fileno(), self._fd, info)
                os.fsync(stream.fileno())
            self._check_unchanged(expected)
            os.replace(temporary, self.target)
        except OSError as error:
            raise WriteError(f"cannot write: {_reason(error)}") from None
        finally:
            with suppress(FileNotFoundError):
                os.unlink(temporary)
        _sync_folder(folder)

    def _write_in_place(self, data: bytes, expected: bytes) -> None:
        """Rewrite the file's own bytes (same inode: links, owner and attributes stay)."""
        try:
            fd = os.open(self.target, os.O_WRONLY | os.O_CLOEXEC)
        except OSError as error:
            raise WriteError(f"cannot write: {_reason(error)}") from None
        try:
            if len(data) > len(expected):
                # Claim the space first: a full disk then fails before a byte changes.
                try:
                    os.posix_fallocate(fd, 0, len(data))
                except OSError as error:
                    if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                        raise WriteError(f"cannot write: {_reason(error)}") from None
            failure: str | None
            try:
                _write_at_start(fd, data)
                os.fsync(fd)
                failure = None if _read_all(self._fd) == data else "it did not read back"
            except OSError as error:
                failure = _reason(error)
            if failure is not None:
                with suppress(OSError):
                    _write_at_start(fd, expected)
                    os.fsync(fd)
                raise WriteError(f"cannot write: {failure}; the original was put back")
        finally:
            os.close(fd)


class _CannotKeep(Exception):
    """A new file cannot get the old one's owner, group or attributes."""


def _write_at_start(fd: int, data: bytes) -> None:
    view = memoryview(data)
    offset = 0
    while offset < len(view):
        offset += os.pwrite(fd, view[offset:], offset)
    os.ftruncate(fd, len(data))


def _keep_attributes(new: int, old: int, info: os.stat_result) -> None:
    """Give the new file the old one's owner, group, extended attributes and mode."""
    if (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(new, info.st_uid, info.st_gid)
        except PermissionError:
            raise _CannotKeep from None  # only root may give a file away
    try:
        names = os.listxattr(old)
    except OSError:
        names = []  # a filesystem without extended attributes
    for name in names:
        try:
            os.setxattr(new, name, os.getxattr(old, name))
        except OSError:
            raise _CannotKeep from None
    os.fchmod(new, stat.S_IMODE(info.st_mode))  # after chown, which may clear setgid


def _sync_folder(folder: str) -> None:
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _open_regular(target: str) -> int | None:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer.
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        raise WriteError(f"cannot open the file: {_reason(error)}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def _acquire(fd: int, deadline: float) -> None:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise WriteError(
                    "another process has been changing the file for "
                    f"{LOCK_TIMEOUT_SECONDS:.0f} s; not fixed"
                ) from None
            time.sleep(_LOCK_POLL_SECONDS)


@contextmanager
def locked(path: str) -> Iterator[LockedFile | None]:
    """Hold the lock on the regular file `path` names (None: no such regular file to lock).

    Raises WriteError when the file exists but cannot be opened, or the lock is not granted.

    The lock belongs to the file, not the name: when another run replaced the file while
    this one waited, the new file is locked instead.
    """
    target = os.path.realpath(path)
    deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
    while True:
        fd = _open_regular(target)
        if fd is None:
            yield None
            return
        try:
            _acquire(fd, deadline)
            own = os.fstat(fd)
            try:
                current = os.stat(target)
                same = (current.st_dev, current.st_ino) == (own.st_dev, own.st_ino)
            except OSError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if not same:
            os.close(fd)
            continue
        try:
            yield LockedFile(target, fd)
        finally:
            os.close(fd)  # releases the lock
        return


def write_atomic(path: str, data: bytes, expected: bytes) -> None:
    """Make `path` (following symlinks) hold `data`, if it still holds `expected`."""
    with locked(path) as file:
        if file is None:
            raise WriteError("cannot write: the file is gone or is not a regular file")
        file.write(data, expected)
