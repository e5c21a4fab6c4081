"""Configuration files: discovery, precedence against the command line, every key, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from epochlint.cli import main

# EL201 (10 epochs) and EL005 (`no` read as a boolean); no dataset size, so the rows come
# from the configuration (or EL501 says they are unknown).
CONFIG = """\
model_name_or_path: Qwen/Qwen3-4B-Instruct-2507
stage: sft
do_train: true
finetuning_type: lora
lora_target: all
dataset: support_chats
template: qwen3_nothink
output_dir: saves/run
per_device_train_batch_size: 2
gradient_accumulation_steps: 4
learning_rate: 1.0e-4
num_train_epochs: 10.0
save_strategy: no
bf16: true
logging_steps: 10
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository root (it has .git) with configs/train.yaml, checked from the root."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "train.yaml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def epochlint(*args: str) -> Result:
    return CliRunner().invoke(main, ["--format", "json", *args], env={"GITHUB_ACTIONS": ""})


def report(*args: str) -> dict[str, Any]:
    result = epochlint(*args)
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def rules(*args: str) -> list[str]:
    return [d["rule"] for f in report(*args)["files"] for d in f["diagnostics"]]


def plan(*args: str) -> dict[str, Any]:
    found: dict[str, Any] = report(*args)["files"][0]["plan"]
    return found


def test_without_configuration_every_rule_runs(repo: Path) -> None:
    assert {"EL201", "EL005", "EL501"} <= set(rules("configs/train.yaml"))


def test_pyproject_in_the_repository_root_applies_to_files_below(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.epochlint]\nselect = ["EL2"]\n')
    assert rules("configs/train.yaml") == ["EL201"]


def test_pyproject_without_an_epochlint_table_is_passed_over(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.epochlint]\nselect = ["EL2"]\n')
    (repo / "configs" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert rules("configs/train.yaml") == ["EL201"]


def test_the_closest_configuration_wins_without_merging(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.epochlint]\nselect = ["EL2"]\nnum-gpus = 4\n')
    (repo / "configs" / ".epochlint.yaml").write_text("select: [EL005]\n")
    assert rules("configs/train.yaml") == ["EL005"]
    assert plan("configs/train.yaml")["world_size"] == 1  # the root's num-gpus is not merged in


def test_epochlint_yaml_wins_over_pyproject_in_the_same_folder(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.epochlint]\nselect = ["EL2"]\n')
    (repo / ".epochlint.yaml").write_text("select: [EL005]\n")
    assert rules("configs/train.yaml") == ["EL005"]


def test_search_stops_at_the_repository_root(repo: Path) -> None:
    (repo.parent / ".epochlint.yaml").write_text("select: [EL005]\n")
    try:
        assert "EL201" in rules("configs/train.yaml")
    finally:
        (repo.parent / ".epochlint.yaml").unlink()


def test_command_line_selection_replaces_the_files(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text("select: [EL2]\nignore: [EL201]\n")
    assert rules("configs/train.yaml") == []
    assert rules("configs/train.yaml", "--select", "EL201") == ["EL201"]


def test_command_line_ignore_and_extend_select_adjust_the_files_selection(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text("select: [EL2, EL005]\n")
    assert rules("configs/train.yaml", "--ignore", "EL005") == ["EL201"]
    assert rules("configs/train.yaml", "--extend-select", "EL406") == ["EL201", "EL406", "EL005"]


def test_extend_select_in_the_file_adds_to_its_select(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text("select: [EL2]\nextend-select: [EL005]\n")
    assert rules("configs/train.yaml") == ["EL201", "EL005"]


def test_num_gpus_from_the_file_yields_to_the_option(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text("num-gpus: 4\n")
    assert plan("configs/train.yaml")["world_size"] == 4
    assert plan("configs/train.yaml", "--num-gpus", "2")["world_size"] == 2


def test_dataset_sizes_match_globs_relative_to_the_configuration(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text(
        "dataset-sizes:\n  'other/*.yaml': 10\n  'configs/*.yaml': 3000\n  '*.yaml': 50\n"
    )
    assert plan("configs/train.yaml")["dataset_rows"] == 3000
    assert "EL501" not in rules("configs/train.yaml")
    assert plan("configs/train.yaml", "--dataset-size", "800")["dataset_rows"] == 800


def test_a_dataset_size_comment_in_the_config_wins_over_the_file(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text("dataset-sizes:\n  '*.yaml': 3000\n")
    (repo / "configs" / "train.yaml").write_text("# epochlint: dataset-size=1200\n" + CONFIG)
    assert plan("configs/train.yaml")["dataset_rows"] == 1200


def test_severity_changes_a_rules_level(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        '[tool.epochlint]\nselect = ["EL201"]\nseverity = { EL201 = "info" }\n'
    )
    result = epochlint("configs/train.yaml")
    assert json.loads(result.output)["files"][0]["diagnostics"][0]["severity"] == "info"
    assert result.exit_code == 0  # info alone does not fail the run


def test_unfixable_drops_the_fix(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text("select: [EL201]\nunfixable: [EL2]\n")
    assert report("configs/train.yaml")["files"][0]["diagnostics"][0]["fix"] is None


def test_guidelines_override_the_epoch_ranges(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text(
        "select: [EL201]\ndataset-sizes: {'*.yaml': 3000}\n"
        "guidelines:\n  epochs:\n    lora:\n      medium: [3, 12]\n"
    )
    assert rules("configs/train.yaml") == []


def checked_paths(*args: str) -> list[str]:
    return [f["path"] for f in report(*args)["files"]]


def test_exclude_skips_matching_files_in_a_walk_and_named_ones_with_force_exclude(
    repo: Path,
) -> None:
    (repo / ".epochlint.yaml").write_text("exclude: ['configs/train*.yaml']\n")
    assert checked_paths(".") == []
    assert checked_paths("--force-exclude", "configs/train.yaml") == []
    # As in ruff, a file named on the command line is checked unless --force-exclude.
    assert checked_paths("configs/train.yaml") == ["configs/train.yaml"]


def test_a_walk_checks_training_configs_and_skips_other_yaml_silently(repo: Path) -> None:
    (repo / "configs" / "deepspeed.yaml").write_text(
        "zero_optimization: {stage: 2}\ntrain_micro_batch_size_per_gpu: 2\n"
    )
    (repo / "configs" / "notes.txt").write_text(CONFIG)
    (repo / ".github").mkdir()
    (repo / ".github" / "ci.yml").write_text("on: push\njobs: {}\n")
    (repo / ".pre-commit-hooks.yaml").write_text("- id: a\n  entry: b\n")  # a list
    (repo / "empty.yml").write_text("# nothing yet\n")
    assert checked_paths() == ["configs/train.yaml"]  # no path: the current folder
    assert epochlint().exit_code == 1  # the findings of train.yaml, nothing else
    assert checked_paths("configs") == ["configs/train.yaml"]
    verbose = report("--verbose", ".")["files"]
    not_a_mapping = "its top level is not a mapping, so it is not a training config"
    assert {f["path"]: f.get("skipped") for f in verbose} == {
        ".github/ci.yml": "none of its keys are training arguments",
        ".pre-commit-hooks.yaml": not_a_mapping,
        "empty.yml": not_a_mapping,
        "configs/deepspeed.yaml": "a DeepSpeed config, not a training config",
        "configs/train.yaml": None,
    }


def test_a_walk_leaves_out_default_excludes_and_what_gitignore_ignores(repo: Path) -> None:
    for folder in (".venv/lib", "node_modules/x", "outputs", "configs/local"):
        (repo / folder).mkdir(parents=True)
        (repo / folder / "train.yaml").write_text(CONFIG)
    (repo / ".gitignore").write_text("outputs/\n")
    (repo / "configs" / ".ignore").write_text("local\n")
    assert checked_paths() == ["configs/train.yaml"]
    assert checked_paths("--no-respect-gitignore") == [
        "configs/local/train.yaml",
        "configs/train.yaml",
        "outputs/train.yaml",
    ]
    (repo / ".epochlint.yaml").write_text("extend-exclude: [configs]\n")
    assert checked_paths("--no-respect-gitignore") == ["outputs/train.yaml"]
    (repo / ".epochlint.yaml").write_text("exclude: [outputs]\n")  # replaces the defaults
    assert checked_paths() == [
        ".venv/lib/train.yaml",
        "configs/train.yaml",
        "node_modules/x/train.yaml",
    ]


def test_a_gitignore_above_the_walked_folder_applies(repo: Path) -> None:
    (repo / "configs" / "generated").mkdir()
    (repo / "configs" / "generated" / "train.yaml").write_text(CONFIG)
    (repo / ".gitignore").write_text("generated/\n")
    assert checked_paths("configs") == ["configs/train.yaml"]


def test_root_is_relative_to_the_configuration(repo: Path) -> None:
    data = repo / "llamafactory" / "data"
    data.mkdir(parents=True)
    (data / "dataset_info.json").write_text('{"support_chats": {"file_name": "chats.json"}}')
    (data / "chats.json").write_text(json.dumps([{"instruction": "q", "output": "a"}] * 700))
    (repo / ".epochlint.yaml").write_text("root: llamafactory\n")
    assert plan("configs/train.yaml")["dataset_rows"] == 700


def test_transformers_version_is_read(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text("transformers-version: '4.0'\n")
    assert epochlint("configs/train.yaml").exit_code in (0, 1)
    (repo / ".epochlint.yaml").write_text("transformers-version: banana\n")
    assert epochlint("configs/train.yaml").exit_code == 2


def test_config_option_uses_that_file_for_every_path(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text("select: [EL005]\n")
    (repo / "strict.toml").write_text('select = ["EL201"]\n')
    assert rules("--config", "strict.toml", "configs/train.yaml") == ["EL201"]


def test_isolated_ignores_configuration_files(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text("select: [EL005]\n")
    assert "EL201" in rules("--isolated", "configs/train.yaml")


def test_config_and_isolated_together_are_refused(repo: Path) -> None:
    (repo / "strict.toml").write_text('select = ["EL201"]\n')
    assert epochlint("--isolated", "--config", "strict.toml", "configs/train.yaml").exit_code == 2


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "pyproject.toml",
            '[tool.epochlint]\nselect = ["EL2O1"]\n',
            "pyproject.toml: [tool.epochlint] select: `EL2O1` matches no rule",
        ),
        (
            ".epochlint.yaml",
            "ignore: [EL999]\n",
            ".epochlint.yaml ignore: `EL999` matches no rule",
        ),
        (
            ".epochlint.yaml",
            "num_gpus: 4\n",
            ".epochlint.yaml: unknown key `num_gpus`; did you mean `num-gpus`?",
        ),
        (".epochlint.yaml", "num-gpus: four\n", ".epochlint.yaml num-gpus: expected a whole"),
        (".epochlint.yaml", "severity: {EL201: loud}\n", ".epochlint.yaml severity.EL201:"),
        (".epochlint.yaml", "severity: {EL2O1: info}\n", "`EL2O1` is not a rule ID"),
        (".epochlint.yaml", "guidelines: {epochs: 3}\n", ".epochlint.yaml: guidelines `epochs`"),
        (".epochlint.yaml", "- select\n", ".epochlint.yaml: the configuration must be a mapping"),
        ("pyproject.toml", "[tool.epochlint\n", "pyproject.toml: invalid TOML"),
    ],
)
def test_a_bad_configuration_is_one_line_naming_file_and_key(
    repo: Path, name: str, text: str, message: str
) -> None:
    (repo / name).write_text(text)
    result = CliRunner().invoke(main, ["configs/train.yaml"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith("epochlint: error: ")
    assert message in result.output


def test_per_file_ignores_skip_rules_for_matching_files_relative_to_the_configuration(
    repo: Path,
) -> None:
    everything = rules("configs/train.yaml", "--dataset-size", "1000")
    assert "EL201" in everything
    (repo / ".epochlint.yaml").write_text("per-file-ignores:\n  'configs/train*.yaml': [EL2]\n")
    ignored = rules("configs/train.yaml", "--dataset-size", "1000")
    assert ignored == [code for code in everything if not code.startswith("EL2")]
    (repo / ".epochlint.yaml").write_text(
        "per-file-ignores: {'other/*.yaml': [EL2]}\n"
        "extend-per-file-ignores: {'train.yaml': [EL201]}\n"
    )
    assert rules("configs/train.yaml", "--dataset-size", "1000") == [
        code for code in everything if code != "EL201"
    ]


def test_a_per_file_ignore_that_names_no_rule_is_one_line(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text("per-file-ignores: {'*.yaml': [EL999]}\n")
    result = epochlint("configs/train.yaml")
    assert result.exit_code == 2
    assert result.output == (
        "epochlint: error: .epochlint.yaml per-file-ignores.*.yaml: `EL999` matches no rule "
        "(see `epochlint rule --all`)\n"
    )


def test_show_settings_names_the_configuration_file_and_each_setting(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text(
        "num-gpus: 4\nper-file-ignores: {'configs/*': [EL413]}\nextend-exclude: [legacy]\n"
    )
    shown = CliRunner().invoke(main, ["--show-settings", "configs/train.yaml"]).output
    assert shown.startswith("Settings for configs/train.yaml\n")
    assert f"  configuration file    {repo / '.epochlint.yaml'}\n" in shown
    assert "  num-gpus              4 (.epochlint.yaml)\n" in shown
    assert "  per-file-ignores      EL413\n" in shown
    assert "  extend-exclude        legacy\n" in shown
    folder = CliRunner().invoke(main, ["--show-settings"]).output  # no path: the current folder
    assert folder.startswith("Settings for files in .\n")
    assert f"  configuration file    {repo / '.epochlint.yaml'}\n" in folder
    isolated = CliRunner().invoke(main, ["--isolated", "--show-settings", "configs/train.yaml"])
    assert "configuration file    none (--isolated)" in isolated.output
    assert "num-gpus              1 (default)" in isolated.output


def test_show_files_lists_what_a_walk_checks(repo: Path) -> None:
    (repo / "configs" / "deepspeed.yaml").write_text("zero_optimization: {}\ntrain_batch_size: 8\n")
    result = CliRunner().invoke(main, ["--show-files"])
    assert (result.exit_code, result.output) == (0, "configs/train.yaml\n")


def test_output_format_is_an_alias_of_format(repo: Path) -> None:
    aliased = CliRunner().invoke(main, ["--output-format", "json", "configs/train.yaml"])
    assert json.loads(aliased.output) == report("configs/train.yaml")


def test_exit_non_zero_on_fix_fails_a_run_that_changed_a_file(repo: Path) -> None:
    (repo / ".epochlint.yaml").write_text("select: [EL101]\n")
    path = repo / "configs" / "train.yaml"
    path.write_text(CONFIG + "early_stopping_patience: 2\n")
    assert CliRunner().invoke(main, ["--fix", str(path)]).exit_code == 0  # all fixed
    path.write_text(CONFIG + "early_stopping_patience: 2\n")
    assert CliRunner().invoke(main, ["--fix", "--exit-non-zero-on-fix", str(path)]).exit_code == 1
    assert "early_stopping_steps: 2" in path.read_text()
    # nothing left to fix: no change, exit 0
    assert CliRunner().invoke(main, ["--fix", "--exit-non-zero-on-fix", str(path)]).exit_code == 0


def test_a_walked_file_that_is_not_a_config_neither_counts_nor_is_written(repo: Path) -> None:
    (repo / "configs" / "train.yaml").unlink()
    other = repo / "compose.yaml"
    other.write_text("services: {}\nservices: {web: {}}\n")  # a duplicate key (EL002)
    walked = CliRunner().invoke(main, ["."], env={"GITHUB_ACTIONS": ""})
    assert (walked.exit_code, walked.output) == (0, "All checks passed! (0 files)\n")
    for fix in (["--fix"], ["--diff"]):
        assert CliRunner().invoke(main, [*fix, "."]).exit_code == 0
    assert other.read_text() == "services: {}\nservices: {web: {}}\n"
    verbose = CliRunner().invoke(main, ["--verbose", "--format", "concise", "."])
    assert "compose.yaml:2:1: EL002" in verbose.output and verbose.exit_code == 0
    named = CliRunner().invoke(main, ["compose.yaml"])  # named, its problems count
    assert named.exit_code == 1
