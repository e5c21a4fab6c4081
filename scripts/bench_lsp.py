"""Benchmark `epochlint server`: diagnostics latency after an edit, and memory over many edits.

Run from the project root, with the lsp extra installed:

    python scripts/bench_lsp.py [--edits 1000] [--server "epochlint server"]

It starts the server as an editor does (stdio), opens a copy of the quick-start example (with
its data, so N comes from dataset_info.json), warms up, then makes edits one at a time, as a
person types: change the epochs, the learning rate, add a misspelt key and take it out again,
break the YAML half-way through a value and repair it. After each edit it waits for the
diagnostics of that document version and records the time from sending the change to
receiving them. The server's resident memory (VmRSS) is sampled every 100 edits.

Targets (issue #17): median latency within 50 ms on a warm server; memory flat over 1,000
edits (the last sample within 5 MB of the one after the first 100 edits).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, BinaryIO

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "examples"
LATENCY_TARGET_MS = 50.0
MEMORY_GROWTH_TARGET_MB = 5.0


class Connection:
    """A minimal JSON-RPC client over the server's standard input and output."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.input: BinaryIO = self.process.stdin
        self.output: BinaryIO = self.process.stdout
        self.next_id = 0

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.input.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.input.flush()

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.receive()
            if message.get("id") == self.next_id and "method" not in message:
                return message.get("result")

    def receive(self) -> dict[str, Any]:
        length = 0
        while True:
            line = self.output.readline()
            if not line:
                raise RuntimeError("the server stopped")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        message: dict[str, Any] = json.loads(self.output.read(length))
        if "id" in message and "method" in message:  # a request from the server: accept it
            self.send({"id": message["id"], "result": None})
        return message

    def diagnostics_for(self, uri: str, version: int) -> list[Any]:
        while True:
            message = self.receive()
            if message.get("method") != "textDocument/publishDiagnostics":
                continue
            params = message["params"]
            if params["uri"] == uri and params.get("version") == version:
                diagnostics: list[Any] = params["diagnostics"]
                return diagnostics

    def rss_mb(self) -> float:
        with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def edits(text: str) -> list[str]:
    """Texts a person produces while editing the config, in order, cycling back to the start."""
    epochs = [text.replace("num_train_epochs: 10", f"num_train_epochs: {n}") for n in (3, 4, 8)]
    rate = text.replace("learning_rate: 1.0e-4", "learning_rate: 2.0e-4")
    typo = text.replace("bf16: true\n", "bf16: true\nwarmup_step: 10\n")
    half_typed = text.replace("lr_scheduler_type: cosine", "lr_scheduler_type: [cos")
    return [*epochs, rate, typo, half_typed, text]


def run(command: list[str], count: int) -> int:
    folder = Path(tempfile.mkdtemp(prefix="bench-lsp-"))
    try:
        workspace = folder / "project"
        shutil.copytree(EXAMPLE, workspace)
        (workspace / ".git").mkdir()
        config = workspace / "train_lora.yaml"
        uri = config.as_uri()
        text = config.read_text(encoding="utf-8")
        texts = edits(text)
        connection = Connection(command, workspace)
        try:
            connection.request(
                "initialize",
                {
                    "processId": os.getpid(),
                    "rootUri": workspace.as_uri(),
                    "capabilities": {},
                },
            )
            connection.notify("initialized", {})
            version = 1
            connection.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
            )
            found = connection.diagnostics_for(uri, version)
            print(f"opened {config.name}: {len(found)} diagnostics")

            def edit(new_text: str) -> float:
                nonlocal version
                version += 1
                started = time.perf_counter()
                connection.notify(
                    "textDocument/didChange",
                    {
                        "textDocument": {"uri": uri, "version": version},
                        "contentChanges": [{"text": new_text}],
                    },
                )
                connection.diagnostics_for(uri, version)
                return (time.perf_counter() - started) * 1000

            for index in range(50):  # warm up
                edit(texts[index % len(texts)])
            latencies: list[float] = []
            memory: list[tuple[int, float]] = [(0, connection.rss_mb())]
            for index in range(1, count + 1):
                latencies.append(edit(texts[index % len(texts)]))
                if index % 100 == 0:
                    memory.append((index, connection.rss_mb()))
        finally:
            connection.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    median = statistics.median(latencies)
    p90 = statistics.quantiles(latencies, n=10)[-1]
    print(f"{count} edits, diagnostics after each (ms): median {median:.1f}, 90th {p90:.1f}, ")
    print(f"  min {min(latencies):.1f}, max {max(latencies):.1f}")
    print("server memory (VmRSS, MB) after N edits:")
    print("  " + ", ".join(f"{n}: {rss:.1f}" for n, rss in memory))
    baseline = memory[1][1] if len(memory) > 1 else memory[0][1]
    growth = memory[-1][1] - baseline
    latency_ok = median <= LATENCY_TARGET_MS
    memory_ok = growth <= MEMORY_GROWTH_TARGET_MB
    print(
        f"latency: median {median:.1f} ms <= {LATENCY_TARGET_MS:.0f} ms: "
        f"{'PASS' if latency_ok else 'FAIL'}"
    )
    print(
        f"memory: {growth:+.1f} MB from edit 100 to edit {memory[-1][0]} "
        f"(<= {MEMORY_GROWTH_TARGET_MB:.0f} MB): {'PASS' if memory_ok else 'FAIL'}"
    )
    return 0 if latency_ok and memory_ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=1000, help="edits to measure (default 1000)")
    default = str(Path(sys.executable).parent / "epochlint") + " server"
    parser.add_argument("--server", default=default, help=f"server command (default: {default})")
    arguments = parser.parse_args()
    sys.exit(run(shlex.split(arguments.server), arguments.edits))


if __name__ == "__main__":
    main()
