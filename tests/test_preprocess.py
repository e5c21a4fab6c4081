"""The rows LLaMA-Factory's converters and processors drop, and what is left of N after the
val_size split (lint/dialects/llamafactory/preprocess.py). The real tool's answers for the same
kinds of rows are in tests/test_crosscheck_llamafactory.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import lint

from epochlint.dialects.llamafactory.data import resolve
from epochlint.dialects.llamafactory.preprocess import invalid_rows, processors


def write(path: Path, rows: list[Any], lines: bool = False) -> str:
    text = "".join(json.dumps(r) + "\n" for r in rows) if lines else json.dumps(rows)
    path.write_text(text)
    return str(path)


def alpaca(output: Any = "an answer", **more: Any) -> dict[str, Any]:
    return {"instruction": "a question", "input": "", "output": output, **more}


def turns(*roles: str) -> dict[str, Any]:
    return {"conversations": [{"from": role, "value": "text"} for role in roles]}


def test_alpaca_rows_without_a_string_output_are_dropped_for_sft(tmp_path: Path) -> None:
    rows = [alpaca(), alpaca(None), {"instruction": "q", "input": ""}, alpaca(""), alpaca(None)]
    found = invalid_rows(write(tmp_path / "a.jsonl", rows, lines=True), {}, "sft")
    assert found == ((1, "`output` is null or missing"), (2, "`output` is null or missing"),
                     (4, "`output` is null or missing"))  # fmt: skip


def test_renamed_columns_are_followed(tmp_path: Path) -> None:
    rows = [{"q": "x", "a": "y"}, {"q": "x", "a": None}]
    entry = {"columns": {"prompt": "q", "response": "a"}}
    assert invalid_rows(write(tmp_path / "a.json", rows), entry, "sft") == (
        (1, "`a` is null or missing"),
    )


def test_sharegpt_rows_with_broken_turns_are_dropped(tmp_path: Path) -> None:
    rows = [
        turns("human", "gpt"),
        turns("system", "human", "gpt"),  # a system turn first is taken out
        turns("gpt", "human"),
        turns("human", "gpt", "human"),
        turns("human", "human"),
        turns(),
        turns("human", "function_call", "observation", "gpt"),
    ]
    found = invalid_rows(write(tmp_path / "c.json", rows), {"formatting": "sharegpt"}, "sft")
    assert found == (
        (2, "the roles do not alternate user/assistant"),
        (3, "an odd number of turns"),
        (4, "the roles do not alternate user/assistant"),
        (5, "no turns"),
    )


def test_openai_tool_results_merge_into_one_observation(tmp_path: Path) -> None:
    tags = {
        "role_tag": "role",
        "content_tag": "content",
        "user_tag": "user",
        "assistant_tag": "assistant",
        "observation_tag": "tool",
        "system_tag": "system",
    }
    call = {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f"}}]}
    good = [{"role": "user", "content": "q"}, call, {"role": "tool", "content": "1"},
            {"role": "tool", "content": "2"}, {"role": "assistant", "content": "a"}]  # fmt: skip
    bad = [{"role": "user", "content": "q"}, {"role": "user", "content": "q"}]
    rows = [{"messages": good}, {"messages": bad}]
    entry = {"formatting": "openai", "columns": {"messages": "messages"}, "tags": tags}
    found = invalid_rows(write(tmp_path / "o.json", rows), entry, "sft")
    assert found == ((1, "the roles do not alternate user/assistant"),)


def test_each_stage_keeps_its_own_shapes(tmp_path: Path) -> None:
    pairs = [alpaca(chosen="good", rejected="bad"), alpaca()]
    path = write(tmp_path / "p.json", pairs)
    ranking = {"ranking": True, "columns": {"chosen": "chosen", "rejected": "rejected"}}
    assert invalid_rows(path, ranking, "pairwise") == ((1, "it has no chosen/rejected pair"),)
    assert invalid_rows(path, {}, "unsupervised") == ()  # ppo needs only the prompt
    assert invalid_rows(path, {}, "pt") == ()
    kto = [alpaca(label=True), alpaca()]
    entry = {"columns": {"kto_tag": "label"}}
    assert invalid_rows(write(tmp_path / "k.json", kto), entry, "feedback") == (
        (1, "it has no KTO label"),
    )
    assert processors("dpo", False) == ("pairwise", "pairwise")
    assert processors("sft", True) == ("sft", "unsupervised")


def test_files_it_cannot_read_claim_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("instruction,output\nq,\n")
    assert invalid_rows(str(tmp_path / "a.csv"), {}, "sft") is None
    (tmp_path / "b.json").write_text('[{"conversations": "not a list"}]')
    assert invalid_rows(str(tmp_path / "b.json"), {"formatting": "sharegpt"}, "sft") is None


def project(tmp_path: Path, files: dict[str, list[Any]], info: dict[str, Any]) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name, rows in files.items():
        write(data / name, rows)
    (data / "dataset_info.json").write_text(json.dumps(info))
    return tmp_path


# 24 rows, the 4th, 12th and 18th dropped; train_test_split(0.2, seed=42) holds out rows
# 10, 16, 17, 19 and 20 (1-based), so all three dropped rows stay in the training split.
DROPPED = [alpaca(None if index in (3, 11, 17) else "a") for index in range(24)]


def test_val_size_split_is_reproduced_with_numpy(tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    root = project(tmp_path, {"t.json": DROPPED}, {"t": {"file_name": "t.json"}})
    resolution = resolve("t", None, root=root, processors=("sft", "sft"), val_size=0.2, seed=42)
    assert resolution.dropped is not None
    assert (resolution.dropped.train, resolution.dropped.evaluation) == ((3, 3), (0, 0))
    assert resolution.dropped.note is None


def test_without_numpy_the_split_gives_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)  # as where numpy is not installed
    root = project(tmp_path, {"t.json": DROPPED}, {"t": {"file_name": "t.json"}})
    resolution = resolve("t", None, root=root, processors=("sft", "sft"), val_size=0.2, seed=42)
    assert resolution.dropped is not None
    assert (resolution.dropped.train, resolution.dropped.evaluation) == ((0, 3), (0, 3))
    assert "numpy" in (resolution.dropped.note or "")


def test_max_samples_and_mixing_pick_the_rows_that_count(tmp_path: Path) -> None:
    files = {"a.json": [alpaca(None), alpaca(), alpaca(), alpaca(None)], "b.json": [alpaca()] * 2}
    info = {"a": {"file_name": "a.json"}, "b": {"file_name": "b.json"}}
    root = project(tmp_path, files, info)

    def dropped(**options: Any) -> tuple[int, int] | None:
        found = resolve("a,b", None, root=root, processors=("sft", "sft"), **options)
        return found.dropped.train if found.dropped else None

    assert dropped() == (2, 2)  # concat
    assert dropped(max_samples=3) == (1, 1)  # the first three rows of a
    assert dropped(mix_strategy="interleave_under") == (1, 1)  # a's first two rows
    assert dropped(mix_strategy="interleave_over") == (2, 2)  # all four of a's rows
    assert dropped(mix_strategy="interleave_under", interleave_probs="0.5,0.5") is None


def test_num_samples_draws_at_random_so_it_gives_bounds(tmp_path: Path) -> None:
    files = {"a.json": [alpaca(None), alpaca(), alpaca(), alpaca(None)]}
    root = project(tmp_path, files, {"a": {"file_name": "a.json", "num_samples": 3}})
    resolution = resolve("a", None, root=root, processors=("sft", "sft"))
    assert resolution.dropped is not None and resolution.dropped.train == (1, 2)


def test_the_plan_leaves_dropped_rows_out_and_counts_eval_dataset_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"t.json": DROPPED, "e.json": [alpaca(), alpaca(None), alpaca()]}
    info = {"t": {"file_name": "t.json"}, "e": {"file_name": "e.json"}}
    root = project(tmp_path, files, info)
    monkeypatch.chdir(root)
    text = (
        "model_name_or_path: m\nstage: sft\ndo_train: true\ndataset: t\neval_dataset: e\n"
        "per_device_train_batch_size: 2\nnum_train_epochs: 1\neval_strategy: epoch\n"
    )
    result = lint(text, root=root)
    assert result.plan is not None
    assert (result.plan.dataset_rows, result.plan.dropped_rows) == (21, 3)
    assert result.plan.eval_rows == 2 and result.plan.total_steps == 11
    assert [d.rule for d in result.diagnostics].count("EL508") == 2


def test_the_answer_is_cached_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = write(tmp_path / "a.json", [alpaca(), alpaca(None)])
    assert invalid_rows(path, {}, "sft") == ((1, "`output` is null or missing"),)
    assert list((tmp_path / "cache" / "epochlint" / "dropped-rows").glob("*.json"))
    assert invalid_rows(path, {}, "sft") == ((1, "`output` is null or missing"),)
    write(tmp_path / "a.json", [alpaca(None), alpaca(), alpaca()])
    assert invalid_rows(path, {}, "sft") == ((0, "`output` is null or missing"),)
