"""The settings a command line gives, put on top of the configuration files: built here, once,
for every command (check, the console script's fast path, plan, recommend, guard).

No click here: the fast path uses it too. A bad option value raises OptionError, which the
click commands turn into a usage error naming the option.
"""

from __future__ import annotations

import os

from epochlint.configfile import Configurations, Options
from epochlint.paths import pure
from epochlint.records import record
from epochlint.settings import COMMAND_LINE
from epochlint.versions import Version


class OptionError(Exception):
    """An option value that cannot be used: `option` names it, the message says why."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


@record(frozen=True)
class CommandLine:
    """What the command line sets; None (or empty) leaves it to the configuration files."""

    select: tuple[str, ...] = ()  # as given: IDs or prefixes, comma-separated
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    num_gpus: int | None = None
    dataset_size: int | None = None
    transformers_version: str | None = None
    trl_version: str | None = None
    root: str | None = None
    dialect: str | None = None
    config_path: str | None = None  # --config: this file for every checked file
    isolated: bool = False  # --isolated: no configuration file at all


def configurations(line: CommandLine) -> Configurations:
    """The settings of every file: its configuration file, then the command line on top.
    Raises OptionError for a bad option value, SettingsError for a configuration file that
    cannot be used."""
    transformers = _version("--transformers-version", line.transformers_version)
    trl = _version("--trl-version", line.trl_version)
    select, extend_select, ignore = (
        _codes(line.select),
        _codes(line.extend_select),
        _codes(line.ignore),
    )
    for option, codes in (
        ("--select", select),
        ("--ignore", ignore),
        ("--extend-select", extend_select),
    ):
        _validate_codes(option, codes)
    options = Options(
        origin=COMMAND_LINE,
        folder=os.getcwd(),
        select=select if line.select else None,
        extend_select=extend_select,
        ignore=ignore,
        num_gpus=line.num_gpus,
        dataset_size=line.dataset_size,
        transformers=transformers,
        trl=trl,
        root=pure(line.root) if line.root else None,
        dialect=line.dialect,
    )
    config_path = line.config_path or None
    return Configurations(options, config_path, line.isolated)


def _version(option: str, text: str | None) -> Version | None:
    if not text:
        return None
    try:
        return Version.parse(text)
    except ValueError as error:
        raise OptionError(option, str(error)) from None


def _codes(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(
        code.strip().upper() for value in values for code in value.split(",") if code.strip()
    )


def _validate_codes(option: str, codes: frozenset[str]) -> None:
    if not codes:
        return
    from epochlint.rules import all_rules

    known = [rule.code for rule in all_rules()]
    for code in codes:
        if not any(known_code.startswith(code) for known_code in known):
            raise OptionError(option, f"{code} matches no rule (see `epochlint rule --all`)")
