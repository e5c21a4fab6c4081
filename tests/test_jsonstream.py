"""JsonStream reads a JSON object member by member exactly as json.loads reads it whole,
wherever the chunks split the text (a number, a literal, a string or an escape cut in two)."""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pytest

from epochlint.run import jsonstream
from epochlint.run.jsonstream import STREAMED, JsonStream


def _streamed(text: str) -> tuple[dict[str, Any], list[Any]]:
    elements: list[Any] = []
    reader = JsonStream(io.StringIO(text))
    members = dict(reader.members("log_history", elements.append))
    return members, elements


def _value(generator: random.Random, depth: int = 0) -> Any:
    kind = generator.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return generator.choice([True, False, None])
    if kind == 1:
        return generator.randint(-(10**20), 10**20)
    if kind == 2:
        return generator.choice([1.5e-7, -2.25, 1e300, 0.1, float("inf"), float("-inf")])
    if kind in (3, 4, 5):
        return "".join(generator.choice('ab"\\\n\u00e9\U0001f642 /') for _ in range(6))
    if kind in (6, 7):
        return [_value(generator, depth + 1) for _ in range(generator.randrange(4))]
    return {f"k{i}": _value(generator, depth + 1) for i in range(generator.randrange(4))}


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
def test_members_and_elements_are_what_json_loads_reads(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK_CHARACTERS", chunk)
    generator = random.Random(chunk)
    for _ in range(60):
        state = {"max_steps": _value(generator), "log_history": [], "z": _value(generator)}
        state["log_history"] = [_value(generator) for _ in range(generator.randrange(6))]
        text = json.dumps(state, indent=generator.choice([None, 2]))
        members, elements = _streamed(text)
        expected = json.loads(text)
        assert elements == expected.pop("log_history")
        assert members.pop("log_history") is STREAMED
        assert members == expected


@pytest.mark.parametrize("chunk", [1, 3, 1 << 20])
@pytest.mark.parametrize(
    "text",
    [
        '{"log_history": [{"step": 1}, {"step": 2}',  # cut off while written
        '{"log_history": [{"step": 1} {"step": 2}]}',
        '{"log_history": [1, 2,]}',
        '{"max_steps": 10 "log_history": []}',
        '{"log_history": []} trailing',
        '{"log_history": [tru]}',
        '{"a": "unterminated}',
    ],
)
def test_malformed_text_is_an_error_at_json_loads_line(
    text: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK_CHARACTERS", chunk)
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as found:
        _streamed(text)
    assert found.value.lineno == expected.value.lineno


def test_error_positions_count_the_lines_already_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK_CHARACTERS", 5)
    text = '{\n  "log_history": [\n    {"step": 1},\n    {"step": 2}\n    {"step": 3}\n  ]\n}'
    with pytest.raises(json.JSONDecodeError) as found:
        _streamed(text)
    assert (found.value.lineno, found.value.colno) == (5, 5)
