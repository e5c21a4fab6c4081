"""What each report format shows, and the options that shape the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import SHARED, require

from epochlint.cli import main
from epochlint.diagnostic import Diagnostic, Severity
from epochlint.engine import FileResult
from epochlint.formats import github

SCHEMA = SHARED / "reference" / "sarif-schema-2.1.0.json"

# Line 13 holds EL201 (too many epochs) and EL406; line 14 EL005 (`no` is a boolean).
CONFIG = """\
# epochlint: dataset-size=3000
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
CLEAN = CONFIG.replace("num_train_epochs: 10.0", "num_train_epochs: 3.0").replace(
    "save_strategy: no", "save_strategy: epoch"
)


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None, **files: str) -> Result:
    for name, text in (files or {"train.yaml": CONFIG}).items():
        (tmp_path / name).write_text(text)
    environment = {"GITHUB_ACTIONS": "", "NO_COLOR": "1", **(env or {})}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        return CliRunner().invoke(main, ["--isolated", *args], env=environment)


def finding(**changes: Any) -> Diagnostic:
    fields: dict[str, Any] = {
        "rule": "EL201",
        "name": "too-many-epochs",
        "severity": Severity.WARNING,
        "message": "10 epochs",
        "line": 3,
        "column": 19,
        "end_line": 3,
        "end_column": 23,
    }
    return Diagnostic(**(fields | changes))


# --- github ---------------------------------------------------------------------------------


def test_github_prints_one_exact_annotation_per_finding(tmp_path: Path) -> None:
    result = run(tmp_path, "--format", "github", "--select", "EL201,EL005", "train.yaml")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        "::warning file=train.yaml,line=13,col=19,endLine=13,endColumn=23,"
        "title=EL201 too-many-epochs::`num_train_epochs: 10.0` is above the 2-6 epochs"
    )
    assert lines[1].startswith(  # an error: the boolean stops the run
        "::error file=train.yaml,line=14,col=16,endLine=14,endColumn=18,"
        "title=EL005 loader-divergent-scalar::`save_strategy: no` is read by"
    )


def test_github_maps_severities_to_commands() -> None:
    commands = [
        github.annotation("a.yaml", finding(severity=severity)).split(" ", 1)[0]
        for severity in Severity
    ]
    assert commands == ["::error", "::warning", "::notice"]


def test_github_escapes_properties_and_message_as_the_runner_requires() -> None:
    line = github.annotation("runs/a,b:c%.yaml", finding(message="100% of\r\nrows: a, b"))
    assert line == (
        "::warning file=runs/a%2Cb%3Ac%25.yaml,line=3,col=19,endLine=3,endColumn=23,"
        "title=EL201 too-many-epochs::100%25 of%0D%0Arows: a, b"
    )


def test_github_leaves_out_columns_for_a_finding_over_several_lines() -> None:
    line = github.annotation("a.yaml", finding(end_line=5, end_column=2))
    assert line == "::warning file=a.yaml,line=3,endLine=5,title=EL201 too-many-epochs::10 epochs"


def test_github_reports_an_unreadable_file_as_an_error(tmp_path: Path) -> None:
    result = run(tmp_path, "--format", "github", "missing.yaml")
    assert result.exit_code == 2
    assert result.output == "::error file=missing.yaml,title=epochlint::no such file\n"


def test_in_github_actions_annotations_come_with_the_full_report(tmp_path: Path) -> None:
    result = run(tmp_path, "--select", "EL201", "train.yaml", env={"GITHUB_ACTIONS": "true"})
    lines = result.output.splitlines()
    assert lines[0].startswith("::warning file=train.yaml,line=13,col=19,")
    assert "train.yaml:13:19: EL201 too-many-epochs [warning]" in lines[1]
    assert (
        lines[-1] == "Found 0 errors, 1 warning, 0 info in 1 file. 1 fixable with `epochlint --fix`"
    )


def test_an_explicit_format_in_github_actions_prints_only_that_format(tmp_path: Path) -> None:
    result = run(
        tmp_path, "--format", "concise", "--select", "EL201", "train.yaml",
        env={"GITHUB_ACTIONS": "true"},
    )  # fmt: skip
    assert "::warning" not in result.output


# --- concise, statistics, quiet, exit-zero, output-file ------------------------------------


def test_concise_marks_fixable_findings(tmp_path: Path) -> None:
    result = run(tmp_path, "--format", "concise", "--select", "EL201,EL305", "train.yaml")
    assert result.output.splitlines()[0].startswith(
        "train.yaml:13:19: EL201 [*] `num_train_epochs: 10.0` is above"
    )
    (tmp_path / "fp32.yaml").write_text(CONFIG.replace("bf16: true\n", ""))
    result = run(tmp_path, "--format", "concise", "--select", "EL305", "fp32.yaml")
    assert result.output.startswith("fp32.yaml:1:1: EL305 neither `bf16` nor `fp16` is set")


def test_statistics_counts_findings_per_rule(tmp_path: Path) -> None:
    result = run(
        tmp_path, "--statistics", "--select", "EL201,EL406,EL005", "a.yaml", "b.yaml",
        **{"a.yaml": CONFIG, "b.yaml": CONFIG.replace("save_strategy: no", "save_strategy: epoch")},
    )  # fmt: skip
    assert result.output.splitlines() == [
        "2  EL201  [*]  too-many-epochs",
        "2  EL406  [*]  no-early-stopping",
        "1  EL005  [*]  loader-divergent-scalar",
    ]
    assert result.exit_code == 1


def test_quiet_prints_nothing_for_a_clean_run(tmp_path: Path) -> None:
    result = run(tmp_path, "--quiet", "train.yaml", **{"train.yaml": CLEAN})
    assert (result.exit_code, result.output) == (0, "")
    noisy = run(tmp_path, "train.yaml", **{"train.yaml": CLEAN})
    assert noisy.output == "All checks passed! (1 file)\n"


def test_quiet_prints_findings_without_the_summary(tmp_path: Path) -> None:
    result = run(tmp_path, "-q", "--format", "concise", "--select", "EL201", "train.yaml")
    assert len(result.output.splitlines()) == 1
    assert "Found" not in result.output


def test_exit_zero_keeps_findings_from_failing_but_not_failures(tmp_path: Path) -> None:
    assert run(tmp_path, "--exit-zero", "train.yaml").exit_code == 0
    assert run(tmp_path, "--exit-zero", "train.yaml", "missing.yaml").exit_code == 2


def test_output_file_receives_the_report(tmp_path: Path) -> None:
    result = run(tmp_path, "--format", "json", "-o", "report.json", "train.yaml")
    assert result.output == ""
    report = json.loads((tmp_path / "report.json").read_text())
    assert {d["rule"] for d in report["files"][0]["diagnostics"]} >= {"EL201", "EL005"}


# --- sarif ----------------------------------------------------------------------------------


def sarif_log(tmp_path: Path, *args: str) -> dict[str, Any]:
    result = run(tmp_path, "--format", "sarif", *args)
    log: dict[str, Any] = json.loads(result.output)
    return log


def test_sarif_is_valid_against_the_oasis_schema(tmp_path: Path) -> None:
    require(SCHEMA, "the SARIF 2.1.0 schema")
    import jsonschema

    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "my run.yaml").write_text(CONFIG)
    log = sarif_log(tmp_path, "configs/my run.yaml", "missing.yaml")
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(log)
    assert log["runs"][0]["results"], "a log without results proves little"


def test_sarif_results_point_at_the_file_under_srcroot(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "my run.yaml").write_text(CONFIG)
    log = sarif_log(tmp_path, "--select", "EL201", "configs/my run.yaml")
    run_ = log["runs"][0]
    [result] = run_["results"]
    assert result["ruleId"] == "EL201"
    assert result["level"] == "warning"
    assert run_["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "EL201"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "configs/my%20run.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    assert location["region"] == {
        "startLine": 13,
        "startColumn": 19,
        "endLine": 13,
        "endColumn": 23,
    }
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"


def test_sarif_rules_carry_their_documentation_and_level(tmp_path: Path) -> None:
    rules = {
        rule["id"]: rule
        for rule in sarif_log(tmp_path, "train.yaml")["runs"][0]["tool"]["driver"]["rules"]
    }
    too_many = rules["EL201"]
    assert too_many["name"] == "too-many-epochs"
    assert too_many["defaultConfiguration"] == {"level": "warning"}
    assert "## Why is this bad?" in too_many["fullDescription"]["text"]
    assert rules["EL001"]["defaultConfiguration"] == {"level": "error"}
    assert {rule["defaultConfiguration"]["level"] for rule in rules.values()} <= {
        "error",
        "warning",
        "note",
    }


def test_sarif_fix_is_the_exact_replacement_the_fixer_makes(tmp_path: Path) -> None:
    log = sarif_log(tmp_path, "--select", "EL005", "train.yaml")
    [result] = log["runs"][0]["results"]
    [fix] = result["fixes"]
    [change] = fix["artifactChanges"]
    [replacement] = change["replacements"]
    assert fix["description"]["text"] == "set `save_strategy: no`"
    assert replacement == {
        "deletedRegion": {"startLine": 14, "startColumn": 16, "endLine": 14, "endColumn": 18},
        "insertedContent": {"text": '"no"'},
    }


def test_sarif_reports_an_unreadable_file_as_a_failed_invocation(tmp_path: Path) -> None:
    invocation = sarif_log(tmp_path, "missing.yaml")["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"] == "no such file"


def test_info_findings_are_sarif_notes() -> None:
    from epochlint.formats import sarif

    log = json.loads(
        sarif.render([FileResult("a.yaml", diagnostics=[finding(severity=Severity.INFO)])])
    )
    assert log["runs"][0]["results"][0]["level"] == "note"
