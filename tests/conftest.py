"""Shared helpers: lint a config given as text, find the shared corpus, run the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from epochlint.engine import FileResult, check_source
from epochlint.reading.source import decode
from epochlint.settings import Settings
from epochlint.versions import Version

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = Path(os.environ.get("EPOCHLINT_CORPUS", SHARED / "corpus"))
LLAMAFACTORY = CORPUS / "llamafactory"
# CI sets EPOCHLINT_REQUIRE_SHARED=1: there a missing ../shared or corpus fails the tests that
# need it instead of skipping them unnoticed.
REQUIRE_SHARED = os.environ.get("EPOCHLINT_REQUIRE_SHARED") == "1"


def require(path: Path, what: str) -> None:
    """Skip the test when `path` (part of ../shared or the corpus) is absent; fail instead when
    the environment says it must be there."""
    if path.exists():
        return
    message = f"{what} is not at {path} (set EPOCHLINT_CORPUS, or provide ../shared)"
    if REQUIRE_SHARED:
        pytest.fail(f"{message}; EPOCHLINT_REQUIRE_SHARED=1 requires it", pytrace=False)
    pytest.skip(message)


def settings(**overrides: object) -> Settings:
    """Settings pinned to transformers 5.8.0, so an installed transformers changes nothing."""
    base = Settings(transformers=Version(5, 8, 0))
    for name, value in overrides.items():
        setattr(base, name, value)
    return base


def lint(text: str, **overrides: object) -> FileResult:
    return check_source(decode(text.encode(), "train.yaml"), settings(**overrides))


def rules_of(result: FileResult) -> list[str]:
    return [d.rule for d in result.diagnostics]


def only(result: FileResult, rule: str):  # type: ignore[no-untyped-def]
    found = [d for d in result.diagnostics if d.rule == rule]
    got = [(d.rule, d.message) for d in result.diagnostics]
    assert len(found) == 1, f"expected one {rule}, got {got}"
    return found[0]


@pytest.fixture
def corpus() -> Path:
    require(LLAMAFACTORY, "the shared corpus")
    return CORPUS


@pytest.fixture
def in_llamafactory(corpus: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run from the LLaMA-Factory folder, as `llamafactory-cli train` is run."""
    monkeypatch.chdir(LLAMAFACTORY)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return LLAMAFACTORY
