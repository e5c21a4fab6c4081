"""Every rule against its own fixtures in fixtures/rules/<ID>/ (GitHub issue #4).

Each folder holds:

- fail.yaml: a config that triggers the rule. Its first lines say what must be reported:
  `# expect: EL201 17:19 "above the 3-5 range" "3,750 steps"` (the rule, the line:column of
  the finding, and fragments of its message with the numbers that prove it), one line per
  finding; `# transformers: 4.57.6` pins the transformers version the checks assume
  (otherwise 5.8.0, so that an installed transformers changes nothing); `# also-select: EL201`
  runs other rules beside it, for a rule about their findings (EL007, unused suppressions: a
  rule switched off for the run never makes a suppression unused).
- pass.yaml: a config of the same kind that the rule does not report.
- fixed.yaml, when the rule has a fix: exactly what `--fix` makes of fail.yaml with only that
  rule selected.

A folder may also hold the `data/` (dataset_info.json and files) its configs name; configs are
checked from their folder, as `llamafactory-cli train` runs from the LLaMA-Factory folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from epochlint.diagnostic import Diagnostic
from epochlint.engine import check_source
from epochlint.fix.planner import fix_source
from epochlint.reading.source import Source, decode
from epochlint.rules import all_rules
from epochlint.settings import Settings
from epochlint.versions import Version

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
DEFAULT_TRANSFORMERS = Version(5, 8, 0)
EXPECT = re.compile(r"^# expect: (?P<rule>EL\d{3}) (?P<line>\d+):(?P<column>\d+)(?P<rest>.*)$")
FRAGMENT = re.compile(r'\s+"([^"]+)"')
PIN = re.compile(r"^# transformers: (?P<version>\S+)$")
ALSO = re.compile(r"^# also-select: (?P<codes>EL\d{3}(?:,EL\d{3})*)$")

RULES = [rule.code for rule in all_rules()]
FOLDERS = sorted(path.name for path in FIXTURES.iterdir() if path.is_dir())
FIXABLE = [code for code in FOLDERS if (FIXTURES / code / "fixed.yaml").is_file()]
UNFIXABLE = [code for code in FOLDERS if code not in FIXABLE]


@dataclass(frozen=True)
class Expected:
    rule: str
    line: int
    column: int
    fragments: tuple[str, ...]


@dataclass(frozen=True)
class Header:
    expected: list[Expected]
    version: Version
    also: frozenset[str]


def header(text: str) -> Header:
    expected: list[Expected] = []
    version = DEFAULT_TRANSFORMERS
    also: frozenset[str] = frozenset()
    for line in text.splitlines():
        if match := EXPECT.match(line):
            rest = match.group("rest")
            fragments = tuple(FRAGMENT.findall(rest))
            assert FRAGMENT.sub("", rest).strip() == "", f"malformed expectation: {line!r}"
            expected.append(
                Expected(
                    match.group("rule"),
                    int(match.group("line")),
                    int(match.group("column")),
                    fragments,
                )
            )
        elif match := PIN.match(line):
            version = Version.parse(match.group("version"))
        elif match := ALSO.match(line):
            also = frozenset(match.group("codes").split(","))
        elif line.startswith(("# expect", "# transformers", "# also-select")):
            raise AssertionError(f"malformed header line: {line!r}")
    return Header(expected, version, also)


def source(code: str, name: str) -> Source:
    path = FIXTURES / code / name
    return decode(path.read_bytes(), str(path))


def fail_case(code: str) -> tuple[Source, list[Expected], Settings]:
    """fail.yaml, what it must report, and the settings that select only the rule."""
    fail = source(code, "fail.yaml")
    found = header(fail.text)
    rule_settings = Settings(
        select=frozenset({code}) | found.also, transformers=found.version, root=FIXTURES / code
    )
    return fail, found.expected, rule_settings


def findings(code: str, name: str, rule_settings: Settings) -> list[Diagnostic]:
    result = check_source(source(code, name), rule_settings)
    return [d for d in result.diagnostics if d.rule == code]


def describe(diagnostics: list[Diagnostic]) -> str:
    return "\n".join(f"  {d.rule} {d.line}:{d.column} {d.message}" for d in diagnostics)


def test_every_rule_has_fixtures() -> None:
    missing = [code for code in RULES if code not in FOLDERS]
    stray = [code for code in FOLDERS if code not in RULES]
    assert not missing, f"rules without fixtures/rules/<ID>/: {missing}"
    assert not stray, f"fixture folders for rules that do not exist: {stray}"
    for code in FOLDERS:
        for name in ("fail.yaml", "pass.yaml"):
            assert (FIXTURES / code / name).is_file(), f"fixtures/rules/{code}/{name} is missing"


@pytest.mark.parametrize("code", FOLDERS)
def test_fail_reports_exactly_the_expected_findings(code: str) -> None:
    fail, expected, rule_settings = fail_case(code)
    assert expected, f"fixtures/rules/{code}/fail.yaml has no `# expect:` line"
    assert all(e.rule == code for e in expected), f"fail.yaml of {code} expects other rules"
    assert all(e.fragments for e in expected), f"fail.yaml of {code}: quote message fragments"
    found = findings(code, "fail.yaml", rule_settings)
    assert [(d.line, d.column) for d in found] == [(e.line, e.column) for e in expected], (
        f"{code} findings in fail.yaml:\n{describe(found)}"
    )
    for diagnostic, expectation in zip(found, expected, strict=True):
        for fragment in expectation.fragments:
            assert fragment in diagnostic.message, (
                f"{code} at {diagnostic.line}:{diagnostic.column}: {fragment!r} not in "
                f"{diagnostic.message!r}"
            )


@pytest.mark.parametrize("code", FOLDERS)
def test_pass_is_clean_of_the_rule(code: str) -> None:
    _, _, rule_settings = fail_case(code)
    found = findings(code, "pass.yaml", rule_settings)
    assert not found, f"{code} reported in pass.yaml:\n{describe(found)}"


@pytest.mark.parametrize("code", FIXABLE)
def test_fix_gives_fixed_yaml(code: str) -> None:
    fail, _, rule_settings = fail_case(code)
    found = findings(code, "fail.yaml", rule_settings)
    assert any(d.fix is not None for d in found), f"{code} has fixed.yaml but offers no fix"
    outcome = fix_source(fail, rule_settings, info_fixes=True)  # the rule's fix, info or not
    assert outcome.refused is None, outcome.refused
    fixed = (FIXTURES / code / "fixed.yaml").read_bytes()
    assert outcome.text.encode("utf-8") == fixed, f"--fix of {code}/fail.yaml is not fixed.yaml"
    remaining = findings(code, "fixed.yaml", rule_settings)
    assert not remaining, f"{code} still reported in fixed.yaml:\n{describe(remaining)}"


@pytest.mark.parametrize("code", UNFIXABLE)
def test_no_fixed_yaml_means_no_fix(code: str) -> None:
    _, _, rule_settings = fail_case(code)
    with_fix = [d for d in findings(code, "fail.yaml", rule_settings) if d.fix is not None]
    assert not with_fix, (
        f"{code} offers a fix in fail.yaml but there is no fixed.yaml:\n{describe(with_fix)}"
    )
