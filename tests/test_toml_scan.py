"""The pyproject.toml scanner that spares a run importing tomllib (issue #9).

`may_configure_epochlint` may answer True for a file without `[tool.epochlint]` (tomllib then
decides), but never False for a file tomllib reads a `tool.epochlint` table from. The texts
are generated from headers, dotted keys, inline tables, arrays and strings that spell `tool`
and `epochlint` in every way TOML allows, or mention them where they are not keys.
"""

from __future__ import annotations

import os
import tomllib

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from epochlint.configfile import may_configure_epochlint

EXAMPLES = int(os.environ.get("EPOCHLINT_FUZZ_EXAMPLES", "1500"))
SCAN = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SPELLINGS = {
    "tool": ["tool", '"tool"', "'tool'", '"\\u0074ool"', '"t\\u006Fol"', '"\\U00000074ool"'],
    "epochlint": [
        "epochlint",
        '"epochlint"',
        "'epochlint'",
        '"\\u0065pochlint"',
        '"epoch\\u006cint"',
        "epochlint-extra",
    ],
    "other": ["project", "ruff", "select", '"a b"', "'x.y'", '"[tool.epochlint]"', "lint"],
}
NAMES = st.sampled_from(["tool", "epochlint", "other"]).flatmap(
    lambda name: st.sampled_from(SPELLINGS[name])
)
DOTS = st.sampled_from([".", " . ", ".\t"])


@st.composite
def keys(draw: st.DrawFn, max_parts: int = 3) -> str:
    parts = draw(st.lists(NAMES, min_size=1, max_size=max_parts))
    text = parts[0]
    for part in parts[1:]:
        text += draw(DOTS) + part
    return text


SCALARS = st.sampled_from(
    [
        "1",
        "-2.5e3",
        "true",
        "1979-05-27 07:32:00Z",
        '"epochlint"',
        "'[tool.epochlint]'",
        '"a \\" [tool.epochlint] \\\\"',
        '"""\n[tool.epochlint]\nselect = 1\n"""',
        "'''\n[tool]\nepochlint = {}\n'''",
        '"""x\\"""\n[tool.epochlint]"""',
        '"""quoted"""""',
        "'''a''''",
        "inf",
    ]
)


def values(depth: int = 2) -> st.SearchStrategy[str]:
    if depth == 0:
        return SCALARS
    inner = values(depth - 1)
    arrays = st.lists(inner, max_size=3).flatmap(
        lambda items: st.sampled_from(
            [
                "[" + ", ".join(items) + "]",
                "[\n  " + ",\n  # [tool.epochlint]\n  ".join(items) + ",\n]",
            ]
        )
    )
    tables = st.lists(st.tuples(keys(2), inner), max_size=3).map(
        lambda pairs: "{" + ", ".join(f"{key} = {value}" for key, value in pairs) + "}"
    )
    return st.one_of(SCALARS, arrays, tables)


HEADERS = keys().flatmap(
    lambda key: st.sampled_from([f"[{key}]", f"[ {key} ]", f"[[{key}]]", f"[{key}]  # note"])
)
ASSIGNMENTS = st.tuples(keys(), values()).map(lambda pair: f"{pair[0]} = {pair[1]}")
LINES = st.one_of(HEADERS, ASSIGNMENTS, ASSIGNMENTS, st.just("# [tool.epochlint]"), st.just(""))


def tomllib_finds_the_table(text: str) -> bool | None:
    """What configfile does with the file: None when tomllib cannot read it."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    tool = document.get("tool")
    return isinstance(tool, dict) and isinstance(tool.get("epochlint"), dict)


@SCAN
@given(st.lists(LINES, max_size=8), st.sampled_from(["\n", "\r\n"]))
def test_the_scanner_never_says_no_when_tomllib_finds_the_table(
    lines: list[str], newline: str
) -> None:
    text = newline.join(lines) + newline
    if tomllib_finds_the_table(text):
        assert may_configure_epochlint(text), text


@pytest.mark.parametrize(
    "text",
    [
        '[tool.epochlint]\nselect = ["EL2"]\n',
        "[ tool . 'epochlint' ]\n",
        '[tool."\\u0065pochlint"]\n',
        "[tool]\nepochlint.select = []\n",
        "[tool]\nepochlint = {select = []}\n",
        "tool.epochlint.select = []\n",
        "tool = {epochlint = {select = []}}\n",
        "[tool.epochlint.severity]\nEL201 = 'info'\n",
        "[tool.epochlint\n",  # invalid: tomllib reports it
        'a = "unterminated\n',
    ],
)
def test_the_scanner_may_say_yes(text: str) -> None:
    assert may_configure_epochlint(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        '[project]\nname = "epochlint"\n[project.scripts]\nepochlint = "epochlint.entry:main"\n',
        '[tool.setuptools]\npackage-dir = { "epochlint" = "lint" }\n',
        '[tool.ruff]\nexclude = [\n  "epochlint",  # [tool.epochlint]\n]\n',
        'description = """\n[tool.epochlint]\nselect = 1\n"""\n',
        "[tool.other]\nepochlint = 1\n",
        "epochlint = {tool = 1}\n",
    ],
)
def test_the_scanner_says_no_when_no_key_makes_the_table(text: str) -> None:
    assert tomllib_finds_the_table(text) is False
    assert not may_configure_epochlint(text)


def test_the_repository_pyproject_is_read_without_tomllib() -> None:
    with open(os.path.join(os.path.dirname(__file__), "..", "pyproject.toml")) as file:
        assert not may_configure_epochlint(file.read())
