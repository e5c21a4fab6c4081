"""Write a fixed config back without ever leaving a partial or surprising file.

The new bytes go to a temporary file in the target's own folder (so the final rename stays on
one filesystem and is atomic), get the original file's permission bits, and replace the file
only if it still holds exactly what was read. A symlink is followed: its target is rewritten
and the link stays a link.
"""

from __future__ import annotations

import os
import stat
import tempfile


class WriteError(Exception):
    """The file was not written; the message says why and leaves the original untouched."""


def write_atomic(path: str, data: bytes, expected: bytes) -> None:
    """Replace `path` (following symlinks) with `data`, if it still contains `expected`."""
    target = os.path.realpath(path)
    try:
        info = os.stat(target)
    except OSError as error:
        raise WriteError(f"cannot write: {error.strerror or error}") from None
    if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise WriteError("the file is read-only; not fixed (make it writable to fix it)")
    folder = os.path.dirname(target) or "."
    try:
        handle, temporary = tempfile.mkstemp(prefix=".epochlint-", suffix=".tmp", dir=folder)
    except OSError as error:
        raise WriteError(f"cannot create a temporary file in {folder}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        with open(target, "rb") as current:
            if current.read() != expected:
                raise WriteError("the file changed while epochlint was fixing it; not fixed")
        os.replace(temporary, target)
    except OSError as error:
        raise WriteError(f"cannot write: {error.strerror or error}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
