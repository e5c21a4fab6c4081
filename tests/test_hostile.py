"""Hostile input through the real command line: a clear one-line answer, bounded, never a crash.

Every case runs `epochlint` in a subprocess limited to 1 GiB of address space and 30 s of CPU,
and must end with the expected exit status and a `path:line:column: RULE` message (or the
one-line `path: error:` of a path that cannot be read), without a traceback. Under `--fix` a
file that cannot be fixed must stay byte-identical. The small inputs are committed under
fixtures/hostile/; the big ones (50 MB, 10,000 levels) are generated here from a recipe.
Encodings, tabs and alias bombs are also unit-tested in test_reading.py, and the fix-time races
in test_fix.py; here they go through the installed console script.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow  # a subprocess for every input
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
EPOCHLINT = str(Path(sys.executable).parent / "epochlint")
MEMORY_LIMIT = 1 << 30
CPU_SECONDS = 30


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "GITHUB_ACTIONS"}
    environment["XDG_CACHE_HOME"] = str(cwd / ".cache")
    done = subprocess.run(
        command,
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=CPU_SECONDS * 2,
        preexec_fn=_limits,
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _deep(opening: str, inner: str, closing: str) -> Callable[[], bytes]:
    return lambda: ("a: " + opening * 10_000 + inner + closing * 10_000 + "\n").encode()


# name: (how to make it, exit status, rule, line, column or None, words of the message)
GENERATED: dict[str, tuple[Callable[[], bytes], int, str, int, int | None, str]] = {
    "nested_lists.yaml": (_deep("[", "", "]"), 1, "EL001", 1, None, "nesting is too deep"),
    "nested_maps.yaml": (_deep("{b: ", "1", "}"), 1, "EL001", 1, None, "nesting is too deep"),
    "nested_block.yaml": (
        lambda: b"a:\n  " + b"- " * 10_000 + b"x\n",
        1,
        "EL001",
        2,
        None,
        "nesting is too deep",
    ),
    "comments_50mb.yaml": (
        lambda: b"stage: sft\n" + (b"# " + b"x" * 97 + b"\n") * 500_000,
        1,
        "EL001",
        1,
        1,
        "50.0 MB, far larger than a training config",
    ),
    "comments_2mb.yaml": (  # just under the size limit: 480,000 comments, counted linearly
        lambda: b"num_train_epoch: 3\n" + b"# x\n" * 480_000,
        1,
        "EL101",
        1,
        1,
        "did you mean `num_train_epochs`",
    ),
    "keys_50mb.yaml": (
        lambda: b"".join(b"key_%07d: %d\n" % (n, n) for n in range(2_500_000)),
        1,
        "EL001",
        1,
        1,
        "far larger than a training config",
    ),
    "long_line.yaml": (
        lambda: b"stage: sft\n" + b"k" * 1_000_000 + b": 1\n",
        1,
        "EL001",
        2,
        None,
        "could not find expected ':'",
    ),
}
COMMITTED: dict[str, tuple[int, str, int, int | None, str]] = {
    "alias_bomb.yaml": (1, "EL001", 2, 1, "aliases expand the document past 10,000 nodes"),
    "invalid_utf8.yaml": (1, "EL001", 2, 13, "invalid UTF-8 (byte 0xe9)"),
    "nul_byte.yaml": (1, "EL001", 2, 11, "binary file (it contains a NUL byte)"),
    "binary.yaml": (1, "EL001", 3, 1, "binary file"),
    "non_string_keys.yaml": (1, "EL001", 2, 1, "a key must be a plain name"),
    "merge_keys.yaml": (1, "EL101", 1, 1, "`base` is not a LLaMA-Factory argument"),
    "merge_not_a_mapping.yaml": (1, "EL001", 2, 5, "a merge key (<<) expects a mapping"),
    "multiple_documents.yaml": (1, "EL001", 2, 1, "more than one YAML document"),
    "unsafe_tag.yaml": (1, "EL004", 2, 13, "a safe loader refuses it"),
    "tabs.yaml": (1, "EL001", 3, 1, "a tab character here"),
    # Found by test_fuzz.py: was a two-line message at 1:1.
    "control_character.yaml": (1, "EL001", 2, 11, "the character U+001F is not allowed in YAML"),
    # Found by test_fuzz.py: an internal error (TypeError) in the dataset lookup.
    # Found by test_fuzz.py: an internal error (TypeError: unhashable type) in EL411.
    "scheduler_a_list.yaml": (1, "EL102", 2, 20, "but it is the list []"),
    "dataset_not_a_name.yaml": (1, "EL102", 3, 15, "but it is the integer 1"),
}


def _expect_one_line(output: str, name: str, rule: str, line: int, column: int | None) -> str:
    where = f"{line}:{column}" if column is not None else rf"{line}:\d+"
    pattern = re.compile(rf"^{re.escape(name)}:{where}: {rule}\d* .*$", re.M)
    found = pattern.findall(output)
    assert len(found) == 1, output[:3000]
    return str(found[0])


def _check_and_fix(
    folder: Path, name: str, status: int, rule: str, line: int, column: int | None, words: str
) -> None:
    before = (folder / name).read_bytes()
    checked = run([EPOCHLINT, "check", "--format", "concise", name], folder)
    assert checked.returncode == status, checked.stdout[:3000] + checked.stderr[:3000]
    message = _expect_one_line(checked.stdout, name, rule, line, column)
    assert words in message
    fixed = run([EPOCHLINT, "--fix", name], folder)
    after = (folder / name).read_bytes()
    if rule != "EL101":  # unreadable, or refused: nothing may be written
        assert fixed.returncode == status
        assert after == before
    else:  # a readable config may be fixed, and must then still read as a mapping
        assert fixed.returncode in (0, 1)
        assert isinstance(yaml.safe_load(after), dict)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_hostile_input(name: str, tmp_path: Path) -> None:
    make, status, rule, line, column, words = GENERATED[name]
    (tmp_path / name).write_bytes(make())
    _check_and_fix(tmp_path, name, status, rule, line, column, words)


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_committed_hostile_input(name: str, tmp_path: Path) -> None:
    shutil.copy(FIXTURES / name, tmp_path / name)
    _check_and_fix(tmp_path, name, *COMMITTED[name])
    assert not (tmp_path / "epochlint-was-here").exists()  # the unsafe tag never ran


def test_committed_fixtures_are_all_covered() -> None:
    found_by_fuzzing = ["infinite_numbers.yaml"]  # a crash once; test_infinite_numbers below
    assert sorted(path.name for path in FIXTURES.iterdir()) == sorted(
        [*COMMITTED, *found_by_fuzzing]
    )


@pytest.mark.parametrize("command", [["check"], ["--fix"], ["plan"], ["recommend"]])
def test_a_fifo_or_a_device_as_config_is_refused_unopened(
    command: list[str], tmp_path: Path
) -> None:
    os.mkfifo(tmp_path / "fifo.yaml")  # no writer ever comes: opening it for reading would block
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")  # never ends
    for name, kind in (("fifo.yaml", "a FIFO (named pipe)"), ("zero.yaml", "a character device")):
        done = run([EPOCHLINT, *command, name], tmp_path)
        assert done.returncode == 2
        (line,) = [line for line in (done.stdout + done.stderr).splitlines() if kind in line]
        assert re.search(rf"{name}: (error: )?{re.escape(kind)}, not a regular file", line), line


FIXABLE = "stage: sft\nfinetuning_type: lora\nnum_train_epoch: 3\n"


def test_a_read_only_file_is_not_fixed(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(FIXABLE)
    path.chmod(0o444)
    done = run([EPOCHLINT, "--fix", "train.yaml"], tmp_path)
    assert done.returncode == 2
    assert "train.yaml: not fixed: the file is read-only" in done.stderr
    assert path.read_text() == FIXABLE
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".cache") == ["train.yaml"]


def test_a_directory_is_walked_and_the_other_files_are_checked(tmp_path: Path) -> None:
    (tmp_path / "configs.yaml").mkdir()  # a folder, walked like any other: it holds nothing
    (tmp_path / "train.yaml").write_text(FIXABLE)
    for command in (["check"], ["--fix"]):
        done = run([EPOCHLINT, *command, "configs.yaml", "train.yaml"], tmp_path)
        assert done.returncode in (0, 1), done.stdout + done.stderr
        assert "configs.yaml" not in done.stdout + done.stderr
    assert "num_train_epochs: 3" in (tmp_path / "train.yaml").read_text()  # the other was fixed


RACE = """
import sys
from pathlib import Path
from epochlint.commands import fix as fixcommand
from epochlint.cli import main


real = fixcommand.fix_source

def fix_then_someone_saves(*arguments, **options):
    outcome = real(*arguments, **options)
    Path("train.yaml").write_text(Path("train.yaml").read_text() + "# saved in the editor\\n")
    return outcome

fixcommand.fix_source = fix_then_someone_saves
sys.argv = ["epochlint", "--fix", "train.yaml"]
main()
"""


def test_a_file_that_changes_between_read_and_write_is_left_to_the_other_writer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(FIXABLE)
    done = run([sys.executable, "-c", RACE], tmp_path)
    assert done.returncode == 2
    assert "train.yaml: not fixed: the file changed while epochlint was fixing it" in done.stderr
    assert path.read_text() == FIXABLE + "# saved in the editor\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".cache") == ["train.yaml"]


def test_infinite_numbers(tmp_path: Path) -> None:
    # Found by test_fuzz.py: `max_steps: .inf` once reached int() in the schedule.
    shutil.copy(FIXTURES / "infinite_numbers.yaml", tmp_path / "infinite_numbers.yaml")
    done = run([EPOCHLINT, "check", "--format", "concise", "infinite_numbers.yaml"], tmp_path)
    assert done.returncode == 1
    _expect_one_line(done.stdout, "infinite_numbers.yaml", "EL", 2, None)
