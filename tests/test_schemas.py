"""The shipped key schemas are exactly what the generator scripts make from ../shared."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import SHARED, require

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = SHARED / "reference"


def _shipped(name: str) -> object:
    return json.loads(
        (ROOT / "lint" / "dialects" / name / "schema.json").read_text(encoding="utf-8")
    )


@pytest.fixture
def scripts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    for name in ("make_schemas", "make_axolotl_schema"):
        sys.modules.pop(name, None)


@pytest.mark.usefixtures("scripts")
def test_the_llamafactory_and_hf_schemas_are_generated() -> None:
    require(REFERENCE, "the reference facts")
    import make_schemas

    llamafactory = make_schemas.build(REFERENCE)
    assert llamafactory == _shipped("llamafactory")
    hf = make_schemas.build_hf(REFERENCE, llamafactory["x-epochlint-deprecated"])
    assert hf == _shipped("hf")


@pytest.mark.usefixtures("scripts")
def test_the_axolotl_schema_is_generated() -> None:
    require(REFERENCE, "the reference facts")
    import make_axolotl_schema

    assert make_axolotl_schema.build(REFERENCE) == _shipped("axolotl")
