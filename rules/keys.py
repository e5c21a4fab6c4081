"""EL1: keys and values against the trainer's argument schema (a JSON Schema per dialect)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from weakref import WeakKeyDictionary

from epochlint.diagnostic import Edit, Fix, Severity, format_value
from epochlint.dialects.base import Dialect, TrainingConfig
from epochlint.facts.context import Context
from epochlint.reading.document import Entry
from epochlint.rules import Finding, rule
from epochlint.rules.reading import divergent_reading
from epochlint.settings import rules_data
from epochlint.versions import Version

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

JSON_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "null": "null",
    "array": "a list",
    "object": "a mapping",
}
STEP_INTERVAL_KEYS = ("logging_steps", "eval_steps", "save_steps")
# How a message names the package whose release renamed or removed a key.
PACKAGE_NAMES = {"trl": "TRL", "transformers": "transformers"}


@cache
def _validator(dialect: Dialect) -> Any:
    import jsonschema  # imported on first use: it is the slowest import epochlint has

    schema = {key: value for key, value in dialect.schema.items() if not key.startswith("x-")}
    schema["additionalProperties"] = True  # EL101 reports unknown keys with suggestions
    return jsonschema.Draft4Validator(schema)


# The schema keywords `_verdict` reads exactly as jsonschema's Draft 4 validator does. A schema
# with any other keyword, or a value of another kind, is left to jsonschema itself.
PRECHECKED_KEYWORDS = frozenset({"type", "enum", "default", "description"})
TOP_LEVEL_KEYWORDS = frozenset({"$schema", "title", "description", "type", "properties"})
# Draft 4 types of the values a safe YAML load produces (bool is not an integer, 1.0 is not one).
DRAFT4_TYPES: dict[type, frozenset[str]] = {
    type(None): frozenset({"null"}),
    bool: frozenset({"boolean"}),
    int: frozenset({"integer", "number"}),
    float: frozenset({"number"}),
    str: frozenset({"string"}),
    list: frozenset({"array"}),
    dict: frozenset({"object"}),
}
SCALAR_TYPES = (type(None), bool, int, float, str)
NO_FAILURE: frozenset[str] = frozenset()


@cache
def _prechecks(dialect: Dialect) -> bool:
    """Whether `_verdict` understands every keyword of the dialect's schema."""
    schema = dialect.schema
    top = {key for key in schema if not key.startswith("x-")} - {"additionalProperties"}
    if not top <= TOP_LEVEL_KEYWORDS or schema.get("type", "object") != "object":
        return False
    return all(
        {key for key in spec if not key.startswith("x-")} <= PRECHECKED_KEYWORDS
        for spec in dialect.properties.values()
    )


def _same(value: Any, choice: Any) -> bool:
    """Draft 4 `enum` equality for scalars: true is not 1, 1.0 is 1, a string only a string."""
    if isinstance(value, (bool, str)) or isinstance(choice, (bool, str)) or value is None:
        return type(value) is type(choice) and value == choice
    return bool(value == choice)


def _verdict(value: Any, spec: dict[str, Any] | None) -> frozenset[str] | None:
    """The keywords (`type`, `enum`) that `value` fails, as jsonschema would report them;
    None when only jsonschema can say (a value that is not a plain YAML value)."""
    if spec is None:
        return NO_FAILURE  # an unknown key: EL101's business, additionalProperties allows it
    kinds = DRAFT4_TYPES.get(type(value))
    if kinds is None:
        return None
    failed: set[str] = set()
    expected = spec.get("type")
    if expected is not None and kinds.isdisjoint(
        (expected,) if isinstance(expected, str) else expected
    ):
        failed.add("type")
    if "enum" in spec:
        choices = spec["enum"]
        if isinstance(value, SCALAR_TYPES):
            if not any(_same(value, choice) for choice in choices):
                failed.add("enum")
        elif all(isinstance(choice, SCALAR_TYPES) for choice in choices):
            failed.add("enum")  # a list or a mapping never equals a scalar choice
        else:
            return None  # jsonschema compares lists and mappings element by element
    return frozenset(failed) if failed else NO_FAILURE


# The schema is checked once per config; EL102 and EL103 each read their kind of failure.
_FAILURES: WeakKeyDictionary[TrainingConfig, dict[str, set[str]]] = WeakKeyDictionary()


def schema_errors(context: Context, kind: str) -> set[str]:
    """Top-level keys whose value fails the dialect's JSON Schema `kind` check (type, enum)."""
    failures = _FAILURES.get(context.config)
    if failures is None:
        failures = _FAILURES[context.config] = _schema_failures(context)
    return failures.get(kind, set())


def _schema_failures(context: Context) -> dict[str, set[str]]:
    failures = _dialect_schema_failures(context)
    for key, entry in context.document.entries.items():
        choices = context.config.own_choices(key)
        value = entry.value
        if choices is None or entry.merged or not isinstance(value, SCALAR_TYPES):
            continue
        if not any(_same(value, choice) for choice in choices):
            failures.setdefault("enum", set()).add(key)
    return failures


def _dialect_schema_failures(context: Context) -> dict[str, set[str]]:
    data = {key: entry.value for key, entry in context.document.entries.items() if not entry.merged}
    dialect = context.config.dialect
    if _prechecks(dialect):
        failures: dict[str, set[str]] = {}
        for key, value in data.items():
            failed = _verdict(value, dialect.properties.get(key))
            if failed is None:
                break
            for keyword in failed:
                failures.setdefault(keyword, set()).add(key)
        else:
            # Every verdict was certain, so jsonschema (an import of 50 to 150 ms) is not needed
            # to know what it would report; tests/test_fast_paths.py holds them to its answers.
            return failures
    return _jsonschema_failures(dialect, data)


def _jsonschema_failures(dialect: Dialect, data: dict[str, Any]) -> dict[str, set[str]]:
    failures: dict[str, set[str]] = {}
    for error in _validator(dialect).iter_errors(data):
        if len(error.absolute_path) == 1:
            failures.setdefault(error.validator, set()).add(str(error.absolute_path[0]))
    return failures


@cache
def key_aliases(name: str = "key_aliases.json") -> dict[str, dict[str, Any]]:
    """Keys people write that a dialect does not know, and what they meant.

    `name` is the dialect's `key_aliases_file`."""
    aliases: dict[str, dict[str, Any]] = json.loads(rules_data(name))
    aliases.pop("_comment", None)
    return aliases


def _unknown_consequence(context: Context, key: str) -> str:
    """What the trainer does with a key it does not know."""
    effect, _ = context.config.unknown_key_effect(key)
    return effect if effect is not None else _abort_text(key)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "mapping"


def _abort_text(key: str) -> str:
    return f"the run aborts with `Some keys are not used by the HfArgumentParser: ['{key}']`"


def _env_keys(context: Context) -> set[str]:
    tables = context.config.dialect.schema.get("x-epochlint-env-keys", {})
    return {key for keys in tables.values() for key in keys}


@rule("EL101", "unknown-key", "error", fix="safe")
def unknown_key(context: Context) -> Iterator[Finding]:
    """A key the trainer does not know.

    ## What it does
    Checks every top-level key against the trainer's arguments and suggests the key you
    probably meant: a spelling mistake (`num_train_epoch`), another tool's name (`num_epochs`,
    `micro_batch_size`, `lora_r`, `sequence_len`) or a key guides invent
    (`early_stopping_patience` is `early_stopping_steps`; `reduce_lr_on_plateau: true` is
    `lr_scheduler_type: reduce_lr_on_plateau`).

    ## Why is this bad?
    LLaMA-Factory passes the config to `HfArgumentParser.parse_dict`, which raises
    `Some keys are not used by the HfArgumentParser: [...]` after the arguments are built:
    the job fails at start-up. Axolotl drops unknown keys without a word, which is worse:
    `num_train_epochs: 5` in an Axolotl config trains `num_epochs` (default 1), so it is an
    error there too (a warning when a plugin listed in `plugins:` may define the key). In a
    plain TrainingArguments YAML the script's own dataclasses may use a key, so only a likely
    typo is a warning there, anything else information.

    ## Example
    ```yaml
    num_train_epoch: 3
    early_stopping_patience: 2
    ```

    ## Use instead
    ```yaml
    num_train_epochs: 3
    early_stopping_steps: 2
    ```

    ## Fix safety
    Safe when exactly one key is meant and it is not set already: the fix renames the key
    (suggested for Axolotl and Hugging Face, where the rename changes what runs).
    Translations that change how a value is expressed (`load_in_4bit: true` to
    `quantization_bit: 4`) are suggested.
    """
    config = context.config
    properties = config.dialect.properties
    deprecated = config.deprecated_keys()
    env_keys = _env_keys(context)
    present = context.document.entries
    yield from _environment_only(context, env_keys)
    listed = _listed_plugins(context)
    for key, entry in present.items():
        plugin = properties.get(key, {}).get("x-epochlint-plugin")
        if plugin is not None and plugin not in listed:
            yield _plugin_not_listed(context, key, entry, plugin)
            continue
        if config.knows_key(key) or key in deprecated or key in env_keys:
            continue
        yield _unknown(context, key, entry)


def _listed_plugins(context: Context) -> set[str]:
    """The plug-ins the file lists that the dialect knows, by their full names (Axolotl also
    finds `liger.LigerPlugin` under `axolotl.integrations.`)."""
    dialect = context.config.dialect
    known = dialect.schema.get("x-epochlint-plugins", {})
    entry = context.document.entries.get(dialect.plugins_key or "")
    names = entry.value if entry is not None and isinstance(entry.value, list) else []
    listed: set[str] = set()
    for name in map(str, names):
        listed.update(full for full in known if full == name or full.endswith("." + name))
    return listed


def _unknown_plugins(context: Context) -> list[str]:
    """The plug-ins the file lists that the dialect does not know (they may define any key)."""
    dialect = context.config.dialect
    known = dialect.schema.get("x-epochlint-plugins", {})
    entry = context.document.entries.get(dialect.plugins_key or "")
    names = entry.value if entry is not None and isinstance(entry.value, list) else []
    return [
        str(name) for name in names
        if not any(full == str(name) or full.endswith("." + str(name)) for full in known)
    ]  # fmt: skip


def _plugin_not_listed(context: Context, key: str, entry: Entry, plugin: str) -> Finding:
    plugins_key = context.config.dialect.plugins_key
    return Finding(
        f"`{key}` belongs to the plug-in `{plugin}`, which `{plugins_key}:` does not list, so "
        f"{context.config.dialect.title} drops it without a word; add the plug-in to "
        f"`{plugins_key}:`",
        entry.key_span,
        None,
        {"key": key, "plugin": plugin},
    )


def _environment_only(context: Context, env_keys: set[str]) -> Iterator[Finding]:
    """One note for the keys that exist only under an environment variable."""
    present = context.document.entries
    properties = context.config.dialect.properties
    env_found = [key for key in present if key in env_keys and key not in properties]
    if env_found:
        first = present[env_found[0]]
        more = f" and {len(env_found) - 1} more" if len(env_found) > 1 else ""
        yield Finding(
            f"`{env_found[0]}`{more} exist only when LLaMA-Factory runs with "
            "USE_MEGATRON_BRIDGE=1 (or USE_MCA=1 with mcore_adapter); without it "
            f"{_abort_text(env_found[0])}. epochlint does not check those keys",
            first.key_span,
            severity=Severity.INFO,
            facts={"keys": env_found},
        )


_Verdict = tuple[str, Fix | None, Severity | None]


def _unknown(context: Context, key: str, entry: Entry) -> Finding:
    dialect = context.config.dialect
    alias = key_aliases(dialect.key_aliases_file).get(key)
    if alias and alias.get("key") and alias["key"] not in dialect.properties:
        alias = None  # the alias names a key this dialect does not have either
    if alias:
        message, fix, severity = _aliased(context, key, entry, alias)
    else:
        message, fix, severity = _misspelled(context, key)
    if dialect.script_defines_keys and severity is None:
        severity = Severity.WARNING
    _, decided = context.config.unknown_key_effect(key)
    if decided is not None:
        severity = decided  # the entry point decides (TRL: the CLI refuses, scripts ignore)
    return Finding(message, entry.key_span, fix, {"key": key}, severity)


def _not_argument(context: Context, key: str) -> str:
    """`key` is not a ... argument: what the trainer does with it."""
    title = context.config.dialect.title
    article = "an" if title[0] in "AEIOU" else "a"
    return f"`{key}` is not {article} {title} argument: {_unknown_consequence(context, key)}"


def _aliased(context: Context, key: str, entry: Entry, alias: dict[str, Any]) -> _Verdict:
    """A key another tool or a guide uses: what it is called here (key_aliases*.json)."""
    present = context.document.entries
    not_argument = _not_argument(context, key)
    if "requires" in alias:
        message = (
            f"`{key}` exists only with {alias['requires']}: {alias['why']}; otherwise "
            f"{_abort_text(key)}"
        )
        return message, None, Severity.INFO
    if "key" in alias:
        target = alias["key"]
        message = f"{not_argument}; did you mean `{target}` ({alias['why']})?"
        if target in present:
            # The same value twice: removing the copy changes nothing but the key the trainer
            # refuses or ignores. Two values: which one was meant is the user's call.
            same = present[target].value == entry.value
            safety = context.config.dialect.rename_safety if same else "suggested"
            removal = Fix((Edit("remove", key),), safety)
            return message + f" `{target}` is already set; remove `{key}`", removal, None
        if not _fits(context.config.dialect, target, entry.value):
            return message, None, None  # its value would be the wrong type there (EL102)
        rename = Edit("rename", key, new_key=target)
        return message, Fix((rename,), context.config.dialect.rename_safety), None
    if "set" in alias:
        (target, value), *_ = alias["set"].items()
        message = (
            f"{not_argument}; write `{target}: {format_value(value)}` instead ({alias['why']})"
        )
        fix = None
        if target not in present and entry.value is True:
            fix = Fix((Edit("remove", key), Edit("set", target, value)), "suggested")
        return message, fix, None
    return f"{not_argument}. {alias['why'].capitalize()}; remove it", None, None


def _fits(dialect: Dialect, key: str, value: Any) -> bool:
    """Whether `value` has a type and choice `key` takes: renaming a key to one its value does
    not fit would only trade this finding for EL102 (`dataset_mixer`'s mapping under the name
    `dataset_name`)."""
    verdict = _verdict(value, dialect.properties.get(key))
    return verdict is None or not verdict


def _misspelled(context: Context, key: str) -> _Verdict:
    """A key no table knows: the close matches among the dialect's keys, if any."""
    dialect = context.config.dialect
    present = context.document.entries
    candidates = dialect.keys_spelled_like(key, 3)
    message = _not_argument(context, key)
    fix = None
    severity = None
    if len(candidates) == 1:
        message += f"; did you mean `{candidates[0]}`?"
        if candidates[0] not in present and _fits(dialect, candidates[0], present[key].value):
            rename = Edit("rename", key, new_key=candidates[0])
            fix = Fix((rename,), dialect.rename_safety)
    elif candidates:
        message += "; did you mean " + " or ".join(f"`{c}`" for c in candidates) + "?"
    elif dialect.script_defines_keys:
        severity = Severity.INFO  # most likely a field of the script's own dataclasses
    unknown_plugins = _unknown_plugins(context) if dialect.plugins_key in present else []
    if unknown_plugins and not candidates:
        message += f" (unless the plug-in `{unknown_plugins[0]}` defines it)"
        severity = Severity.WARNING
    return message, fix, severity


@rule("EL102", "wrong-type", "error", fix="safe")
def wrong_type(context: Context) -> Iterator[Finding]:
    """A value of the wrong type for its key.

    ## What it does
    Checks each value's type against the argument's type: a quoted `"1e-4"` learning rate, a
    list where a string is expected, a fractional `save_steps: 10.5`, a float `warmup_steps`
    on transformers 4.x.

    ## Why is this bad?
    LLaMA-Factory does no type conversion (`parse_dict` passes values as loaded), so a string
    learning rate reaches the optimizer and fails after the model has loaded;
    `--save_steps must be an integer if bigger than 1` and
    `warmup_steps must be of type int` stop the run at start-up.

    ## Example
    ```yaml
    learning_rate: "1e-4"
    ```

    ## Use instead
    ```yaml
    learning_rate: 1.0e-4
    ```

    ## Fix safety
    Safe where the conversion loses nothing (a quoted number to the number, a whole float to
    an int, `warmup_steps: 0.1` on 4.x to `warmup_ratio: 0.1`); otherwise no fix.
    """
    config = context.config
    dialect = config.dialect
    if config.lax_types:
        yield from _lax_type_errors(context)
        return
    type_errors = schema_errors(context, "type")
    for key, entry in context.document.entries.items():
        expected = dialect.types(key)
        if not expected or entry.merged:
            continue
        if divergent_reading(entry, expected) is not None:
            continue  # EL005 explains the misreading
        value = entry.value
        if key in config.string_numbers and _lossless(value, frozenset({"number"})) is not None:
            continue  # the trainer converts the string itself
        if key in type_errors:
            wanted = " or ".join(JSON_TYPE_NAMES[kind] for kind in sorted(expected))
            fixed = _lossless(value, expected)
            yield Finding(
                f"`{key}` must be {wanted}, but it is the {_type_name(value)} "
                f"{format_value(value) if not isinstance(value, str) else repr(value)}",
                entry.value_span,
                Fix((Edit("set", key, fixed),), "safe") if fixed is not None else None,
                {"key": key, "type": _type_name(value)},
            )
            continue
        yield from _step_interval(key, entry)
    yield from _float_warmup_on_4x(context)


def _step_interval(key: str, entry: Entry) -> Iterator[Finding]:
    value = entry.value
    if key in STEP_INTERVAL_KEYS and isinstance(value, float) and value > 1:
        if not value.is_integer():
            yield Finding(
                f"`{key}: {value}` must be an integer when it is above 1 (values below 1 "
                f"are a fraction of the total steps); transformers stops with "
                f"`--{key} must be an integer if bigger than 1`",
                entry.value_span,
            )


def _lax_type_errors(context: Context) -> Iterator[Finding]:
    """Values the trainer's pydantic model refuses in lax mode (`"3"` is an int there, `0.1`
    is not; an explicit null only where the field allows None)."""
    config = context.config
    for key, entry in context.document.entries.items():
        if entry.merged or key not in config.dialect.properties:
            continue
        accepted, message = config.lax_value(key, entry.value)
        if accepted:
            yield from _step_interval(key, entry)
            continue
        if divergent_reading(entry, config.dialect.types(key)) is not None:
            continue  # EL005 explains the misreading
        fixed = _lossless(entry.value, config.dialect.types(key))
        shown = repr(entry.value) if isinstance(entry.value, str) else format_value(entry.value)
        yield Finding(
            f"`{key}: {shown}` is refused: {config.dialect.title} stops with `{key}: {message}`",
            entry.value_span,
            Fix((Edit("set", key, fixed),), "safe") if fixed is not None else None,
            {"key": key, "type": _type_name(entry.value)},
        )


def _float_warmup_on_4x(context: Context) -> Iterator[Finding]:
    config = context.config
    value = config.value("warmup_steps")
    entry = config.entry("warmup_steps")
    if entry is None or context.settings.transformers.major >= 5 or not isinstance(value, float):
        return
    fix = None
    if 0 < value < 1 and not config.has("warmup_ratio"):
        fix = Fix((Edit("rename", entry.key, new_key=config.key("warmup_ratio")),), "safe")
    yield Finding(
        f"`{entry.key}: {value}` is a float; transformers {context.settings.transformers} stops "
        "with `warmup_steps must be of type int and must be 0 or a positive integer` (a "
        f"fraction of the run is `{config.key('warmup_ratio')}` before transformers 5)",
        entry.value_span,
        fix,
        {"transformers": str(context.settings.transformers)},
    )


def _lossless(value: Any, expected: frozenset[str]) -> Any:
    """The value converted to an expected type without losing anything, else None."""
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        if "integer" in expected and "number" not in expected:
            return int(number) if number.is_integer() else None
        if "number" in expected:
            return (
                int(number)
                if number.is_integer() and "e" not in value.lower() and "." not in value
                else number
            )
        return None
    if isinstance(value, float) and "integer" in expected and value.is_integer():
        return int(value)
    return None


def _choices(context: Context, key: str) -> list[Any]:
    own = context.config.own_choices(key)
    if own is not None:
        return own
    choices: list[Any] = context.config.dialect.properties.get(key, {}).get("enum", [])
    return choices


@rule("EL103", "invalid-choice", "error", fix="safe")
def invalid_choice(context: Context) -> Iterator[Finding]:
    """A value outside the set the argument allows.

    ## What it does
    Checks `stage`, `finetuning_type`, the `*_strategy` keys, `lr_scheduler_type`, `optim`,
    `report_to` names and every other argument with a fixed set of values. `finetuning_type:
    qlora`, which guides use, is not a LLaMA-Factory method: QLoRA is `finetuning_type: lora`
    with `quantization_bit: 4`. Where TRL's trainers differ (`loss_type`), the choices of the
    trainer that reads the config: KTO takes `kto` and `apo_zero_unpaired` only.

    ## Why is this bad?
    Some are rejected at start-up (`cosine_decay is not a valid SchedulerType`,
    `Invalid fine-tuning method.`); others only fail later, after the model has loaded
    (`Unknown task: sfft.`, an unknown `report_to` integration, KTO's loss with `loss_type:
    sigmoid` at the first training step).

    ## Example
    ```yaml
    finetuning_type: qlora
    ```

    ## Use instead
    ```yaml
    finetuning_type: lora
    quantization_bit: 4
    ```

    ## Fix safety
    Safe for `qlora`; a single close spelling match is suggested; otherwise no fix.
    """
    config = context.config
    enum_errors = schema_errors(context, "enum")
    for key, entry in context.document.entries.items():
        value = entry.value
        if entry.merged:
            continue
        if key == config.key("report_to"):
            yield from _report_to(context, key, value)
            continue
        if key not in enum_errors or not isinstance(value, str):
            continue  # a value of the wrong type is EL102's
        if value in _deprecated_values(config).get(key, {}):
            continue  # EL106 says which release renamed or removed it
        choices = _choices(context, key)
        listed = ", ".join(str(choice) for choice in choices if choice is not None)
        fix = None
        if key == config.key("finetuning_type") and value.lower() == "qlora":
            edits = [Edit("set", key, "lora")]
            if not config.has("quantization_bit"):
                edits.append(Edit("set", config.key("quantization_bit"), 4))
            message = (
                f"`{key}: {value}` is not a LLaMA-Factory method (`Invalid fine-tuning method.`); "
                f"QLoRA is `{key}: lora` with `{config.key('quantization_bit')}: 4`"
            )
            fix = Fix(tuple(edits), "safe")
        else:
            import difflib  # only for a value that is not a choice

            close = difflib.get_close_matches(
                value, [str(c) for c in choices if c], n=1, cutoff=0.7
            )
            message = f"`{key}: {value}` is not one of: {listed}"
            if config.own_choices(key) is not None:
                message = (
                    f"`{key}: {value}` is not one of {config.title}'s: {listed}; nothing checks "
                    "it when the config is read, and the trainer stops at its first training "
                    "step, after the model has loaded"
                )
            if close:
                message += f"; did you mean `{close[0]}`?"
                fix = Fix((Edit("set", key, close[0]),), "suggested")
        yield Finding(message, entry.value_span, fix, {"key": key, "value": value})


def _report_to(context: Context, key: str, value: Any) -> Iterator[Finding]:
    names = context.config.dialect.properties.get(key, {}).get("x-epochlint-names", [])
    given = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    entry = context.document.entries[key]
    for name in given:
        if isinstance(name, str) and names and name not in names:
            yield Finding(
                f"`{key}` names `{name}`, which transformers does not know: the Trainer stops "
                f"with `{name} is not supported`. Known: {', '.join(names)}",
                entry.value_span,
                facts={"key": key, "value": name},
            )


@rule("EL104", "deprecated-key", "warning", fix="safe")
def deprecated_key(context: Context) -> Iterator[Finding]:
    """A key that transformers renamed or removed.

    ## What it does
    Reports keys removed in the selected transformers version (an error: the run aborts as
    for an unknown key) and keys that are deprecated there (a warning), with the new name:
    `evaluation_strategy` (removed in 4.51, now `eval_strategy`), `no_cuda` (now `use_cpu`),
    `per_gpu_train_batch_size`, and arguments 5.x dropped. The version is the installed
    transformers, or the `transformers-version` setting.

    `warmup_ratio` is not reported before its removal in 5.15: it is deprecated in 5.x but is
    the only spelling that works on both 4.x and 5.x, which LLaMA-Factory supports.

    ## Why is this bad?
    A removed key fails like any unknown key: `Some keys are not used by the
    HfArgumentParser`.

    ## Example
    ```yaml
    evaluation_strategy: steps
    ```

    ## Use instead
    ```yaml
    eval_strategy: steps
    ```

    ## Fix safety
    Safe: a rename to the new name, when that key is not set already.
    """
    config = context.config
    schema = config.dialect.schema
    deprecated = config.deprecated_keys()
    limits = schema.get("x-epochlint-version-limits", {})
    present = context.document.entries
    for key, entry in present.items():
        info = deprecated.get(key, {})
        package = info.get("package", "transformers")
        version = context.settings.trl if package == "trl" else context.settings.transformers
        limit = limits.get(key, {})
        removed_in = info.get("removed_in") or limit.get("removed_in")
        added_in = limit.get("added_in")
        if added_in and version < Version.parse(added_in):
            yield Finding(
                f"`{key}` exists only from transformers {added_in}; with {version} "
                f"{_abort_text(key)}",
                entry.key_span,
                severity=Severity.ERROR,
            )
            continue
        # "fails": the dialect's own validator refuses the key (Axolotl's removed options)
        # when its value is truthy or when it is set at all; otherwise the key does nothing.
        fails = _refused_option(info.get("fails"), entry.value)
        if info.get("fails") and not fails:
            yield Finding(
                f"`{key}` is no longer supported: {config.dialect.deprecations_by} refuses a "
                f"config that sets it; `{key}: {format_value(entry.value)}` does nothing, "
                "remove it",
                entry.key_span,
                Fix((Edit("remove", key),), "safe"),
                {"key": key},
            )
            continue
        removed = fails or (removed_in is not None and version >= Version.parse(removed_in))
        deprecated_now = (
            bool(info)
            and not removed
            and key != "warmup_ratio"
            and ("deprecated_in" not in info or version >= Version.parse(info["deprecated_in"]))
        )
        if not (removed or deprecated_now):
            continue
        replacement = info.get("replacement_key")
        instead = f"`{replacement}`" if replacement else info.get("replacement")
        tool = config.dialect.deprecations_by
        if fails:
            message = f"`{key}` is no longer supported: {tool} refuses the config"
        elif removed and "package" in info:
            effect = _unknown_consequence(context, key)
            name = PACKAGE_NAMES.get(package, package)
            message = f"`{key}` was removed in {name} {removed_in}; with {version} {effect}"
        elif removed:
            message = (
                f"`{key}` was removed in transformers {removed_in}; with {version} "
                f"{_abort_text(key)}"
            )
        elif "package" in info:
            name = PACKAGE_NAMES.get(package, package)
            message = f"`{key}` is deprecated in {name} {version}"
        elif tool != "transformers":
            message = f"`{key}` is deprecated in {tool}"
        else:
            message = f"`{key}` is deprecated in transformers {version}"
        if instead:
            message += f"; use {instead}"
        fix = None
        if replacement and replacement not in present:
            fix = Fix((Edit("rename", key, new_key=replacement),), "safe")
        severity = Severity.ERROR if removed else Severity.WARNING
        if removed and "package" in info:
            # As for an unknown key: the entry point decides (TRL's scripts ignore it).
            severity = config.unknown_key_effect(key)[1] or severity
        yield Finding(
            message,
            entry.key_span,
            fix,
            {"key": key, "removed_in": removed_in},
            severity,
        )


def _deprecated_values(config: TrainingConfig) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = config.dialect.schema.get(
        "x-epochlint-deprecated-values", {}
    )
    return table


@rule("EL106", "deprecated-value", "warning", fix="safe")
def deprecated_value(context: Context) -> Iterator[Finding]:
    """A value that the trainer renamed, or no longer accepts.

    ## What it does
    Reports values listed as renamed in the trainer's release notes: TRL's
    `packing_strategy: bfd-requeue` (now `bfd_split`, rewritten with a warning until TRL 2)
    and `truncation_mode: keep_end`, and `packing_strategy: ffd`, which TRL 0.20 renamed to
    `bfd` and no longer accepts. The version is the `trl-version` setting (default: the
    installed TRL, else 1.10.0).

    ## Why is this bad?
    A removed value stops the run when the trainer uses it; a deprecated one stops working
    in the next major release.

    ## Example
    ```yaml
    packing_strategy: ffd
    ```

    ## Use instead
    ```yaml
    packing_strategy: bfd
    ```

    ## Fix safety
    Safe: the new name of the same behaviour.
    """
    config = context.config
    table = _deprecated_values(config)
    for key, entry in context.document.entries.items():
        value = entry.value
        if not isinstance(value, str) or value not in table.get(key, {}):
            continue
        info = table[key][value]
        package = info.get("package", "transformers")
        version = context.settings.trl if package == "trl" else context.settings.transformers
        name = PACKAGE_NAMES.get(package, package)
        removed_in = info.get("removed_in")
        replacement = info.get("replacement")
        removed = removed_in is not None and version >= Version.parse(removed_in)
        since = info.get("deprecated_in")
        if not removed and since is not None and version < Version.parse(since):
            continue  # still a plain value in that release
        if removed:
            message = (
                f"`{key}: {value}` is no longer accepted since {name} {removed_in}: with "
                f"{version} the run stops with `{info.get('message')}`"
            )
        else:
            message = f"`{key}: {value}` is deprecated in {name} {version}"
            if removed_in:
                message += f" and removed in {removed_in}"
        fix = None
        if replacement and "=" not in replacement and " " not in replacement:
            message += f"; use `{replacement}`"
            fix = Fix((Edit("set", key, replacement),), "safe")
        elif replacement:
            message += f"; use {replacement}"
        yield Finding(
            message,
            entry.value_span,
            fix,
            {"key": key, "value": value, "removed_in": removed_in},
            Severity.ERROR if removed else Severity.WARNING,
        )


def _refused_option(when: str | None, value: Any) -> bool:
    """Whether a removed option's value makes the trainer refuse the config ("truthy": any
    true value; "set": anything but null)."""
    if when == "truthy":
        return bool(value)
    if when == "set":
        return value is not None
    return bool(when)


@rule("EL105", "config-refused", "error")
def config_refused(context: Context) -> Iterator[Finding]:
    """A setting or combination the trainer's own config validation refuses.

    ## What it does
    Runs the checks of Axolotl's config validation that a static tool can decide and that no
    other rule reports: a required field that is missing (`base_model`, `learning_rate`),
    `deepspeed` with the legacy `fsdp:` list, `sample_packing` with `rl:`, `save_strategy:
    best` without `metric_for_best_model`, `lr_groups` with `loraplus_lr_ratio`,
    `lora_target_parameters` with a non-zero `lora_dropout`, `eval_steps` with `val_set_size:
    0`, a `type: sharegpt` dataset, and the others listed in the README. Like Axolotl, it
    counts a key set to null, 0 or false as unset. For TRL: a GRPO or RLOO generation batch
    that is not a multiple of `num_generations` or of the global batch, fewer than 2
    generations, `load_in_4bit` with `load_in_8bit`, and TRL's other start-up checks (README
    "TRL configs"); a batch error that only epochlint's default of one process causes is a
    warning.

    ## Why is this bad?
    `axolotl train` stops before it loads the model, with the message the finding quotes.

    ## Example
    ```yaml
    rl: dpo
    sample_packing: true
    ```

    ## Use instead
    ```yaml
    rl: dpo
    sample_packing: false
    ```

    ## Fix safety
    No fix: which setting to change is your choice.

    ## Source
    axolotl `src/axolotl/utils/schemas/validation.py`, `config.py` and `peft.py`: the validator
    each finding names.
    """
    config = context.config
    for refusal in config.refusals():
        entry = context.document.entries.get(refusal.key)
        yield Finding(
            f"{config.dialect.title} stops with: {refusal.message} ({refusal.validator})",
            entry.key_span if entry is not None else None,
            None,
            {"key": refusal.key, "validator": refusal.validator},
            refusal.severity,
        )
