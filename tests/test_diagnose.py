"""`epochlint diagnose`: the committed logs of a real run, hand-made logs in the exact formats
transformers and LLaMA-Factory write, the guide's early-stopping example, --fix and --plot."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from epochlint.run.diagnose import Schedule, diagnose
from epochlint.run.runlog import RunLog, RunLogError, read_run

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "tiny-gpt2"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    code = "from epochlint.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd
    )


def trainer_state(log_history: list[dict[str, object]], max_steps: int) -> str:
    """A trainer_state.json as TrainerState.save_to_json writes it (indent 2, sorted keys)."""
    state = {
        "best_global_step": None,
        "best_metric": None,
        "epoch": log_history[-1]["epoch"],
        "global_step": max_steps,
        "log_history": log_history,
        "max_steps": max_steps,
        "num_train_epochs": 5,
    }
    return json.dumps(state, indent=2, sort_keys=True) + "\n"


def guide_example() -> list[dict[str, object]]:
    """The guide's early-stopping example: eval loss 2.5, 2.3, 2.35, 2.4, 2.42 over five
    epochs of 100 steps, with train loss falling throughout."""
    history: list[dict[str, object]] = []
    train = [2.6, 2.2, 1.9, 1.6, 1.3]
    for epoch, (eval_loss, loss) in enumerate(
        zip([2.5, 2.3, 2.35, 2.4, 2.42], train, strict=True), 1
    ):
        step = epoch * 100
        history.append(
            {
                "epoch": float(epoch),
                "grad_norm": 1.0,
                "learning_rate": 1e-4,
                "loss": loss,
                "step": step,
            }
        )
        history.append(
            {"epoch": float(epoch), "eval_loss": eval_loss, "eval_runtime": 1.0, "step": step}
        )
    return history


def test_guide_example_best_epoch_2_overfits_and_stops_at_5(tmp_path: Path) -> None:
    (tmp_path / "trainer_state.json").write_text(trainer_state(guide_example(), 500))
    result = diagnose(read_run(tmp_path), patience=3)
    assert result.best is not None
    assert (result.best.step, result.best.epoch, result.best.eval_loss) == (200, 2.0, 2.3)
    assert [f.kind for f in result.findings] == ["overfitting"]
    assert result.early_stop is not None and result.early_stop.epoch == 5.0
    assert result.recommended_epochs == 2


def test_guide_example_patience_4_never_stops(tmp_path: Path) -> None:
    (tmp_path / "trainer_state.json").write_text(trainer_state(guide_example(), 500))
    result = diagnose(read_run(tmp_path), patience=4)
    assert result.early_stop is None
    assert "overfitting" not in [f.kind for f in result.findings]


def test_real_run_overfits_after_epoch_10() -> None:
    """The committed fixture from scripts/make_trainer_state_fixture.py (a real CPU run)."""
    run = read_run(FIXTURE)
    assert run.path.endswith("trainer_state.json") and run.config_path is not None
    assert (len(run.train), len(run.evals), run.max_steps) == (80, 40, 160)
    result = diagnose(run, schedule=Schedule(5e-3, "linear", 0.0, 0.1), configured_epochs=40)
    assert result.best is not None and (result.best.step, result.best.epoch) == (40, 10.0)
    assert [f.kind for f in result.findings] == ["overfitting"]  # the schedule matches
    assert result.recommended_epochs == 10
    assert result.early_stop is not None and result.early_stop.step == 52


def test_llamafactory_log_of_the_same_run_gives_the_same_answer() -> None:
    from_state = diagnose(read_run(FIXTURE / "trainer_state.json"))
    from_jsonl = diagnose(read_run(FIXTURE / "trainer_log.jsonl"))
    assert from_state.to_json()["best"] == from_jsonl.to_json()["best"]
    assert from_jsonl.recommended_epochs == 10


def test_latest_checkpoint_is_read(tmp_path: Path) -> None:
    history = guide_example()
    for step in (200, 500, 300):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        kept = [entry for entry in history if int(str(entry["step"])) <= step]
        (folder / "trainer_state.json").write_text(trainer_state(kept, 500))
    run = read_run(tmp_path)
    assert Path(run.path).parent.name == "checkpoint-500"
    assert run.last_step == 500


def test_wrong_schedule_is_reported() -> None:
    run = read_run(FIXTURE)
    result = diagnose(run, schedule=Schedule(5e-3, "cosine", 0.0, 0.1))
    mismatch = [f for f in result.findings if f.kind == "lr-schedule"]
    assert len(mismatch) == 1 and "cosine" in mismatch[0].message


def test_nan_loss_and_grad_spike_are_divergence(tmp_path: Path) -> None:
    history: list[dict[str, object]] = [
        {
            "epoch": step / 100,
            "grad_norm": 1.0 + step % 3 / 10,
            "learning_rate": 1e-4,
            "loss": 2.0 - step / 1000,
            "step": step,
        }
        for step in range(10, 110, 10)
    ]
    history[7]["grad_norm"] = 80.0
    history[9]["loss"] = float("nan")
    (tmp_path / "trainer_state.json").write_text(trainer_state(history, 100))
    result = diagnose(read_run(tmp_path))
    kinds = {f.kind: f for f in result.findings}
    assert kinds["divergence"].step == 100
    assert kinds["grad-spike"].step == 80
    assert kinds["no-eval"].step is None and "eval_strategy: steps" in kinds["no-eval"].message


def test_still_falling_at_the_end_is_undertraining(tmp_path: Path) -> None:
    lines = []
    for step in range(1, 21):
        lines.append(
            {
                "current_steps": step * 5,
                "total_steps": 100,
                "loss": 3.0 - step * 0.1,
                "lr": 1e-4,
                "epoch": step * 0.15,
                "percentage": step * 5.0,
                "elapsed_time": "0:00:01",
                "remaining_time": "0:00:01",
            }
        )
        if step % 5 == 0:
            lines.append(
                {
                    "current_steps": step * 5,
                    "total_steps": 100,
                    "eval_loss": 3.2 - step * 0.08,
                    "epoch": step * 0.15,
                }
            )
    (tmp_path / "trainer_log.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = diagnose(read_run(tmp_path))
    assert [f.kind for f in result.findings] == ["undertraining"]
    assert result.recommended_epochs == 5  # 3 epochs trained, still improving: about half more


def test_half_written_last_line_of_a_running_log_is_ignored(tmp_path: Path) -> None:
    log = tmp_path / "trainer_log.jsonl"
    log.write_text('{"current_steps": 5, "total_steps": 10, "loss": 2.0, "epoch": 0.5}\n{"curr')
    assert len(read_run(log).train) == 1


def test_broken_log_line_is_one_line_error_with_position(tmp_path: Path) -> None:
    log = tmp_path / "trainer_log.jsonl"
    log.write_text('{"current_steps": 5, "loss": 2.0}\nnot json\n{"current_steps": 6}\n')
    with pytest.raises(RunLogError, match=r"trainer_log.jsonl:2:1: not JSON"):
        read_run(log)
    result = run_cli("diagnose", str(log))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert ":2:1: not JSON" in result.stderr


def test_not_a_trainer_state(tmp_path: Path) -> None:
    (tmp_path / "trainer_state.json").write_text('{"global_step": 3}')
    result = run_cli("diagnose", str(tmp_path))
    assert result.returncode == 2 and "no `log_history` list" in result.stderr


def test_json_output_for_scripts() -> None:
    result = run_cli("diagnose", "--format", "json", str(FIXTURE))
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["best"] == {"step": 40, "epoch": 10.0, "eval_loss": pytest.approx(4.0379, 1e-4)}
    assert data["findings"][0]["kind"] == "overfitting" and data["findings"][0]["step"] == 44
    assert data["recommended_epochs"] == 10


def test_text_report_gives_the_numbers() -> None:
    result = run_cli("diagnose", str(FIXTURE))
    assert "best evaluation: step 40, epoch 10, eval_loss 4.038" in result.stdout
    assert "would have stopped at step 52 (epoch 13)" in result.stdout
    assert "recommended: num_train_epochs: 10." in result.stdout


def test_fix_writes_the_epochs_with_a_minimal_edit(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    original = (FIXTURE / "train.yaml").read_text()
    config.write_text(original)
    result = run_cli("diagnose", str(FIXTURE), "--fix", str(config))
    assert "set num_train_epochs: 10.0 (was 40.0)" in result.stdout
    changed = config.read_text()
    assert changed == original.replace("num_train_epochs: 40.0", "num_train_epochs: 10.0")


def test_fix_with_max_steps_sets_the_steps(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text("stage: sft\nmax_steps: 160  # cap\nlearning_rate: 5.0e-3\n")
    run_cli("diagnose", str(FIXTURE), "--fix", str(config))
    assert config.read_text() == "stage: sft\nmax_steps: 40  # cap\nlearning_rate: 5.0e-3\n"


def test_plot_draws_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "diagnose.png"
    result = run_cli("diagnose", str(FIXTURE), "--plot", str(png))
    assert result.returncode == 1, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_how_to_install(tmp_path: Path) -> None:
    blocker = tmp_path / "matplotlib"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('blocked for the test')\n")
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); from epochlint.cli import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "diagnose", str(FIXTURE), "--plot", str(tmp_path / "x.png")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "epochlint: error: --plot needs matplotlib: pip install 'epochlint[plot]'"
    )


def test_resumed_run_keeps_the_latest_attempt() -> None:
    from epochlint.run.runlog import Point, _without_restarts

    points = [Point(s, None, loss=float(s)) for s in (10, 20, 30)] + [
        Point(s, None, loss=s / 10) for s in (20, 30, 40)
    ]
    kept = _without_restarts(points)
    assert [(p.step, p.loss) for p in kept] == [(10, 10.0), (20, 2.0), (30, 3.0), (40, 4.0)]
    assert RunLog("x", "trainer_state.json", kept).last_step == 40


def test_copy_of_output_folder_finds_its_config(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "out")
    assert read_run(tmp_path / "out").config_path == str(tmp_path / "out" / "train.yaml")
