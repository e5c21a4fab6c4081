"""The shortcuts that keep a run fast must give the answers of the slow, authoritative way."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from epochlint import versions
from epochlint.rules.keys import _prechecks, _surely_valid
from epochlint.training import llamafactory


def test_installed_transformers_is_what_importlib_metadata_finds() -> None:
    versions.installed_transformers.cache_clear()
    try:
        expected: str | None = metadata.version("transformers")
    except metadata.PackageNotFoundError:
        expected = None
    assert versions.installed_transformers() == expected


def test_transformers_is_found_by_normalised_name_first_on_sys_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "Transformers-4.57.6.dist-info").mkdir(parents=True)
    (first / "Transformers-4.57.6.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: Transformers\nVersion: 4.57.6\n\nVersion: 9.9.9 (body)\n"
    )
    second.mkdir()
    (second / "transformers-5.0.0-py3.11.egg-info").write_text(
        "Name: transformers\nVersion: 5.0.0\n"
    )
    monkeypatch.setattr("sys.path", [str(first), str(second)])
    versions.installed_transformers.cache_clear()
    try:
        assert versions.installed_transformers() == "4.57.6"
        monkeypatch.setattr("sys.path", [str(second)])
        versions.installed_transformers.cache_clear()
        assert versions.installed_transformers() == "5.0.0"
        monkeypatch.setattr("sys.path", [str(tmp_path / "missing")])
        versions.installed_transformers.cache_clear()
        assert versions.installed_transformers() is None
    finally:
        versions.installed_transformers.cache_clear()


PROPERTIES = llamafactory().properties
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from([choice for spec in PROPERTIES.values() for choice in spec.get("enum", [])]),
)
VALUES = st.one_of(
    SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=3), SCALARS)
)


def test_the_precheck_understands_the_llamafactory_schema() -> None:
    # Otherwise every file would import jsonschema again, and this file's property is vacuous.
    assert _prechecks(llamafactory())


@hypothesis_settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(PROPERTIES)), VALUES)
def test_a_value_the_precheck_passes_is_valid_for_jsonschema(key: str, value: Any) -> None:
    spec = PROPERTIES[key]
    validator = jsonschema.Draft4Validator({"type": "object", "properties": {key: spec}})
    if _surely_valid(value, spec):
        assert list(validator.iter_errors({key: value})) == []
