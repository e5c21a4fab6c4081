"""Benchmark epochlint's row counter against json.load and `wc -l` on large generated datasets.

Usage: python scripts/bench_rowcount.py [--size-mb 1000] [--dir DIR]

Generates (once) an alpaca-like JSON array file and a JSON Lines file of about --size-mb each,
then times every contender in its own subprocess so that its peak RSS can be read from the
child's rusage. Targets: count_rows at least half as fast as the reference and below 100 MB RSS.
Needs epochlint installed in the running interpreter (pip install -e .).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MIN_SPEED_RATIO = 0.5
MAX_RSS_MB = 100.0

WORDS = (
    "the model learns a schedule of steps per epoch with warmup and cosine decay "
    "données entraînement 数据集 学习率 τιμή Schritt 🙂 naïve café"
).split()

PEAK_RSS_HELPER = """
def peak_rss_kb():
    # VmHWM belongs to this program image only; rusage also counts the parent it was forked from.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

COUNT_CHILD = (
    PEAK_RSS_HELPER
    + """
import json, sys, time
from epochlint.facts.rowcount import count_rows
started = time.perf_counter()
rows = count_rows(sys.argv[1])
seconds = time.perf_counter() - started
print(json.dumps({"rows": rows, "seconds": seconds, "peak_rss_kb": peak_rss_kb()}))
"""
)

JSON_LOAD_CHILD = (
    PEAK_RSS_HELPER
    + """
import json, sys, time
started = time.perf_counter()
with open(sys.argv[1], encoding="utf-8") as stream:
    rows = len(json.load(stream))
seconds = time.perf_counter() - started
print(json.dumps({"rows": rows, "seconds": seconds, "peak_rss_kb": peak_rss_kb()}))
"""
)


@dataclass
class Measurement:
    label: str
    rows: int
    seconds: float
    peak_rss_mb: float


def make_row(rng: random.Random) -> dict[str, object]:
    def sentence(low: int, high: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))

    output = sentence(20, 120)
    # Escapes and brackets inside strings are what a naive counter gets wrong.
    if rng.random() < 0.3:
        output += '\n```python\nprint("a[0]", {"k": "v\\\\"})\n```'
    return {
        "instruction": sentence(5, 25),
        "input": "" if rng.random() < 0.6 else sentence(3, 30),
        "output": output,
        "history": [[sentence(2, 8), sentence(2, 8)] for _ in range(rng.randint(0, 2))],
    }


def generate(path: Path, size_bytes: int, as_array: bool) -> None:
    """Write rows until the file reaches size_bytes; skipped when a big enough file exists."""
    if path.exists() and path.stat().st_size >= size_bytes:
        return
    print(f"generating {path} ({size_bytes / 1e6:.0f} MB)...", flush=True)
    rng = random.Random(0)
    temporary = path.with_suffix(path.suffix + ".partial")
    written = 0
    with open(temporary, "w", encoding="utf-8") as stream:
        if as_array:
            stream.write("[\n")
        first = True
        while written < size_bytes:
            batch = [json.dumps(make_row(rng), ensure_ascii=False) for _ in range(2000)]
            separator = ",\n" if as_array else "\n"
            text = ("" if first or not as_array else separator) + separator.join(batch)
            if not as_array:
                text += "\n"
            first = False
            stream.write(text)
            written += len(text.encode("utf-8"))
        if as_array:
            stream.write("\n]\n")
    temporary.replace(path)


def warm_page_cache(path: Path) -> None:
    # Every contender should read from memory, not from disk, or the first one pays for all.
    with open(path, "rb") as stream:
        while stream.read(1 << 24):
            pass


def run_child(label: str, command: list[str], env: dict[str, str] | None = None) -> Measurement:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{label} failed with exit code {process.returncode}")
    if output.lstrip().startswith("{"):
        report = json.loads(output)
        peak_rss_mb = report["peak_rss_kb"] / 1024
        return Measurement(label, int(report["rows"]), float(report["seconds"]), peak_rss_mb)
    # For a foreign program rusage is the only source; this script keeps its own RSS small
    # (generation runs in a subprocess) because a forked child inherits the parent's peak.
    return Measurement(label, int(output.split()[0]), wall, usage.ru_maxrss / 1024)


def count_with_epochlint(path: Path, cache_home: Path, label: str) -> Measurement:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    return run_child(label, [sys.executable, "-c", COUNT_CHILD, str(path)], env)


def report(reference: Measurement, ours: Measurement, warm: Measurement) -> bool:
    for measurement in (reference, ours, warm):
        print(
            f"  {measurement.label:<28} rows={measurement.rows:<10} "
            f"{measurement.seconds:8.2f} s   peak RSS {measurement.peak_rss_mb:8.1f} MB"
        )
    ratio = reference.seconds / ours.seconds
    rows_agree = reference.rows == ours.rows == warm.rows
    passed = ratio >= MIN_SPEED_RATIO and ours.peak_rss_mb < MAX_RSS_MB and rows_agree
    print(
        f"  speed ratio (reference time / count_rows time) = {ratio:.2f} "
        f"(target >= {MIN_SPEED_RATIO}), rows agree: {rows_agree}, "
        f"RSS {ours.peak_rss_mb:.1f} MB (target < {MAX_RSS_MB:.0f})"
    )
    print(f"  {'PASS' if passed else 'FAIL'}")
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=1000.0, help="size of each test file")
    parser.add_argument("--dir", type=Path, help="where to keep the generated files")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    data_dir = arguments.dir or Path(tempfile.gettempdir()) / "epochlint-bench"
    data_dir.mkdir(parents=True, exist_ok=True)
    size_bytes = int(arguments.size_mb * 1_000_000)
    size_tag = f"{arguments.size_mb:g}mb"
    array_path = data_dir / f"alpaca_{size_tag}.json"
    lines_path = data_dir / f"alpaca_{size_tag}.jsonl"
    if arguments.generate_only:
        generate(array_path, size_bytes, as_array=True)
        generate(lines_path, size_bytes, as_array=False)
        return 0
    subprocess.run(
        [sys.executable, __file__, "--generate-only", f"--size-mb={arguments.size_mb}"]
        + [f"--dir={data_dir}"],
        check=True,
    )

    all_passed = True
    with tempfile.TemporaryDirectory(prefix="epochlint-bench-cache-") as scratch:
        for path, reference_label, reference_command in (
            (array_path, "json.load", [sys.executable, "-c", JSON_LOAD_CHILD, str(array_path)]),
            (lines_path, "wc -l", ["wc", "-l", str(lines_path)]),
        ):
            print(f"{path.name} ({path.stat().st_size / 1e6:.0f} MB):")
            warm_page_cache(path)
            reference = run_child(reference_label, reference_command)
            cache_home = Path(scratch) / path.name  # fresh: the first count cannot hit the cache
            ours = count_with_epochlint(path, cache_home, "count_rows (cold cache)")
            warm = count_with_epochlint(path, cache_home, "count_rows (warm cache)")
            all_passed &= report(reference, ours, warm)
    print("overall:", "PASS" if all_passed else "FAIL")
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
