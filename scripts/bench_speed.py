"""Benchmark epochlint against yamllint: one config, a whole corpus, and 1,000 configs.

Usage: python scripts/bench_speed.py [--runs 21] [--skip-corpus] [--skip-many]

Both tools run in fresh processes of the same interpreter, paired and interleaved (epochlint,
then yamllint, then epochlint...), so that a noisy machine slows both alike; each target is a
median of per-pair ratios. Targets (issue #9):

- one config: `epochlint check train.yaml` takes at most 0.8x the wall time of `yamllint`;
- every YAML file of ../shared/corpus in one invocation: at least 3x faster than yamllint;
- 1,000 generated configs in one invocation: under 80 MB peak RSS, and linear (the marginal cost
  per file from 500 to 1,000 files at most 1.5x that from 250 to 500).

By default both tools are installed the way a user installs them, with `pip install` into a
fresh virtual environment (this checkout, not in editable mode: an editable install adds an
import hook to every start-up); `--venv DIR` uses an environment that already has both.

Dataset row counting has its own benchmark: scripts/bench_rowcount.py.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_DIR = REPO / "fixtures" / "examples"
SHARED_CORPUS = REPO.parent / "shared" / "corpus"

MAX_ONE_CONFIG_RATIO = 0.8
MIN_CORPUS_SPEEDUP = 3.0
MAX_MANY_RSS_MB = 80.0
MAX_MARGINAL_GROWTH = 1.5

# Runs a console-script entry point, then reports the process's own peak RSS. VmHWM is read in
# the process itself: a child's rusage also counts the parent it was forked from.
PEAK_RSS_WRAPPER = """
import atexit, sys
def _report():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                sys.stderr.write("PEAK_RSS_KB " + line.split()[1] + "\\n")
atexit.register(_report)
module, function = sys.argv[1].split(":")
sys.argv = sys.argv[1:]
getattr(__import__(module, fromlist=[function]), function)()
"""


ROOT = Path(__file__).resolve().parents[1]
# The environment both tools run from: set by main() (a fresh install, or --venv).
BIN = Path(sys.executable).parent


def python() -> str:
    return str(BIN / "python")


def entry_point(name: str) -> str:
    """`module:function` of an installed console script, as its launcher calls it."""
    code = (
        "from importlib import metadata\n"
        f"print(next(iter(metadata.entry_points(group='console_scripts', name={name!r}))).value)"
    )
    done = subprocess.run([python(), "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} is not installed in {BIN.parent}")
    return done.stdout.strip()


def fresh_install(scratch: Path) -> Path:
    """A new virtual environment with this checkout and yamllint, as `pip install` makes it."""
    venv = scratch / "venv"
    print(f"installing epochlint ({ROOT}) and yamllint into a fresh {venv} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(ROOT), "yamllint"], check=True
    )
    return venv / "bin"


@dataclass
class Run:
    seconds: float
    status: int


def tool(name: str) -> str:
    """The console script next to this interpreter, as a user would run it."""
    script = BIN / name
    if not script.exists():
        raise SystemExit(f"{name} is not installed in {BIN.parent}")
    return str(script)


def timed(command: Sequence[str], cwd: Path, env: dict[str, str]) -> Run:
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1 is "found problems", which both tools will
        raise SystemExit(f"{command[0]} failed with exit status {done.returncode} in {cwd}")
    return Run(seconds, done.returncode)


def peak_rss_mb(name: str, arguments: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    command = [python(), "-c", PEAK_RSS_WRAPPER, entry_point(name), *arguments]
    done = subprocess.run(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    for line in done.stderr.splitlines():
        if line.startswith("PEAK_RSS_KB "):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"{name} did not report its peak RSS:\n{done.stderr[-2000:]}")


def paired(
    ours: Sequence[str], theirs: Sequence[str], runs: int, cwd: Path, env: dict[str, str]
) -> tuple[list[float], list[float]]:
    """Interleaved runs, one warm-up each; returns both tools' wall times in seconds."""
    timed(ours, cwd, env)
    timed(theirs, cwd, env)
    ours_seconds, theirs_seconds = [], []
    for index in range(runs):
        # Alternate who goes first, so neither always runs on a cache the other warmed.
        first, second = (ours, theirs) if index % 2 == 0 else (theirs, ours)
        a, b = timed(first, cwd, env).seconds, timed(second, cwd, env).seconds
        ours_seconds.append(a if first is ours else b)
        theirs_seconds.append(b if first is ours else a)
    return ours_seconds, theirs_seconds


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def one_config(runs: int, env: dict[str, str]) -> bool:
    print(f"(a) one config: fixtures/examples/train_lora.yaml, {runs} paired runs")
    ours, theirs = paired(
        [tool("epochlint"), "check", "train_lora.yaml"],
        [tool("yamllint"), "train_lora.yaml"],
        runs,
        EXAMPLE_DIR,
        env,
    )
    ratio = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
    passed = ratio <= MAX_ONE_CONFIG_RATIO
    print(f"    epochlint median {statistics.median(ours) * 1000:7.1f} ms")
    print(f"    yamllint  median {statistics.median(theirs) * 1000:7.1f} ms")
    print(
        f"    ratio epochlint/yamllint (median of pairs) {ratio:.2f} "
        f"(target <= {MAX_ONE_CONFIG_RATIO})  {verdict(passed)}"
    )
    return passed


def corpus_files() -> tuple[Path, list[str]] | None:
    corpus = Path(os.environ.get("EPOCHLINT_CORPUS", SHARED_CORPUS))
    if not corpus.is_dir():
        return None
    files = sorted(
        str(path.relative_to(corpus))
        for pattern in ("*.yaml", "*.yml")
        for path in corpus.rglob(pattern)
    )
    return corpus, files


def whole_corpus(runs: int, env: dict[str, str]) -> bool:
    found = corpus_files()
    if found is None:
        print("(b) corpus: skipped, ../shared/corpus is absent (set EPOCHLINT_CORPUS)")
        return True
    corpus, files = found
    print(f"(b) every YAML file of {corpus} ({len(files)} files), one invocation, {runs} pairs")
    ours, theirs = paired(
        [tool("epochlint"), "check", "--quiet", *files],
        [tool("yamllint"), *files],
        runs,
        corpus,
        env,
    )
    speedup = statistics.median(b / a for a, b in zip(ours, theirs, strict=True))
    passed = speedup >= MIN_CORPUS_SPEEDUP
    print(f"    epochlint median {statistics.median(ours) * 1000:7.1f} ms")
    print(f"    yamllint  median {statistics.median(theirs) * 1000:7.1f} ms")
    print(
        f"    speed-up yamllint/epochlint (median of pairs) {speedup:.1f}x "
        f"(target >= {MIN_CORPUS_SPEEDUP:g}x)  {verdict(passed)}"
    )
    return passed


CONFIG_TEMPLATE = """\
### model
model_name_or_path: meta-llama/Llama-3.1-8B-Instruct
trust_remote_code: true

### method
stage: sft
do_train: true
finetuning_type: {method}
lora_rank: {rank}
lora_target: all

### dataset
dataset: {dataset}
template: llama3
cutoff_len: {cutoff}
max_samples: {max_samples}
preprocessing_num_workers: 16

### output
output_dir: saves/run-{index}
logging_steps: {logging}
save_steps: {save}
plot_loss: true
overwrite_output_dir: true
report_to: none  # no tracker on the cluster

### train
per_device_train_batch_size: {batch}
gradient_accumulation_steps: {accumulation}
learning_rate: {lr}
num_train_epochs: {epochs}
lr_scheduler_type: cosine
warmup_ratio: 0.1
bf16: true

### eval
val_size: 0.1
per_device_eval_batch_size: 1
eval_strategy: steps
eval_steps: {save}
"""


def write_configs(folder: Path, count: int) -> list[str]:
    """`count` varied LLaMA-Factory configs sharing one local dataset, like a sweep folder."""
    data = folder / "data"
    if not data.exists():
        data.mkdir(parents=True)
        rows = [f'{{"instruction": "q{n}", "input": "", "output": "a{n}"}}' for n in range(3000)]
        (data / "sweep.json").write_text("[\n" + ",\n".join(rows) + "\n]\n")
        (data / "dataset_info.json").write_text('{"sweep": {"file_name": "sweep.json"}}\n')
    rng = random.Random(count)
    names = []
    for index in range(count):
        name = f"sweep_{count}_{index:04d}.yaml"
        text = CONFIG_TEMPLATE.format(
            index=index,
            method=rng.choice(["lora", "lora", "full", "freeze"]),
            rank=rng.choice([8, 16, 64]),
            dataset=rng.choice(["sweep", "sweep", "sweep_typo"]),
            cutoff=rng.choice([1024, 2048, 4096]),
            max_samples=rng.choice([1000, 100000]),
            logging=rng.choice([1, 10, 50]),
            save=rng.choice([100, 250, 500]),
            batch=rng.choice([1, 2, 4, 8]),
            accumulation=rng.choice([1, 4, 8]),
            lr=rng.choice(["1.0e-4", "5e-5", "2.0e-4", "1e-3", "'1e-4'"]),
            epochs=rng.choice(["1.0", "3.0", "5", "10.0"]),
        )
        (folder / name).write_text(text)
        names.append(name)
    return names


def many_configs(env: dict[str, str]) -> bool:
    print("(c) generated configs in one invocation: wall time, peak RSS, linearity")
    passed = True
    with tempfile.TemporaryDirectory(prefix="epochlint-bench-many-") as scratch:
        folder = Path(scratch)
        seconds: dict[int, float] = {}
        for count in (250, 500, 1000):
            names = write_configs(folder, count)
            arguments = ["check", "--quiet", *names]
            timed([tool("epochlint"), *arguments], folder, env)  # warms the row-count cache
            seconds[count] = statistics.median(
                timed([tool("epochlint"), *arguments], folder, env).seconds for _ in range(3)
            )
            rss = peak_rss_mb("epochlint", arguments, folder, env)
            line = (
                f"    {count:>5} configs: epochlint {seconds[count]:6.2f} s, peak RSS {rss:5.1f} MB"
            )
            if count == 1000:
                theirs = timed([tool("yamllint"), *names], folder, env).seconds
                rss_ok = rss < MAX_MANY_RSS_MB
                passed &= rss_ok
                line += f"; yamllint {theirs:6.2f} s (target RSS < {MAX_MANY_RSS_MB:g} MB)"
                line += f"  {verdict(rss_ok)}"
            print(line)
        early = (seconds[500] - seconds[250]) / 250
        late = (seconds[1000] - seconds[500]) / 500
        growth = late / early if early > 0 else 1.0
        linear = growth <= MAX_MARGINAL_GROWTH
        passed &= linear
        print(
            f"    marginal cost per file: {early * 1000:.2f} ms (250->500), "
            f"{late * 1000:.2f} ms (500->1000), growth {growth:.2f} "
            f"(target <= {MAX_MARGINAL_GROWTH})  {verdict(linear)}"
        )
    return passed


def import_profile(env: dict[str, str], top: int) -> None:
    """The slowest top-level imports of one `epochlint check`, from `python -X importtime`."""
    command = [python(), "-X", "importtime", "-c", PEAK_RSS_WRAPPER, entry_point("epochlint")]
    done = subprocess.run(
        [*command, "check", "train_lora.yaml"],
        cwd=EXAMPLE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    rows: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        _, cumulative, name = line.split("|")
        if not name.startswith("  "):  # only top-level imports: the tree under them is summed
            rows.append((int(cumulative), name.strip()))
    total = sum(cumulative for cumulative, _ in rows)
    print(
        f"-X importtime, one `epochlint check` (top-level imports, {total / 1000:.1f} ms in all):"
    )
    for cumulative, name in sorted(rows, reverse=True)[:top]:
        print(f"    {cumulative / 1000:7.1f} ms  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="paired runs per comparison")
    parser.add_argument("--skip-corpus", action="store_true", help="skip the corpus comparison")
    parser.add_argument("--skip-many", action="store_true", help="skip the 1,000-config run")
    parser.add_argument(
        "--venv", type=Path, help="use this environment (with epochlint and yamllint installed)"
    )
    arguments = parser.parse_args()
    passed = True
    global BIN
    with tempfile.TemporaryDirectory(prefix="epochlint-bench-cache-") as cache:
        BIN = arguments.venv / "bin" if arguments.venv else fresh_install(Path(cache))
        # A private cache: the first run counts the dataset rows, the rest read the cache.
        env = {**os.environ, "XDG_CACHE_HOME": cache, "NO_COLOR": "1"}
        env.pop("GITHUB_ACTIONS", None)
        # An installed epochlint runs from bytecode (pip compiles it); an editable checkout with
        # PYTHONDONTWRITEBYTECODE would recompile every module on every run. Keep the bytecode
        # out of the working tree.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(cache, "pycache")
        passed &= one_config(arguments.runs, env)
        if not arguments.skip_corpus:
            passed &= whole_corpus(max(arguments.runs // 4, 3), env)
        if not arguments.skip_many:
            passed &= many_configs(env)
        import_profile(env, top=12)
    print("overall:", verdict(passed))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
