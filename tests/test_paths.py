"""The string path helpers the check path uses instead of pathlib give pathlib's answers."""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epochlint.paths import absolute, home, parent, pure, up_from

PARTS = st.sampled_from(["", ".", "..", "a", "b c", "train.yaml", ".hidden", "..."])
PATHS = st.lists(PARTS, max_size=6).map("/".join) | st.sampled_from(["/", "//", "///a", "//a/b"])


@given(PATHS)
def test_pure_parent_and_parents_are_pathlibs(path: str) -> None:
    assert pure(path) == str(PurePosixPath(path))
    assert parent(path) == str(PurePosixPath(path).parent)
    expected = [PurePosixPath(path), *PurePosixPath(path).parents]
    assert list(up_from(path)) == [str(folder) for folder in expected]


@given(PATHS)
def test_absolute_is_pathlibs_absolute(path: str) -> None:
    assert absolute(path) == str(Path(path).absolute())


def test_home_is_pathlibs_home_and_refuses_when_there_is_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert home() == str(Path.home())
    monkeypatch.delenv("HOME")
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # no passwd entry either
    with pytest.raises(RuntimeError):
        home()
    with pytest.raises(RuntimeError):
        Path.home()


def test_a_plain_check_does_not_import_pathlib(tmp_path: Path) -> None:
    # The reason the helpers exist: pathlib and what it imports cost about 3.5 ms a run.
    import subprocess
    import sys

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "dataset_info.json").write_text('{"d": {"file_name": "d.json"}}')
    rows = [{"instruction": f"q{index}", "output": "a"} for index in range(200)]
    (tmp_path / "data" / "d.json").write_text(json.dumps(rows))
    (tmp_path / "train.yaml").write_text(
        "model_name_or_path: m\nstage: sft\ndo_train: true\nfinetuning_type: lora\n"
        "dataset: d\ntemplate: qwen\nnum_train_epochs: 40\n"
    )
    # An editable install's import hook loads pathlib at start-up: forget it, so that an
    # import from epochlint would load it again.
    probe = (
        "import sys\n"
        "for name in ('pathlib', 'typing'):\n    sys.modules.pop(name, None)\n"
        "sys.argv = ['epochlint', 'check', 'train.yaml']\n"
        "from epochlint.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(repr([m for m in ('pathlib', 'typing') if m in sys.modules]))\n"
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
