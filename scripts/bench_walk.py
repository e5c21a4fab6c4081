"""Benchmark `epochlint .` over a repository-sized tree: 10,000 YAML files, most of them not
training configs, as in a monorepo (CI workflows, Kubernetes manifests, DeepSpeed and
accelerate configs), with a few training configs among them.

Usage: python scripts/bench_walk.py [--files 10000] [--configs 100] [--runs 3]

Prints the wall time of the walk and the time per file (median of the runs); the target is
under 1 ms a file, so that a whole repository is checked in seconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRAINING = (REPO / "fixtures" / "examples" / "train_lora.yaml").read_text()
OTHERS = (
    "name: ci\non:\n  push:\n    branches: [main]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
    "    steps:\n      - uses: actions/checkout@v5\n      - run: make test\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n"
    "  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n",
    "compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nnum_machines: 1\n"
    "machine_rank: 0\nmixed_precision: bf16\n",
    "zero_optimization:\n  stage: 3\ntrain_micro_batch_size_per_gpu: auto\n"
    "gradient_clipping: 1.0\n",
)
MAX_MS_PER_FILE = 1.0


def make_tree(root: Path, files: int, configs: int) -> None:
    every = max(files // max(configs, 1), 1)
    for index in range(files):
        folder = root / f"part{index % 20}" / f"group{index % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        if index % every == 0 and index // every < configs:
            (folder / f"train_{index}.yaml").write_text(TRAINING)
        else:
            (folder / f"file_{index}.yaml").write_text(OTHERS[index % len(OTHERS)])
    (root / ".git").mkdir()
    (root / ".gitignore").write_text("outputs/\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--configs", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochlint", default=str(Path(sys.executable).parent / "epochlint"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        make_tree(root, args.files, args.configs)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            done = subprocess.run(
                [args.epochlint, "--format", "concise", "."],
                cwd=root,
                capture_output=True,
                text=True,
                check=False,
            )
            times.append(time.perf_counter() - start)
            if done.returncode not in (0, 1):
                print(done.stdout, done.stderr, file=sys.stderr)
                return 2
        checked = sum(1 for line in done.stdout.splitlines() if ":34:19: EL201" in line)
    wall = statistics.median(times)
    per_file = wall * 1000 / args.files
    verdict = "PASS" if per_file <= MAX_MS_PER_FILE else "FAIL"
    print(
        f"{args.files} YAML files ({checked} training configs found of {args.configs}): "
        f"{wall:.2f} s, {per_file:.3f} ms a file (target <= {MAX_MS_PER_FILE} ms)  {verdict}"
    )
    return 0 if verdict == "PASS" and checked == args.configs else 1


if __name__ == "__main__":
    sys.exit(main())
