"""EL0: reading the file as the trainer's YAML loader reads it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from epochlint.diagnostic import Edit, Fix, Severity, format_value
from epochlint.facts.context import Context
from epochlint.reading.document import YAML_TAG, Entry, Span
from epochlint.rules import Finding, rule

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

LOADER_NAMES = {
    "omegaconf": "LLaMA-Factory's YAML loader (OmegaConf, YAML 1.1)",
    "pyyaml": "yaml.safe_load (YAML 1.1)",
}
YAML11_ONLY_BOOLEANS = re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$")
YAML11_OCTAL = re.compile(r"^[-+]?0[0-7_]+$")
SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
EXPONENT_NUMBER = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")


def _problems(context: Context, code: str) -> Iterator[Finding]:
    for problem in context.document.problems:
        if problem.code == code:
            yield Finding(problem.message, problem.span)


@rule("EL001", "yaml-syntax-error", "error")
def yaml_syntax_error(context: Context) -> Iterator[Finding]:
    """The file is not valid YAML, so the trainer cannot read it.

    ## What it does
    Reports the parser's error with the line and column where it gave up (also a value that
    cannot be built, such as an invalid merge key).

    ## Why is this bad?
    `llamafactory-cli train` stops before anything else is checked. A file that does not
    parse is never fixed by epochlint: it cannot know what you meant.

    ## Example
    ```yaml
    learning_rate: 1.0e-4
      num_train_epochs: 3
    ```

    ## Use instead
    ```yaml
    learning_rate: 1.0e-4
    num_train_epochs: 3
    ```

    ## Fix safety
    No fix.
    """
    return _problems(context, "EL001")


@rule("EL002", "duplicate-key", "error")
def duplicate_key(context: Context) -> Iterator[Finding]:
    """A key appears twice in the same mapping.

    ## What it does
    Reports every repeated top-level key at its second occurrence.

    ## Why is this bad?
    LLaMA-Factory's loader (OmegaConf) refuses the file (`found duplicate key`); plain PyYAML
    silently keeps the last value and ruamel.yaml the first, so which value you get depends on
    the tool. epochlint checks the rest of the file with the last value.

    ## Example
    ```yaml
    num_train_epochs: 3
    num_train_epochs: 5
    ```

    ## Use instead
    ```yaml
    num_train_epochs: 5
    ```

    Axolotl and Hugging Face's `parse_yaml_file` read the file with `yaml.safe_load`, which
    keeps the last value without a word: the run goes on with it, so there it is a warning.

    ## Fix safety
    No fix: only you know which value you meant.
    """
    silent = context.document.loader == "pyyaml"  # yaml.safe_load: the last value wins
    for problem in context.document.problems:
        if problem.code != "EL002":
            continue
        if silent:
            yield Finding(
                f"{problem.message}; yaml.safe_load keeps this later value and drops the earlier "
                "one without a word. Keep one",
                problem.span,
                severity=Severity.WARNING,
            )
        else:
            yield Finding(
                f"{problem.message}; LLaMA-Factory refuses duplicate keys (found duplicate key). "
                "Keep one",
                problem.span,
            )


@rule("EL003", "not-a-mapping", "error")
def not_a_mapping(context: Context) -> Iterator[Finding]:
    """The file is empty, or its top level is a list or a single value.

    ## What it does
    Reports a config that has no `key: value` mapping at the top level.

    ## Why is this bad?
    The trainer expects a mapping of arguments; an empty file trains nothing and fails with
    `Please provide model_name_or_path`.

    ## Example
    ```yaml
    - num_train_epochs: 3
    ```

    ## Use instead
    ```yaml
    num_train_epochs: 3
    ```

    ## Fix safety
    No fix.
    """
    return iter(())  # the engine reports it: such a file has no entries to check


@rule("EL004", "unsafe-tag", "error")
def unsafe_tag(context: Context) -> Iterator[Finding]:
    """A value carries a YAML tag such as `!!python/object`.

    ## What it does
    Reports any tag other than the plain YAML types; epochlint never constructs such a value.

    ## Why is this bad?
    Safe loaders (OmegaConf, `yaml.safe_load`) refuse them, and constructing arbitrary Python
    objects from a config is a way to run code.

    ## Example
    ```yaml
    output_dir: !!python/object/apply:os.getcwd []
    ```

    ## Use instead
    ```yaml
    output_dir: saves/run1
    ```

    ## Fix safety
    No fix.
    """
    return _problems(context, "EL004")


def divergent_reading(entry: Entry, expected: frozenset[str]) -> tuple[str, Any] | None:
    """(how the loader reads it, the value the author evidently meant) for a misread scalar."""
    node = entry.node
    if not isinstance(node, yaml.ScalarNode) or node.style not in (None, ""):
        return None  # quoted and block scalars are read as written
    text = node.value
    if node.tag == YAML_TAG + "bool" and YAML11_ONLY_BOOLEANS.match(text):
        if "boolean" not in expected and "string" in expected:
            return f"the boolean {format_value(entry.value)}, not the string {text!r}", text
    if node.tag == YAML_TAG + "int" and YAML11_OCTAL.match(text) and text.strip("+-0_"):
        return f"the octal number {entry.value}, not {text.lstrip('+-0') or '0'}", int(
            text.replace("_", ""), 10
        )
    if node.tag == YAML_TAG + "int" and SEXAGESIMAL.match(text) and "string" in expected:
        return f"the base-60 number {entry.value}, not the text {text!r}", text
    if (
        node.tag == YAML_TAG + "float"
        and EXPONENT_NUMBER.match(text)
        and "integer" in expected
        and "number" not in expected
        and float(entry.value).is_integer()
    ):
        return f"the float {entry.value!r}, and this key needs an integer", int(entry.value)
    if node.tag == YAML_TAG + "str" and EXPONENT_NUMBER.match(text) and "string" not in expected:
        if "number" in expected:
            return f"the string {text!r}, not a number", float(text)
        if "integer" in expected and float(text).is_integer():
            return f"the string {text!r}, not a number", int(float(text))
    return None


@rule("EL005", "loader-divergent-scalar", "warning", fix="safe")
def loader_divergent_scalar(context: Context) -> Iterator[Finding]:
    """A value the trainer's YAML loader reads differently from what the author meant.

    ## What it does
    Checks plain (unquoted) scalars against how the target loader resolves them: YAML 1.1
    reads `no`, `on`, `off` and `yes` as booleans, `010` as the octal 8 and `1:30` as 90;
    `1e4` is a float, not an int; plain PyYAML (Hugging Face `parse_yaml_file`, Axolotl) reads
    `5e-5` as a string.

    ## Why is this bad?
    `save_strategy: no` hands the trainer `False`, which is not a valid strategy; a string
    learning rate fails deep inside the optimizer after the model has loaded. A value that the
    loader turns into the wrong type is an error (the run stops); a number read as another
    number (`010` as 8) is a warning. Where the trainer converts the string to what was meant
    (Axolotl's pydantic model: `weight_decay: 1e-2` is 0.01 there, `max_steps: 1e4` is
    refused), it is not reported.

    ## Example
    ```yaml
    save_strategy: no
    max_steps: 1e4
    ```

    ## Use instead
    ```yaml
    save_strategy: "no"
    max_steps: 10000
    ```

    ## Fix safety
    Safe: the fix writes the value the author evidently meant, in a form every YAML loader
    reads the same way.
    """
    config = context.config
    for key, entry in context.document.entries.items():
        if entry.merged:
            continue
        reading = divergent_reading(entry, config.dialect.types(key))
        if reading is None:
            continue
        if key in config.string_numbers and isinstance(entry.value, str):
            continue  # the trainer converts the string with float() itself
        how, meant = reading
        loader = LOADER_NAMES.get(context.document.loader, context.document.loader)
        # A value of the wrong type stops the run; a wrong number of the right type does not.
        accepted = config.dialect.types(key)
        read_type = _json_type(entry.value)
        fails = read_type not in accepted and not (read_type == "integer" and "number" in accepted)
        if config.lax_types:  # pydantic converts: the string '1e-2' is 0.01 for a float
            taken, converted = config.lax_value(key, entry.value)
            if taken and converted == meant and type(converted) is type(meant):
                continue
            fails = not taken
        yield Finding(
            f"`{key}: {entry.node.value}` is read by {loader} as {how}; "
            f"write {format_value(meant) if not isinstance(meant, str) else repr(meant)}",
            entry.value_span,
            Fix((Edit("set", key, meant),), "safe"),
            {"written": entry.node.value, "read_as": entry.value, "meant": meant},
            Severity.ERROR if fails else None,
        )


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "null" if value is None else "object"


@rule("EL006", "invalid-directive", "warning")
def invalid_directive(context: Context) -> Iterator[Finding]:
    """An `# epochlint:` comment epochlint cannot understand.

    ## What it does
    Reports directive comments with an unknown name or a bad value. The directives are
    `dataset-size=N`, `num-gpus=N`, `disable=EL201,...` and `disable-file`.

    ## Why is this bad?
    A mistyped directive is silently not applied: the rows or GPUs you meant to state are not
    used, or a finding you meant to suppress still fails your build.

    ## Example
    ```yaml
    # epochlint: datasetsize=3000
    ```

    ## Use instead
    ```yaml
    # epochlint: dataset-size=3000
    ```

    ## Fix safety
    No fix.
    """
    for error in context.directive_errors:
        comment = error.comment
        span = Span(
            comment.offset,
            comment.offset + len(comment.text) + 1,
            comment.line,
            comment.column,
            comment.line,
            comment.column + len(comment.text) + 1,
        )
        yield Finding(error.message, span)


@rule("EL007", "unused-suppression", "warning")
def unused_suppression(context: Context) -> Iterator[Finding]:
    """A suppression comment that suppresses nothing.

    ## What it does
    Reports a `# epochlint: disable=...` comment whose rules report nothing on the line it
    covers, and a `# epochlint: disable-file` in a file with no findings. A rule switched off
    for the run (`--select`, `--ignore`, configuration) does not count as unused.

    ## Why is this bad?
    A stale suppression hides the next real finding on that line: once the value it excused
    is fixed, a later mistake there goes unreported. It also misleads readers into thinking
    the line is still suspect.

    ## Example
    ```yaml
    num_train_epochs: 3  # epochlint: disable=EL201
    ```

    ## Use instead
    ```yaml
    num_train_epochs: 3
    ```

    ## Fix safety
    No fix.
    """
    return iter(())  # the engine reports it once the suppressions have been applied
