"""Fuzzing the reader, the rules and the fixer with generated configs and corrupted bytes.

The configs come from a grammar of realistic LLaMA-Factory keys and values, written in block
and flow style, with comments, directives, anchors, aliases and merge keys, then optionally
corrupted byte by byte. The properties: checking never raises and always ends in findings, a
plan, a skip note or a one-line error; `--fix` never raises, and what it would write parses as
a mapping and is left unchanged by a second `--fix`.

CI runs a bounded number of examples; a longer run sets EPOCHLINT_FUZZ_EXAMPLES, e.g.
`EPOCHLINT_FUZZ_EXAMPLES=20000 .venv/bin/pytest tests/test_fuzz.py`. A crash it finds becomes a
fixture under fixtures/hostile/ (and a case in test_hostile.py), as `.inf` in the schedule did:
fixtures/hostile/infinite_numbers.yaml.
"""

from __future__ import annotations

import os

import pytest
import yaml
from conftest import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from epochlint.engine import check_bytes
from epochlint.fix.planner import fix_source
from epochlint.reading.source import SourceError, decode

pytestmark = pytest.mark.slow  # hypothesis: hundreds of generated configs

EXAMPLES = int(os.environ.get("EPOCHLINT_FUZZ_EXAMPLES", "150"))
FUZZ = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

KEYS = [
    "model_name_or_path",
    "stage",
    "do_train",
    "finetuning_type",
    "lora_rank",
    "lora_target",
    "quantization_bit",
    "dataset",
    "eval_dataset",
    "dataset_dir",
    "template",
    "cutoff_len",
    "max_samples",
    "packing",
    "streaming",
    "output_dir",
    "logging_steps",
    "save_steps",
    "save_strategy",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "learning_rate",
    "num_train_epochs",
    "max_steps",
    "lr_scheduler_type",
    "warmup_ratio",
    "warmup_steps",
    "bf16",
    "fp16",
    "val_size",
    "eval_strategy",
    "eval_steps",
    "load_best_model_at_end",
    "metric_for_best_model",
    "early_stopping_steps",
    "report_to",
    # misspelt, renamed, deprecated and foreign keys: the rules with fixes
    "num_train_epoch",
    "evaluation_strategy",
    "early_stopping_patience",
    "micro_batch_size",
    "lora_r",
]
SCALARS = st.one_of(
    st.sampled_from(
        [
            "1",
            "3",
            "10",
            "0",
            "-1",
            "1e-4",
            "1.0e-4",
            "2e-5",
            "0.1",
            "3.0",
            "500",
            "1e4",
            ".inf",
            "-.inf",
            ".nan",
        ]
    ),
    st.sampled_from(["true", "false", "yes", "no", "on", "off", "null", "~", ""]),
    st.sampled_from(["sft", "pt", "dpo", "lora", "qlora", "full", "cosine", "steps", "epoch"]),
    st.sampled_from(["'1e-4'", '"no"', "'steps'", '"a: b"', "data/x.json", "identity,alpaca"]),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=8),
)


@st.composite
def values(draw: st.DrawFn, indent: str) -> str:
    kind = draw(st.sampled_from(["scalar", "scalar", "scalar", "flow", "block", "map", "text"]))
    if kind == "flow":
        return "[" + ", ".join(draw(st.lists(SCALARS, max_size=3))) + "]"
    if kind == "block":
        items = draw(st.lists(SCALARS, min_size=1, max_size=3))
        return "".join(f"\n{indent}  - {item}" for item in items)
    if kind == "map":
        items = draw(st.lists(st.tuples(st.sampled_from(KEYS), SCALARS), min_size=1, max_size=3))
        return "".join(f"\n{indent}  {key}: {value}" for key, value in items)
    if kind == "text":
        return "|\n" + "".join(f"{indent}  {line}\n" for line in ["# not a comment", "line"])
    return draw(SCALARS)


@st.composite
def configs(draw: st.DrawFn) -> str:
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append(f"# epochlint: dataset-size={draw(st.sampled_from([0, 1, 300, 30000]))}")
    anchors: list[str] = []
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=14)):
        prefix = ""
        if draw(st.integers(0, 9)) == 0:
            anchors.append(f"a{len(anchors)}")
            prefix = f"&{anchors[-1]} "
        if anchors and draw(st.integers(0, 9)) == 0:
            line = f"{key}: *{draw(st.sampled_from(anchors))}"
        else:
            line = f"{key}: {prefix}{draw(values(''))}"
        if draw(st.integers(0, 4)) == 0:
            line += "  # " + draw(st.sampled_from(["note", "epochlint: disable=EL201", "x: y"]))
        lines.append(line)
        extra = draw(st.sampled_from(["", "", "", "# comment", "### train", "<<: {stage: sft}"]))
        if extra:
            lines.append(extra)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + draw(st.sampled_from([newline, ""]))
    if draw(st.booleans()):
        text = "{" + ", ".join(line for line in lines if ": " in line and "\n" not in line) + "}"
    return text


@st.composite
def corrupted(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(configs()).encode())
    for _ in range(draw(st.integers(0, 3))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = draw(st.sampled_from([0x00, 0x09, 0x0A, 0x23, 0x26, 0x2A, 0x3A, 0x7B, 0xC3, 0xFF]))
        if action == "insert" or position == len(data):
            data.insert(position, byte)
        elif action == "delete":
            del data[position]
        else:
            data[position] = byte
    return bytes(data)


@FUZZ
@given(corrupted())
def test_checking_never_raises_and_always_says_something(data: bytes) -> None:
    result = check_bytes(data, "fuzz.yaml", settings())
    answered = result.diagnostics or result.plan is not None or result.skipped or result.error
    assert answered, result
    for diagnostic in result.diagnostics:
        assert diagnostic.line >= 1 and diagnostic.column >= 1
        assert diagnostic.message
        if diagnostic.rule == "EL001":  # a value quoted in a message may span lines; EL001 not
            assert "\n" not in diagnostic.message


@FUZZ
@given(corrupted())
def test_fixing_never_raises_and_writes_only_parseable_idempotent_yaml(data: bytes) -> None:
    try:
        source = decode(data, "fuzz.yaml")
    except SourceError:
        return  # reported as EL001 and never fixed (test_hostile.py)
    outcome = fix_source(source, settings())
    if not outcome.changed:
        return
    assert isinstance(yaml.safe_load(outcome.text), dict)
    again = fix_source(decode(outcome.text.encode(), "fuzz.yaml"), settings())
    assert not again.changed or again.text == outcome.text, (outcome.text, again.text)
