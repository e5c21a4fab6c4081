"""Tests for the minimal-diff YAML writer used by `epochlint --fix`."""

from __future__ import annotations

import difflib
import time
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf
from ruamel.yaml import YAML

from epochlint.fix.edit import EditError, KeyEdit, apply_edits, format_scalar

# A LLaMA-Factory-style config written for these tests: sections, an EOL comment, a
# quoted string, a block list, and an eval section holding only commented-out keys.
LF_CONFIG = """\
### model
model_name_or_path: "meta-llama/Llama-3.1-8B-Instruct"
trust_remote_code: true

### method
stage: sft
do_train: true
finetuning_type: lora
lora_rank: 16
lora_target:
  - q_proj
  - v_proj

### dataset
dataset: alpaca_en_demo,identity
template: llama3
cutoff_len: 1024

### output
output_dir: 'saves/llama3-8b/lora/sft'
logging_steps: 10
save_steps: 500
report_to: none  # choices: [none, wandb, tensorboard]

### train
per_device_train_batch_size: 2
gradient_accumulation_steps: 4
learning_rate: 1e-5  # halved after the first run diverged
num_train_epochs: 3.0
lr_scheduler_type: cosine
warmup_ratio: 0.1
bf16: true

### eval
# val_size: 0.1
# eval_strategy: steps
"""


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(lines only in `before`, lines only in `after`), keeping line endings."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    removed: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        if tag != "equal":
            removed.extend(old[i1:i2])
            added.extend(new[j1:j2])
    return removed, added


def lines_after(text: str, marker: str) -> list[str]:
    lines = text.splitlines()
    return lines[lines.index(marker) + 1 :]


# --------------------------------------------------------------------------------------
# set on an existing key
# --------------------------------------------------------------------------------------


def test_set_existing_changes_only_that_line_and_keeps_its_comment() -> None:
    result = apply_edits(LF_CONFIG, [KeyEdit("set", "learning_rate", 2e-5)])
    assert changed_lines(LF_CONFIG, result) == (
        ["learning_rate: 1e-5  # halved after the first run diverged\n"],
        ["learning_rate: 2.0e-5  # halved after the first run diverged\n"],
    )
    assert yaml.safe_load(result)["learning_rate"] == 2e-5


def test_set_existing_keeps_the_quoting_style_of_strings() -> None:
    result = apply_edits(
        LF_CONFIG,
        [
            KeyEdit("set", "model_name_or_path", "Qwen/Qwen2.5-7B"),
            KeyEdit("set", "output_dir", "saves/qwen/it's"),
            KeyEdit("set", "template", "qwen"),
        ],
    )
    _, added = changed_lines(LF_CONFIG, result)
    assert added == [
        'model_name_or_path: "Qwen/Qwen2.5-7B"\n',
        "template: qwen\n",
        "output_dir: 'saves/qwen/it''s'\n",
    ]


def test_set_plain_string_that_would_read_as_a_bool_gets_quoted() -> None:
    result = apply_edits(LF_CONFIG, [KeyEdit("set", "report_to", "no")])
    assert 'report_to: "no"  # choices: [none, wandb, tensorboard]\n' in result
    assert yaml.safe_load(result)["report_to"] == "no"


def test_set_to_the_value_already_written_changes_nothing() -> None:
    assert apply_edits(LF_CONFIG, [KeyEdit("set", "num_train_epochs", 3.0)]) == LF_CONFIG
    assert apply_edits(LF_CONFIG, [KeyEdit("set", "stage", "sft")]) == LF_CONFIG


def test_set_to_an_equal_value_written_differently_changes_nothing() -> None:
    text = "learning_rate: 0.0002\nbf16: True\nepochs: 1.0e+1\n"
    edits = [
        KeyEdit("set", "learning_rate", 2e-4),
        KeyEdit("set", "bf16", True),
        KeyEdit("set", "epochs", 10.0),
    ]
    assert apply_edits(text, edits) == text


def test_set_rewrites_a_value_that_pyyaml_reads_as_a_string() -> None:
    # PyYAML reads `1e-5` as the string "1e-5", so the value is not yet the float.
    result = apply_edits("learning_rate: 1e-5\n", [KeyEdit("set", "learning_rate", 1e-5)])
    assert result == "learning_rate: 1.0e-5\n"


def test_set_empty_value() -> None:
    text = "adapter: lora\nlora_model_dir:\nwandb_project:  # fill in\n"
    result = apply_edits(
        text, [KeyEdit("set", "lora_model_dir", "out/x"), KeyEdit("set", "wandb_project", "p")]
    )
    assert result == "adapter: lora\nlora_model_dir: out/x\nwandb_project: p  # fill in\n"


def test_set_block_list_to_a_new_list_keeps_block_style_and_indentation() -> None:
    result = apply_edits(LF_CONFIG, [KeyEdit("set", "lora_target", ["q_proj", "k_proj", "on"])])
    assert changed_lines(LF_CONFIG, result) == (
        ["  - v_proj\n"],
        ["  - k_proj\n", '  - "on"\n'],
    )
    assert yaml.safe_load(result)["lora_target"] == ["q_proj", "k_proj", "on"]


def test_set_block_list_to_a_scalar() -> None:
    result = apply_edits(LF_CONFIG, [KeyEdit("set", "lora_target", "all")])
    assert "lora_target: all\n\n### dataset\n" in result
    assert "q_proj" not in result


def test_set_flow_list() -> None:
    text = "lora_target: [q_proj, v_proj]  # attention only\nlora_rank: 8\n"
    result = apply_edits(text, [KeyEdit("set", "lora_target", ["q_proj", "k_proj", "v_proj"])])
    assert result == "lora_target: [q_proj, k_proj, v_proj]  # attention only\nlora_rank: 8\n"


# --------------------------------------------------------------------------------------
# set on an absent key: placement
# --------------------------------------------------------------------------------------


def test_new_training_key_lands_at_the_end_of_the_train_section() -> None:
    result = apply_edits(LF_CONFIG, [KeyEdit("set", "max_grad_norm", 1.0)])
    assert changed_lines(LF_CONFIG, result) == ([], ["max_grad_norm: 1.0\n"])
    assert "bf16: true\nmax_grad_norm: 1.0\n\n### eval\n" in result


def test_new_eval_key_lands_after_the_commented_out_eval_examples() -> None:
    result = apply_edits(LF_CONFIG, [KeyEdit("set", "val_size", 0.05, section="eval")])
    assert lines_after(result, "### eval") == [
        "# val_size: 0.1",
        "# eval_strategy: steps",
        "val_size: 0.05",
    ]


def test_new_output_key_lands_in_the_output_section_before_the_blank_line() -> None:
    result = apply_edits(LF_CONFIG, [KeyEdit("set", "save_total_limit", 3, section="output")])
    assert (
        "report_to: none  # choices: [none, wandb, tensorboard]\nsave_total_limit: 3\n\n" in result
    )


def test_new_key_goes_after_the_first_present_neighbour() -> None:
    result = apply_edits(
        LF_CONFIG,
        [KeyEdit("set", "warmup_steps", 100, after=("no_such_key", "warmup_ratio", "bf16"))],
    )
    assert "warmup_ratio: 0.1\nwarmup_steps: 100\nbf16: true\n" in result


def test_new_key_after_a_multi_line_neighbour_goes_after_its_whole_value() -> None:
    result = apply_edits(LF_CONFIG, [KeyEdit("set", "lora_alpha", 32, after=("lora_target",))])
    assert "lora_target:\n  - q_proj\n  - v_proj\nlora_alpha: 32\n\n### dataset\n" in result


def test_new_key_without_a_section_goes_at_the_end_of_the_mapping_before_trailing_comments() -> (
    None
):
    text = "base_model: x\nlearning_rate: 0.0002\n\n# trailing note\n"
    result = apply_edits(text, [KeyEdit("set", "seed_offset", 7)])
    assert result == "base_model: x\nlearning_rate: 0.0002\nseed_offset: 7\n\n# trailing note\n"


def test_new_key_uses_the_indentation_of_the_top_level_keys() -> None:
    text = "  a: 1\n  b: 2\n"
    assert apply_edits(text, [KeyEdit("set", "c", 3)]) == "  a: 1\n  b: 2\n  c: 3\n"


def test_new_key_with_a_string_value_that_needs_quotes() -> None:
    result = apply_edits("a: 1\n", [KeyEdit("set", "eval_strategy", "010")])
    assert result == 'a: 1\neval_strategy: "010"\n'


def test_add_to_an_empty_file() -> None:
    assert apply_edits("", [KeyEdit("set", "seed", 42)]) == "seed: 42\n"
    assert apply_edits("# only a comment\n", [KeyEdit("set", "seed", 1)]) == (
        "# only a comment\nseed: 1\n"
    )


def test_key_only_provided_through_a_merge_can_get_an_explicit_override() -> None:
    text = "base: &base\n  lr: 1\nrun:\n  x: 1\n<<: *base\nepochs: 2\n"
    result = apply_edits(text, [KeyEdit("set", "lr", 0.5)])
    assert yaml.safe_load(result)["lr"] == 0.5
    assert changed_lines(text, result) == ([], ["lr: 0.5\n"])


# --------------------------------------------------------------------------------------
# remove and rename
# --------------------------------------------------------------------------------------


def test_remove_deletes_only_the_keys_own_lines() -> None:
    text = "a: 1\n# about b\nb: 2  # eol\n\n# about c\nc: 3\n"
    assert apply_edits(text, [KeyEdit("remove", "b")]) == "a: 1\n# about b\n\n# about c\nc: 3\n"


def test_remove_multi_line_value_keeps_following_blank_line_and_comment() -> None:
    result = apply_edits(LF_CONFIG, [KeyEdit("remove", "lora_target")])
    removed, added = changed_lines(LF_CONFIG, result)
    assert (removed, added) == (["lora_target:\n", "  - q_proj\n", "  - v_proj\n"], [])
    assert "lora_rank: 16\n\n### dataset\n" in result


def test_remove_absent_key_is_a_no_op() -> None:
    assert apply_edits(LF_CONFIG, [KeyEdit("remove", "max_steps")]) == LF_CONFIG


def test_rename_replaces_only_the_key() -> None:
    text = "lr: 1.0e-4  # peak\nepochs: 3\n"
    result = apply_edits(text, [KeyEdit("rename", "lr", new_key="learning_rate")])
    assert result == "learning_rate: 1.0e-4  # peak\nepochs: 3\n"
    assert apply_edits(result, [KeyEdit("rename", "lr", new_key="learning_rate")]) == result


def test_rename_onto_an_existing_key_is_refused() -> None:
    with pytest.raises(EditError, match="already exists"):
        apply_edits("a: 1\nb: 2\n", [KeyEdit("rename", "a", new_key="b")])


# --------------------------------------------------------------------------------------
# newline style and final newline
# --------------------------------------------------------------------------------------


def test_crlf_file_stays_crlf_everywhere() -> None:
    text = LF_CONFIG.replace("\n", "\r\n")
    result = apply_edits(
        text,
        [
            KeyEdit("set", "learning_rate", 5e-6),
            KeyEdit("set", "val_size", 0.1, section="eval"),
            KeyEdit("set", "lora_target", ["q_proj", "o_proj"]),
            KeyEdit("remove", "save_steps"),
        ],
    )
    assert result.count("\n") == result.count("\r\n")
    assert "learning_rate: 5.0e-6  # halved after the first run diverged\r\n" in result
    assert result.endswith("# eval_strategy: steps\r\nval_size: 0.1\r\n")
    assert "lora_target:\r\n  - q_proj\r\n  - o_proj\r\n" in result


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (KeyEdit("set", "b", 3), "a: 1\nb: 3"),
        (KeyEdit("set", "c", 3), "a: 1\nb: 2\nc: 3"),
        (KeyEdit("remove", "b"), "a: 1"),
        (KeyEdit("rename", "b", new_key="z"), "a: 1\nz: 2"),
    ],
)
def test_missing_final_newline_stays_missing(edit: KeyEdit, expected: str) -> None:
    assert apply_edits("a: 1\nb: 2", [edit]) == expected


def test_missing_final_newline_in_a_crlf_file() -> None:
    assert apply_edits("a: 1\r\nb: 2", [KeyEdit("set", "c", True)]) == "a: 1\r\nb: 2\r\nc: true"


# --------------------------------------------------------------------------------------
# refusals and special node kinds
# --------------------------------------------------------------------------------------

ANCHORED = "lr: &lr 1.0e-4\nwarmup_lr: *lr\nepochs: 3\n"


@pytest.mark.parametrize("key", ["lr", "warmup_lr"])
def test_setting_a_shared_value_is_refused(key: str) -> None:
    with pytest.raises(EditError, match="shared through the anchor &lr; edit it by hand"):
        apply_edits(ANCHORED, [KeyEdit("set", key, 2e-4)])


def test_removing_the_anchor_definition_is_refused() -> None:
    with pytest.raises(EditError, match="anchor &lr"):
        apply_edits(ANCHORED, [KeyEdit("remove", "lr")])


def test_removing_a_key_that_a_merge_still_provides_fails_verification() -> None:
    text = "base: &base\n  lr: 1\n<<: *base\n"
    with pytest.raises(EditError, match="still finds key 'lr'"):
        apply_edits(text, [KeyEdit("remove", "lr")])


def test_block_scalar_value_is_replaced_and_trailing_blank_lines_kept() -> None:
    text = "system: |  # prompt\n  You are helpful.\n  Be brief.\n\n# next\nseed: 1\n"
    result = apply_edits(text, [KeyEdit("set", "system", "Be kind.")])
    assert result == "system: Be kind.  # prompt\n\n# next\nseed: 1\n"


def test_removing_a_block_scalar_key() -> None:
    text = "system: >-\n  folded\n  text\n\nseed: 1\n"
    assert apply_edits(text, [KeyEdit("remove", "system")]) == "\nseed: 1\n"


def test_flow_mapping_at_top_level_supports_set_and_rename() -> None:
    text = "{lr: 1e-5, tags: [a, b], name: run}\n"
    result = apply_edits(
        text,
        [
            KeyEdit("set", "lr", 3e-5),
            KeyEdit("set", "tags", ["x,y", "no"]),
            KeyEdit("rename", "name", new_key="run_name"),
        ],
    )
    assert result == '{lr: 3.0e-5, tags: ["x,y", "no"], run_name: run}\n'


@pytest.mark.parametrize("edit", [KeyEdit("set", "seed", 1), KeyEdit("remove", "lr")])
def test_flow_mapping_refuses_structural_edits(edit: KeyEdit) -> None:
    with pytest.raises(EditError, match="flow-style"):
        apply_edits("{lr: 1e-5}\n", [edit])


@pytest.mark.parametrize(
    "edits",
    [
        [KeyEdit("set", "a", 1), KeyEdit("remove", "a")],
        [KeyEdit("rename", "a", new_key="b"), KeyEdit("set", "b", 2)],
    ],
)
def test_two_edits_on_the_same_key_are_refused(edits: list[KeyEdit]) -> None:
    with pytest.raises(EditError, match="more than one edit"):
        apply_edits("a: 1\nb: 2\n", edits)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a: [1\n", "cannot parse"),
        ("- a\n- b\n", "not a mapping"),
        ("a: 1\n---\nb: 2\n", "cannot parse"),
        ("a: 1\na: 2\n", "appears 2 times"),
    ],
)
def test_unusable_documents_are_refused(text: str, reason: str) -> None:
    with pytest.raises(EditError, match=reason):
        apply_edits(text, [KeyEdit("set", "a", 3)])


def test_unwritable_value_is_refused() -> None:
    with pytest.raises(EditError, match="cannot write"):
        apply_edits("a: 1\n", [KeyEdit("set", "a", {"nested": 1})])


# --------------------------------------------------------------------------------------
# format_scalar
# --------------------------------------------------------------------------------------


def read_with_every_loader(scalar_text: str) -> list[Any]:
    document = f"k: {scalar_text}\n"
    read_by_omegaconf = OmegaConf.to_container(OmegaConf.create(document))
    assert isinstance(read_by_omegaconf, dict)
    return [
        yaml.safe_load(document)["k"],
        YAML(typ="safe").load(document)["k"],
        read_by_omegaconf["k"],
    ]


def assert_same_typed(values: list[Any], expected: Any) -> None:
    for value in values:
        assert type(value) is type(expected)
        assert value == expected


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (1e-4, "1.0e-4"),
        (2e-5, "2.0e-5"),
        (5e-6, "5.0e-6"),
        (1e-5, "1.0e-5"),
        (5e-05, "5.0e-5"),
        (0.1, "0.1"),
        (3.0, "3.0"),
        (1e20, "1.0e+20"),
        (1.5e-7, "1.5e-7"),
    ],
)
def test_format_scalar_floats_read_back_as_floats_everywhere(value: float, written: str) -> None:
    assert format_scalar(value) == written
    assert_same_typed(read_with_every_loader(written), value)


@pytest.mark.parametrize(
    "value", ["no", "yes", "on", "1e-4", "010", "null", "", "a: b", "#x", "plain text"]
)
def test_format_scalar_strings_read_back_as_the_same_string_everywhere(value: str) -> None:
    assert_same_typed(read_with_every_loader(format_scalar(value)), value)


def test_format_scalar_quotes_only_when_needed() -> None:
    assert format_scalar("plain text") == "plain text"
    assert format_scalar("saves/llama3-8b/lora") == "saves/llama3-8b/lora"
    assert format_scalar("no") == '"no"'
    assert format_scalar("1:30") == '"1:30"'
    assert format_scalar('say "hi"\n') == '"say \\"hi\\"\\n"'


@pytest.mark.parametrize(
    ("value", "written"),
    [(0, "0"), (8, "8"), (-3, "-3"), (10**20, "100000000000000000000"), (True, "true"),
     (False, "false"), (None, "null")],
)  # fmt: skip
def test_format_scalar_ints_bools_and_none(value: Any, written: str) -> None:
    assert format_scalar(value) == written
    for loaded in read_with_every_loader(written):
        assert loaded == value and type(loaded) is type(value)


def test_format_scalar_lists_use_flow_style() -> None:
    written = format_scalar(["q_proj", "no", 1, 2e-5, None])
    assert written == '[q_proj, "no", 1, 2.0e-5, null]'
    for loaded in read_with_every_loader(written):
        assert loaded == ["q_proj", "no", 1, 2e-5, None]


# --------------------------------------------------------------------------------------
# property: only the edited keys' lines change, and the result reads back as intended
# --------------------------------------------------------------------------------------

VOCABULARY = [
    "learning_rate",
    "num_train_epochs",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "warmup_ratio",
    "val_size",
    "eval_steps",
    "save_steps",
    "logging_steps",
    "output_dir",
    "template",
    "bf16",
]
FILLER_LINES = ["", "### train", "### eval", "### output", "# a note", "# val_size: 0.1"]

scalar_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["no", "on", "1e-4", "010", "null", "", "a: b", "#x", "saves/run 1"]),
    st.text(max_size=6),
)
values = st.one_of(scalar_values, st.lists(scalar_values, max_size=3))


ENTRY_LAYOUTS = ["inline", "block", "indentless"]


def entry_lines(key: str, value: Any, comment: str, layout: str) -> list[str]:
    """One entry as a person might write it: inline, or as a multi-line block value."""
    if layout != "inline" and isinstance(value, list) and value:
        indent = "  " if layout == "block" else ""
        items = [f"{indent}- {format_scalar(item)}" for item in value]
        return [f"{key}:{comment}", *items]
    if (
        layout == "block"
        and isinstance(value, str)
        and value == value.strip()
        and value.isprintable()
        and value
    ):
        return [f"{key}: |-{comment}", f"  {value}", ""]
    return [f"{key}: {format_scalar(value)}{comment}"]


@st.composite
def configs(draw: st.DrawFn) -> tuple[str, dict[str, Any], str]:
    keys = draw(st.lists(st.sampled_from(VOCABULARY), unique=True, max_size=7))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    data: dict[str, Any] = {}
    lines: list[str] = []
    for key in keys:
        lines.extend(draw(st.lists(st.sampled_from(FILLER_LINES), max_size=2)))
        data[key] = draw(values)
        comment = draw(st.sampled_from(["", "  # why", " # x: y"]))
        lines.extend(entry_lines(key, data[key], comment, draw(st.sampled_from(ENTRY_LAYOUTS))))
    lines.extend(draw(st.lists(st.sampled_from(FILLER_LINES), max_size=2)))
    text = newline.join(lines)
    ends_with_line_break = draw(st.booleans())
    if lines and ends_with_line_break:
        text += newline
    return text, data, newline


@st.composite
def edit_lists(draw: st.DrawFn) -> list[KeyEdit]:
    names = draw(st.lists(st.sampled_from(VOCABULARY), unique=True, max_size=4))
    edits: list[KeyEdit] = []
    for name in names:
        op = draw(st.sampled_from(["set", "set", "remove", "rename"]))
        if op == "set":
            after = tuple(draw(st.lists(st.sampled_from(VOCABULARY), max_size=2)))
            edits.append(KeyEdit("set", name, draw(values), after=after))
        elif op == "remove":
            edits.append(KeyEdit("remove", name))
        else:
            edits.append(KeyEdit("rename", name, new_key=f"{name}_renamed"))
    return edits


def intended_data(data: dict[str, Any], edits: list[KeyEdit]) -> dict[str, Any] | None:
    """What the edited file should contain, or None when apply_edits must refuse."""
    expected = dict(data)
    for edit in edits:
        if edit.op == "set":
            expected[edit.key] = edit.value
        elif edit.op == "remove":
            expected.pop(edit.key, None)
        elif edit.key in expected:
            assert edit.new_key is not None
            expected[edit.new_key] = expected.pop(edit.key)
        else:
            return None  # renaming a key that does not exist
    return expected


def same_typed(left: Any, right: Any) -> bool:
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same_typed, left, right))
    return type(left) is type(right) and bool(left == right)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs(), edit_lists())
def test_edits_change_only_edited_lines_and_read_back_as_intended(
    config: tuple[str, dict[str, Any], str], edits: list[KeyEdit]
) -> None:
    text, data, newline = config
    expected = intended_data(data, edits)
    event("refused" if expected is None else "applied")
    if expected is None:
        with pytest.raises(EditError):
            apply_edits(text, edits)
        return
    result = apply_edits(text, edits)

    loaded = yaml.safe_load(result) or {}
    assert set(loaded) == set(expected)
    edited_keys = {edit.key for edit in edits} | {edit.new_key for edit in edits if edit.new_key}
    assert [key for key in loaded if key not in edited_keys] == [
        key for key in data if key not in edited_keys
    ]
    for key, value in expected.items():
        assert same_typed(loaded[key], value), key
    read_by_omegaconf = OmegaConf.to_container(OmegaConf.create(result or "{}"))
    assert isinstance(read_by_omegaconf, dict)
    assert read_by_omegaconf.keys() == loaded.keys()
    for key, value in loaded.items():
        assert same_typed(read_by_omegaconf[key], value), key

    # Every generated line is a filler line at column 0, a key line, or an indented
    # (or `- `) continuation of the key line above; dropping the edited keys' lines
    # from both sides must leave identical sequences.  Line
    # endings are checked separately: appending after a last line that had no line
    # break necessarily gives that line one, and removing such a last line takes the
    # break of the line before (so a blank line just before it goes too).  Blank lines
    # at the very end are therefore left out of the comparison.
    def untouched(text: str) -> list[str]:
        lines: list[str] = []
        owner = ""
        for line in text.splitlines():
            if line and not line.startswith(("#", " ", "- ")):
                owner = line.split(":", 1)[0]
            elif not line.startswith((" ", "- ")):
                owner = ""
            if owner not in edited_keys:
                lines.append(line)
        while lines and not lines[-1]:
            lines.pop()
        return lines

    assert untouched(result) == untouched(text)

    if "\n" not in text:
        pass  # nothing to learn the newline style from
    elif newline == "\r\n":
        assert result.count("\n") == result.count("\r\n")
    else:
        assert "\r" not in result
    if text.strip() and result:  # an empty file has no final line break to keep or drop
        assert result.endswith(newline) == text.endswith(newline)

    assert apply_edits(result, edits) == result


def test_removing_a_key_with_an_empty_value_keeps_the_next_line() -> None:
    # ruamel.yaml places an empty value at the next token: the next key's line.
    text = "a: 1\nlora_model_dir:\nwandb_project:  # fill in\nz: 2\n"
    assert apply_edits(text, [KeyEdit("remove", "lora_model_dir")]) == (
        "a: 1\nwandb_project:  # fill in\nz: 2\n"
    )
    assert (
        apply_edits(text, [KeyEdit("remove", "wandb_project")]) == "a: 1\nlora_model_dir:\nz: 2\n"
    )


# --------------------------------------------------------------------------------------
# ruamel.yaml's model must agree with PyYAML's reading, or nothing is edited
# --------------------------------------------------------------------------------------

# Every kind of byte a person chooses: CRLF, two-space indented top level, flow mappings and
# lists with their own spacing, all three quoting styles, anchors and aliases, a block
# scalar, a tagged value, end-of-line and full-line comments, blank lines and trailing spaces.
HAND_WRITTEN = (
    "# run 7  \r\n"
    "  model:  {name: 'x',  size: 7b }   # spaced\r\n"
    "  lora_target: [ q_proj,v_proj ]\r\n"
    '  "learning_rate": 1.0e-4\r\n'
    "  base: &b 0.1  \r\n"
    "  warmup_ratio: *b\r\n"
    "\r\n"
    "  system: |-\r\n"
    "    Be brief.\r\n"
    "  tag: !!str 10\r\n"
    "  # the end\r\n"
    "  num_train_epochs: 3 # three\r\n"
)


def test_every_byte_outside_the_edited_keys_is_kept() -> None:
    result = apply_edits(
        HAND_WRITTEN,
        [
            KeyEdit("set", "num_train_epochs", 2),
            KeyEdit("set", "learning_rate", 2e-5),
            KeyEdit("rename", "tag", new_key="run_tag"),
            KeyEdit("set", "seed", 42, after=("lora_target",)),
        ],
    )
    assert result == (
        HAND_WRITTEN.replace("epochs: 3 #", "epochs: 2 #")
        .replace("1.0e-4", "2.0e-5")
        .replace("  tag:", "  run_tag:")
        .replace("v_proj ]\r\n", "v_proj ]\r\n  seed: 42\r\n")
    )


def test_a_key_ruamel_would_quote_differently_keeps_its_quotes_when_renamed() -> None:
    result = apply_edits("'lr': 1\n\"on\": 2\n", [KeyEdit("rename", "lr", new_key="learning_rate")])
    assert result == "'learning_rate': 1\n\"on\": 2\n"


@pytest.mark.parametrize(
    "text",
    [
        # PyYAML (YAML 1.1) reads U+2028 and U+0085 as line breaks; ruamel.yaml (1.2) does not.
        "stage: sft\nnum_train_epochs: 3\u2028seed: 1\n",
        "stage: sft\nnote:\n\x85num_train_epochs: 3\n",
    ],
)
def test_a_file_ruamel_reads_differently_from_pyyaml_is_refused(text: str) -> None:
    assert yaml.safe_load(text)["num_train_epochs"] == 3  # what the trainer reads
    with pytest.raises(EditError, match="ruamel.yaml cannot represent this file faithfully"):
        apply_edits(text, [KeyEdit("set", "num_train_epochs", 2)])


def test_a_long_run_of_comments_is_edited_in_linear_time() -> None:
    # ruamel.yaml's own comment joining is quadratic: 80,000 comment lines took 8 s,
    # so these 200,000 would take about a minute.
    text = "num_train_epoch: 3\n" + "# x\n" * 200_000 + "seed: 1  # kept\n"
    started = time.perf_counter()
    result = apply_edits(text, [KeyEdit("rename", "num_train_epoch", new_key="num_train_epochs")])
    assert time.perf_counter() - started < 20
    assert result == "num_train_epochs" + text[len("num_train_epoch") :]
