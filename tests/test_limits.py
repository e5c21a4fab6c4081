"""Issue #19 through the real command line: every hostile file, number or output ends in exit
0, 1 or 2 with at most one line of error, in seconds, in bounded memory.

Each case runs the installed `epochlint` as test_hostile.py does (1 GiB of address space, 30 s
of CPU, killed after 60 s of wall time, which a blocking open would reach), and also measures
the child's CPU time and peak resident memory (`os.wait4`), which must stay under SECONDS and
MEMORY_MB whatever the input's size: the big inputs (a 256 MB CSV field,
200 MB of `[`, a 300,000-step log) are generated here. README, "Limits", lists what is bounded.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
from test_hostile import CPU_SECONDS, EPOCHLINT, MEMORY_LIMIT

MEMORY_MB = 200  # peak RSS of any case: the "well under 200 MB"
SECONDS = 20  # CPU time of any case (most take under 2 s; the old counters took minutes)
CONFIG = """\
stage: sft
do_train: true
model_name_or_path: Qwen/Qwen2.5-0.5B
finetuning_type: lora
dataset: rows
template: qwen
per_device_train_batch_size: 2
gradient_accumulation_steps: 4
num_train_epochs: 3
learning_rate: 1.0e-4
output_dir: out
"""


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


# The case runs as the grandchild of a small launcher, not as a fork of pytest: a process forked
# from pytest counts pytest's resident memory (hundreds of MB once torch is imported by another
# test) in its peak until it execs, and that would be measured as the case's.
LAUNCHER = """
import os, resource, sys
report, memory, cpu, *command = sys.argv[1:]
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, (int(memory), int(memory)))
    resource.setrlimit(resource.RLIMIT_CPU, (int(cpu), int(cpu)))
    try:
        os.execvp(command[0], command)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as stream:
    stream.write(f"{usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}")
code = os.waitstatus_to_exitcode(status)
os._exit(code if code >= 0 else 128 - code)
"""


def run_bounded(
    command: list[str],
    cwd: Path,
    stdout: int | None = None,
    close_stdout: bool = False,
    stdin: IO[bytes] | None = None,
) -> Done:
    """Run `command` under test_hostile's limits; its time and peak memory, no traceback."""
    environment = {key: value for key, value in os.environ.items() if key != "GITHUB_ACTIONS"}
    environment["XDG_CACHE_HOME"] = str(cwd / ".cache")
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "usage"
        out = (Path(scratch) / "out").open("w+b")
        err = (Path(scratch) / "err").open("w+b")
        read_end = None
        if close_stdout:  # a reader that went away before anything was written
            read_end, write_end = os.pipe()
            os.close(read_end)
            stdout = write_end
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER]
        limits = [str(report), str(MEMORY_LIMIT), str(CPU_SECONDS)]
        process = subprocess.Popen(
            [*launcher, *limits, *command],
            cwd=cwd,
            env=environment,
            stdout=out if stdout is None else stdout,
            stderr=err,
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            start_new_session=True,  # a timeout kills the case with its launcher
        )
        if close_stdout:
            os.close(write_end)

        def kill() -> None:
            os.killpg(process.pid, 9)

        killer = threading.Timer(CPU_SECONDS * 2, kill)  # a blocked open uses no CPU
        killer.start()
        process.wait()
        killer.cancel()
        # CPU time, not wall time: the machine may be shared; a blocked run is killed above.
        cpu, peak_kb = report.read_text().split() if report.exists() else ("inf", "inf")
        out.seek(0)
        err.seek(0)
        done = Done(
            process.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            float(cpu),
            float(peak_kb) / 1024,
        )
        out.close()
        err.close()
    shown = done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr, shown
    assert done.returncode in (0, 1, 2), shown  # -9: killed at the timeout
    assert done.seconds < SECONDS, (done.seconds, shown)
    assert done.peak_mb < MEMORY_MB, (done.peak_mb, shown)
    return done


def project(folder: Path, data: dict[str, bytes | None], config: str = CONFIG) -> Path:
    """A training folder: train.yaml, and data/ with dataset_info.json naming `rows`."""
    (folder / "data").mkdir()
    (folder / "train.yaml").write_text(config)
    names = list(data)
    info = {"rows": {"file_name": names[0]}} if names else {}
    (folder / "data" / "dataset_info.json").write_text(json.dumps(info))
    for name, content in data.items():
        if content is not None:
            (folder / "data" / name).write_bytes(content)
    return folder


@pytest.fixture(autouse=True)
def _unwrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A report wide enough that no line wraps: a finding is its headline and one note line."""
    monkeypatch.setenv("COLUMNS", "100000")


def finding_lines(stdout: str) -> list[str]:
    """Each finding of a full report as one line: the headline, then its note after `: `."""
    found: list[str] = []
    for line in stdout.splitlines():
        if re.match(r"\S.*:\d+:\d+: EL\d{3} ", line):
            found.append(line)
        elif found and line.startswith("  = note: "):
            found[-1] += ": " + line.removeprefix("  = note: ")
    return found


def one_finding(done: Done, rule: str, words: str) -> str:
    found = [line for line in finding_lines(done.stdout) if f" {rule} " in line and words in line]
    assert len(found) == 1, done.stdout[-3000:]
    return found[0]


def check(folder: Path, *options: str) -> Done:
    """The full report: each finding's first line, and the plan line with the rows."""
    return run_bounded([EPOCHLINT, "check", *options, "train.yaml"], folder)


def write_big(path: Path, head: bytes, filler: bytes, megabytes: int, tail: bytes) -> None:
    with path.open("wb") as stream:
        stream.write(head)
        block = filler * ((1 << 20) // len(filler))
        for _ in range(megabytes):
            stream.write(block)
        stream.write(tail)


# --- counting rows: linear, bounded, as the real readers --------------------------------------


def test_deep_json_nesting_is_counted_in_linear_time(tmp_path: Path) -> None:
    # 200 KB of [[[...]]] took 211 s (one regex pass per level); datasets' reader (ujson) refuses
    # more than 1,024 levels, and so does the counter, at once.
    project(tmp_path, {"rows.json": b"[" * 100_000 + b"]" * 100_000})
    done = check(tmp_path)
    assert done.returncode == 1
    line = one_finding(done, "EL503", "more than 1,024 levels of nesting")
    assert line.startswith("train.yaml:5:10: EL503 dataset-file-missing [error] dataset 'rows': ")
    assert "/data/rows.json: malformed JSON array: more than 1,024 levels" in line


def test_nesting_datasets_accepts_is_counted(tmp_path: Path) -> None:
    nested = b"[" * 1023 + b"]" * 1023  # 1,024 levels with the top-level array
    project(tmp_path, {"rows.json": b"[" + b",".join([nested] * 300) + b"]"})
    done = check(tmp_path)
    assert "rows 300 (dataset_info.json)" in done.stdout


def test_200_mb_of_open_brackets_ends_with_one_line(tmp_path: Path) -> None:
    project(tmp_path, {})
    write_big(tmp_path / "data" / "rows.json", b"", b"[", 200, b"")
    (tmp_path / "data" / "dataset_info.json").write_text('{"rows": {"file_name": "rows.json"}}')
    done = check(tmp_path)
    assert done.returncode == 1
    one_finding(done, "EL503", "more than 1,024 levels of nesting in the bytes from 1 to")


def test_a_256_mb_csv_field_is_counted_in_bounded_memory(tmp_path: Path) -> None:
    project(tmp_path, {})
    path = tmp_path / "data" / "rows.csv"
    write_big(path, b'text,label\n"', b"x", 256, b'",1\n"a\n""quoted""",2\n')
    (tmp_path / "data" / "dataset_info.json").write_text('{"rows": {"file_name": "rows.csv"}}')
    done = check(tmp_path)
    assert "rows 2 (dataset_info.json)" in done.stdout, done.stdout[-2000:]


@pytest.mark.parametrize(
    ("name", "head", "tail", "rows"),
    [
        ("rows.txt", b"first\n", b"\nlast\n", 3),  # the text builder: one row per line
        ("rows.jsonl", b'{"a": 1}\n{"text": "', b'"}\n{"a": 2}\n', 3),  # past grep's size
    ],
)
def test_a_256_mb_line_is_counted_in_bounded_memory(
    tmp_path: Path, name: str, head: bytes, tail: bytes, rows: int
) -> None:
    project(tmp_path, {})
    write_big(tmp_path / "data" / name, head, b"y", 256, tail)
    (tmp_path / "data" / "dataset_info.json").write_text(json.dumps({"rows": {"file_name": name}}))
    done = check(tmp_path)  # grep, which holds a whole line, is limited to 64 MB and gives up
    assert f"rows {rows} (dataset_info.json)" in done.stdout, done.stdout[-2000:]


def test_an_unterminated_csv_quote_is_refused_as_pandas_refuses_it(tmp_path: Path) -> None:
    project(tmp_path, {"rows.csv": b'instruction,output\nhi,"there\nbye,now\n'})
    done = check(tmp_path)
    line = one_finding(done, "EL503", "line 2: malformed CSV (a quoted field is not closed")
    assert "pandas and datasets refuse it" in line


def test_whitespace_only_csv_lines_are_no_rows(tmp_path: Path) -> None:
    project(tmp_path, {"rows.csv": b"instruction,output\nhi,there\n   \n\t\nbye,now\n  "})
    assert "rows 2 (dataset_info.json)" in check(tmp_path).stdout


def test_negative_sample_counts_are_errors_not_a_negative_size(tmp_path: Path) -> None:
    project(
        tmp_path, {"rows.json": json.dumps([{"instruction": "q", "output": "a"}] * 10).encode()}
    )
    info = {"rows": {"file_name": "rows.json", "num_samples": -5}}
    (tmp_path / "data" / "dataset_info.json").write_text(json.dumps(info))
    done = check(tmp_path)
    one_finding(done, "EL503", "num_samples -5 in dataset_info.json")
    assert "rows unknown" in done.stdout
    info["rows"].pop("num_samples")
    (tmp_path / "data" / "dataset_info.json").write_text(json.dumps(info))
    (tmp_path / "train.yaml").write_text(CONFIG + "max_samples: -5\n")
    done = check(tmp_path)
    line = one_finding(done, "EL410", "`max_samples: -5` is out of range")
    assert line.startswith("train.yaml:12:14: ")
    assert "rows 0 (dataset_info.json)" in done.stdout


# --- only regular files, never blocking -----------------------------------------------------


def _fifo(path: Path) -> Path:
    os.mkfifo(path)  # no writer ever comes: a blocking open would wait forever
    return path


@pytest.mark.parametrize(
    ("make", "command", "words"),
    [
        ("data/rows.json", ["check"], "data/rows.json: cannot read (a FIFO (named pipe)"),
        ("data/dataset_info.json", ["check"], "cannot read (a FIFO (named pipe)"),
        ("data/folder/b.json", ["check"], "data/folder/b.json: cannot read (a FIFO"),
        ("epochlint.yaml", ["check", "--config", "epochlint.yaml"], "a FIFO (named pipe)"),
        ("out/trainer_state.json", ["diagnose", "out/trainer_state.json"], "a FIFO (named"),
    ],
)
def test_a_fifo_anywhere_epochlint_reads_is_one_line(
    tmp_path: Path, make: str, command: list[str], words: str
) -> None:
    config = CONFIG.replace("dataset: rows", "dataset: folder") if "folder" in make else CONFIG
    project(tmp_path, {"rows.json": b"[]"}, config)
    if "folder" in make:
        (tmp_path / "data" / "folder").mkdir()
        (tmp_path / "data" / "folder" / "a.json").write_text("[{}]")
        info = {"folder": {"file_name": "folder"}}
        (tmp_path / "data" / "dataset_info.json").write_text(json.dumps(info))
    path = tmp_path / make
    path.parent.mkdir(exist_ok=True)
    if path.exists():
        path.unlink()
    _fifo(path)
    arguments = [*command, "train.yaml"] if command[0] == "check" else command
    done = run_bounded([EPOCHLINT, *arguments], tmp_path)
    found = [line for line in (done.stdout + done.stderr).splitlines() if words in line]
    assert len(found) == 1, done.stdout[-2000:] + done.stderr
    assert done.returncode in (1, 2)


def test_a_device_as_dataset_is_refused_unread(tmp_path: Path) -> None:
    project(tmp_path, {"rows.txt": None})
    (tmp_path / "data" / "rows.txt").symlink_to("/dev/zero")  # endless
    (tmp_path / "data" / "dataset_info.json").write_text('{"rows": {"file_name": "rows.txt"}}')
    one_finding(check(tmp_path), "EL503", "data/rows.txt: cannot read (a character device")


def test_endless_standard_input_is_read_to_the_limit_only(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as endless:
        done = run_bounded([EPOCHLINT, "--format", "concise", "-"], tmp_path, stdin=endless)
    assert done.returncode == 1
    assert done.stdout.startswith("<stdin>:1:1: EL001 the file is over 2 MB, far larger than")


def test_a_cache_entry_that_is_not_a_small_file_is_ignored(tmp_path: Path) -> None:
    project(tmp_path, {"rows.json": json.dumps([{"instruction": "q", "output": "a"}] * 7).encode()})
    assert "rows 7 (dataset_info.json)" in check(tmp_path).stdout  # writes the cache entry
    (entry,) = (tmp_path / ".cache" / "epochlint" / "rowcounts").iterdir()
    entry.unlink()
    _fifo(entry)
    assert "rows 7 (dataset_info.json)" in check(tmp_path).stdout
    entry.unlink()
    write_big(entry, b"[", b"[", 100, b"")
    assert "rows 7 (dataset_info.json)" in check(tmp_path).stdout


# --- diagnose: linear in the log ------------------------------------------------------------


def _log_entries(steps: int) -> list[dict[str, float]]:
    entries = []
    for step in range(1, steps + 1):
        loss = 2.0 / math.log(step + 2)
        entries.append({"epoch": step / 1000, "grad_norm": 1.0, "learning_rate": 1e-4})
        entries[-1].update({"loss": loss, "step": step})
        if step % 10 == 0:
            entries.append({"epoch": step / 1000, "eval_loss": loss + (step / steps) ** 2})
            entries[-1]["step"] = step
    return entries


@pytest.mark.parametrize("log", ["trainer_state.json", "trainer_log.jsonl"])
def test_diagnose_reads_300_000_steps_in_seconds(tmp_path: Path, log: str) -> None:
    entries = _log_entries(300_000)
    if log == "trainer_state.json":  # as the Trainer writes it
        state = {"log_history": entries, "max_steps": 300_000, "num_train_epochs": 300}
        (tmp_path / log).write_text(json.dumps(state, indent=2, sort_keys=True))
    else:
        with (tmp_path / log).open("w") as stream:
            for entry in entries:
                if "loss" in entry:
                    line = {"current_steps": entry["step"], "total_steps": 300_000}
                    line.update(loss=entry["loss"], lr=1e-4, epoch=entry["epoch"])
                    stream.write(json.dumps(line) + "\n")
    del entries
    done = run_bounded([EPOCHLINT, "diagnose", log], tmp_path)
    assert done.stdout.startswith(f"{log}: 300000 steps, 300000 train losses"), done.stdout


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"log_history": ' + "[" * 100_000 + "]" * 100_000 + "}", "nests too deeply"),
        ('{"log_history": [{"step": ' + "9" * 5000 + "}]}", "Exceeds the limit (4300 digits)"),
        ('{"log_history": [{"step": 1, "loss": 1}', "trainer_state.json:1:40: not JSON"),
    ],
)
def test_a_log_that_cannot_be_read_is_one_line(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "trainer_state.json").write_text(text)
    done = run_bounded([EPOCHLINT, "diagnose", "trainer_state.json"], tmp_path)
    assert done.returncode == 2
    (line,) = done.error_lines()
    assert line.startswith("epochlint: error: trainer_state.json") and words in line, line


def test_extreme_numbers_in_a_log_are_no_steps(tmp_path: Path) -> None:
    history = [
        {"epoch": 1.0, "loss": 2.0, "step": 10},
        {"epoch": 1.0, "eval_loss": 1.5, "step": 10},
        {"epoch": 1e308, "loss": 1.0, "step": 1e308},  # no Trainer logs this step
        {"epoch": 2.0, "loss": float("inf"), "step": -3},
    ]
    state = {"log_history": history, "max_steps": 10**400, "num_train_epochs": -1}
    (tmp_path / "trainer_state.json").write_text(json.dumps(state))
    done = run_bounded([EPOCHLINT, "diagnose", "trainer_state.json"], tmp_path)
    assert done.stdout.startswith("trainer_state.json: 10 steps, 1 train losses, 1 evaluations")


# --- one line, exit 2 -------------------------------------------------------------------------


def _training_folder(tmp_path: Path) -> Path:
    return project(
        tmp_path, {"rows.json": json.dumps([{"instruction": "q", "output": "a"}] * 100).encode()}
    )


@pytest.mark.parametrize(
    "command",
    [
        ["train.yaml"],  # the console script's fast path
        ["check", "--format", "json", "train.yaml"],
        ["plan", "train.yaml"],
        ["recommend", "train.yaml"],
        ["rule", "--all"],
    ],
)
def test_a_full_disk_is_one_line_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    _training_folder(tmp_path)
    with open("/dev/full", "w") as full:
        done = run_bounded([EPOCHLINT, *command], tmp_path, stdout=full.fileno())
    assert done.returncode == 2
    assert done.error_lines() == ["epochlint: error: No space left on device"]


def test_a_report_file_on_a_full_disk_is_one_line(tmp_path: Path) -> None:
    _training_folder(tmp_path)
    done = run_bounded([EPOCHLINT, "check", "-o", "/dev/full", "train.yaml"], tmp_path)
    assert (done.returncode, done.error_lines()) == (
        2,
        ["epochlint: error: No space left on device"],
    )


@pytest.mark.parametrize("command", [["train.yaml"], ["plan", "train.yaml"], ["rule", "--all"]])
def test_a_closed_pipe_ends_quietly_with_exit_2(tmp_path: Path, command: list[str]) -> None:
    _training_folder(tmp_path)
    done = run_bounded([EPOCHLINT, *command], tmp_path, close_stdout=True)
    assert (done.returncode, done.error_lines()) == (2, [])


BROKEN = """
import sys
from epochlint import engine
from epochlint.entry import main

def broken(*arguments, **options):
    raise RuntimeError("a bug\\nwith a second line")

engine.build_plan = broken
sys.argv = ["epochlint", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("command", [["plan"], ["recommend"], ["check", "--diff"]])
def test_an_internal_error_is_one_line_and_exit_2_never_1(
    tmp_path: Path, command: list[str]
) -> None:
    _training_folder(tmp_path)
    done = run_bounded([sys.executable, "-c", BROKEN, *command, "train.yaml"], tmp_path)
    assert done.returncode == 2
    lines = [line for line in (done.stdout + done.stderr).splitlines() if "RuntimeError" in line]
    assert len(lines) == 1 and "internal error, please report it: RuntimeError: a bug" in lines[0]


# --- recursion and extreme numbers ----------------------------------------------------------

RECURSIVE = {
    "alias.yaml": "stage: sft\na: &a [1, *a]\n",
    "merge.yaml": "stage: sft\nb: &b\n  <<: *b\n",
}


@pytest.mark.parametrize("name", sorted(RECURSIVE))
@pytest.mark.parametrize("command", [["check"], ["plan"], ["recommend"], ["guard", "--"]])
def test_a_recursive_alias_is_one_line_in_every_command(
    tmp_path: Path, name: str, command: list[str]
) -> None:
    (tmp_path / name).write_text(RECURSIVE[name])
    if command[0] == "guard":
        command = [*command, "llamafactory-cli", "train"]
    done = run_bounded([EPOCHLINT, *command, name], tmp_path)
    assert done.returncode in (1, 2)
    words = "an alias refers to the value that contains it"
    found = [line for line in (done.stdout + done.stderr).splitlines() if words in line]
    assert len(found) == 1 and re.search(rf"\b{name}:", found[0]), found


def test_a_recursive_alias_beside_a_log_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "train.yaml").write_text(RECURSIVE["alias.yaml"])
    (tmp_path / "trainer_state.json").write_text('{"log_history": []}')
    done = run_bounded([EPOCHLINT, "diagnose", "."], tmp_path)
    assert done.returncode == 2
    assert done.error_lines() == [
        "epochlint: error: train.yaml:2:4: an alias refers to the value that contains it, so it "
        "never ends (OmegaConf cannot load it either); remove the recursive alias"
    ]


@pytest.mark.parametrize("command", [["check"], ["plan"], ["recommend"], ["check", "--diff"]])
def test_epochs_past_the_largest_float_are_el410(tmp_path: Path, command: list[str]) -> None:
    _training_folder(tmp_path)
    (tmp_path / "train.yaml").write_text(CONFIG.replace("epochs: 3", "epochs: 1.0e308"))
    done = run_bounded([EPOCHLINT, *command, "train.yaml"], tmp_path)
    assert done.returncode in (0, 1)
    if command == ["check"]:
        line = one_finding(done, "EL410", "`num_train_epochs: 1.0e308` is out of range")
        assert line.startswith("train.yaml:9:19: EL410 ")
        assert "times 13 steps per epoch it is past the largest float" in line


def test_negative_epochs_with_val_size_train_no_step(tmp_path: Path) -> None:
    _training_folder(tmp_path)
    config = CONFIG.replace("epochs: 3", "epochs: -1") + "val_size: 0.1\n"
    (tmp_path / "train.yaml").write_text(config)
    done = run_bounded([EPOCHLINT, "plan", "train.yaml"], tmp_path)
    assert re.search(r"total steps +0 = ceil\(-1 epochs x 12\)", done.stdout), done.stdout
    done = check(tmp_path)
    one_finding(done, "EL410", "`num_train_epochs: -1` is out of range")


def test_a_30_digit_dataset_size_is_checked(tmp_path: Path) -> None:
    _training_folder(tmp_path)
    done = check(tmp_path, "--dataset-size", "9" * 30)
    assert "rows 9.99e+29 (--dataset-size)" in done.stdout


def test_a_30_digit_dataset_size_is_planned(tmp_path: Path) -> None:
    _training_folder(tmp_path)
    done = run_bounded([EPOCHLINT, "plan", "--dataset-size", "9" * 30, "train.yaml"], tmp_path)
    assert done.returncode == 0


def test_a_20_digit_max_steps_is_planned(tmp_path: Path) -> None:
    _training_folder(tmp_path)
    config = CONFIG + "max_steps: 99999999999999999999\nval_size: 0.1\n"
    config += "eval_strategy: steps\neval_steps: 10\nlogging_steps: 5\n"
    (tmp_path / "train.yaml").write_text(config)
    done = run_bounded([EPOCHLINT, "plan", "train.yaml"], tmp_path)
    assert done.returncode == 0


@pytest.mark.parametrize("key", ["num_train_epochs", "eval_steps", "warmup_steps", "val_size"])
def test_an_integer_past_the_largest_float_is_el410(tmp_path: Path, key: str) -> None:
    _training_folder(tmp_path)
    config = CONFIG.replace("epochs: 3", "epochs: 1") + f"{key}: 1{'0' * 400}\n"
    config = config.replace("num_train_epochs: 1\n", "") if key == "num_train_epochs" else config
    (tmp_path / "train.yaml").write_text(config + "eval_strategy: steps\n")
    for command in (["check"], ["plan"], ["recommend"], ["check", "--diff"]):
        done = run_bounded([EPOCHLINT, *command, "train.yaml"], tmp_path)
        assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr
    one_finding(check(tmp_path), "EL410", "a number past the largest float cannot schedule")


def test_more_rows_than_a_schedule_can_count_are_unknown(tmp_path: Path) -> None:
    _training_folder(tmp_path)
    (tmp_path / "train.yaml").write_text(f"# epochlint: dataset-size=1{'0' * 400}\n" + CONFIG)
    done = run_bounded([EPOCHLINT, "plan", "train.yaml"], tmp_path)
    assert "rows             unknown: 1e+400 rows (comment) is more than the 1e+100" in done.stdout


def test_an_integer_past_4300_digits_is_el001(tmp_path: Path) -> None:
    _training_folder(tmp_path)
    (tmp_path / "train.yaml").write_text(CONFIG.replace("epochs: 3", "epochs: " + "9" * 5000))
    line = one_finding(check(tmp_path), "EL001", "an integer of more than 4,300 digits")
    assert line.startswith("train.yaml:9:19: EL001 yaml-syntax-error [error] `num_train_epochs`: ")


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("a." * 5000 + "b=1", "a key of 5,001 dotted levels"),
        ("num_train_epochs=" + "9" * 5000, "the value cannot be read (Exceeds the limit"),
    ],
)
def test_a_hostile_override_is_one_line(tmp_path: Path, override: str, words: str) -> None:
    _training_folder(tmp_path)
    done = run_bounded([EPOCHLINT, "check", "train.yaml", override], tmp_path)
    assert done.returncode == 2
    (line,) = [line for line in done.stdout.splitlines() if "error:" in line]
    assert line.startswith("train.yaml: error: `") and words in line and len(line) < 300, line


@pytest.mark.parametrize("value", ["9" * 5000, "\u00b2", "-5", "1e308", "nan"])
def test_a_hostile_directive_count_is_el006(tmp_path: Path, value: str) -> None:
    _training_folder(tmp_path)
    (tmp_path / "train.yaml").write_text(f"# epochlint: dataset-size={value}\n" + CONFIG)
    line = one_finding(check(tmp_path), "EL006", "needs a positive whole number")
    assert line.startswith("train.yaml:1:1: EL006 ")


def test_a_chart_of_1e308_steps_is_drawn(tmp_path: Path) -> None:
    """The learning-rate chart samples the run in whole numbers: (column + 0.5) x 1e308 steps
    overflowed a float into an internal error."""
    project(tmp_path, {"rows.json": json.dumps([{"instruction": "q", "output": "a"}]).encode()})
    (tmp_path / "train.yaml").write_text(CONFIG.replace("epochs: 3\n", "epochs: 1.0e308\n"))
    done = run_bounded([EPOCHLINT, "plan", "train.yaml"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "learning rate" in done.stdout and done.stderr == ""
