"""The string path helpers the check path uses instead of pathlib give pathlib's answers."""

from __future__ import annotations

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
