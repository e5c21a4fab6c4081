"""The writer behind --fix, recommend --apply and diagnose --fix: the file stays the user's file.

Locking, permissions, owner, group, extended attributes and hard links, on real files.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from epochlint.fix import writer
from epochlint.fix.edit import KeyEdit, apply_edits
from epochlint.fix.writer import WriteError, locked, write_atomic

BEFORE = b"stage: sft\nnum_train_epochs: 3  # three\n"
AFTER = b"stage: sft\nnum_train_epochs: 2  # three\n"
ROOT = os.geteuid() == 0
NOBODY = 65534  # any uid without a passwd entry works with setpriv


def test_a_hard_linked_file_is_edited_in_place(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_bytes(BEFORE)
    other = tmp_path / "same-file.yaml"
    os.link(path, other)
    inode = path.stat().st_ino
    write_atomic(str(path), AFTER, BEFORE)
    assert path.stat().st_ino == inode and path.stat().st_nlink == 2
    assert other.read_bytes() == AFTER


def test_a_shorter_text_written_in_place_leaves_no_tail(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_bytes(BEFORE + b"# " + b"x" * 5000 + b"\n")
    os.link(path, tmp_path / "link.yaml")
    write_atomic(str(path), AFTER, path.read_bytes())
    assert path.read_bytes() == AFTER


def test_mode_and_extended_attributes_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_bytes(BEFORE)
    os.chmod(path, 0o640)
    try:
        os.setxattr(path, "user.origin", b"hand-written")
    except OSError as error:
        pytest.skip(f"this filesystem has no user extended attributes: {error.strerror}")
    inode = path.stat().st_ino
    write_atomic(str(path), AFTER, BEFORE)
    assert path.read_bytes() == AFTER
    assert path.stat().st_ino != inode  # replaced atomically: every attribute could be kept
    assert os.getxattr(path, "user.origin") == b"hand-written"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.skipif(not ROOT, reason="only root can create a file owned by someone else")
def test_root_keeps_owner_and_group(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_bytes(BEFORE)
    os.chown(path, 4321, 8765)
    os.chmod(path, 0o2664)  # setgid, which a chown would clear if done after the chmod
    write_atomic(str(path), AFTER, BEFORE)
    info = path.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (4321, 8765, 0o2664)
    assert path.read_bytes() == AFTER


def test_a_file_that_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_bytes(BEFORE + b"seed: 1\n")
    with pytest.raises(WriteError, match="changed while epochlint was fixing it"):
        write_atomic(str(path), AFTER, BEFORE)
    assert path.read_bytes() == BEFORE + b"seed: 1\n"


def test_a_fifo_is_not_waited_for(tmp_path: Path) -> None:
    fifo = tmp_path / "train.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    with locked(str(fifo)) as file:
        assert file is None
    assert time.monotonic() - started < 5


def test_a_lock_held_too_long_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "train.yaml"
    path.write_bytes(BEFORE)
    monkeypatch.setattr(writer, "LOCK_TIMEOUT_SECONDS", 0.3)
    with open(path, "rb") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)  # as another epochlint run would
        with pytest.raises(WriteError, match="another process has been changing the file"):
            write_atomic(str(path), AFTER, BEFORE)
    assert path.read_bytes() == BEFORE


def _add_key(path: str, number: int, start: multiprocessing.synchronize.Event) -> None:
    start.wait()
    with locked(path) as file:
        assert file is not None
        before = file.read()
        text = apply_edits(before.decode(), [KeyEdit("set", f"key_{number}", number)])
        file.write(text.encode(), before)


@pytest.mark.parametrize("hard_link", [False, True], ids=["replaced", "in-place"])
def test_hundreds_of_concurrent_writers_lose_no_update(tmp_path: Path, hard_link: bool) -> None:
    path = tmp_path / "train.yaml"
    path.write_bytes(BEFORE)
    if hard_link:
        os.link(path, tmp_path / "link.yaml")
    apply_edits("a: 1\n", [KeyEdit("set", "b", 2)])  # ruamel.yaml imported once, before forking
    context = multiprocessing.get_context("fork")
    start = context.Event()
    writers = [context.Process(target=_add_key, args=(str(path), n, start)) for n in range(200)]
    for process in writers:
        process.start()
    start.set()
    for process in writers:
        process.join(timeout=300)
    assert [process.exitcode for process in writers] == [0] * len(writers)
    text = path.read_text()
    assert sorted(line for line in text.splitlines() if line.startswith("key_")) == sorted(
        f"key_{n}: {n}" for n in range(200)
    )
    assert text.startswith(BEFORE.decode())
    assert sorted(p.name for p in tmp_path.iterdir()) == (
        ["link.yaml", "train.yaml"] if hard_link else ["train.yaml"]
    )


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder anyone may write in, under /tmp (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="epochlint-writer-"))
    os.chmod(folder, 0o777)  # a rename in it would succeed for anyone
    yield folder
    shutil.rmtree(folder)


def _as_user(uid: int, gid: int, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    return subprocess.run(
        [*command, sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(not ROOT, reason="running as another user needs root (setpriv)")
def test_another_user_cannot_replace_a_file_they_may_not_write(open_folder: Path) -> None:
    path = open_folder / "train.yaml"
    path.write_bytes(BEFORE)
    os.chmod(path, 0o644)  # root's file, readable by all, writable by root only
    code = (
        "from epochlint.fix.writer import WriteError, write_atomic\n"
        f"try:\n    write_atomic({str(path)!r}, {AFTER!r}, {BEFORE!r})\n"
        "except WriteError as error:\n    print(error)\n"
    )
    done = _as_user(NOBODY, NOBODY, code, open_folder)
    assert done.stdout == "you do not have permission to write the file; not fixed\n", done.stderr
    assert path.read_bytes() == BEFORE
    assert path.stat().st_uid == 0
    assert sorted(p.name for p in open_folder.iterdir()) == ["train.yaml"]


@pytest.mark.skipif(not ROOT, reason="running as another user needs root (setpriv)")
def test_a_group_member_edits_in_place_and_the_owner_stays(open_folder: Path) -> None:
    path = open_folder / "train.yaml"
    path.write_bytes(BEFORE)
    os.chown(path, 4321, 8765)
    os.chmod(path, 0o664)  # the owner's file, writable by its group
    code = (
        "from epochlint.fix.writer import write_atomic\n"
        f"write_atomic({str(path)!r}, {AFTER!r}, {BEFORE!r})\n"
    )
    done = _as_user(NOBODY, 8765, code, open_folder)
    assert done.returncode == 0, done.stderr
    info = path.stat()
    assert path.read_bytes() == AFTER
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (4321, 8765, 0o664)


@pytest.mark.skipif(not ROOT, reason="running as another user needs root (setpriv)")
def test_a_folder_that_takes_no_new_file_gets_an_in_place_write(open_folder: Path) -> None:
    path = open_folder / "train.yaml"
    path.write_bytes(BEFORE)
    os.chown(path, NOBODY, NOBODY)
    inode = path.stat().st_ino
    os.chmod(open_folder, 0o755)  # root's folder: nobody may not create the temporary file
    code = (
        "from epochlint.fix.writer import write_atomic\n"
        f"write_atomic({str(path)!r}, {AFTER!r}, {BEFORE!r})\n"
    )
    done = _as_user(NOBODY, NOBODY, code, open_folder)
    assert done.returncode == 0, done.stderr
    assert path.read_bytes() == AFTER and path.stat().st_ino == inode
    assert sorted(p.name for p in open_folder.iterdir()) == ["train.yaml"]
