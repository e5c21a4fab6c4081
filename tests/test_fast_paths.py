"""The shortcuts that keep a run fast must give the answers of the slow, authoritative way."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from epochlint import versions
from epochlint.cli import main
from epochlint.rules.keys import _prechecks, _surely_valid
from epochlint.training import llamafactory

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


PROPERTIES = llamafactory().properties
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from([choice for spec in PROPERTIES.values() for choice in spec.get("enum", [])]),
)
VALUES = st.one_of(
    SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=3), SCALARS)
)


def test_the_precheck_understands_the_llamafactory_schema() -> None:
    # Otherwise every file would import jsonschema again, and this file's property is vacuous.
    assert _prechecks(llamafactory())


@hypothesis_settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(PROPERTIES)), VALUES)
def test_a_value_the_precheck_passes_is_valid_for_jsonschema(key: str, value: Any) -> None:
    spec = PROPERTIES[key]
    validator = jsonschema.Draft4Validator({"type": "object", "properties": {key: spec}})
    if _surely_valid(value, spec):
        assert list(validator.iter_errors({key: value})) == []


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


@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_plain_paths_skip_the_click_cli(quiet: list[str]) -> None:
    probe = (
        "import sys\n"
        f"sys.argv = ['epochlint', 'check', *{quiet!r}, 'train_lora.yaml']\n"
        "from epochlint.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(repr(sorted(m for m in ('click', 'jsonschema', 'epochlint.cli') "
        "if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=EXAMPLES, capture_output=True, text=True, timeout=60
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
    from epochlint.document import parse, reread
    from epochlint.source import decode

    for first, second in (("omegaconf", "pyyaml"), ("pyyaml", "omegaconf")):
        source = decode(text.encode(), "x.yaml")
        expected = _parsed(parse(source, second))
        assert _parsed(reread(parse(source, first), second)) == expected


def test_rereading_every_fixture_gives_what_parsing_again_gives() -> None:
    from epochlint.document import DocumentError, parse, reread
    from epochlint.source import SourceError, read_file

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
