"""Suppression comments: on the line, on the line above, for the file; unused and mistyped ones."""

from __future__ import annotations

from epochlint.engine import FileResult, check_source
from epochlint.reading.source import decode
from epochlint.settings import Settings
from epochlint.versions import Version

# `save_strategy: no` and `eval_strategy: off` are read as booleans: one EL005 each.
HEAD = """\
model_name_or_path: meta-llama/Llama-3.1-8B
stage: sft
finetuning_type: lora
template: llama3
output_dir: saves/run
"""


def lint(body: str, **overrides: object) -> FileResult:
    settings = Settings(transformers=Version(5, 8, 0), dataset_size=3000)
    for name, value in overrides.items():
        setattr(settings, name, value)
    return check_source(decode((HEAD + body).encode(), "train.yaml"), settings)


def found(result: FileResult) -> list[tuple[str, int]]:
    return [(d.rule, d.line) for d in result.diagnostics]


def test_without_suppressions_both_misread_values_are_reported() -> None:
    assert found(lint("save_strategy: no\neval_strategy: off\n")) == [("EL005", 6), ("EL005", 7)]


def test_trailing_comment_suppresses_its_own_line_only() -> None:
    result = lint("save_strategy: no  # epochlint: disable=EL005\neval_strategy: off\n")
    assert found(result) == [("EL005", 7)]


def test_own_line_comment_suppresses_the_next_yaml_line() -> None:
    result = lint(
        "# epochlint: disable=EL005\n"
        "\n"
        "# why: the trainer build we use patches this\n"
        "save_strategy: no\n"
        "eval_strategy: off\n"
    )
    assert found(result) == [("EL005", 10)]


def test_rule_names_are_accepted_as_well_as_ids() -> None:
    result = lint("save_strategy: no  # epochlint: disable=loader-divergent-scalar\n")
    assert found(result) == []


def test_disable_file_suppresses_everything_wherever_it_is() -> None:
    result = lint("save_strategy: no\neval_strategy: off\n# epochlint: disable-file\n")
    assert found(result) == []


def test_disable_file_with_ids_suppresses_only_those_rules() -> None:
    result = lint("save_strategy: no\n# epochlint: disable-file=EL201\n")
    assert [d.rule for d in result.diagnostics] == ["EL005", "EL007"]


def test_suppression_that_matches_nothing_is_reported_as_unused() -> None:
    result = lint("num_train_epochs: 3  # epochlint: disable=EL201\n")
    assert found(result) == [("EL007", 6)]
    unused = result.diagnostics[0]
    assert unused.name == "unused-suppression"
    assert unused.message == (
        "`disable=EL201` suppresses nothing: no EL201 finding on line 6; remove it"
    )
    assert unused.column == 22  # the comment, not the key


def test_partly_used_suppression_names_only_the_unused_id() -> None:
    result = lint("save_strategy: no  # epochlint: disable=EL005,EL201\n")
    assert found(result) == [("EL007", 6)]
    assert "no EL201 finding on line 6; remove EL201 from it" in result.diagnostics[0].message


def test_disable_file_in_a_clean_file_is_unused() -> None:
    result = lint("# epochlint: disable-file\n")
    assert found(result) == [("EL007", 6)]


def test_suppression_below_the_last_key_is_unused() -> None:
    result = lint("save_strategy: no\n# epochlint: disable=EL005\n")
    assert found(result) == [("EL005", 6), ("EL007", 7)]


def test_suppressing_a_rule_that_is_switched_off_is_not_called_unused() -> None:
    result = lint("num_train_epochs: 3  # epochlint: disable=EL201\n", ignore=frozenset({"EL2"}))
    assert found(result) == []


def test_unused_suppressions_can_be_ignored_like_any_rule() -> None:
    result = lint("num_train_epochs: 3  # epochlint: disable=EL201\n", ignore=frozenset({"EL007"}))
    assert found(result) == []


def test_mistyped_rule_id_is_reported_and_the_finding_stays() -> None:
    result = lint("save_strategy: no  # epochlint: disable=EL0O5\n")
    assert found(result) == [("EL005", 6), ("EL006", 6)]
    invalid = result.diagnostics[1]
    assert invalid.message == (
        "`EL0O5` in `disable=EL0O5` is not a rule ID or name (see `epochlint rule --all`)"
    )


def test_valid_ids_beside_a_mistyped_one_still_apply() -> None:
    result = lint("save_strategy: no  # epochlint: disable=EL005,EL99\n")
    assert found(result) == [("EL006", 6)]


def test_bare_disable_is_reported_instead_of_silently_suppressing_everything() -> None:
    result = lint("save_strategy: no  # epochlint: disable\n")
    assert found(result) == [("EL005", 6), ("EL006", 6)]
    assert "needs the rule IDs" in result.diagnostics[1].message


def test_hash_inside_a_quoted_value_is_not_a_suppression() -> None:
    result = lint('run_name: "x # epochlint: disable-file"\nsave_strategy: no\n')
    assert found(result) == [("EL005", 7)]
