"""Which transformers version the checks assume.

A few behaviours changed between releases (warmup semantics, removed arguments). The version is
a setting; by default it is the installed transformers, else the newest that LLaMA-Factory
allows (its pin is transformers>=4.55.0,<=5.8.0).
"""

from __future__ import annotations

import os
import re
import sys
from functools import cache

NEWEST_LLAMAFACTORY_ALLOWS = "5.8.0"
# The TRL release whose fields, defaults and checks the TRL dialect describes (README, "TRL
# configs").
NEWEST_TRL_DESCRIBED = "1.10.0"


class Version(tuple[int, int, int]):
    """A release number, ordered as a tuple: `Version(5, 4) <= Version(5, 8, 0)`.

    A tuple subclass rather than a NamedTuple: the NamedTuple class costs about a millisecond to
    create, and every `epochlint check` imports this module.
    """

    __slots__ = ()

    def __new__(cls, major: int, minor: int = 0, patch: int = 0) -> Version:
        return tuple.__new__(cls, (major, minor, patch))

    @property
    def major(self) -> int:
        return self[0]

    @staticmethod
    @cache  # the rules parse the same few version strings for every file
    def parse(text: str) -> Version:
        match = re.match(r"\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
        if not match:
            raise ValueError(f"not a version number: {text!r} (expected e.g. 4.57.6)")
        major, minor, patch = (int(part) if part else 0 for part in match.groups())
        return Version(major, minor, patch)

    def __str__(self) -> str:
        return ".".join(map(str, self))

    def __repr__(self) -> str:
        return f"Version({', '.join(map(str, self))})"


@cache
def installed_transformers() -> str | None:
    """The installed transformers' version, looked up once per process (see `installed`)."""
    return installed("transformers")


@cache
def installed_trl() -> str | None:
    """The installed TRL's version, looked up once per process."""
    return installed("trl")


def installed(project: str) -> str | None:
    """An installed project's version.

    importlib.metadata costs about 10 ms to import and 2 ms per lookup (it parses METADATA as
    an e-mail), which every checked file paid. It finds a distribution as this does: the first
    `.dist-info` or `.egg-info` of that project name in sys.path order.
    """
    for folder in sys.path:
        for name in _entries(folder):
            # A cheap test first: a folder holds hundreds of entries and normalizing each
            # (a regular expression) was most of a lookup; `project` is already normalized.
            if (
                name[:1].lower() != project[:1]
                or _normalized(name.partition("-")[0].removesuffix(".egg-info")) != project
            ):
                continue
            path = os.path.join(folder, name)
            if name.endswith(".dist-info"):
                version = _metadata_version(os.path.join(path, "METADATA"))
            elif name.endswith(".egg-info"):
                is_folder = os.path.isdir(path)
                version = _metadata_version(os.path.join(path, "PKG-INFO") if is_folder else path)
            else:
                continue
            if version is not None:
                return version
    return None


@cache
def _entries(folder: str) -> list[str]:
    """A sys.path folder's entries, sorted; listed once for every project looked up."""
    try:
        return sorted(os.listdir(folder or "."))
    except OSError:
        return []


def _normalized(project: str) -> str:
    return re.sub(r"[-_.]+", "_", project).lower()


def _metadata_version(path: str) -> str | None:
    """The `Version:` header of a METADATA file (headers end at the first blank line)."""
    try:
        with open(path, encoding="utf-8") as stream:
            for line in stream:
                if not line.strip():
                    break
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
    except (OSError, UnicodeDecodeError):
        return None
    return None


def default_transformers() -> Version:
    return Version.parse(installed_transformers() or NEWEST_LLAMAFACTORY_ALLOWS)


def default_trl() -> Version:
    return Version.parse(installed_trl() or NEWEST_TRL_DESCRIBED)
