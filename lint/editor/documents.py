"""The configs open in the editor: their settings, and the result of checking their text.

Settings are found as `epochlint check` finds them for the file on disk (the closest
`.epochlint.yaml` or `[tool.epochlint]` up to the repository root). Before each check the
configuration file is looked up again and its size and modification time compared, so a new,
edited or deleted configuration file applies from the next check on.

N (the training rows) is resolved at each check as the CLI resolves it: dataset_info.json is
read again and every data file is stat'ed; a file whose size and modification time are
unchanged is not read again (the row counter's cache), so an edit costs no recount and a
changed data file is counted at the next check.
"""

from __future__ import annotations

import os
from pathlib import Path

from epochlint.editor import engine_api
from epochlint.editor.engine_api import FileResult, Settings, SettingsError
from epochlint.records import record, replace

# (path, size, modification time) of the configuration file in force; None: no file.
Stamp = tuple[str, int, int] | None


def _stamp(found: str | None) -> Stamp:
    if found is None:
        return None
    try:
        info = os.stat(found)
    except OSError:
        return None
    return (str(found), info.st_size, info.st_mtime_ns)


@record
class OpenConfig:
    uri: str
    path: Path
    text: str = ""
    version: int | None = None
    settings: Settings | None = None
    settings_error: str | None = None
    stamp: Stamp = None
    result: FileResult | None = None
    # The last result that had a document and a dialect: what completion and hover use while
    # the text does not parse (the user is half-way through typing).
    readable: FileResult | None = None
    checks: int = 0


class OpenConfigs:
    """The open configs by URI, and the checking of their current text."""

    def __init__(self, *folders: Path) -> None:
        # The editor's workspace folders: relative dataset_dir paths start from the one that
        # holds the config (where `llamafactory-cli train` is run) when no `root` setting says.
        self.folders = folders
        self.by_uri: dict[str, OpenConfig] = {}

    def root_for(self, path: Path) -> Path:
        holding = [folder for folder in self.folders if path.is_relative_to(folder)]
        if holding:
            return max(holding, key=lambda folder: len(folder.parts))
        return self.folders[0] if self.folders else Path.cwd()

    def open(self, uri: str, path: Path, text: str, version: int | None) -> OpenConfig:
        config = OpenConfig(uri, path, text, version)
        self.by_uri[uri] = config
        return config

    def close(self, uri: str) -> None:
        self.by_uri.pop(uri, None)

    def get(self, uri: str) -> OpenConfig | None:
        return self.by_uri.get(uri)

    def forget_settings(self) -> None:
        """A configuration file changed (the client said so): find the settings again."""
        for config in self.by_uri.values():
            config.stamp = None
            config.settings = None

    def settings(self, config: OpenConfig) -> Settings | None:
        """The config's settings; None (with `settings_error`) when the file is unusable."""
        stamp = _stamp(engine_api.config_file_for(config.path))
        if config.settings is not None and stamp == config.stamp:
            return config.settings
        config.stamp = stamp
        try:
            settings = engine_api.settings_for(config.path)
        except SettingsError as error:
            config.settings, config.settings_error = None, str(error)
            return None
        if settings.root is None:
            settings = replace(settings, root=str(self.root_for(config.path)))
        config.settings, config.settings_error = settings, None
        return settings

    def check(self, config: OpenConfig) -> FileResult | None:
        """Check the config's current text; None when its settings cannot be used."""
        settings = self.settings(config)
        if settings is None:
            config.result = None
            return None
        result = engine_api.check_text(str(config.path), config.text, settings)
        config.result = result
        config.checks += 1
        if result.document is not None and result.config is not None:
            config.readable = result
        return result
