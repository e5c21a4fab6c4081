"""`epochlint recommend`: every preset x method x data tier gives a block that lints clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import lint

from epochlint.cli import main
from epochlint.diagnostic import Severity
from epochlint.recommend import METHODS, PRESETS

PINNED = ("--transformers-version", "5.8.0", "--isolated")
EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "examples"
BASE = (
    "model_name_or_path: meta-llama/Llama-3.1-8B-Instruct\nstage: sft\ndo_train: true\n"
    "dataset: my_data\ntemplate: llama3\noutput_dir: saves/run\nbf16: true\n"
)
TIERS = {"small": 300, "medium": 3000, "large": 50_000}


def recommend(*args: str) -> Result:
    return CliRunner().invoke(main, ["recommend", *args, *PINNED])


@pytest.mark.parametrize("gpus", [1, 8])
@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("preset", PRESETS)
def test_recommended_block_passes_check(preset: str, method: str, tier: str, gpus: int) -> None:
    rows = TIERS[tier]
    shown = recommend(
        "--dataset-size", str(rows), "--method", method, "--preset", preset, "--num-gpus", str(gpus)
    )
    assert shown.exit_code == 0, shown.output
    result = lint(BASE + shown.output, dataset_size=rows, world_size=gpus)
    serious = [
        (d.rule, d.message)
        for d in result.diagnostics
        if d.severity in (Severity.ERROR, Severity.WARNING)
    ]
    assert serious == []
    settings = [line for line in shown.output.splitlines() if not line.startswith("#")]
    assert settings and all("  # " in line for line in settings)  # every line says why


def block(output: str) -> dict[str, str]:
    """key -> (value, why) as printed; a why that goes on in comment lines below is joined."""
    found: dict[str, str] = {}
    key = None
    for line in output.splitlines():
        if line.startswith(" ") and line.strip().startswith("# ") and key is not None:
            found[key] += " " + line.strip().removeprefix("# ")
            continue
        key = None
        if line.startswith("#") or ": " not in line:
            continue
        key, rest = line.split(": ", 1)
        found[key] = rest.strip()
    return found


def test_first_time_on_small_lora_data_is_raised_into_the_range_and_says_so() -> None:
    shown = block(recommend("--dataset-size", "300", "--method", "lora").output)
    value, why = shown["num_train_epochs"].split("#", 1)
    assert value.strip() == "5"
    assert "LoRA on 270 training rows (small): 5-8 epochs" in why
    assert "first-time preset's 3 is raised into the range" in why


def test_fast_on_small_data_caps_max_steps_at_the_epoch_range() -> None:
    shown = block(recommend("--dataset-size", "300", "--method", "lora", "--preset", "fast").output)
    value, why = shown["max_steps"].split("#", 1)
    assert value.strip() == "272"  # 8 epochs of ceil(270 / 8) = 34 steps
    assert "500 steps would be 14.7 epochs" in why and "capped at 272 steps" in why
    assert shown["eval_strategy"].startswith("epoch")  # small data: overfitting must be seen


def test_floats_are_written_for_every_loader() -> None:
    shown = block(recommend("--dataset-size", "3000", "--method", "qlora").output)
    assert shown["learning_rate"].startswith("2.0e-4 ")
    assert shown["quantization_bit"].startswith("4 ")


def test_transformers_without_warmup_ratio_gets_warmup_steps() -> None:
    args = ("--dataset-size", "3000", "--method", "lora")
    shown = CliRunner().invoke(
        main, ["recommend", *args, "--transformers-version", "5.15.0", "--isolated"]
    )
    assert "warmup_steps: 0.1" in shown.output and "warmup_ratio" not in shown.output


def test_without_a_size_or_config_it_asks_for_one() -> None:
    shown = recommend("--method", "lora")
    assert shown.exit_code == 2 and "--dataset-size" in shown.output


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The quick-start example, copied with its data, run from its folder as LLaMA-Factory is."""
    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return folder / "train_lora.yaml"


def test_reads_rows_and_method_from_the_config(example: Path) -> None:
    shown = recommend(str(example), "--preset", "production")
    assert shown.exit_code == 0, shown.output
    assert "LoRA on 1,200 rows" in shown.output
    assert "num_train_epochs: 5" in shown.output


def test_apply_merges_only_the_schedule_lines_and_lints(example: Path) -> None:
    before = example.read_text()
    shown = recommend("--apply", str(example), "--preset", "first-time")
    after = example.read_text()
    assert "changed num_train_epochs: 10 -> 3" in shown.output
    # The tutorial key is fixed first, by the same safe fix as `--fix`; the recommendation's
    # patience is the config's 2 already, so that line is left as it is.
    assert "fixed   EL101 unknown-key: rename `early_stopping_patience`" in shown.output
    assert "early_stopping_steps: 2  # the guide's name" in after
    assert "num_train_epochs: 3\n" in after
    # comments and untouched keys stay byte for byte
    assert "# A customer-support chatbot" in after and "lora_target: all\n" in after
    result = lint(after)  # rows come from the copied dataset_info.json
    assert [d.rule for d in result.diagnostics if d.severity != Severity.INFO] == []
    assert shown.exit_code == 0
    assert before != after


def test_apply_with_diff_writes_nothing(example: Path) -> None:
    before = example.read_text()
    shown = recommend("--apply", str(example), "--diff")
    assert "-num_train_epochs: 10" in shown.output and "+num_train_epochs: 3" in shown.output
    assert example.read_text() == before


def test_apply_never_touches_a_file_that_does_not_parse(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("do_train: true\nnum_train_epochs: [3\n")
    shown = recommend("--apply", str(path), "--dataset-size", "1000")
    assert shown.exit_code == 2
    assert path.read_text() == "do_train: true\nnum_train_epochs: [3\n"


def test_apply_refuses_another_method_than_the_configs(example: Path) -> None:
    before = example.read_text()
    shown = recommend("--apply", str(example), "--method", "full")
    assert shown.exit_code == 2 and "fine-tunes with LoRA" in shown.output
    assert example.read_text() == before


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("stage", ["dpo", "kto", "rm"])
def test_other_stages_get_their_own_tables_and_pass_check(
    stage: str, method: str, tier: str
) -> None:
    """GUIDELINES §2's stage tables: a DPO block trains 1-3 epochs at DPO's learning rate."""
    rows = TIERS[tier]
    shown = recommend("--dataset-size", str(rows), "--method", method, "--stage", stage)
    assert shown.exit_code == 0, shown.output
    written = block(shown.output)
    assert written["stage"].startswith(f"{stage} ")
    epochs = float(written["num_train_epochs"].split()[0])
    low, high = (1, 3) if stage != "rm" else (1, 2)
    assert low <= epochs <= high
    if stage != "rm" and method == "full":
        assert written["learning_rate"].startswith("5.0e-7 ")  # Zephyr's and Tulu 3's DPO rate
    result = lint(BASE.replace("stage: sft\n", "") + shown.output, dataset_size=rows)
    serious = [
        (d.rule, d.message)
        for d in result.diagnostics
        if d.severity in (Severity.ERROR, Severity.WARNING)
    ]
    assert serious == []


def test_a_stage_the_tables_do_not_cover_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pt.yaml"
    path.write_text(BASE.replace("stage: sft", "stage: pt"))
    shown = recommend(str(path), "--dataset-size", "1000")
    assert shown.exit_code == 2
    assert "`stage: pt` is not covered: recommend covers SFT, the preference stages" in (
        shown.output
    )


def test_the_configs_stage_is_used(tmp_path: Path) -> None:
    path = tmp_path / "dpo.yaml"
    path.write_text(BASE.replace("stage: sft", "stage: dpo\nfinetuning_type: full"))
    shown = recommend(str(path), "--dataset-size", "1000")
    assert shown.exit_code == 0, shown.output
    assert "full fine-tuning DPO on 1,000 rows" in shown.output
    assert "learning_rate: 5.0e-7 " in shown.output
    refused = recommend(str(path), "--dataset-size", "1000", "--stage", "rm")
    assert refused.exit_code == 2 and "trains `stage: dpo`, not rm" in refused.output


@pytest.mark.parametrize("preset", PRESETS)
def test_the_printed_block_fits_80_columns_and_stays_yaml(preset: str) -> None:
    """A long why goes on in comment lines below its key, so the block still pastes as YAML."""
    shown = CliRunner().invoke(
        main,
        ["recommend", "--dataset-size", "300", "--method", "qlora", "--preset", preset, *PINNED],
        env={"COLUMNS": "80"},
    )
    assert shown.exit_code == 0, shown.output
    assert max(len(line) for line in shown.output.splitlines()) <= 80
    assert any(line.startswith(" ") and "# " in line for line in shown.output.splitlines())
    assert lint(BASE + shown.output, dataset_size=300).document is not None
