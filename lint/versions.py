"""Which transformers version the checks assume.

A few behaviours changed between releases (warmup semantics, removed arguments). The version is
a setting; by default it is the installed transformers, else the newest that LLaMA-Factory
allows (its pin is transformers>=4.55.0,<=5.8.0).
"""

from __future__ import annotations

import re
from typing import NamedTuple

NEWEST_LLAMAFACTORY_ALLOWS = "5.8.0"


class Version(NamedTuple):
    major: int
    minor: int = 0
    patch: int = 0

    @staticmethod
    def parse(text: str) -> Version:
        match = re.match(r"\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
        if not match:
            raise ValueError(f"not a version number: {text!r} (expected e.g. 4.57.6)")
        major, minor, patch = (int(part) if part else 0 for part in match.groups())
        return Version(major, minor, patch)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def installed_transformers() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("transformers")
    except metadata.PackageNotFoundError:
        return None


def default_transformers() -> Version:
    return Version.parse(installed_transformers() or NEWEST_LLAMAFACTORY_ALLOWS)
