"""Check the checks against Axolotl itself (issue #15): every Axolotl config of the shared corpus,
of fixtures/rules/ and of fixtures/axolotl/ goes through Axolotl's real `validate_config`, and
epochlint must agree:

- every error epochlint reports is on a config Axolotl refuses, or names a key Axolotl drops;
- every config Axolotl refuses gets at least one error;
- every key Axolotl drops (a top-level key that is neither a field nor an alias of its model,
  with the fields of the plugins listed under `plugins:`) gets a warning or an error.

Axolotl runs in its own virtual environment, `.oracles/axolotl`, made by
scripts/oracles/axolotl.sh (validation only: no GPU packages), through
scripts/oracles/axolotl_validate.py, once for all files. A config whose validation crashes
(an Axolotl bug, or a validator that imports a GPU-only package) gives no verdict on refusal;
its dropped keys are still compared. Without the oracle the tests skip locally and fail in CI.

fixtures/axolotl/ holds one-change probes of a valid base config, one per fact of Axolotl's
validation that epochlint must know (lax types, null and 0 as unset, plugins, each cross-field
validator). Each says what it probes and Axolotl's verdict in its first lines, which the oracle
confirms: `# axolotl: accepts`, `# axolotl: refuses "a fragment of the error"` or
`# axolotl: drops KEY[,KEY]` (accepted, with those keys dropped).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS

from epochlint.diagnostic import Diagnostic, Severity
from epochlint.engine import FileResult, check_path
from epochlint.settings import Settings
from epochlint.versions import Version

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / ".oracles" / "axolotl" / "bin" / "python"
VALIDATE = ROOT / "scripts" / "oracles" / "axolotl_validate.py"
EXAMPLES = CORPUS / "axolotl"
FIXTURES = ROOT / "fixtures" / "rules"
PROBES = ROOT / "fixtures" / "axolotl"
VERDICT = re.compile(r'^# axolotl: (accepts|refuses "(?P<error>[^"]+)"|drops (?P<keys>\S+))$', re.M)

# Where Axolotl's verdict and epochlint's findings disagree today, and why (issue #15, the
# Axolotl part). strict: a case that starts to agree must be taken off this list.
DISAGREE: dict[str, str] = {}


def _root(path: Path) -> Path:
    """The folder Axolotl would run from: the repository root for its examples (their paths
    start there), the fixture's own folder for a fixture."""
    return EXAMPLES if path.is_relative_to(EXAMPLES) else path.parent


def _name(path: Path) -> str:
    return str(path.relative_to(EXAMPLES if path.is_relative_to(EXAMPLES) else ROOT))


def _axolotl_files() -> list[Path]:
    """The corpus's and the fixtures' YAML files that epochlint reads as Axolotl configs."""
    candidates = sorted(EXAMPLES.rglob("*.y*ml")) if EXAMPLES.is_dir() else []
    candidates += sorted(FIXTURES.glob("*/*.yaml")) + sorted(PROBES.glob("*.yaml"))
    return [path for path in candidates if _epochlint(path, None).dialect == "axolotl"]


@cache
def _epochlint(path: Path, transformers: Version | None) -> FileResult:
    settings = Settings(root=_root(path))
    if transformers is not None:
        settings.transformers = transformers  # the version Axolotl's pin installed
    return check_path(str(path), settings)


FILES = _axolotl_files()


@pytest.fixture(scope="module")
def verdicts() -> dict[str, Any]:
    """Axolotl's verdict on every file, from one run of the oracle."""
    if not ORACLE.is_file():
        reason = f"the Axolotl oracle is not installed ({ORACLE}): run scripts/oracles/axolotl.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    completed = subprocess.run(
        [str(ORACLE), str(VALIDATE), *map(str, FILES)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "AXOLOTL_DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report: dict[str, Any] = json.loads(completed.stdout)
    return report


def _describe(diagnostics: list[Diagnostic]) -> str:
    return "; ".join(f"{d.rule} {d.line}:{d.column} {d.message}" for d in diagnostics) or "none"


def _names_key(diagnostic: Diagnostic, key: str) -> bool:
    facts = diagnostic.facts or {}
    return facts.get("key") == key or key in (facts.get("keys") or [])


def _cases() -> list[Any]:
    cases = []
    for path in FILES:
        name = _name(path)
        marks = [pytest.mark.xfail(strict=True, reason=DISAGREE[name])] if name in DISAGREE else []
        cases.append(pytest.param(path, id=name, marks=marks))
    return cases


def test_the_oracle_checks_every_axolotl_config(verdicts: dict[str, Any]) -> None:
    assert verdicts["versions"]["axolotl"] == "0.18.0", verdicts["versions"]
    unavailable = {
        _name(Path(path)): found["error"]
        for path, found in verdicts["files"].items()
        if found["outcome"] in ("plugin-unavailable", "unreadable")
    }
    assert not unavailable, f"the oracle could not check: {unavailable}"
    assert len(FILES) >= 10, "no Axolotl configs found"


@pytest.mark.parametrize("path", sorted(PROBES.glob("*.yaml")), ids=lambda path: path.stem)
def test_each_probe_gets_the_verdict_it_states(path: Path, verdicts: dict[str, Any]) -> None:
    stated = VERDICT.search(path.read_text(encoding="utf-8"))
    assert stated, f"{path.name} does not state Axolotl's verdict"
    verdict = verdicts["files"][str(path)]
    if stated.group("error"):
        assert verdict["outcome"] == "refused", verdict
        assert stated.group("error") in verdict["error"], verdict["error"]
    else:
        assert verdict["outcome"] == "accepted", verdict
        keys = stated.group("keys")
        assert verdict["dropped"] == (keys.split(",") if keys else []), verdict["dropped"]


@pytest.mark.parametrize("path", _cases())
def test_epochlint_agrees_with_axolotl(path: Path, verdicts: dict[str, Any]) -> None:
    verdict = verdicts["files"][str(path)]
    transformers = Version.parse(verdicts["versions"]["transformers"])
    diagnostics = _epochlint(path, transformers).diagnostics
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    dropped = verdict["dropped"]
    problems = []
    if verdict["outcome"] == "accepted":
        unconfirmed = [d for d in errors if not any(_names_key(d, key) for key in dropped)]
        if unconfirmed:
            problems.append(f"Axolotl accepts the config, but epochlint: {_describe(unconfirmed)}")
    if verdict["outcome"] == "refused" and not errors:
        problems.append(f"Axolotl refuses the config ({verdict['error']}), epochlint: no error")
    for key in dropped:
        flagged = [d for d in diagnostics if d.severity is not Severity.INFO and _names_key(d, key)]
        if not flagged:
            problems.append(f"Axolotl drops `{key}` without a word, epochlint does not flag it")
    assert not problems, "\n".join(problems)
