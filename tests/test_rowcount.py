from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from epochlint.facts import rowcount
from epochlint.facts.rowcount import RowCountError, count_rows


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    cache_home = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    return cache_home


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


TRICKY_ROWS: list[object] = [
    {"instruction": 'brackets "[{" inside, escaped quote \\" and backslash \\\\', "output": "]}"},
    {"instruction": "unicode 数据 🙂", "input": "", "output": "a\nb", "history": [["q", "a"]]},
    {"nested": {"deep": [[1, 2, {"x": [3, 4]}], []], "empty": {}}, "n": -1.5e3, "t": True},
    {"instruction": "\\", "output": '\\\\\\"'},
]


@pytest.mark.parametrize("rows", [[], [{}], TRICKY_ROWS, TRICKY_ROWS * 50])
def test_json_array_counts_top_level_elements(tmp_path: Path, rows: list[object]) -> None:
    path = write(tmp_path / "data.json", json.dumps(rows, ensure_ascii=False, indent=2))
    assert count_rows(path) == len(rows)


def test_json_array_split_across_many_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny chunks put every boundary case (mid-string, mid-escape, mid-object) in play.
    monkeypatch.setattr(rowcount, "CHUNK_SIZE", 7)
    rows = TRICKY_ROWS * 5
    path = write(tmp_path / "data.json", json.dumps(rows, ensure_ascii=False))
    assert count_rows(path, use_cache=False) == len(rows)
    monkeypatch.setattr(rowcount, "CHUNK_SIZE", 1)
    assert count_rows(path, use_cache=False) == len(rows)


def test_json_array_of_scalars_and_bom(tmp_path: Path) -> None:
    path = write(tmp_path / "data.json", b'\xef\xbb\xbf  ["a", 1, null, "]"]\n')
    assert count_rows(path) == 4


@pytest.mark.parametrize(
    ("content", "expected_detail"),
    [
        ('[{"a": "b"}, {"a": "c', "string is not terminated"),
        ('[{"a": "b"}, {"a": [1, 2]', "2 bracket(s) still open"),
        ('[{"a": "b"}]]', "after the closing"),
        ('[{"a": "b"}] 7', "after the closing"),
        ('[{"a": ["b"}]', "unbalanced brackets"),
    ],
)
def test_malformed_json_array_is_a_clean_error(
    tmp_path: Path, content: str, expected_detail: str
) -> None:
    path = write(tmp_path / "broken.json", content)
    with pytest.raises(RowCountError) as caught:
        count_rows(path)
    message = str(caught.value)
    assert str(path) in message
    assert expected_detail in message
    assert "byte" in message or "after the closing" in message
    assert "\n" not in message


def test_truncated_json_array_reports_end_offset(tmp_path: Path) -> None:
    content = json.dumps(TRICKY_ROWS)
    path = write(tmp_path / "cut.json", content[:-10])
    with pytest.raises(RowCountError, match=rf"byte {len(content.encode()) - 10}\b"):
        count_rows(path)


def test_json_lines_in_json_and_jsonl_files(tmp_path: Path) -> None:
    lines = "\n".join(json.dumps(row) for row in TRICKY_ROWS)
    # The extension does not decide the format for datasets' json builder, the content does.
    assert count_rows(write(tmp_path / "a.json", lines + "\n")) == 4
    assert count_rows(write(tmp_path / "b.jsonl", lines)) == 4  # no final newline


def test_json_lines_skip_blank_lines_like_pyarrow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = '\n{"a": 1}\n\n  \n{"a": 2}\r\n\t\r\n{"a": 3}\n\n\n'
    path = write(tmp_path / "blank.jsonl", content)
    assert count_rows(path, use_cache=False) == 3
    # Blank lines spanning chunk boundaries must count the same.
    for chunk_size in (1, 2, 3, 5):
        monkeypatch.setattr(rowcount, "CHUNK_SIZE", chunk_size)
        assert count_rows(path, use_cache=False) == 3


def test_truncated_json_lines_reports_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "cut.jsonl", '{"a": 1}\n{"a": 2}\n\n{"a": "unfinis\n\n')
    with pytest.raises(RowCountError, match=r"line 4 \(the last one\)"):
        count_rows(path)


def test_json_that_is_neither_array_nor_lines(tmp_path: Path) -> None:
    with pytest.raises(RowCountError, match=r"byte 2 is '\"'"):
        count_rows(write(tmp_path / "s.json", '  "just a string"'))


def test_empty_json_file_has_no_rows(tmp_path: Path) -> None:
    assert count_rows(write(tmp_path / "e.json", " \n")) == 0


@pytest.mark.parametrize(
    ("content", "rows"),
    [("", 0), ("one", 1), ("one\n", 1), ("one\n\nthree\n", 3), ("a\r\nb\rc", 3), ("\n\n", 2)],
)
def test_text_has_one_row_per_line_including_empty_ones(
    tmp_path: Path, content: str, rows: int
) -> None:
    assert count_rows(write(tmp_path / "t.txt", content)) == rows


def test_csv_counts_records_not_lines(tmp_path: Path) -> None:
    content = 'instruction,output\n"multi\nline, quoted",x\n\nplain,"y ""q"""\n'
    assert count_rows(write(tmp_path / "d.csv", content)) == 2


def test_csv_with_only_a_header_has_no_rows(tmp_path: Path) -> None:
    assert count_rows(write(tmp_path / "d.csv", "instruction,output\n")) == 0


# What pandas 3.1 (read_csv, which datasets 5.2's csv builder calls) gives for each file, found by
# running both: a line of spaces and tabs is skipped like an empty one, a quote opens a quoted
# field only as the field's first byte, and a quoted field still open at the end is an error.
CSV_AS_PANDAS_READS_IT: dict[str, int | None] = {
    "a,b\n1,2\n   \n3,4\n": 2,
    "a,b\n1,2\n\t \n3,4\n": 2,
    "a,b\r\n1,2\r\n \t \r\n3,4\r\n": 2,
    "a,b\n1,2\n   ": 1,
    "  \na,b\n1,2\n": 1,
    "a,b\n1,2\n\f\n3,4\n": 3,  # only spaces and tabs make a line blank
    'a\n1\n""\n2\n': 3,  # an empty quoted field is a row
    "a,b\n1,2\n,\n3,4\n": 3,
    'a,b\n1,x"y\n3,4\n': 2,
    'a,b\n  "x\ny",1\n3,4\n': 3,  # after spaces a quote is a plain character
    'a,b\n1, "x\ny"\n3,4\n': 3,
    'a,b\n"x"y"\nz",1\n3,4\n': 3,  # after the closing quote too
    'a,b\n"x""\n""y",1\n3,4\n': 2,
    'a,b\n"x\n\n\ny",1\n3,4\n': 2,
    "a,b\r1,2\r3,4\r": 2,
    "a,b\n1,2\r3,4\r\n5,6\n": 3,
    "a,b\n": 0,
    'a,b\n1,"2\n3,4\n': None,  # EOF inside string
    'a,b\n1,2\n3,"4\n': None,
    'a\n1\n"\n': None,
    "": None,  # no columns to parse
    "   \n  \n": None,
    "a,b\n1,2\n3,4,5\n": None,  # Expected 2 fields in line 3, saw 3
    "a,b\n1\n2,3,4\n": None,
    "a,b\n1,2,3,4\n5,6\n": 2,  # a first row with more fields sets the count (the index)
    "a,b\n1,2,3,4\n5,6,7,8,9\n": None,
    'a,b\n"x,y",2\n': 1,
}


@pytest.mark.parametrize("content", sorted(CSV_AS_PANDAS_READS_IT))
@pytest.mark.parametrize("chunk_size", [1, 2, 3, 1 << 20])
def test_csv_counts_and_refuses_what_pandas_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, chunk_size: int
) -> None:
    monkeypatch.setattr(rowcount, "CHUNK_SIZE", chunk_size)  # every split between chunks
    path = write(tmp_path / "d.csv", content)
    expected = CSV_AS_PANDAS_READS_IT[content]
    if expected is None:
        with pytest.raises(RowCountError, match="pandas and datasets refuse it"):
            count_rows(path, use_cache=False)
    else:
        assert count_rows(path, use_cache=False) == expected


def test_a_csv_record_with_too_many_fields_is_named_by_pandas_line(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", 'a,b\n"x\ny",2\n\n3,4,5\n')  # pandas: line 4, saw 3
    with pytest.raises(RowCountError, match=r"line 4: malformed CSV \(Expected 2 fields, saw 3"):
        count_rows(path, use_cache=False)


def test_csv_counts_agree_with_pandas_on_generated_files(tmp_path: Path) -> None:
    import random

    if os.environ.get("CI") == "true":  # CI installs the crosscheck extra: pandas must be there
        import pandas
    else:
        pandas = pytest.importorskip("pandas", reason="the crosscheck extra installs pandas")

    pieces = ["a", "b", ",", '"', "\n", " ", "\t", "\r\n", '""']
    generator = random.Random(7)
    compared = 0
    for index in range(600):
        text = "h,k\n" * generator.randint(0, 1)
        text += "".join(generator.choice(pieces) for _ in range(generator.randint(0, 30)))
        path = write(tmp_path / f"{index}.csv", text)
        expected: int | str | None
        try:
            expected = len(pandas.read_csv(path))
        except pandas.errors.ParserError as error:
            # "Expected 2 fields in line 3, saw 3": the same numbers in epochlint's message
            found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
            expected = (
                "line {1}: malformed CSV (Expected {0} fields, saw {2})".format(*found.groups())
                if found
                else None
            )
        except pandas.errors.EmptyDataError:
            expected = None
        counted: int | str | None
        try:
            counted = count_rows(path, use_cache=False)
        except RowCountError as error:
            counted = None if isinstance(expected, int) or expected is None else str(error)
        if isinstance(expected, str):
            assert isinstance(counted, str) and expected in counted, repr(text)
        else:
            assert counted == expected, repr(text)
        compared += 1
    assert compared == 600


def test_parquet_without_pyarrow_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes `import pyarrow` fail
    path = write(tmp_path / "d.parquet", b"PAR1")
    with pytest.raises(RowCountError, match=r"pip install 'epochlint\[parquet\]'"):
        count_rows(path)


def test_parquet_and_arrow_row_counts(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"instruction": [f"row {i}" for i in range(123)]})
    pq.write_table(table, tmp_path / "d.parquet", row_group_size=50)
    assert count_rows(tmp_path / "d.parquet") == 123
    with pa.OSFile(str(tmp_path / "d.arrow"), "wb") as sink:
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=40)
    assert count_rows(tmp_path / "d.arrow") == 123
    with pytest.raises(RowCountError, match="cannot read parquet data"):
        count_rows(write(tmp_path / "bad.parquet", b"not parquet at all"))


def test_directory_sums_its_files_and_accepts_json_with_jsonl(tmp_path: Path) -> None:
    folder = tmp_path / "shards"
    folder.mkdir()
    write(folder / "a.json", json.dumps([{"a": 1}] * 3))
    write(folder / "b.jsonl", '{"a": 1}\n{"a": 2}\n')
    assert count_rows(folder) == 5


def test_directory_with_mixed_types_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    write(folder / "a.json", "[]")
    write(folder / "b.csv", "x\n1\n")
    with pytest.raises(RowCountError, match="File types should be identical"):
        count_rows(folder)


def test_directory_with_a_subfolder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "nested"
    (folder / "part2").mkdir(parents=True)
    write(folder / "a.json", "[]")
    with pytest.raises(RowCountError, match=r"part2: is a folder"):
        count_rows(folder)


@pytest.mark.parametrize("name", ["data.xlsx", "README"])
def test_unknown_extension_names_the_allowed_types(tmp_path: Path, name: str) -> None:
    with pytest.raises(RowCountError, match="arrow,csv,json,jsonl,parquet,txt"):
        count_rows(write(tmp_path / name, "x"))


def test_missing_file_is_a_row_count_error(tmp_path: Path) -> None:
    with pytest.raises(RowCountError, match=r"missing\.json: cannot read \(No such file"):
        count_rows(tmp_path / "missing.json")


def test_symlink_loop_is_a_row_count_error(tmp_path: Path) -> None:
    loop = tmp_path / "loop.json"
    loop.symlink_to(tmp_path / "loop.json")
    with pytest.raises(RowCountError, match="loop.json: cannot read"):
        count_rows(loop)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "self.json").symlink_to(folder / "self.json")
    with pytest.raises(RowCountError, match="self.json: cannot read"):
        count_rows(folder)


def test_file_vanishing_between_listing_and_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "gone.json", "[1, 2]")
    real_count_file = rowcount._count_file

    def delete_then_count(file_path: str, builder: str) -> int:
        os.remove(file_path)
        return real_count_file(file_path, builder)

    monkeypatch.setattr(rowcount, "_count_file", delete_then_count)
    with pytest.raises(RowCountError, match="gone.json: cannot read"):
        count_rows(path)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file"
)
def test_permission_denied_is_a_row_count_error(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.json", "[1]")
    path.chmod(0)
    try:
        with pytest.raises(RowCountError, match="Permission denied"):
            count_rows(path)
    finally:
        path.chmod(0o600)


def test_second_count_comes_from_the_cache_until_mtime_changes(tmp_path: Path) -> None:
    path = write(tmp_path / "rows.json", "[1, 2, 3]")
    assert count_rows(path) == 3
    original = path.stat()
    # Same size, same mtime, different content: only a cache hit can still answer 3.
    write(path, "[1,2,3,4]")
    os.utime(path, ns=(original.st_atime_ns, original.st_mtime_ns))
    assert count_rows(path) == 3
    assert count_rows(path, use_cache=False) == 4
    os.utime(path, ns=(original.st_atime_ns, original.st_mtime_ns + 1_000_000))
    assert count_rows(path) == 4


def test_corrupt_cache_entries_are_ignored(tmp_path: Path, private_cache: Path) -> None:
    path = write(tmp_path / "rows.json", "[1, 2]")
    assert count_rows(path) == 2
    entries = list((private_cache / "epochlint").rglob("*.json"))
    assert len(entries) == 1
    for garbage in ("{not json", "[]", '{"rows": "many"}', "[" * 100_000):
        entries[0].write_text(garbage)
        assert count_rows(path) == 2


def test_unwritable_cache_does_not_fail_a_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = write(tmp_path / "not-a-folder", "x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # mkdir under a file fails
    assert count_rows(write(tmp_path / "rows.json", "[1]")) == 1


@pytest.mark.skipif(shutil.which("grep") is None, reason="grep is not installed")
@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1}\n{"a": 2}\n',
        '{"a": 1}\n\n   \n{"a": 2}',  # blank and whitespace-only lines, no final newline
        '{"a": 1}\r\n\r\n{"a": 2}\r\n{"a": 3}\r\n',
        '\n\n{"a": "caf\u00e9"}\n',
    ],
)
def test_large_json_lines_counted_by_grep_match_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(text, encoding="utf-8")
    by_python = count_rows(path, use_cache=False)
    monkeypatch.setattr(rowcount, "_GREP_FROM_BYTES", 0)  # as if the file were large
    assert count_rows(path, use_cache=False) == by_python


def test_large_json_lines_fall_back_to_python_without_grep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n')
    monkeypatch.setattr(rowcount, "_GREP_FROM_BYTES", 0)
    monkeypatch.setattr(shutil, "which", lambda name: None)  # rowcount imports it when needed
    assert count_rows(path, use_cache=False) == 2
