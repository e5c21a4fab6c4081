"""epochlint's model of pydantic's lax mode (the Axolotl dialect's `lax` module) against pydantic
itself: every annotation of Axolotl's config fields that plain Python can spell, crossed with
values a YAML file can hold. pydantic runs in the Axolotl oracle (scripts/oracles/axolotl.sh);
without it the test skips locally and fails in CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED

from epochlint.dialects.axolotl.lax import coerce, refusal

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / ".oracles" / "axolotl" / "bin" / "python"
KEYS = SHARED / "reference" / "axolotl_keys.json"
VALUES: list[Any] = [
    None, True, False, 0, 1, 2, -3, 3.0, 0.5, "3", "3.0", " 4 ", "1e4", "2e-5", "0.01", "true",
    "False", "yes", "no", "off", "auto", "legacy", "memory_efficient", "x", "", [], ["a"], [1],
    {}, {"a": 1},
]  # fmt: skip
# Run by the oracle's Python: pydantic's verdict on each (annotation, value).
PYDANTIC = """
import json, sys
from typing import Any, Literal, Optional, Union, List
from pydantic import TypeAdapter, ValidationError
NoneType = type(None)
cases = json.load(sys.stdin)
out = []
for annotation, value in cases:
    try:
        result = TypeAdapter(eval(annotation)).validate_python(value)
        out.append({"ok": True, "result": result})
    except ValidationError as error:
        out.append({"ok": False, "message": error.errors()[0]["msg"]})
json.dump(out, sys.stdout)
"""
PLAIN = {"None", "NoneType", "bool", "int", "float", "str", "dict", "Any", "list", "List",
         "Literal", "Optional", "Union"}  # fmt: skip


def _plain(annotation: str) -> bool:
    """Spelled with builtins and typing only (no Axolotl model or enum names)."""
    words = annotation.replace("[", " ").replace("]", " ").replace("|", " ").replace(",", " ")
    return all(word in PLAIN or word.startswith(("'", '"')) for word in words.split())


def _annotations() -> list[str]:
    keys = json.loads(KEYS.read_text(encoding="utf-8"))
    fields = list(keys["core"].values())
    fields += [info for plugin in keys["plugins"].values() for info in plugin.values()]
    return sorted({info["type"] for info in fields if _plain(info["type"])})


def _members(schema: dict[str, Any]) -> set[str]:
    """The union's members besides None (a Literal counts as one)."""
    members = set(schema["x-epochlint-accepts"]) - {"null"}
    return members | {"literal"} if "x-epochlint-choices" in schema else members


@pytest.fixture(scope="module")
def make_schema(monkeypatch_module: pytest.MonkeyPatch) -> Any:
    monkeypatch_module.syspath_prepend(str(ROOT / "scripts"))
    sys.modules.pop("make_axolotl_schema", None)
    import make_axolotl_schema

    return make_axolotl_schema


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_lax_mode_matches_pydantic(make_schema: Any) -> None:
    if not KEYS.is_file():
        pytest.skip(f"the reference facts are not at {KEYS}")
    if not ORACLE.is_file():
        reason = f"the Axolotl oracle is not installed ({ORACLE}): run scripts/oracles/axolotl.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    annotations = _annotations()
    assert len(annotations) >= 10, annotations
    cases = [(annotation, value) for annotation in annotations for value in VALUES]
    completed = subprocess.run(
        [str(ORACLE), "-c", PYDANTIC],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    wrong = []
    for (annotation, value), truth in zip(cases, json.loads(completed.stdout), strict=True):
        schema = make_schema.field_schema({"type": annotation})
        if isinstance(value, dict) and value and "dict[" in annotation:
            continue  # the keys and values of a mapping are not checked (lax.py)
        ours = coerce(value, schema)
        if truth["ok"] != (ours is not None):
            wrong.append(f"{annotation} {value!r}: pydantic {truth}, epochlint {ours}")
        elif ours is not None and json.dumps(ours.value) != json.dumps(truth["result"]):
            wrong.append(f"{annotation} {value!r}: pydantic {truth['result']!r}, epochlint {ours}")
        elif ours is None and len(_members(schema)) == 1:
            # One kind: pydantic's message is ours (unions list an error per member).
            if truth["message"] != refusal(value, schema):
                wrong.append(f"{annotation} {value!r}: {truth['message']!r} != "
                             f"{refusal(value, schema)!r}")  # fmt: skip
    assert not wrong, "\n".join(wrong)
