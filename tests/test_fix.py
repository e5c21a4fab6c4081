"""`epochlint --fix` and `--diff`: the right values, and nothing else in the file disturbed."""

from __future__ import annotations

import ast
import difflib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import LLAMAFACTORY, lint, rules_of, settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from epochlint.cli import main
from epochlint.fix.planner import fix_source
from epochlint.reading.source import decode, read_file

omegaconf = pytest.importorskip("omegaconf", reason="omegaconf is a test dependency")
ruamel_yaml = pytest.importorskip("ruamel.yaml", reason="ruamel.yaml is a runtime dependency")

MISTAKE_3 = """\
### model
model_name_or_path: meta-llama/Llama-3.1-8B-Instruct  # the base model
# epochlint: dataset-size=10000

### method
stage: sft
do_train: true
finetuning_type: lora

### dataset
dataset: my_data   # 10,000 rows

### train
per_device_train_batch_size: 1
gradient_accumulation_steps: 1  # raise me
learning_rate: 1.0e-4
num_train_epochs: 2
logging_steps: 10
bf16: true

### eval
# val_size: 0.1
# eval_strategy: steps
"""

CHATBOT = """\
model_name_or_path: meta-llama/Llama-3.1-8B-Instruct
stage: sft
do_train: true
finetuning_type: lora
dataset: chat
# epochlint: dataset-size=3000

### train
per_device_train_batch_size: 2
learning_rate: 1e-4
num_train_epochs: 10
logging_steps: 10
bf16: true
save_steps: 500
"""


def fix(path: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["--fix", str(path), "--transformers-version", "5.8.0", *args])


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(keepends=True), after.splitlines(keepends=True)):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def test_mistake_3_ends_with_the_rulebooks_accumulation_and_steps(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(MISTAKE_3)
    result = fix(path, "--ignore", "EL202")
    assert result.exit_code == 0, result.output
    assert "Fixed 1 problem, 0 remaining" in result.output
    fixed = path.read_text()
    assert changed_lines(MISTAKE_3, fixed) == (
        ["gradient_accumulation_steps: 1  # raise me\n"],
        ["gradient_accumulation_steps: 16  # raise me\n"],
    )
    plan = lint(fixed).plan
    assert plan is not None and (plan.effective_batch, plan.total_steps) == (16, 1250)


def test_fix_leaves_info_findings_alone_and_info_fixes_applies_them(tmp_path: Path) -> None:
    # 2 epochs of LoRA on 10,000 rows: below the recommended 3-5, inside the tolerated 2-6, so
    # EL202 is info and --fix does not change the epochs; --info-fixes raises them.
    path = tmp_path / "train.yaml"
    path.write_text(MISTAKE_3)
    assert fix(path).exit_code == 0
    fixed = path.read_text()
    assert "gradient_accumulation_steps: 16  # raise me\n" in fixed
    assert "num_train_epochs: 2\n" in fixed
    assert lint(fixed).plan.total_steps == 1250  # type: ignore[union-attr]
    path.write_text(MISTAKE_3)
    assert fix(path, "--info-fixes").exit_code == 0
    fixed = path.read_text()
    assert "num_train_epochs: 3\n" in fixed
    assert lint(fixed).plan.total_steps == 1875  # type: ignore[union-attr]


def test_chatbot_overfit_gets_fewer_epochs_and_early_stopping(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(CHATBOT)
    result = fix(path)
    assert result.exit_code == 0, result.output
    fixed = path.read_text()
    data = omegaconf.OmegaConf.to_container(omegaconf.OmegaConf.create(fixed))
    assert data["num_train_epochs"] == 5
    assert data["val_size"] == 0.1
    assert data["eval_strategy"] == data["save_strategy"] == "epoch"
    assert data["load_best_model_at_end"] is True and data["early_stopping_steps"] == 2
    assert "save_steps" not in data  # ignored under the epoch strategy, so removed (EL412)
    assert data["learning_rate"] == 1e-4  # `1e-4` is a float for LLaMA-Factory: left alone
    assert "learning_rate: 1e-4\n" in fixed
    assert rules_of(lint(fixed)) == []


def test_diff_prints_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(MISTAKE_3)
    result = CliRunner().invoke(main, ["--diff", str(path), "--ignore", "EL202"])
    assert result.exit_code == 1
    assert path.read_text() == MISTAKE_3
    assert f"--- a/{path}" in result.output and f"+++ b/{path}" in result.output
    assert "-gradient_accumulation_steps: 1  # raise me" in result.output
    assert "+gradient_accumulation_steps: 16  # raise me" in result.output
    clean = CliRunner().invoke(main, ["--diff", str(path), "--select", "EL101"])
    assert clean.exit_code == 0


def test_only_safe_leaves_suggested_fixes(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(CHATBOT.replace("learning_rate", "lr"))
    result = fix(path, "--only-safe")
    fixed = path.read_text()
    assert "learning_rate: 1e-4\n" in fixed  # EL101 rename: safe
    assert "num_train_epochs: 10\n" in fixed  # EL201: suggested, left alone
    assert "with a fix that was not applied" in result.output


def test_stdin_is_a_filter() -> None:
    result = CliRunner().invoke(main, ["--fix", "-", "--ignore", "EL202"], input=MISTAKE_3)
    # CliRunner mixes the two streams; the fixed YAML comes first, the report after it.
    assert result.stdout.startswith(MISTAKE_3.replace("steps: 1  #", "steps: 16  #"))
    assert "Fixed 1 problem" in result.output


def test_stdin_that_is_not_text_is_reported_and_passed_on_unchanged() -> None:
    data = b"stage: sft\nnum_train_epochs: 3\x00\n"
    result = CliRunner().invoke(main, ["--fix", "-", "--stdin-filename", "train.yaml"], input=data)
    assert result.exit_code == 1
    assert result.stdout_bytes.startswith(data)  # the filter's output is its input
    assert "train.yaml:2:20: EL001" in result.output
    assert "binary file" in result.output


def test_bom_crlf_missing_final_newline_and_mode_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    original = ("\ufeff" + MISTAKE_3.rstrip("\n")).replace("\n", "\r\n").encode()
    path.write_bytes(original)
    os.chmod(path, 0o640)
    assert fix(path, "--ignore", "EL202").exit_code == 0
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode()) and not data.endswith(b"\n")
    assert b"\n" not in data.replace(b"\r\n", b"")  # every newline still CRLF
    assert data == original.replace(b"steps: 1  #", b"steps: 16  #")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real.yaml"
    target.write_text(MISTAKE_3)
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    assert fix(link, "--ignore", "EL202").exit_code == 0
    assert link.is_symlink()
    assert "gradient_accumulation_steps: 16" in target.read_text()


def test_read_only_file_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(MISTAKE_3)
    os.chmod(path, 0o444)
    result = fix(path, "--ignore", "EL202")
    assert result.exit_code == 2
    assert "read-only; not fixed" in result.output
    assert path.read_text() == MISTAKE_3
    assert [p.name for p in tmp_path.iterdir()] == ["train.yaml"]  # no temporary left behind


def test_a_file_that_does_not_parse_is_never_touched(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    broken = MISTAKE_3 + "  bad: [indent\n"
    path.write_text(broken)
    result = fix(path)
    assert path.read_text() == broken
    assert "EL001" in result.output and result.exit_code == 1


def test_a_file_changed_while_fixing_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from epochlint.commands import fix as fixcommand

    path = tmp_path / "train.yaml"
    path.write_text(MISTAKE_3)
    real_fix_source = fixcommand.fix_source

    def edit_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        outcome = real_fix_source(*args, **kwargs)
        path.write_text(MISTAKE_3 + "# edited by someone else\n")
        return outcome

    monkeypatch.setattr(fixcommand, "fix_source", edit_meanwhile)
    result = fix(path)
    assert result.exit_code == 2
    assert "changed while epochlint was fixing it" in result.output
    assert path.read_text().endswith("# edited by someone else\n")


def corpus_configs() -> list[Path]:
    return sorted(LLAMAFACTORY.rglob("*.yaml"))


def _check_fixed(original: str, fixed: str, edited_keys: set[str]) -> None:
    removed, added = changed_lines(original, fixed)
    for line in removed + added:
        key = line.split(":", 1)[0].strip()
        assert key in edited_keys, f"a line no fix was about changed: {line!r}"
    for line in original.splitlines():
        if line.lstrip().startswith("#"):
            assert line in fixed.splitlines(), f"comment lost: {line!r}"
    expected_py = yaml.safe_load(fixed)
    ruamel_data = ruamel_yaml.YAML(typ="safe", pure=True).load(fixed)
    omega = omegaconf.OmegaConf.to_container(omegaconf.OmegaConf.create(fixed))
    for key in edited_keys & set(omega):
        assert expected_py[key] == ruamel_data[key] == omega[key], key


def test_every_corpus_config_fixes_minimally_and_idempotently(in_llamafactory: Path) -> None:
    fixed_any = 0
    for path in corpus_configs():
        source = read_file(str(path))
        outcome = fix_source(source, settings(), info_fixes=True)  # every fix, info's too
        if outcome.refused:
            assert not outcome.applied, (path, outcome.refused)
            continue
        edited = {e.key for d in outcome.applied for e in d.fix.edits} | {  # type: ignore[union-attr]
            e.new_key
            for d in outcome.applied
            for e in d.fix.edits
            if e.new_key  # type: ignore[union-attr]
        }
        _check_fixed(source.text, outcome.text, edited)
        again = fix_source(decode(outcome.text.encode(), str(path)), settings(), info_fixes=True)
        assert again.text == outcome.text, f"a second --fix changed {path}"
        fixed_any += bool(outcome.applied)
    assert fixed_any >= 20  # the full fine-tuning examples (3 epochs) and more get fixes


KEYS = st.sampled_from(
    [
        "num_train_epochs",
        "learning_rate",
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "warmup_ratio",
        "logging_steps",
        "save_steps",
        "eval_steps",
        "eval_strategy",
        "max_steps",
    ]
)
VALUES = {
    "num_train_epochs": st.sampled_from(["1", "2.5", "3", "10", "20"]),
    "learning_rate": st.sampled_from(["1e-5", "1.0e-4", "5e-3", "'1e-4'", "2e-4"]),
    "per_device_train_batch_size": st.sampled_from(["1", "2", "8"]),
    "gradient_accumulation_steps": st.sampled_from(["1", "4", "16"]),
    "warmup_ratio": st.sampled_from(["0.0", "0.1", "0.5"]),
    "logging_steps": st.sampled_from(["1", "10", "500"]),
    "save_steps": st.sampled_from(["50", "500", "5000"]),
    "eval_steps": st.sampled_from(["7", "100", "1000"]),
    "eval_strategy": st.sampled_from(["steps", "epoch", '"no"']),
    "max_steps": st.sampled_from(["-1", "100", "30000"]),
}


@st.composite
def configs(draw: st.DrawFn) -> str:
    lines = ["model_name_or_path: m", "do_train: true", "dataset: d", "bf16: true"]
    for key in draw(st.lists(KEYS, unique=True, max_size=8)):
        line = f"{key}: {draw(VALUES[key])}"
        if draw(st.booleans()):
            line += "  # note"
        lines.append(line)
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "# a comment", "### section"])))
    rows = draw(st.sampled_from([300, 3000, 30000]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join([f"# epochlint: dataset-size={rows}", *lines]) + newline


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_fixing_generated_configs_is_minimal_and_idempotent(text: str) -> None:
    source = decode(text.encode(), "gen.yaml")
    outcome = fix_source(source, settings(), info_fixes=True)  # every fix, info's too
    if outcome.refused:
        assert not outcome.changed
        return
    edited = {e.key for d in outcome.applied for e in d.fix.edits} | {  # type: ignore[union-attr]
        e.new_key
        for d in outcome.applied
        for e in d.fix.edits
        if e.new_key  # type: ignore[union-attr]
    }
    _check_fixed(text, outcome.text, edited)
    if "\r\n" in text:
        assert "\n" not in outcome.text.replace("\r\n", "")
    again = fix_source(decode(outcome.text.encode(), "gen.yaml"), settings(), info_fixes=True)
    assert again.text == outcome.text
    assert not [d for d in again.result.diagnostics if d.fix is not None] or again.failed  # type: ignore[union-attr]


def test_report_counts_fixed_and_remaining(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(CHATBOT + "fp16: true\n")  # EL303 (fp16 and bf16) has no fix
    result = fix(path)
    assert result.output.splitlines()[-1].startswith("Fixed ")
    assert result.output.splitlines()[-1].endswith("1 remaining (no fix)")
    assert result.exit_code == 1


def test_a_file_ruamel_cannot_represent_is_reported_and_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    # U+2028 ends a line for PyYAML (and the trainer) but not for ruamel.yaml.
    original = MISTAKE_3.replace("bf16: true\n", "bf16: true\u2028seed: 1\n")
    path.write_text(original)
    result = fix(path, "--ignore", "EL202")
    assert path.read_text() == original
    assert ":15:30: EL204 fix not applied: ruamel.yaml cannot represent this file faithfully" in (
        result.output
    )


def _imported_modules(arguments: list[str], cwd: Path) -> list[str]:
    probe = (
        "import sys\n"
        f"sys.argv = ['epochlint', *{arguments!r}]\n"
        "from epochlint.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(repr(sorted(m for m in sys.modules if m.startswith('ruamel'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    return list(ast.literal_eval(done.stderr.splitlines()[-1]))


def test_ruamel_is_imported_only_to_apply_a_fix(tmp_path: Path) -> None:
    (tmp_path / "train.yaml").write_text(MISTAKE_3)
    for arguments in (["check", "train.yaml"], ["train.yaml"], ["plan", "train.yaml"]):
        assert _imported_modules(arguments, tmp_path) == [], arguments
    assert "ruamel.yaml" in _imported_modules(["--fix", "train.yaml"], tmp_path)
    assert "gradient_accumulation_steps: 16" in (tmp_path / "train.yaml").read_text()
