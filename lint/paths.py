"""File paths as plain strings, written as pathlib writes them.

Every `epochlint check` finds its configuration file and the datasets a config names. pathlib
would do that more readably, but importing it (with urllib.parse and ipaddress, which it pulls
in) costs about 3.5 ms of every run, a twentieth of the YAML linter's whole run that a pre-commit
hook is compared with. So the check path works on strings; these helpers keep pathlib's lexical
rules, so that folders compare equal and messages read the same: `.` and empty parts are
dropped, `..` is kept (a folder reached through a link has another parent than its name says).
POSIX paths only, as epochlint's file locking is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator


def pure(path: str) -> str:
    """`str(PurePosixPath(path))`: `a//b/./c/` is `a/b/c`, an empty path is `.`."""
    text = "/".join(part for part in path.split("/") if part not in ("", "."))
    if path.startswith("//") and not path.startswith("///"):
        return "//" + text  # POSIX leaves the meaning of exactly two leading slashes open
    if path.startswith("/"):
        return "/" + text
    return text or "."


def absolute(path: str) -> str:
    """`str(Path(path).absolute())`: from the root, without resolving `..` or links."""
    return pure(os.path.join(os.getcwd(), path))


def parent(path: str) -> str:
    """`str(PurePosixPath(path).parent)`: the folder a file or folder is in (`.` for a bare
    name; the root is its own parent)."""
    path = pure(path)
    if path in ("/", "//"):
        return path
    head, _, _ = path.rpartition("/")
    if head in ("", "/"):
        return path[: len(path) - len(path.lstrip("/"))] or "."
    return head


def up_from(folder: str) -> Iterator[str]:
    """`folder`, then each folder above it up to the root, as `Path.parents` lists them."""
    folder = pure(folder)
    while True:
        yield folder
        above = parent(folder)
        if above == folder:
            return
        folder = above


def home() -> str:
    """The user's home folder; RuntimeError when there is none (as `Path.home()`)."""
    found = os.path.expanduser("~")
    if found == "~":
        raise RuntimeError("could not determine the home folder")
    return found
