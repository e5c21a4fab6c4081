from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CORPUS, require

from epochlint.dialects.llamafactory.data import resolve
from epochlint.facts.dataset import Resolution


@pytest.fixture
def needs_corpus() -> None:
    require(CORPUS / "llamafactory", "the LLaMA-Factory corpus")


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def llamafactory_root() -> Path:
    return CORPUS / "llamafactory"


def codes(resolution: Resolution) -> list[str]:
    return [problem.code for problem in resolution.problems]


def make_project(root: Path, info: object, files: dict[str, str] | None = None) -> Path:
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    text = info if isinstance(info, str) else json.dumps(info)
    (data / "dataset_info.json").write_text(text)
    for name, content in (files or {}).items():
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_text(content)
    return root


def rows_json(count: int) -> str:
    return json.dumps([{"instruction": f"q{i}", "output": "a"} for i in range(count)])


@pytest.mark.usefixtures("needs_corpus")
def test_max_samples_applies_per_dataset(llamafactory_root: Path) -> None:
    resolution = resolve("identity,alpaca_en_demo", None, root=llamafactory_root, max_samples=1000)
    assert resolution.rows == 1090
    assert [item.rows for item in resolution.datasets] == [91, 999]
    assert resolution.problems == ()


@pytest.mark.usefixtures("needs_corpus")
@pytest.mark.parametrize(
    ("name", "rows"), [("alpaca_en_demo", 999), ("c4_demo", 300), ("wiki_demo", 30)]
)
def test_demo_dataset_sizes(llamafactory_root: Path, name: str, rows: int) -> None:
    resolution = resolve(name, None, root=llamafactory_root)
    assert resolution.rows == rows
    assert resolution.datasets[0].source == "file"
    assert resolution.datasets[0].path is not None


@pytest.mark.usefixtures("needs_corpus")
def test_ranking_flag_comes_from_the_entry(llamafactory_root: Path) -> None:
    resolution = resolve(["dpo_en_demo", "identity"], None, root=llamafactory_root)
    assert [item.ranking for item in resolution.datasets] == [True, False]
    assert resolution.rows == 300 + 91


@pytest.mark.usefixtures("needs_corpus")
@pytest.mark.parametrize("name", ["med", "math"])
def test_undefined_names_are_el502(llamafactory_root: Path, name: str) -> None:
    resolution = resolve(f"identity, {name}", None, root=llamafactory_root)
    assert resolution.rows is None
    assert codes(resolution) == ["EL502"]
    assert resolution.problems[0].dataset == name
    assert f"Undefined dataset {name} in dataset_info.json" in resolution.problems[0].message


@pytest.mark.usefixtures("needs_corpus")
def test_typo_gets_a_single_suggestion(llamafactory_root: Path) -> None:
    resolution = resolve("identiy", None, root=llamafactory_root)
    assert resolution.problems[0].suggestion == "identity"
    assert "did you mean 'identity'?" in resolution.problems[0].message


@pytest.mark.usefixtures("needs_corpus")
def test_ambiguous_typo_gets_no_suggestion(llamafactory_root: Path) -> None:
    # alpaca_en_demo and alpaca_zh_demo are both close: a rename could pick the wrong one.
    resolution = resolve("alpaca_en_dem", None, root=llamafactory_root)
    assert resolution.problems[0].suggestion is None
    assert "add it to dataset_info.json or fix the name" in resolution.problems[0].message


@pytest.mark.usefixtures("needs_corpus")
def test_hub_dataset_makes_n_unknown_and_says_how_to_provide_it(llamafactory_root: Path) -> None:
    resolution = resolve("identity,alpaca_en", None, root=llamafactory_root)
    assert resolution.rows is None
    assert [item.source for item in resolution.datasets] == ["file", "hub"]
    assert resolution.datasets[0].rows == 91
    assert codes(resolution) == ["EL501"]
    assert "--dataset-size" in resolution.problems[0].message


def test_nothing_given_resolves_to_nothing(tmp_path: Path) -> None:
    assert resolve(None, None, root=tmp_path) == Resolution(None, (), None, (), ())


def test_online_dataset_dir(tmp_path: Path) -> None:
    resolution = resolve("org/data", None, root=tmp_path, dataset_dir="ONLINE")
    assert resolution.rows is None
    assert resolution.datasets[0].source == "online"
    assert codes(resolution) == ["EL501"]
    assert "dataset-size=N" in resolution.problems[0].message


def test_remote_dataset_dir(tmp_path: Path) -> None:
    resolution = resolve("x", None, root=tmp_path, dataset_dir="REMOTE:org/repo")
    assert resolution.rows is None
    assert codes(resolution) == ["EL501"]


def test_missing_dataset_info_is_only_info(tmp_path: Path) -> None:
    resolution = resolve("anything", None, root=tmp_path)
    assert resolution.rows is None
    assert codes(resolution) == ["EL501"]
    assert "data/dataset_info.json was not found" in resolution.problems[0].message


def test_malformed_dataset_info_points_at_the_line(tmp_path: Path) -> None:
    root = make_project(tmp_path, '{\n  "a": {"file_name": "a.json"},\n  "b": \n}')
    resolution = resolve("a", None, root=root)
    assert resolution.rows is None
    assert codes(resolution) == ["EL503"]
    assert "dataset_info.json: line 4 column 1" in resolution.problems[0].message


@pytest.mark.parametrize("info", [[1, 2], {"a": "a.json"}])
def test_dataset_info_of_the_wrong_shape(tmp_path: Path, info: object) -> None:
    resolution = resolve("a", None, root=make_project(tmp_path, info))
    assert resolution.rows is None
    assert codes(resolution) == ["EL503"]


def test_source_precedence_and_unknown_sources(tmp_path: Path) -> None:
    info = {
        "both": {"hf_hub_url": "org/x", "file_name": "both.json"},
        "script": {"script_url": "my_script", "file_name": "x.json"},
        "cloud": {"cloud_file_name": "s3://bucket/x.json"},
    }
    root = make_project(tmp_path, info, {"both.json": rows_json(2)})
    resolution = resolve("both,script,cloud", None, root=root)
    assert [item.source for item in resolution.datasets] == ["hub", "script", "cloud"]
    assert resolution.rows is None
    assert codes(resolution) == ["EL501"] * 3


def test_num_samples_then_max_samples(tmp_path: Path) -> None:
    info = {
        "over": {"file_name": "over.json", "num_samples": 50},
        "under": {"file_name": "under.json", "num_samples": 3},
    }
    root = make_project(tmp_path, info, {"over.json": rows_json(10), "under.json": rows_json(10)})
    resolution = resolve("over,under", None, root=root)
    assert [(item.stored_rows, item.rows) for item in resolution.datasets] == [(10, 50), (10, 3)]
    assert resolution.rows == 53
    assert resolve("over,under", None, root=root, max_samples=20).rows == 20 + 3


@pytest.mark.parametrize(
    ("mix_strategy", "rows"), [("concat", 14), ("interleave_under", 8), ("interleave_over", 20)]
)
def test_mix_strategies(tmp_path: Path, mix_strategy: str, rows: int) -> None:
    info = {"small": {"file_name": "s.json"}, "big": {"file_name": "b.json"}}
    root = make_project(tmp_path, info, {"s.json": rows_json(4), "b.json": rows_json(10)})
    assert resolve("small,big", None, root=root, mix_strategy=mix_strategy).rows == rows


@pytest.mark.parametrize(
    ("mix_strategy", "probs", "reason"),
    [
        ("interleave_under", "0.5,0.5", "at random"),
        ("interleave_over", [0.2, 0.8], "at random"),
        ("interleave_once", None, "interleave_once"),
    ],
)
def test_stochastic_mixes_are_unknown(
    tmp_path: Path, mix_strategy: str, probs: object, reason: str
) -> None:
    info = {"small": {"file_name": "s.json"}, "big": {"file_name": "b.json"}}
    root = make_project(tmp_path, info, {"s.json": rows_json(4), "b.json": rows_json(10)})
    resolution = resolve(
        "small,big", None, root=root, mix_strategy=mix_strategy, interleave_probs=probs
    )
    assert resolution.rows is None
    assert codes(resolution) == ["EL501"]
    assert reason in resolution.problems[0].message


def test_streaming_is_unknown(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"a": {"file_name": "a.json"}}, {"a.json": rows_json(4)})
    resolution = resolve("a", None, root=root, streaming=True)
    assert resolution.rows is None
    assert codes(resolution) == ["EL501"]
    assert "streaming" in resolution.problems[0].message


def test_eval_dataset_gets_max_samples_too(tmp_path: Path) -> None:
    info = {"train": {"file_name": "t.json"}, "dev": {"file_name": "d.json"}}
    root = make_project(tmp_path, info, {"t.json": rows_json(30), "d.json": rows_json(12)})
    resolution = resolve("train", ["dev"], root=root, max_samples=10)
    assert (resolution.rows, resolution.eval_rows) == (10, 10)
    assert resolution.eval_datasets[0].stored_rows == 12


def test_dataset_dir_is_relative_to_root(tmp_path: Path) -> None:
    data = tmp_path / "custom"
    data.mkdir()
    (data / "dataset_info.json").write_text(json.dumps({"a": {"file_name": "a.txt"}}))
    (data / "a.txt").write_text("x\ny\n")
    assert resolve("a", None, root=tmp_path, dataset_dir="custom").rows == 2


@pytest.mark.parametrize(
    ("files", "file_name", "message"),
    [
        ({}, "missing.json", "missing.json: cannot read"),
        ({"cut.json": '[{"a": "b"}, {"a": '}, "cut.json", "truncated"),
        ({"mix/a.json": "[]", "mix/b.csv": "x\n1\n"}, "mix", "File types should be identical"),
        ({"nest/a.json": "[]", "nest/sub/b.json": "[]"}, "nest", "is a folder"),
        ({"a.xlsx": ""}, "a.xlsx", "arrow,csv,json,jsonl,parquet,txt"),
    ],
)
def test_unreadable_dataset_files_are_el503(
    tmp_path: Path, files: dict[str, str], file_name: str, message: str
) -> None:
    info = {"bad": {"file_name": file_name}, "good": {"file_name": "good.json"}}
    root = make_project(tmp_path, info, {**files, "good.json": rows_json(3)})
    resolution = resolve("good,bad", None, root=root)
    assert resolution.rows is None
    assert [item.rows for item in resolution.datasets] == [3, None]
    assert codes(resolution) == ["EL503"]
    problem = resolution.problems[0]
    assert problem.dataset == "bad"
    assert message in problem.message
    assert "\n" not in problem.message


def test_symlink_loop_dataset_is_el503(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"loop": {"file_name": "loop.json"}})
    (root / "data" / "loop.json").symlink_to(root / "data" / "loop.json")
    resolution = resolve("loop", None, root=root)
    assert codes(resolution) == ["EL503"]


def test_entry_without_file_name_is_el503(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"a": {"formatting": "sharegpt"}})
    resolution = resolve("a", None, root=root)
    assert codes(resolution) == ["EL503"]
    assert "has no file_name" in resolution.problems[0].message
