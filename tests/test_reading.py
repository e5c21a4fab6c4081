"""Reading a config exactly as LLaMA-Factory's loader does, and bad input of every kind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import LLAMAFACTORY, lint, only

from epochlint.cli import main
from epochlint.reading.document import DocumentError, parse
from epochlint.reading.source import decode, read_file

omegaconf = pytest.importorskip(
    "omegaconf", reason="omegaconf is a test dependency (pip install -e '.[test]')"
)


def corpus_yaml_files() -> list[Path]:
    return sorted(LLAMAFACTORY.rglob("*.yaml")) + sorted(LLAMAFACTORY.rglob("*.yml"))


def test_values_match_omegaconf_on_every_llamafactory_yaml(corpus: Path) -> None:
    files = corpus_yaml_files()
    assert len(files) >= 90, "the LLaMA-Factory corpus should hold its 95 example configs"
    for path in files:
        expected = omegaconf.OmegaConf.to_container(omegaconf.OmegaConf.load(path))
        document = parse(read_file(str(path)))
        assert document.data() == expected, path
        # Same types too: 1e-4 a float, yes/no booleans, 3 an int.
        for key, value in expected.items():
            assert type(document.entries[key].value) is type(value), (path, key)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("learning_rate: 1e-4\n", 1e-4),  # a float for OmegaConf, a string for plain PyYAML
        ("learning_rate: 5e-5\n", 5e-5),
        ("flag: yes\n", True),  # YAML 1.1 boolean
        ("flag: off\n", False),
        ("date: 2024-01-01\n", "2024-01-01"),  # no timestamps
        ("steps: 1e4\n", 10000.0),
        ("count: 010\n", 8),  # YAML 1.1 octal
    ],
)
def test_scalars_are_read_as_omegaconf_reads_them(text: str, expected: object) -> None:
    value = next(iter(parse(decode(text.encode(), "t.yaml")).data().values()))
    reference = next(
        iter(omegaconf.OmegaConf.to_container(omegaconf.OmegaConf.create(text)).values())
    )
    assert value == expected == reference
    assert type(value) is type(reference)


def test_positions_are_one_based_with_end() -> None:
    document = parse(decode(b"# c\nlearning_rate:   2.0e-4  # note\n", "t.yaml"))
    entry = document.entries["learning_rate"]
    assert (entry.key_span.line, entry.key_span.column) == (2, 1)
    assert (entry.value_span.line, entry.value_span.column) == (2, 18)
    assert (entry.value_span.end_line, entry.value_span.end_column) == (2, 24)


def test_comments_inside_block_scalars_are_not_comments() -> None:
    text = "template: |\n  # epochlint: disable-file\n  hi\n# real comment\nx: 1  # trailing\n"
    comments = parse(decode(text.encode(), "t.yaml")).comments
    assert [(c.line, c.text.strip(), c.own_line) for c in comments] == [
        (4, "real comment", True),
        (5, "trailing", False),
    ]


def test_duplicate_keys_are_refused_like_omegaconf() -> None:
    text = "num_train_epochs: 3\nlearning_rate: 1.0e-4\nnum_train_epochs: 5\n"
    with pytest.raises(Exception, match="duplicate key"):
        omegaconf.OmegaConf.create(text)
    result = lint(text)
    duplicate = only(result, "EL002")
    assert (duplicate.line, duplicate.column) == (3, 1)
    assert "already set on line 1" in duplicate.message
    assert result.config is not None and result.config.value("num_train_epochs") == 5


BAD_INPUTS = {
    "empty": (b"", "EL003", 1, 1, "empty"),
    "only comments": (b"# nothing here\n# at all\n", "EL003", 1, 1, "empty"),
    "a list": (b"- num_train_epochs: 3\n", "EL003", 1, 1, "a list"),
    "a scalar": (b"just text\n", "EL003", 1, 1, "single value"),
    "bad indentation": (b"a: 1\n  b: 2\n", "EL001", 2, 4, "mapping values are not allowed"),
    "unclosed quote": (b'a: "open\nb: 2\n', "EL001", 3, 1, "found unexpected end of stream"),
    "tab": (b"a:\t1\nb:\n\t- x\n", "EL001", 3, 1, "tab"),
    "python tag": (
        b"output_dir: !!python/object/apply:os.getcwd []\n",
        "EL004",
        1,
        13,
        "the tag !!python/object/apply:os.getcwd;",
    ),
    "custom tag": (b"lr: !Ref x\n", "EL004", 1, 5, "!Ref"),
    "invalid utf-8": (b"a: 1\nb: caf\xe9\n", "EL001", 2, 7, "invalid UTF-8"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00", "EL001", 3, 1, "binary file"),
    "two documents": (b"a: 1\n---\nb: 2\n", "EL001", 2, 1, "more than one YAML document"),
    "alias bomb": (
        b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        b"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        b"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
        "EL001",
        1,
        1,
        "aliases expand",
    ),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_gets_one_positioned_diagnostic(name: str) -> None:
    data, rule, line, column, fragment = BAD_INPUTS[name]
    from conftest import settings

    from epochlint.engine import check_bytes

    result = check_bytes(data, "bad.yaml", settings())
    assert [d.rule for d in result.diagnostics] == [rule], result.diagnostics
    found = result.diagnostics[0]
    assert (found.line, found.column) == (line, column)
    assert fragment in found.message


def test_bom_and_crlf_are_read_and_positions_stay_right() -> None:
    data = "\ufeffmodel_name_or_path: x\r\nnum_train_epoch: 3\r\n".encode()
    source = decode(data, "t.yaml")
    assert source.has_bom and source.newline == "\r\n"
    from conftest import settings

    from epochlint.engine import check_source

    unknown = only(check_source(source, settings()), "EL101")
    assert (unknown.line, unknown.column, unknown.end_column) == (2, 1, 16)


def test_the_run_goes_on_after_a_bad_file(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("num_train_epoch: 3\n")
    (tmp_path / "folder.yaml").mkdir()
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\x00\x01")
    result = CliRunner().invoke(
        main,
        [str(tmp_path / "missing.yaml"), str(tmp_path / "folder.yaml"), str(binary), str(good)],
    )
    lines = result.output.splitlines()
    assert result.exit_code == 2  # some paths could not be read
    assert f"{tmp_path / 'missing.yaml'}: error: no such file" in lines
    assert any(
        line.startswith(f"{tmp_path / 'folder.yaml'}: error: is a directory") for line in lines
    )
    assert any(line.startswith(f"{binary}:1:1: EL001") for line in lines)
    assert any(line.startswith(f"{good}:1:1: EL101") for line in lines)
    assert "Traceback" not in result.output


def test_read_only_and_unreadable_do_not_crash(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    os.symlink(loop, loop)
    result = CliRunner().invoke(main, [str(loop)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.startswith(f"{loop}: error:")


def test_document_error_carries_position() -> None:
    with pytest.raises(DocumentError) as raised:
        parse(decode(b"a: [1, 2\n", "t.yaml"))
    assert raised.value.code == "EL001"
    assert raised.value.line == 2
