"""Record what epochlint says about every shared corpus config, to compare two versions.

    python scripts/snapshot_outputs.py OUT.json [--epochlint .venv/bin/epochlint]
    python scripts/snapshot_outputs.py --compare BEFORE.json AFTER.json

For each YAML file of ../shared/corpus (or $EPOCHLINT_CORPUS) it keeps the findings of `check`
(JSON report), the `plan --format json` output, and the `--diff` and `--diff --only-safe` output.
LLaMA-Factory files are checked from the LLaMA-Factory folder, as `llamafactory-cli train` runs.
A behaviour-preserving change (a restructuring) must leave the snapshot identical.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("EPOCHLINT_CORPUS", ROOT.parent / "shared" / "corpus"))
PINNED = ["--transformers-version", "5.8.0"]


def _run(
    epochlint: str, args: list[str], cwd: Path, cache: str
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CACHE_HOME=cache, NO_COLOR="1", COLUMNS="100")
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [epochlint, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def _groups() -> list[tuple[Path, list[Path]]]:
    """(folder to run from, files) per corpus."""
    groups = []
    for corpus in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        files = sorted(
            p for p in corpus.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
        )
        groups.append((corpus, files))
    return groups


def snapshot(epochlint: str) -> dict[str, object]:
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as cache:
        for folder, files in _groups():
            names = [str(f.relative_to(folder)) for f in files]
            report = _run(epochlint, ["check", "--format", "json", *PINNED, *names], folder, cache)
            try:
                found = json.loads(report.stdout)
            except json.JSONDecodeError:
                found = {"unparsed": report.stdout, "stderr": report.stderr}
            out[f"{folder.name}:check"] = {"exit": report.returncode, "report": found}
            for flags in (["--diff"], ["--diff", "--only-safe"]):
                diff = _run(epochlint, ["check", *flags, *PINNED, *names], folder, cache)
                out[f"{folder.name}:{' '.join(flags)}"] = {
                    "exit": diff.returncode,
                    "stdout": diff.stdout,
                }
            for name in names:
                plan = _run(epochlint, ["plan", "--format", "json", *PINNED, name], folder, cache)
                out[f"{folder.name}/{name}:plan"] = {
                    "exit": plan.returncode,
                    "stdout": plan.stdout,
                    "stderr": plan.stderr,
                }
    return out


def compare(before: dict[str, object], after: dict[str, object]) -> int:
    changed = 0
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) != after.get(key):
            changed += 1
            print(f"differs: {key}")
    print(f"{changed} of {len(before.keys() | after.keys())} outputs differ")
    return 1 if changed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?")
    parser.add_argument("--epochlint", default=str(ROOT / ".venv" / "bin" / "epochlint"))
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        before, after = (json.loads(Path(p).read_text()) for p in args.compare)
        return compare(before, after)
    if not args.out:
        parser.error("name the output file, or use --compare")
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS} (set EPOCHLINT_CORPUS)", file=sys.stderr)
        return 2
    Path(args.out).write_text(json.dumps(snapshot(args.epochlint), indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
