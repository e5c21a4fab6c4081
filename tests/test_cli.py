"""The command line as a user runs it: commands, options, formats and exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CORPUS

from epochlint.cli import main

CLEAN = """\
model_name_or_path: meta-llama/Llama-3.1-8B-Instruct
stage: sft
do_train: true
finetuning_type: lora
dataset: my_data
per_device_train_batch_size: 4
gradient_accumulation_steps: 2
learning_rate: 1.0e-4
num_train_epochs: 3
bf16: true
logging_steps: 10
"""
WARNED = CLEAN.replace("num_train_epochs: 3", "num_train_epochs: 10")
BROKEN = CLEAN.replace("learning_rate: 1.0e-4", "learning_rate: 1.0e-4\nnum_train_epoch: 3")


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), input=input, env=env)


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    for name, text in {"clean.yaml": CLEAN, "warned.yaml": WARNED, "broken.yaml": BROKEN}.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_exit_codes(configs: Path) -> None:
    assert run(str(configs / "clean.yaml"), "--dataset-size", "3000").exit_code == 0
    assert run(str(configs / "warned.yaml"), "--dataset-size", "3000").exit_code == 1
    assert run(str(configs / "broken.yaml"), "--dataset-size", "3000").exit_code == 1
    assert run(str(configs / "nope.yaml")).exit_code == 2
    assert run("--format", "nonsense", str(configs / "clean.yaml")).exit_code == 2


def test_plain_epochlint_and_check_are_the_same(configs: Path) -> None:
    plain = run(str(configs / "warned.yaml"), "--dataset-size", "3000")
    explicit = run("check", str(configs / "warned.yaml"), "--dataset-size", "3000")
    assert plain.output == explicit.output
    assert "EL201 too-many-epochs [warning]" in plain.output


def test_human_report_shows_source_line_marker_fix_and_summary(
    configs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(configs)
    out = run("warned.yaml", "--dataset-size", "3000", env={"COLUMNS": "80"}).output
    assert out == (
        "warned.yaml:9:19: EL201 too-many-epochs [warning]\n"
        "  `num_train_epochs: 10` is above the 2-6 epochs that even published recipes use\n"
        "  for LoRA on 3,000 rows (medium)\n"
        "  |\n"
        "9 | num_train_epochs: 10\n"
        "  |                   ^^\n"
        "  = note: 3,750 steps that will memorise the data; use 5 (the guide recommends\n"
        "    3-5), and enable early stopping (EL406). To keep it on purpose, add\n"
        "    `# epochlint: disable=EL201` above the line, or set\n"
        "    `guidelines.epochs.lora.medium` in the configuration\n"
        "  = fix available (suggested): set `num_train_epochs: 5`\n"
        "\n"
        "warned.yaml:9:19: EL406 no-early-stopping [warning] 10 epochs with no evaluation\n"
        "  |\n"
        "9 | num_train_epochs: 10\n"
        "  |                   ^^\n"
        "  = note: overfitting (train loss falling while eval loss rises) goes unseen and\n"
        "    nothing stops the run at its best point; hold out data (`val_size: 0.1`),\n"
        "    evaluate every epoch and stop early (`early_stopping_steps: 2`)\n"
        "  = fix available (suggested):\n"
        "    set `val_size: 0.1`, set `eval_strategy: epoch`, set `save_strategy: epoch`,\n"
        "    set `load_best_model_at_end: true`, set `early_stopping_steps: 2`\n"
        "\n"
        "warned.yaml (LLaMA-Factory config): plan: rows 3,000 (--dataset-size) · GPUs 1\n"
        "  effective batch 8 · steps/epoch 375 · total steps 3,750 · epochs 10 · warmup 0\n"
        "\n"
        "Found 0 errors, 2 warnings, 0 info in 1 file. 2 fixable with `epochlint --fix`\n"
    )


def test_a_wide_terminal_keeps_the_headline_on_the_finding_line(configs: Path) -> None:
    out = run(str(configs / "warned.yaml"), "--dataset-size", "3000", env={"COLUMNS": "200"})
    first = out.output.splitlines()[0]
    assert first == (
        f"{configs / 'warned.yaml'}:9:19: EL201 too-many-epochs [warning] `num_train_epochs: "
        "10` is above the 2-6 epochs that even published recipes use for LoRA on 3,000 rows "
        "(medium)"
    )


@pytest.mark.parametrize("corpus", ["llamafactory", "axolotl", "trl"])
def test_at_80_columns_only_source_lines_and_the_path_are_wider(
    corpus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS / corpus)
    out = run("--num-gpus", "8", "--verbose", env={"COLUMNS": "80"}).output
    assert "EL" in out
    for line in out.splitlines():
        without_path = re.sub(r"^\S+\.ya?ml", "", line)
        is_source = re.match(r"\d+ \| ", line) is not None
        one_word = re.fullmatch(r"\s*(= note: )?\S+/\S+", line) is not None  # a long path
        assert len(without_path) <= 80 or is_source or one_word, line


def test_clean_run_says_so(configs: Path) -> None:
    result = run(str(configs / "clean.yaml"), "--dataset-size", "3000")
    assert result.output == "All checks passed! (1 file)\n"


def test_json_report_shape(configs: Path) -> None:
    result = run(
        "--format",
        "json",
        str(configs / "warned.yaml"),
        "--dataset-size",
        "3000",
        "--num-gpus",
        "2",
    )
    report = json.loads(result.output)
    assert report["version"] == 1
    (entry,) = report["files"]
    assert entry["path"] == str(configs / "warned.yaml")
    assert entry["dialect"] == "llamafactory"
    plan = entry["plan"]
    assert {
        k: plan[k]
        for k in (
            "dataset_rows",
            "world_size",
            "per_device_batch",
            "gradient_accumulation",
            "effective_batch",
            "steps_per_epoch",
            "total_steps",
            "epochs",
            "warmup_steps",
        )
    } == {
        "dataset_rows": 3000,
        "world_size": 2,
        "per_device_batch": 4,
        "gradient_accumulation": 2,
        "effective_batch": 16,
        "steps_per_epoch": 188,
        "total_steps": 1880,
        "epochs": 10,
        "warmup_steps": 0,
    }
    first = entry["diagnostics"][0]
    assert set(first) >= {
        "rule",
        "name",
        "severity",
        "message",
        "line",
        "column",
        "end_line",
        "end_column",
        "fix",
    }
    assert (first["rule"], first["severity"], first["line"], first["column"]) == (
        "EL201",
        "warning",
        9,
        19,
    )
    assert first["fix"]["edits"] == [{"op": "set", "key": "num_train_epochs", "value": 5}]
    assert first["fix"]["safety"] == "suggested"


def test_unknown_numbers_are_null(configs: Path) -> None:
    report = json.loads(run("--format", "json", str(configs / "clean.yaml")).output)
    plan = report["files"][0]["plan"]
    assert plan["dataset_rows"] is None and plan["total_steps"] is None
    assert plan["effective_batch"] == 8


def test_stdin_with_a_filename() -> None:
    result = run(
        "-", "--stdin-filename", "configs/train.yaml", "--dataset-size", "3000", input=WARNED
    )
    assert result.output.startswith("configs/train.yaml:9:19: EL201")
    assert run("-", input=WARNED, env={}).output.startswith("<stdin>:")


def test_colour_only_on_request_and_never_with_no_color(configs: Path) -> None:
    path = str(configs / "warned.yaml")
    assert "\x1b[" not in run(path).output  # not a terminal
    assert "\x1b[" in run(path, "--color", "always").output
    assert "\x1b[" not in run(path, "--color", "auto", env={"NO_COLOR": "1"}).output


def test_select_and_ignore(configs: Path) -> None:
    path = str(configs / "broken.yaml")
    assert "EL101" not in run(path, "--ignore", "EL1").output
    selected = run(path, "--select", "EL101", "--dataset-size", "3000").output
    assert "EL101 unknown-key" in selected and "EL201" not in selected


def test_a_mistyped_rule_id_is_an_error(configs: Path) -> None:
    result = run(str(configs / "clean.yaml"), "--select", "EL9999")
    assert result.exit_code == 2
    assert "EL9999 matches no rule" in result.output


def test_rule_documentation() -> None:
    result = run("rule", "EL201")
    assert result.exit_code == 0
    for section in (
        "# EL201 too-many-epochs",
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
        "## Fix safety",
        "Default severity: warning. Fix: suggested.",
    ):
        assert section in result.output
    listing = run("rule", "--all", env={"COLUMNS": "200"}).output.splitlines()
    assert any(line.startswith("EL001  yaml-syntax-error") for line in listing)
    assert any(line.startswith("EL507  max-samples-truncates") for line in listing)
    assert listing[0].endswith(
        "error    The file is not valid YAML, so the trainer cannot read it."
    )
    narrow = run("rule", "--all", env={"COLUMNS": "80"}).output.splitlines()
    assert narrow[:2] == [
        "EL001  yaml-syntax-error                error",
        "       The file is not valid YAML, so the trainer cannot read it.",
    ]
    assert all(len(line) <= 80 for line in narrow)
    assert run("rule", "EL999").exit_code == 2


def test_the_installed_console_script_runs(configs: Path) -> None:
    script = Path(sys.executable).with_name("epochlint")
    if not script.exists():
        pytest.skip("the epochlint console script is not installed next to this Python")
    result = subprocess.run(
        [str(script), str(configs / "warned.yaml"), "--dataset-size", "3000"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "EL201 too-many-epochs" in result.stdout
    assert result.stderr == ""


def test_the_readme_lists_every_rule() -> None:
    from epochlint.rules import all_rules

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for rule in all_rules():
        assert f"| {rule.code} | {rule.name}" in readme, f"README's rule table lacks {rule.code}"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--nope"], "No such option '--nope'"),
        (["plan"], "Missing argument 'PATH'."),
        (["check", "--transformers-version", "x", "a.yaml"], "Invalid value for"),
        (["recommend", "--diff"], "--diff shows what --apply would change"),
    ],
)
def test_a_usage_error_is_one_line(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2
    assert len(result.output.splitlines()) == 1, result.output
    assert result.output.startswith(f"epochlint: error: {message}")
    assert "--help`)" in result.output


def test_diff_is_coloured_on_a_terminal_and_plain_otherwise(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("model_name_or_path: m\nstage: sft\nlr: 1.0e-4\nnum_train_epochs: 3\n")
    arguments = ["--diff", "--select", "EL101", str(path)]
    plain = CliRunner().invoke(main, arguments).output
    coloured = CliRunner().invoke(main, [*arguments, "--color", "always"], color=True).output
    assert "\x1b[" not in plain
    assert "-lr: 1.0e-4\n" in plain and "+learning_rate: 1.0e-4\n" in plain
    assert "\x1b[31m-lr: 1.0e-4\x1b[0m\n" in coloured
    assert "\x1b[32m+learning_rate: 1.0e-4\x1b[0m\n" in coloured
    assert f"\x1b[1m--- a/{path}\x1b[0m\n" in coloured


def test_json_keeps_the_whole_message_and_gives_the_detail_apart(configs: Path) -> None:
    out = run("--format", "json", str(configs / "warned.yaml"), "--dataset-size", "3000").output
    finding = json.loads(out)["files"][0]["diagnostics"][0]
    headline = (
        "`num_train_epochs: 10` is above the 2-6 epochs that even published recipes use for "
        "LoRA on 3,000 rows (medium)"
    )
    assert finding["message"].startswith(headline + ": 3,750 steps that will memorise the data")
    assert finding["detail"] == finding["message"][len(headline) + 2 :]
    assert list(finding)[:5] == ["rule", "name", "severity", "message", "detail"]


def test_shell_completion_offers_the_commands_and_the_options() -> None:
    epochlint = str(Path(sys.executable).parent / "epochlint")

    def complete(words: str) -> str:
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
            "_EPOCHLINT_COMPLETE": "bash_complete",
        }
        done = subprocess.run(
            [epochlint], env=environment, capture_output=True, text=True, timeout=60
        )
        return done.stdout

    assert complete("epochlint pl") == "plain,plan\n"
    assert "plain,--select" in complete("epochlint check --sel")
