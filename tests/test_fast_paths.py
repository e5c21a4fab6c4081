"""The shortcuts that keep a run fast must give the answers of the slow, authoritative way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from conftest import CORPUS, require
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from epochlint import dialects, versions
from epochlint.cli import main
from epochlint.dialects.base import Dialect
from epochlint.rules.keys import _prechecks, _verdict

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "examples"


def test_installed_transformers_is_what_importlib_metadata_finds() -> None:
    versions.installed_transformers.cache_clear()
    try:
        expected: str | None = metadata.version("transformers")
    except metadata.PackageNotFoundError:
        expected = None
    assert versions.installed_transformers() == expected


def test_transformers_is_found_by_normalised_name_first_on_sys_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "Transformers-4.57.6.dist-info").mkdir(parents=True)
    (first / "Transformers-4.57.6.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: Transformers\nVersion: 4.57.6\n\nVersion: 9.9.9 (body)\n"
    )
    second.mkdir()
    (second / "transformers-5.0.0-py3.11.egg-info").write_text(
        "Name: transformers\nVersion: 5.0.0\n"
    )
    monkeypatch.setattr("sys.path", [str(first), str(second)])
    versions.installed_transformers.cache_clear()
    try:
        assert versions.installed_transformers() == "4.57.6"
        monkeypatch.setattr("sys.path", [str(second)])
        versions.installed_transformers.cache_clear()
        assert versions.installed_transformers() == "5.0.0"
        monkeypatch.setattr("sys.path", [str(tmp_path / "missing")])
        versions.installed_transformers.cache_clear()
        assert versions.installed_transformers() is None
    finally:
        versions.installed_transformers.cache_clear()


DIALECTS = [dialects.named(name) for name in dialects.names()]
SPECS = [(dialect.name, key) for dialect in DIALECTS for key in sorted(dialect.properties)]
CHOICES = [
    choice
    for dialect in DIALECTS
    for spec in dialect.properties.values()
    for choice in spec.get("enum", [])
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True),
    st.sampled_from([0.0, 1.0, -0.0, 2.0, 0.5]),
    st.text(max_size=12),
    st.sampled_from(CHOICES),
)
VALUES = st.one_of(
    SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=3), SCALARS)
)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
def test_the_precheck_understands_every_shipped_schema(dialect: Dialect) -> None:
    # Otherwise the verdicts below would never be used, and a run would import jsonschema.
    assert _prechecks(dialect)


def _jsonschema_keywords(spec: dict[str, Any], value: Any) -> frozenset[str]:
    validator = jsonschema.Draft4Validator({"type": "object", "properties": {"key": spec}})
    return frozenset(error.validator for error in validator.iter_errors({"key": value}))


@hypothesis_settings(max_examples=1500, deadline=None)
@given(st.sampled_from(SPECS), VALUES)
def test_the_precheck_verdict_is_what_jsonschema_reports(
    dialect_key: tuple[str, str], value: Any
) -> None:
    name, key = dialect_key
    spec = next(dialect for dialect in DIALECTS if dialect.name == name).properties[key]
    verdict = _verdict(value, spec)
    if verdict is not None:
        assert verdict == _jsonschema_keywords(spec, value)


@pytest.mark.parametrize(
    ("spec", "value", "failed"),
    [
        ({"type": "integer"}, True, {"type"}),  # bool is not an integer in JSON Schema
        ({"type": "integer"}, 1.0, {"type"}),  # nor is 1.0 in Draft 4
        ({"type": ["number", "null"]}, "1e-4", {"type"}),
        ({"type": "number"}, 3, set()),
        ({"enum": [1, "a"]}, True, {"enum"}),
        ({"enum": [1, "a"]}, 1.0, set()),
        ({"type": "string", "enum": ["lora", "full"]}, 1, {"type", "enum"}),
        ({"type": "array"}, {"a": 1}, {"type"}),
    ],
)
def test_the_precheck_verdict_on_the_edges_of_draft_4(
    spec: dict[str, Any], value: Any, failed: set[str]
) -> None:
    assert _verdict(value, spec) == failed == _jsonschema_keywords(spec, value)


def test_a_list_against_scalar_choices_fails_the_enum_as_jsonschema_says() -> None:
    # TRL's `report_to: [wandb]`: the schema's enum lists single names, so jsonschema reports
    # the list; knowing that without it keeps the recipe corpus from importing jsonschema.
    spec = {"type": ["array", "string"], "enum": ["wandb", "none"]}
    assert _verdict(["wandb"], spec) == {"enum"} == _jsonschema_keywords(spec, ["wandb"])
    assert _verdict({"a": 1}, spec) == {"type", "enum"} == _jsonschema_keywords(spec, {"a": 1})


def test_a_list_in_an_enum_with_list_choices_is_left_to_jsonschema() -> None:
    assert _verdict(["lora"], {"enum": [["lora"], "full"]}) is None


def test_type_errors_are_found_without_importing_jsonschema(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(
        "model_name_or_path: m\nstage: sft\nfinetuning_type: lora\ndataset: d\n"
        "template: qwen\nlearning_rate: '1e-4'\nper_device_train_batch_size: [2]\n"
        "lr_scheduler_type: cosin\n"
    )
    done = _run_and_list_modules(
        "epochlint.cli", ["--dataset-size", "1000", str(config)], ["jsonschema"], tmp_path
    )
    assert done.stderr == "[]"
    assert "train.yaml:6:16: EL102" in done.stdout
    assert "train.yaml:7:30: EL102" in done.stdout
    assert "train.yaml:8:20: EL103" in done.stdout


def test_no_shared_corpus_file_needs_jsonschema() -> None:
    # Every value of every official example and recipe gets its verdict without jsonschema
    # (lists like TRL's `report_to: [wandb]` included), so a corpus run never pays its import.
    require(CORPUS, "the shared corpus")
    files = sorted(str(path) for pattern in ("*.yaml", "*.yml") for path in CORPUS.rglob(pattern))
    done = _run_and_list_modules(
        "epochlint.entry", ["check", "--quiet", *files], ["jsonschema"], CORPUS
    )
    assert done.stderr == "[]"
    assert "EL201" in done.stdout  # the files were checked


def _run_and_list_modules(
    module: str, arguments: list[str], watched: list[str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run `module`'s main in a fresh interpreter; its stderr lists which `watched` modules
    the run imported."""
    probe = (
        "import sys\n"
        f"sys.argv = ['epochlint', *{arguments!r}]\n"
        f"from {module} import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"sys.stderr.write(repr(sorted(m for m in {watched!r} if m in sys.modules)))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def _console_script(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "GITHUB_ACTIONS"}
    return subprocess.run(
        [str(Path(sys.executable).parent / "epochlint"), *arguments],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "arguments",
    [
        ["check", "train_lora.yaml"],
        ["check", "--quiet", "train_lora.yaml"],
        ["--force-exclude", "."],
        [],
    ],
)
def test_plain_paths_skip_the_click_cli(arguments: list[str]) -> None:
    done = _run_and_list_modules(
        "epochlint.entry",
        arguments,
        ["click", "jsonschema", "epochlint.cli"],
        EXAMPLES,
    )
    assert done.stderr == "[]"
    assert "EL201" in done.stdout


@pytest.mark.parametrize(
    "arguments",
    [
        ["check", "train_lora.yaml"],
        ["train_lora.yaml", "data/../train_lora.yaml"],
        ["missing.yaml", "train_lora.yaml"],
        ["folder.yaml"],
        ["binary.yaml", "clean.yml"],
        ["accelerate.yaml"],
        ["check", "--quiet", "train_lora.yaml", "missing.yaml"],
        ["-q", "clean.yml", "accelerate.yaml"],
        ["train_lora.yaml", "-q", "binary.yaml"],
        ["--quiet", "clean.yml"],
        [],
        ["."],
        ["-q", "--force-exclude", "train_lora.yaml"],
    ],
)
def test_the_fast_path_reports_what_the_click_cli_reports(
    arguments: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("train_lora.yaml", "data"):
        os.symlink(EXAMPLES / name, tmp_path / name)
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "binary.yaml").write_bytes(b"\x7fELF\x00\x01")
    (tmp_path / "clean.yml").write_text("model_name_or_path: m\nstage: sft\n\x1b[31m: 1\n")
    (tmp_path / "accelerate.yaml").write_text("compute_environment: LOCAL_MACHINE\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    fast = _console_script(*arguments, cwd=tmp_path)
    slow = CliRunner().invoke(main, arguments, color=False)
    assert (fast.stdout, fast.returncode) == (slow.stdout, slow.exit_code)
    assert "Traceback" not in fast.stdout + fast.stderr


AVOIDED = ("pathlib", "typing", "importlib", "contextlib")


def test_a_plain_check_does_without_the_slow_standard_modules(tmp_path: Path) -> None:
    # typing and pathlib (with what it imports) cost 3.5 ms each of a run that must start
    # faster than yamllint (README, "Speed and robustness"); importlib and contextlib 0.5.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "dataset_info.json").write_text('{"d": {"file_name": "d.json"}}')
    rows = [{"instruction": f"q{index}", "output": "a"} for index in range(200)]
    (tmp_path / "data" / "d.json").write_text(json.dumps(rows))
    (tmp_path / "train.yaml").write_text(
        "model_name_or_path: m\nstage: sft\ndo_train: true\nfinetuning_type: lora\n"
        "dataset: d\ntemplate: qwen\nnum_train_epochs: 40\n"
    )
    # An editable install's import hook loads pathlib at start-up: forget them, so that an
    # import from epochlint would load them again.
    probe = (
        "import sys\n"
        f"for name in {AVOIDED!r}:\n    sys.modules.pop(name, None)\n"
        "sys.argv = ['epochlint', 'check', 'train.yaml']\n"
        "from epochlint.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"sys.stderr.write(repr([m for m in {AVOIDED!r} if m in sys.modules]))\n"
    )
    environment = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    for run in ("rows counted", "rows from the cache"):
        done = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.stderr == "[]", run
        assert "train.yaml:7:19: EL201" in done.stdout, run


REREAD_CASES = [
    "learning_rate: 1e-4\nwarmup_ratio: 0.1\n",
    "lr: 2e-5\nnested: {1e-3: a, b: [1e-4, 5.0e-5, '1e-4']}\n",
    "a: !!float 1e-4\nb: 1e-4\n",
    "a: &x 1e-4\nb: *x\nc: 3\n",
    "<<: {lr: 1e-4}\nlr: 2e-4\n",
    "a: ! 1e-4\n",
    "a: 1e-4\na: 2e-4\n",
    "a: !!python/name:os.system 1\nb: 1e-4\n",
    "when: 2024-01-01\nx: 1_000\ny: .inf\nz: 1:30\n",
    "plain: >\n  1e-4\nq: '2e-5'  # comment 1e-4\n",
]


def _parsed(document: Any) -> Any:
    entries = [
        (e.key, repr(e.value), e.key_span, e.value_span, e.merged, e.node.tag)
        for e in document.entries.values()
    ]
    return document.loader, entries, document.comments, document.problems


@pytest.mark.parametrize("text", REREAD_CASES)
def test_rereading_the_nodes_gives_what_parsing_again_gives(text: str) -> None:
    from epochlint.reading.document import parse, reread
    from epochlint.reading.source import decode

    for first, second in (("omegaconf", "pyyaml"), ("pyyaml", "omegaconf")):
        source = decode(text.encode(), "x.yaml")
        expected = _parsed(parse(source, second))
        assert _parsed(reread(parse(source, first), second)) == expected


def test_rereading_every_fixture_gives_what_parsing_again_gives() -> None:
    from epochlint.reading.document import DocumentError, parse, reread
    from epochlint.reading.source import SourceError, read_file

    root = Path(__file__).resolve().parents[1]
    paths = sorted([*root.glob("fixtures/**/*.y*ml"), *root.glob("tests/**/*.y*ml")])
    assert paths
    for path in paths:
        try:
            source = read_file(str(path))
            expected = _parsed(parse(source, "pyyaml"))
            document = parse(source, "omegaconf")
        except (SourceError, DocumentError):
            continue
        assert _parsed(reread(document, "pyyaml")) == expected, path


PLAIN_VALUE_CASES = [
    "a: {1: x, 2.5: y, true: z, null: w, ~: v}\n",
    "a: [1, 1_000, 0x1F, 0o17, 1e-4, 1.5e3, .inf, -.Inf, .nan, 'q', yes, Off, '', ~]\n",
    "a: {b: {c: [d, {e: f}]}, b2: 1}\n",
    "a: {b: 1, b: 2}\n",
    "a: {[1, 2]: x}\n",
    "a: {{b: 1}: x}\n",
    "a: !!str 1\nb: !!int '7'\nc: !!float 1\nd: !!bool 'true'\n",
    "a: {=: x}\n",
    "a: !!map {b: 1}\nc: !!seq [1]\n",
    "a: !!seq {b: 1}\n",
    "a: !!int x\n",
    "a: 1:30\nb: 0b101\nc: -0\nd: +12\n",
]


def _typed(value: Any) -> Any:
    """A value with every type spelled out, so that 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return ("dict", [(_typed(key), _typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(item) for item in value])
    return (type(value).__name__, repr(value))


def _constructed_by_pyyaml(source: Any, loader: str) -> Any:
    """Every top-level value as PyYAML's own constructor builds it, or its error, with tags
    from PyYAML's own resolver (epochlint's loaders remember the tags they resolved)."""
    from epochlint.reading.document import LOADERS

    class Reference(LOADERS[loader]):  # type: ignore[misc]
        resolve = yaml.resolver.BaseResolver.resolve

    yaml_loader = Reference(source.text)
    try:
        root = yaml_loader.get_single_node()
        values = {}
        for key_node, value_node in root.value:
            try:
                values[key_node.value] = _typed(yaml_loader.construct_object(value_node, True))
            except Exception as error:
                values[key_node.value] = type(error).__name__
        return values
    finally:
        yaml_loader.dispose()


def _constructed_by_epochlint(source: Any, loader: str) -> Any:
    from epochlint.reading.document import parse

    document = parse(source, loader)
    values: dict[str, Any] = {key: _typed(entry.value) for key, entry in document.entries.items()}
    for problem in document.problems:
        if problem.code in ("EL001", "EL004") and problem.message.startswith("`"):  # a value
            values[problem.message.split("`")[1]] = "error"
    return values


def _agree(source: Any) -> None:
    for loader in ("omegaconf", "pyyaml"):
        found = _constructed_by_epochlint(source, loader)  # first: it refuses alias bombs
        expected = _constructed_by_pyyaml(source, loader)
        assert found.keys() == expected.keys()
        for key, value in found.items():
            assert value == ("error" if isinstance(expected[key], str) else expected[key]), key


@pytest.mark.parametrize("text", PLAIN_VALUE_CASES)
def test_the_fast_constructor_builds_what_pyyaml_builds(text: str) -> None:
    from epochlint.reading.source import decode

    _agree(decode(text.encode(), "x.yaml"))


def test_the_fast_constructor_builds_what_pyyaml_builds_for_every_corpus_file() -> None:
    from epochlint.reading.document import DocumentError
    from epochlint.reading.source import SourceError, read_file

    root = Path(__file__).resolve().parents[1]
    require(CORPUS, "the shared corpus")
    paths = sorted([*CORPUS.glob("**/*.y*ml"), *root.glob("fixtures/[!h]*/**/*.y*ml")])
    checked = 0
    for path in paths:
        try:
            source = read_file(str(path))
            _agree(source)
            checked += 1
        except (SourceError, DocumentError):
            continue
    assert checked > 200


ARGUMENT_NAMES = sorted(dialects.named("llamafactory").properties)


def _misspelled(name: str, edits: list[tuple[int, int, str]]) -> str:
    """`name` with characters deleted, inserted or replaced at the given positions."""
    letters = list(name)
    for operation, position, character in edits:
        index = position % (len(letters) + 1)
        if operation == 0 and letters:
            del letters[min(index, len(letters) - 1)]
        elif operation == 1:
            letters.insert(index, character)
        elif letters:
            letters[min(index, len(letters) - 1)] = character
    return "".join(letters)


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.builds(
            _misspelled,
            st.sampled_from(ARGUMENT_NAMES),
            st.lists(
                st.tuples(st.integers(0, 2), st.integers(0, 40), st.sampled_from("aeiorst_<|0X")),
                max_size=5,
            ),
        ),
        st.text(max_size=20),
    ),
    st.sampled_from([(1, 0.8), (3, 0.8), (2, 0.75), (3, 0.6)]),
)
def test_close_matches_are_what_difflib_finds(word: str, limits: tuple[int, float]) -> None:
    import difflib

    from epochlint.spelling import close_matches

    n, cutoff = limits
    expected = difflib.get_close_matches(word, ARGUMENT_NAMES, n, cutoff)
    assert close_matches(word, ARGUMENT_NAMES, n, cutoff) == expected


def test_checking_leaves_no_cyclic_garbage() -> None:
    # check_files freezes what is alive instead of collecting first; that frees nothing
    # less only while a check leaves no reference cycles behind. Every dialect's corpus.
    import gc

    from epochlint.engine import check_files
    from epochlint.settings import Settings

    require(CORPUS, "the shared corpus")
    paths = sorted(str(path) for path in CORPUS.rglob("*.yaml"))
    paths += sorted(str(path) for path in EXAMPLES.glob("*.yaml"))
    gc.collect()
    gc.disable()
    try:
        results = check_files([(path, Settings()) for path in paths])
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert {result.dialect for result in results} >= {"llamafactory", "axolotl", "trl"}


def test_a_long_run_reports_every_file_in_order_and_leaves_the_collector_as_it_was(
    tmp_path: Path,
) -> None:
    import gc

    from epochlint.engine import FILES_PER_FREEZE, check_files
    from epochlint.settings import Settings

    count = 2 * FILES_PER_FREEZE + 5
    paths = []
    for index in range(count):
        path = tmp_path / f"sweep_{index:03d}.yaml"
        path.write_text(f"stage: sft\nfinetuning_type: lora\nnum_train_epochs: {index}\n")
        paths.append(str(path))
    paths[150] = str(tmp_path / "missing.yaml")
    frozen_before = gc.get_freeze_count()
    results = check_files([(path, Settings()) for path in paths])
    assert [result.path for result in results] == paths
    assert results[150].error == "no such file"
    assert results[count - 1].config is not None
    assert results[count - 1].config.number("num_train_epochs") == count - 1
    assert gc.get_freeze_count() == frozen_before
