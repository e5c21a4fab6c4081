"""Configuration files: `[tool.epochlint]` in pyproject.toml, or `.epochlint.yaml`.

Each checked file uses the closest configuration file found from its folder upwards, stopping
at the repository root (the folder holding `.git`), as ruff does: files are not merged, so
what a folder's file says is all that applies there. In one folder `.epochlint.yaml` wins over
`.epochlint.yml` and pyproject.toml, and a pyproject.toml without `[tool.epochlint]` is passed
over. Command-line options are applied on top of the file.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterable

import yaml

from epochlint import dialects
from epochlint.diagnostic import Severity
from epochlint.paths import absolute, parent, pure, up_from
from epochlint.reading.safeopen import read_regular_text
from epochlint.reading.source import MAX_CONFIG_BYTES
from epochlint.records import field, record, replace
from epochlint.rules import all_rules, default_selection
from epochlint.settings import COMMAND_LINE, Settings, SettingsError, guidelines_with
from epochlint.versions import Version

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

CONFIG_NAMES = (".epochlint.yaml", ".epochlint.yml", "pyproject.toml")
# What a walk never enters unless `exclude` is set: ruff's defaults. `extend-exclude` adds to them.
DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
)
KEYS = (
    "select",
    "extend-select",
    "ignore",
    "severity",
    "guidelines",
    "num-gpus",
    "dataset-sizes",
    "exclude",
    "extend-exclude",
    "per-file-ignores",
    "extend-per-file-ignores",
    "unfixable",
    "transformers-version",
    "root",
    "dialect",
    "trl-version",
    "trl-trainer",
    "trl-entry",
)


class ConfigError(SettingsError):
    """A configuration file that cannot be used; the message names the file and the key."""


@record(frozen=True)
class Options:
    """What one layer (a configuration file, or the command line) sets; empty means unset."""

    origin: str  # how messages and the plan name this layer: a file name, or COMMAND_LINE
    folder: str  # where the layer's relative paths and globs start
    select: frozenset[str] | None = None
    extend_select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    severities: dict[str, Severity] = field(default_factory=dict)
    guidelines: dict[str, Any] | None = None  # already merged with the defaults and validated
    num_gpus: int | None = None
    dataset_size: int | None = None  # one size for every file (the command line)
    dataset_sizes: tuple[tuple[str, int], ...] = ()  # (glob, rows), the first match wins
    exclude: tuple[str, ...] | None = None  # None: DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()  # (glob, rules it skips)
    unfixable: frozenset[str] = frozenset()
    transformers: Version | None = None
    root: str | None = None
    dialect: str | None = None
    trl: Version | None = None
    trl_trainer: str | None = None
    trl_entry: str | None = None


def rule_codes(values: Iterable[str], where: str) -> frozenset[str]:
    """Rule IDs or ID prefixes, upper-cased; one that matches no rule is an error."""
    known = [rule.code for rule in all_rules()]
    codes: set[str] = set()
    for value in values:
        for written in value.split(","):
            code = written.strip().upper()
            if code and not any(known_code.startswith(code) for known_code in known):
                raise ConfigError(
                    f"{where}: `{written.strip()}` matches no rule (see `epochlint rule --all`)"
                )
            if code:
                codes.add(code)
    return frozenset(codes)


def matches(relative: str, pattern: str) -> bool:
    """A glob against a path relative to a config's folder; without a `/` it may match the
    file name alone, as in .gitignore."""
    pattern = pattern.removeprefix("./")
    if fnmatch.fnmatchcase(relative, pattern):
        return True
    return "/" not in pattern and fnmatch.fnmatchcase(relative.rsplit("/", 1)[-1], pattern)


class Exclusion:
    """Globs that exclude a path when they match it or one of its folders, as ruff's `exclude`
    does; compiled into two regular expressions, since a walk tests every file."""

    def __init__(self, patterns: Iterable[str]) -> None:
        cleaned = [pattern.removeprefix("./").rstrip("/") for pattern in patterns]
        names = [fnmatch.translate(pattern) for pattern in cleaned if "/" not in pattern]
        paths = [fnmatch.translate(pattern) for pattern in cleaned]
        self._name = re.compile("|".join(names)) if names else None
        self._path = re.compile("|".join(paths)) if paths else None

    def matches(self, relative: str) -> bool:
        """Does a glob match this path (relative to the configuration's folder)?"""
        if self._path is not None and self._path.match(relative):
            return True
        return self._name is not None and bool(self._name.match(relative.rsplit("/", 1)[-1]))

    def excludes(self, relative: str) -> bool:
        """Does a glob match this path or one of its folders?"""
        parts = relative.split("/")
        return any(self.matches("/".join(parts[:end])) for end in range(len(parts), 0, -1))


# --------------------------------------------------------------------------------------
# Does a pyproject.toml configure epochlint? (without importing tomllib: ~4.5 ms a run)
# --------------------------------------------------------------------------------------

_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SPACE = " \t"


class _Doubt(Exception):
    """The scanner met something it does not follow: let tomllib read the file."""


class _Scanner:
    """Just enough of TOML to follow table headers and keys: strings, arrays, inline tables
    and comments are skipped as wholes, so that text inside them is never taken for a header."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def peek(self, length: int = 1) -> str:
        return self.text[self.at : self.at + length]

    def spaces(self) -> None:
        while self.peek() in (" ", "\t"):
            self.at += 1

    def blank(self) -> None:
        """Whitespace, newlines and comments (between statements, inside arrays)."""
        while True:
            char = self.peek()
            if char and char in " \t\n":
                self.at += 1
            elif char == "\r" and self.peek(2) == "\r\n":
                self.at += 2
            elif char == "#":
                self.comment()
            else:
                return

    def comment(self) -> None:
        end = self.text.find("\n", self.at)
        self.at = len(self.text) if end < 0 else end

    def end_of_line(self) -> None:
        self.spaces()
        if self.peek() == "#":
            self.comment()
        if self.peek() == "\r":
            self.at += 1
        if self.at < len(self.text) and self.peek() != "\n":
            raise _Doubt

    def key(self) -> list[str | None]:
        """A dotted key's parts; None for a quoted part with escapes (it may be any name)."""
        parts: list[str | None] = []
        while True:
            self.spaces()
            char = self.peek()
            if char in ('"', "'"):
                if self.peek(3) == char * 3:
                    raise _Doubt
                end = self.text.find(char, self.at + 1)
                while char == '"' and end > 0 and _escaped(self.text, end):
                    end = self.text.find(char, end + 1)
                if end < 0 or "\n" in self.text[self.at : end]:
                    raise _Doubt
                part = self.text[self.at + 1 : end]
                parts.append(None if char == '"' and "\\" in part else part)
                self.at = end + 1
            else:
                start = self.at
                while self.peek() and self.peek() in _BARE_KEY:
                    self.at += 1
                if self.at == start:
                    raise _Doubt
                parts.append(self.text[start : self.at])
            self.spaces()
            if self.peek() != ".":
                return parts
            self.at += 1

    def string(self) -> None:
        quote = self.peek()
        if self.peek(3) == quote * 3:
            self.at += 3
            while True:
                end = self.text.find(quote * 3, self.at)
                if end < 0:
                    raise _Doubt
                if quote == '"' and _escaped(self.text, end):
                    self.at = end + 1
                    continue
                self.at = end + 3
                extra = 0  # up to two quotes may end the content: """a""""
                while extra < 2 and self.peek() == quote:
                    self.at += 1
                    extra += 1
                return
        end = self.at + 1
        while True:
            end = self.text.find(quote, end)
            if end < 0:
                raise _Doubt
            if quote == '"' and _escaped(self.text, end):
                end += 1
                continue
            break
        if "\n" in self.text[self.at : end]:
            raise _Doubt
        self.at = end + 1

    def value(self) -> None:
        self.spaces()
        char = self.peek()
        if char in ('"', "'") and char:
            self.string()
        elif char == "[":
            self.at += 1
            while True:
                self.blank()
                if self.peek() == "]":
                    self.at += 1
                    return
                self.value()
                self.blank()
                if self.peek() == ",":
                    self.at += 1
                elif self.peek() != "]":
                    raise _Doubt
        elif char == "{":
            self.at += 1
            while True:
                self.spaces()
                if self.peek() == "}":
                    self.at += 1
                    return
                self.key()
                if self.peek() != "=":
                    raise _Doubt
                self.at += 1
                self.value()
                self.spaces()
                if self.peek() == ",":
                    self.at += 1
                elif self.peek() != "}":
                    raise _Doubt
        else:
            start = self.at
            while self.peek() and self.peek() not in ",]}#\r\n":
                self.at += 1
            if not self.text[start : self.at].strip(_SPACE):
                raise _Doubt


def _escaped(text: str, at: int) -> bool:
    """Whether the character at `at` follows an odd number of backslashes."""
    count = 0
    while at - count > 0 and text[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _names(parts: list[str | None], first: str, second: str) -> bool:
    """Whether a key path may start `first.second...` (a second part starting with it)."""
    return (
        len(parts) >= 2
        and (parts[0] is None or parts[0] == first)
        and (parts[1] is None or parts[1].startswith(second))
    )


def may_configure_epochlint(text: str) -> bool:
    """False only when `text` certainly has no `[tool.epochlint]` table, as tomllib reads it.

    Follows table headers and dotted keys; any header or key that may make `tool.epochlint`
    (or start with it), an assignment to `tool` itself (an inline table) and anything the
    scanner does not follow answer True, and tomllib decides.
    """
    scanner = _Scanner(text)
    table: list[str | None] = []
    try:
        while True:
            scanner.blank()
            if scanner.at >= len(text):
                return False
            if scanner.peek() == "[":
                double = scanner.peek(2) == "[["
                scanner.at += 2 if double else 1
                table = scanner.key()
                closing = "]]" if double else "]"
                if scanner.peek(len(closing)) != closing:
                    raise _Doubt
                scanner.at += len(closing)
                if _names(table, "tool", "epochlint"):
                    return True
            else:
                path = table + scanner.key()
                if _names(path, "tool", "epochlint") or path in (["tool"], [None]):
                    return True
                if scanner.peek() != "=":
                    raise _Doubt
                scanner.at += 1
                scanner.value()
            scanner.end_of_line()
    except _Doubt:
        return True


# --------------------------------------------------------------------------------------
# Reading one file
# --------------------------------------------------------------------------------------


def _shown(path: str) -> str:
    """A configuration file's path for messages: from the current folder when it is below it."""
    path, here = pure(path), os.getcwd()
    if path == here:
        return "."
    return path.removeprefix(here + "/") if path.startswith(here + "/") else path


def _table(path: str) -> dict[str, Any] | None:
    """The epochlint table of a configuration file; None for a pyproject.toml without one."""
    shown = _shown(path)
    try:
        text = read_regular_text(path, MAX_CONFIG_BYTES)
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8"
        raise ConfigError(f"{shown}: cannot read the configuration: {reason}") from None
    if path.endswith(".toml"):
        if _is_pyproject(path) and not may_configure_epochlint(text):
            return None
        import tomllib  # ~4.5 ms: only for a file that may configure epochlint

        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{shown}: invalid TOML: {error}") from None
        if not _is_pyproject(path):
            return document
        tool = document.get("tool")
        table = tool.get("epochlint") if isinstance(tool, dict) else None
        return table if isinstance(table, dict) else None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or "cannot be parsed"
        raise ConfigError(f"{shown}: invalid YAML{where}: {problem}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{shown}: the configuration must be a mapping of `key: value`")
    return loaded


def _strings(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise ConfigError(f'{where}: expected a list of strings, e.g. ["EL2", "EL401"]')


def _positive(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: expected a whole number of at least 1, not {value!r}")
    return value


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise ConfigError(f"{where}: expected a mapping")
    return value


def _severities(value: Any, where: str) -> dict[str, Severity]:
    known = {rule.code for rule in all_rules()}
    allowed = ", ".join(severity.value for severity in Severity)
    severities: dict[str, Severity] = {}
    for code, level in _mapping(value, where).items():
        if code.upper() not in known:
            raise ConfigError(f"{where}: `{code}` is not a rule ID (see `epochlint rule --all`)")
        if level not in [severity.value for severity in Severity]:
            raise ConfigError(f"{where}.{code}: expected one of {allowed}, not {level!r}")
        severities[code.upper()] = Severity(level)
    return severities


def _version(value: Any, where: str) -> Version:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ConfigError(f'{where}: expected a version such as "4.55.0"')
    try:
        return Version.parse(value)
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None


def _is_pyproject(path: str) -> bool:
    return os.path.basename(path) == "pyproject.toml"


def read_options(path: str, table: dict[str, Any]) -> Options:
    """Validate a configuration table into Options; the first problem is a ConfigError."""
    shown = _shown(path)
    prefix = f"{shown}: [tool.epochlint]" if _is_pyproject(path) else shown
    folder = parent(path)
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{prefix} {key}"
        if key not in KEYS:
            import difflib  # only for a name that is unknown

            close = difflib.get_close_matches(str(key).replace("_", "-"), KEYS, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else f"; known keys: {', '.join(KEYS)}"
            raise ConfigError(f"{prefix}: unknown key `{key}`{hint}")
        if key in ("select", "extend-select", "ignore", "unfixable"):
            values[key] = rule_codes(_strings(value, where), where)
        elif key == "severity":
            values[key] = _severities(value, where)
        elif key == "guidelines":
            values[key] = guidelines_with(_mapping(value, where), origin=prefix)
        elif key == "num-gpus":
            values[key] = _positive(value, where)
        elif key == "dataset-sizes":
            values[key] = tuple(
                (pattern, _positive(rows, f"{where}.{pattern}"))
                for pattern, rows in _mapping(value, where).items()
            )
        elif key in ("exclude", "extend-exclude"):
            values[key] = tuple(_strings(value, where))
        elif key in ("per-file-ignores", "extend-per-file-ignores"):
            values[key] = tuple(
                (pattern, rule_codes(_strings(codes, f"{where}.{pattern}"), f"{where}.{pattern}"))
                for pattern, codes in _mapping(value, where).items()
            )
        elif key in ("transformers-version", "trl-version"):
            values[key] = _version(value, where)
        elif key in ("trl-trainer", "trl-entry"):
            allowed = dialects.trl_choices(key)
            if value not in allowed:
                raise ConfigError(f"{where}: expected one of {', '.join(allowed)}")
            values[key] = value
        elif key == "root":
            if not isinstance(value, str):
                raise ConfigError(f"{where}: expected a folder path")
            values[key] = pure(os.path.join(folder, value))
        elif key == "dialect":
            if value not in dialects.names():
                raise ConfigError(f"{where}: expected one of {', '.join(dialects.names())}")
            values[key] = value
    return Options(
        origin=os.path.basename(path),
        folder=folder,
        select=values.get("select"),
        extend_select=values.get("extend-select", frozenset()),
        ignore=values.get("ignore", frozenset()),
        severities=values.get("severity", {}),
        guidelines=values.get("guidelines"),
        num_gpus=values.get("num-gpus"),
        dataset_sizes=values.get("dataset-sizes", ()),
        exclude=values.get("exclude"),
        extend_exclude=values.get("extend-exclude", ()),
        per_file_ignores=(
            *values.get("per-file-ignores", ()),
            *values.get("extend-per-file-ignores", ()),
        ),
        unfixable=values.get("unfixable", frozenset()),
        transformers=values.get("transformers-version"),
        root=values.get("root"),
        dialect=values.get("dialect"),
        trl=values.get("trl-version"),
        trl_trainer=values.get("trl-trainer"),
        trl_entry=values.get("trl-entry"),
    )


def load(path: str | os.PathLike[str]) -> Options:
    """Options of a configuration file named explicitly (`--config`)."""
    path = os.fspath(path)
    table = _table(path)
    if table is None:
        raise ConfigError(f"{_shown(path)}: has no [tool.epochlint] table")
    return read_options(path, table)


def _config_in(directory: str) -> str | None:
    for name in CONFIG_NAMES:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and (
            name != "pyproject.toml" or _table(candidate) is not None
        ):
            return candidate
    return None


def find_config(folder: str, cache: dict[str, str | None] | None = None) -> str | None:
    """The closest configuration file from `folder` up to the repository root.

    With `cache`, what each folder walked through finds is kept there: the folders of a run
    share their parents, which are then looked at once.
    """
    walked: list[str] = []
    found: str | None = None
    for directory in up_from(folder):
        if cache is not None and directory in cache:
            found = cache[directory]
            break
        walked.append(directory)
        found = _config_in(directory)
        if found is not None or os.path.exists(os.path.join(directory, ".git")):
            break
    if cache is not None:
        for directory in walked:
            cache[directory] = found
    return found


# --------------------------------------------------------------------------------------
# Settings for a checked file
# --------------------------------------------------------------------------------------


def _matching(codes: list[str], prefixes: frozenset[str]) -> set[str]:
    return {code for code in codes if any(code.startswith(prefix) for prefix in prefixes)}


def selection(layers: list[Options]) -> frozenset[str] | None:
    """The rules enabled after each layer's select, extend-select, then ignore (None: the
    default selection, which leaves out the opt-in rules).

    A layer's `select` starts over, so `--select` on the command line replaces the file's
    selection, while `--ignore` and `--extend-select` adjust it.
    """
    codes = [rule.code for rule in all_rules()]
    enabled = set(default_selection())
    for layer in layers:
        if layer.select is not None:
            enabled = _matching(codes, layer.select)
        enabled |= _matching(codes, layer.extend_select)
        enabled -= _matching(codes, layer.ignore)
    return None if enabled == default_selection() else frozenset(enabled)


def settings_from(layers: list[Options], checked: str | None) -> Settings:
    """Settings for one checked file: defaults, then each layer in order (later ones win)."""
    settings = Settings()
    settings.select = selection(layers)
    for layer in layers:
        settings.severities.update(layer.severities)
        settings.unfixable |= _matching([rule.code for rule in all_rules()], layer.unfixable)
        if layer.guidelines is not None:
            settings.guidelines = layer.guidelines
        # The engine lets a config's own comments override files but not options: an option
        # is recorded under its own name.
        options = layer.origin == COMMAND_LINE
        if layer.num_gpus is not None:
            settings.world_size = layer.num_gpus
            settings.world_size_source = "--num-gpus" if options else layer.origin
        if layer.transformers is not None:
            settings.transformers = layer.transformers
        if layer.trl is not None:
            settings.trl = layer.trl
        if layer.trl_trainer is not None:
            settings.trl_trainer = layer.trl_trainer
        if layer.trl_entry is not None:
            settings.trl_entry = layer.trl_entry
        if layer.root is not None:
            settings.root = layer.root
        if layer.dialect is not None:
            settings.dialect = layer.dialect
        if layer.dataset_size is not None:
            settings.dataset_size = layer.dataset_size
            settings.dataset_size_source = "--dataset-size" if options else layer.origin
        if checked is not None:
            _apply_per_file(settings, layer, os.path.relpath(checked, layer.folder))
    return settings


def _apply_per_file(settings: Settings, layer: Options, relative: str) -> None:
    """What a layer sets for files matching a glob: their dataset size (unless an option gave
    one for every file), the rules they skip."""
    if layer.dataset_size is None:
        for pattern, rows in layer.dataset_sizes:
            if matches(relative, pattern):
                settings.dataset_size = rows
                settings.dataset_size_source = f"{layer.origin} dataset-sizes"
                break
    for pattern, codes in layer.per_file_ignores:
        if matches(relative, pattern):
            settings.ignore |= codes


class Configurations:
    """Finds and caches the configuration for each checked file's folder."""

    def __init__(
        self,
        command_line: Options,
        config_path: str | None = None,
        isolated: bool = False,
        find: Callable[[str], str | None] = find_config,
    ) -> None:
        self.command_line = command_line
        self.isolated = isolated
        self.find = find
        self.config_path = config_path
        self.fixed = load(config_path) if config_path is not None else None
        self._by_folder: dict[str, Options | None] = {}
        self._by_file: dict[str, Options] = {}
        self._found: dict[str, str | None] = {}  # what find_config found from each folder
        self._by_path: dict[str, tuple[str, Options | None]] = {}
        # Settings without a per-file part (no dataset-sizes), by id() of the file's options
        self._settings: dict[int, Settings] = {}
        self._exclusions: dict[int, Exclusion] = {}  # by id() of the file's options

    def options_for(self, checked: str) -> Options | None:
        """The configuration file's options that apply to `checked` (None: defaults)."""
        if self.isolated:
            return None
        if self.fixed is not None:
            return self.fixed
        folder = parent(checked)
        if folder not in self._by_folder:
            found = (
                find_config(folder, self._found) if self.find is find_config else self.find(folder)
            )
            if found is not None and found not in self._by_file:
                self._by_file[found] = load(found)
            self._by_folder[folder] = self._by_file[found] if found is not None else None
        return self._by_folder[folder]

    def config_file_for(self, path: str) -> str | None:
        """The configuration file whose settings a checked file gets (None: the defaults)."""
        if self.isolated:
            return None
        if self.config_path is not None:
            return self.config_path
        checked = absolute(path)
        self.options_for(checked)
        return self._found.get(parent(checked)) if self.find is find_config else None

    def _checked(self, path: str) -> tuple[str, Options | None]:
        """The absolute path of a checked file and its options, once per path."""
        known = self._by_path.get(path)
        if known is None:
            checked = absolute(path)
            known = self._by_path[path] = (checked, self.options_for(checked))
        return known

    def excluded(self, path: str, folders_checked: bool = False) -> bool:
        """Does `exclude` (or its default) or `extend-exclude` match the path or one of its
        folders? With `folders_checked` (a walk has already tested the folders), only the path
        itself is tested."""
        checked, options = self._checked(path)
        folder = options.folder if options is not None else self.command_line.folder
        exclusion = self._exclusion(options)
        relative = os.path.relpath(checked, folder)
        if folders_checked:
            return exclusion.matches(relative)
        return exclusion.excludes(relative)

    def _exclusion(self, options: Options | None) -> Exclusion:
        exclusion = self._exclusions.get(id(options))
        if exclusion is None:
            exclude = options.exclude if options is not None else None
            patterns = [
                *(DEFAULT_EXCLUDE if exclude is None else exclude),
                *(options.extend_exclude if options is not None else ()),
            ]
            exclusion = self._exclusions[id(options)] = Exclusion(patterns)
        return exclusion

    def settings_for(self, path: str) -> Settings:
        """Settings for a checked file (standard input: a path named by --stdin-filename, or
        a file in the current folder)."""
        checked, file_options = self._checked(path)
        layers = [file_options, self.command_line] if file_options else [self.command_line]
        if any(layer.dataset_sizes or layer.per_file_ignores for layer in layers):
            return settings_from(layers, checked)
        # Nothing depends on the file itself: the same settings for every file of the folder.
        shared = self._settings.get(id(file_options))
        if shared is None:
            shared = self._settings[id(file_options)] = settings_from(layers, None)
        return replace(shared)
