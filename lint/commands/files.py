"""Which files a check reads: named files as given, directories walked as ruff walks them.

A walk keeps the YAML files (`.yaml`, `.yml`) that `exclude` (by default the usual tool and
virtual-environment folders) and `extend-exclude` leave, and, unless told not to, that
`.gitignore`, `.ignore` and `.git/info/exclude` do not ignore. Whether a walked file is a
training config is decided by reading it (the engine's dialect detection); the check run
drops the others without a word unless `--verbose`.

Named files are checked even when excluded, unless `--force-exclude` (what a pre-commit hook
passes, since pre-commit names every staged file).
"""

from __future__ import annotations

import os

from epochlint.configfile import Configurations
from epochlint.engine import FileResult
from epochlint.paths import absolute, up_from
from epochlint.records import record

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

    from pathspec import GitIgnoreSpec

YAML_SUFFIXES = (".yaml", ".yml")
NOT_A_MAPPING = "EL003"  # an empty file, a list or a single value
IGNORE_FILES = (".gitignore", ".ignore")


@record(frozen=True)
class Target:
    path: str
    walked: bool  # found in a directory: not a training config means skipped silently


def collect(
    paths: tuple[str, ...],
    configurations: Configurations,
    respect_gitignore: bool = True,
    force_exclude: bool = False,
) -> list[Target]:
    """The files to check, in order: each named file, then each directory's YAML files in
    sorted order."""
    targets: list[Target] = []
    for path in paths:
        if path != "-" and os.path.isdir(path):
            walk = Walk(configurations, respect_gitignore)
            targets.extend(Target(found, True) for found in walk.files(path))
        elif path == "-" or not force_exclude or not configurations.excluded(path):
            targets.append(Target(path, False))
    return targets


def mark_if_not_a_config(result: FileResult) -> None:
    """A walked file that is empty, or a list or a single value, is no more a training config
    than a launcher config is: mark it skipped as the engine marks those. (A file that is not
    valid YAML stays reported: it may be a broken config.)"""
    if result.skipped is None and result.config is None and result.diagnostics:
        if all(d.rule == NOT_A_MAPPING for d in result.diagnostics):
            result.skipped = "its top level is not a mapping, so it is not a training config"


class Walk:
    def __init__(self, configurations: Configurations, respect_gitignore: bool) -> None:
        self.configurations = configurations
        self.respect_gitignore = respect_gitignore

    def files(self, top: str) -> list[str]:
        found: list[str] = []
        ignores = self._ignores_above(absolute(top)) if self.respect_gitignore else []
        self._walk(top, ignores, found)
        return found

    def _walk(self, folder: str, ignores: list[_Ignore], found: list[str]) -> None:
        if self.respect_gitignore:
            ignores = [*ignores, *_ignores_in(absolute(folder))]
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError:
            return  # a folder that cannot be listed holds nothing to check
        for entry in entries:
            path = entry.path if folder != "." else entry.name
            is_dir = entry.is_dir()
            if self.configurations.excluded(path, folders_checked=True):
                continue
            if any(ignore.ignores(entry.path, is_dir) for ignore in ignores):
                continue
            if is_dir:
                self._walk(path, ignores, found)
            elif entry.name.endswith(YAML_SUFFIXES) and entry.is_file():
                found.append(path)

    def _ignores_above(self, folder: str) -> list[_Ignore]:
        """The ignore files of the folders above `folder`, up to its repository's root."""
        above: list[str] = []
        for parent in list(up_from(folder))[1:]:
            above.append(parent)
            if os.path.exists(os.path.join(parent, ".git")):
                break
        else:
            return []  # the repository's root, or no repository: the walk reads its own files
        return [ignore for parent in reversed(above) for ignore in _ignores_in(parent)]


class _Ignore:
    """The patterns of one ignore file, relative to its folder."""

    def __init__(self, folder: str, spec: GitIgnoreSpec) -> None:
        self.folder = folder + os.sep
        self.spec = spec

    def ignores(self, path: str, is_dir: bool) -> bool:
        absolute = os.path.abspath(path)
        if not absolute.startswith(self.folder):
            return False
        relative = absolute[len(self.folder) :].replace(os.sep, "/")
        return bool(self.spec.match_file(relative + "/" if is_dir else relative))


def _ignores_in(folder: str) -> list[_Ignore]:
    files = [os.path.join(folder, name) for name in IGNORE_FILES]
    if os.path.isdir(os.path.join(folder, ".git")):
        files.insert(0, os.path.join(folder, ".git", "info", "exclude"))
    found: list[_Ignore] = []
    for file in files:
        lines = _lines(file)
        if lines:
            from pathspec import GitIgnoreSpec

            found.append(_Ignore(folder, GitIgnoreSpec.from_lines(lines)))
    return found


def _lines(file: str) -> list[Any]:
    try:
        with open(file, encoding="utf-8", errors="replace") as stream:
            return stream.read().splitlines()
    except OSError:
        return []
